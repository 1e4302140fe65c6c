// What check and doctor send to the source (inside Source::InReadOnlyTransaction).
#pragma once

#include <string>

#include "rivet/common/result.h"
#include "rivet/preflight/explain.h"
#include "rivet/source/source.h"

namespace rivet::preflight {

// EXPLAIN (never ANALYZE) of `sql` in the engine's JSON format, parsed.
Result<PlanFacts> Explain(source::Source& src, bool postgres, const std::string& sql);

}  // namespace rivet::preflight
