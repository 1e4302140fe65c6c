// MySQL / MariaDB error numbers (server ER_* and client CR_*) to Rivet error codes
// (reference §4: classify at the edge, decide retries from the code only).
#pragma once

#include "rivet/common/error.h"

namespace rivet::source::mysql {

ErrorCode ClassifyMysqlError(unsigned int errnum);

}  // namespace rivet::source::mysql
