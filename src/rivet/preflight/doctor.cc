#include "rivet/preflight/doctor.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "rivet/pipeline/unit_runner.h"
#include "rivet/preflight/session.h"

namespace rivet::preflight {
namespace {

using config::DestinationType;

std::string_view EngineName(config::SourceType t) {
  return t == config::SourceType::kPostgres ? "Postgres" : "MySQL";
}

std::string SourceFix(ErrorCode code) {
  switch (code) {
    case ErrorCode::kAuth:
      return "check the user and password (url_env / password_env) and that the server lets "
             "this user connect from this host (pg_hba.conf, GRANT)";
    case ErrorCode::kNetwork:
      return "check host and port, and that the server runs and accepts connections from this "
             "machine (listen address, firewall)";
    case ErrorCode::kCapacity:
      return "the server has no free connection slot; retry later or raise max_connections";
    case ErrorCode::kTimeout:
      return "the server did not answer in time; check its load and statement_timeout_s";
    case ErrorCode::kConfig:
      return "fix the source section of the config";
    default:
      return "see the server's message above";
  }
}

std::string QueryFix(ErrorCode code) {
  if (code == ErrorCode::kAuth) {
    return "grant SELECT on the tables this query reads to the export's database user";
  }
  if (code == ErrorCode::kQuery) {
    return "fix the query (syntax, table and column names); `rivet check` shows its plan";
  }
  return SourceFix(code);
}

std::string DestinationFix(DestinationType type, ErrorCode code) {
  if (type == DestinationType::kLocal) {
    return "check that the folder exists or can be created, and is writable by this user";
  }
  if (code == ErrorCode::kConfig) {
    return type == DestinationType::kS3 ? "check the bucket name, region and endpoint"
                                        : "check the bucket name and endpoint";
  }
  if (code == ErrorCode::kNetwork || code == ErrorCode::kTimeout) {
    return "check the endpoint and that this machine can reach it";
  }
  if (type == DestinationType::kS3) {
    return "check access_key_env / secret_key_env (or the AWS credential chain) and that the "
           "identity may s3:PutObject, s3:GetObject and s3:DeleteObject under the prefix";
  }
  return "check credentials_file / GOOGLE_APPLICATION_CREDENTIALS (or run `gcloud auth "
         "application-default login`) and that the identity may create, read and delete "
         "objects in the bucket";
}

DoctorCheck Failed(std::string kind, std::string subject, std::string line, std::string fix,
                   ErrorCode code) {
  return {Outcome::kFail,  std::move(kind), std::move(subject),
          std::move(line), std::move(fix),  code};
}

// Connects, opens a read-only transaction and EXPLAINs every export's query.
void CheckSource(const config::Config& config, const pipeline::Factories& factories,
                 std::vector<DoctorCheck>& out) {
  const std::string engine(EngineName(config.source.type));
  const bool postgres = config.source.type == config::SourceType::kPostgres;
  const config::Tuning tuning = config::MergeTuning(config.source.tuning, {});
  auto src = factories.make_source(config.source, pipeline::ReadOptionsFor(tuning));
  Status status = src.has_value() ? (*src)->Connect() : src.error();
  if (!status.ok()) {
    out.push_back(Failed("source", engine, "Source auth error: " + status.message(),
                         SourceFix(status.code()), status.code()));
    return;
  }
  source::Source& s = **src;
  std::string verified = s.ServerDescription();
  status = s.InReadOnlyTransaction([] { return Status::Ok(); });
  if (!status.ok()) {
    out.push_back(
        Failed("source", engine,
               "Source auth error: a read-only transaction was refused: " + status.message(),
               SourceFix(status.code()), status.code()));
    return;
  }
  verified += "; read-only transaction allowed";
  std::vector<DoctorCheck> queries;
  for (const config::ExportConfig& e : config.exports) {
    const Status explained =
        s.InReadOnlyTransaction([&] { return Explain(s, postgres, e.query).status(); });
    if (!explained.ok()) {
      queries.push_back(
          Failed("query", e.name,
                 fmt::format("Source query of export '{}' -- {}", e.name, explained.message()),
                 QueryFix(explained.code()), explained.code()));
    }
  }
  const size_t readable = config.exports.size() - queries.size();
  verified +=
      fmt::format("; SELECT allowed for {} of {} export queries", readable, config.exports.size());
  const std::string tls = s.TlsDescription();
  verified += tls.empty() ? "; not encrypted" : "; TLS " + tls;
  out.push_back({Outcome::kOk, "source", engine,
                 fmt::format("Source auth ({}) -- {}", engine, verified), "", ErrorCode::kOk});
  if (tls.empty()) {
    out.push_back({Outcome::kWarn, "tls", engine, "Source connection is not encrypted (TLS off)",
                   "set source.tls.mode: verify-full with ca_file (or require) so that "
                   "passwords and data do not cross the network in clear text",
                   ErrorCode::kOk});
  }
  for (DoctorCheck& q : queries) out.push_back(std::move(q));
}

// The destination's identity: exports sharing it are probed once.
auto DestinationKey(const config::DestinationConfig& d) {
  return std::make_tuple(d.type, d.path, d.bucket, d.prefix, d.region, d.endpoint,
                         d.credentials_file, d.allow_anonymous,
                         d.access_key ? d.access_key->reveal() : std::string(),
                         d.secret_key ? d.secret_key->reveal() : std::string());
}

void CheckDestinations(const config::Config& config, const pipeline::Factories& factories,
                       std::vector<DoctorCheck>& out) {
  std::set<decltype(DestinationKey(config::DestinationConfig{}))> seen;
  for (const config::ExportConfig& e : config.exports) {
    const config::DestinationConfig& d = e.destination;
    if (!seen.insert(DestinationKey(d)).second) continue;
    if (d.type == DestinationType::kStdout) {
      out.push_back({Outcome::kSkip, "destination", "Stdout",
                     "Destination Stdout (skipped: nothing to verify)", "", ErrorCode::kOk});
      continue;
    }
    auto dest = factories.make_destination(d, config.directory);
    const std::string label =
        dest.has_value() ? (*dest)->Describe()
        : d.type == DestinationType::kLocal
            ? fmt::format("Local({})", d.path)
            : fmt::format("{}({})", d.type == DestinationType::kS3 ? "S3" : "GCS", d.bucket);
    Status status = dest.has_value() ? (*dest)->Probe() : dest.error();
    if (status.ok()) {
      out.push_back(
          {Outcome::kOk, "destination", label, "Destination " + label, "", ErrorCode::kOk});
    } else {
      out.push_back(Failed("destination", label,
                           fmt::format("Destination {} -- {}", label, status.message()),
                           DestinationFix(d.type, status.code()), status.code()));
    }
  }
}

// Syntax only: doctor never posts to the webhook. The URL is a secret and is never printed.
void CheckSlack(const config::Config& config, std::vector<DoctorCheck>& out) {
  if (!config.slack || !config.slack->webhook_url) return;
  const std::string& url = config.slack->webhook_url->reveal();
  constexpr std::string_view kScheme = "https://";
  const std::string_view rest = std::string_view(url).substr(std::min(url.size(), kScheme.size()));
  const size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  const bool ok = url.starts_with(kScheme) && !host.empty() &&
                  host.find('.') != std::string_view::npos && slash != std::string_view::npos &&
                  slash + 1 < rest.size() && url.find_first_of(" \t\r\n") == std::string::npos;
  if (ok) {
    out.push_back({Outcome::kOk, "slack", "webhook",
                   "Slack webhook (syntax only; doctor never posts)", "", ErrorCode::kOk});
  } else {
    out.push_back(Failed("slack", "webhook",
                         "Slack webhook -- not an https:// URL with a host and a path",
                         "set webhook_url_env to the webhook URL Slack gave you "
                         "(https://hooks.slack.com/services/...)",
                         ErrorCode::kConfig));
  }
}

std::string_view Tag(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "[OK] ";
    case Outcome::kWarn:
      return "[WARN]";
    case Outcome::kFail:
      return "[FAIL]";
    case Outcome::kSkip:
      return "[SKIP]";
  }
  return "[FAIL]";
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kWarn:
      return "warn";
    case Outcome::kFail:
      return "fail";
    case Outcome::kSkip:
      return "skip";
  }
  return "fail";
}

}  // namespace

std::vector<DoctorCheck> RunDoctor(const config::Config& config,
                                   const pipeline::Factories& factories) {
  std::vector<DoctorCheck> checks;
  CheckSource(config, factories, checks);
  CheckDestinations(config, factories, checks);
  CheckSlack(config, checks);
  return checks;
}

bool AllPassed(const std::vector<DoctorCheck>& checks) {
  for (const DoctorCheck& c : checks) {
    if (c.outcome == Outcome::kFail) return false;
  }
  return true;
}

std::string FormatDoctor(const std::string& config_path, const std::vector<DoctorCheck>& checks,
                         const Status& config_error) {
  std::string out = fmt::format("rivet doctor: verifying auth for config '{}'\n", config_path);
  if (!config_error.ok()) {
    out += fmt::format("[FAIL] Config error: {}\n", config_error.message());
  } else {
    out += "[OK]  Config parsed successfully\n";
  }
  for (const DoctorCheck& c : checks) {
    out += fmt::format("{} {}\n", Tag(c.outcome), c.line);
    if (!c.fix.empty()) out += fmt::format("       fix: {}\n", c.fix);
  }
  out += config_error.ok() && AllPassed(checks)
             ? "All checks passed.\n"
             : "Some checks failed. Fix the issues above before running exports.\n";
  return out;
}

std::string FormatDoctorJson(const std::string& config_path, const std::vector<DoctorCheck>& checks,
                             const Status& config_error) {
  using nlohmann::json;
  json list = json::array();
  list.push_back(
      {{"status", config_error.ok() ? "ok" : "fail"},
       {"kind", "config"},
       {"message", config_error.ok() ? "Config parsed successfully" : config_error.message()}});
  for (const DoctorCheck& c : checks) {
    json x = {{"status", std::string(OutcomeName(c.outcome))},
              {"kind", c.kind},
              {"subject", c.subject},
              {"message", c.line}};
    if (!c.fix.empty()) x["fix"] = c.fix;
    if (c.code != ErrorCode::kOk) x["error_class"] = std::string(ErrorCodeName(c.code));
    list.push_back(std::move(x));
  }
  json doc = {{"config", config_path},
              {"ok", config_error.ok() && AllPassed(checks)},
              {"checks", std::move(list)}};
  return doc.dump(2) + "\n";
}

}  // namespace rivet::preflight
