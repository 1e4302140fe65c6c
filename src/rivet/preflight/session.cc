#include "rivet/preflight/session.h"

#include <fmt/format.h>

#include "rivet/plan/sql.h"

namespace rivet::preflight {

Result<PlanFacts> Explain(source::Source& src, bool postgres, const std::string& sql) {
  const std::string statement = fmt::format(
      "{} {}", postgres ? "EXPLAIN (FORMAT JSON)" : "EXPLAIN FORMAT=JSON", plan::StripQuery(sql));
  RIVET_ASSIGN_OR_RETURN(auto rows, src.QueryText(statement));
  if (rows.empty() || rows[0].empty() || !rows[0][0]) {
    return Error(ErrorCode::kSource, "EXPLAIN returned no plan");
  }
  return postgres ? ParsePostgresPlan(*rows[0][0]) : ParseMysqlPlan(*rows[0][0]);
}

}  // namespace rivet::preflight
