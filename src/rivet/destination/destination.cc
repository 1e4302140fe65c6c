#include "rivet/destination/destination.h"

namespace rivet::destination {

Result<std::unique_ptr<Destination>> MakeDestination(const config::DestinationConfig& config,
                                                     const std::string&) {
  return Error(ErrorCode::kNotSupported, "destination.type: {} is not supported yet",
               config::ToString(config.type));
}

}  // namespace rivet::destination
