# Sourced by postgres.sh and mariadb.sh: the test certificates of the throwaway servers, made
# with openssl in STATE_DIR/tls/ the first time a server starts (and again when one expires
# within a day), then shared by every server of that STATE_DIR:
#   ca.pem, ca.key          a self-signed CA, "Rivet test CA"
#   server.pem, server.key  the servers' certificate, signed by the CA, naming only DNS:localhost
#                           and IP:127.0.0.1. The servers also listen on 127.0.0.2
#                           (TLS_OTHER_HOST), an address the certificate does not name, so a test
#                           can see verify-full refuse a host-name mismatch that verify-ca accepts.
#   client.pem, client.key  a client certificate for the user rivet_cert (TLS_CLIENT_USER), who
#                           can log in only with it
#   wrong-ca.pem            another self-signed CA that signed nothing here (negative tests)
# EC P-256 keys: fast to make, accepted by OpenSSL 3 servers and clients.

TLS_OTHER_HOST=127.0.0.2
TLS_CLIENT_USER=rivet_cert

# tls_make STATE_DIR: makes STATE_DIR/tls/ when missing or expiring.
tls_make() {
  local dir="$1/tls"
  mkdir -p "$dir"
  chmod 755 "$dir"
  local file
  for file in ca.pem server.pem client.pem wrong-ca.pem; do
    if [[ ! -f "$dir/$file" ]] || ! openssl x509 -checkend 86400 -noout -in "$dir/$file" >/dev/null 2>&1; then
      _tls_make_all "$dir"
      return
    fi
  done
}

_tls_make_all() {
  local dir="$1" tmp
  tmp=$(mktemp -d)
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  _tls_openssl req -x509 "${key[@]}" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 3650 \
    -subj "/CN=Rivet test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  _tls_openssl req -x509 "${key[@]}" -keyout "$tmp/wrong-ca.key" -out "$tmp/wrong-ca.pem" \
    -days 3650 -subj "/CN=Rivet wrong test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  _tls_sign "$tmp" server "/CN=Rivet test server" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
  # PostgreSQL's cert authentication and MariaDB's REQUIRE X509 both take the user from the CN.
  _tls_sign "$tmp" client "/CN=$TLS_CLIENT_USER" "extendedKeyUsage=clientAuth"
  chmod 644 "$tmp"/*.pem
  # libpq refuses a client key that others can read.
  chmod 600 "$tmp"/*.key
  rm -f "$tmp"/*.csr "$tmp"/*.ext "$tmp/wrong-ca.key"
  mv -f "$tmp"/* "$dir"/
  rmdir "$tmp"
}

# _tls_sign DIR NAME SUBJECT EXTENSIONS: DIR/NAME.pem and DIR/NAME.key signed by DIR/ca.pem.
_tls_sign() {
  local dir="$1" name="$2" subject="$3" extensions="$4"
  _tls_openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "$subject"
  printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
    "$extensions" >"$dir/$name.ext"
  _tls_openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile "$dir/$name.ext" \
    -out "$dir/$name.pem"
}

_tls_openssl() {
  local out
  out=$(openssl "$@" 2>&1) || {
    echo "tls.sh: openssl $1 failed: $out" >&2
    return 1
  }
}

# tls_server_files STATE_DIR OWNER: a copy of the server's certificate and key in
# STATE_DIR/tls/OWNER/ that only OWNER can read (both servers refuse a key others can read);
# prints that folder.
tls_server_files() {
  local dir="$1/tls" owner="$2"
  mkdir -p "$dir/$owner"
  cp "$dir/server.pem" "$dir/server.key" "$dir/ca.pem" "$dir/$owner/"
  chmod 600 "$dir/$owner/server.key"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown -R "$owner:$owner" "$dir/$owner"
  fi
  chmod 700 "$dir/$owner"
  echo "$dir/$owner"
}

# tls_env STATE_DIR: the .env lines that tell the tests where the certificates are.
tls_env() {
  local dir="$1/tls"
  cat <<ENV
RIVET_TEST_TLS_CA=$dir/ca.pem
RIVET_TEST_TLS_WRONG_CA=$dir/wrong-ca.pem
RIVET_TEST_TLS_CLIENT_CERT=$dir/client.pem
RIVET_TEST_TLS_CLIENT_KEY=$dir/client.key
RIVET_TEST_TLS_CLIENT_USER=$TLS_CLIENT_USER
RIVET_TEST_TLS_OTHER_HOST=$TLS_OTHER_HOST
ENV
}
