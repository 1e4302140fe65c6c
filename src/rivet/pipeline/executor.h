// Runs the work units of one export on N workers, each with its own source connection
// (chunked `parallel: N`; one worker for the single-unit modes).
//
// Workers take the next unit in plan order. Each unit is tried until it succeeds or the retry
// policy gives up (retry.h; never after one of its files was delivered). The first unit that
// fails for good stops the run: workers finish the unit in hand, take no new one, and the
// first failure is returned. Hooks let the caller checkpoint each unit (chunk_checkpoint).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/pipeline/retry.h"
#include "rivet/pipeline/unit_runner.h"
#include "rivet/plan/plan.h"
#include "rivet/source/source.h"

namespace rivet::pipeline {

struct UnitHooks {
  // Before each try of a unit. An error fails the unit without retrying it.
  std::function<Status(const plan::WorkUnit&)> on_try;
  // After the successful try, with its runner; an error fails the unit.
  std::function<Status(const plan::WorkUnit&, const UnitRunner&)> on_success;
  // After the try that ended the unit's tries with this error.
  std::function<void(const plan::WorkUnit&, const Status&)> on_failure;
};

// `workers` are the sources, one per thread (at least one). Returns the first failure.
Status RunUnits(RunContext& ctx, const std::vector<plan::WorkUnit>& units,
                const std::vector<source::Source*>& workers, const RetryRules& rules,
                const UnitHooks& hooks);

// The next unit to run, nullopt when none is left; called by every worker thread, so it must
// be thread-safe. A shared plan (--worker) claims units from the state store one at a time.
using UnitSupplier = std::function<Result<std::optional<plan::WorkUnit>>()>;
// RunUnits over units handed out by `next_unit`; its error fails the run like a failed unit.
Status RunUnits(RunContext& ctx, const UnitSupplier& next_unit,
                const std::vector<source::Source*>& workers, const RetryRules& rules,
                const UnitHooks& hooks);

}  // namespace rivet::pipeline
