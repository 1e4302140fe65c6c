# Sourced by the node-based test servers' scripts (s3.sh, gcs.sh): pid files and free ports on
# 127.0.0.1. Needs PORT_RANGE ("low-high") and state_dir set by the caller.

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
  local port
  for ((port = ${PORT_RANGE%-*}; port <= ${PORT_RANGE#*-}; port++)); do
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  echo "no free port in $PORT_RANGE" >&2
  return 1
}
# wait_port PORT LOG_NAME: until something listens on PORT (10 s at most).
wait_port() {
  for _ in $(seq 1 100); do
    port_in_use "$1" && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1; see $state_dir/$2.log" >&2
  return 1
}
