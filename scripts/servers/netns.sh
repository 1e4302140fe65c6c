#!/usr/bin/env bash
# Three "hosts" on this machine for Rivet's multi-host tests: network namespaces joined by a
# bridge, and a PostgreSQL of their own listening on the bridge.
#
#   scripts/servers/netns.sh up STATE_DIR     # create (or re-create) them, write STATE_DIR/netns.env
#   scripts/servers/netns.sh down STATE_DIR   # stop the server, delete the namespaces and bridge
#
# Layout (RIVET_NETNS_NET, default 10.231.0, names a /24 that nothing else on the machine uses):
#   bridge rivetbr0 with NET.1 in the root namespace: the database host; PostgreSQL listens on
#     NET.1 (and 127.0.0.1), trusting the namespaces' /24;
#   namespaces rivet-h1..rivet-h3 with NET.11..NET.13 on eth0, whose other end (the veth named
#     like the namespace) is a port of the bridge. `ip link set rivet-h2 down` cuts that host off
#     the network without ending its processes, as a partition would.
# Traffic stays inside this machine: the namespaces have no route but their /24.
# STATE_DIR/netns.env holds RIVET_TEST_NET_PG_URL (the server as the hosts reach it) and
# RIVET_TEST_NET_HOSTS (the namespaces, comma-separated). Needs root (CAP_NET_ADMIN).
set -euo pipefail

NET="${RIVET_NETNS_NET:-10.231.0}"
BRIDGE="rivetbr0"
HOSTS=(rivet-h1 rivet-h2 rivet-h3)

usage() {
  echo "usage: $0 up|down STATE_DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
action="$1"
mkdir -p "$2"
state_dir="$(cd "$2" && pwd)"
pg_dir="$state_dir/net"

down() {
  bash "$(dirname "${BASH_SOURCE[0]}")/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  for ns in "${HOSTS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$ns" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -f "$state_dir/netns.env"
}

up() {
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "netns.sh needs root to create network namespaces" >&2
    exit 1
  fi
  down
  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local i=11
  for ns in "${HOSTS[@]}"; do
    ip netns add "$ns"
    ip link add "$ns" type veth peer name eth0 netns "$ns"
    ip link set "$ns" master "$BRIDGE" up
    ip -n "$ns" addr add "$NET.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    i=$((i + 1))
  done
  # The database host: a server of its own, so the one the other tests share keeps listening on
  # 127.0.0.1 only.
  RIVET_PG_EXTRA_LISTEN="$NET.1" RIVET_PG_PORT_RANGE="${RIVET_NETNS_PG_PORTS:-15632-15731}" \
    bash "$(dirname "${BASH_SOURCE[0]}")/postgres.sh" start "$pg_dir" >&2
  local port
  port="$(sed -n 's/^RIVET_TEST_PG_PORT=//p' "$pg_dir/postgres.env")"
  for ns in "${HOSTS[@]}"; do
    ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$NET.1/$port" || {
      echo "host $ns cannot reach $NET.1:$port" >&2
      exit 1
    }
  done
  cat >"$state_dir/netns.env" <<ENV
RIVET_TEST_NET_PG_URL=postgresql://postgres@$NET.1:$port/rivet_test
RIVET_TEST_NET_HOSTS=$(IFS=,; echo "${HOSTS[*]}")
ENV
  echo "hosts ${HOSTS[*]} on $NET.0/24, PostgreSQL on $NET.1:$port ($state_dir/netns.env)" >&2
}

case "$action" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
