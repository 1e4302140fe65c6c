#include "rivet/plan/shard.h"

#include "rivet/common/text.h"

namespace rivet::plan {
Result<Shard> ParseShard(std::string_view text, std::optional<std::string_view> completion_index) {
  constexpr std::string_view kForm =
      "--shard takes INDEX/COUNT (0 <= INDEX < COUNT, e.g. 0/4), or COUNT alone with the index "
      "in JOB_COMPLETION_INDEX";
  const size_t slash = text.find('/');
  std::optional<int64_t> index;
  std::optional<int64_t> count;
  if (slash == std::string_view::npos) {
    count = ParseWhole<int64_t>(text);
    if (!count) return Error(ErrorCode::kConfig, "--shard '{}': {}", text, kForm);
    if (!completion_index) {
      return Error(ErrorCode::kConfig,
                   "--shard {}: JOB_COMPLETION_INDEX is not set; give the index as --shard "
                   "INDEX/{} or set JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs set it)",
                   text, text);
    }
    index = ParseWhole<int64_t>(*completion_index);
    if (!index) {
      return Error(ErrorCode::kConfig, "JOB_COMPLETION_INDEX '{}' is not a whole number",
                   *completion_index);
    }
  } else {
    index = ParseWhole<int64_t>(text.substr(0, slash));
    count = ParseWhole<int64_t>(text.substr(slash + 1));
    if (!index || !count) return Error(ErrorCode::kConfig, "--shard '{}': {}", text, kForm);
  }
  if (*count < 1 || *index < 0 || *index >= *count) {
    return Error(ErrorCode::kConfig, "--shard {}/{}: the index must be at least 0 and below {}",
                 *index, *count, *count);
  }
  return Shard{*index, *count};
}

}  // namespace rivet::plan
