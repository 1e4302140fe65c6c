#include "rivet/pipeline/rss_sampler.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace rivet::pipeline {

uint64_t CurrentRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

RssSampler::RssSampler() {
  Observe(CurrentRssBytes());
  thread_ = std::thread([this] {
    while (!stop_.load(std::memory_order_relaxed)) {
      Observe(CurrentRssBytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

RssSampler::~RssSampler() {
  stop_ = true;
  thread_.join();
}

uint64_t RssSampler::peak() {
  Observe(CurrentRssBytes());
  return peak_.load();
}

void RssSampler::Observe(uint64_t rss) {
  uint64_t prev = peak_.load(std::memory_order_relaxed);
  while (rss > prev && !peak_.compare_exchange_weak(prev, rss)) {
  }
}

}  // namespace rivet::pipeline
