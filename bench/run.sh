#!/usr/bin/env bash
# Rivet's benchmark: one command that measures Rivet against the physical limit of the source
# and against what users run instead, on the same data, and writes the numbers down.
#
#   bash bench/run.sh [--runs N] [--rows-20m] [--label NAME] [options below]
#
# What it does, in order:
#   1. bash scripts/install-deps.sh and bash scripts/build.sh (skipped with --skip-setup; the
#      build is also skipped when RIVET_BIN names a binary to measure);
#   2. starts throwaway servers with scripts/servers/postgres.sh and, when present,
#      scripts/servers/mariadb.sh, keeping everything in a persistent state directory
#      (default .rivet-bench/ in the repository; it ignores itself in git);
#   3. creates once, and reuses while the row count matches, database rivet_bench holding the
#      5,000,000-row table `events` in PostgreSQL (and `events_20m` with --rows-20m) and the
#      same rows in MariaDB;
#   4. runs every case once per round, all cases interleaved within each round (A B C A B C...),
#      for --runs rounds (default 3), each under GNU time (/usr/bin/time), after one untimed
#      read of each table to warm the page cache;
#   5. prints the median wall time, CPU time (user+sys), peak RSS and the CPU the database server
#      spent serving it (see server_cpu below) of each case, the ratios
#      against the targets, and writes the same report, with a description of the machine, to
#      bench/results/<YYYY-MM-DD>-<label>.md (the path is printed last).
#
# Cases (PostgreSQL table `events`, MariaDB table `events`):
#   (a) pg_copy_binary       psql COPY (SELECT * FROM events) TO STDOUT (FORMAT binary) > /dev/null
#   (b) psql_copy_csv        psql \copy (SELECT * FROM events) to 'FILE' csv
#   (c) pipeline_duckdb      psql COPY ... csv | node bench/duckdb_pipeline.mjs (DuckDB, typed
#                            columns, Parquet zstd)
#   (d) rivet_pq_fast        rivet -> Parquet zstd, tuning.profile fast
#   (e) rivet_csv_fast       rivet -> CSV, tuning.profile fast
#       rivet_pq_none_fast   rivet -> Parquet without compression, fast
#   pinned layout (2+ cores): the server on CPU 0 for the case, the client on CPU 1 (taskset)
#       pg_copy_binary_pinned, rivet_csv_fast_pinned, rivet_pq_fast_pinned
#       rivet_pq_fast_1cpu   rivet_pq_fast with rivet on CPU 1 alone (the server free): against
#                            rivet_pq_fast, what the page-compression threads buy on 2 cores
#       rivet_pq_fast_meta   rivet_pq_fast with meta_columns (exported_at and row_hash): the
#       rivet_csv_fast_meta  cost of hashing every row, against rivet_pq_fast / rivet_csv_fast
#   (f) rivet_pq_balanced    rivet -> Parquet zstd, default profile (balanced: 50 ms per batch)
#       rivet_pq_share25     the default profile paced by tuning.max_source_share 0.25 / 0.50
#       rivet_pq_share50     instead of its fixed pause
#   (g) mariadb_quick        mariadb --quick -e 'SELECT * FROM events' > /dev/null
#       rivet_mysql_pq_fast  rivet MySQL -> Parquet zstd, tuning.profile fast
#   (i) rivet_pq_fast_s3     rivet -> Parquet zstd, fast, to the S3 test server of
#                            scripts/servers/s3.sh (s3rver behind the SigV4-checking proxy)
#       rivet_csv_fast_s3    rivet -> CSV, fast, to the same server
#   (j) rivet_pq_fast_gcs    rivet -> Parquet zstd, fast, to the GCS test server of
#                            scripts/servers/gcs.sh (resumable uploads, service-account tokens)
#       rivet_csv_fast_gcs   rivet -> CSV, fast, to the same server
#   with --rows-20m: rivet_pq_fast_20m, rivet_pq_balanced_20m on `events_20m` (memory stays flat)
# A case that fails (non-zero exit, wrong row count, timeout) is reported as FAILED with the
# tail of its stderr; the others still run. Without scripts/servers/mariadb.sh, or when MariaDB
# does not start, the MySQL cases are skipped with a message and the PostgreSQL part goes on;
# the S3 and GCS cases likewise when their test server does not start.
#
# Options:
#   --runs N          rounds (default 3; at least 3 for a result worth publishing)
#   --rows N          rows of the base table (default 5000000; other sizes use table
#                     events_<N>, e.g. --rows 200000 --runs 1 for a quick try of the harness)
#   --rows-20m        also build `events_20m` (20,000,000 rows, once) and measure RSS there
#   --big-rows N      size of that big table instead of 20,000,000 (implies --rows-20m)
#   --cases A,B,...   run only these case ids (the ratios needing others show n/a)
#   --label NAME      label of the results file (default <nproc>cpu-<GB>gb-<rows>)
#   --timeout S       per-run limit in seconds (default 900); a run over it is FAILED
#   --skip-setup      do not call install-deps.sh / build.sh
#   --keep-servers    leave the servers running afterwards (default: stop them; data is kept)
# Environment:
#   RIVET_BIN          binary to measure (default build/src/rivet/cli/rivet)
#   RIVET_BENCH_STATE  state directory (default .rivet-bench in the repository)
#
# Rivet configs, case scripts, per-run stderr and raw timings are kept in the state directory
# (configs/, cases/, logs/, results.tsv) so every number can be reproduced by hand.
# The benchmark is NOT part of scripts/test.sh or ctest: tests never assert timings.
set -euo pipefail
# A relative RIVET_BIN is relative to where the command was started.
if [ -n "${RIVET_BIN:-}" ] && [[ "$RIVET_BIN" != /* ]]; then RIVET_BIN="$PWD/$RIVET_BIN"; fi
cd "$(dirname "$0")/.."
ROOT=$PWD
KNOWN_CASES="pg_copy_binary psql_copy_csv pipeline_duckdb rivet_pq_fast rivet_csv_fast rivet_pq_none_fast pg_copy_binary_pinned rivet_csv_fast_pinned rivet_pq_fast_pinned rivet_pq_fast_1cpu rivet_pq_fast_meta rivet_csv_fast_meta rivet_pq_balanced rivet_pq_share25 rivet_pq_share50 mariadb_quick rivet_mysql_pq_fast rivet_pq_fast_s3 rivet_csv_fast_s3 rivet_pq_fast_gcs rivet_csv_fast_gcs rivet_pq_chunked_p1 rivet_pq_chunked_p2 rivet_pq_chunked_p4 rivet_pq_fast_20m rivet_pq_balanced_20m"

RUNS=3
ROWS=5000000
BIG=0
BIG_ROWS=20000000
ONLY_CASES=""
LABEL=""
TIMEOUT_S=900
SKIP_SETUP=0
KEEP_SERVERS=0

die() { echo "bench: $*" >&2; exit 2; }
say() { echo "bench: $*" >&2; }
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }

while (($#)); do
  case "$1" in
    --runs) is_count "${2:-}" || die "--runs needs a positive integer"; RUNS=$2; shift 2 ;;
    --rows) is_count "${2:-}" || die "--rows needs a positive integer"; ROWS=$2; shift 2 ;;
    --rows-20m) BIG=1; shift ;;
    --big-rows) is_count "${2:-}" || die "--big-rows needs a positive integer"; BIG=1; BIG_ROWS=$2; shift 2 ;;
    --cases) ONLY_CASES=${2:-}; shift 2 ;;
    --label) LABEL=${2:-}; shift 2 ;;
    --timeout) is_count "${2:-}" || die "--timeout needs a positive integer"; TIMEOUT_S=$2; shift 2 ;;
    --skip-setup) SKIP_SETUP=1; shift ;;
    --keep-servers) KEEP_SERVERS=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for id in ${ONLY_CASES//,/ }; do
  [[ " $KNOWN_CASES " == *" $id "* ]] || die "unknown case '$id' in --cases (known: $KNOWN_CASES)"
done
((RUNS >= 3)) || say "note: --runs $RUNS; publish results measured with at least 3 rounds"

# ---------------------------------------------------------------------------------------------
# 1. Setup: packages and the binary.
if ((SKIP_SETUP == 0)); then
  bash scripts/install-deps.sh
  if [ -z "${RIVET_BIN:-}" ]; then bash scripts/build.sh; fi
fi
RIVET_BIN=${RIVET_BIN:-build/src/rivet/cli/rivet}
[[ "$RIVET_BIN" = /* ]] || RIVET_BIN="$ROOT/$RIVET_BIN"
[ -x "$RIVET_BIN" ] || say "warning: $RIVET_BIN is not an executable; the rivet cases will fail"
[ -x /usr/bin/time ] || die "/usr/bin/time (Debian package 'time') is missing; run scripts/install-deps.sh"
command -v psql >/dev/null || die "psql is missing; run scripts/install-deps.sh"
command -v node >/dev/null || die "node is missing; run scripts/install-deps.sh"

# DuckDB for the pipeline case: from tools/ when its package.json pins it (install-deps installs
# it), otherwise from bench/package.json, installed here.
if [ -f tools/package.json ] && grep -q '"@duckdb/node-api"' tools/package.json; then
  DUCKDB_BASE="$ROOT/tools"
else
  DUCKDB_BASE="$ROOT/bench"
  if [ ! -d bench/node_modules/@duckdb/node-api ] || [ bench/package.json -nt bench/node_modules ]; then
    say "installing @duckdb/node-api into bench/node_modules (pinned in bench/package.json)"
    (cd bench && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
    touch bench/node_modules
  fi
fi

# ---------------------------------------------------------------------------------------------
# 2. State directory and servers.
STATE=${RIVET_BENCH_STATE:-$ROOT/.rivet-bench}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
[ -f "$STATE/.gitignore" ] || echo '*' >"$STATE/.gitignore"
mkdir -p "$STATE/configs" "$STATE/cases" "$STATE/logs"
SCRATCH="$STATE/scratch"

HAVE_MYSQL=0
MYSQL_SKIP_REASON=""
stop_servers() {
  ((KEEP_SERVERS)) && return 0
  bash scripts/servers/postgres.sh stop "$STATE" >/dev/null 2>&1 || true
  if [ -f scripts/servers/mariadb.sh ]; then
    bash scripts/servers/mariadb.sh stop "$STATE" >/dev/null 2>&1 || true
  fi
  bash scripts/servers/s3.sh stop "$STATE" >/dev/null 2>&1 || true
  bash scripts/servers/gcs.sh stop "$STATE" >/dev/null 2>&1 || true
  rm -rf "$SCRATCH"
}
trap stop_servers EXIT

[ -f scripts/servers/postgres.sh ] || die "scripts/servers/postgres.sh is missing"
bash scripts/servers/postgres.sh start "$STATE" >&2
set -a
. "$STATE/postgres.env"
set +a
PG_PORT=$RIVET_TEST_PG_PORT
export RIVET_BENCH_PG_URL="${RIVET_TEST_PG_URL%/*}/rivet_bench"
export PGTZ=UTC PGCLIENTENCODING=UTF8
# The test server offers TLS, which libpq's default (prefer) would take for psql and rivet
# alike: the benchmark measures the export path unencrypted, as its earlier results did.
export PGSSLMODE=disable
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)

if [ ! -f scripts/servers/mariadb.sh ]; then
  MYSQL_SKIP_REASON="scripts/servers/mariadb.sh is not in this checkout"
elif ! bash scripts/servers/mariadb.sh start "$STATE" >&2; then
  MYSQL_SKIP_REASON="MariaDB did not start (see $STATE/mysqld.log)"
elif ! { set -a && . "$STATE/mariadb.env" && set +a; }; then
  MYSQL_SKIP_REASON="$STATE/mariadb.env could not be read"
else
  HAVE_MYSQL=1
  MY_PORT=$RIVET_TEST_MYSQL_PORT
  export RIVET_BENCH_MYSQL_URL="${RIVET_TEST_MYSQL_URL%/*}/rivet_bench"
  MARIADB=(mariadb --no-defaults -h 127.0.0.1 -P "$MY_PORT" -uroot)
fi
((HAVE_MYSQL)) || say "MySQL cases skipped: $MYSQL_SKIP_REASON"

HAVE_S3=0
S3_SKIP_REASON=""
if ! bash scripts/servers/s3.sh start "$STATE" >&2; then
  S3_SKIP_REASON="the S3 test server did not start (see $STATE/s3rver.log, $STATE/s3proxy.log)"
elif ! { set -a && . "$STATE/s3.env" && set +a; }; then
  S3_SKIP_REASON="$STATE/s3.env could not be read"
else
  HAVE_S3=1
fi
((HAVE_S3)) || say "S3 cases skipped: $S3_SKIP_REASON"

HAVE_GCS=0
GCS_SKIP_REASON=""
if ! bash scripts/servers/gcs.sh start "$STATE" >&2; then
  GCS_SKIP_REASON="the GCS test server did not start (see $STATE/gcsfake.log)"
elif ! { set -a && . "$STATE/gcs.env" && set +a; }; then
  GCS_SKIP_REASON="$STATE/gcs.env could not be read"
else
  HAVE_GCS=1
fi
((HAVE_GCS)) || say "GCS cases skipped: $GCS_SKIP_REASON"
# The objects of the GCS cases (prefix bench/ of the test bucket), through the server's control API.
gcs_bench_objects() {
  curl -sf "$RIVET_TEST_GCS_ENDPOINT/__rivet/list?bucket=$RIVET_TEST_GCS_BUCKET&prefix=bench/" |
    node -e 'for (const n of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(n)'
}

# ---------------------------------------------------------------------------------------------
# 3. Data, created once and reused while the row count matches.
table_for() {
  case "$1" in
    5000000) echo events ;;
    20000000) echo events_20m ;;
    *) echo "events_$1" ;;
  esac
}
TABLE=$(table_for "$ROWS")
BIG_TABLE=$(table_for "$BIG_ROWS")
((BIG)) && [ "$BIG_TABLE" = "$TABLE" ] && die "--big-rows must differ from --rows"

pg_count() {
  if [ -z "$("${PSQL[@]}" -d rivet_bench -tAc "SELECT to_regclass('public.$1')")" ]; then
    echo -1
  else
    "${PSQL[@]}" -d rivet_bench -tAc "SELECT count(*) FROM $1"
  fi
}

# Deterministic rows: ~8 event types, payloads of 60-98 varied characters, amounts with cents,
# microsecond timestamps. MariaDB below produces the same values.
pg_create() {
  local table=$1 rows=$2 started=$SECONDS
  say "PostgreSQL: creating $table ($rows rows, once; about 25 s per 5M rows)"
  "${PSQL[@]}" -d rivet_bench <<SQL
DROP TABLE IF EXISTS $table;
CREATE TABLE $table (
  id bigint PRIMARY KEY,
  user_id int NOT NULL,
  event_type text NOT NULL,
  payload text NOT NULL,
  amount numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO $table
SELECT i,
       (1 + (i * 7919) % 250000)::int,
       (ARRAY['page_view','click','add_to_cart','purchase','signup','login','logout','search'])[1 + (i % 8)::int],
       left(md5(i::text) || ' ' || md5((i # 48271)::text) || ' ' || md5((i * 31)::text), 60 + (i % 39)::int),
       ((i * 104729) % 10000000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + (i * 6) * interval '1 second'
         + ((i * 7919) % 1000000) * interval '1 microsecond'
FROM generate_series(1::bigint, ${rows}::bigint) AS i;
-- Set hint bits and statistics now, so the first measured read does not write.
VACUUM (FREEZE, ANALYZE) $table;
SQL
  say "PostgreSQL: $table created in $((SECONDS - started)) s"
}

pg_ensure() {
  local table=$1 rows=$2 have
  have=$(pg_count "$table")
  if [ "$have" != "$rows" ]; then
    [ "$have" = "-1" ] || say "PostgreSQL: $table has $have rows, want $rows: recreating"
    pg_create "$table" "$rows"
    have=$(pg_count "$table")
    [ "$have" = "$rows" ] || die "PostgreSQL: $table has $have rows after loading, want $rows"
  else
    say "PostgreSQL: reusing $table ($rows rows)"
  fi
}

my_count() {
  local exists
  exists=$("${MARIADB[@]}" -N -B -e "SELECT COUNT(*) FROM information_schema.tables
    WHERE table_schema = 'rivet_bench' AND table_name = '$1'")
  if [ "$exists" = "0" ]; then echo -1; else "${MARIADB[@]}" -N -B -e "SELECT COUNT(*) FROM rivet_bench.$1"; fi
}

my_create() {
  local table=$1 rows=$2 started=$SECONDS from to step=1000000
  say "MariaDB: creating $table ($rows rows, once)"
  "${MARIADB[@]}" rivet_bench -e "
DROP TABLE IF EXISTS $table;
CREATE TABLE $table (
  id bigint NOT NULL PRIMARY KEY,
  user_id int NOT NULL,
  event_type varchar(16) NOT NULL,
  payload varchar(120) NOT NULL,
  amount decimal(12,2) NOT NULL,
  created_at datetime(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;" || return 1
  # The Sequence engine's seq_A_to_B tables, in chunks of a million rows per transaction.
  for ((from = 1; from <= rows; from += step)); do
    to=$((from + step - 1))
    ((to > rows)) && to=$rows
    "${MARIADB[@]}" rivet_bench -e "
INSERT INTO $table
SELECT seq,
       1 + (seq * 7919) % 250000,
       ELT(1 + seq % 8, 'page_view','click','add_to_cart','purchase','signup','login','logout','search'),
       LEFT(CONCAT(MD5(seq), ' ', MD5(seq ^ 48271), ' ', MD5(seq * 31)), 60 + seq % 39),
       ((seq * 104729) % 10000000) / 100,
       TIMESTAMP'2024-01-01 00:00:00' + INTERVAL (seq * 6) SECOND
         + INTERVAL ((seq * 7919) % 1000000) MICROSECOND
FROM seq_${from}_to_${to};" || return 1
  done
  "${MARIADB[@]}" rivet_bench -e "ANALYZE TABLE $table" >/dev/null || return 1
  say "MariaDB: $table created in $((SECONDS - started)) s"
}

my_ensure() {
  local table=$1 rows=$2 have
  have=$(my_count "$table")
  if [ "$have" != "$rows" ]; then
    [ "$have" = "-1" ] || say "MariaDB: $table has $have rows, want $rows: recreating"
    my_create "$table" "$rows"
    have=$(my_count "$table")
    [ "$have" = "$rows" ] || die "MariaDB: $table has $have rows after loading, want $rows"
  else
    say "MariaDB: reusing $table ($rows rows)"
  fi
}

"${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'rivet_bench'" | grep -q 1 ||
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE rivet_bench"
pg_ensure "$TABLE" "$ROWS"
((BIG)) && pg_ensure "$BIG_TABLE" "$BIG_ROWS"
if ((HAVE_MYSQL)); then
  if ! "${MARIADB[@]}" -e "CREATE DATABASE IF NOT EXISTS rivet_bench CHARACTER SET utf8mb4" ||
    ! (my_ensure "$TABLE" "$ROWS"); then
    HAVE_MYSQL=0
    MYSQL_SKIP_REASON="the MariaDB table could not be created (see the messages above)"
    say "MySQL cases skipped: $MYSQL_SKIP_REASON"
  fi
fi

# ---------------------------------------------------------------------------------------------
# 4. Cases: each is a script in $STATE/cases, measured as `/usr/bin/time ... bash case.sh`.
# rivet_config NAME SOURCE_TYPE URL_ENV PROFILE FORMAT TABLE [PARALLEL [DEST]]: writes
# $STATE/configs/NAME.yaml; with PARALLEL, a chunked export by id in 10 chunks; DEST s3 or gcs
# sends the files to that test server under prefix bench/ instead of $SCRATCH/out.
rivet_config() {
  local name=$1 type=$2 url_env=$3 profile=$4 format=$5 table=$6 parallel=${7:-} dest=${8:-local}
  local meta=${9:-} share=${10:-}
  local file="$STATE/configs/$1.yaml"
  {
    echo "# Generated by bench/run.sh; rerun it rather than editing."
    echo "source:"
    echo "  type: $type"
    echo "  url_env: $url_env"
    if [ "$profile" != default ] || [ -n "$share" ]; then echo "  tuning:"; fi
    if [ "$profile" != default ]; then echo "    profile: $profile"; fi
    if [ -n "$share" ]; then echo "    max_source_share: $share"; fi
    echo "exports:"
    echo "  - name: $name"
    echo "    query: \"SELECT * FROM $table\""
    echo "    format: ${format%-none}"
    if [ "$format" = parquet ]; then echo "    compression: zstd"
    elif [ "$format" = parquet-none ]; then echo "    compression: none"; fi
    [ "$meta" = meta ] && echo "    meta_columns: {exported_at: true, row_hash: true}"
    if [ -n "$parallel" ]; then
      echo "    mode: chunked"
      echo "    chunk_column: id"
      echo "    chunk_size: $(((ROWS + 9) / 10))"
      echo "    parallel: $parallel"
    fi
    echo "    destination:"
    if [ "$dest" = s3 ]; then
      echo "      type: s3"
      echo "      bucket: $RIVET_TEST_S3_BUCKET"
      echo "      prefix: bench/"
      echo "      endpoint: $RIVET_TEST_S3_ENDPOINT"
      echo "      access_key_env: RIVET_TEST_S3_ACCESS_KEY"
      echo "      secret_key_env: RIVET_TEST_S3_SECRET_KEY"
    elif [ "$dest" = gcs ]; then
      echo "      type: gcs"
      echo "      bucket: $RIVET_TEST_GCS_BUCKET"
      echo "      prefix: bench/"
      echo "      endpoint: $RIVET_TEST_GCS_ENDPOINT"
      echo "      credentials_file: $RIVET_TEST_GCS_SA_FILE"
    else
      echo "      type: local"
      echo "      path: $SCRATCH/out"
    fi
  } >"$file"
  echo "$file"
}

CASES=()          # ids, in run order
declare -A ROWS_OF # id -> expected rows
declare -A CHECK   # id -> how to check the row count: rivet | rivet-s3 | rivet-gcs | file:PATH | stderr | none
# Where s3rver keeps the objects of the S3 cases (prefix bench/ of the test bucket).
S3_BENCH_DIR="$STATE/s3/${RIVET_TEST_S3_BUCKET:-rivet-test}/bench"
SKIPPED=()         # "id<TAB>reason"

# add_case ID ROWS CHECK BODY: BODY is the shell text measured (one command or one pipeline).
add_case() {
  local id=$1
  if [ -n "$ONLY_CASES" ] && [[ ",$ONLY_CASES," != *",$id,"* ]]; then return 0; fi
  CASES+=("$id")
  ROWS_OF[$id]=$2
  CHECK[$id]=$3
  {
    echo "#!/usr/bin/env bash"
    echo "# Case $id, generated by bench/run.sh: measured under /usr/bin/time, cwd $SCRATCH."
    echo "set -o pipefail"
    echo "export PGTZ=UTC PGCLIENTENCODING=UTF8"
    echo "export RIVET_BENCH_PG_URL=$(printf %q "$RIVET_BENCH_PG_URL")"
    [ -n "${RIVET_BENCH_MYSQL_URL:-}" ] && echo "export RIVET_BENCH_MYSQL_URL=$(printf %q "$RIVET_BENCH_MYSQL_URL")"
    echo "export RIVET_BENCH_DUCKDB_BASE=$(printf %q "$DUCKDB_BASE")"
    if ((HAVE_S3)); then
      echo "export RIVET_TEST_S3_ACCESS_KEY=$(printf %q "$RIVET_TEST_S3_ACCESS_KEY")"
      echo "export RIVET_TEST_S3_SECRET_KEY=$(printf %q "$RIVET_TEST_S3_SECRET_KEY")"
    fi
    echo "$4"
  } >"$STATE/cases/$id.sh"
}

skip_case() {
  if [ -n "$ONLY_CASES" ] && [[ ",$ONLY_CASES," != *",$1,"* ]]; then return 0; fi
  SKIPPED+=("$1"$'\t'"$2")
}

PSQL_CMD="psql -X -q -h 127.0.0.1 -p $PG_PORT -U postgres -d rivet_bench"
RIVET_Q=$(printf %q "$RIVET_BIN")
add_case pg_copy_binary "$ROWS" none \
  "exec $PSQL_CMD -c 'COPY (SELECT * FROM $TABLE) TO STDOUT (FORMAT binary)' > /dev/null"
add_case psql_copy_csv "$ROWS" "file:$SCRATCH/events.csv" \
  "exec $PSQL_CMD -c \"\\copy (SELECT * FROM $TABLE) to '$SCRATCH/events.csv' csv\""
add_case pipeline_duckdb "$ROWS" stderr \
  "$PSQL_CMD -c 'COPY (SELECT * FROM $TABLE) TO STDOUT (FORMAT csv)' | node $(printf %q "$ROOT/bench/duckdb_pipeline.mjs") $SCRATCH/events.parquet"
add_case rivet_pq_fast "$ROWS" rivet \
  "exec $RIVET_Q run --config $(rivet_config rivet_pq_fast postgres RIVET_BENCH_PG_URL fast parquet "$TABLE")"
add_case rivet_csv_fast "$ROWS" rivet \
  "exec $RIVET_Q run --config $(rivet_config rivet_csv_fast postgres RIVET_BENCH_PG_URL fast csv "$TABLE")"
add_case rivet_pq_none_fast "$ROWS" rivet \
  "exec $RIVET_Q run --config $(rivet_config rivet_pq_none_fast postgres RIVET_BENCH_PG_URL fast parquet-none "$TABLE")"
# The pinned layout (the nearest this machine gets to a remote database): run_case pins the
# server to CPU 0 for every *_pinned case, and the client runs on CPU 1.
if (($(nproc) >= 2)); then
  add_case pg_copy_binary_pinned "$ROWS" none \
    "exec taskset -c 1 $PSQL_CMD -c 'COPY (SELECT * FROM $TABLE) TO STDOUT (FORMAT binary)' > /dev/null"
  for f in csv pq; do
    add_case "rivet_${f}_fast_pinned" "$ROWS" rivet \
      "exec taskset -c 1 $RIVET_Q run --config $(rivet_config "rivet_${f}_fast_pinned" postgres RIVET_BENCH_PG_URL fast "${f/pq/parquet}" "$TABLE")"
  done
  # One usable CPU leaves rivet no compression thread (CompressionThreads follows the affinity).
  add_case rivet_pq_fast_1cpu "$ROWS" rivet \
    "exec taskset -c 1 $RIVET_Q run --config $(rivet_config rivet_pq_fast_1cpu postgres RIVET_BENCH_PG_URL fast parquet "$TABLE")"
fi
add_case rivet_pq_fast_meta "$ROWS" rivet \
  "exec $RIVET_Q run --config $(rivet_config rivet_pq_fast_meta postgres RIVET_BENCH_PG_URL fast parquet "$TABLE" "" local meta)"
add_case rivet_csv_fast_meta "$ROWS" rivet \
  "exec $RIVET_Q run --config $(rivet_config rivet_csv_fast_meta postgres RIVET_BENCH_PG_URL fast csv "$TABLE" "" local meta)"
add_case rivet_pq_balanced "$ROWS" rivet \
  "exec $RIVET_Q run --config $(rivet_config rivet_pq_balanced postgres RIVET_BENCH_PG_URL default parquet "$TABLE")"
# The default profile paced instead of paused (tuning.max_source_share).
for share in 25 50; do
  add_case "rivet_pq_share$share" "$ROWS" rivet \
    "exec $RIVET_Q run --config $(rivet_config "rivet_pq_share$share" postgres RIVET_BENCH_PG_URL default parquet "$TABLE" "" local "" "0.$share")"
done
for p in 1 2 4; do
  add_case "rivet_pq_chunked_p$p" "$ROWS" rivet \
    "exec $RIVET_Q run --config $(rivet_config "rivet_pq_chunked_p$p" postgres RIVET_BENCH_PG_URL fast parquet "$TABLE" "$p")"
done
if ((HAVE_MYSQL)); then
  add_case mariadb_quick "$ROWS" none \
    "exec mariadb --no-defaults --quick -h 127.0.0.1 -P $MY_PORT -uroot rivet_bench -e 'SELECT * FROM $TABLE' > /dev/null"
  add_case rivet_mysql_pq_fast "$ROWS" rivet \
    "exec $RIVET_Q run --config $(rivet_config rivet_mysql_pq_fast mysql RIVET_BENCH_MYSQL_URL fast parquet "$TABLE")"
else
  skip_case mariadb_quick "$MYSQL_SKIP_REASON"
  skip_case rivet_mysql_pq_fast "$MYSQL_SKIP_REASON"
fi
if ((HAVE_S3)); then
  add_case rivet_pq_fast_s3 "$ROWS" rivet-s3 \
    "exec $RIVET_Q run --config $(rivet_config rivet_pq_fast_s3 postgres RIVET_BENCH_PG_URL fast parquet "$TABLE" "" s3)"
  add_case rivet_csv_fast_s3 "$ROWS" rivet-s3 \
    "exec $RIVET_Q run --config $(rivet_config rivet_csv_fast_s3 postgres RIVET_BENCH_PG_URL fast csv "$TABLE" "" s3)"
else
  skip_case rivet_pq_fast_s3 "$S3_SKIP_REASON"
  skip_case rivet_csv_fast_s3 "$S3_SKIP_REASON"
fi
if ((HAVE_GCS)); then
  add_case rivet_pq_fast_gcs "$ROWS" rivet-gcs \
    "exec $RIVET_Q run --config $(rivet_config rivet_pq_fast_gcs postgres RIVET_BENCH_PG_URL fast parquet "$TABLE" "" gcs)"
  add_case rivet_csv_fast_gcs "$ROWS" rivet-gcs \
    "exec $RIVET_Q run --config $(rivet_config rivet_csv_fast_gcs postgres RIVET_BENCH_PG_URL fast csv "$TABLE" "" gcs)"
else
  skip_case rivet_pq_fast_gcs "$GCS_SKIP_REASON"
  skip_case rivet_csv_fast_gcs "$GCS_SKIP_REASON"
fi
if ((BIG)); then
  add_case rivet_pq_fast_20m "$BIG_ROWS" rivet \
    "exec $RIVET_Q run --config $(rivet_config rivet_pq_fast_20m postgres RIVET_BENCH_PG_URL fast parquet "$BIG_TABLE")"
  add_case rivet_pq_balanced_20m "$BIG_ROWS" rivet \
    "exec $RIVET_Q run --config $(rivet_config rivet_pq_balanced_20m postgres RIVET_BENCH_PG_URL default parquet "$BIG_TABLE")"
fi
((${#CASES[@]})) || die "no case to run (check --cases)"

# Empties the scratch directory and flushes the last run's writes, outside any measurement.
reset_scratch() {
  rm -rf "$SCRATCH" "$S3_BENCH_DIR"
  if ((HAVE_GCS)); then
    local name
    while read -r name; do
      curl -sf -X DELETE -G "$RIVET_TEST_GCS_ENDPOINT/__rivet/object" \
        --data-urlencode "bucket=$RIVET_TEST_GCS_BUCKET" --data-urlencode "name=$name" >/dev/null || true
    done < <(gcs_bench_objects || true)
  fi
  mkdir -p "$SCRATCH/out"
  sync
}

RESULTS="$STATE/results.tsv"
printf 'case\tround\tstatus\twall_s\tuser_s\tsys_s\tmax_rss_kb\tserver_cpu_s\treason\tstderr\n' >"$RESULTS"
for s in "${SKIPPED[@]}"; do
  printf '%s\t-\tskipped\t\t\t\t\t\t%s\t\n' "${s%%$'\t'*}" "${s#*$'\t'}" >>"$RESULTS"
done

# The server behind a case, as one pid: PostgreSQL's postmaster or mysqld.
server_pid() {
  case "$1" in
    mariadb_* | rivet_mysql_*) cat "$STATE/mysqld.pid" ;;
    *) head -n 1 "$STATE/pg/postmaster.pid" ;;
  esac
}
# The CPU seconds (user + system) the server has spent on its clients so far. For PostgreSQL,
# the backends that ended: each connection is served by a child of the postmaster, and when it
# exits its CPU is added to the postmaster's cutime + cstime (fields 16-17 of /proc/PID/stat).
# For MariaDB, mysqld's own utime + stime (fields 14-15: every thread of the process).
server_cpu() {
  local pid=$2 first=16
  case "$1" in mariadb_* | rivet_mysql_*) first=14 ;; esac
  # The command name in field 2 may hold spaces: count the fields after its closing ')'.
  sed 's/.*) //' "/proc/$pid/stat" | awk -v f=$((first - 2)) -v hz="$(getconf CLK_TCK)" \
    '{printf "%.2f", ($f + $(f + 1)) / hz}'
}
server_children() { wc -w <"/proc/$1/task/$1/children"; }
# pin_server ID CPUS: the server of ID and its processes (new backends inherit it) on CPUS.
pin_server() {
  local pid child
  pid=$(server_pid "$1")
  taskset -a -p -c "$2" "$pid" >/dev/null
  for child in $(cat "/proc/$pid/task/$pid/children"); do
    taskset -a -p -c "$2" "$child" >/dev/null 2>&1 || true
  done
}

# run_case ID ROUND: one measured run, one line in results.tsv; never aborts the benchmark.
run_case() {
  local id=$1 round=$2 tfile="$STATE/logs/$1.r$2.time" efile="$STATE/logs/$1.r$2.stderr"
  local status=ok reason="" rc line wall user sys rss got
  local spid scpu0 scpu kids
  reset_scratch
  spid=$(server_pid "$id")
  kids=$(server_children "$spid")
  scpu0=$(server_cpu "$id" "$spid")
  [[ "$id" == *_pinned ]] && pin_server "$id" 0
  rc=0
  (cd "$SCRATCH" && /usr/bin/time -f 'RIVET_BENCH %e %U %S %M' -o "$tfile" \
    timeout --kill-after=10 "$TIMEOUT_S" bash "$STATE/cases/$id.sh" 2>"$efile") || rc=$?
  line=$(grep '^RIVET_BENCH ' "$tfile" 2>/dev/null | tail -n 1 || true)
  read -r _ wall user sys rss <<<"${line:-x 0 0 0 0}"
  [[ "$id" == *_pinned ]] && pin_server "$id" "0-$(($(nproc) - 1))"
  # The backends that served the case end just after their client: wait (bounded) for them.
  for _ in $(seq 100); do
    (($(server_children "$spid") <= kids)) && break
    sleep 0.02
  done
  scpu=$(awk -v a="$(server_cpu "$id" "$spid")" -v b="$scpu0" 'BEGIN {printf "%.2f", a - b}')
  if ((rc == 124 || rc == 137)); then
    status=failed reason="timed out after ${TIMEOUT_S} s"
  elif ((rc != 0)); then
    status=failed reason="exit status $rc"
  elif [ -z "$line" ]; then
    status=failed reason="no timing recorded"
  else
    got=""
    case "${CHECK[$id]}" in
      rivet-gcs)
        got=$(sed -n 's/^ *rows: *\([0-9][0-9]*\).*/\1/p' "$efile" | tail -n 1)
        if [ -z "$(gcs_bench_objects 2>/dev/null | head -n 1)" ]; then
          status=failed reason="rivet exited 0 but wrote no object"
        fi ;;
      rivet | rivet-s3)
        got=$(sed -n 's/^ *rows: *\([0-9][0-9]*\).*/\1/p' "$efile" | tail -n 1)
        # s3rver keeps each object as a file of its own next to its metadata.
        local out="$SCRATCH/out"
        [ "${CHECK[$id]}" = rivet-s3 ] && out="$S3_BENCH_DIR"
        if [ -z "$(find "$out" -type f -size +0c -print -quit 2>/dev/null)" ]; then
          status=failed reason="rivet exited 0 but wrote no file"
        fi ;;
      stderr) got=$(sed -n 's/^rows: *\([0-9][0-9]*\).*/\1/p' "$efile" | tail -n 1) ;;
      file:*) got=$(wc -l <"${CHECK[$id]#file:}" 2>/dev/null || echo missing) ;;
    esac
    if [ "$status" = ok ] && [ -n "$got" ] && [ "$got" != "${ROWS_OF[$id]}" ]; then
      status=failed reason="produced $got rows, want ${ROWS_OF[$id]}"
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$round" "$status" "$wall" "$user" "$sys" \
    "$rss" "$scpu" "$reason" "$efile" >>"$RESULTS"
  if [ "$status" = ok ]; then
    say "  $id: ${wall} s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}') s CPU, $((rss / 1024)) MB RSS, server $scpu s CPU"
  else
    say "  $id: FAILED ($reason); stderr in $efile"
  fi
}

# Warm the page cache: one untimed full read of each table.
say "warming up (one untimed read of each table)"
${PSQL_CMD} -c "COPY (SELECT * FROM $TABLE) TO STDOUT (FORMAT binary)" >/dev/null || true
if ((BIG)); then ${PSQL_CMD} -c "COPY (SELECT * FROM $BIG_TABLE) TO STDOUT (FORMAT binary)" >/dev/null || true; fi
if ((HAVE_MYSQL)); then "${MARIADB[@]}" --quick rivet_bench -e "SELECT * FROM $TABLE" >/dev/null || true; fi

for ((round = 1; round <= RUNS; round++)); do
  say "round $round of $RUNS"
  for id in "${CASES[@]}"; do run_case "$id" "$round"; done
done
rm -rf "$SCRATCH"

# ---------------------------------------------------------------------------------------------
# 5. Report.
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
mem_gb=$(((mem_kb + 524288) / 1048576))
rows_label() {
  if (($1 % 1000000 == 0)); then echo "$(($1 / 1000000))m"
  elif (($1 % 1000 == 0)); then echo "$(($1 / 1000))k"
  else echo "$1"; fi
}
[ -n "$LABEL" ] || LABEL="$(nproc)cpu-${mem_gb}gb-$(rows_label "$ROWS")"
LABEL=$(tr -c 'A-Za-z0-9._-' '-' <<<"$LABEL" | sed 's/-*$//')
DAY=$(date -u +%F)
mkdir -p bench/results
OUT="bench/results/$DAY-$LABEL.md"
n=2
while [ -e "$OUT" ]; do OUT="bench/results/$DAY-$LABEL-$n.md"; n=$((n + 1)); done

META="$STATE/meta.txt"
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "nproc=$(nproc)"
  echo "memory=$(awk -v k="$mem_kb" 'BEGIN{printf "%.1f GiB", k/1048576}')"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "kernel=$(uname -sr)"
  echo "os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
  echo "postgres=$("${PSQL[@]}" -d rivet_bench -tAc 'SHOW server_version' 2>/dev/null || echo unknown)"
  if ((HAVE_MYSQL)); then
    echo "mariadb=$("${MARIADB[@]}" -N -B -e 'SELECT VERSION()' 2>/dev/null || echo unknown)"
  else
    echo "mariadb=not measured ($MYSQL_SKIP_REASON)"
  fi
  echo "rivet=$("$RIVET_BIN" --version 2>/dev/null | head -n 1 || echo unknown)"
  echo "rivet_bin=${RIVET_BIN#"$ROOT"/}"
  echo "node=$(node --version)"
  echo "duckdb=$(RIVET_BENCH_DUCKDB_BASE=$DUCKDB_BASE node bench/duckdb_pipeline.mjs --version 2>/dev/null || echo unknown)"
  echo "rows=$ROWS"
  echo "table=$TABLE"
  ((BIG)) && echo "big_rows=$BIG_ROWS" && echo "big_table=$BIG_TABLE"
  echo "runs=$RUNS"
  echo "timeout_s=$TIMEOUT_S"
  echo "cases=${CASES[*]}"
} >"$META"

node bench/report.mjs "$META" "$RESULTS" >"$OUT"
cat "$OUT"
echo
echo "bench: report written to $OUT"
