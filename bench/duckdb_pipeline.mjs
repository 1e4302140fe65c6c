// The pipeline many users run instead of Rivet: PostgreSQL's CSV piped into DuckDB, which writes
// Parquet zstd with the column types spelled out (no sniffing), as in bench/run.sh case (c):
//
//   psql -c "COPY (SELECT * FROM events) TO STDOUT (FORMAT csv)" | node duckdb_pipeline.mjs OUT.parquet
//
// The CSV is first staged in OUT.parquet.csv (removed afterwards), as such pipelines usually do;
// then `COPY (SELECT * FROM read_csv(...)) TO OUT.parquet (FORMAT parquet, COMPRESSION zstd)`.
// Prints "rows: N" on stderr so the harness can check the row count.
// `node duckdb_pipeline.mjs --version` prints DuckDB's version.
// DuckDB is loaded from $RIVET_BENCH_DUCKDB_BASE/node_modules (tools/ or bench/).
import { createWriteStream, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

const base = process.env.RIVET_BENCH_DUCKDB_BASE ?? new URL('.', import.meta.url).pathname;
const { DuckDBInstance } = createRequire(join(resolve(base), 'package.json'))('@duckdb/node-api');

// The columns of the bench table `events` (bench/run.sh), as PostgreSQL declares them.
const COLUMNS = {
  id: 'BIGINT',
  user_id: 'INTEGER',
  event_type: 'VARCHAR',
  payload: 'VARCHAR',
  amount: 'DECIMAL(12,2)',
  created_at: 'TIMESTAMPTZ',
};

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

async function main() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  if (process.argv[2] === '--version') {
    const reader = await conn.runAndReadAll('SELECT version()');
    console.log(String(reader.getRows()[0][0]));
    return;
  }
  const out = process.argv[2];
  if (!out || process.argv.length !== 3) {
    console.error('usage: node duckdb_pipeline.mjs OUT.parquet < data.csv');
    process.exit(2);
  }
  const staged = `${out}.csv`;
  try {
    await pipeline(process.stdin, createWriteStream(staged, { highWaterMark: 1 << 20 }));
    const columns = Object.entries(COLUMNS)
      .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
      .join(', ');
    const reader = await conn.runAndReadAll(
      `COPY (SELECT * FROM read_csv(${sqlString(staged)}, header = false, auto_detect = false, ` +
        `columns = {${columns}})) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    console.error(`rows: ${reader.getRows()[0][0]}`);
  } finally {
    rmSync(staged, { force: true });
  }
}

main().catch((err) => {
  console.error(`duckdb_pipeline: ${err?.message ?? err}`);
  process.exit(1);
});
