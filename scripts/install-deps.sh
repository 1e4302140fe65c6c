#!/usr/bin/env bash
# Installs everything Rivet needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are left alone, npm tools are reinstalled only
# when tools/node_modules is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libpq-dev postgresql postgresql-contrib
  libmariadb-dev mariadb-server mariadb-client
  libyaml-cpp-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libssl-dev
  libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libxxhash-dev libjemalloc-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev time procps iproute2 bsdutils
)
# Node.js (for the independent Parquet readers and test servers): the machine's own when present.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Independent Parquet readers and test servers (pinned in tools/package.json).
if [ -f tools/package.json ]; then
  if [ ! -d tools/node_modules ] || [ tools/package.json -nt tools/node_modules ]; then
    (cd tools && npm install --no-audit --no-fund --loglevel=error)
    touch tools/node_modules
  fi
fi
echo "install-deps: ok" >&2
