// `rivet doctor`: proves that every credential of a config works before the first export
// (reference §3). It connects to the source (server version, a read-only transaction, EXPLAIN
// of every export's query for the SELECT privilege), probes every distinct destination (a
// marker written and removed), and checks the Slack webhook's syntax without posting. It
// leaves nothing behind and prints no secret: messages come from the redacting error paths.
#pragma once

#include <string>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/pipeline/pipeline.h"

namespace rivet::preflight {

enum class Outcome { kOk, kWarn, kFail, kSkip };

struct DoctorCheck {
  Outcome outcome = Outcome::kOk;
  std::string kind;     // "source" | "query" | "destination" | "slack"
  std::string subject;  // "Postgres", an export's name, "S3(bucket)", ...
  std::string line;     // what follows the [OK] / [FAIL] tag
  std::string fix;      // FAIL and WARN: how to fix it
  ErrorCode code = ErrorCode::kOk;
};

// Every check after "Config parsed" (which the caller did). `factories` build the source and
// the destinations as a run would.
std::vector<DoctorCheck> RunDoctor(const config::Config& config,
                                   const pipeline::Factories& factories);

// The lines of reference §3, header and verdict line included (ends with a newline).
// `config_error` set: the config did not load and nothing else was checked.
std::string FormatDoctor(const std::string& config_path, const std::vector<DoctorCheck>& checks,
                         const Status& config_error);
std::string FormatDoctorJson(const std::string& config_path, const std::vector<DoctorCheck>& checks,
                             const Status& config_error);

bool AllPassed(const std::vector<DoctorCheck>& checks);

}  // namespace rivet::preflight
