#!/usr/bin/env bash
# One command for a first run: installs what Rivet needs, builds and installs it, starts a
# throwaway database server holding a small demo database, and exports it.
#
#   bash scripts/demo.sh          # PostgreSQL, examples/demo.yaml (files in examples/output/)
#   bash scripts/demo.sh mysql    # MariaDB, examples/mysql_demo.yaml (examples/output/mysql/)
#
# The demo server keeps running afterwards; stop it with:
#   bash scripts/servers/postgres.sh stop .rivet-demo
#   bash scripts/servers/mariadb.sh stop .rivet-demo
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SOURCE=${1:-postgres}
case "$SOURCE" in
  postgres | mysql) ;;
  *)
    echo "usage: $0 [postgres|mysql]" >&2
    exit 2
    ;;
esac

bash scripts/install-deps.sh
# The demo runs only the binary: the test binaries are built by scripts/test.sh.
bash scripts/build.sh --target rivet
cmake --install build >/dev/null
echo "demo: installed $(command -v rivet) ($(rivet --version))" >&2

STATE_DIR="$ROOT/.rivet-demo"

postgres_demo() {
  bash scripts/servers/postgres.sh start "$STATE_DIR" >&2
  set -a; . "$STATE_DIR/postgres.env"; set +a
  PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$RIVET_TEST_PG_PORT" -U postgres)
  # scripts/demo/postgres.sql (re)creates rivet_demo itself, so it runs from the postgres
  # database; load it once, unless a complete earlier load is there.
  if ! "${PSQL[@]}" -d rivet_demo -tAc "SELECT to_regclass('public.events') IS NOT NULL" 2>/dev/null |
    grep -qx t; then
    "${PSQL[@]}" -d postgres -f scripts/demo/postgres.sql
  fi

  export RIVET_DEMO_URL="postgresql://postgres@127.0.0.1:${RIVET_TEST_PG_PORT}/rivet_demo"
  rivet run --config examples/demo.yaml --validate
  echo "demo: files are in examples/output/; try: rivet metrics --config examples/demo.yaml" >&2
}

mysql_demo() {
  bash scripts/servers/mariadb.sh start "$STATE_DIR" >&2
  set -a; . "$STATE_DIR/mariadb.env"; set +a
  MARIADB=(mariadb --no-defaults -h 127.0.0.1 -P "$RIVET_TEST_MYSQL_PORT" -u root)
  # The server script creates the empty rivet_demo database; load the tables once.
  local loaded
  loaded=$("${MARIADB[@]}" --batch --skip-column-names -e \
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'rivet_demo' AND table_name = 'events'")
  if [ "$loaded" != "1" ]; then
    "${MARIADB[@]}" --batch <scripts/demo/mysql.sql >&2
  fi

  export RIVET_MYSQL_DEMO_URL="mysql://root@127.0.0.1:${RIVET_TEST_MYSQL_PORT}/rivet_demo"
  rivet run --config examples/mysql_demo.yaml --validate
  echo "demo: files are in examples/output/mysql/; try: rivet metrics --config examples/mysql_demo.yaml" >&2
}

"${SOURCE}_demo"
