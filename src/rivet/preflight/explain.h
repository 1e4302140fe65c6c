// The facts `rivet check` needs from a query plan, read from the JSON that EXPLAIN prints
// (`EXPLAIN (FORMAT JSON)` on PostgreSQL, `EXPLAIN FORMAT=JSON` on MySQL and MariaDB). Pure
// functions over the text, so every plan shape is tested from captured fixtures.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rivet/common/result.h"

namespace rivet::preflight {

struct PlanFacts {
  // Rows the whole statement returns (the root's estimate).
  double rows = 0;
  // Estimated bytes per returned row; 0 when the engine does not say (MySQL).
  double width = 0;
  // Reference §3: the scan that does the most work reads through an index (PostgreSQL:
  // Index Scan, Index Only Scan or a Bitmap Heap Scan over index scans; MySQL: access type
  // const, eq_ref, ref, range, index, or the optimizer answered from an index alone).
  bool index_used = false;
  // That scan in PostgreSQL's text style ("Seq Scan on users (cost=0.00..1234.00 rows=50000
  // width=84)") or MySQL's terms ("ALL on users (full table scan, rows=50000)").
  std::string scan;
};

// Both return a kCorrupt error for JSON that is not a plan of that engine.
Result<PlanFacts> ParsePostgresPlan(std::string_view json);
Result<PlanFacts> ParseMysqlPlan(std::string_view json);

// "~850", "~1.5K", "~50K", "~1.2M", "~25M" (reference §3 row estimate).
std::string FormatEstimate(double rows);

}  // namespace rivet::preflight
