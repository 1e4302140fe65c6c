#include "rivet/state/schema_diff.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unordered_map>

namespace rivet::state {

SchemaDiff DiffSchemas(const std::vector<SchemaColumn>& old_columns,
                       const std::vector<SchemaColumn>& new_columns) {
  std::unordered_map<std::string_view, std::string_view> old_types;
  for (const auto& column : old_columns) old_types.emplace(column.name, column.type);
  std::unordered_map<std::string_view, std::string_view> new_types;
  for (const auto& column : new_columns) new_types.emplace(column.name, column.type);

  SchemaDiff diff;
  for (const auto& column : new_columns) {
    auto it = old_types.find(column.name);
    if (it == old_types.end()) {
      diff.added.push_back(column);
    } else if (it->second != column.type) {
      diff.retyped.push_back({column.name, std::string(it->second), column.type});
    }
  }
  for (const auto& column : old_columns) {
    if (!new_types.contains(column.name)) diff.removed.push_back(column.name);
  }
  return diff;
}

std::vector<std::string> SchemaChangeWarnings(std::string_view export_name,
                                              const SchemaDiff& diff) {
  std::vector<std::string> lines;
  if (!diff.changed()) return lines;
  lines.push_back(fmt::format("export '{}': schema changed!", export_name));
  if (!diff.added.empty()) {
    std::string line = "added columns: ";
    for (size_t i = 0; i < diff.added.size(); ++i) {
      if (i > 0) line += ", ";
      line += fmt::format("{} ({})", diff.added[i].name, diff.added[i].type);
    }
    lines.push_back(std::move(line));
  }
  if (!diff.removed.empty()) {
    lines.push_back(fmt::format("removed columns: {}", fmt::join(diff.removed, ", ")));
  }
  if (!diff.retyped.empty()) {
    std::string line = "type changed: ";
    for (size_t i = 0; i < diff.retyped.size(); ++i) {
      if (i > 0) line += ", ";
      const auto& column = diff.retyped[i];
      line += fmt::format("{} ({} -> {})", column.name, column.old_type, column.new_type);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace rivet::state
