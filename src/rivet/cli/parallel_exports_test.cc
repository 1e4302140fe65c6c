#include "rivet/cli/parallel_exports.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace rivet::cli {
namespace {

TEST(ChooseStrategy, ProcessesWinAndOneExportRunsAlone) {
  EXPECT_EQ(ChooseStrategy(false, false, false, 3), Strategy::kSequential);
  EXPECT_EQ(ChooseStrategy(true, false, false, 3), Strategy::kThreads);
  EXPECT_EQ(ChooseStrategy(false, true, false, 2), Strategy::kProcesses);
  EXPECT_EQ(ChooseStrategy(true, true, false, 2), Strategy::kProcesses);
  // --export, or a config with one export: nothing to run side by side.
  EXPECT_EQ(ChooseStrategy(true, true, true, 1), Strategy::kSequential);
  EXPECT_EQ(ChooseStrategy(true, true, false, 1), Strategy::kSequential);
}

TEST(CheckParallelStdout, RefusesTwoStdoutExports) {
  config::Config c;
  c.path = "rivet.yaml";
  c.exports.resize(3);
  c.exports[0].name = "a";
  c.exports[1].name = "b";
  c.exports[2].name = "c";
  c.exports[0].destination.type = config::DestinationType::kStdout;
  c.exports[1].destination.type = config::DestinationType::kLocal;
  c.exports[2].destination.type = config::DestinationType::kLocal;
  std::vector<const config::ExportConfig*> all = {&c.exports[0], &c.exports[1], &c.exports[2]};
  EXPECT_TRUE(CheckParallelStdout(c, all).ok());
  c.exports[2].destination.type = config::DestinationType::kStdout;
  Status refused = CheckParallelStdout(c, all);
  EXPECT_EQ(refused.code(), ErrorCode::kConfig);
  EXPECT_NE(refused.message().find("rivet.yaml: exports 'a', 'c' all write to stdout"),
            std::string::npos)
      << refused.message();
}

TEST(ChildCommandLine, CarriesParamsValidateResumeAndNeverTheParallelSwitches) {
  ChildArguments args{"conf/rivet.yaml", {"A=1", "B=x y"}, true, true, {"--shard", "1/3"}};
  EXPECT_EQ(ChildCommandLine(args, "orders"),
            (std::vector<std::string>{"run", "--config", "conf/rivet.yaml", "--export", "orders",
                                      "--param", "A=1", "--param", "B=x y", "--validate",
                                      "--resume", "--shard", "1/3"}));
  EXPECT_EQ(ChildCommandLine({"r.yaml", {}, false, false, {}}, "x"),
            (std::vector<std::string>{"run", "--config", "r.yaml", "--export", "x"}));
  EXPECT_EQ(
      ChildCommandLine({"r.yaml", {}, false, false, {"--snapshot", "00000003-0000001B-1"}}, "x"),
      (std::vector<std::string>{"run", "--config", "r.yaml", "--export", "x", "--snapshot",
                                "00000003-0000001B-1"}));
}

TEST(ChildExitCode, KeepsRivetsClassesAndASignalIsAFailure) {
  auto exited = [](int code) { return code << 8; };  // the wait status of exit(code)
  ASSERT_TRUE(WIFEXITED(exited(3)));
  EXPECT_EQ(ChildExitCode(exited(0)), ExitCode::kSuccess);
  EXPECT_EQ(ChildExitCode(exited(1)), ExitCode::kExportFailed);
  EXPECT_EQ(ChildExitCode(exited(2)), ExitCode::kUsage);
  EXPECT_EQ(ChildExitCode(exited(3)), ExitCode::kDataIntegrity);
  EXPECT_EQ(ChildExitCode(exited(70)), ExitCode::kInternal);
  EXPECT_EQ(ChildExitCode(exited(143)), ExitCode::kExportFailed);
  EXPECT_EQ(ChildExitCode(SIGKILL), ExitCode::kExportFailed);  // killed, not exited
  ASSERT_TRUE(WIFSIGNALED(SIGKILL));
}

}  // namespace
}  // namespace rivet::cli
