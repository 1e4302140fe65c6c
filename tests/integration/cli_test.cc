// The rivet binary's command line: version, help, completions and usage errors (no server).
#include <gtest/gtest.h>

#include "support/test_env.h"

namespace rivet::testing {
namespace {

CommandResult Rivet(const std::string& args) {
  return RunCommand(std::string(RIVET_BINARY) + " " + args);
}

TEST(Cli, PrintsItsVersion) {
  CommandResult r = Rivet("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "rivet 0.1.0\n");
}

TEST(Cli, HelpListsEveryCommandAndTheExitCodes) {
  CommandResult r = Rivet("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* word : {"run", "state", "metrics", "completions", "Exit codes", "RIVET_LOG"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  }
  CommandResult run = Rivet("run --help");
  for (const char* flag : {"--config", "--export", "--validate", "--param", "--resume"}) {
    EXPECT_NE(run.out.find(flag), std::string::npos) << flag;
  }
  CommandResult state = Rivet("state --help");
  for (const char* sub : {"show", "files", "reset", "chunks", "reset-chunks"}) {
    EXPECT_NE(state.out.find(sub), std::string::npos) << sub;
  }
}

TEST(Cli, CompletionScriptsAreValid) {
  CommandResult bash = RunCommand(std::string(RIVET_BINARY) + " completions bash | bash -n");
  EXPECT_EQ(bash.exit_code, 0) << bash.err;
  EXPECT_NE(Rivet("completions bash").out.find("complete -F _rivet rivet"), std::string::npos);
  EXPECT_EQ(Rivet("completions zsh").out.rfind("#compdef rivet", 0), 0u);
  EXPECT_NE(Rivet("completions fish").out.find("complete -c rivet"), std::string::npos);
  CommandResult bad = Rivet("completions powershell");
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(Cli, UsageAndConfigErrorsExitTwoAndNameTheFile) {
  EXPECT_EQ(Rivet("run").exit_code, 2);
  EXPECT_EQ(Rivet("frobnicate").exit_code, 2);
  std::string dir = MakeTempDir("cli");
  std::string config = dir + "/bad.yaml";
  WriteFile(config,
            "source:\n  type: postgres\n  url: postgresql://u@h/db\n  batch_size: 5\n"
            "exports:\n  - name: a\n    query: SELECT 1\n    destination:\n      type: stdout\n");
  CommandResult r = Rivet("run -c " + config);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("belong under 'source.tuning:'"), std::string::npos) << r.err;
  CommandResult param = Rivet("run -c " + config + " --param NOEQUALS");
  EXPECT_EQ(param.exit_code, 2);
  EXPECT_NE(param.err.find("must be KEY=VALUE"), std::string::npos) << param.err;
}

TEST(Cli, ConfigErrorsNameTheFileOnce) {
  std::string dir = MakeTempDir("cli");
  std::string config = dir + "/once.yaml";
  WriteFile(config,
            "source:\n  type: postgres\n  url: postgresql://u@h/db\n"
            "exports:\n  - name: a\n    query: SELECT 1\n    format: jsn\n"
            "    destination:\n      type: stdout\n");
  CommandResult r = Rivet("run -c " + config);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: " + config + ": exports[0] 'a': format: 'jsn' is not valid", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find(config, r.err.find(config) + config.size()), std::string::npos)
      << "the path is printed twice: " << r.err;
}

}  // namespace
}  // namespace rivet::testing
