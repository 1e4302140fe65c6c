#!/usr/bin/env bash
# Captures the binary COPY output of every tests/fixtures/postgres/*.sql query into a .bin file
# next to it, exactly as PostgreSQL sends it. The unit tests parse these captures.
#
#   bash scripts/servers/postgres.sh start /tmp/rivet-pg
#   set -a; . /tmp/rivet-pg/postgres.env; set +a
#   bash scripts/regen-pg-fixtures.sh
set -euo pipefail
: "${RIVET_TEST_PG_URL:?start scripts/servers/postgres.sh and load its postgres.env}"
cd "$(dirname "$0")/../tests/fixtures/postgres"
export PGOPTIONS="-c TimeZone=UTC -c extra_float_digits=3"
for sql in *.sql; do
  query="$(cat "$sql")"
  # The query stands on its own lines so a trailing comment cannot swallow the parenthesis.
  printf 'COPY (\n%s\n) TO STDOUT (FORMAT binary)\n' "$query" |
    psql "$RIVET_TEST_PG_URL" -X -q -v ON_ERROR_STOP=1 >"${sql%.sql}.bin"
  echo "${sql%.sql}.bin: $(stat -c %s "${sql%.sql}.bin") bytes"
done
