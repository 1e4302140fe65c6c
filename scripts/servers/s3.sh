#!/usr/bin/env bash
# Throwaway S3-compatible server for Rivet's integration tests and benchmarks: s3rver (from
# tools/node_modules) behind tools/s3-proxy.mjs, which checks SigV4 signatures as AWS does and
# injects faults on request.
#
#   scripts/servers/s3.sh start STATE_DIR   # start (or reuse) the pair, write STATE_DIR/s3.env
#   scripts/servers/s3.sh stop STATE_DIR    # stop both
#
# Both listen on 127.0.0.1, on free ports of RIVET_S3_PORT_RANGE (default 19000-19199); the
# bucket rivet-test exists. STATE_DIR/s3.env holds RIVET_TEST_S3_ENDPOINT (the proxy),
# RIVET_TEST_S3_BACKEND (s3rver itself, unsigned: for reading objects back), _BUCKET, _REGION,
# _ACCESS_KEY/_SECRET_KEY, a session set (_SESSION_ACCESS_KEY, _SESSION_SECRET_KEY,
# _SESSION_TOKEN) and an expired one (_EXPIRED_ACCESS_KEY, _EXPIRED_SECRET_KEY, _EXPIRED_TOKEN).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PORT_RANGE="${RIVET_S3_PORT_RANGE:-19000-19199}"
BUCKET=rivet-test

[[ $# -eq 2 ]] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
action="$1"
mkdir -p "$2"
state_dir="$(cd "$2" && pwd)"
env_file="$state_dir/s3.env"

. "$ROOT/scripts/servers/ports.sh"

start() {
  if alive "$state_dir/s3rver.pid" && alive "$state_dir/s3proxy.pid" && [[ -f "$env_file" ]]; then
    echo "S3 test server already running ($env_file)"
    return 0
  fi
  stop >/dev/null
  [[ -x "$ROOT/tools/node_modules/.bin/s3rver" ]] || (cd "$ROOT/tools" && npm ci --no-audit --no-fund >/dev/null)
  mkdir -p "$state_dir/s3"
  local backend proxy
  backend="$(free_port)"
  nohup "$ROOT/tools/node_modules/.bin/s3rver" -d "$state_dir/s3" -a 127.0.0.1 -p "$backend" \
    --configure-bucket "$BUCKET" --silent >"$state_dir/s3rver.log" 2>&1 &
  echo $! >"$state_dir/s3rver.pid"
  wait_port "$backend" s3rver
  proxy="$(free_port)"
  nohup node "$ROOT/tools/s3-proxy.mjs" --listen "$proxy" --backend "http://127.0.0.1:$backend" \
    --region us-east-1 --key AKIARIVETTEST=rivet-test-secret/key \
    --session ASIARIVETSESSION=rivet-session-secret=rivet-session-token \
    --expired ASIARIVETEXPIRED=rivet-expired-secret=rivet-expired-token \
    >"$state_dir/s3proxy.log" 2>&1 &
  echo $! >"$state_dir/s3proxy.pid"
  wait_port "$proxy" s3proxy
  cat >"$env_file" <<ENV
RIVET_TEST_S3_ENDPOINT=http://127.0.0.1:$proxy
RIVET_TEST_S3_BACKEND=http://127.0.0.1:$backend
RIVET_TEST_S3_BUCKET=$BUCKET
RIVET_TEST_S3_REGION=us-east-1
RIVET_TEST_S3_ACCESS_KEY=AKIARIVETTEST
RIVET_TEST_S3_SECRET_KEY=rivet-test-secret/key
RIVET_TEST_S3_SESSION_ACCESS_KEY=ASIARIVETSESSION
RIVET_TEST_S3_SESSION_SECRET_KEY=rivet-session-secret
RIVET_TEST_S3_SESSION_TOKEN=rivet-session-token
RIVET_TEST_S3_EXPIRED_ACCESS_KEY=ASIARIVETEXPIRED
RIVET_TEST_S3_EXPIRED_SECRET_KEY=rivet-expired-secret
RIVET_TEST_S3_EXPIRED_TOKEN=rivet-expired-token
ENV
  echo "S3 test server started: proxy 127.0.0.1:$proxy, s3rver 127.0.0.1:$backend ($env_file)"
}

stop() {
  local name
  for name in s3proxy s3rver; do
    if alive "$state_dir/$name.pid"; then
      kill "$(cat "$state_dir/$name.pid")" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$state_dir/$name.pid" || break; sleep 0.1; done
      alive "$state_dir/$name.pid" && kill -9 "$(cat "$state_dir/$name.pid")" 2>/dev/null || true
    fi
    rm -f "$state_dir/$name.pid"
  done
  rm -f "$env_file"
  echo "S3 test server stopped ($state_dir)"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
