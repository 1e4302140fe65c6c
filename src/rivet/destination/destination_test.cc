#include "rivet/destination/destination.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rivet/common/test_dir.h"

namespace rivet::destination {
namespace {

namespace fs = std::filesystem;
using testutil::TempDir;

TEST(LocalDestination, CreatesTheDirectoryAndCommitsAtomically) {
  TempDir dir;
  const fs::path base = dir.path();
  config::DestinationConfig cfg;
  cfg.type = config::DestinationType::kLocal;
  cfg.path = "out/nested";  // relative: resolved against the config's folder
  auto dest = MakeDestination(cfg, base.string());
  ASSERT_TRUE(dest.has_value());
  EXPECT_EQ((*dest)->Describe(), "Local(out/nested)");
  auto staging = (*dest)->StagingPath("a.csv");
  ASSERT_TRUE(staging.has_value());
  EXPECT_EQ(fs::path(*staging).parent_path(), base / "out/nested");
  std::ofstream(*staging) << "x\n";
  EXPECT_FALSE(*(*dest)->Exists("a.csv"));
  ASSERT_TRUE((*dest)->Commit(*staging, "a.csv").ok());
  EXPECT_TRUE(*(*dest)->Exists("a.csv"));
  EXPECT_FALSE(fs::exists(*staging));
  EXPECT_EQ((*dest)->Location("a.csv"), (base / "out/nested/a.csv").string());
}

TEST(LocalDestination, NeverOverwritesAnExistingFile) {
  TempDir dir;
  const fs::path base = fs::path(dir.path()) / "out";  // created by the destination
  config::DestinationConfig cfg;
  cfg.path = base.string();
  auto dest = MakeDestination(cfg, "/");
  ASSERT_TRUE(dest.has_value());
  auto first = (*dest)->StagingPath("a.csv");
  ASSERT_TRUE(first.has_value());
  std::ofstream(*first) << "first\n";
  ASSERT_TRUE((*dest)->Commit(*first, "a.csv").ok());
  auto second = (*dest)->StagingPath("a.csv");
  ASSERT_TRUE(second.has_value());
  std::ofstream(*second) << "second\n";
  Status s = (*dest)->Commit(*second, "a.csv");
  EXPECT_EQ(s.code(), ErrorCode::kIo);
  std::ifstream in(base / "a.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "first");
  (*dest)->Discard(*second);
  EXPECT_FALSE(fs::exists(*second));
}

TEST(LocalDestination, ProbeLeavesNothingBehind) {
  TempDir dir;
  const fs::path base = fs::path(dir.path()) / "out";  // created by the probe
  config::DestinationConfig cfg;
  cfg.path = base.string();
  auto dest = MakeDestination(cfg, "/");
  ASSERT_TRUE(dest.has_value());
  ASSERT_TRUE((*dest)->Probe().ok());
  EXPECT_TRUE(fs::is_empty(base));
}

TEST(Destination, CloudTypesAreNotSupportedYet) {
  config::DestinationConfig cfg;
  cfg.type = config::DestinationType::kS3;
  auto dest = MakeDestination(cfg, "/");
  ASSERT_FALSE(dest.has_value());
  EXPECT_EQ(dest.error().code(), ErrorCode::kNotSupported);
}

}  // namespace
}  // namespace rivet::destination
