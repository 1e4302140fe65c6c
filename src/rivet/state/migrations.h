// Versioned schema migrations of the state store.
//
// Each migration runs once, in its own transaction, and is recorded in
// `schema_migrations(version, applied_at)`. Migrations are append-only: a released migration is
// never edited; a change to the schema is a new migration with the next version.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "rivet/common/result.h"
#include "rivet/state/connection.h"

namespace rivet::state {

struct Migration {
  int64_t version;       // 1, 2, ... without gaps
  const char* sql;       // SQLite: one or more statements, no values (released text never changes)
  const char* postgres;  // the same schema change in PostgreSQL's dialect
};

// All migrations in version order; the last one's version is kSchemaVersion.
std::span<const Migration> Migrations();

// Brings `db` up to the newest version. A database whose recorded version is newer than this
// binary knows is refused with a clear error (an older Rivet must not write a newer schema).
// Safe against another process migrating the same store at the same time: each migration runs
// in a transaction that first takes the write lock (SQLite) or an advisory lock
// (PostgreSQL, kMigrationLockKey) and re-reads the version under it.
[[nodiscard]] Status ApplyMigrations(Connection& db);

// The pg_advisory_xact_lock key that serialises migrations of one PostgreSQL store ("rivetmig").
inline constexpr int64_t kMigrationLockKey = 0x7269766574'6d6967;

}  // namespace rivet::state
