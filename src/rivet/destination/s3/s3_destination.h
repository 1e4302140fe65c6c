// S3 destination (and S3-compatible stores): objects at `prefix + file name` in one bucket,
// uploaded while they are written (upload.h), never replacing an object, read back by ranged
// GETs for --validate.
#pragma once

#include <memory>

#include "rivet/config/config.h"
#include "rivet/destination/destination.h"

namespace rivet::destination {

// Resolves the region and the credential chain (README "S3 credentials"); a config or auth
// error naming what is missing when they cannot be found.
Result<std::unique_ptr<Destination>> MakeS3Destination(const config::DestinationConfig& config);

}  // namespace rivet::destination
