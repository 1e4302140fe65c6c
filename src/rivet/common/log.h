// Logging: spdlog to stderr. Call InitLogging() once from main; modules then use spdlog's
// free functions (spdlog::warn, spdlog::info, ...). Data never goes through the logger.
#pragma once

namespace rivet {

// Reads the level from RIVET_LOG, else RUST_LOG (accepted for compatibility with the guide):
// trace|debug|info|warn|error|off, optionally as "rivet=debug". Default: warn.
void InitLogging();

}  // namespace rivet
