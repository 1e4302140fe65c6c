// Removes every secret of a config from a message before it is logged, printed or stored.
// Sources already keep secrets out of their errors; this is the second line of defence.
#pragma once

#include <string>

#include "rivet/config/config.h"

namespace rivet::pipeline {

std::string Redact(std::string message, const config::Config& config);

}  // namespace rivet::pipeline
