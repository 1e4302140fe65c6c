#!/usr/bin/env bash
# One command for a first run: installs what Rivet needs, builds and installs it, starts a
# throwaway PostgreSQL holding a small demo database, and exports it with examples/demo.yaml.
# The demo server keeps running afterwards; stop it with:
#   bash scripts/servers/postgres.sh stop .rivet-demo
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/install-deps.sh
bash scripts/build.sh
cmake --install build >/dev/null
echo "demo: installed $(command -v rivet) ($(rivet --version))" >&2

STATE_DIR="$ROOT/.rivet-demo"
bash scripts/servers/postgres.sh start "$STATE_DIR" >&2
set -a; . "$STATE_DIR/postgres.env"; set +a
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$RIVET_TEST_PG_PORT" -U postgres)
# The demo SQL (re)creates database rivet_demo itself; load it unless a complete load is there
# (the events table is created last).
if ! "${PSQL[@]}" -d rivet_demo -tAc "SELECT 1 FROM events LIMIT 1" 2>/dev/null | grep -q 1; then
  "${PSQL[@]}" -d postgres -f scripts/demo/postgres.sql
fi

export RIVET_DEMO_URL="postgresql://postgres@127.0.0.1:${RIVET_TEST_PG_PORT}/rivet_demo"
rivet run --config examples/demo.yaml --validate
echo "demo: files are in examples/output/; try: rivet metrics --config examples/demo.yaml" >&2
