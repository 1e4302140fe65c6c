#include "rivet/notify/slack.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace rivet::notify {
namespace {

using nlohmann::json;

RunFacts Facts(std::string status) {
  RunFacts f;
  f.export_name = "orders";
  f.run_id = "orders_20260329T143000.123";
  f.status = std::move(status);
  f.rows = 50000;
  f.duration_ms = 1200;
  return f;
}

// Every mrkdwn text of the message, joined: what a reader of the channel sees.
std::string AllText(const json& message) {
  std::string out = message.at("text").get<std::string>() + "\n";
  for (const json& block : message.at("attachments").at(0).at("blocks")) {
    if (block.contains("text")) out += block["text"]["text"].get<std::string>() + "\n";
    for (const char* list : {"fields", "elements"}) {
      if (!block.contains(list)) continue;
      for (const json& item : block[list]) out += item["text"].get<std::string>() + "\n";
    }
  }
  return out;
}

struct TriggerCase {
  std::vector<std::string> on;
  std::string status;
  bool schema_changed;
  std::vector<std::string> expected;
};

TEST(MatchingTriggers, FollowsStatusAndSchemaFlag) {
  const std::vector<std::string> all = {"failure", "schema_change", "degraded"};
  const std::vector<TriggerCase> cases = {
      {all, "success", false, {}},
      {all, "skipped", false, {}},
      {all, "failed", false, {"failure"}},
      {all, "degraded", false, {"degraded"}},
      {all, "success", true, {"schema_change"}},
      {all, "degraded", true, {"schema_change", "degraded"}},
      {all, "failed", true, {"failure", "schema_change"}},
      {{"failure"}, "degraded", true, {}},
      {{"failure"}, "success", false, {}},
      {{"degraded"}, "success", false, {}},
      {{"degraded"}, "failed", false, {}},
      {{"schema_change"}, "failed", false, {}},
      {{"degraded", "failure"}, "degraded", false, {"degraded"}},
      {{}, "failed", true, {}},
  };
  for (const TriggerCase& c : cases) {
    RunFacts f = Facts(c.status);
    f.schema_changed = c.schema_changed;
    EXPECT_EQ(MatchingTriggers(c.on, f), c.expected)
        << c.status << " schema_changed=" << c.schema_changed;
  }
}

TEST(SlackMessageJson, FailedRunCarriesEveryFact) {
  RunFacts f = Facts("failed");
  f.rows = 0;
  f.error = "syntax error at or near \"FROMM\" <x> & y";
  json m = json::parse(SlackMessageJson(f, {"failure"}));
  EXPECT_EQ(m["text"], "Rivet export orders: failed [failure]");
  ASSERT_EQ(m["attachments"].size(), 1u);
  EXPECT_EQ(m["attachments"][0]["color"], "#d00000");
  const json& blocks = m["attachments"][0]["blocks"];
  EXPECT_EQ(blocks[0]["type"], "section");
  EXPECT_EQ(blocks[0]["text"]["text"], "Rivet export *orders*: failed");
  const json& fields = blocks[1]["fields"];
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0]["text"], "*Export*\norders");
  EXPECT_EQ(fields[1]["text"], "*Run ID*\norders_20260329T143000.123");
  EXPECT_EQ(fields[2]["text"], "*Status*\nfailed");
  EXPECT_EQ(fields[3]["text"], "*Rows*\n0");
  EXPECT_EQ(fields[4]["text"], "*Duration*\n1.2s");
  EXPECT_EQ(fields[5]["text"], "*Schema*\nunchanged");
  // The error, with Slack's three control characters escaped.
  EXPECT_EQ(blocks[2]["text"]["text"],
            "*Error*\n```syntax error at or near \"FROMM\" &lt;x&gt; &amp; y```");
  EXPECT_EQ(blocks.back()["type"], "context");
  EXPECT_EQ(blocks.back()["elements"][0]["text"], "triggers: failure");
}

TEST(SlackMessageJson, SchemaChangeIsFlagged) {
  RunFacts f = Facts("success");
  f.schema_changed = true;
  json m = json::parse(SlackMessageJson(f, {"schema_change"}));
  EXPECT_EQ(m["text"], "Rivet export orders: success (schema changed) [schema_change]");
  EXPECT_EQ(m["attachments"][0]["color"], "#e8a317");
  EXPECT_NE(AllText(m).find("*Schema*\nCHANGED"), std::string::npos) << AllText(m);
  EXPECT_EQ(AllText(m).find("*Error*"), std::string::npos);
}

TEST(SlackMessageJson, DegradedSaysWhy) {
  RunFacts f = Facts("degraded");
  f.retries = 2;
  f.consistency = "per-chunk";
  json m = json::parse(SlackMessageJson(f, {"degraded"}));
  EXPECT_EQ(m["attachments"][0]["color"], "#e8a317");
  EXPECT_NE(AllText(m).find("*Degraded*: 2 retries; chunks read per-chunk, not one snapshot"),
            std::string::npos)
      << AllText(m);
  EXPECT_NE(AllText(m).find("*Status*\ndegraded"), std::string::npos);
}

TEST(SlackMessageJson, OneRetryIsSingular) {
  RunFacts f = Facts("degraded");
  f.retries = 1;
  json m = json::parse(SlackMessageJson(f, {"degraded"}));
  EXPECT_NE(AllText(m).find("*Degraded*: 1 retry\n"), std::string::npos) << AllText(m);
}

TEST(SlackMessageJson, LongAndInvalidErrorsStayValidJson) {
  RunFacts f = Facts("failed");
  f.error = std::string(5000, 'e') + "\xff\xfe";
  json m = json::parse(SlackMessageJson(f, {"failure"}));
  const std::string error = m["attachments"][0]["blocks"][2]["text"]["text"];
  EXPECT_LT(error.size(), 2100u);
  EXPECT_NE(error.find("..."), std::string::npos);
}

TEST(SlackMessageJson, ExportNameIsEscaped) {
  RunFacts f = Facts("failed");
  f.export_name = "a<b>";
  json m = json::parse(SlackMessageJson(f, {"failure"}));
  EXPECT_EQ(m["attachments"][0]["blocks"][0]["text"]["text"], "Rivet export *a&lt;b&gt;*: failed");
}

TEST(PostSlackMessage, RefusedConnectionNamesNoUrl) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const std::string url = "http://127.0.0.1:1/services/T000/B000/secretpath";
  SendOptions options;
  options.total_timeout_ms = 1000;
  options.backoff = std::chrono::milliseconds(1);
  Status s = PostSlackMessage(url, "{}", options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("secretpath"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("127.0.0.1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("no response"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace rivet::notify
