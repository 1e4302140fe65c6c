#include "rivet/state/schema_diff.h"

#include <gtest/gtest.h>

namespace rivet::state {
namespace {

using Columns = std::vector<SchemaColumn>;

TEST(DiffSchemas, IdenticalSchemasAreUnchanged) {
  const Columns columns = {{"id", "int64"}, {"email", "string"}};
  const SchemaDiff diff = DiffSchemas(columns, columns);
  EXPECT_FALSE(diff.changed());
  EXPECT_TRUE(SchemaChangeWarnings("orders", diff).empty());
}

TEST(DiffSchemas, ReorderedColumnsAreUnchanged) {
  const SchemaDiff diff =
      DiffSchemas({{"id", "int64"}, {"email", "string"}}, {{"email", "string"}, {"id", "int64"}});
  EXPECT_FALSE(diff.changed());
}

TEST(DiffSchemas, EmptyToColumnsIsAllAdded) {
  const SchemaDiff diff = DiffSchemas({}, {{"id", "int64"}});
  ASSERT_TRUE(diff.changed());
  EXPECT_EQ(diff.added, (Columns{{"id", "int64"}}));
  EXPECT_TRUE(diff.removed.empty());
  EXPECT_TRUE(diff.retyped.empty());
}

TEST(DiffSchemas, AddedRemovedAndRetypedAreReportedInSchemaOrder) {
  const Columns old_columns = {
      {"id", "int64"}, {"old_field", "string"}, {"price", "float64"}, {"legacy", "int32"}};
  const Columns new_columns = {
      {"id", "int64"}, {"price", "string"}, {"phone", "string"}, {"zip", "int32"}};
  const SchemaDiff diff = DiffSchemas(old_columns, new_columns);
  ASSERT_TRUE(diff.changed());
  EXPECT_EQ(diff.added, (Columns{{"phone", "string"}, {"zip", "int32"}}));
  EXPECT_EQ(diff.removed, (std::vector<std::string>{"old_field", "legacy"}));
  EXPECT_EQ(diff.retyped, (std::vector<RetypedColumn>{{"price", "float64", "string"}}));
}

TEST(SchemaChangeWarnings, GuideSection22Lines) {
  const SchemaDiff diff =
      DiffSchemas({{"id", "int64"}, {"old_field", "string"}, {"price", "float64"}},
                  {{"id", "int64"}, {"price", "string"}, {"phone", "string"}});
  EXPECT_EQ(SchemaChangeWarnings("orders", diff), (std::vector<std::string>{
                                                      "export 'orders': schema changed!",
                                                      "added columns: phone (string)",
                                                      "removed columns: old_field",
                                                      "type changed: price (float64 -> string)",
                                                  }));
}

TEST(SchemaChangeWarnings, SeveralColumnsShareOneLineAndEmptyCategoriesAreOmitted) {
  const SchemaDiff diff =
      DiffSchemas({{"a", "int32"}, {"b", "int32"}}, {{"a", "int64"}, {"b", "decimal(10,2)"}});
  EXPECT_EQ(SchemaChangeWarnings("events", diff),
            (std::vector<std::string>{
                "export 'events': schema changed!",
                "type changed: a (int32 -> int64), b (int32 -> decimal(10,2))",
            }));
  const SchemaDiff removed = DiffSchemas({{"x", "bool"}, {"y", "date"}}, {});
  EXPECT_EQ(SchemaChangeWarnings("e", removed),
            (std::vector<std::string>{"export 'e': schema changed!", "removed columns: x, y"}));
}

}  // namespace
}  // namespace rivet::state
