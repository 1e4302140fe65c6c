// Slack notifications end to end (guide §19, issue 12 part 3): the rivet binary against a real
// PostgreSQL and a webhook listener this test runs in-process on 127.0.0.1. Checks the JSON
// each trigger sends, that nothing is sent when no trigger matches, that a webhook answering
// 500 or never answering changes neither the export's result nor its exit code (and the run
// still ends promptly), that a run needing a retry is `degraded`, and that the webhook URL
// appears in no output and not in the state DB.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/pg_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

// The secret part of the webhook: it must reach the listener and nothing else.
constexpr const char* kSecretPath = "/services/T0SLACKTEST/B0SLACKTEST/s3cr3t-w3bh00k-t0k3n";

// A listening socket on 127.0.0.1 with an ephemeral port.
int ListenLoopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// Waits up to `ms` for `fd` to become readable.
bool Readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

// A webhook: accepts connections one at a time, reads one HTTP request (headers and a
// Content-Length body) and answers 200, 500, or never (holding the connection until it stops).
// Every wait is bounded: 100 ms polls until stopped, at most 5 s to read a request.
class WebhookListener {
 public:
  enum class Answer { kOk, kServerError, kHang };
  struct Request {
    std::string method;
    std::string path;
    std::string content_type;
    std::string body;
  };

  explicit WebhookListener(Answer answer) : answer_(answer) {
    fd_ = ListenLoopback(port_);
    if (fd_ >= 0) thread_ = std::thread([this] { Loop(); });
  }
  ~WebhookListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int held : held_) ::close(held);
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + kSecretPath; }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      if (!Readable(fd_, 100)) continue;
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      Request request;
      bool complete = ReadRequest(conn, request);
      if (complete) {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
      }
      if (answer_ == Answer::kHang) {
        held_.push_back(conn);  // never answered; closed when the listener stops
        continue;
      }
      const std::string reply = answer_ == Answer::kOk
                                    ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                      "Connection: close\r\n\r\nok"
                                    : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                                      "5\r\nConnection: close\r\n\r\nerror";
      (void)!::write(conn, reply.data(), reply.size());
      ::close(conn);
    }
  }

  static bool ReadRequest(int conn, Request& out) {
    std::string data;
    const auto deadline = steady_clock::now() + std::chrono::seconds(5);
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    char buf[4096];
    while (steady_clock::now() < deadline) {
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      if (!Readable(conn, 100)) continue;
      ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::smatch m;
          const std::string head = data.substr(0, header_end);
          if (std::regex_search(head, m, std::regex("content-length: *(\\d+)", std::regex::icase)))
            content_length = std::stoul(m[1]);
          if (std::regex_search(head, m,
                                std::regex("content-type: *([^\r\n]+)", std::regex::icase)))
            out.content_type = m[1];
          std::istringstream line(head);
          line >> out.method >> out.path;
        }
      }
    }
    if (header_end == std::string::npos) return false;
    out.body = data.substr(header_end + 4);
    return true;
  }

  Answer answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> held_;
  std::mutex mu_;
  std::vector<Request> requests_;
};

// A TCP proxy in front of PostgreSQL that closes the first connection at once and forwards
// every later one: the run's first connection attempt fails with a network error and is
// retried, so the run is delivered but not cleanly (degraded). Bounded: 100 ms polls.
class FlakyProxy {
 public:
  explicit FlakyProxy(int target_port) : target_port_(target_port) {
    fd_ = ListenLoopback(port_);
    if (fd_ >= 0) thread_ = std::thread([this] { Loop(); });
  }
  ~FlakyProxy() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (std::thread& t : pipes_) t.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }

 private:
  void Loop() {
    int accepted = 0;
    while (!stop_) {
      if (!Readable(fd_, 100)) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      if (accepted++ == 0) {
        ::close(client);
        continue;
      }
      pipes_.emplace_back([this, client] { Pipe(client); });
    }
  }

  void Pipe(int client) {
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (server >= 0 && ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      char buf[65536];
      bool open = true;
      while (open && !stop_) {
        pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        if (::poll(p, 2, 100) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          ssize_t n = ::read(p[i].fd, buf, sizeof buf);
          if (n <= 0) {
            open = false;
            break;
          }
          const int to = i == 0 ? server : client;
          for (ssize_t off = 0; off < n && open;) {
            ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
            if (w <= 0) open = false;
            off += w;
          }
        }
      }
    }
    if (server >= 0) ::close(server);
    ::close(client);
  }

  int target_port_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> pipes_;
};

class SlackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    url_ = url;
    PgClient pg(url_);
    ASSERT_TRUE(pg.ok()) << pg.error();
    dir_ = MakeTempDir("slack");
  }

  // rivet.yaml with one export `events` running `query`, notifying on `on`.
  void WriteConfig(const std::string& query, const std::string& on) {
    WriteFile(dir_ + "/rivet.yaml",
              "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
              "  tuning: {max_retries: 0}\n"
              "notifications:\n  slack:\n    webhook_url_env: RIVET_TEST_SLACK_HOOK\n"
              "    on: [" +
                  on + "]\nexports:\n  - name: events\n    query: \"" + query +
                  "\"\n    format: csv\n    destination: {type: local, path: out}\n");
  }

  // At debug level, so the secrecy checks cover every log line rivet can write.
  CommandResult Rivet(const std::string& hook, const std::string& source_url = "") {
    return RunCommand("RIVET_E2E_URL=" + ShellQuote(source_url.empty() ? url_ : source_url) +
                      " RIVET_TEST_SLACK_HOOK=" + ShellQuote(hook) + " RIVET_LOG=debug " +
                      RIVET_BINARY + " run --config " + ShellQuote(dir_ + "/rivet.yaml"));
  }

  // The webhook must reach the listener and never any output or the state DB.
  void ExpectNoSecret(const CommandResult& r, const std::string& hook) {
    const std::string all = OutputAndStateFiles(r, dir_);
    EXPECT_EQ(all.find("s3cr3t-w3bh00k-t0k3n"), std::string::npos) << r.err;
    EXPECT_EQ(all.find(hook), std::string::npos) << r.err;
    EXPECT_EQ(all.find("T0SLACKTEST"), std::string::npos) << r.err;
  }

  static std::string RunId(const std::string& err) {
    std::smatch m;
    return std::regex_search(err, m, std::regex("run_id: +(\\S+)")) ? std::string(m[1]) : "";
  }

  // Every text a channel reader sees in one message.
  static std::string Texts(const json& message) {
    std::string out = message.value("text", "") + "\n";
    for (const json& block : message.at("attachments").at(0).at("blocks")) {
      if (block.contains("text")) out += block["text"].value("text", "") + "\n";
      for (const char* list : {"fields", "elements"}) {
        if (!block.contains(list)) continue;
        for (const json& item : block[list]) out += item.value("text", "") + "\n";
      }
    }
    return out;
  }

  std::string url_;
  std::string dir_;
};

TEST_F(SlackTest, FailureSendsOneMessageWithTheFactsAndKeepsTheExitCode) {
  WebhookListener hook(WebhookListener::Answer::kOk);
  ASSERT_TRUE(hook.ok());
  WriteConfig("SELECT * FROM rivet_slack_no_such_table", "failure, schema_change, degraded");
  CommandResult r = Rivet(hook.url());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("status:      failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Slack notification failed"), std::string::npos) << r.err;

  std::vector<WebhookListener::Request> got = hook.requests();
  ASSERT_EQ(got.size(), 1u) << r.err;
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, kSecretPath);
  EXPECT_NE(got[0].content_type.find("application/json"), std::string::npos);
  json m = json::parse(got[0].body);
  EXPECT_EQ(m["text"], "Rivet export events: failed [failure]");
  EXPECT_EQ(m["attachments"][0]["color"], "#d00000");
  const std::string texts = Texts(m);
  EXPECT_NE(texts.find("*Export*\nevents"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Run ID*\n" + RunId(r.err)), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Status*\nfailed"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Rows*\n0"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Schema*\nunchanged"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Duration*\n"), std::string::npos) << texts;
  EXPECT_NE(texts.find("rivet_slack_no_such_table"), std::string::npos) << texts;
  EXPECT_NE(texts.find("triggers: failure"), std::string::npos) << texts;
  ExpectNoSecret(r, hook.url());

  // The same failure without notifications exits with the same code.
  WebhookListener unused(WebhookListener::Answer::kOk);
  WriteFile(dir_ + "/rivet.yaml",
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n  tuning: {max_retries: 0}\n"
            "exports:\n  - name: events\n    query: SELECT * FROM rivet_slack_no_such_table\n"
            "    format: csv\n    destination: {type: local, path: out}\n");
  EXPECT_EQ(Rivet(unused.url()).exit_code, r.exit_code);
  EXPECT_TRUE(unused.requests().empty());
}

TEST_F(SlackTest, SchemaChangeFiresOnlyWhenTheColumnsChange) {
  WebhookListener hook(WebhookListener::Answer::kOk);
  ASSERT_TRUE(hook.ok());
  WriteConfig("SELECT 1 AS id, 'a'::text AS name", "schema_change");
  CommandResult first = Rivet(hook.url());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(hook.requests().empty()) << "the first run has nothing to compare with";
  CommandResult same = Rivet(hook.url());
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_TRUE(hook.requests().empty()) << "unchanged schema";

  WriteConfig("SELECT 1 AS id, 'a'::text AS name, 2.5::float8 AS score", "schema_change");
  CommandResult changed = Rivet(hook.url());
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_NE(changed.err.find("schema:      CHANGED"), std::string::npos) << changed.err;
  std::vector<WebhookListener::Request> got = hook.requests();
  ASSERT_EQ(got.size(), 1u) << changed.err;
  json m = json::parse(got[0].body);
  EXPECT_EQ(m["text"], "Rivet export events: success (schema changed) [schema_change]");
  const std::string texts = Texts(m);
  EXPECT_NE(texts.find("*Schema*\nCHANGED"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Status*\nsuccess"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Rows*\n1"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Run ID*\n" + RunId(changed.err)), std::string::npos) << texts;
  EXPECT_EQ(texts.find("*Error*"), std::string::npos) << texts;
  ExpectNoSecret(changed, hook.url());
}

TEST_F(SlackTest, NothingIsSentWhenNoTriggerMatches) {
  WebhookListener hook(WebhookListener::Answer::kOk);
  ASSERT_TRUE(hook.ok());
  // A clean success against failure and degraded; then a failure against schema_change only.
  WriteConfig("SELECT generate_series(1, 10) AS id", "failure, degraded");
  CommandResult ok = Rivet(hook.url());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("status:      success"), std::string::npos) << ok.err;
  WriteConfig("SELECT * FROM rivet_slack_no_such_table", "schema_change");
  CommandResult failed = Rivet(hook.url());
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_TRUE(hook.requests().empty());
  ExpectNoSecret(ok, hook.url());
  ExpectNoSecret(failed, hook.url());
}

TEST_F(SlackTest, DegradedRunIsASuccessThatNotifies) {
  WebhookListener hook(WebhookListener::Answer::kOk);
  ASSERT_TRUE(hook.ok());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(url_, m, std::regex(":(\\d+)/"))) << url_;
  FlakyProxy proxy(std::stoi(m[1]));
  ASSERT_TRUE(proxy.ok());
  const std::string via_proxy =
      std::regex_replace(url_, std::regex(":\\d+/"), ":" + std::to_string(proxy.port()) + "/",
                         std::regex_constants::format_first_only);
  WriteFile(dir_ + "/rivet.yaml",
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n"
            "  tuning: {max_retries: 2, retry_backoff_ms: 10}\n"
            "notifications:\n  slack:\n    webhook_url_env: RIVET_TEST_SLACK_HOOK\n"
            "    on: [degraded]\nexports:\n  - name: events\n"
            "    query: SELECT generate_series(1, 25) AS id\n"
            "    format: csv\n    destination: {type: local, path: out}\n");
  CommandResult r = Rivet(hook.url(), via_proxy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("status:      degraded"), std::string::npos) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("retries: +1\n"))) << r.err;
  std::vector<WebhookListener::Request> got = hook.requests();
  ASSERT_EQ(got.size(), 1u) << r.err;
  json message = json::parse(got[0].body);
  EXPECT_EQ(message["text"], "Rivet export events: degraded [degraded]");
  const std::string texts = Texts(message);
  EXPECT_NE(texts.find("*Rows*\n25"), std::string::npos) << texts;
  EXPECT_NE(texts.find("*Degraded*: 1 retry\n"), std::string::npos) << texts;

  // Metrics and the state DB's run record say degraded too.
  CommandResult metrics = RunCommand(std::string(RIVET_BINARY) + " metrics --config " +
                                     ShellQuote(dir_ + "/rivet.yaml"));
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_TRUE(std::regex_search(metrics.out, std::regex("events +degraded +25 "))) << metrics.out;
  ExpectNoSecret(r, hook.url());
}

TEST_F(SlackTest, AWebhookAnswering500IsAWarningOnly) {
  WebhookListener hook(WebhookListener::Answer::kServerError);
  ASSERT_TRUE(hook.ok());
  WriteConfig("SELECT generate_series(1, 10) AS id", "schema_change");
  ASSERT_EQ(Rivet(hook.url()).exit_code, 0);
  WriteConfig("SELECT generate_series(1, 10) AS id, 'x'::text AS extra", "schema_change");
  CommandResult r = Rivet(hook.url());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("status:      success"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Slack notification failed: HTTP 500"), std::string::npos) << r.err;
  EXPECT_EQ(hook.requests().size(), 2u) << "one try and one retry";
  EXPECT_EQ(ListDir(dir_ + "/out").size(), 2u);
  ExpectNoSecret(r, hook.url());
}

TEST_F(SlackTest, AHangingWebhookDoesNotHoldTheRun) {
  WebhookListener hook(WebhookListener::Answer::kHang);
  ASSERT_TRUE(hook.ok());
  WriteConfig("SELECT * FROM rivet_slack_no_such_table", "failure");
  const auto start = steady_clock::now();
  CommandResult r = Rivet(hook.url());
  const auto took = steady_clock::now() - start;
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("status:      failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Slack notification failed: timeout"), std::string::npos) << r.err;
  // Two tries of 5 s and a short pause; far below what a hung webhook would take.
  EXPECT_LT(took, std::chrono::seconds(15));
  EXPECT_EQ(hook.requests().size(), 2u);
  ExpectNoSecret(r, hook.url());

  // The same failure without a webhook: the exit code is the export's, not the notification's.
  WriteFile(dir_ + "/rivet.yaml",
            "source:\n  type: postgres\n  url_env: RIVET_E2E_URL\n  tuning: {max_retries: 0}\n"
            "exports:\n  - name: events\n    query: SELECT * FROM rivet_slack_no_such_table\n"
            "    format: csv\n    destination: {type: local, path: out}\n");
  EXPECT_EQ(Rivet(hook.url()).exit_code, r.exit_code);
}

}  // namespace
}  // namespace rivet::testing
