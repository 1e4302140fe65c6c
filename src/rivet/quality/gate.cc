#include "rivet/quality/gate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "rivet/common/text.h"

namespace rivet::quality {

namespace {

// Row ordinals are unit-major so that "first" means the same row however the units ran.
constexpr int kOrdinalRowBits = 40;

Result<size_t> FindColumn(const columnar::Schema& schema, const std::string& export_name,
                          std::string_view key, const std::string& column) {
  std::vector<std::string> names;
  std::optional<std::string> folded;
  for (size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].name == column) return i;
    if (AsciiLower(schema[i].name) == AsciiLower(column)) folded = schema[i].name;
    names.push_back(schema[i].name);
  }
  std::string hint = folded ? fmt::format("; did you mean '{}'? (names match exactly)", *folded)
                            : "; fix the name in quality, or select the column in the query";
  return Error(ErrorCode::kConfig,
               "export '{}': quality.{} names column '{}', which is not in the query's result "
               "(columns: {}){}",
               export_name, key, column, fmt::join(names, ", "), hint);
}

}  // namespace

Tally::Tally(const Gate& gate, uint64_t first_ordinal)
    : gate_(gate), next_ordinal_(first_ordinal), nulls_(gate.null_columns_.size(), 0) {
  const size_t budget = gate.PerCollectorBudget();
  for (const columnar::DataType& type : gate.unique_types_) unique_.emplace_back(type, budget);
}

Status Tally::Observe(const columnar::Batch& batch) {
  rows_ += batch.num_rows();
  for (size_t i = 0; i < nulls_.size(); ++i) {
    nulls_[i] += batch.column(gate_.null_columns_[i].second).null_count();
  }
  for (size_t i = 0; i < unique_.size(); ++i) {
    RIVET_RETURN_IF_ERROR(
        unique_[i].Add(batch.column(gate_.unique_columns_[i].second), next_ordinal_));
  }
  next_ordinal_ += batch.num_rows();
  return Status::Ok();
}

Gate::Gate(const config::QualityConfig& config, std::string export_name, size_t concurrent_tries,
           size_t memory_budget)
    : config_(config),
      export_name_(std::move(export_name)),
      concurrent_tries_(std::max<size_t>(1, concurrent_tries)),
      memory_budget_(memory_budget) {}

size_t Gate::PerCollectorBudget() const {
  // Every running try collects, and one finished try per column may keep its keys in memory.
  const size_t collectors = (concurrent_tries_ + 1) * std::max<size_t>(1, unique_types_.size());
  return std::max<size_t>(memory_budget_ / collectors, size_t{1} << 20);
}

Status Gate::Bind(const columnar::Schema& schema) {
  std::lock_guard lock(mu_);
  if (bound_) return Status::Ok();
  for (const auto& [column, threshold] : config_.null_ratio_max) {
    RIVET_ASSIGN_OR_RETURN(size_t i, FindColumn(schema, export_name_, "null_ratio_max", column));
    null_columns_.emplace_back(column, i);
    null_thresholds_.push_back(threshold);
  }
  for (const std::string& column : config_.unique_columns) {
    RIVET_ASSIGN_OR_RETURN(size_t i, FindColumn(schema, export_name_, "unique_columns", column));
    Status usable = CheckUniqueType(schema[i].type);
    if (!usable.ok()) {
      return Error(ErrorCode::kConfig, "export '{}': quality.unique_columns names column '{}': {}",
                   export_name_, column, usable.message());
    }
    unique_columns_.emplace_back(column, i);
    unique_types_.push_back(schema[i].type);
  }
  nulls_.assign(null_columns_.size(), 0);
  unique_parts_.clear();
  unique_parts_.resize(unique_columns_.size());
  bound_ = true;
  return Status::Ok();
}

std::unique_ptr<Tally> Gate::NewTally(uint64_t unit_index) const {
  return std::unique_ptr<Tally>(new Tally(*this, unit_index << kOrdinalRowBits));
}

Status Gate::Accept(std::unique_ptr<Tally> tally) {
  std::lock_guard lock(mu_);
  // Memory stays within the budget: the first accepted try keeps its keys in memory (the
  // whole check of a single-unit export never touches disk below the budget); later ones
  // spill theirs.
  for (UniqueCollector& c : tally->unique_) {
    if (holds_memory_part_) RIVET_RETURN_IF_ERROR(c.Spill());
  }
  if (!tally->unique_.empty()) holds_memory_part_ = true;
  rows_ += tally->rows_;
  for (size_t i = 0; i < nulls_.size(); ++i) nulls_[i] += tally->nulls_[i];
  for (size_t i = 0; i < tally->unique_.size(); ++i) {
    unique_parts_[i].push_back(std::move(tally->unique_[i]));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Gate::Failures() {
  std::lock_guard lock(mu_);
  std::vector<std::string> failures;
  if (config_.row_count_min && rows_ < static_cast<uint64_t>(*config_.row_count_min)) {
    failures.push_back(fmt::format("row_count {} below minimum {}", rows_, *config_.row_count_min));
  }
  if (config_.row_count_max && rows_ > static_cast<uint64_t>(*config_.row_count_max)) {
    failures.push_back(
        fmt::format("row_count {} exceeds maximum {}", rows_, *config_.row_count_max));
  }
  for (size_t i = 0; i < null_columns_.size(); ++i) {
    // No rows, no NULLs: an empty export passes its ratios (row_count_min guards emptiness).
    const double ratio =
        rows_ == 0 ? 0.0 : static_cast<double>(nulls_[i]) / static_cast<double>(rows_);
    if (ratio > null_thresholds_[i]) {
      failures.push_back(fmt::format("column '{}': null ratio {:.4f} exceeds threshold {:.4f}",
                                     null_columns_[i].first, ratio, null_thresholds_[i]));
    }
  }
  for (size_t i = 0; i < unique_columns_.size(); ++i) {
    uint64_t spilled = 0;
    for (const UniqueCollector& c : unique_parts_[i]) spilled += c.spilled_bytes();
    RIVET_ASSIGN_OR_RETURN(Duplicates d,
                           FindDuplicates(unique_types_[i], unique_parts_[i], memory_budget_));
    spdlog::info("export '{}': unique_columns '{}': {} sorted runs merged ({} bytes spilled)",
                 export_name_, unique_columns_[i].first, d.runs_merged, spilled);
    unique_parts_[i].clear();  // the runs' temporary files go now
    if (d.count > 0) {
      failures.push_back(fmt::format("column '{}': {} duplicate values (first: {})",
                                     unique_columns_[i].first, d.count, d.first.value_or("")));
    }
  }
  return failures;
}

}  // namespace rivet::quality
