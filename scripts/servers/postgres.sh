#!/usr/bin/env bash
# Throwaway PostgreSQL 15 for Rivet's integration tests and demos.
#
#   scripts/servers/postgres.sh start STATE_DIR   # start (or reuse) a server, write STATE_DIR/postgres.env
#   scripts/servers/postgres.sh stop STATE_DIR    # stop it
#
# The server listens on 127.0.0.1 (and 127.0.0.2, for TLS host-name tests) only, on the first
# free port of RIVET_PG_PORT_RANGE (default 15432-15631), with fsync off (test data is
# disposable). TLS is on with the test certificates of tls.sh, and plain connections are still
# accepted. Access:
#   - user postgres, trust (no password), from 127.0.0.1 and the socket in STATE_DIR/pg;
#   - role rivet_pw / password s3cret-pw, scram-sha-256 (to test password logins);
#   - role rivet_cert, over TLS with the client certificate of tls.sh only (cert);
#   - database rivet_test.
# RIVET_PG_EXTRA_LISTEN=ADDR (an IPv4 address of this machine) adds ADDR to the listen addresses
# and trusts user postgres from ADDR's /24 (the multi-host tests' bridge, see netns.sh).
# STATE_DIR/postgres.env holds RIVET_TEST_PG_URL, RIVET_TEST_PG_PORT, RIVET_TEST_PG_PW_URL and
# the RIVET_TEST_TLS_* paths of tls.sh; load it with `set -a; . STATE_DIR/postgres.env; set +a`.
# Works as root (initdb and pg_ctl run as the postgres user) and as the postgres user itself.
set -euo pipefail
# shellcheck source=tls.sh
. "$(dirname "${BASH_SOURCE[0]}")/tls.sh"

PG_BIN="${RIVET_PG_BIN:-/usr/lib/postgresql/15/bin}"
PORT_RANGE="${RIVET_PG_PORT_RANGE:-15432-15631}"
PW_ROLE="rivet_pw"
PW_PASSWORD="s3cret-pw"
TEST_DB="rivet_test"
EXTRA_LISTEN="${RIVET_PG_EXTRA_LISTEN:-}"

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
action="$1"
state_dir="$2"
mkdir -p "$state_dir"
state_dir="$(cd "$state_dir" && pwd)"
data_dir="$state_dir/pg"
env_file="$state_dir/postgres.env"
log_file="$state_dir/postgres.log"

# Runs a command as the postgres user (initdb refuses root).
as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

running() {
  [[ -f "$data_dir/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

psql_admin() {
  as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$data_dir" -p "$1" -U postgres "${@:2}"
}

write_env() {
  local port="$1"
  cat >"$env_file" <<ENV
RIVET_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/$TEST_DB
RIVET_TEST_PG_PORT=$port
RIVET_TEST_PG_PW_URL=postgresql://$PW_ROLE:$PW_PASSWORD@127.0.0.1:$port/$TEST_DB
ENV
  tls_env "$state_dir" >>"$env_file"
}

# The certificate-only role's line must come before the trust lines, and data directories made
# before it existed lack it: added once, at the top.
ensure_cert_hba() {
  local line="hostssl all $TLS_CLIENT_USER 127.0.0.1/32 cert"
  grep -qxF "$line" "$data_dir/pg_hba.conf" && return 0
  { echo "$line"; cat "$data_dir/pg_hba.conf"; } >"$data_dir/pg_hba.conf.new"
  mv "$data_dir/pg_hba.conf.new" "$data_dir/pg_hba.conf"
  [[ "$(id -u)" -eq 0 ]] && chown postgres:postgres "$data_dir/pg_hba.conf"
  return 0
}

ensure_extra_hba() {
  [[ -n "$EXTRA_LISTEN" ]] || return 0
  local line="host all postgres ${EXTRA_LISTEN%.*}.0/24 trust"
  grep -qxF "$line" "$data_dir/pg_hba.conf" || echo "$line" >>"$data_dir/pg_hba.conf"
}

# Sets up roles and the test database; safe to run again on a running server.
provision() {
  local port="$1"
  psql_admin "$port" -d postgres <<SQL
SELECT 'CREATE ROLE $PW_ROLE' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PW_ROLE')\gexec
SELECT 'CREATE ROLE $TLS_CLIENT_USER LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$TLS_CLIENT_USER')\gexec
SET password_encryption = 'scram-sha-256';
ALTER ROLE $PW_ROLE WITH LOGIN PASSWORD '$PW_PASSWORD';
SELECT 'CREATE DATABASE $TEST_DB' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$TEST_DB')\gexec
GRANT ALL ON DATABASE $TEST_DB TO $PW_ROLE;
GRANT ALL ON DATABASE $TEST_DB TO $TLS_CLIENT_USER;
SQL
  psql_admin "$port" -d "$TEST_DB" -c "GRANT ALL ON SCHEMA public TO $PW_ROLE"
}

start() {
  tls_make "$state_dir"
  local tls_dir
  tls_dir="$(tls_server_files "$state_dir" postgres)"
  if running; then
    local port
    port="$(sed -n 4p "$data_dir/postmaster.pid")"
    # Certificates made again (expired) and a pg_hba.conf line added take effect on reload.
    ensure_cert_hba
    as_pg "$PG_BIN/pg_ctl" -D "$data_dir" reload >/dev/null
    provision "$port"
    write_env "$port"
    echo "PostgreSQL already running on 127.0.0.1:$port ($env_file)"
    return 0
  fi

  if [[ "$(id -u)" -eq 0 ]] && ! runuser -u postgres -- test -x "$state_dir"; then
    echo "$state_dir is not reachable by the postgres user; use a directory such as /tmp/NAME" >&2
    exit 1
  fi
  if [[ ! -f "$data_dir/PG_VERSION" ]]; then
    rm -rf "$data_dir"
    mkdir -p "$data_dir"
    [[ "$(id -u)" -eq 0 ]] && chown postgres:postgres "$data_dir"
    chmod 700 "$data_dir"
    as_pg "$PG_BIN/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$state_dir/initdb.log" 2>&1 || { cat "$state_dir/initdb.log" >&2; exit 1; }
    # The password role must match before the trust lines, so it comes first.
    {
      echo "host all $PW_ROLE 127.0.0.1/32 scram-sha-256"
      cat "$data_dir/pg_hba.conf"
    } >"$data_dir/pg_hba.conf.new"
    mv "$data_dir/pg_hba.conf.new" "$data_dir/pg_hba.conf"
    [[ "$(id -u)" -eq 0 ]] && chown postgres:postgres "$data_dir/pg_hba.conf"
  fi
  ensure_cert_hba
  ensure_extra_hba
  [[ "$(id -u)" -eq 0 ]] && { touch "$log_file"; chown postgres:postgres "$log_file"; }

  local first last port
  first="${PORT_RANGE%-*}"
  last="${PORT_RANGE#*-}"
  for ((port = first; port <= last; port++)); do
    port_in_use "$port" && continue
    # Another process may take the port between the check and the bind: then try the next one.
    if as_pg "$PG_BIN/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1,$TLS_OTHER_HOST${EXTRA_LISTEN:+,$EXTRA_LISTEN} -c port=$port -c unix_socket_directories=$data_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file=$tls_dir/server.pem -c ssl_key_file=$tls_dir/server.key -c ssl_ca_file=$tls_dir/ca.pem" \
      start >/dev/null; then
      provision "$port"
      write_env "$port"
      echo "PostgreSQL started on 127.0.0.1:$port ($env_file)"
      return 0
    fi
  done
  echo "no free port in $PORT_RANGE could be used; see $log_file" >&2
  exit 1
}

stop() {
  if running; then
    as_pg "$PG_BIN/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null
    echo "PostgreSQL stopped ($data_dir)"
  else
    echo "PostgreSQL not running ($data_dir)"
  fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
