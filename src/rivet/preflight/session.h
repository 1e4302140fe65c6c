// What check and doctor send to the source: EXPLAIN of a statement, inside a read-only
// transaction that is always rolled back.
#pragma once

#include <string>

#include "rivet/common/result.h"
#include "rivet/preflight/explain.h"
#include "rivet/source/source.h"

namespace rivet::preflight {

// EXPLAIN (never ANALYZE) of `sql` in the engine's JSON format, parsed.
Result<PlanFacts> Explain(source::Source& src, bool postgres, const std::string& sql);

// A read-only transaction on `src`, rolled back when this goes out of scope.
class ReadOnlyTransaction {
 public:
  explicit ReadOnlyTransaction(source::Source& src) : src_(src) {}
  ReadOnlyTransaction(const ReadOnlyTransaction&) = delete;
  ReadOnlyTransaction& operator=(const ReadOnlyTransaction&) = delete;
  ~ReadOnlyTransaction();
  Status Begin(bool postgres);

 private:
  source::Source& src_;
  bool open_ = false;
};

}  // namespace rivet::preflight
