// Peak resident set size of this process, sampled in the background while an export runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace rivet::pipeline {

// Current RSS in bytes from /proc/self/statm (0 when unavailable).
uint64_t CurrentRssBytes();

// Samples every 20 ms from construction until destruction; peak() also folds in a read taken
// when it is called, so short exports still report a real number.
class RssSampler {
 public:
  RssSampler();
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;
  uint64_t peak();

 private:
  void Observe(uint64_t rss);
  std::atomic<uint64_t> peak_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace rivet::pipeline
