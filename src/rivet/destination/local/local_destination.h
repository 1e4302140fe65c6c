// Local directory destination: atomic, never-overwriting commits.
#pragma once

#include <memory>
#include <string>

#include "rivet/destination/destination.h"

namespace rivet::destination {

// `directory` relative paths are resolved against `config_dir`.
std::unique_ptr<Destination> MakeLocalDestination(const std::string& directory,
                                                  const std::string& config_dir);

}  // namespace rivet::destination
