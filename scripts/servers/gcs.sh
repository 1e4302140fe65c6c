#!/usr/bin/env bash
# Throwaway Google Cloud Storage stand-in for Rivet's integration tests: tools/gcs-fake.mjs, one
# node process serving the storage JSON API, the OAuth token endpoint and the GCE metadata server.
#
#   scripts/servers/gcs.sh start STATE_DIR   # start (or reuse) it, write STATE_DIR/gcs.env
#   scripts/servers/gcs.sh stop STATE_DIR    # stop it
#
# It listens on 127.0.0.1, on a free port of RIVET_GCS_PORT_RANGE (default 19200-19399), and
# keeps objects under STATE_DIR/gcs/. Each start makes two new RSA keys and writes
#   STATE_DIR/gcs-service-account.json        a service-account key the fake accepts,
#   STATE_DIR/gcs-wrong-service-account.json  the same account with a key it does not know,
#   STATE_DIR/gcs-adc.json                    authorized_user credentials it accepts,
# all with token_uri pointing at the fake. STATE_DIR/gcs.env holds RIVET_TEST_GCS_ENDPOINT,
# _BUCKET (rivet-test), _PUBLIC_BUCKET (rivet-public: anonymous requests welcome),
# _DENIED_BUCKET (rivet-denied: every object write and delete is 403), _SA_FILE, _WRONG_SA_FILE,
# _ADC_FILE, _METADATA_HOST (the fake's host:port, for GCE_METADATA_HOST) and _METADATA_EMAIL.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PORT_RANGE="${RIVET_GCS_PORT_RANGE:-19200-19399}"
BUCKET=rivet-test
PUBLIC_BUCKET=rivet-public
DENIED_BUCKET=rivet-denied
SA_EMAIL=rivet-test@rivet-test.iam.gserviceaccount.com
METADATA_EMAIL=rivet-vm@rivet-test.iam.gserviceaccount.com

[[ $# -eq 2 ]] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
action="$1"
mkdir -p "$2"
state_dir="$(cd "$2" && pwd)"
env_file="$state_dir/gcs.env"
pid_file="$state_dir/gcsfake.pid"

. "$ROOT/scripts/servers/ports.sh"

# service_account FILE TOKEN_URI: a key file around a fresh RSA 2048 key (PKCS#8 PEM).
service_account() {
  local pem
  pem="$(umask 077 && mktemp "$state_dir/gcs-key.XXXXXX")"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pem" 2>/dev/null
  node -e '
    const fs = require("fs");
    const [out, pem, keyId, email, tokenUri] = process.argv.slice(1);
    fs.writeFileSync(out, JSON.stringify({
      type: "service_account", project_id: "rivet-test", private_key_id: keyId,
      private_key: fs.readFileSync(pem, "utf8"), client_email: email, client_id: "1000",
      auth_uri: tokenUri.replace(/\/token$/, "/auth"), token_uri: tokenUri,
    }, null, 2) + "\n", { mode: 0o600 });
  ' "$1" "$pem" "$(openssl rand -hex 20)" "$SA_EMAIL" "$2"
  rm -f "$pem"
}

start() {
  if alive "$pid_file" && [[ -f "$env_file" ]]; then
    echo "GCS test server already running ($env_file)"
    return 0
  fi
  stop >/dev/null
  mkdir -p "$state_dir/gcs"
  local port token_uri
  port="$(free_port)"
  token_uri="http://127.0.0.1:$port/token"
  rm -f "$state_dir/gcs-service-account.json" "$state_dir/gcs-wrong-service-account.json" "$state_dir/gcs-adc.json"
  service_account "$state_dir/gcs-service-account.json" "$token_uri"
  service_account "$state_dir/gcs-wrong-service-account.json" "$token_uri"
  node -e '
    require("fs").writeFileSync(process.argv[1], JSON.stringify({
      type: "authorized_user", client_id: "rivet-adc-client.apps.googleusercontent.com",
      client_secret: "rivet-adc-secret", refresh_token: "rivet-adc-refresh-token",
      token_uri: process.argv[2],
    }, null, 2) + "\n", { mode: 0o600 });
  ' "$state_dir/gcs-adc.json" "$token_uri"
  nohup node "$ROOT/tools/gcs-fake.mjs" --listen "$port" --data "$state_dir/gcs" \
    --service-account "$state_dir/gcs-service-account.json" --adc "$state_dir/gcs-adc.json" \
    --metadata-email "$METADATA_EMAIL" --bucket "$BUCKET" --public-bucket "$PUBLIC_BUCKET" \
    --denied-bucket "$DENIED_BUCKET" >"$state_dir/gcsfake.log" 2>&1 &
  echo $! >"$pid_file"
  wait_port "$port" gcsfake
  cat >"$env_file" <<ENV
RIVET_TEST_GCS_ENDPOINT=http://127.0.0.1:$port
RIVET_TEST_GCS_BUCKET=$BUCKET
RIVET_TEST_GCS_PUBLIC_BUCKET=$PUBLIC_BUCKET
RIVET_TEST_GCS_DENIED_BUCKET=$DENIED_BUCKET
RIVET_TEST_GCS_SA_FILE=$state_dir/gcs-service-account.json
RIVET_TEST_GCS_WRONG_SA_FILE=$state_dir/gcs-wrong-service-account.json
RIVET_TEST_GCS_ADC_FILE=$state_dir/gcs-adc.json
RIVET_TEST_GCS_METADATA_HOST=127.0.0.1:$port
RIVET_TEST_GCS_METADATA_EMAIL=$METADATA_EMAIL
ENV
  echo "GCS test server started: 127.0.0.1:$port ($env_file)"
}

stop() {
  if alive "$pid_file"; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid_file" || break; sleep 0.1; done
    alive "$pid_file" && kill -9 "$(cat "$pid_file")" 2>/dev/null || true
  fi
  rm -f "$pid_file" "$env_file"
  echo "GCS test server stopped ($state_dir)"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
