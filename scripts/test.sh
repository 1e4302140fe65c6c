#!/usr/bin/env bash
# One command for every test: installs what is needed, builds, starts throwaway PostgreSQL and
# MariaDB servers, an S3-compatible server and a Google Cloud Storage stand-in on 127.0.0.1 and
# (as root) three network namespaces with a PostgreSQL on their bridge, runs ctest (unit,
# integration, interop), stops the servers.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/install-deps.sh
bash scripts/build.sh

STATE_DIR=${RIVET_TEST_STATE:-$ROOT/.rivet-test}
stop_servers() {
  bash scripts/servers/postgres.sh stop "$STATE_DIR" >/dev/null 2>&1 || true
  bash scripts/servers/mariadb.sh stop "$STATE_DIR" >/dev/null 2>&1 || true
  bash scripts/servers/s3.sh stop "$STATE_DIR" >/dev/null 2>&1 || true
  bash scripts/servers/gcs.sh stop "$STATE_DIR" >/dev/null 2>&1 || true
  bash scripts/servers/netns.sh down "$STATE_DIR" >/dev/null 2>&1 || true
}
trap stop_servers EXIT
bash scripts/servers/postgres.sh start "$STATE_DIR" >&2
bash scripts/servers/mariadb.sh start "$STATE_DIR" >&2
bash scripts/servers/s3.sh start "$STATE_DIR" >&2
bash scripts/servers/gcs.sh start "$STATE_DIR" >&2
# The multi-host tests' namespaces need root; without them those tests skip (and fail in CI).
bash scripts/servers/netns.sh up "$STATE_DIR" || echo "no network namespaces: multi-host tests skip" >&2
set -a
. "$STATE_DIR/postgres.env"
. "$STATE_DIR/mariadb.env"
. "$STATE_DIR/s3.env"
. "$STATE_DIR/gcs.env"
[[ -f "$STATE_DIR/netns.env" ]] && . "$STATE_DIR/netns.env"
set +a
export RIVET_TEST_TOOLS="$ROOT/tools"
# A run of rivet without AWS credentials ends its chain at EC2 instance metadata: the tests never
# reach for 169.254.169.254 (the credential tests point it at 127.0.0.1 themselves).
export AWS_EC2_METADATA_DISABLED=true
# Likewise a run without Google credentials ends its chain at the GCE metadata server: this keeps
# it from probing metadata.google.internal (the metadata tests point GCE_METADATA_HOST at the fake).
export METADATA_SERVER_DETECTION=none

# The Parquet footer reader's libFuzzer target needs clang: a small second build of that target
# alone, run for a bounded time by its own ctest entry.
FUZZ_DIR="$ROOT/${BUILD_DIR:-build}-fuzz"
CC=clang CXX=clang++ cmake -S . -B "$FUZZ_DIR" -DRIVET_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$FUZZ_DIR" -j"$(nproc)" --target parquet_footer_fuzz >/dev/null

# Integration tests share the servers: ctest runs them one at a time.
status=0
(cd "$FUZZ_DIR" && ctest --output-on-failure -R '^fuzz_') || status=1
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure "$@") || status=1
exit $status
