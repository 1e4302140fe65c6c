#include <gtest/gtest.h>

#include <cstdio>

#include "rivet/common/byte_sink.h"
#include "rivet/common/byte_source.h"
#include "rivet/common/bytes.h"
#include "rivet/common/clock.h"
#include "rivet/common/crc32c.h"
#include "rivet/common/error.h"
#include "rivet/common/result.h"
#include "rivet/common/secrets.h"
#include "rivet/common/text.h"
#include "rivet/common/url.h"

namespace rivet {
namespace {

TEST(Bytes, FormatsOneThousandTwentyFourBased) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.0 KB");
  EXPECT_EQ(FormatBytes(123392), "120.5 KB");
  EXPECT_EQ(FormatBytes(2202009), "2.1 MB");
  EXPECT_EQ(FormatBytes(1288490189), "1.2 GB");
}

TEST(Bytes, FormatsDurations) {
  EXPECT_EQ(FormatDuration(340), "340ms");
  EXPECT_EQ(FormatDuration(1200), "1.2s");
  EXPECT_EQ(FormatDuration(45300), "45.3s");
}

TEST(Bytes, ParsesDurations) {
  EXPECT_EQ(ParseDurationMs("90s"), 90000);
  EXPECT_EQ(ParseDurationMs("30m"), 1800000);
  EXPECT_EQ(ParseDurationMs("2h"), 7200000);
  EXPECT_EQ(ParseDurationMs("1h30m"), 5400000);
  EXPECT_EQ(ParseDurationMs("1d"), 86400000);
  for (const char* bad : {"", "0s", "10", "s", "5x", "-5s", "1.5h", "5 s", "400d", "m5"}) {
    EXPECT_EQ(ParseDurationMs(bad), std::nullopt) << bad;
  }
}

TEST(Bytes, ParsesSizes) {
  EXPECT_EQ(ParseByteSize("100KB"), 100u * 1024);
  EXPECT_EQ(ParseByteSize("512MB"), 512ull << 20);
  EXPECT_EQ(ParseByteSize("1GB"), 1ull << 30);
  EXPECT_EQ(ParseByteSize("1073741824"), 1073741824u);
  EXPECT_EQ(ParseByteSize("2 mb"), 2ull << 20);
  EXPECT_FALSE(ParseByteSize("").has_value());
  EXPECT_FALSE(ParseByteSize("12XB").has_value());
  EXPECT_FALSE(ParseByteSize("-5MB").has_value());
  EXPECT_FALSE(ParseByteSize("0").has_value());
}

TEST(Text, ParsesTheWholeTextOrNothing) {
  EXPECT_EQ(ParseWhole<int64_t>("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseWhole<int64_t>("42"), 42);
  EXPECT_EQ(ParseWhole<uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseWhole<double>("0.25"), 0.25);
  for (const char* bad : {"", " 1", "1 ", "+1", "1a", "0x10", "9223372036854775808"}) {
    EXPECT_FALSE(ParseWhole<int64_t>(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseWhole<uint64_t>("-1").has_value());
  EXPECT_FALSE(ParseWhole<int>("2147483648").has_value());
  EXPECT_FALSE(ParseWhole<double>("1e").has_value());
}

TEST(Text, LowersAsciiOnly) {
  EXPECT_EQ(AsciiLower("Content-MD5 X-Amz"), "content-md5 x-amz");
  EXPECT_EQ(AsciiLower("\xc3\x89t\xc3\xa9"), "\xc3\x89t\xc3\xa9");  // bytes >= 0x80 kept
}

// RFC 3720 appendix B.4 test vectors, the check value of the catalogue of CRCs, and the
// base64 GCS writes.
TEST(Crc32c, MatchesPublishedVectors) {
  EXPECT_EQ(Crc32c(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(0, std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(0, std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i);
  EXPECT_EQ(Crc32c(0, ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(0, ""), 0u);
  // Continued over pieces of every alignment, the same as at once.
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 31 + 7);
  for (size_t cut : {0, 1, 7, 8, 9, 500, 999}) {
    EXPECT_EQ(Crc32c(Crc32c(0, text.substr(0, cut)), text.substr(cut)), Crc32c(0, text)) << cut;
  }
  EXPECT_EQ(Crc32cBase64(0), "AAAAAA==");
  EXPECT_EQ(Crc32cBase64(0xE3069283u), "4waSgw==");
}

TEST(Clock, FormatsUtc) {
  SystemTime t =
      std::chrono::system_clock::from_time_t(1774794600) + std::chrono::milliseconds(123);
  EXPECT_EQ(FormatRunIdTime(t), "20260329T143000.123");
  EXPECT_EQ(FormatFileTime(t), "20260329_143000");
  EXPECT_EQ(FormatIsoSeconds(t), "2026-03-29T14:30:00+00:00");
}

TEST(Error, ClassesDriveRetryAndExit) {
  struct Row {
    ErrorCode code;
    bool retryable;
    int64_t extra_ms;
    ExitCode exit;
  };
  const Row rows[] = {
      {ErrorCode::kNetwork, true, 0, ExitCode::kExportFailed},
      {ErrorCode::kTimeout, true, 0, ExitCode::kExportFailed},
      {ErrorCode::kCapacity, true, 15000, ExitCode::kExportFailed},
      {ErrorCode::kDeadlock, true, 1000, ExitCode::kExportFailed},
      {ErrorCode::kAuth, false, 0, ExitCode::kExportFailed},
      {ErrorCode::kQuery, false, 0, ExitCode::kExportFailed},
      {ErrorCode::kConfig, false, 0, ExitCode::kUsage},
      {ErrorCode::kNotSupported, false, 0, ExitCode::kUsage},
      {ErrorCode::kValidation, false, 0, ExitCode::kDataIntegrity},
      {ErrorCode::kQuality, false, 0, ExitCode::kDataIntegrity},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(ErrorCodeName(row.code)));
    EXPECT_EQ(IsRetryable(row.code), row.retryable);
    EXPECT_EQ(ExtraBackoffMs(row.code), row.extra_ms);
    EXPECT_EQ(ExitCodeFor(row.code), row.exit);
  }
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Error(ErrorCode::kData, "{} is odd", v);
  return v / 2;
}

Result<int> Quarter(int v) {
  RIVET_ASSIGN_OR_RETURN(int half, Half(v));
  RIVET_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> bad = Quarter(6);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kData);
  EXPECT_EQ(bad.error().message(), "3 is odd");
  EXPECT_EQ(bad.error().WithContext("export 'x'").message(), "export 'x': 3 is odd");
}

TEST(Secrets, HidesKnownSecretsLongestFirst) {
  const std::string url = "postgresql://app:pw@db/prod";
  EXPECT_EQ(HideSecrets("cannot reach " + url + " (pw)", {"pw", url, ""}),
            "cannot reach *** (***)");
  EXPECT_EQ(HideSecrets("pwpw", {"pw"}), "******");
}

TEST(Secrets, HidesUrlPasswordsWhereverTheyStand) {
  EXPECT_EQ(HideCredentialShapes("postgres at postgresql://app:hunter2@db:5432/prod exports:"),
            "postgres at postgresql://app:***@db:5432/prod exports:");
  EXPECT_EQ(HideCredentialShapes("a mysql://u:p%40ss@h/d and s3://k:s/e@b/x"),
            "a mysql://u:***@h/d and s3://k:***@b/x");
  EXPECT_EQ(HideCredentialShapes("'postgres://u:pw@h'"), "'postgres://u:***@h'");
  // No password, or no userinfo at all: nothing to hide.
  EXPECT_EQ(HideCredentialShapes("mysql://app@db/x http://h:80/p"),
            "mysql://app@db/x http://h:80/p");
}

TEST(Secrets, HidesCredentialKeyValues) {
  EXPECT_EQ(HideCredentialShapes("host=h password=hunter2 user=u"), "host=h password=*** user=u");
  EXPECT_EQ(HideCredentialShapes("?sslmode=require&PASSWORD=x1&a=b"),
            "?sslmode=require&PASSWORD=***&a=b");
  EXPECT_EQ(HideCredentialShapes("user: u password: 'two words' db: d"),
            "user: u password: *** db: d");
  EXPECT_EQ(HideCredentialShapes("db_password : \"q\" PGPASSWORD=z api_token:t"),
            "db_password : *** PGPASSWORD=*** api_token:***");
  EXPECT_EQ(HideCredentialShapes("webhook_url: https://hooks.example/T/B/x on: [failure]"),
            "webhook_url: *** on: [failure]");
  // A key without a value, or a word that only contains a key name, is left alone.
  EXPECT_EQ(HideCredentialShapes("password: ; passwords are hidden"),
            "password: ; passwords are hidden");
}

TEST(Secrets, FindsUrlPasswordsRawAndDecoded) {
  EXPECT_EQ(UrlPasswords("mysql://u:p%40ss@h/d"), (std::vector<std::string>{"p%40ss", "p@ss"}));
  EXPECT_EQ(UrlPasswords("postgresql://u:pw@h/d"), (std::vector<std::string>{"pw"}));
  EXPECT_TRUE(UrlPasswords("postgresql://u@h/d").empty());
  EXPECT_TRUE(UrlPasswords("postgresql://u:@h/d").empty());
  EXPECT_TRUE(UrlPasswords("no url").empty());
  // A malformed escape: only the raw form.
  EXPECT_EQ(UrlPasswords("mysql://u:p%zz@h/d"), (std::vector<std::string>{"p%zz"}));
}

TEST(Url, PercentDecodeEdges) {
  std::string out;
  EXPECT_TRUE(PercentDecode("", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(PercentDecode("%41%62%7e%00z", &out));
  EXPECT_EQ(out, std::string("Ab~\0z", 5));
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("%4", &out));
  EXPECT_FALSE(PercentDecode("a%g1", &out));
}

}  // namespace
}  // namespace rivet

TEST(FileSource, ReadsRangesAndRefusesToReadPastTheEnd) {
  const std::string path = ::testing::TempDir() + "/byte_source.bin";
  std::remove(path.c_str());  // FileSink never replaces a file a previous run left
  {
    auto sink = rivet::FileSink::Create(path);
    ASSERT_TRUE(sink.has_value());
    const std::string text = "0123456789";
    ASSERT_TRUE((*sink)->Append(reinterpret_cast<const uint8_t*>(text.data()), text.size()).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  auto source = rivet::FileSource::Open(path);
  ASSERT_TRUE(source.has_value());
  EXPECT_EQ((*source)->size(), 10u);
  uint8_t out[3] = {};
  ASSERT_TRUE((*source)->ReadAt(7, 3, out).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 3), "789");
  rivet::Status past = (*source)->ReadAt(8, 3, out);
  EXPECT_EQ(past.code(), rivet::ErrorCode::kCorrupt);
  EXPECT_NE(past.message().find("byte_source.bin"), std::string::npos);
  EXPECT_FALSE(rivet::FileSource::Open(path + ".missing").has_value());
}
