// Unit tests of the MySQL source's pure parts: URL parsing, the errno classifier, civil dates,
// text value decoders and the metadata -> type mapping. The server-facing parts are covered by
// tests/integration/mysql_source_test.cc.
#include "rivet/source/mysql/mysql_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rivet/common/text.h"
#include "rivet/source/mysql/mysql_decode.h"
#include "rivet/source/mysql/mysql_errors.h"
#include "rivet/source/mysql/mysql_types.h"
#include "rivet/source/mysql/mysql_url.h"

namespace rivet::source::mysql {
namespace {

using columnar::DataType;
using columnar::Int128;
using columnar::TypeId;

// --- URL ---------------------------------------------------------------------------------------

TEST(MysqlUrl, FullUrl) {
  auto params = ParseMysqlUrl("mysql://reader:pa55@db.example.com:3307/shop");
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_EQ(params->host, "db.example.com");
  EXPECT_EQ(params->port, 3307);
  EXPECT_EQ(params->user, "reader");
  EXPECT_EQ(params->password, "pa55");
  EXPECT_EQ(params->database, "shop");
}

TEST(MysqlUrl, DefaultsAndOptionalParts) {
  auto params = ParseMysqlUrl("mysql://127.0.0.1");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->host, "127.0.0.1");
  EXPECT_EQ(params->port, 3306);
  EXPECT_EQ(params->user, "");
  EXPECT_EQ(params->password, "");
  EXPECT_EQ(params->database, "");

  params = ParseMysqlUrl("mysql://root@localhost/");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->user, "root");
  EXPECT_EQ(params->host, "localhost");  // kept as given (Connector/C then uses the socket)
  EXPECT_EQ(params->database, "");

  params = ParseMysqlUrl("mariadb://u:@h:1/d");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->password, "");
  EXPECT_EQ(params->port, 1);
}

TEST(MysqlUrl, PercentDecodingOfUserPasswordAndDatabase) {
  auto params = ParseMysqlUrl("mysql://us%40er:p%3Aw%2Fd%40%25%20x@h:3306/my%20db");
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_EQ(params->user, "us@er");
  EXPECT_EQ(params->password, "p:w/d@% x");
  EXPECT_EQ(params->database, "my db");
  // A raw '@' in the password: the last '@' of the authority ends the user info.
  params = ParseMysqlUrl("mysql://u:p@ss@h/db");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->password, "p@ss");
  EXPECT_EQ(params->host, "h");
}

TEST(MysqlUrl, Ipv6Host) {
  auto params = ParseMysqlUrl("mysql://u@[::1]:3310/db");
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_EQ(params->host, "::1");
  EXPECT_EQ(params->port, 3310);
  params = ParseMysqlUrl("mysql://[fe80::1]");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->host, "fe80::1");
  EXPECT_EQ(params->port, 3306);
}

TEST(MysqlUrl, RejectsMalformedUrlsWithoutEchoingSecrets) {
  const char* bad[] = {
      "postgresql://u:topsecret@h/db",  // wrong scheme
      "mysql:/u:topsecret@h/db",        // no ://
      "mysql://u:topsecret@/db",        // no host
      "mysql://u:topsecret@h:0/db",     // port out of range
      "mysql://u:topsecret@h:65536/db", "mysql://u:topsecret@h:33a/db",
      "mysql://u:topsecret@h:/db",
      "mysql://u:top%2secret@h/db",  // bad escape in the password
      "mysql://u:topsecret%@h/db",   // truncated escape
      "mysql://u:topsecret@[::1/db",    "mysql://u:topsecret@h/db/extra",
      "mysql://u:topsecret@h/db#frag",  "mysql://u:topsecret@h/db?ssl=1",
  };
  for (const char* url : bad) {
    auto params = ParseMysqlUrl(url);
    ASSERT_FALSE(params.has_value()) << url;
    EXPECT_EQ(params.error().code(), ErrorCode::kConfig) << url;
    EXPECT_EQ(params.error().message().find("topsecret"), std::string::npos)
        << params.error().message();
    EXPECT_EQ(params.error().message().find("top%2secret"), std::string::npos);
  }
  auto query = ParseMysqlUrl("mysql://u:topsecret@h/db?ssl-mode=REQUIRED&x=1");
  ASSERT_FALSE(query.has_value());
  EXPECT_NE(query.error().message().find("query parameter 'x' is not supported by the mysql "
                                         "source (it takes ssl-mode, ssl-ca, ssl-cert and "
                                         "ssl-key)"),
            std::string::npos)
      << query.error().message();
}

TEST(MysqlUrl, TlsParameters) {
  auto params = ParseMysqlUrl(
      "mysql://u:pw@h/db?ssl-mode=verify_identity&ssl-ca=/etc/ca%20dir/ca.pem"
      "&ssl-cert=client.pem&ssl-key=client.key");
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_EQ(params->database, "db");
  EXPECT_EQ(params->url_tls.mode.value, "verify_identity");
  EXPECT_EQ(params->url_tls.parsed_mode, config::TlsMode::kVerifyFull);
  EXPECT_EQ(params->url_tls.ca_file.value, "/etc/ca dir/ca.pem");
  EXPECT_EQ(params->url_tls.cert_file.value, "client.pem");
  EXPECT_EQ(params->url_tls.key_file.value, "client.key");
  // Parsing does not combine: ConnectParamsFrom does.
  EXPECT_FALSE(params->tls.configured());

  const std::pair<const char*, config::TlsMode> modes[] = {
      {"DISABLED", config::TlsMode::kDisable},
      {"preferred", config::TlsMode::kPrefer},
      {"Required", config::TlsMode::kRequire},
      {"VERIFY_CA", config::TlsMode::kVerifyCa},
      {"VERIFY_IDENTITY", config::TlsMode::kVerifyFull},
      {"verify-full", config::TlsMode::kVerifyFull},
      {"require", config::TlsMode::kRequire},
  };
  for (const auto& [text, mode] : modes) {
    auto p = ParseMysqlUrl(std::string("mysql://h/?ssl-mode=") + text);
    ASSERT_TRUE(p.has_value()) << text << ": " << p.error().message();
    EXPECT_EQ(p->url_tls.parsed_mode, mode) << text;
    EXPECT_EQ(p->database, "");
  }
  // Without a database too.
  auto no_db = ParseMysqlUrl("mysql://h?ssl-mode=REQUIRED");
  ASSERT_TRUE(no_db.has_value()) << no_db.error().message();
  EXPECT_EQ(no_db->url_tls.parsed_mode, config::TlsMode::kRequire);

  struct Bad {
    const char* url;
    const char* part;
  };
  const Bad bad[] = {
      {"mysql://u:topsecret@h/db?ssl-mode=STRICT", "ssl-mode 'STRICT' is not valid; use DISABLED"},
      {"mysql://u:topsecret@h/db?ssl-mode=REQUIRED&ssl-mode=DISABLED",
       "query parameter 'ssl-mode' is given twice"},
      {"mysql://u:topsecret@h/db?ssl-ca=", "query parameter 'ssl-ca' needs a value"},
      {"mysql://u:topsecret@h/db?ssl-ca", "query parameter 'ssl-ca' needs a value"},
      {"mysql://u:topsecret@h/db?ssl-ca=%zz", "query parameter 'ssl-ca' needs a value"},
      {"mysql://u:topsecret@h/db?", "an empty query string is not allowed"},
      {"mysql://u:topsecret@h/db?=x", "a query parameter without a name"},
      {"mysql://u:topsecret@h/db?sslmode=require", "query parameter 'sslmode' is not supported"},
  };
  for (const Bad& b : bad) {
    auto p = ParseMysqlUrl(b.url);
    ASSERT_FALSE(p.has_value()) << b.url;
    EXPECT_EQ(p.error().code(), ErrorCode::kConfig) << b.url;
    EXPECT_NE(p.error().message().find(b.part), std::string::npos) << p.error().message();
    EXPECT_EQ(p.error().message().find("topsecret"), std::string::npos) << p.error().message();
  }
}

// source.tls and the URL's parameters meet in ConnectParamsFrom (config/tls.h rules).
TEST(MysqlUrl, TlsBlockCombinesWithTheUrl) {
  config::SourceConfig config;
  config.type = config::SourceType::kMysql;
  config.url = config::Secret("mysql://u:topsecret@h/db?ssl-ca=/etc/ca.pem");
  config.tls.mode = config::TlsMode::kVerifyFull;
  auto params = ConnectParamsFrom(config);
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_EQ(params->tls.mode, config::TlsMode::kVerifyFull);
  EXPECT_EQ(params->tls.ca_file, "/etc/ca.pem");

  config.url = config::Secret("mysql://u:topsecret@h/db?ssl-mode=REQUIRED&ssl-ca=/etc/ca.pem");
  auto conflict = ConnectParamsFrom(config);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConfig);
  EXPECT_NE(conflict.error().message().find(
                "source.tls.mode: is verify-full but the URL sets ssl-mode=REQUIRED"),
            std::string::npos)
      << conflict.error().message();
  EXPECT_EQ(conflict.error().message().find("topsecret"), std::string::npos);

  // VERIFY_CA with no CA anywhere would check nothing on Connector/C: refused.
  config.tls = {};
  config.url = config::Secret("mysql://u@h/db?ssl-mode=VERIFY_CA");
  auto no_ca = ConnectParamsFrom(config);
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_NE(no_ca.error().message().find("source.tls.ca_file: is missing: mode verify-ca"),
            std::string::npos)
      << no_ca.error().message();
  EXPECT_NE(no_ca.error().message().find("the URL's ssl-ca"), std::string::npos);

  // Structured fields take the block alone; nothing at all keeps Connector/C's default.
  config::SourceConfig structured;
  structured.type = config::SourceType::kMysql;
  structured.host = "db";
  params = ConnectParamsFrom(structured);
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_FALSE(params->tls.configured());
  structured.tls.mode = config::TlsMode::kRequire;
  params = ConnectParamsFrom(structured);
  ASSERT_TRUE(params.has_value()) << params.error().message();
  EXPECT_EQ(params->tls.mode, config::TlsMode::kRequire);
}

TEST(MysqlUrl, StructuredConfig) {
  config::SourceConfig config;
  config.type = config::SourceType::kMysql;
  config.host = "db";
  config.user = "u";
  config.password = config::Secret("pw");
  config.database = "d";
  auto params = ConnectParamsFrom(config);
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->host, "db");
  EXPECT_EQ(params->port, 3306);
  EXPECT_EQ(params->password, "pw");
  config.port = 3311;
  params = ConnectParamsFrom(config);
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->port, 3311);
  // The URL wins when set.
  config.url = config::Secret("mysql://x@other:4000/e");
  params = ConnectParamsFrom(config);
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->host, "other");
  EXPECT_EQ(params->port, 4000);

  config::SourceConfig empty;
  empty.type = config::SourceType::kMysql;
  auto missing = ConnectParamsFrom(empty);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
}

// --- classifier
// -----------------------------------------------------------------------------------

TEST(MysqlErrors, ClassifierTable) {
  struct Case {
    unsigned int errnum;
    ErrorCode code;
  };
  const Case cases[] = {
      {2002, ErrorCode::kNetwork},  {2003, ErrorCode::kNetwork},  {2006, ErrorCode::kNetwork},
      {2013, ErrorCode::kNetwork},  {2055, ErrorCode::kNetwork},  {1927, ErrorCode::kNetwork},
      {1205, ErrorCode::kTimeout},  {3024, ErrorCode::kTimeout},  {1969, ErrorCode::kTimeout},
      {1317, ErrorCode::kTimeout},  {1213, ErrorCode::kDeadlock}, {1040, ErrorCode::kCapacity},
      {1203, ErrorCode::kCapacity}, {1044, ErrorCode::kAuth},     {1045, ErrorCode::kAuth},
      {2026, ErrorCode::kAuth},     {1142, ErrorCode::kAuth},     {1227, ErrorCode::kAuth},
      {1698, ErrorCode::kAuth},     {1064, ErrorCode::kQuery},    {1146, ErrorCode::kQuery},
      {1054, ErrorCode::kQuery},    {1049, ErrorCode::kQuery},    {1149, ErrorCode::kQuery},
      {1062, ErrorCode::kSource},   {1366, ErrorCode::kSource},   {0, ErrorCode::kSource},
      {2000, ErrorCode::kSource},   {99999, ErrorCode::kSource},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyMysqlError(c.errnum), c.code) << "errno " << c.errnum;
  }
}

TEST(MysqlErrors, TlsFailureTable) {
  using config::TlsFailure;
  struct Case {
    unsigned int errnum;
    const char* message;
    TlsFailure failure;
  };
  const Case cases[] = {
      {2026, "TLS/SSL error: Validation of SSL server certificate failed",
       TlsFailure::kHostMismatch},
      {2026, "TLS/SSL error: SSL is required, but the server does not support it",
       TlsFailure::kNoServerTls},
      {2026, "TLS/SSL error: unable to get local issuer certificate",
       TlsFailure::kUntrustedCertificate},
      {2026, "TLS/SSL error: self-signed certificate in certificate chain",
       TlsFailure::kUntrustedCertificate},
      {2026, "TLS/SSL error: certificate verify failed", TlsFailure::kUntrustedCertificate},
      {2026, "TLS/SSL error: tlsv1 alert unknown ca", TlsFailure::kClientCertificate},
      {2026, "TLS/SSL error: No such file or directory", TlsFailure::kLocalFile},
      {2026, "TLS/SSL error: something new", TlsFailure::kNone},
      // Only error 2026 is a TLS failure, whatever the words.
      {1045, "Access denied for user 'x' (certificate verify failed)", TlsFailure::kNone},
      {2013, "Lost connection to server during query", TlsFailure::kNone},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyMysqlTlsFailure(c.errnum, c.message), c.failure) << c.message;
  }
}

// --- civil dates --------------------------------------------------------------------------------

TEST(MysqlDecode, DaysFromCivilKnownDates) {
  // Expected values from an independent calendar implementation (Python's datetime).
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1900, 1, 1), -25567);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
  EXPECT_EQ(DaysFromCivil(1000, 1, 1), -354285);
  EXPECT_EQ(DaysFromCivil(1600, 2, 29), -135081);
  EXPECT_EQ(DaysFromCivil(1582, 10, 15), -141427);
}

TEST(MysqlDecode, DaysFromCivilIsContiguous) {
  // Walking every valid date from 1000-01-01 to 9999-12-31 advances exactly one day each step.
  int64_t expected = DaysFromCivil(1000, 1, 1);
  int64_t checked = 0;
  for (int64_t y = 1000; y <= 9999; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      for (unsigned d = 1; d <= 31; ++d) {
        if (!IsValidCivilDate(y, m, d)) continue;
        ASSERT_EQ(DaysFromCivil(y, m, d), expected) << y << "-" << m << "-" << d;
        ++expected;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2932896 + 354285 + 1);
}

TEST(MysqlDecode, ValidCivilDates) {
  EXPECT_TRUE(IsValidCivilDate(2024, 2, 29));
  EXPECT_FALSE(IsValidCivilDate(2023, 2, 29));
  EXPECT_FALSE(IsValidCivilDate(1900, 2, 29));
  EXPECT_TRUE(IsValidCivilDate(2000, 2, 29));
  EXPECT_FALSE(IsValidCivilDate(2024, 4, 31));
  EXPECT_FALSE(IsValidCivilDate(2024, 0, 1));
  EXPECT_FALSE(IsValidCivilDate(2024, 13, 1));
  EXPECT_FALSE(IsValidCivilDate(2024, 1, 0));
}

// --- text decoders ------------------------------------------------------------------------------

TEST(MysqlDecode, Integers) {
  EXPECT_EQ(ParseWhole<int64_t>("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ParseWhole<int64_t>("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(ParseWhole<int64_t>("9223372036854775808").has_value());
  EXPECT_FALSE(ParseWhole<int64_t>("").has_value());
  EXPECT_FALSE(ParseWhole<int64_t>("12a").has_value());
  EXPECT_FALSE(ParseWhole<int64_t>(" 1").has_value());
  EXPECT_EQ(ParseWhole<uint64_t>("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(ParseWhole<uint64_t>("18446744073709551616").has_value());
  EXPECT_FALSE(ParseWhole<uint64_t>("-1").has_value());
}

// Around the 18 digits that 64 bits hold and up to 38: the largest value of DECIMAL(p,s) and its
// negative parse exactly, in every layout of its digits; the next value does not fit.
TEST(MysqlDecode, DecimalsAreExactAtEveryPrecision) {
  for (int p : {1, 2, 9, 17, 18, 19, 20, 37, 38}) {
    for (int s : {0, 1, p / 2, p}) {
      Int128 max = 0;
      for (int i = 0; i < p; ++i) max = max * 10 + 9;
      const std::string whole(static_cast<size_t>(p - s), '9');
      const std::string fraction(static_cast<size_t>(s), '9');
      const std::string text = (whole.empty() ? "0" : whole) + (s > 0 ? "." + fraction : "");
      Int128 v = 0;
      ASSERT_EQ(ParseDecimalText(text, p, s, &v), ParseStatus::kOk) << text;
      EXPECT_TRUE(v == max) << text;
      ASSERT_EQ(ParseDecimalText("-" + text, p, s, &v), ParseStatus::kOk) << text;
      EXPECT_TRUE(v == -max) << text;
      ASSERT_EQ(ParseDecimalText("+00" + text, p, s, &v), ParseStatus::kOk) << text;
      EXPECT_TRUE(v == max) << text;
      // One more unit of the last place: 10^(p-s), a digit more than the type holds.
      const std::string next = "1" + std::string(static_cast<size_t>(p - s), '0');
      EXPECT_EQ(ParseDecimalText(next, p, s, &v), ParseStatus::kOutOfRange) << next;
      if (s > 0) {
        // Fewer fraction digits than the scale are padded: 1.5 is 15 * 10^(s-1).
        ASSERT_EQ(ParseDecimalText(p > s ? "1.5" : "0.5", p, s, &v), ParseStatus::kOk);
        Int128 want = p > s ? 15 : 5;
        for (int i = 1; i < s; ++i) want *= 10;
        EXPECT_TRUE(v == want) << p << "," << s;
      }
    }
  }
}

TEST(MysqlDecode, Decimals) {
  Int128 v = 0;
  EXPECT_EQ(ParseDecimalText("-123.45", 12, 2, &v), ParseStatus::kOk);
  EXPECT_EQ(v, -12345);
  EXPECT_EQ(ParseDecimalText("0.00", 12, 2, &v), ParseStatus::kOk);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(ParseDecimalText("7", 5, 2, &v), ParseStatus::kOk);  // padded to the scale
  EXPECT_EQ(v, 700);
  EXPECT_EQ(ParseDecimalText("7.5", 5, 2, &v), ParseStatus::kOk);
  EXPECT_EQ(v, 750);
  EXPECT_EQ(ParseDecimalText("999.99", 5, 2, &v), ParseStatus::kOk);
  EXPECT_EQ(v, 99999);
  EXPECT_EQ(ParseDecimalText("0999.99", 5, 2, &v), ParseStatus::kOk);  // leading zeros
  EXPECT_EQ(ParseDecimalText("1000.00", 5, 2, &v), ParseStatus::kOutOfRange);
  EXPECT_EQ(ParseDecimalText("1.234", 5, 2, &v), ParseStatus::kInvalid);  // more than scale
  EXPECT_EQ(ParseDecimalText("", 5, 2, &v), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDecimalText("-", 5, 2, &v), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDecimalText("1..2", 5, 2, &v), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDecimalText("1e5", 5, 2, &v), ParseStatus::kInvalid);
  // 38 digits: the widest native decimal.
  const std::string max38(38, '9');
  EXPECT_EQ(ParseDecimalText(max38, 38, 0, &v), ParseStatus::kOk);
  Int128 expected = 0;
  for (int i = 0; i < 38; ++i) expected = expected * 10 + 9;
  EXPECT_EQ(v, expected);
  EXPECT_EQ(ParseDecimalText("-" + max38.substr(0, 28) + "." + max38.substr(0, 10), 38, 10, &v),
            ParseStatus::kOk);
  EXPECT_EQ(v, -expected);
  EXPECT_EQ(ParseDecimalText("1" + max38, 38, 0, &v), ParseStatus::kOutOfRange);
  EXPECT_EQ(ParseDecimalText("1", 39, 0, &v), ParseStatus::kOutOfRange);  // not native
}

TEST(MysqlDecode, Dates) {
  int32_t days = 0;
  EXPECT_EQ(ParseDateText("1970-01-01", &days), ParseStatus::kOk);
  EXPECT_EQ(days, 0);
  EXPECT_EQ(ParseDateText("1969-12-31", &days), ParseStatus::kOk);
  EXPECT_EQ(days, -1);
  EXPECT_EQ(ParseDateText("9999-12-31", &days), ParseStatus::kOk);
  EXPECT_EQ(days, 2932896);
  EXPECT_EQ(ParseDateText("0000-00-00", &days), ParseStatus::kZero);
  EXPECT_EQ(ParseDateText("2024-00-10", &days), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDateText("2024-02-30", &days), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDateText("2024-2-3", &days), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDateText("2024-02-03x", &days), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDateText("", &days), ParseStatus::kInvalid);
}

TEST(MysqlDecode, Datetimes) {
  int64_t us = 0;
  EXPECT_EQ(ParseDatetimeText("1970-01-01 00:00:00", &us), ParseStatus::kOk);
  EXPECT_EQ(us, 0);
  EXPECT_EQ(ParseDatetimeText("1970-01-01 00:00:01.5", &us), ParseStatus::kOk);
  EXPECT_EQ(us, 1500000);
  EXPECT_EQ(ParseDatetimeText("1969-12-31 23:59:59.999999", &us), ParseStatus::kOk);
  EXPECT_EQ(us, -1);
  EXPECT_EQ(ParseDatetimeText("2024-02-29 12:34:56.000123", &us), ParseStatus::kOk);
  EXPECT_EQ(us, (int64_t{19782} * 86400 + 12 * 3600 + 34 * 60 + 56) * 1000000 + 123);
  EXPECT_EQ(ParseDatetimeText("0000-00-00 00:00:00", &us), ParseStatus::kZero);
  EXPECT_EQ(ParseDatetimeText("0000-00-00 00:00:00.000000", &us), ParseStatus::kZero);
  EXPECT_EQ(ParseDatetimeText("2024-01-01 24:00:00", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDatetimeText("2024-01-01 10:00:00.", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDatetimeText("2024-01-01 10:00:00.1234567", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDatetimeText("2024-01-01T10:00:00", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseDatetimeText("2024-01-01", &us), ParseStatus::kInvalid);
}

TEST(MysqlDecode, TimesWithinADayOnly) {
  int64_t us = 0;
  EXPECT_EQ(ParseTimeText("00:00:00", &us), ParseStatus::kOk);
  EXPECT_EQ(us, 0);
  EXPECT_EQ(ParseTimeText("23:59:59.999999", &us), ParseStatus::kOk);
  EXPECT_EQ(us, 86400000000 - 1);
  EXPECT_EQ(ParseTimeText("12:00:00.5", &us), ParseStatus::kOk);
  EXPECT_EQ(us, 43200500000);
  EXPECT_EQ(ParseTimeText("24:00:00", &us), ParseStatus::kOutOfRange);
  EXPECT_EQ(ParseTimeText("838:59:59", &us), ParseStatus::kOutOfRange);
  EXPECT_EQ(ParseTimeText("-01:00:00", &us), ParseStatus::kOutOfRange);
  EXPECT_EQ(ParseTimeText("-00:00:00.000001", &us), ParseStatus::kOutOfRange);
  EXPECT_EQ(ParseTimeText("1:00:00", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseTimeText("10:60:00", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseTimeText("10:00", &us), ParseStatus::kInvalid);
  EXPECT_EQ(ParseTimeText("", &us), ParseStatus::kInvalid);
  // The binary protocol's fields follow the same rule.
  EXPECT_EQ(TimeFromFields(false, 23, 59, 59, 999999, &us), ParseStatus::kOk);
  EXPECT_EQ(TimeFromFields(false, 838, 59, 59, 0, &us), ParseStatus::kOutOfRange);
  EXPECT_EQ(TimeFromFields(true, 1, 0, 0, 0, &us), ParseStatus::kOutOfRange);
}

TEST(MysqlDecode, BitBytes) {
  uint64_t v = 0;
  const uint8_t one[] = {0x01};
  EXPECT_TRUE(BitBytesToUInt64(one, 1, &v));
  EXPECT_EQ(v, 1u);
  const uint8_t twelve_bits[] = {0x0a, 0xbc};
  EXPECT_TRUE(BitBytesToUInt64(twelve_bits, 2, &v));
  EXPECT_EQ(v, 0xabcu);
  const uint8_t full[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
  EXPECT_TRUE(BitBytesToUInt64(full, 8, &v));
  EXPECT_EQ(v, std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(BitBytesToUInt64(full, 9, &v));
}

TEST(MysqlDecode, ArbitraryBytesNeverCrashTheParsers) {
  // Deterministic pseudo-random inputs drawn from the characters the parsers care about, plus
  // every prefix of valid values: each parser must answer without reading past its input.
  // sizeof, not strlen: the NUL inside is part of the alphabet, and so is the 'x' after it.
  static constexpr char kAlphabet[] = "0123456789-+.: eE\0x";
  constexpr std::string_view alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  static_assert(alphabet.back() == 'x');
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::vector<std::string> inputs = {"2024-02-29 12:34:56.123456", "-838:59:59.000001",
                                     "-12345678901234567890.123456789"};
  for (const std::string& valid : std::vector<std::string>(inputs)) {
    for (size_t n = 0; n <= valid.size(); ++n) inputs.push_back(valid.substr(0, n));
  }
  for (int i = 0; i < 20000; ++i) {
    std::string s(next() % 40, ' ');
    for (char& c : s) c = alphabet[next() % alphabet.size()];
    inputs.push_back(s);
  }
  // The drawn inputs really contain both characters past the C string's end.
  auto drawn_with = [&inputs](char c) {
    return std::count_if(inputs.begin(), inputs.end(), [c](const std::string& input) {
      return input.find(c) != std::string::npos;
    });
  };
  EXPECT_GT(drawn_with('\0'), 1000);
  EXPECT_GT(drawn_with('x'), 1000);
  int ok = 0;
  for (const std::string& input : inputs) {
    // Parse from a heap copy of exactly the input's size so that an overread is a real one.
    std::unique_ptr<char[]> copy(new char[input.size() + 1]);
    std::memcpy(copy.get(), input.data(), input.size());
    std::string_view text(copy.get(), input.size());
    Int128 unscaled = 0;
    int32_t days = 0;
    int64_t micros = 0;
    ok += ParseDecimalText(text, 38, 9, &unscaled) == ParseStatus::kOk;
    ok += ParseDateText(text, &days) == ParseStatus::kOk;
    ok += ParseDatetimeText(text, &micros) == ParseStatus::kOk;
    ok += ParseTimeText(text, &micros) == ParseStatus::kOk;
    ok += ParseWhole<int64_t>(text).has_value();
  }
  EXPECT_GT(ok, 0);  // the valid inputs and some prefixes parse
}

// --- type mapping -------------------------------------------------------------------------------

FieldMeta Field(enum_field_types type, unsigned long length, unsigned int flags = 0,
                unsigned int decimals = 0, unsigned int charsetnr = 45) {
  FieldMeta f;
  f.name = "c";
  f.type = type;
  f.length = length;
  f.flags = flags;
  f.decimals = decimals;
  f.charsetnr = charsetnr;
  return f;
}

TEST(MysqlTypes, Mapping) {
  struct Case {
    FieldMeta field;
    DataType type;
  };
  const Case cases[] = {
      {Field(MYSQL_TYPE_TINY, 1), DataType::Of(TypeId::kBool)},
      {Field(MYSQL_TYPE_TINY, 4), DataType::Of(TypeId::kInt8)},
      {Field(MYSQL_TYPE_TINY, 3, UNSIGNED_FLAG), DataType::Of(TypeId::kUInt8)},
      {Field(MYSQL_TYPE_SHORT, 6), DataType::Of(TypeId::kInt16)},
      {Field(MYSQL_TYPE_SHORT, 5, UNSIGNED_FLAG), DataType::Of(TypeId::kUInt16)},
      {Field(MYSQL_TYPE_INT24, 9), DataType::Of(TypeId::kInt32)},
      {Field(MYSQL_TYPE_LONG, 11), DataType::Of(TypeId::kInt32)},
      {Field(MYSQL_TYPE_LONG, 10, UNSIGNED_FLAG), DataType::Of(TypeId::kInt64)},
      {Field(MYSQL_TYPE_LONGLONG, 20), DataType::Of(TypeId::kInt64)},
      {Field(MYSQL_TYPE_LONGLONG, 20, UNSIGNED_FLAG), DataType::Of(TypeId::kUInt64)},
      {Field(MYSQL_TYPE_BIT, 1), DataType::Of(TypeId::kBool)},
      {Field(MYSQL_TYPE_BIT, 12), DataType::Of(TypeId::kInt64)},
      {Field(MYSQL_TYPE_BIT, 64), DataType::Of(TypeId::kUInt64)},
      {Field(MYSQL_TYPE_FLOAT, 12), DataType::Of(TypeId::kFloat32)},
      {Field(MYSQL_TYPE_DOUBLE, 22), DataType::Of(TypeId::kFloat64)},
      // DECIMAL(12,2): 12 digits + point + sign = 14.
      {Field(MYSQL_TYPE_NEWDECIMAL, 14, 0, 2), DataType::Decimal(12, 2)},
      {Field(MYSQL_TYPE_NEWDECIMAL, 13, UNSIGNED_FLAG, 2), DataType::Decimal(12, 2)},
      {Field(MYSQL_TYPE_NEWDECIMAL, 11, 0, 0), DataType::Decimal(10, 0)},
      {Field(MYSQL_TYPE_NEWDECIMAL, 39, 0, 0), DataType::Decimal(38, 0)},
      {Field(MYSQL_TYPE_NEWDECIMAL, 40, 0, 0), DataType::Of(TypeId::kString)},   // 39 digits
      {Field(MYSQL_TYPE_NEWDECIMAL, 67, 0, 30), DataType::Of(TypeId::kString)},  // (65,30)
      {Field(MYSQL_TYPE_VAR_STRING, 1020), DataType::Of(TypeId::kString)},
      {Field(MYSQL_TYPE_STRING, 16, 0, 0, kBinaryCharset), DataType::Of(TypeId::kBinary)},
      {Field(MYSQL_TYPE_BLOB, 65535, BINARY_FLAG | BLOB_FLAG, 0, kBinaryCharset),
       DataType::Of(TypeId::kBinary)},
      {Field(MYSQL_TYPE_BLOB, 65535, BLOB_FLAG), DataType::Of(TypeId::kString)},
      {Field(MYSQL_TYPE_STRING, 4, ENUM_FLAG), DataType::Of(TypeId::kString)},
      {Field(MYSQL_TYPE_STRING, 4, SET_FLAG), DataType::Of(TypeId::kString)},
      {Field(MYSQL_TYPE_JSON, 4294967295), DataType::Of(TypeId::kJson)},
      {Field(MYSQL_TYPE_DATE, 10), DataType::Of(TypeId::kDate)},
      {Field(MYSQL_TYPE_TIME, 10), DataType::Of(TypeId::kTime)},
      {Field(MYSQL_TYPE_DATETIME, 26, 0, 6), DataType::Of(TypeId::kTimestamp)},
      {Field(MYSQL_TYPE_TIMESTAMP, 26, 0, 6), DataType::Of(TypeId::kTimestampTz)},
      {Field(MYSQL_TYPE_YEAR, 4, UNSIGNED_FLAG), DataType::Of(TypeId::kInt32)},
      {Field(MYSQL_TYPE_NULL, 0), DataType::Of(TypeId::kString)},
      {Field(MYSQL_TYPE_GEOMETRY, 4294967295, 0, 0, kBinaryCharset), DataType::Of(TypeId::kBinary)},
  };
  for (const Case& c : cases) {
    ColumnPlan plan = PlanColumn(c.field);
    EXPECT_EQ(plan.type, c.type) << "field type " << c.field.type << " length " << c.field.length
                                 << " got " << plan.type.ToString();
    EXPECT_EQ(plan.storage, plan.type.storage());
  }
  FieldMeta json = Field(MYSQL_TYPE_BLOB, 4294967295, BLOB_FLAG);
  json.json_format = true;  // MariaDB: LONGTEXT with the "json" format in extended metadata
  EXPECT_EQ(PlanColumn(json).type, DataType::Of(TypeId::kJson));
}

TEST(MysqlTypes, IntegerBounds) {
  ColumnPlan tiny = PlanColumn(Field(MYSQL_TYPE_TINY, 4));
  EXPECT_EQ(tiny.min, -128);
  EXPECT_EQ(tiny.max, 127);
  ColumnPlan uint = PlanColumn(Field(MYSQL_TYPE_LONG, 10, UNSIGNED_FLAG));
  EXPECT_EQ(uint.min, 0);
  EXPECT_EQ(uint.max, 4294967295LL);
  ColumnPlan medium = PlanColumn(Field(MYSQL_TYPE_INT24, 8, UNSIGNED_FLAG));
  EXPECT_EQ(medium.max, 16777215);
}

TEST(MysqlSourceFactory, QuoteIdentifierAndOfflineDescription) {
  config::SourceConfig config;
  config.type = config::SourceType::kMysql;
  config.url = config::Secret("mysql://u:pw@127.0.0.1:1/db");
  auto source = MakeMysqlSource(config, ReadOptions{});
  ASSERT_TRUE(source.has_value()) << source.error().message();
  EXPECT_EQ((*source)->QuoteIdentifier("plain"), "`plain`");
  EXPECT_EQ((*source)->QuoteIdentifier("we`ird"), "`we``ird`");
  EXPECT_EQ((*source)->QuoteIdentifier(""), "``");
  EXPECT_NE((*source)->ServerDescription().find("MySQL"), std::string::npos);
  EXPECT_EQ((*source)->TlsDescription(), "");  // not connected

  config.url = config::Secret("mysql://u:topsecret@h:99999/db");
  auto bad = MakeMysqlSource(config, ReadOptions{});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message().find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace rivet::source::mysql
