// Turns bench/run.sh's raw timings into the Markdown report: medians per case, ratios against
// the targets, failures with the tail of their stderr, and the machine they were measured on.
//
//   node bench/report.mjs META_FILE RESULTS_TSV > report.md
//
// META_FILE: key=value lines (date, nproc, cpu, rows, ...). RESULTS_TSV: one line per run with
// case, round, status (ok | failed | skipped), wall_s, user_s, sys_s, max_rss_kb, server_cpu_s
// (the CPU the database server spent serving the run), reason, stderr.
import { existsSync, readFileSync } from 'node:fs';

const STDERR_TAIL_LINES = 8;
// Rivet's default profile sleeps throttle_ms = 50 after each batch of batch_size = 10000 rows
// (reference §1, tuning profiles).
const BALANCED_BATCH_ROWS = 10000;
const BALANCED_THROTTLE_S = 0.05;

const CASES = {
  pg_copy_binary: '(a) limit: psql COPY binary → /dev/null',
  psql_copy_csv: '(b) psql \\copy → CSV file',
  pipeline_duckdb: '(c) psql CSV piped into DuckDB → Parquet zstd',
  rivet_pq_fast: '(d) rivet → Parquet zstd, profile fast',
  rivet_csv_fast: '(e) rivet → CSV, profile fast',
  rivet_pq_none_fast: 'rivet → Parquet uncompressed, profile fast',
  pg_copy_binary_pinned: '(a) pinned: server on CPU 0, psql COPY binary on CPU 1',
  rivet_csv_fast_pinned: '(e) pinned: server on CPU 0, rivet → CSV on CPU 1',
  rivet_pq_fast_pinned: '(d) pinned: server on CPU 0, rivet → Parquet zstd on CPU 1',
  rivet_pq_fast_1cpu: '(d) rivet → Parquet zstd, fast, rivet on CPU 1 only (no compression thread)',
  rivet_pq_fast_meta: 'rivet_pq_fast with meta_columns (exported_at, row_hash)',
  rivet_csv_fast_meta: 'rivet_csv_fast with meta_columns (exported_at, row_hash)',
  rivet_pq_balanced: '(f) rivet → Parquet zstd, default profile (balanced)',
  rivet_pq_share25: '(f) default profile paced: max_source_share 0.25',
  rivet_pq_share50: '(f) default profile paced: max_source_share 0.50',
  mariadb_quick: '(g) limit: mariadb --quick → /dev/null',
  rivet_mysql_pq_fast: '(g) rivet MySQL → Parquet zstd, profile fast',
  rivet_pq_chunked_p1: '(h) rivet chunked (10 chunks) → Parquet zstd, fast, parallel 1',
  rivet_pq_chunked_p2: '(h) rivet chunked (10 chunks) → Parquet zstd, fast, parallel 2',
  rivet_pq_chunked_p4: '(h) rivet chunked (10 chunks) → Parquet zstd, fast, parallel 4',
  rivet_pq_fast_s3: '(i) rivet → Parquet zstd, fast, to the local S3 test server',
  rivet_csv_fast_s3: '(i) rivet → CSV, fast, to the local S3 test server',
  rivet_pq_fast_gcs: '(j) rivet → Parquet zstd, fast, to the local GCS test server',
  rivet_csv_fast_gcs: '(j) rivet → CSV, fast, to the local GCS test server',
  rivet_pq_fast_20m: '(d) on the big table: rivet → Parquet zstd, fast',
  rivet_pq_balanced_20m: '(f) on the big table: rivet → Parquet zstd, balanced',
};

function readMeta(path) {
  const meta = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) meta[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return meta;
}

function readRuns(path) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines.shift().split('\t');
  return lines.map((line) => {
    const fields = line.split('\t');
    return Object.fromEntries(header.map((key, i) => [key, fields[i] ?? '']));
  });
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function summarize(runs) {
  const byCase = new Map();
  for (const run of runs) {
    if (!byCase.has(run.case)) byCase.set(run.case, []);
    byCase.get(run.case).push(run);
  }
  const out = new Map();
  for (const [id, list] of byCase) {
    const skipped = list.find((r) => r.status === 'skipped');
    if (skipped) {
      out.set(id, { id, skipped: skipped.reason });
      continue;
    }
    const ok = list.filter((r) => r.status === 'ok');
    const failed = list.filter((r) => r.status !== 'ok');
    const wall = ok.map((r) => Number(r.wall_s));
    const cpu = ok.map((r) => Number(r.user_s) + Number(r.sys_s));
    const rss = ok.map((r) => Number(r.max_rss_kb) / 1024);
    const server = ok.map((r) => Number(r.server_cpu_s || 0));
    const share = ok.map((r, i) => (server[i] > 0 ? cpu[i] / server[i] : null)).filter((x) => x !== null);
    out.set(id, {
      id,
      total: list.length,
      ok: ok.length,
      failed,
      wall: ok.length ? median(wall) : null,
      wallMin: ok.length ? Math.min(...wall) : null,
      wallMax: ok.length ? Math.max(...wall) : null,
      cpu: ok.length ? median(cpu) : null,
      rss: ok.length ? median(rss) : null,
      rssMax: ok.length ? Math.max(...rss) : null,
      server: ok.length ? median(server) : null,
      // rivet CPU / server CPU, the median of the per-run ratios.
      share: share.length ? median(share) : null,
    });
  }
  return out;
}

const fmt = (x, digits = 2) => (x === null || x === undefined ? '–' : x.toFixed(digits));
const int = (n) => Number(n).toLocaleString('en-US');

function stderrTail(path) {
  if (!path || !existsSync(path)) return '(no stderr captured)';
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const tail = lines.slice(-STDERR_TAIL_LINES).join('\n');
  return tail.length ? tail : '(stderr was empty)';
}

// A usable statistic of a case, or the reason there is none.
function stat(cases, id, key) {
  const c = cases.get(id);
  if (!c) return { missing: `${id} not run` };
  if (c.skipped !== undefined) return { missing: `${id} skipped` };
  if (c.ok === 0) return { missing: `${id} FAILED` };
  return { value: c[key], partial: c.ok < c.total };
}

function verdict(value, target, cmp) {
  if (target === null) return 'info';
  return (cmp === '<=' ? value <= target : value >= target) ? 'PASS' : 'MISS';
}

function ratioRow(cases, label, num, den, target, cmp, extra = '') {
  const a = stat(cases, num, 'wall');
  const b = stat(cases, den, 'wall');
  const want = target === null ? '–' : `${cmp === '<=' ? '≤' : '≥'} ${fmt(target, target * 10 % 1 ? 2 : 1)}×`;
  if (a.missing || b.missing) return `| ${label} | n/a (${a.missing ?? b.missing}) | ${want} | n/a |`;
  const ca = stat(cases, num, 'cpu').value;
  const cb = stat(cases, den, 'cpu').value;
  const ratio = a.value / b.value;
  const partial = a.partial || b.partial ? ' (some runs failed)' : '';
  const cpu = cb > 0 ? `; CPU ${fmt(ca / cb)}×` : '';
  return `| ${label} | ${fmt(ratio)}× wall${extra}${cpu}${partial} | ${want} | ${verdict(ratio, target, cmp)} |`;
}

// The client's CPU against the CPU of the server that fed it, for one case.
function shareRow(cases, label, id, target) {
  const s = stat(cases, id, 'share');
  const want = target === null ? '–' : `≤ ${fmt(target)}`;
  if (s.missing || s.value === null) return `| ${label} | n/a (${s.missing ?? 'no server CPU'}) | ${want} | n/a |`;
  const c = cases.get(id);
  const detail = ` (${fmt(c.cpu)} s / ${fmt(c.server)} s)`;
  return `| ${label} | ${fmt(s.value)}${detail} | ${want} | ${verdict(s.value, target, '<=')} |`;
}

// How the gentle settings cost and load the server: wall time against fast, and the server's
// CPU over the wall time (its busy share of one core).
function paceRow(cases, label, id) {
  const s = stat(cases, id, 'wall');
  const fast = stat(cases, 'rivet_pq_fast', 'wall');
  if (s.missing || fast.missing) return `| ${label} | n/a (${s.missing ?? fast.missing}) | – | info |`;
  const c = cases.get(id);
  const busy = c.server !== null && c.wall > 0 ? ` ; server busy ${fmt((100 * c.server) / c.wall, 0)} % of a core` : '';
  return `| ${label} | ${fmt(s.value / fast.value)}× the fast wall (${fmt(s.value)} s)${busy} | – | info |`;
}

function rssRow(cases, label, id, limitMb) {
  const s = stat(cases, id, 'rssMax');
  if (s.missing) return `| ${label} | n/a (${s.missing}) | ≤ ${limitMb} MB | n/a |`;
  const partial = s.partial ? ' (some runs failed)' : '';
  return `| ${label} | ${fmt(s.value, 1)} MB (worst run)${partial} | ≤ ${limitMb} MB | ${verdict(s.value, limitMb, '<=')} |`;
}

function rssGrowthRow(cases, label, big, small, bigRows, rows) {
  const a = stat(cases, big, 'rss');
  const b = stat(cases, small, 'rss');
  const want = '≤ 1.10× (within 10 %)';
  if (a.missing || b.missing) return `| ${label} | n/a (${a.missing ?? b.missing}) | ${want} | n/a |`;
  const ratio = a.value / b.value;
  return `| ${label} | ${fmt(ratio)}× (${fmt(a.value, 1)} MB at ${int(bigRows)} rows / ${fmt(b.value, 1)} MB at ${int(rows)}) | ${want} | ${verdict(ratio, 1.1, '<=')} |`;
}

function main() {
  const [metaPath, runsPath] = process.argv.slice(2);
  if (!metaPath || !runsPath) {
    console.error('usage: node report.mjs META_FILE RESULTS_TSV');
    process.exit(2);
  }
  const meta = readMeta(metaPath);
  const cases = summarize(readRuns(runsPath));
  const rows = Number(meta.rows);
  const order = [...(meta.cases ?? '').split(' ').filter(Boolean)];
  for (const id of cases.keys()) if (!order.includes(id)) order.push(id);

  const out = [];
  const p = (s = '') => out.push(s);
  p(`# Rivet benchmark, ${meta.date}`);
  p();
  p('| | |');
  p('|---|---|');
  p(`| CPU | ${meta.cpu} (nproc ${meta.nproc}) |`);
  p(`| memory | ${meta.memory} |`);
  p(`| system | ${meta.os}, ${meta.kernel} |`);
  p(`| PostgreSQL | ${meta.postgres} |`);
  p(`| MariaDB | ${meta.mariadb} |`);
  p(`| Rivet | ${meta.rivet} (${meta.rivet_bin}) |`);
  p(`| peers | DuckDB ${meta.duckdb} on Node ${meta.node} |`);
  const big = meta.big_rows ? `; \`${meta.big_table}\`: ${int(meta.big_rows)} rows` : '';
  p(`| data | \`${meta.table}\`: ${int(rows)} rows${big} |`);
  p(`| method | ${meta.runs} round(s), all cases interleaved in each round, medians; GNU time; page cache warmed by one untimed read |`);
  p();
  p('## Results');
  p();
  p('| case | what | median wall s | median CPU s | server CPU s | CPU / server CPU | peak RSS MB | runs ok | wall min–max s |');
  p('|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const id of order) {
    const c = cases.get(id);
    const what = CASES[id] ?? id;
    if (c.skipped !== undefined) {
      p(`| ${id} | ${what} | skipped | | | | | | |`);
    } else if (c.ok === 0) {
      p(`| ${id} | ${what} | FAILED | | | | | 0/${c.total} | |`);
    } else {
      const mark = c.ok < c.total ? ' (FAILED runs)' : '';
      p(`| ${id} | ${what} | ${fmt(c.wall)} | ${fmt(c.cpu)} | ${fmt(c.server)} | ${fmt(c.share)} | ${fmt(c.rss, 1)} | ${c.ok}/${c.total}${mark} | ${fmt(c.wallMin)}–${fmt(c.wallMax)} |`);
    }
  }
  p();
  p('CPU is user + system time of the whole command (every process of a pipeline); peak RSS is');
  p('the largest single process (for a pipeline: the larger of psql and DuckDB, not their sum),');
  p('the median over the runs. Server CPU is what the database spent serving the run: for');
  p('PostgreSQL the CPU of the backends that ended during it (the postmaster\'s cutime + cstime),');
  p('for MariaDB mysqld\'s whole utime + stime; CPU / server CPU is the median of the per-run ratios.');
  p();
  p('## Against the targets');
  p();
  const throttleS = Math.ceil(rows / BALANCED_BATCH_ROWS) * BALANCED_THROTTLE_S;
  const fast = stat(cases, 'rivet_pq_fast', 'wall');
  const balanced = stat(cases, 'rivet_pq_balanced', 'wall');
  const throttleNote =
    fast.missing || balanced.missing
      ? ''
      : ` (+${fmt(balanced.value - fast.value)} s; the throttle alone sleeps ${fmt(throttleS)} s)`;
  p('| comparison | measured | target | verdict |');
  p('|---|---|---|---|');
  p(ratioRow(cases, 'rivet Parquet (fast) / limit (COPY binary)', 'rivet_pq_fast', 'pg_copy_binary', 1.15, '<='));
  p(ratioRow(cases, 'rivet CSV (fast) / psql \\copy CSV', 'rivet_csv_fast', 'psql_copy_csv', 1.0, '<='));
  p(ratioRow(cases, 'pipeline (psql \\| DuckDB) / rivet Parquet (fast)', 'pipeline_duckdb', 'rivet_pq_fast', 2.0, '>='));
  p(ratioRow(cases, 'rivet MySQL → Parquet (fast) / mariadb --quick', 'rivet_mysql_pq_fast', 'mariadb_quick', 1.2, '<='));
  p(ratioRow(cases, 'balanced / fast, Parquet (the throttle\'s cost)', 'rivet_pq_balanced', 'rivet_pq_fast', null, '<=', throttleNote));
  p(rssRow(cases, 'peak RSS, rivet Parquet fast', 'rivet_pq_fast', 64));
  p(paceRow(cases, 'fast (no pause)', 'rivet_pq_fast'));
  p(paceRow(cases, 'balanced: throttle_ms 50 per 10,000 rows', 'rivet_pq_balanced'));
  p(paceRow(cases, 'balanced paced: max_source_share 0.25', 'rivet_pq_share25'));
  p(paceRow(cases, 'balanced paced: max_source_share 0.50', 'rivet_pq_share50'));
  p(shareRow(cases, 'rivet CSV (fast) CPU / server CPU', 'rivet_csv_fast', 0.6));
  p(shareRow(cases, 'rivet Parquet uncompressed (fast) CPU / server CPU', 'rivet_pq_none_fast', 0.6));
  p(shareRow(cases, 'rivet Parquet zstd (fast) CPU / server CPU', 'rivet_pq_fast', null));
  p(shareRow(cases, 'rivet MySQL → Parquet zstd (fast) CPU / server CPU', 'rivet_mysql_pq_fast', null));
  p(shareRow(cases, 'DuckDB pipeline CPU / server CPU', 'pipeline_duckdb', null));
  p(shareRow(cases, 'psql COPY binary CPU / server CPU', 'pg_copy_binary', null));
  p(ratioRow(cases, 'pinned: rivet CSV / COPY binary', 'rivet_csv_fast_pinned', 'pg_copy_binary_pinned', 1.15, '<='));
  p(ratioRow(cases, 'pinned: rivet Parquet zstd / COPY binary', 'rivet_pq_fast_pinned', 'pg_copy_binary_pinned', null, '<='));
  p(ratioRow(cases, 'rivet Parquet zstd on 2 CPUs / on 1 CPU (the compression threads)', 'rivet_pq_fast', 'rivet_pq_fast_1cpu', null, '<='));
  p(ratioRow(cases, 'meta columns / none, Parquet (fast)', 'rivet_pq_fast_meta', 'rivet_pq_fast', null, '<='));
  p(ratioRow(cases, 'meta columns / none, CSV (fast)', 'rivet_csv_fast_meta', 'rivet_csv_fast', null, '<='));
  p(ratioRow(cases, 'chunked parallel 2 / chunked parallel 1', 'rivet_pq_chunked_p2', 'rivet_pq_chunked_p1', null, '<='));
  p(ratioRow(cases, 'chunked parallel 4 / full export (fast)', 'rivet_pq_chunked_p4', 'rivet_pq_fast', null, '<='));
  p(rssRow(cases, 'peak RSS, rivet Parquet default (balanced)', 'rivet_pq_balanced', 64));
  p(ratioRow(cases, 'rivet Parquet (fast) to S3 / to local disk', 'rivet_pq_fast_s3', 'rivet_pq_fast', null, '<='));
  p(ratioRow(cases, 'rivet CSV (fast) to S3 / to local disk', 'rivet_csv_fast_s3', 'rivet_csv_fast', null, '<='));
  // Two 8 MiB parts in flight and the one being filled come on top of the local budget.
  p(rssRow(cases, 'peak RSS, rivet CSV fast to S3', 'rivet_csv_fast_s3', 96));
  p(ratioRow(cases, 'rivet Parquet (fast) to GCS / to local disk', 'rivet_pq_fast_gcs', 'rivet_pq_fast', null, '<='));
  p(ratioRow(cases, 'rivet CSV (fast) to GCS / to local disk', 'rivet_csv_fast_gcs', 'rivet_csv_fast', null, '<='));
  // One 8 MiB chunk in flight and the one being filled come on top of the local budget.
  p(rssRow(cases, 'peak RSS, rivet CSV fast to GCS', 'rivet_csv_fast_gcs', 96));
  if (meta.big_rows) {
    p(rssRow(cases, `peak RSS, rivet Parquet fast, ${int(meta.big_rows)} rows`, 'rivet_pq_fast_20m', 64));
    p(rssRow(cases, `peak RSS, rivet Parquet default, ${int(meta.big_rows)} rows`, 'rivet_pq_balanced_20m', 64));
    p(rssGrowthRow(cases, 'RSS big / base, fast', 'rivet_pq_fast_20m', 'rivet_pq_fast', meta.big_rows, rows));
    p(rssGrowthRow(cases, 'RSS big / base, default', 'rivet_pq_balanced_20m', 'rivet_pq_balanced', meta.big_rows, rows));
  } else {
    p('| RSS 20M / 5M | n/a (run with --rows-20m) | ≤ 1.10× | n/a |');
  }
  p();
  p('Ratios compare median wall times. A ratio that needs a failed or skipped case is n/a.');

  const failed = order.map((id) => cases.get(id)).filter((c) => c.failed?.length);
  const skipped = order.map((id) => cases.get(id)).filter((c) => c.skipped !== undefined);
  if (failed.length || skipped.length) {
    p();
    p('## Failures and skips');
    for (const c of failed) {
      const reasons = [...new Set(c.failed.map((r) => r.reason))].join('; ');
      p();
      p(`### ${c.id}: FAILED in round(s) ${c.failed.map((r) => r.round).join(', ')} (${reasons})`);
      p();
      p('Last lines of stderr (last failed round):');
      p();
      p('```');
      p(stderrTail(c.failed[c.failed.length - 1].stderr));
      p('```');
    }
    for (const c of skipped) {
      p();
      p(`- ${c.id}: skipped, ${c.skipped}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
