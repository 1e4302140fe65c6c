#!/usr/bin/env bash
# Throwaway MariaDB server for Rivet's integration tests and benchmarks.
#
#   scripts/servers/mariadb.sh start STATE_DIR   # idempotent: reuses a running server
#   scripts/servers/mariadb.sh stop STATE_DIR
#
# Needs mariadb-server (scripts/install-deps.sh); installs nothing. The server listens on
# 127.0.0.1 (and 127.0.0.2, for TLS host-name tests) on a free port, keeps its data in
# STATE_DIR/mysql, offers TLS with the test certificates of tls.sh while still accepting plain
# connections, and is set up with:
#   - database rivet_test (and rivet_demo, filled by scripts/demo/mysql.sql when asked);
#   - root@127.0.0.1 without a password (tests connect over TCP: libmariadb would take the Unix
#     socket for host "localhost");
#   - rivet_pw@127.0.0.1 identified by 's3cret-pw', all privileges on rivet_test and rivet_demo
#     (for the password and authentication-failure tests);
#   - rivet_cert@127.0.0.1, no password but REQUIRE X509: only with the client certificate of
#     tls.sh, all privileges on rivet_test.
# STATE_DIR/mariadb.env then holds, ready for `set -a; . STATE_DIR/mariadb.env`:
#   RIVET_TEST_MYSQL_URL, RIVET_TEST_MYSQL_PORT, RIVET_TEST_MYSQL_PW_URL, RIVET_TEST_MYSQL_SOCKET
#   and the RIVET_TEST_TLS_* paths of tls.sh.
# The server runs as the `mysql` user, so STATE_DIR and its parents must be traversable by it; the
# socket path (STATE_DIR/mysqld.sock) must stay under 108 bytes.
set -euo pipefail
# shellcheck source=tls.sh
. "$(dirname "${BASH_SOURCE[0]}")/tls.sh"

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
state_dir=$(realpath -m "$2")

datadir="$state_dir/mysql"
socket="$state_dir/mysqld.sock"
pidfile="$state_dir/mysqld.pid"
logfile="$state_dir/mysqld.log"
portfile="$state_dir/port"
envfile="$state_dir/mariadb.env"

# Administrative client over the Unix socket (root@localhost authenticates without a password).
admin_sql() {
  mariadb --no-defaults --socket="$socket" -uroot --batch --skip-column-names "$@"
}

server_alive() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
    mariadb-admin --no-defaults --socket="$socket" -uroot ping >/dev/null 2>&1
}

# A TCP port nobody listens on: random picks in the ephemeral-free range, checked against ss.
free_port() {
  local port listening
  listening=$(ss -Hltn 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 30000))
    if ! grep -qx "$port" <<<"$listening"; then
      echo "$port"
      return 0
    fi
  done
  echo "mariadb.sh: no free port found" >&2
  return 1
}

write_env() {
  local port=$1
  cat >"$envfile" <<EOF
RIVET_TEST_MYSQL_URL=mysql://root@127.0.0.1:$port/rivet_test
RIVET_TEST_MYSQL_PORT=$port
RIVET_TEST_MYSQL_PW_URL=mysql://rivet_pw:s3cret-pw@127.0.0.1:$port/rivet_test
RIVET_TEST_MYSQL_SOCKET=$socket
EOF
  tls_env "$state_dir" >>"$envfile"
}

setup_sql() {
  admin_sql <<'EOF'
CREATE DATABASE IF NOT EXISTS rivet_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS rivet_demo CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'rivet_pw'@'127.0.0.1' IDENTIFIED BY 's3cret-pw';
GRANT ALL PRIVILEGES ON rivet_test.* TO 'rivet_pw'@'127.0.0.1';
GRANT ALL PRIVILEGES ON rivet_demo.* TO 'rivet_pw'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'rivet_cert'@'127.0.0.1' REQUIRE X509;
GRANT ALL PRIVILEGES ON rivet_test.* TO 'rivet_cert'@'127.0.0.1';
FLUSH PRIVILEGES;
EOF
}

start() {
  mkdir -p "$state_dir"
  chmod 755 "$state_dir"
  tls_make "$state_dir"
  local tls_dir
  tls_dir=$(tls_server_files "$state_dir" mysql)
  if server_alive; then
    # Certificates made again (expired) take effect without a restart.
    admin_sql -e "FLUSH SSL"
    setup_sql
    write_env "$(cat "$portfile")"
    echo "mariadb.sh: already running on port $(cat "$portfile")" >&2
    return 0
  fi
  if [ ! -d "$datadir/mysql" ]; then
    rm -rf "$datadir"
    mkdir -p "$datadir"
    chown mysql:mysql "$datadir"
    mariadb-install-db --no-defaults --user=mysql --datadir="$datadir" \
      --auth-root-authentication-method=normal --skip-test-db >"$state_dir/install.log" 2>&1 || {
      cat "$state_dir/install.log" >&2
      return 1
    }
  fi
  chown -R mysql:mysql "$datadir"
  touch "$logfile" && chown mysql:mysql "$logfile"
  chown mysql:mysql "$state_dir"

  # A port found free can be taken before the server binds it: try a few.
  local port attempt pid
  for attempt in 1 2 3; do
    port=$(free_port)
    echo "$port" >"$portfile"
    # --no-defaults first keeps /etc/mysql out; as root, --user=mysql is required.
    mariadbd --no-defaults --datadir="$datadir" --socket="$socket" --pid-file="$pidfile" \
      --port="$port" --bind-address="127.0.0.1,$TLS_OTHER_HOST" --user=mysql \
      --log-error="$logfile" \
      --ssl-cert="$tls_dir/server.pem" --ssl-key="$tls_dir/server.key" --ssl-ca="$tls_dir/ca.pem" \
      --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=256M \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
      if mariadb-admin --no-defaults --socket="$socket" -uroot ping >/dev/null 2>&1; then
        setup_sql
        write_env "$port"
        echo "mariadb.sh: running on 127.0.0.1:$port (state in $state_dir)" >&2
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break  # exited: port taken or a real failure
      sleep 0.1
    done
    echo "mariadb.sh: start attempt $attempt on port $port failed" >&2
  done
  echo "mariadb.sh: server did not start; log follows" >&2
  tail -n 40 "$logfile" >&2 || true
  return 1
}

stop() {
  if [ ! -f "$pidfile" ]; then
    rm -f "$envfile"
    echo "mariadb.sh: not running (no $pidfile)" >&2
    return 0
  fi
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      mariadb-admin --no-defaults --socket="$socket" -uroot shutdown >/dev/null 2>&1 ||
        kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$envfile"
  echo "mariadb.sh: stopped (data kept in $datadir)" >&2
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
