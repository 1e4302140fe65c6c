// Shared helpers for integration and interop tests.
//
// scripts/test.sh starts the throwaway servers and exports where they are:
//   RIVET_TEST_PG_URL     postgresql://postgres@127.0.0.1:PORT/rivet_test
//   RIVET_TEST_MYSQL_URL  mysql://root@127.0.0.1:PORT/rivet_test
//   RIVET_TEST_TOOLS      the tools/ folder with node_modules (DuckDB and other readers)
// A test that needs a missing server skips with the reason, except under CI=true where the
// skip becomes a failure (CI must never pass without the real server).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rivet::testing {

bool InCi();
std::optional<std::string> EnvVar(const char* name);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs `command` through /bin/sh, capturing stdout and stderr.
CommandResult RunCommand(const std::string& command);
// A command started in the background through /bin/sh; its pid, exit code, stdout and stderr
// land in `base`.pid, .rc, .out and .err, so a test can signal it and wait for it with a bound.
struct Background {
  std::string base;
  // The pid of the command itself (waits up to 5 s for it to start; -1 and a failure if not).
  int Pid() const;
  // The exit code (128 + signal when killed); -1 and a failure when `limit` passes first.
  int Wait(std::chrono::seconds limit = std::chrono::seconds(120)) const;
  std::string Out() const;
  std::string Err() const;
};
// Starts `command` (no single quotes in it) with the `env` assignments, behind `launcher` when
// given (e.g. `ip netns exec NS`, which runs it on another network), as DIR/TAG.
Background StartBackground(const std::string& dir, const std::string& tag, const std::string& env,
                           const std::string& command, const std::string& launcher = "");
// The first line of `path` once a whole line is in it, polling until `limit` passes.
std::optional<std::string> AwaitLine(const std::string& path, std::chrono::milliseconds limit);
// Single-quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);
// A new empty directory under the build tree's temporary folder.
std::string MakeTempDir(const std::string& prefix);
void WriteFile(const std::string& path, const std::string& text);
std::string ReadFile(const std::string& path);
// Files in `dir` (names only, sorted).
std::vector<std::string> ListDir(const std::string& dir);
// `text` split at '\n' (a final newline ends the last line; it does not start an empty one).
std::vector<std::string> SplitLines(const std::string& text);
// Every byte a rivet run leaves behind: its stdout, its stderr and the state DB files in `dir`
// (.rivet_state.db and its journals), for checks that a secret never appears anywhere.
std::string OutputAndStateFiles(const CommandResult& r, const std::string& dir);
// Runs tools/read-parquet.mjs (`reader` is duckdb or hyparquet) on `file`; `tools` is the folder
// of RIVET_TEST_TOOLS.
CommandResult ReadParquet(const std::string& tools, const std::string& reader,
                          const std::string& file);
// Runs `sql` in DuckDB through tools/duckdb-query.mjs: one JSON array per result row.
CommandResult DuckDbQuery(const std::string& tools, const std::string& sql);

}  // namespace rivet::testing

// Binds `var` to the value of environment variable `env_name`, or skips (fails under CI).
#define RIVET_REQUIRE_ENV(var, env_name)                                                       \
  std::string var;                                                                             \
  do {                                                                                         \
    auto _value = ::rivet::testing::EnvVar(env_name);                                          \
    if (!_value) {                                                                             \
      if (::rivet::testing::InCi()) {                                                          \
        FAIL() << env_name << " is not set: the test server is missing (run scripts/test.sh)"; \
      }                                                                                        \
      GTEST_SKIP() << env_name << " is not set: start the test servers with scripts/test.sh";  \
    }                                                                                          \
    var = *_value;                                                                             \
  } while (false)
