#!/usr/bin/env node
// Runs one SQL statement in an in-memory DuckDB and prints each result row as a JSON array of
// strings (NULL as null), for tests that check aggregates over large Parquet files.
//
//   node tools/duckdb-query.mjs "SELECT count(*) FROM 'file.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
  process.stderr.write('usage: node duckdb-query.mjs SQL\n');
  process.exit(2);
}
try {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(sql);
  for (const row of reader.getRows()) {
    process.stdout.write(JSON.stringify(row.map((v) => (v === null ? null : String(v)))) + '\n');
  }
} catch (err) {
  process.stderr.write(String(err && err.message ? err.message : err) + '\n');
  process.exit(1);
}
