#!/usr/bin/env bash
# Regenerates the EXPLAIN JSON fixtures (tests/fixtures/plans) that
# src/rivet/preflight/preflight_test.cc parses: plans captured from the project's PostgreSQL
# and MariaDB test servers for the shapes `rivet check` meets (sequential and index scans,
# bitmap scans, MIN/MAX from an index, joins, CTEs, parallel Gather, MySQL's table /
# nested_loop / filesort / materialized / union).
#
# Usage: bash scripts/regen-plan-fixtures.sh PG_URL MYSQL_URL
#   (the URLs of scripts/servers/postgres.sh and mariadb.sh: RIVET_TEST_PG_URL,
#   RIVET_TEST_MYSQL_URL). It creates and drops its own schema / database rivet_plans.
set -euo pipefail
pg_url="$1"
mysql_url="$2"
out="$(cd "$(dirname "$0")/../tests/fixtures/plans" && pwd)"

# ----- PostgreSQL ---------------------------------------------------------------------------
psql -qX -v ON_ERROR_STOP=1 "$pg_url" <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS rivet_plans CASCADE;
CREATE SCHEMA rivet_plans;
CREATE TABLE rivet_plans.events (id bigint PRIMARY KEY, customer_id int, created_at timestamptz, v text);
INSERT INTO rivet_plans.events
  SELECT g, g % 1000, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute', md5(g::text)
  FROM generate_series(1, 200000) g;
CREATE INDEX events_created_at ON rivet_plans.events (created_at);
CREATE TABLE rivet_plans.plain AS SELECT * FROM rivet_plans.events;
CREATE TABLE rivet_plans.customers (id int PRIMARY KEY, name text);
INSERT INTO rivet_plans.customers SELECT g, 'c' || g FROM generate_series(0, 999) g;
ANALYZE rivet_plans.events; ANALYZE rivet_plans.plain; ANALYZE rivet_plans.customers;
SQL
pg_plan() {  # name, settings, query
  psql -qXAt -v ON_ERROR_STOP=1 "$pg_url" -c "SET search_path = rivet_plans; $2" \
    -c "EXPLAIN (FORMAT JSON) $3" >"$out/pg_$1.json"
}
pg_plan seq_scan "" "SELECT * FROM plain"
pg_plan incremental_index "" "SELECT * FROM (
SELECT * FROM events
) AS _rivet WHERE \"id\" > 150000 ORDER BY \"id\""
pg_plan incremental_no_index "" "SELECT * FROM (
SELECT * FROM plain
) AS _rivet WHERE \"id\" > 150000 ORDER BY \"id\""
pg_plan min_max_index "" "SELECT MIN(\"id\"), MAX(\"id\") FROM (
SELECT * FROM events
) AS _rivet"
pg_plan min_max_no_index "" "SELECT MIN(\"id\"), MAX(\"id\") FROM (
SELECT * FROM plain
) AS _rivet"
pg_plan bitmap "SET enable_indexscan = off;" "SELECT * FROM events WHERE created_at >= '2026-04-01'"
pg_plan join "" "SELECT e.id, c.name FROM events e JOIN customers c ON c.id = e.customer_id"
pg_plan cte "" "WITH recent AS MATERIALIZED (SELECT * FROM events WHERE id > 190000)
SELECT * FROM recent r JOIN customers c ON c.id = r.customer_id"
pg_plan gather "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;" \
  "SELECT * FROM plain WHERE v LIKE 'a%'"
psql -qX "$pg_url" -c "SET client_min_messages = warning" -c "DROP SCHEMA rivet_plans CASCADE"

# ----- MariaDB / MySQL ----------------------------------------------------------------------
# mysql://user[:password]@host:port/db
rest="${mysql_url#mysql://}"
creds="${rest%%@*}"
hostport="${rest#*@}"
hostport="${hostport%%/*}"
user="${creds%%:*}"
password=""
[[ "$creds" == *:* ]] && password="${creds#*:}"
my() { MYSQL_PWD="$password" mariadb -u"$user" -h"${hostport%%:*}" -P"${hostport##*:}" --protocol=tcp -N -r -s "$@"; }
my <<'SQL'
DROP DATABASE IF EXISTS rivet_plans;
CREATE DATABASE rivet_plans;
USE rivet_plans;
SET SESSION max_recursive_iterations = 1000000;
CREATE TABLE events (id bigint PRIMARY KEY, customer_id int, created_at datetime(6), v varchar(64), KEY events_created_at (created_at));
INSERT INTO events WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 200000)
  SELECT n, n % 1000, '2026-01-01' + INTERVAL n MINUTE, md5(n) FROM g;
CREATE TABLE plain (id bigint, customer_id int, created_at datetime(6), v varchar(64));
INSERT INTO plain SELECT * FROM events;
CREATE TABLE customers (id int PRIMARY KEY, name varchar(32));
INSERT INTO customers WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < 999)
  SELECT n, concat('c', n) FROM g;
ANALYZE TABLE events, plain, customers;
SQL
my_plan() {  # name, query
  my rivet_plans -e "EXPLAIN FORMAT=JSON $2" >"$out/mysql_$1.json"
}
my_plan seq_scan "SELECT * FROM plain"
my_plan incremental_index "SELECT * FROM (
SELECT * FROM events
) AS _rivet WHERE \`id\` > 150000 ORDER BY \`id\`"
my_plan incremental_no_index "SELECT * FROM (
SELECT * FROM plain
) AS _rivet WHERE \`id\` > 150000 ORDER BY \`id\`"
my_plan min_max_index "SELECT MIN(\`id\`), MAX(\`id\`) FROM (
SELECT * FROM events
) AS _rivet"
my_plan min_max_no_index "SELECT MIN(\`id\`), MAX(\`id\`) FROM (
SELECT * FROM plain
) AS _rivet"
my_plan join "SELECT e.id, c.name FROM plain e JOIN customers c ON c.id = e.customer_id"
my_plan materialized "SELECT * FROM (
SELECT customer_id, COUNT(*) AS n FROM plain GROUP BY customer_id
) AS _rivet WHERE n > 1"
my_plan union "SELECT id FROM events WHERE id < 100 UNION SELECT id FROM plain"
my_plan time_window "SELECT * FROM (
SELECT * FROM events
) AS _rivet WHERE \`created_at\` >= '2026-05-01 00:00:00.000000'"
my -e "DROP DATABASE rivet_plans"
echo "plans written to $out"
