#include "rivet/destination/destination.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "rivet/common/test_dir.h"

namespace rivet::destination {
namespace {

namespace fs = std::filesystem;
using testutil::TempDir;

// Writes `text` into a new object of `dest` named `name` and finishes it.
std::unique_ptr<ObjectWriter> Written(Destination& dest, const std::string& name,
                                      const std::string& text) {
  auto object = dest.Create(name, ObjectOptions{});
  EXPECT_TRUE(object.has_value()) << object.error().message();
  EXPECT_TRUE((*object)->Append(reinterpret_cast<const uint8_t*>(text.data()), text.size()).ok());
  EXPECT_TRUE((*object)->Finish().ok());
  EXPECT_EQ((*object)->bytes_written(), text.size());
  return std::move(*object);
}

std::string Contents(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(LocalDestination, CreatesTheDirectoryAndCommitsAtomically) {
  TempDir dir;
  const fs::path base = dir.path();
  config::DestinationConfig cfg;
  cfg.type = config::DestinationType::kLocal;
  cfg.path = "out/nested";  // relative: resolved against the config's folder
  auto dest = MakeDestination(cfg, base.string());
  ASSERT_TRUE(dest.has_value());
  EXPECT_EQ((*dest)->Describe(), "Local(out/nested)");
  auto object = Written(**dest, "a.csv", "x\n");
  const std::optional<std::string> staged = object->StagedPath();
  ASSERT_TRUE(staged.has_value());
  EXPECT_EQ(fs::path(*staged).parent_path(), base / "out/nested");
  EXPECT_EQ(Contents(*staged), "x\n");  // readable before delivery (--validate)
  EXPECT_FALSE(*(*dest)->Exists("a.csv"));
  // The final name may differ from the one the object was created with (a first part).
  ASSERT_TRUE(object->Commit("a_part0.csv").ok());
  EXPECT_TRUE(*(*dest)->Exists("a_part0.csv"));
  EXPECT_EQ(Contents(base / "out/nested/a_part0.csv"), "x\n");
  EXPECT_FALSE(fs::exists(*staged));
  EXPECT_EQ((*dest)->Location("a.csv"), (base / "out/nested/a.csv").string());
  EXPECT_FALSE(object->Commit("again.csv").ok());  // delivered once
}

TEST(LocalDestination, NeverOverwritesAnExistingFileAndAbortLeavesNothing) {
  TempDir dir;
  const fs::path base = fs::path(dir.path()) / "out";  // created by the destination
  config::DestinationConfig cfg;
  cfg.path = base.string();
  auto dest = MakeDestination(cfg, "/");
  ASSERT_TRUE(dest.has_value());
  ASSERT_TRUE(Written(**dest, "a.csv", "first\n")->Commit("a.csv").ok());
  auto second = Written(**dest, "a.csv", "second\n");
  const std::string staged = second->StagedPath().value_or("");
  Status s = second->Commit("a.csv");
  EXPECT_EQ(s.code(), ErrorCode::kIo);
  EXPECT_EQ(Contents(base / "a.csv"), "first\n");
  EXPECT_FALSE(fs::exists(staged));  // a refused commit leaves no staged copy

  auto dropped = Written(**dest, "b.csv", "never\n");
  const std::string dropped_staged = dropped->StagedPath().value_or("");
  dropped->Abort();
  dropped->Abort();  // idempotent
  EXPECT_FALSE(fs::exists(dropped_staged));
  { auto forgotten = Written(**dest, "c.csv", "never\n"); }  // destroyed: aborted
  EXPECT_EQ(std::distance(fs::directory_iterator(base), fs::directory_iterator()), 1);
}

TEST(LocalDestination, ProbeLeavesNothingBehind) {
  TempDir dir;
  // Missing folders are created for the probe and removed again; an existing one is left
  // empty.
  const fs::path base = fs::path(dir.path()) / "out" / "nested";
  config::DestinationConfig cfg;
  cfg.path = base.string();
  auto dest = MakeDestination(cfg, "/");
  ASSERT_TRUE(dest.has_value());
  ASSERT_TRUE((*dest)->Probe().ok());
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "out"));
  fs::create_directories(base);
  ASSERT_TRUE((*dest)->Probe().ok());
  EXPECT_TRUE(fs::is_empty(base));
  // A path under a regular file cannot be written: an error naming it, nothing created.
  std::ofstream(fs::path(dir.path()) / "file") << "x";
  cfg.path = (fs::path(dir.path()) / "file" / "out").string();
  auto under_file = MakeDestination(cfg, "/");
  ASSERT_TRUE(under_file.has_value());
  Status probe = (*under_file)->Probe();
  EXPECT_FALSE(probe.ok());
  EXPECT_NE(probe.message().find("file"), std::string::npos) << probe.message();
}

TEST(Destination, GcsNeedsABucketAndAPlainEndpoint) {
  config::DestinationConfig cfg;
  cfg.type = config::DestinationType::kGcs;
  cfg.allow_anonymous = true;
  auto no_bucket = MakeDestination(cfg, "/");
  ASSERT_FALSE(no_bucket.has_value());
  EXPECT_EQ(no_bucket.error().code(), ErrorCode::kConfig);
  EXPECT_NE(no_bucket.error().message().find("destination.bucket"), std::string::npos);
  cfg.bucket = "b";
  cfg.endpoint = "http://user@127.0.0.1:1";
  auto bad = MakeDestination(cfg, "/");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("destination.endpoint"), std::string::npos);
  cfg.endpoint = "http://127.0.0.1:1/";
  auto ok = MakeDestination(cfg, "/");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ((*ok)->Describe(), "GCS(b)");
  EXPECT_EQ((*ok)->Location("x/y.csv"), "gs://b/x/y.csv");
}

TEST(Destination, GcsCredentialErrorsNameTheBucket) {
  config::DestinationConfig cfg;
  cfg.type = config::DestinationType::kGcs;
  cfg.bucket = "my-lake";
  cfg.endpoint = "http://127.0.0.1:1";
  cfg.credentials_file = "/nonexistent/rivet-key.json";
  auto dest = MakeDestination(cfg, "/");
  ASSERT_FALSE(dest.has_value());
  EXPECT_EQ(dest.error().code(), ErrorCode::kConfig);
  const std::string& message = dest.error().message();
  EXPECT_EQ(message.rfind("GCS bucket 'my-lake': ", 0), 0u) << message;
  EXPECT_NE(message.find("/nonexistent/rivet-key.json"), std::string::npos) << message;
}

}  // namespace
}  // namespace rivet::destination
