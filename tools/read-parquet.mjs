#!/usr/bin/env node
// Reads a Parquet file with an independent reader and prints it in one canonical text form, so
// Rivet's C++ tests can compare what another implementation sees with what Rivet wrote.
//
//   node tools/read-parquet.mjs duckdb|hyparquet FILE
//
// Output (stdout):
//   line 1: {"columns":[{"name":..., "type":...}, ...]}
//           duckdb: the type from DESCRIBE (e.g. "DECIMAL(12,2)", "TIMESTAMP WITH TIME ZONE");
//           hyparquet: "<physical>[/<converted>][/<logical>]" from the file's schema.
//   then one JSON array per row, one canonical value per column:
//     NULL                    null
//     boolean                 true | false
//     integers (any width)    decimal string: "-9223372036854775808", "18446744073709551615"
//     FLOAT / DOUBLE          "NaN" | "Infinity" | "-Infinity" | "0x" + the 16 hex digits of the
//                             value's IEEE-754 double bits (a FLOAT is widened exactly)
//     DECIMAL(p,s)            exact string with s fraction digits: "-123.45", "0.00", "7"
//     STRING / JSON           the text
//     BYTE_ARRAY (binary)     lowercase hex
//     UUID                    lowercase hyphenated
//     DATE                    days since 1970-01-01, decimal string
//     TIME                    microseconds since midnight, decimal string
//     TIMESTAMP[ WITH TZ]     microseconds since 1970-01-01 (UTC for TZ), decimal string
//     LIST                    JSON array of canonical elements
// Exit status 0 on success; 1 with the reader's error on stderr.
import * as fs from 'node:fs';

const [, , reader, file] = process.argv;
if (!['duckdb', 'hyparquet'].includes(reader) || !file) {
  process.stderr.write('usage: node read-parquet.mjs duckdb|hyparquet FILE\n');
  process.exit(2);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function floatText(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return '0x' + view.getBigUint64(0).toString(16).padStart(16, '0');
}

function decimalText(unscaled, scale) {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return (negative ? '-' : '') + digits;
}

// Big-endian two's complement bytes -> BigInt.
function signedBigEndian(bytes) {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  const bits = BigInt(bytes.length * 8);
  if (bytes.length > 0 && bytes[0] & 0x80) v -= 1n << bits;
  return v;
}

function emit(columns, rows) {
  const out = [JSON.stringify({ columns })];
  for (const row of rows) out.push(JSON.stringify(row));
  fs.writeSync(1, out.join('\n') + '\n');
}

async function readDuckdb(path) {
  const duckdb = await import('@duckdb/node-api');
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const literal = "'" + path.replaceAll("'", "''") + "'";
  const describe = await connection.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet(${literal})`);
  const columns = describe.getRowObjects().map((r) => ({ name: r.column_name, type: r.column_type }));
  const result = await connection.runAndReadAll(`SELECT * FROM read_parquet(${literal})`);
  const types = result.columnTypes();
  const isFloat = (t) => t.typeId === duckdb.DuckDBTypeId.FLOAT || t.typeId === duckdb.DuckDBTypeId.DOUBLE;

  function canon(v, type) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return isFloat(type) ? floatText(v) : String(v);
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof duckdb.DuckDBDecimalValue) return decimalText(v.value, v.scale);
    if (v instanceof duckdb.DuckDBBlobValue) return hex(v.bytes);
    if (v instanceof duckdb.DuckDBUUIDValue) return v.toString();
    if (v instanceof duckdb.DuckDBDateValue) return String(v.days);
    if (v instanceof duckdb.DuckDBTimeValue) return v.micros.toString();
    if (v instanceof duckdb.DuckDBTimestampTZValue) return v.micros.toString();
    if (v instanceof duckdb.DuckDBTimestampValue) return v.micros.toString();
    if (v instanceof duckdb.DuckDBListValue) return v.items.map((item) => canon(item, type.valueType));
    throw new Error(`duckdb: no canonical form for ${v?.constructor?.name} (${type})`);
  }
  const rows = result.getRows().map((row) => row.map((v, i) => canon(v, types[i])));
  emit(columns, rows);
}

async function readHyparquet(path) {
  const hp = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file = await hp.asyncBufferFromFile(path);
  const metadata = await hp.parquetMetadataAsync(file);
  // hyparquet turns decimals into JS numbers (inexact beyond 2^53): read them raw instead by
  // dropping their annotation, and apply the scale here with BigInt.
  const decimalScale = new Map();  // leaf element -> scale
  const schema = metadata.schema.map((e) => {
    if (e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL') {
      const scale = e.scale ?? e.logical_type?.scale ?? 0;
      const raw = { ...e, converted_type: undefined, logical_type: undefined };
      decimalScale.set(raw, scale);
      return raw;
    }
    return e;
  });
  const top = [];  // per top-level column: its leaf element
  const describe = [];
  for (let i = 1; i < schema.length;) {
    const e = schema[i];
    let leaf = e;
    let skip = 1;
    if (e.num_children) {  // three-level LIST: group, repeated group, element
      leaf = schema[i + 2];
      skip = 3;
    }
    top.push(leaf);
    const original = metadata.schema[i + skip - 1];  // the leaf with its annotations
    const parts = [original.type];
    if (original.converted_type) parts.push(original.converted_type);
    if (original.logical_type) parts.push(JSON.stringify(original.logical_type, (k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    describe.push({ name: e.name, type: (skip === 3 ? 'LIST<' + parts.join('/') + '>' : parts.join('/')) });
    i += skip;
  }
  const decoder = new TextDecoder();
  const parsers = {
    timestampFromMicroseconds: (micros) => BigInt(micros),
    dateFromDays: (days) => days,
    jsonFromBytes: (bytes) => bytes && decoder.decode(bytes),
  };

  function canon(v, leaf) {
    if (v === null || v === undefined) return null;
    if (Array.isArray(v)) return v.map((item) => canon(item, leaf));
    if (decimalScale.has(leaf)) {
      const scale = decimalScale.get(leaf);
      if (v instanceof Uint8Array) return decimalText(signedBigEndian(v), scale);
      return decimalText(BigInt(v), scale);
    }
    if (typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') {
      return leaf.type === 'FLOAT' || leaf.type === 'DOUBLE' ? floatText(v) : String(v);
    }
    if (v instanceof Uint8Array) return hex(v);
    throw new Error(`hyparquet: no canonical form for ${v?.constructor?.name}`);
  }
  const rows = [];
  await hp.parquetRead({
    file,
    metadata: { ...metadata, schema },
    compressors,
    utf8: false,
    parsers,
    onComplete: (data) => {
      for (const row of data) rows.push(row.map((v, i) => canon(v, top[i])));
    },
  });
  emit(describe, rows);
}

try {
  if (reader === 'duckdb') await readDuckdb(file);
  else await readHyparquet(file);
} catch (err) {
  process.stderr.write(`${reader}: ${err?.stack ?? err}\n`);
  process.exit(1);
}
