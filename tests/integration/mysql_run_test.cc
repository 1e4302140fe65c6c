// End to end: a real MariaDB, the rivet binary, and what a user sees when things go wrong: a
// wrong password, a missing table, a TIME outside a day, a tinyint(1) that is not a boolean; and
// the password never leaving the process, whichever way the configuration gives it.
#include <gtest/gtest.h>

#include <string>

#include "support/mysql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

constexpr const char* kPassword = "s3cret-pw";  // scripts/servers/mariadb.sh: rivet_pw's password

constexpr const char* kSetup = R"sql(
DROP TABLE IF EXISTS rivet_e2e_durations;
CREATE TABLE rivet_e2e_durations (id INT PRIMARY KEY, took TIME(6));
INSERT INTO rivet_e2e_durations VALUES
  (1, '10:00:00'), (2, '23:59:59.999999'), (3, '24:00:00'), (4, '838:59:59'), (5, '-00:00:01');
DROP TABLE IF EXISTS rivet_e2e_flags;
CREATE TABLE rivet_e2e_flags (id INT PRIMARY KEY, is_active TINYINT(1));
INSERT INTO rivet_e2e_flags VALUES (1, 1), (2, 0), (3, NULL), (4, 2);
DROP TABLE IF EXISTS rivet_e2e_people;
CREATE TABLE rivet_e2e_people (id INT PRIMARY KEY, name VARCHAR(50)) CHARACTER SET utf8mb4;
INSERT INTO rivet_e2e_people VALUES (1, 'Zoë'), (2, '佐藤 😀');
DROP TABLE IF EXISTS rivet_e2e_text_keys;
CREATE TABLE rivet_e2e_text_keys (k VARCHAR(10), v INT);
INSERT INTO rivet_e2e_text_keys VALUES ('1', 1), ('9', 2), ('10', 3);
)sql";

class MysqlRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = EnvVar("RIVET_TEST_MYSQL_URL");
    if (!url) {
      if (InCi()) FAIL() << "RIVET_TEST_MYSQL_URL is not set: the test MariaDB is missing";
      GTEST_SKIP()
          << "RIVET_TEST_MYSQL_URL is not set: start the test servers with scripts/test.sh";
    }
    url_ = *url;
    MysqlClient my(url_);
    ASSERT_TRUE(my.ok()) << my.error();
    ASSERT_EQ(my.Exec(kSetup), "");
    dir_ = MakeTempDir("mysql-run");
  }

  // Writes rivet.yaml in the test's folder with `exports` appended to a MySQL source reading
  // the URL from RIVET_E2E_URL. Retries are on (max_retries: 2, short backoff), so a test can
  // tell an error that is retried from one that is not.
  std::string WriteConfig(const std::string& exports) {
    std::string path = dir_ + "/rivet.yaml";
    WriteFile(path,
              "source:\n  type: mysql\n  url_env: RIVET_E2E_URL\n"
              "  tuning:\n    max_retries: 2\n    retry_backoff_ms: 10\nexports:\n" +
                  exports);
    return path;
  }

  CommandResult Rivet(const std::string& args, const std::string& url = "") {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(url.empty() ? url_ : url) + " " + RIVET_BINARY +
                      " " + args);
  }

  // One CSV export named `name` of `query` into out/.
  static std::string CsvExport(const std::string& name, const std::string& query) {
    return "  - name: " + name + "\n    query: \"" + query +
           "\"\n    format: csv\n    destination:\n      type: local\n      path: out\n";
  }

  std::string PwUrl() {
    auto pw_url = EnvVar("RIVET_TEST_MYSQL_PW_URL");
    EXPECT_TRUE(pw_url.has_value()) << "scripts/servers/mariadb.sh writes RIVET_TEST_MYSQL_PW_URL";
    if (!pw_url) return "";
    EXPECT_NE(pw_url->find(kPassword), std::string::npos) << *pw_url;
    return *pw_url;
  }

  static std::string WithPassword(std::string url, const std::string& password) {
    size_t at = url.find(kPassword);
    if (at != std::string::npos) url.replace(at, std::string(kPassword).size(), password);
    return url;
  }

  std::string url_;
  std::string dir_;
};

TEST_F(MysqlRunTest, AWrongPasswordIsAClearAuthFailureAndNotRetried) {
  std::string pw_url = PwUrl();
  ASSERT_FALSE(pw_url.empty());
  std::string config = WriteConfig(CsvExport("people", "SELECT * FROM rivet_e2e_people"));
  CommandResult r = Rivet("run -c " + config, WithPassword(pw_url, "wr0ng-pw"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Access denied for user 'rivet_pw'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("status:      failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("retrying"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(OutputAndStateFiles(r, dir_).find("wr0ng-pw"), std::string::npos) << r.err;
  EXPECT_TRUE(ListDir(dir_ + "/out").empty());

  // The right password through the same URL works: the failure above was the password alone.
  CommandResult good = Rivet("run -c " + config, pw_url);
  ASSERT_EQ(good.exit_code, 0) << good.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(dir_ + "/out/" + files[0]), "id,name\n1,Zoë\n2,佐藤 😀\n");
}

TEST_F(MysqlRunTest, AMissingTableIsAClearQueryErrorAndNotRetried) {
  std::string config = WriteConfig(CsvExport("broken", "SELECT * FROM no_such_table_here") +
                                   CsvExport("fine", "SELECT id FROM rivet_e2e_people"));
  CommandResult r = Rivet("run -c " + config);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Table 'rivet_test.no_such_table_here' doesn't exist"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("retrying"), std::string::npos) << r.err;
  // The failed export does not stop the next one.
  EXPECT_NE(r.err.find("── fine ──\n  run_id:      fine_"), std::string::npos) << r.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("fine_", 0), 0u) << files[0];
}

// The contrast that gives the "not retried" checks their meaning: a refused connection is a
// network error, retried max_retries times with a warning each time.
TEST_F(MysqlRunTest, AnUnreachableServerIsRetried) {
  std::string config = WriteConfig(CsvExport("people", "SELECT * FROM rivet_e2e_people"));
  CommandResult r = Rivet("run -c " + config, "mysql://root@127.0.0.1:1/rivet_test");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("attempt 1 failed (network)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("attempt 2 failed (network)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("attempt 3 failed"), std::string::npos) << r.err;
}

TEST_F(MysqlRunTest, ATimeOutsideADayFailsNamingTheColumn) {
  // Within a day, the last microsecond included, exports as a time of day.
  std::string ok_config = WriteConfig(CsvExport(
      "in_day", "SELECT took AS duration_col FROM rivet_e2e_durations WHERE id <= 2 ORDER BY id"));
  CommandResult ok = Rivet("run -c " + ok_config);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(dir_ + "/out/" + files[0]),
            "duration_col\n10:00:00.000000\n23:59:59.999999\n");

  for (const auto& [id, value] :
       {std::pair<int, const char*>{3, "24:00:00"}, {4, "838:59:59"}, {5, "-00:00:01"}}) {
    for (const char* format : {"csv", "parquet"}) {
      SCOPED_TRACE(std::string(value) + " to " + format);
      std::string config = WriteConfig(
          "  - name: durations\n    query: \"SELECT id, took AS duration_col FROM "
          "rivet_e2e_durations WHERE id IN (1, " +
          std::to_string(id) + ") ORDER BY id\"\n" + "    format: " + format +
          "\n    destination:\n      type: local\n      path: bad\n");
      CommandResult r = Rivet("run -c " + config);
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("column 'duration_col' (row 2)"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(value), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("retrying"), std::string::npos) << r.err;
      EXPECT_TRUE(ListDir(dir_ + "/bad").empty());  // no partial file left behind
    }
  }
}

TEST_F(MysqlRunTest, ATinyintOneHoldingTwoFailsNamingTheColumn) {
  std::string ok_config = WriteConfig(
      CsvExport("flags", "SELECT id, is_active FROM rivet_e2e_flags WHERE id < 4 ORDER BY id"));
  CommandResult ok = Rivet("run -c " + ok_config);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(dir_ + "/out/" + files[0]), "id,is_active\n1,true\n2,false\n3,\n");

  for (const char* format : {"csv", "parquet"}) {
    SCOPED_TRACE(format);
    std::string config = WriteConfig(
        "  - name: flags\n    query: \"SELECT id, is_active FROM rivet_e2e_flags ORDER BY id\"\n"
        "    format: " +
        std::string(format) + "\n    destination:\n      type: local\n      path: bad\n");
    CommandResult r = Rivet("run -c " + config);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("column 'is_active' (row 4)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("value 2"), std::string::npos) << r.err;
    EXPECT_TRUE(ListDir(dir_ + "/bad").empty());
  }
}

// Only the full zero date has a documented meaning (NULL); a zero month or day is no date at all.
TEST_F(MysqlRunTest, ZeroDatesAreNullAndPartialZeroDatesFailNamingTheColumn) {
  MysqlClient my(url_);
  ASSERT_EQ(my.Exec("SET SESSION sql_mode = ''; DROP TABLE IF EXISTS rivet_e2e_zero_dates;"
                    "CREATE TABLE rivet_e2e_zero_dates (id INT PRIMARY KEY, d DATE, dt DATETIME);"
                    "INSERT INTO rivet_e2e_zero_dates VALUES (1, '0000-00-00', "
                    "'0000-00-00 00:00:00'), (2, '2024-00-00', NULL), (3, NULL, "
                    "'2024-02-00 10:00:00')"),
            "");
  std::string ok_config =
      WriteConfig(CsvExport("zero", "SELECT id, d, dt FROM rivet_e2e_zero_dates WHERE id = 1"));
  CommandResult ok = Rivet("run -c " + ok_config);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadFile(dir_ + "/out/" + files[0]), "id,d,dt\n1,,\n");

  for (const auto& [column, value] :
       {std::pair<std::string, std::string>{"d", "2024-00-00"}, {"dt", "2024-02-00 10:00:00"}}) {
    SCOPED_TRACE(column);
    std::string config = WriteConfig(CsvExport("partial", "SELECT id, " + column +
                                                              " FROM rivet_e2e_zero_dates WHERE " +
                                                              column + " IS NOT NULL AND id > 1"));
    CommandResult r = Rivet("run -c " + config);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("column '" + column + "' (row 1)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(value), std::string::npos) << r.err;
  }
}

TEST_F(MysqlRunTest, PasswordsNeverLeak) {
  std::string pw_url = PwUrl();
  ASSERT_FALSE(pw_url.empty());
  const std::string exports = CsvExport("good", "SELECT id, name FROM rivet_e2e_people") +
                              CsvExport("bad_query", "SELECT * FROM no_such_table");

  // 1. URL from the environment, with a good and a failing export.
  std::string config = WriteConfig(exports);
  CommandResult env_run = Rivet("run -c " + config, pw_url);
  EXPECT_EQ(env_run.exit_code, 1) << env_run.err;
  EXPECT_NE(env_run.err.find("── good ──\n  run_id:      good_"), std::string::npos) << env_run.err;
  EXPECT_NE(env_run.err.find("no_such_table"), std::string::npos) << env_run.err;
  EXPECT_EQ(OutputAndStateFiles(env_run, dir_).find(kPassword), std::string::npos) << env_run.err;

  // 2. URL written in the config file (warned about), then the state commands.
  std::string in_file = dir_ + "/in_file.yaml";
  WriteFile(in_file, "source:\n  type: mysql\n  url: \"" + pw_url + "\"\nexports:\n" + exports);
  CommandResult file_run = Rivet("run -c " + in_file + " --validate");
  EXPECT_EQ(file_run.exit_code, 1) << file_run.err;
  EXPECT_NE(file_run.err.find("── good ──"), std::string::npos) << file_run.err;
  CommandResult metrics = Rivet("metrics -c " + in_file);
  EXPECT_EQ(metrics.exit_code, 0) << metrics.err;
  CommandResult state = Rivet("state files -c " + in_file);
  EXPECT_EQ(state.exit_code, 0) << state.err;
  for (const CommandResult* r : {&file_run, &metrics, &state}) {
    EXPECT_EQ(OutputAndStateFiles(*r, dir_).find(kPassword), std::string::npos) << r->out << r->err;
  }

  // 3. Structured fields with password_env: the right password, then a wrong one.
  std::string structured = dir_ + "/structured.yaml";
  std::string port = EnvVar("RIVET_TEST_MYSQL_PORT").value_or("3306");
  WriteFile(structured, "source:\n  type: mysql\n  host: 127.0.0.1\n  port: " + port +
                            "\n  user: rivet_pw\n  database: rivet_test\n"
                            "  password_env: RIVET_E2E_PW\nexports:\n" +
                            exports);
  CommandResult right = RunCommand("RIVET_E2E_PW=" + std::string(kPassword) + " " + RIVET_BINARY +
                                   " run -c " + structured + " -e good");
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_EQ(OutputAndStateFiles(right, dir_).find(kPassword), std::string::npos) << right.err;
  CommandResult wrong = RunCommand("RIVET_E2E_PW=wr0ng-pw " + std::string(RIVET_BINARY) +
                                   " run -c " + structured + " -e good");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  EXPECT_NE(wrong.err.find("Access denied"), std::string::npos) << wrong.err;
  EXPECT_EQ(OutputAndStateFiles(wrong, dir_).find("wr0ng-pw"), std::string::npos) << wrong.err;
  EXPECT_EQ(OutputAndStateFiles(wrong, dir_).find(kPassword), std::string::npos) << wrong.err;
}

// MIN/MAX of a text column of digits parses as numbers ('1'..'9'), while '10' sorts inside that
// range as text and outside it as a number: chunking it would lose a row, so it is refused.
TEST_F(MysqlRunTest, ATextChunkColumnOfDigitsIsRefusedBeforeAnyFile) {
  std::string config = WriteConfig(
      "  - name: keys\n    query: SELECT * FROM rivet_e2e_text_keys\n    mode: chunked\n"
      "    chunk_column: k\n    chunk_size: 5\n    parallel: 2\n    format: csv\n"
      "    destination: {type: local, path: out}\n");
  CommandResult r = Rivet("run -c " + config);
  EXPECT_EQ(r.exit_code, 2) << r.err;  // a config error
  EXPECT_NE(r.err.find("chunk_column 'k' has type string; chunking needs an integer column"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(ListDir(dir_ + "/out").empty());
}

}  // namespace
}  // namespace rivet::testing
