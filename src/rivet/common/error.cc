#include "rivet/common/error.h"

namespace rivet {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kConfig: return "config";
    case ErrorCode::kNotSupported: return "not_supported";
    case ErrorCode::kNetwork: return "network";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kCapacity: return "capacity";
    case ErrorCode::kDeadlock: return "deadlock";
    case ErrorCode::kAuth: return "auth";
    case ErrorCode::kQuery: return "query";
    case ErrorCode::kSource: return "source";
    case ErrorCode::kData: return "data";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kValidation: return "validation";
    case ErrorCode::kQuality: return "quality";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kInterrupted: return "interrupted";
  }
  return "unknown";
}

bool IsRetryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNetwork:
    case ErrorCode::kTimeout:
    case ErrorCode::kCapacity:
    case ErrorCode::kDeadlock:
      return true;
    default:
      return false;
  }
}

int64_t ExtraBackoffMs(ErrorCode code) {
  switch (code) {
    case ErrorCode::kCapacity: return 15000;  // give the server time to free connections
    case ErrorCode::kDeadlock: return 1000;   // let the competing transaction finish
    default: return 0;
  }
}

ExitCode ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return ExitCode::kSuccess;
    case ErrorCode::kConfig:
    case ErrorCode::kNotSupported: return ExitCode::kUsage;
    case ErrorCode::kValidation:
    case ErrorCode::kQuality: return ExitCode::kDataIntegrity;
    case ErrorCode::kInternal: return ExitCode::kInternal;
    default: return ExitCode::kExportFailed;
  }
}

}  // namespace rivet
