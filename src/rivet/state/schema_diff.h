// Schema change detection (guide §22, reference §4): compares the columns an export produced in
// its previous run with the columns of this run. Pure functions, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rivet::state {

struct SchemaColumn {
  std::string name;
  std::string type;  // Rivet's logical type name, e.g. "int64", "string", "decimal(10,2)"

  bool operator==(const SchemaColumn&) const = default;
};

struct RetypedColumn {
  std::string name;
  std::string old_type;
  std::string new_type;

  bool operator==(const RetypedColumn&) const = default;
};

struct SchemaDiff {
  std::vector<SchemaColumn> added;     // in the order of the new schema
  std::vector<std::string> removed;    // in the order of the old schema
  std::vector<RetypedColumn> retyped;  // in the order of the new schema

  bool changed() const { return !added.empty() || !removed.empty() || !retyped.empty(); }
};

// Columns are matched by name; a change of column order alone is not a schema change.
SchemaDiff DiffSchemas(const std::vector<SchemaColumn>& old_columns,
                       const std::vector<SchemaColumn>& new_columns);

// The warning lines of guide §22, empty when nothing changed:
//   export 'orders': schema changed!
//   added columns: phone (string)
//   removed columns: old_field
//   type changed: price (float64 -> string)
// Each category line lists all its columns separated by ", " and appears only when not empty.
std::vector<std::string> SchemaChangeWarnings(std::string_view export_name, const SchemaDiff& diff);

}  // namespace rivet::state
