// SIGINT and SIGTERM: the first one asks rivet to stop cleanly (reference §6: running queries
// cancelled, staged files removed, the run recorded as failed, exit 130 / 143); a second one
// ends the process at once (the handler is reset after the first).
#pragma once

#include <chrono>

#include "rivet/common/result.h"

namespace rivet {

// Installs the handlers; the CLI calls it once, before any export starts.
void InstallInterruptHandlers();
// The signal that asked to stop (SIGINT, SIGTERM), or 0.
int InterruptSignal();
inline bool Interrupted() { return InterruptSignal() != 0; }
// Records `signal` as if it had been received (tests; the handler itself).
void RequestInterrupt(int signal);
void ClearInterruptForTests();
// "interrupted by SIGINT" / "interrupted by SIGTERM" (kInterrupted), for the run's error.
Status InterruptedError();
// Sleeps `duration`, waking early when an interrupt arrives. False when interrupted.
bool SleepUnlessInterrupted(std::chrono::milliseconds duration);

}  // namespace rivet
