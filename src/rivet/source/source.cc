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

Result<std::unique_ptr<Source>> MakeSource(const config::SourceConfig& config,
                                           const ReadOptions& options) {
  switch (config.type) {
    case config::SourceType::kPostgres: return postgres::MakePostgresSource(config, options);
    case config::SourceType::kMysql: return mysql::MakeMysqlSource(config, options);
  }
  return Error(ErrorCode::kInternal, "unknown source type");
}

}  // namespace rivet::source
