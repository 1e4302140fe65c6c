// TLS to the source, on PostgreSQL and MariaDB, against the test servers of scripts/servers/,
// which offer TLS with a certificate for DNS:localhost and IP:127.0.0.1 signed by a CA the test
// script made (scripts/servers/tls.sh), while still accepting plain connections. They also
// listen on 127.0.0.2, which the certificate does not name: there verify-full must refuse the
// host name and verify-ca must pass. Every mode is tried through source.tls and through the
// URL's own parameters, each connection's encryption is confirmed by the server itself, and an
// export runs end to end over TLS through the rivet binary.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "rivet/config/config.h"
#include "rivet/source/source.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using config::TlsMode;

// scripts/servers/*.sh: the passwords of rivet_pw, which must never reach a message.
constexpr const char* kPassword = "s3cret-pw";
// A negotiated protocol and cipher as TlsDescription gives them: "TLSv1.3 TLS_AES_256_GCM_SHA384".
const std::regex kTlsDescription("TLSv1\\.[23] [A-Z0-9_-]+");

// What each engine's environment gives the test.
struct Paths {
  std::string url;       // plain URL of the admin user on 127.0.0.1
  std::string pw_url;    // the password user's URL
  std::string ca;        // the CA that signed the servers' certificate
  std::string wrong_ca;  // a CA that signed nothing here
  std::string client_cert;
  std::string client_key;
  std::string client_user;
  std::string other_host;  // where the servers listen but the certificate does not name
};

class TlsTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    const bool pg = GetParam().postgres();
    for (auto [field, name] :
         {std::pair{&paths_.url, GetParam().url_env},
          std::pair{&paths_.pw_url, pg ? "RIVET_TEST_PG_PW_URL" : "RIVET_TEST_MYSQL_PW_URL"},
          std::pair{&paths_.ca, "RIVET_TEST_TLS_CA"},
          std::pair{&paths_.wrong_ca, "RIVET_TEST_TLS_WRONG_CA"},
          std::pair{&paths_.client_cert, "RIVET_TEST_TLS_CLIENT_CERT"},
          std::pair{&paths_.client_key, "RIVET_TEST_TLS_CLIENT_KEY"},
          std::pair{&paths_.client_user, "RIVET_TEST_TLS_CLIENT_USER"},
          std::pair{&paths_.other_host, "RIVET_TEST_TLS_OTHER_HOST"}}) {
      std::optional<std::string> value = EnvVar(name);
      if (!value) {
        if (InCi()) FAIL() << name << " is not set: the test server is missing";
        GTEST_SKIP() << name << " is not set: start the test servers with scripts/test.sh";
      }
      *field = *value;
    }
  }

  bool pg() const { return GetParam().postgres(); }

  // The admin URL with another host (and user), and `query` appended ("?..." or "").
  std::string Url(const std::string& host = "127.0.0.1", const std::string& query = "",
                  const std::string& user = "") const {
    std::string url = paths_.url;
    const size_t at = url.find('@');
    const size_t colon = url.find(':', at);
    url.replace(at + 1, colon - at - 1, host);
    if (!user.empty()) {
      const size_t scheme = url.find("://") + 3;
      url.replace(scheme, url.find('@') - scheme, user);
    }
    return url + query;
  }

  static config::TlsConfig Tls(std::optional<TlsMode> mode, std::string ca = "") {
    config::TlsConfig tls;
    tls.mode = mode;
    tls.ca_file = std::move(ca);
    return tls;
  }

  config::SourceConfig Config(const std::string& url, config::TlsConfig tls = {}) const {
    config::SourceConfig c;
    c.type = pg() ? config::SourceType::kPostgres : config::SourceType::kMysql;
    c.url = config::Secret(url);
    c.tls = std::move(tls);
    return c;
  }

  // A connected source, or the error of making or connecting it.
  static Result<std::unique_ptr<source::Source>> Open(const config::SourceConfig& config) {
    RIVET_ASSIGN_OR_RETURN(std::unique_ptr<source::Source> source,
                           source::MakeSource(config, source::ReadOptions{}));
    RIVET_RETURN_IF_ERROR(source->Connect());
    return source;
  }

  // What the server says about this session's encryption: its cipher, "" when plain.
  std::string ServerSideCipher(source::Source& source) const {
    auto rows =
        source.QueryText(pg() ? "SELECT CASE WHEN ssl THEN cipher ELSE '' END FROM pg_stat_ssl "
                                "WHERE pid = pg_backend_pid()"
                              : "SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    EXPECT_TRUE(rows.has_value()) << rows.error().message();
    if (!rows.has_value() || rows->size() != 1) return "?";
    const auto& row = rows->front();
    const auto& value = pg() ? row[0] : row[1];
    return value.value_or("");
  }

  // Connects with `config`, expects TLS, and checks that the server agrees.
  void ExpectEncrypted(const config::SourceConfig& config) {
    auto source = Open(config);
    ASSERT_TRUE(source.has_value()) << source.error().message();
    const std::string description = (*source)->TlsDescription();
    EXPECT_TRUE(std::regex_match(description, kTlsDescription)) << "'" << description << "'";
    const std::string cipher = ServerSideCipher(**source);
    EXPECT_FALSE(cipher.empty());
    EXPECT_NE(description.find(cipher), std::string::npos) << description << " vs " << cipher;
  }

  void ExpectPlain(const config::SourceConfig& config) {
    auto source = Open(config);
    ASSERT_TRUE(source.has_value()) << source.error().message();
    EXPECT_EQ((*source)->TlsDescription(), "");
    EXPECT_EQ(ServerSideCipher(**source), "");
  }

  // Connecting with `config` fails with `code`, a message holding each of `parts`, never the
  // password.
  void ExpectFailure(const config::SourceConfig& config, ErrorCode code,
                     const std::vector<std::string>& parts) {
    auto source = Open(config);
    ASSERT_FALSE(source.has_value()) << "connected: " << (*source)->TlsDescription();
    EXPECT_EQ(source.error().code(), code) << source.error().message();
    EXPECT_FALSE(IsRetryable(source.error().code())) << source.error().message();
    for (const std::string& part : parts) {
      EXPECT_NE(source.error().message().find(part), std::string::npos)
          << source.error().message() << "\nmissing: " << part;
    }
    EXPECT_EQ(source.error().message().find(kPassword), std::string::npos)
        << source.error().message();
  }

  // The URL's query for a mode and a CA, in the engine's own words.
  std::string UrlTls(std::string_view pg_mode, std::string_view mysql_mode,
                     const std::string& ca) const {
    return pg() ? fmt::format("?sslmode={}&sslrootcert={}", pg_mode, ca)
                : fmt::format("?ssl-mode={}&ssl-ca={}", mysql_mode, ca);
  }

  Paths paths_;
};

TEST_P(TlsTest, VerifyFullWithTheRightCaConnectsEncrypted) {
  ExpectEncrypted(Config(Url(), Tls(TlsMode::kVerifyFull, paths_.ca)));
}

TEST_P(TlsTest, AWrongCaFailsClearlyAndIsNotRetried) {
  ExpectFailure(Config(paths_.pw_url, Tls(TlsMode::kVerifyFull, paths_.wrong_ca)), ErrorCode::kAuth,
                {"certificate",
                 "TLS: the server's certificate is not signed by the CA rivet was "
                 "given; set source.tls.ca_file"});
  // verify-ca checks the same chain.
  ExpectFailure(Config(Url(), Tls(TlsMode::kVerifyCa, paths_.wrong_ca)), ErrorCode::kAuth,
                {"TLS: the server's certificate is not signed by the CA"});
}

TEST_P(TlsTest, AHostTheCertificateDoesNotNameFailsVerifyFullButPassesVerifyCa) {
  ExpectFailure(Config(Url(paths_.other_host), Tls(TlsMode::kVerifyFull, paths_.ca)),
                ErrorCode::kAuth,
                {"TLS: the server's certificate does not name the host rivet connects to",
                 "use mode verify-ca to check the chain only"});
  ExpectEncrypted(Config(Url(paths_.other_host), Tls(TlsMode::kVerifyCa, paths_.ca)));
}

TEST_P(TlsTest, DisableConnectsUnencrypted) { ExpectPlain(Config(Url(), Tls(TlsMode::kDisable))); }

TEST_P(TlsTest, RequireWithoutACaConnectsEncrypted) {
  ExpectEncrypted(Config(Url(), Tls(TlsMode::kRequire)));
  // Without a CA nothing is checked: the host the certificate does not name is fine too.
  ExpectEncrypted(Config(Url(paths_.other_host), Tls(TlsMode::kRequire)));
}

// Both libraries verify the chain whenever a CA is given, also with require (README table).
TEST_P(TlsTest, RequireWithACaVerifiesTheChain) {
  ExpectFailure(Config(Url(), Tls(TlsMode::kRequire, paths_.wrong_ca)), ErrorCode::kAuth,
                {"TLS: the server's certificate is not signed by the CA"});
  ExpectEncrypted(Config(Url(paths_.other_host), Tls(TlsMode::kRequire, paths_.ca)));
}

TEST_P(TlsTest, PreferConnectsEncryptedToAServerThatOffersTls) {
  ExpectEncrypted(Config(Url(), Tls(TlsMode::kPrefer)));
}

// Neither source.tls nor the URL says anything: libpq's default (prefer) encrypts with a server
// that offers TLS; Connector/C 3.3's default stays unencrypted.
TEST_P(TlsTest, NothingConfiguredKeepsTheLibrarysDefault) {
  if (pg()) {
    ExpectEncrypted(Config(Url()));
  } else {
    ExpectPlain(Config(Url()));
  }
}

TEST_P(TlsTest, TheUrlsOwnParametersWorkTheSameWay) {
  ExpectEncrypted(Config(Url("127.0.0.1", UrlTls("verify-full", "VERIFY_IDENTITY", paths_.ca))));
  ExpectFailure(Config(Url("127.0.0.1", UrlTls("verify-full", "VERIFY_IDENTITY", paths_.wrong_ca))),
                ErrorCode::kAuth, {"TLS: the server's certificate is not signed by the CA"});
  ExpectFailure(Config(Url(paths_.other_host, UrlTls("verify-full", "VERIFY_IDENTITY", paths_.ca))),
                ErrorCode::kAuth, {"does not name the host"});
  ExpectEncrypted(Config(Url(paths_.other_host, UrlTls("verify-ca", "VERIFY_CA", paths_.ca))));
  ExpectPlain(Config(Url("127.0.0.1", pg() ? "?sslmode=disable" : "?ssl-mode=DISABLED")));
  ExpectEncrypted(Config(Url("127.0.0.1", pg() ? "?sslmode=require" : "?ssl-mode=REQUIRED")));
}

TEST_P(TlsTest, TheBlockAndTheUrlCombine) {
  // The mode from the block, the CA from the URL, and the other way round.
  const std::string ca_only = pg() ? "?sslrootcert=" + paths_.ca : "?ssl-ca=" + paths_.ca;
  ExpectEncrypted(Config(Url("127.0.0.1", ca_only), Tls(TlsMode::kVerifyFull)));
  const std::string mode_only = pg() ? "?sslmode=verify-full" : "?ssl-mode=VERIFY_IDENTITY";
  ExpectEncrypted(Config(Url("127.0.0.1", mode_only), Tls(std::nullopt, paths_.ca)));
  ExpectFailure(Config(Url(paths_.other_host, mode_only), Tls(std::nullopt, paths_.ca)),
                ErrorCode::kAuth, {"does not name the host"});
}

// A conflict is refused before any connection, naming both places.
TEST_P(TlsTest, ABlockThatContradictsTheUrlIsAConfigError) {
  const std::string require = pg() ? "?sslmode=require" : "?ssl-mode=REQUIRED";
  auto source = source::MakeSource(
      Config(paths_.pw_url + require, Tls(TlsMode::kVerifyFull, paths_.ca)), source::ReadOptions{});
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error().code(), ErrorCode::kConfig);
  EXPECT_NE(source.error().message().find(
                fmt::format("source.tls.mode: is verify-full but the URL sets {}",
                            pg() ? "sslmode=require" : "ssl-mode=REQUIRED")),
            std::string::npos)
      << source.error().message();
  EXPECT_EQ(source.error().message().find(kPassword), std::string::npos);
}

TEST_P(TlsTest, AClientCertificateLogsInTheUserItNames) {
  config::TlsConfig tls = Tls(TlsMode::kVerifyFull, paths_.ca);
  tls.cert_file = paths_.client_cert;
  tls.key_file = paths_.client_key;
  const std::string url = Url("127.0.0.1", "", paths_.client_user);
  auto source = Open(Config(url, tls));
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto user = (*source)->QueryText(pg() ? "SELECT current_user" : "SELECT CURRENT_USER()");
  ASSERT_TRUE(user.has_value()) << user.error().message();
  EXPECT_EQ(user->at(0).at(0).value_or("").rfind(paths_.client_user, 0), 0u);
  EXPECT_TRUE(std::regex_match((*source)->TlsDescription(), kTlsDescription));

  // The same user without the certificate is refused by the server.
  auto refused = Open(Config(url, Tls(TlsMode::kVerifyFull, paths_.ca)));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kAuth) << refused.error().message();
}

// End to end through the binary: a relative ca_file next to the config, an export over
// verify-full, then the same config pointed at a host the certificate does not name.
TEST_P(TlsTest, RivetRunExportsOverTls) {
  SqlClient db(GetParam(), paths_.url);
  ASSERT_TRUE(db.ok()) << db.error();
  ASSERT_EQ(db.Exec("DROP TABLE IF EXISTS rivet_tls_rows"), "");
  ASSERT_EQ(db.Exec("CREATE TABLE rivet_tls_rows (id INT PRIMARY KEY, name VARCHAR(20))"), "");
  ASSERT_EQ(db.Exec("INSERT INTO rivet_tls_rows VALUES (1, 'one'), (2, 'two')"), "");
  // The export reads as the password user (scripts/servers/*.sh), whose password must not leak.
  if (pg()) {
    ASSERT_EQ(db.Exec("GRANT SELECT ON rivet_tls_rows TO rivet_pw"), "");
  }

  const std::string dir = MakeTempDir(std::string("tls-run-") + GetParam().name);
  std::filesystem::create_directories(dir + "/certs");
  WriteFile(dir + "/certs/ca.pem", ReadFile(paths_.ca));
  WriteFile(dir + "/rivet.yaml",
            fmt::format("source:\n  type: {}\n  url_env: RIVET_E2E_URL\n  tls:\n"
                        "    mode: verify-full\n    ca_file: certs/ca.pem\n"
                        "  tuning:\n    max_retries: 2\n    retry_backoff_ms: 10\n"
                        "exports:\n  - name: tls_rows\n"
                        "    query: \"SELECT id, name FROM rivet_tls_rows ORDER BY id\"\n"
                        "    format: csv\n    destination:\n      type: local\n      path: out\n",
                        GetParam().source_type));
  auto rivet = [&](const std::string& url) {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(url) + " " + RIVET_BINARY + " run -c " +
                      ShellQuote(dir + "/rivet.yaml"));
  };
  CommandResult ok = rivet(paths_.pw_url);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  std::vector<std::string> files = ListDir(dir + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(dir + "/out/" + files[0]), "id,name\n1,one\n2,two\n");

  std::string other = paths_.pw_url;
  other.replace(other.find("@127.0.0.1:") + 1, 9, paths_.other_host);
  CommandResult refused = rivet(other);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("does not name the host rivet connects to"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("status:      failed"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("retrying"), std::string::npos) << refused.err;
  EXPECT_EQ(OutputAndStateFiles(refused, dir).find(kPassword), std::string::npos) << refused.err;
  EXPECT_EQ(ListDir(dir + "/out").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, TlsTest, ::testing::Values(kPostgres, kMysql),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace rivet::testing
