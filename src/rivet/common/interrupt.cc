#include "rivet/common/interrupt.h"

#include <signal.h>

#include <atomic>
#include <thread>

namespace rivet {

namespace {

// A lock-free atomic is the one thing a signal handler may touch besides async-signal-safe calls.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

// How often a sleeping thread looks for an interrupt: short against any human wait.
constexpr auto kPollInterval = std::chrono::milliseconds(20);

void OnSignal(int signal) { g_signal.store(signal); }

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: a second Ctrl-C takes the default action and ends the process at once.
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int InterruptSignal() { return g_signal.load(); }

void RequestInterrupt(int signal) { g_signal.store(signal); }

void ClearInterruptForTests() { g_signal.store(0); }

Status InterruptedError() {
  const int signal = InterruptSignal();
  const char* name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
  return Error(ErrorCode::kInterrupted,
               "interrupted by {}: running queries were cancelled and staged files removed", name);
}

bool SleepUnlessInterrupted(std::chrono::milliseconds duration) {
  const auto end = std::chrono::steady_clock::now() + duration;
  while (!Interrupted()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(end - now, kPollInterval));
  }
  return false;
}

}  // namespace rivet
