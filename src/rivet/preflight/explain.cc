#include "rivet/preflight/explain.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace rivet::preflight {
namespace {

using nlohmann::json;

double Number(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->is_number()) return it->get<double>();
  // MySQL 8 prints some estimates as strings ("cost_info": {"read_cost": "1.25"}).
  if (it->is_string()) {
    try {
      return std::stod(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string Text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<json> ParseJson(std::string_view text, std::string_view engine) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return Error(ErrorCode::kCorrupt, "{} EXPLAIN did not print JSON", engine);
  return doc;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a tree of nodes under [0].Plan, children in "Plans".

bool IsPgIndexScan(std::string_view type) {
  return type == "Index Scan" || type == "Index Only Scan" || type == "Bitmap Heap Scan";
}

// The scan of a table with the highest total cost: the one that reads the most.
void FindHeaviestPgScan(const json& node, const json*& best) {
  if (!node.is_object()) return;
  if (node.contains("Relation Name") &&
      (best == nullptr || Number(node, "Total Cost") > Number(*best, "Total Cost"))) {
    best = &node;
  }
  auto plans = node.find("Plans");
  if (plans != node.end() && plans->is_array()) {
    for (const json& child : *plans) FindHeaviestPgScan(child, best);
  }
}

// One node the way PostgreSQL's text EXPLAIN prints it.
std::string PgNodeLine(const json& node) {
  std::string type = Text(node, "Node Type");
  std::string line;
  if (node.value("Parallel Aware", false)) line = "Parallel ";
  line += type;
  if ((type == "Index Scan" || type == "Index Only Scan") &&
      Text(node, "Scan Direction") == "Backward") {
    line += " Backward";
  }
  const std::string index = Text(node, "Index Name");
  if (!index.empty()) line += " using " + index;
  const std::string relation = Text(node, "Relation Name");
  if (!relation.empty()) {
    line += " on " + relation;
    const std::string alias = Text(node, "Alias");
    if (!alias.empty() && alias != relation) line += " " + alias;
  }
  line += fmt::format(" (cost={:.2f}..{:.2f} rows={:.0f} width={:.0f})",
                      Number(node, "Startup Cost"), Number(node, "Total Cost"),
                      Number(node, "Plan Rows"), Number(node, "Plan Width"));
  return line;
}

// ---------------------------------------------------------------------------------------------
// MySQL and MariaDB: a query_block whose tables sit under "table", "nested_loop", "filesort",
// "temporary_table", ...; derived tables and subqueries hold query blocks of their own.

// Keys under which a table belongs to another query block than the one being read.
const std::set<std::string>& InnerBlockKeys() {
  static const std::set<std::string> keys = {"materialized",
                                             "subqueries",
                                             "query_block",
                                             "query_specifications",
                                             "expression_cache",
                                             "attached_subqueries",
                                             "optimized_away_subqueries"};
  return keys;
}

// The tables of one query block, in join order, without those of inner blocks.
void BlockTables(const json& value, std::vector<const json*>& out) {
  if (value.is_array()) {
    for (const json& item : value) BlockTables(item, out);
    return;
  }
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.key() == "table" && it->is_object()) {
      out.push_back(&*it);
    } else if (!InnerBlockKeys().contains(it.key())) {
      BlockTables(*it, out);
    }
  }
}

// Every table access anywhere in the plan, inner blocks included.
void AllTables(const json& value, std::vector<const json*>& out) {
  if (value.is_array()) {
    for (const json& item : value) AllTables(item, out);
    return;
  }
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.key() == "table" && it->is_object()) out.push_back(&*it);
    AllTables(*it, out);
  }
}

// Rows a table access reads per scan (MySQL 8 spells it rows_examined_per_scan).
double MysqlRowsRead(const json& table) {
  return table.contains("rows_examined_per_scan") ? Number(table, "rows_examined_per_scan")
                                                  : Number(table, "rows");
}

double MysqlFiltered(const json& table) {
  return table.contains("filtered") ? Number(table, "filtered") / 100.0 : 1.0;
}

// Rows a query block returns: the join's product of rows kept per table, summed over UNION
// branches; "Select tables optimized away" and "No tables used" return one row.
double MysqlBlockRows(const json& block) {
  auto unions = block.find("union_result");
  if (unions != block.end() && unions->is_object()) {
    double sum = 0;
    auto specs = unions->find("query_specifications");
    if (specs != unions->end() && specs->is_array()) {
      for (const json& spec : *specs) {
        auto inner = spec.find("query_block");
        if (inner != spec.end()) sum += MysqlBlockRows(*inner);
      }
    }
    return sum;
  }
  std::vector<const json*> tables;
  BlockTables(block, tables);
  double rows = 1;
  for (const json* t : tables) {
    if (t->contains("message")) {
      if (Text(*t, "message").find("Impossible") != std::string::npos) return 0;
      continue;
    }
    // MySQL 8 already carries the join's running product.
    if (t->contains("rows_produced_per_join")) {
      rows = Number(*t, "rows_produced_per_join");
    } else {
      rows *= MysqlRowsRead(*t) * MysqlFiltered(*t);
    }
  }
  return rows;
}

bool IsMysqlIndexAccess(std::string_view type) {
  static const std::set<std::string_view> kIndex = {
      "system",          "const",          "eq_ref",  "ref",
      "ref_or_null",     "range",          "index",   "index_merge",
      "unique_subquery", "index_subquery", "fulltext"};
  return kIndex.contains(type);
}

std::string_view MysqlAccessDescription(std::string_view type) {
  if (type == "ALL") return "full table scan";
  if (type == "index") return "full index scan";
  if (type == "range") return "index range scan";
  if (type == "ref" || type == "ref_or_null") return "index lookup";
  if (type == "eq_ref") return "unique index lookup";
  if (type == "const" || type == "system") return "single row";
  if (type == "index_merge") return "index merge";
  return "access";
}

std::string MysqlTableLine(const json& t) {
  const std::string type = Text(t, "access_type");
  std::string line = fmt::format("{} on {}", type, Text(t, "table_name"));
  const std::string key = Text(t, "key");
  if (!key.empty()) line += " using " + key;
  line += fmt::format(" ({}, rows={:.0f}", MysqlAccessDescription(type), MysqlRowsRead(t));
  if (t.contains("filtered") && Number(t, "filtered") < 100) {
    line += fmt::format(", filtered={:.2f}%", Number(t, "filtered"));
  }
  auto cost = t.find("cost_info");
  if (cost != t.end() && cost->is_object() && cost->contains("read_cost")) {
    line += fmt::format(", cost={:.2f}", Number(*cost, "read_cost"));
  } else if (t.contains("cost")) {
    line += fmt::format(", cost={:.2f}", Number(t, "cost"));
  }
  return line + ")";
}

}  // namespace

Result<PlanFacts> ParsePostgresPlan(std::string_view text) {
  RIVET_ASSIGN_OR_RETURN(json doc, ParseJson(text, "PostgreSQL"));
  if (!doc.is_array() || doc.empty() || !doc[0].is_object() || !doc[0].contains("Plan") ||
      !doc[0]["Plan"].is_object()) {
    return Error(ErrorCode::kCorrupt, "PostgreSQL EXPLAIN JSON has no [0].Plan");
  }
  const json& root = doc[0]["Plan"];
  PlanFacts facts;
  facts.rows = Number(root, "Plan Rows");
  facts.width = Number(root, "Plan Width");
  const json* scan = nullptr;
  FindHeaviestPgScan(root, scan);
  if (scan != nullptr) {
    facts.index_used = IsPgIndexScan(Text(*scan, "Node Type"));
    facts.scan = PgNodeLine(*scan);
  } else {
    facts.scan = PgNodeLine(root);  // no table read: a Result, Values or Function Scan
  }
  return facts;
}

Result<PlanFacts> ParseMysqlPlan(std::string_view text) {
  RIVET_ASSIGN_OR_RETURN(json doc, ParseJson(text, "MySQL"));
  if (!doc.is_object() || !doc.contains("query_block") || !doc["query_block"].is_object()) {
    return Error(ErrorCode::kCorrupt, "MySQL EXPLAIN JSON has no query_block");
  }
  const json& block = doc["query_block"];
  PlanFacts facts;
  facts.rows = MysqlBlockRows(block);
  std::vector<const json*> tables;
  AllTables(block, tables);
  const json* heaviest = nullptr;
  std::string message;
  for (const json* t : tables) {
    const std::string name = Text(*t, "table_name");
    if (t->contains("message")) {
      if (message.empty()) message = Text(*t, "message");
      continue;
    }
    // <derived2>, <union1,2>, <subquery3>: temporary tables whose reads are cheap next to
    // the base-table scans that fill them.
    if (name.empty() || name.front() == '<') continue;
    if (heaviest == nullptr || MysqlRowsRead(*t) > MysqlRowsRead(*heaviest)) heaviest = t;
  }
  if (heaviest != nullptr) {
    facts.index_used = IsMysqlIndexAccess(Text(*heaviest, "access_type"));
    facts.scan = MysqlTableLine(*heaviest);
  } else if (!message.empty()) {
    // MIN/MAX of an indexed column is read from the index's ends.
    facts.index_used = message.find("optimized away") != std::string::npos;
    facts.scan = message;
  } else if (!tables.empty()) {
    facts.scan = MysqlTableLine(*tables.front());
  } else {
    facts.scan = "no table read";
  }
  return facts;
}

std::string FormatEstimate(double rows) {
  if (rows < 0) rows = 0;
  auto scaled = [](double value, const char* unit) {
    if (value < 9.95) {
      std::string s = fmt::format("~{:.1f}", value);
      if (s.ends_with(".0")) s.resize(s.size() - 2);
      return s + unit;
    }
    return fmt::format("~{:.0f}{}", value, unit);
  };
  if (rows < 999.5) return fmt::format("~{:.0f}", rows);
  if (rows < 999'500) return scaled(rows / 1e3, "K");
  return scaled(rows / 1e6, "M");
}

}  // namespace rivet::preflight
