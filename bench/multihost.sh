#!/usr/bin/env bash
# Scale-out benchmark: one checkpointed chunk plan exported by 1 worker, then by 3 workers on 3
# hosts. The hosts are the network namespaces of scripts/servers/netns.sh, and the link of each
# is shaped to --rate (a tc token bucket on its veth), so each host brings a network of its own,
# as separate machines reading a remote database do. The limit of one host is PostgreSQL's own
# binary COPY of the table through one such link.
#
#   bash bench/multihost.sh [--rows N] [--rate 100mbit] [--runs N] [--skip-setup]
#
# Needs root (namespaces, tc). Each case runs once per round, interleaved, for --runs rounds;
# the report gives median wall seconds, the 1 -> 3 worker speed-up and 3 workers against the
# one-host limit, checks every run delivered all rows, and is written to
# bench/results/<date>-multihost.md. All rivet processes and the server share this machine's
# cores: where the CPU, not the links, runs out first, the speed-up says so. It uses the same
# namespace names as the multi-host tests: do not run both at once.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

rows=3000000
rate=100mbit
runs=3
setup=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --skip-setup) setup=0; shift ;;
    *) echo "unknown option $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
if [[ $setup -eq 1 ]]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
fi
RIVET="${RIVET_BIN:-$ROOT/build/src/rivet/cli/rivet}"
STATE="${RIVET_BENCH_STATE:-$ROOT/.rivet-bench}"
work="$(mktemp -d)"
trap 'bash scripts/servers/netns.sh down "$STATE" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bash scripts/servers/netns.sh up "$STATE"
# shellcheck disable=SC1091
. "$STATE/netns.env"
IFS=, read -r -a hosts <<<"$RIVET_TEST_NET_HOSTS"
url="$RIVET_TEST_NET_PG_URL"
for h in "${hosts[@]}"; do
  tc qdisc replace dev "$h" root tbf rate "$rate" burst 256kb latency 100ms
done

table="scale_$rows"
if [[ "$(psql -X -At "$url" -c "SELECT count(*) FROM $table" 2>/dev/null)" != "$rows" ]]; then
  echo "creating $table ($rows rows)" >&2
  psql -X -q -v ON_ERROR_STOP=1 "$url" <<SQL
DROP TABLE IF EXISTS $table;
CREATE TABLE $table AS SELECT g::bigint AS id, (g % 1000)::int AS n, 'row ' || g AS s,
  timestamptz '2026-01-01' + g * interval '1 second' AS at FROM generate_series(1, $rows) g;
ANALYZE $table;
SQL
fi
# Chunks read by an index on the chunk column, as a production table chunked on its key is;
# without it every chunk is a scan of the whole table and the server's CPU, not the links,
# sets the pace.
psql -X -q "$url" -c "CREATE UNIQUE INDEX IF NOT EXISTS ${table}_id ON $table (id)"
query="SELECT id, n, s, at FROM $table"
cat >"$work/rivet.yaml" <<YAML
source:
  type: postgres
  url_env: RIVET_BENCH_URL
  tuning: {profile: fast}
exports:
  - name: scale
    query: "$query"
    mode: chunked
    chunk_column: id
    chunk_size: $(((rows + 29) / 30))
    chunk_checkpoint: true
    parallel: 1
    format: parquet
    destination: {type: local, path: $work/out}
YAML

now() { date +%s.%N; }
# One case: prints its wall seconds; fails loudly when a run did not deliver every row.
copy_limit() {
  local t0
  t0=$(now)
  ip netns exec "${hosts[0]}" psql -X -q "$url" -c "COPY ($query) TO STDOUT (FORMAT binary)" >/dev/null
  awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.2f", a - b}'
}
workers() {
  local n="$1" t0 pids=() schema="rivet_bench_scale_$1"
  psql -X -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" 2>/dev/null
  rm -rf "$work/out"
  t0=$(now)
  for ((i = 0; i < n; i++)); do
    RIVET_BENCH_URL="$url" RIVET_STATE_URL="$url?options=-csearch_path%3D$schema" \
      ip netns exec "${hosts[i]}" "$RIVET" run -c "$work/rivet.yaml" --worker \
      2>"$work/worker$i.err" &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    wait "${pids[i]}" || { echo "worker $i failed:" >&2; tail -5 "$work/worker$i.err" >&2; exit 1; }
  done
  local t1 delivered
  t1=$(now)
  delivered=$(psql -X -At "$url" -c "SELECT max(rows) FROM $schema.runs")
  [[ "$delivered" == "$rows" ]] || { echo "$n workers delivered $delivered of $rows rows" >&2; exit 1; }
  awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.2f", a - b}'
}

declare -A times
for ((r = 1; r <= runs; r++)); do
  c=$(copy_limit)
  one=$(workers 1)
  three=$(workers 3)
  times[copy]+="$c "
  times[w1]+="$one "
  times[w3]+="$three "
  echo "round $r of $runs: COPY $c s, 1 worker $one s, 3 workers $three s" >&2
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
copy=$(median "${times[copy]}")
w1=$(median "${times[w1]}")
w3=$(median "${times[w3]}")
report="$ROOT/bench/results/$(date +%F)-multihost.md"
mkdir -p "$(dirname "$report")"
{
  echo "# Scale-out: $rows rows, 30 chunks + NULL chunk, Parquet zstd, profile fast, $runs rounds"
  echo
  echo "Hosts: 3 network namespaces, each link shaped to $rate; $(nproc) cores shared by all."
  echo
  echo "| case | median wall s | runs |"
  echo "|---|---:|---|"
  echo "| COPY binary through one host's link (one-host limit) | $copy | ${times[copy]}|"
  echo "| 1 worker on 1 host | $w1 | ${times[w1]}|"
  echo "| 3 workers on 3 hosts | $w3 | ${times[w3]}|"
  echo
  echo "- speed-up 1 -> 3 workers: $(awk -v a="$w1" -v b="$w3" 'BEGIN {printf "%.2f", a / b}')x"
  echo "- 3 workers / one-host limit: $(awk -v a="$w3" -v b="$copy" 'BEGIN {printf "%.2f", a / b}')x"
} | tee "$report"
echo "$report"
