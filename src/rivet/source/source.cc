#include "rivet/source/source.h"

#include <algorithm>

#include "rivet/source/mysql/mysql_source.h"
#include "rivet/source/postgres/postgres_source.h"

namespace rivet::source {

int64_t RowsPerBatch(const ReadOptions& options, const columnar::Schema& schema) {
  if (options.batch_memory_mb <= 0) return std::max<int64_t>(1, options.batch_rows);
  constexpr int64_t kMinRows = 1000;
  constexpr int64_t kMaxRows = 500000;
  int64_t row_bytes = std::max<int64_t>(1, columnar::EstimatedRowBytes(schema));
  return std::clamp(options.batch_memory_mb * 1024 * 1024 / row_bytes, kMinRows, kMaxRows);
}

Status CheckSnapshotId(std::string_view id) {
  // 8 upper-case hex digits, optionally "-" and 8 more (PostgreSQL 12+ adds the local
  // transaction id), then "-" and a decimal counter.
  auto hex8 = [&](size_t at) {
    if (id.size() < at + 8) return false;
    for (size_t i = at; i < at + 8; ++i) {
      const char c = id[i];
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
  };
  auto counter = [&](size_t at) {
    if (at >= id.size() || id.size() - at > 10) return false;
    return std::all_of(id.begin() + static_cast<std::ptrdiff_t>(at), id.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  bool ok = false;
  if (hex8(0) && id.size() > 9 && id[8] == '-') {
    ok = counter(9) || (hex8(9) && id.size() > 18 && id[17] == '-' && counter(18));
  }
  if (ok) return Status::Ok();
  return Error(ErrorCode::kConfig,
               "--snapshot: '{}' is not a PostgreSQL snapshot id (like 00000003-0000001B-1, as "
               "printed by rivet snapshot hold)",
               id.size() > 64 ? std::string(id.substr(0, 64)) + "..." : std::string(id));
}

Status CheckSnapshotEngine(config::SourceType type, std::string_view what) {
  if (type == config::SourceType::kPostgres) return Status::Ok();
  return Error(ErrorCode::kConfig,
               "{}: one snapshot across processes is PostgreSQL-only (MySQL and MariaDB cannot "
               "export a snapshot to another connection); on MySQL run the export in one "
               "`rivet run`, where a chunked export's workers share one consistent snapshot",
               what);
}

Result<std::unique_ptr<Source>> MakeSource(const config::SourceConfig& config,
                                           const ReadOptions& options) {
  if (!options.snapshot_id.empty()) {
    RIVET_RETURN_IF_ERROR(CheckSnapshotEngine(config.type, "--snapshot"));
    RIVET_RETURN_IF_ERROR(CheckSnapshotId(options.snapshot_id));
  }
  switch (config.type) {
    case config::SourceType::kPostgres:
      return postgres::MakePostgresSource(config, options);
    case config::SourceType::kMysql:
      return mysql::MakeMysqlSource(config, options);
  }
  return Error(ErrorCode::kInternal, "unknown source type");
}

}  // namespace rivet::source
