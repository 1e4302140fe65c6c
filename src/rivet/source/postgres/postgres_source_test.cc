// Unit tests of the PostgreSQL source's factory: source.tls combined with the URL's own TLS
// parameters, read the way libpq reads them (URIs and key=value strings), before any
// connection. Connecting over TLS is covered by tests/integration/tls_test.cc.
#include "rivet/source/postgres/postgres_source.h"

#include <gtest/gtest.h>

#include <string>

namespace rivet::source::postgres {
namespace {

config::SourceConfig UrlConfig(const std::string& url, std::optional<config::TlsMode> mode) {
  config::SourceConfig c;
  c.type = config::SourceType::kPostgres;
  c.url = config::Secret(url);
  c.tls.mode = mode;
  return c;
}

TEST(PostgresSourceFactory, TlsBlockAndUrlParametersMustAgree) {
  struct Case {
    const char* url;
    std::optional<config::TlsMode> block_mode;
    const char* error;  // "" when the source is made
  };
  const Case cases[] = {
      {"postgresql://u:topsecret@h/db", config::TlsMode::kRequire, ""},
      {"postgresql://u:topsecret@h/db?sslmode=require", config::TlsMode::kRequire, ""},
      {"postgresql://u:topsecret@h/db?sslmode=require", config::TlsMode::kVerifyCa,
       "source.tls.mode: is verify-ca but the URL sets sslmode=require"},
      {"host=h user=u password=topsecret sslmode=disable", config::TlsMode::kRequire,
       "source.tls.mode: is require but the URL sets sslmode=disable"},
      {"postgresql://u:topsecret@h/db?sslmode=verify-full", std::nullopt,
       "source.tls.ca_file: is missing: mode verify-full"},
      {"postgresql://u:topsecret@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem", std::nullopt,
       ""},
      {"postgresql://u:topsecret@h/db?sslmode=allow", std::nullopt, ""},
      {"postgresql://u:topsecret@h/db?sslmode=allow", config::TlsMode::kPrefer,
       "source.tls.mode: is prefer but the URL sets sslmode=allow"},
      // A URL libpq cannot parse is Connect's to report; the factory sees no TLS in it.
      {"postgresql://u:topsecret@h/db?nonsense=1", config::TlsMode::kRequire, ""},
  };
  for (const Case& c : cases) {
    auto source = MakePostgresSource(UrlConfig(c.url, c.block_mode), ReadOptions{});
    if (std::string(c.error).empty()) {
      EXPECT_TRUE(source.has_value()) << c.url << ": " << source.error().message();
      continue;
    }
    ASSERT_FALSE(source.has_value()) << c.url;
    EXPECT_EQ(source.error().code(), ErrorCode::kConfig) << c.url;
    EXPECT_NE(source.error().message().find(c.error), std::string::npos)
        << source.error().message();
    EXPECT_EQ(source.error().message().find("topsecret"), std::string::npos)
        << source.error().message();
  }
}

TEST(PostgresSourceFactory, NotConnectedHasNoTlsDescription) {
  auto source = MakePostgresSource(UrlConfig("postgresql://u@h/db", std::nullopt), ReadOptions{});
  ASSERT_TRUE(source.has_value()) << source.error().message();
  EXPECT_EQ((*source)->TlsDescription(), "");
}

}  // namespace
}  // namespace rivet::source::postgres
