// Google Cloud Storage destination: objects at `prefix + file name` in one bucket, uploaded
// while they are written (upload.h), never replacing an object, read back by ranged downloads
// for --validate.
#pragma once

#include <memory>

#include "rivet/config/config.h"
#include "rivet/destination/destination.h"

namespace rivet::destination {

// Resolves the endpoint and the credential chain (README "GCS"); a config or auth error naming
// what is missing when they cannot be found. The first token is fetched here.
Result<std::unique_ptr<Destination>> MakeGcsDestination(const config::DestinationConfig& config);

}  // namespace rivet::destination
