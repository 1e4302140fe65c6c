#include "rivet/destination/destination.h"

#include "rivet/destination/local/local_destination.h"
#include "rivet/destination/stdout/stdout_destination.h"

namespace rivet::destination {

Result<std::unique_ptr<Destination>> MakeDestination(const config::DestinationConfig& config,
                                                     const std::string& config_dir) {
  switch (config.type) {
    case config::DestinationType::kLocal: return MakeLocalDestination(config.path, config_dir);
    case config::DestinationType::kStdout: return MakeStdoutDestination();
    case config::DestinationType::kS3:
    case config::DestinationType::kGcs: break;
  }
  return Error(ErrorCode::kNotSupported, "destination.type: {} is not supported yet",
               config::ToString(config.type));
}

}  // namespace rivet::destination
