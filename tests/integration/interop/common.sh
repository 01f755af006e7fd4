# SPDX-License-Identifier: MIT
# Helpers for the interoperability tests (sourced after ../lib.sh). Each test runs inside
# tests/harness/pcsc-harness.sh: private pcscd, virtual card, private network namespace.
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this file
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

M=${JPKI_MODULE:?JPKI_MODULE must name libjpki-pkcs11.so}
M=$(readlink -f "$M")
: "${JPKI_WORK:?run inside tests/harness/pcsc-harness.sh}"
PKI=${JPKI_PKI_DIR:?}
AUTH_PIN=1234
SIGN_PIN=ABC123
PROXY=$(pkg-config p11-kit-1 --variable proxy_module 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/p11-kit-proxy.so)
ENGINE_DIR=$(openssl version -e | sed -E 's/^ENGINESDIR: "(.*)"$/\1/')

# step TEXT: a visible section header in the test output.
step() { echo "== $*"; }

# urienc STRING: percent-encode a token label / object label for a PKCS#11 URI (RFC 7512).
urienc() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# card_facts: reads the token labels and the card serial from our module (pkcs11-tool -L) and sets
# AUTH_LABEL, SIGN_LABEL, SERIAL, AUTH_TOKEN_URI, SIGN_TOKEN_URI.
card_facts() {
  pkcs11-tool --module "$M" -L >"$JPKI_WORK/facts.txt" 2>&1 || { cat "$JPKI_WORK/facts.txt"; fail "pkcs11-tool -L failed"; }
  AUTH_LABEL=$(sed -nE 's/^ *token label *: (JPKI Auth [0-9A-F]+) *$/\1/p' "$JPKI_WORK/facts.txt" | head -n1)
  SIGN_LABEL=$(sed -nE 's/^ *token label *: (JPKI Sign [0-9A-F]+) *$/\1/p' "$JPKI_WORK/facts.txt" | head -n1)
  SERIAL=$(sed -nE 's/^ *serial num *: ([0-9A-F]+) *$/\1/p' "$JPKI_WORK/facts.txt" | head -n1)
  [[ -n $AUTH_LABEL && -n $SIGN_LABEL && -n $SERIAL ]] || { cat "$JPKI_WORK/facts.txt"; fail "could not read token labels / serial"; }
  AUTH_TOKEN_URI="pkcs11:serial=$SERIAL;token=$(urienc "$AUTH_LABEL")"
  SIGN_TOKEN_URI="pkcs11:serial=$SERIAL;token=$(urienc "$SIGN_LABEL")"
  AUTH_SUBJECT=$(openssl x509 -in "$PKI/auth.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
  SIGN_SUBJECT=$(openssl x509 -in "$PKI/sign.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
  AUTH_CN=$(sed -E 's/.*CN=([^,]+).*/\1/' <<<"$AUTH_SUBJECT")
  SIGN_CN=$(sed -E 's/.*CN=([^,]+).*/\1/' <<<"$SIGN_SUBJECT")
  echo "card serial $SERIAL, tokens '$AUTH_LABEL' / '$SIGN_LABEL'; auth CN=$AUTH_CN, sign CN=$SIGN_CN"
}

# make_server_pki DIR: a TLS server certificate for 127.0.0.1/localhost under its own CA
# (DIR/srv_ca.pem, DIR/srv.pem, DIR/srv_key.pem).
make_server_pki() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=interop test server CA" \
    -keyout "$d/srv_ca_key.pem" -out "$d/srv_ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/srv_key.pem" -out "$d/srv.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$d/srv.ext"
  openssl x509 -req -in "$d/srv.csr" -CA "$d/srv_ca.pem" -CAkey "$d/srv_ca_key.pem" -CAcreateserial \
    -days 2 -extfile "$d/srv.ext" -out "$d/srv.pem" 2>/dev/null
  [[ -s $d/srv.pem ]] || fail "could not make the server certificate"
}

# wait_port PORT [PID]: wait (≤10 s) until something listens on 127.0.0.1:PORT.
wait_port() {
  local port=$1 pid=${2:-}
  for _ in $(seq 200); do
    ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN && return 0
    [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null && fail "server (pid $pid) exited before listening on $port"
    sleep 0.05
  done
  fail "nothing listens on port $port"
}

# stop_pid PID: end a server this test started.
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# sign_pin_verify_count: VERIFY commands with data that went to the signature PIN (EF 001B) in the
# card log: a SELECT of EF 001B followed by a VERIFY carrying data.
sign_pin_selects() { grep -c '^> 00A4020C02001B' "${1:-$JPKI_CARD_LOG}" || true; }

# login_count: VERIFY commands with data (= a PIN went to the card).
login_count() { verify_with_data_count "${1:-$JPKI_CARD_LOG}"; }

# pin_verify_count EF [LOG]: VERIFY commands carrying a PIN that went to the PIN file EF (0018:
# authentication PIN, 001B: signature password), i.e. whose last SELECT EF before them named EF.
pin_verify_count() {
  awk -v ef="$1" '
    /^> 00A4020C02/ { selected = toupper(substr($2, 11, 4)) }
    /^> 00200080[0-9A-Fa-f*][0-9A-Fa-f*]/ { if (selected == toupper(ef)) n++ }
    END { print n + 0 }' "${2:-$JPKI_CARD_LOG}"
}

# card_signature_count [LOG]: COMPUTE DIGITAL SIGNATURE commands.
card_signature_count() { grep -c '^> 802A0080' "${1:-$JPKI_CARD_LOG}" || true; }

# start_sshd PORT AUTHORIZED_KEYS [CONFIG LINE…]: a private sshd on 127.0.0.1:PORT (this network
# namespace) with its own host key, root logging in with the keys in AUTHORIZED_KEYS only, its log
# (LogLevel VERBOSE; lines end in CR LF) in $JPKI_WORK/sshd.log. Sets SSHD_PID and writes
# $JPKI_WORK/known_hosts for the client; stop it with stop_pid "$SSHD_PID".
start_sshd() {
  local port=$1 keys=$2 sshd
  shift 2
  sshd=$(command -v sshd || echo /usr/sbin/sshd)
  [[ -x $sshd ]] || fail "sshd not installed (apt-get install openssh-server)"
  # sshd needs its privilege separation directory: a tmpfs in this mount namespace only.
  if ! mountpoint -q /run/sshd; then mkdir -p /run/sshd && mount -t tmpfs -o mode=0755 tmpfs /run/sshd; fi
  [[ -f $JPKI_WORK/host_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$JPKI_WORK/host_key" || fail "cannot make a host key"
  printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $JPKI_WORK/host_key" "PidFile none" \
    "AuthorizedKeysFile $keys" "StrictModes no" "UsePAM no" "PermitRootLogin prohibit-password" \
    "PubkeyAuthentication yes" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
    "LogLevel VERBOSE" "$@" >"$JPKI_WORK/sshd_config"
  # sshd re-executes itself: the configuration path must be absolute.
  "$sshd" -t -f "$JPKI_WORK/sshd_config" || fail "sshd -t rejects $JPKI_WORK/sshd_config"
  "$sshd" -D -e -f "$JPKI_WORK/sshd_config" 2>>"$JPKI_WORK/sshd.log" &
  SSHD_PID=$!
  wait_port "$port" "$SSHD_PID"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$JPKI_WORK/host_key.pub")" >"$JPKI_WORK/known_hosts"
  echo "sshd: $("$sshd" -V 2>&1 | head -n1) on 127.0.0.1:$port (pid $SSHD_PID)"
}
# ssh_opts PORT: sets SSH_CLIENT_OPTS, the ssh options for that server: no user or system
# configuration, only its host key, and no key files (IdentityFile names one that does not exist), so the only keys offered
# are those given on the command line or by an agent.
ssh_opts() {
  SSH_CLIENT_OPTS=(-F /dev/null -p "$1" -o UserKnownHostsFile="$JPKI_WORK/known_hosts"
    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o ConnectTimeout=10
    -o IdentityFile="$JPKI_WORK/no-key-file")
}

# card_mark / card_delta WHAT AUTH SIGN SIGNATURES: since card_mark the card got exactly AUTH
# VERIFYs with the authentication PIN (EF 0018), SIGN with the signature password (EF 001B) and
# SIGNATURES signatures ('+' after SIGNATURES: at least that many).
card_mark() { mark=$(wc -l <"$JPKI_CARD_LOG"); }
card_delta() {
  tail -n +"$((mark + 1))" "$JPKI_CARD_LOG" >delta.log
  local a s n
  a=$(pin_verify_count 0018 delta.log) s=$(pin_verify_count 001B delta.log) n=$(card_signature_count delta.log)
  echo "card: $a VERIFY with the authentication PIN, $s with the signature password, $n signature(s)"
  ((a == $2)) || fail "$1: $a VERIFY with the authentication PIN (expected $2)"
  ((s == $3)) || fail "$1: $s VERIFY with the signature password (expected $3)"
  if [[ $4 == *+ ]]; then ((n >= ${4%+})) || fail "$1: $n card signatures (expected at least ${4%+})"
  else ((n == $4)) || fail "$1: $n card signatures (expected $4)"; fi
}

# check_sig ROLE: ROLE.sig (256 bytes) is a PKCS#1 v1.5 SHA-256 signature of data.bin (whose digest
# is data.sha256) by the card's certificate $PKI/ROLE.pem (ROLE may carry a suffix: sign-cache).
check_sig() {
  local role=$1
  [[ $(stat -c %s "$role.sig") == 256 ]] || fail "$role signature is not 256 bytes"
  openssl x509 -in "$PKI/${role%%-*}.pem" -pubkey -noout >"$role.pub"
  openssl pkeyutl -verify -pubin -inkey "$role.pub" -pkeyopt digest:sha256 -in data.sha256 -sigfile "$role.sig" \
    >"verify-$role.txt" 2>&1 || { cat "verify-$role.txt"; fail "$role signature does not verify"; }
  echo "$role: $(cat "verify-$role.txt")"
  expect_grep '^Signature Verified Successfully' "verify-$role.txt" "$role signature verification"
  verify_sig sha256 "$PKI/${role%%-*}.pem" data.bin "$role.sig"
}
