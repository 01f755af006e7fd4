# SPDX-License-Identifier: MIT
# Helpers for the browser tests (sourced). Each test runs inside tests/harness/pcsc-harness.sh:
# private pcscd with the virtual card, private mount/net/pid namespaces. The browser is a real
# Firefox ESR / Chromium in a real X server (Xvfb); a person's actions are played with xdotool
# (keys typed into the focused dialog), and what the person sees is read back from screenshots
# with OCR (tesseract), so a dialog is recognised by its text, not by guesswork.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

BROWSER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
M=$(readlink -f "${JPKI_MODULE:?JPKI_MODULE must name libjpki-pkcs11.so}")
# The module under test: ours, or (JPKI_BROWSER_PEER=opensc) OpenSC's opensc-pkcs11.so on the same
# virtual card, to compare a browser's behaviour with the peer's module (issue 19). The flow is the
# same; only the token names in the prompts differ, and the checks of our module's own card traffic
# (one SELECT policy, browser-tokens) are left out for the peer.
PEER=${JPKI_BROWSER_PEER:-}
AUTH_TOKEN_RE='JPKI Auth'
SIGN_TOKEN_RE='JPKI Sign'
if [[ $PEER == opensc ]]; then
  M=$(readlink -f "${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so}")
  [[ -f $M ]] || fail "OpenSC's module not found at $M (apt-get install opensc-pkcs11)"
  AUTH_TOKEN_RE='User Authentication'
  SIGN_TOKEN_RE='Digital Signature'
elif [[ -n $PEER ]]; then
  fail "JPKI_BROWSER_PEER=$PEER: only 'opensc' is known"
fi
: "${JPKI_WORK:?run inside tests/harness/pcsc-harness.sh}"
PKI=${JPKI_PKI_DIR:?}
AUTH_PIN=1234
PORT=8443
URL=https://localhost:$PORT/
T0=$SECONDS
# The test's clock: the server log (https_server.py --t0) and the driver's notes give times as
# seconds since this moment ("+12.345"), so the connection's age at each user action can be read.
T0_EPOCH=$EPOCHREALTIME
T0_US=${T0_EPOCH/[.,]/}
now() {
  local d=$((${EPOCHREALTIME/[.,]/} - T0_US))
  printf '+%d.%03d' $((d / 1000000)) $((d / 1000 % 1000))
}

step() { echo "== [$((SECONDS - T0))s] $*"; }
note() { echo "   $*"; }
# mark TEXT: a timestamped note, also written into the card's APDU log (as a "# " comment line,
# appended like the card's own lines), so the log shows which card commands follow which action.
mark() {
  local t
  t=$(now)
  echo "   [$t] $*"
  echo "# driver $t: $*" >>"$JPKI_CARD_LOG"
}

# skip_unless_installed "PKG:COMMAND"...: exit 77 (ctest SKIP_RETURN_CODE) naming the Debian
# packages that are missing. Only a missing package skips; every other problem fails.
skip_unless_installed() {
  local missing=() spec
  for spec in "$@"; do
    command -v "${spec#*:}" >/dev/null 2>&1 || missing+=("${spec%%:*}")
  done
  if ((${#missing[@]})); then
    echo "SKIP: missing Debian package(s): ${missing[*]} (apt-get install ${missing[*]})"
    exit 77
  fi
}

# Artefacts (screenshots, logs) survive the harness's scratch directory.
ART=${JPKI_ARTEFACT_DIR:-$JPKI_WORK/artefacts}
rm -rf "$ART"
mkdir -p "$ART"

# A private home: browsers write their caches and (Chromium) find their NSS database there.
export HOME=$JPKI_WORK/home XDG_CONFIG_HOME=$JPKI_WORK/home/.config XDG_CACHE_HOME=$JPKI_WORK/home/.cache
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY
export NO_AT_BRIDGE=1

AUTH_SUBJECT=$(openssl x509 -in "$PKI/auth.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
AUTH_CN=$(sed -E 's/.*CN=([^,]+).*/\1/' <<<"$AUTH_SUBJECT")

# --- the web site --------------------------------------------------------------------------------
# start_site: a server certificate for localhost under its own CA (srv/ca.pem, to be trusted by the
# browser), and the HTTPS server (TLS 1.2 only, client certificate from the JPKI auth CA required).
start_site() {
  local d=$JPKI_WORK/srv
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=browser test server CA" \
    -keyout "$d/ca_key.pem" -out "$d/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/key.pem" -out "$d/csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$d/ext"
  openssl x509 -req -in "$d/csr" -CA "$d/ca.pem" -CAkey "$d/ca_key.pem" -CAcreateserial -days 2 \
    -extfile "$d/ext" -out "$d/cert.pem" 2>/dev/null
  [[ -s $d/cert.pem ]] || fail "could not make the server certificate"
  SERVER_LOG=$ART/server.log
  python3 "$BROWSER_DIR/https_server.py" --port $PORT --cert "$d/cert.pem" --key "$d/key.pem" \
    --client-ca "$PKI/auth_ca.pem" --log "$SERVER_LOG" --t0 "${T0_EPOCH/,/.}" >"$JPKI_WORK/server.out" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q '^ready' "$JPKI_WORK/server.out" 2>/dev/null && return 0
    kill -0 $SERVER_PID 2>/dev/null || { cat "$JPKI_WORK/server.out"; fail "HTTPS server did not start"; }
    sleep 0.1
  done
  fail "HTTPS server not ready"
}

# --- the display ---------------------------------------------------------------------------------
start_x() {
  local fd_file=$JPKI_WORK/xdisplay
  Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$fd_file" >"$JPKI_WORK/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do [[ -s $fd_file ]] && break; sleep 0.05; done
  [[ -s $fd_file ]] || { cat "$JPKI_WORK/xvfb.log"; fail "Xvfb did not start"; }
  export DISPLAY=:$(tr -d '\n' <"$fd_file")
  note "Xvfb on $DISPLAY"
}

# snap NAME: screenshot of the whole screen as $ART/NN-NAME.png; prints the path.
snap() {
  local f n
  n=$(find "$ART" -maxdepth 1 -name '*.png' | wc -l)
  f=$(printf '%s/%02d-%s.png' "$ART" $((n + 1)) "$1")
  import -display "$DISPLAY" -window root "$f" 2>/dev/null || fail "screenshot failed"
  echo "$f"
}

# ocr PNG: the text a person would read on the screenshot (enlarged 2x for tesseract).
ocr() {
  convert "$1" -resize 200% -colorspace Gray "$JPKI_WORK/ocr.png" 2>/dev/null
  tesseract "$JPKI_WORK/ocr.png" - 2>/dev/null || true
}

# window_named REGEX: the id of a mapped window whose title matches (empty if none).
window_named() { xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n1 || true; }
window_titles() { { xdotool search --onlyvisible --name . getwindowname %@ 2>/dev/null || true; } | sort -u | tr '\n' '|'; }

# press WINDOW KEYS...: focus the window (no window manager runs, so focus is set directly) and
# press keys in it.
press() {
  local w=$1
  shift
  xdotool windowfocus --sync "$w" 2>/dev/null || xdotool windowfocus "$w"
  sleep 0.3
  xdotool key --clearmodifiers "$@"
}
# open_address WINDOW: the person opens $URL in the browser window: Ctrl+L, the address typed in
# full (Firefox shows an address without "https://", and Enter on that may open http://), Enter.
open_address() {
  press "$1" ctrl+l
  xdotool type --delay 20 "$URL"
  xdotool key Return
}
# type_into PHASE WINDOW TEXT: type as a person would (one key at a time), screenshot the dialog
# with the (masked) PIN typed, then Enter.
type_into() {
  xdotool windowfocus --sync "$2" 2>/dev/null || xdotool windowfocus "$2"
  sleep 0.3
  xdotool type --delay 150 "$3"
  sleep 0.3
  snap "$1-pin-typed" >/dev/null
  xdotool key Return
}

# rename_shot PNG NEWSUFFIX: NN-PHASE-prompt.png (+ .txt) -> NN-PHASE-NEWSUFFIX.png (+ .txt).
rename_shot() {
  mv "$1" "${1%-prompt.png}-$2.png"
  mv "${1%.png}.txt" "${1%-prompt.png}-$2.txt"
}
# said TEXT WORD: the sentence of the OCR text that contains WORD (what the dialog says).
said() { { grep -Eo "Please [^.]*$2[^.]*" <<<"$1" || grep -Eo "[^.]*$2[^.]*" <<<"$1"; } | head -n1 || true; }

# --- playing the user ------------------------------------------------------------------------------
# drive PHASE PROMPT_TITLE_RE PAGE_TITLE_RE MAIN_TITLE_RE CHOOSER_TEXT_RE: what a person does
# after opening the site, until the logged-in page shows (fails after 75 s):
#   - a PIN/password dialog (a window titled PROMPT_TITLE_RE): read its text; for the
#     authentication token type the PIN; for the signature token press Cancel (Escape), as a
#     person who only wants to log in does; anything else fails;
#   - the certificate chooser (CHOOSER_TEXT_RE read on the screen): press Enter (OK, the card's
#     certificate is preselected); if CHOOSER_HOOK names a function, it is called first (PHASE);
#   - the page (a window titled PAGE_TITLE_RE): screenshot, done.
#   - RELOAD_AFTER=N: when neither a PIN dialog nor the page has come N seconds after the chooser
#     was answered, the person opens the address again (Ctrl+L, types $URL, Enter; F5 would reload
#     the empty tab, the page never having loaded), once, as packaging/BROWSERS.md tells users
#     whose page stays at "Performing a TLS handshake". The address is typed in full: Firefox shows
#     it without "https://" and, Enter pressed on that, sometimes opened http://localhost:8443 (an
#     empty answer from a TLS server). Unset: no reload; the wait ends in failure.
# Sets SEEN (ordered list of what the user saw), SIGN_PROMPTS, AUTH_PROMPTS, CHOOSERS, RELOADS,
# PAGE_SHOT.
drive() {
  local phase=$1 prompt_re=$2 page_re=$3 main_re=$4 chooser_re=$5 allow_error=${6:-no}
  local deadline=$((SECONDS + 75)) w f text main chosen_at=0 tp prompts_at_choice=0
  DRIVE_SRV_FROM=$(($(wc -l <"$SERVER_LOG") + 1))
  mark "$phase: browser window up"
  SEEN=() SIGN_PROMPTS=0 AUTH_PROMPTS=0 CHOOSERS=0 RELOADS=0 PAGE_SHOT="" OUTCOME="" ERROR_TEXT=""
  while ((SECONDS < deadline)); do
    sleep 1
    if [[ -n ${RELOAD_AFTER:-} ]] && ((CHOOSERS >= 1 && AUTH_PROMPTS + SIGN_PROMPTS == prompts_at_choice &&
      RELOADS == 0 && SECONDS - chosen_at >= RELOAD_AFTER)); then
      f=$(snap "$phase-stuck-after-chooser")
      text=$(ocr "$f" | tr '\n' ' ')
      echo "$text" >"${f%.png}.txt"
      note "no PIN dialog $RELOAD_AFTER s after the chooser, the page does not load -> opens the address again (Ctrl+L, $URL, Enter)"
      SEEN+=("page stuck after the chooser")
      open_address "$(window_named "$main_re")"
      mark "$phase: address opened again (Ctrl+L, $URL typed, Enter)"
      RELOADS=1
      continue
    fi
    w=$(window_named "$prompt_re")
    if [[ -n $w ]]; then
      mark "$phase: PIN dialog window seen"
      sleep 0.5 # let the dialog draw
      f=$(snap "$phase-prompt")
      text=$(ocr "$f" | tr '\n' ' ')
      echo "$text" >"${f%.png}.txt"
      if grep -Eq "$SIGN_TOKEN_RE" <<<"$text"; then
        SIGN_PROMPTS=$((SIGN_PROMPTS + 1)) && SEEN+=("signature-password prompt")
        rename_shot "$f" sign-password-prompt
        note "user sees a password prompt for the SIGNATURE token: '$(said "$text" "$SIGN_TOKEN_RE")' -> presses Cancel"
        press "$w" Escape
      elif grep -Eq "$AUTH_TOKEN_RE" <<<"$text"; then
        AUTH_PROMPTS=$((AUTH_PROMPTS + 1)) && SEEN+=("auth-PIN prompt")
        rename_shot "$f" auth-pin-prompt
        note "user sees the PIN prompt: '$(said "$text" "$AUTH_TOKEN_RE")' -> types the 4-digit PIN"
        ((AUTH_PROMPTS <= 1)) || fail "$phase: the authentication PIN was asked for a second time"
        type_into "$phase" "$w" "$AUTH_PIN"
        mark "$phase: PIN typed, Enter pressed"
      else
        fail "$phase: a PIN dialog whose text names neither token: '$text' (see $f)"
      fi
      sleep 1
      continue
    fi
    w=$(window_named "$page_re")
    if [[ -n $w ]]; then
      mark "$phase: page window seen"
      sleep 1 # let the page paint
      PAGE_SHOT=$(snap "$phase-logged-in-page")
      text=$(ocr "$PAGE_SHOT" | tr '\n' ' ')
      echo "$text" >"${PAGE_SHOT%.png}.txt"
      SEEN+=("logged-in page")
      note "user sees the page: '$(grep -Eo 'logged in as [^:]*' <<<"$text" | head -n1 | cut -c1-80)'"
      grep -q 'logged in as' <<<"$text" || fail "$phase: page shown but 'logged in as' not read on it (see $PAGE_SHOT)"
      OUTCOME=page
      return 0
    fi
    main=$(window_named "$main_re")
    [[ -n $main ]] || continue
    if [[ -n $(window_named "$ERROR_TITLE_RE") ]]; then
      f=$(snap "$phase-error-page")
      text=$(ocr "$f" | tr '\n' ' ')
      echo "$text" >"${f%.png}.txt"
      stall_diagnostics "$phase"
      fail "$phase: the browser shows an error page: $(window_titles) (see $f; ${text:0:300})"
    fi
    f=$JPKI_WORK/probe.png
    tp=$(now)
    import -display "$DISPLAY" -window root "$f" 2>/dev/null || continue
    text=$(ocr "$f" | tr '\n' ' ')
    if grep -Eq 'ERR_[A-Z_]{4,}|Secure Connection Failed|Access to localhost was denied' <<<"$text"; then
      f=$(snap "$phase-error-page")
      echo "$text" >"${f%.png}.txt"
      ERROR_TEXT=$(grep -Eo 'Access to [^.]*denied|[a-z]+ didn.t accept your login certificate[^.]*|ERR_[A-Z_]+|Secure Connection Failed' <<<"$text" | tr '\n' ' ')
      SEEN+=("error page")
      note "user sees an error page: $ERROR_TEXT"
      [[ $allow_error == yes ]] || fail "$phase: the browser shows an error page (see $f)"
      OUTCOME=error
      return 0
    fi
    if grep -Eq "$chooser_re" <<<"$text"; then
      # Answered at once, as a person who knows the dialog would; the screenshot just read is kept
      # as the evidence. CHOOSER_TEXT_RE must match only once the dialog takes the answer
      # (firefox.sh).
      mark "$phase: certificate chooser recognised (screenshot taken at $tp)"
      [[ -z ${CHOOSER_HOOK:-} ]] || "$CHOOSER_HOOK" "$phase"
      press "$main" Return
      chosen_at=$SECONDS prompts_at_choice=$((AUTH_PROMPTS + SIGN_PROMPTS))
      mark "$phase: certificate chooser answered (Enter)"
      CHOOSERS=$((CHOOSERS + 1)) && SEEN+=("certificate chooser")
      keep_shot "$f" "$phase-certificate-chooser" "$text"
      note "user saw the certificate chooser (card's certificate preselected) -> pressed Enter (OK)"
    fi
  done
  f=$(snap "$phase-timeout")
  local why="$phase: no logged-in page; windows: $(window_titles); screen: $(ocr "$f" | tr '\n' ' ' | cut -c1-400) (see $f)"
  stall_diagnostics "$phase"
  fail "$why"
}

# keep_shot PNG NAME TEXT: keep a screenshot already taken (and its OCR text) as NN-NAME.png.
keep_shot() {
  local n f
  n=$(find "$ART" -maxdepth 1 -name '*.png' | wc -l)
  f=$(printf '%s/%02d-%s.png' "$ART" $((n + 1)) "$2")
  mv "$1" "$f"
  echo "$3" >"${f%.png}.txt"
}

# stall_diagnostics PHASE: what tells the causes of a missing dialog apart: the server's
# connections of this phase (accept, handshake end or close, with their ages), the card commands
# around the driver's actions, the browser's own log lines that matter (BROWSER_LOG_GLOB and
# BROWSER_LOG_RE, set by the test), and every window, mapped or not.
stall_diagnostics() {
  echo "--- diagnostics ($1) at $(now): server connections (times since the test's start; age since accept):"
  tail -n +"$DRIVE_SRV_FROM" "$SERVER_LOG" | grep -E ' (accept|handshake-ok|handshake-error|connection-error|close|GET) ' |
    cut -c1-160 || true
  echo "--- card log: driver marks and the last commands"
  grep -n '^# driver' "$JPKI_CARD_LOG" | tail -n 8 || true
  echo "    last command: $(grep -n '^>' "$JPKI_CARD_LOG" | tail -n1 | cut -c1-60)"
  if [[ -n ${BROWSER_LOG_GLOB:-} ]]; then
    echo "--- browser log ($BROWSER_LOG_GLOB), lines matching /$BROWSER_LOG_RE/ (last 40):"
    # shellcheck disable=SC2086 # the glob is meant to expand
    grep -hE "$BROWSER_LOG_RE" $BROWSER_LOG_GLOB 2>/dev/null | tail -n 40 | cut -c1-240 || true
  fi
  echo "--- windows with a name (mapped or not):"
  { xdotool search --name . 2>/dev/null || true; } | while read -r w; do
    echo "    $w $(xdotool getwindowname "$w" 2>/dev/null)"
  done | sort -k2 -u | head -n 30 || true
  echo "--- xwininfo -root -tree (prompts, browser windows):"
  { xwininfo -root -tree 2>/dev/null || true; } | grep -iE 'password|protected|unlock|firefox|chromium' | head -n 30 || true
  if [[ -n ${BROWSER_PID:-} ]] && command -v gdb >/dev/null; then
    local pid
    # The browser's main process (setsid made BROWSER_PID the group leader; it may be a wrapper).
    pid=$(pgrep -o -g "$BROWSER_PID" -x 'firefox-esr|firefox|chromium' || echo "$BROWSER_PID")
    echo "--- threads of the browser process $pid (gdb), full log in $ART/$1-stacks.txt:"
    timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 25' >"$ART/$1-stacks.txt" 2>&1 || true
    grep -E '^Thread|PK11_|SSL_|ssl_|Prompt|SpinEventLoop|C_[A-Z][a-zA-Z]+' "$ART/$1-stacks.txt" | head -n 60 | cut -c1-200 || true
  fi
  if [[ -n ${JPKI_PKCS11_LOG_FILE:-} && -f $JPKI_PKCS11_LOG_FILE ]]; then
    echo "--- module debug log, last 25 lines:"
    tail -n 25 "$JPKI_PKCS11_LOG_FILE" | cut -c1-200
  fi
  echo "--- end of diagnostics"
}

# --- what the server and the card saw ---------------------------------------------------------------
# check_server PHASE FROM_LINE: the server logged a GET / with the card's certificate over TLS 1.2.
check_server() {
  local phase=$1 from=$2 line
  line=$(tail -n +"$from" "$SERVER_LOG" | grep -E "GET / tls=TLSv1\.2 .*client=\"countryName=JP, commonName=$AUTH_CN\"" | head -n1) ||
    true
  [[ -n $line ]] || { cat "$SERVER_LOG" >&2; fail "$phase: the server did not log a TLS 1.2 request with the card's certificate (CN=$AUTH_CN)"; }
  note "server log: $line"
}

# card_phase_log FROM_LINE OUT: the card log lines of this phase.
card_phase_log() { tail -n +"$1" "$JPKI_CARD_LOG" >"$2"; }

# sign_pin_verifies LOG: VERIFY commands carrying data while the signature PIN EF (001B) is the
# selected EF, i.e. the signature password sent to the card.
sign_pin_verifies() {
  awk '/^> 00A4020C02/ {ef = substr($2, 11, 4)}
       /^> 00A4040C/ {ef = ""}
       /^> 00200080[0-9A-Fa-f*][0-9A-Fa-f*]/ && ef == "001B" {n++}
       END {print n + 0}' "$1"
}

# check_card PHASE LOG EXPECT_SIGN_SELECTS(yes|no): exactly one VERIFY with data (the auth PIN the
# user typed), never a VERIFY with data after a SELECT of the signature PIN EF 001B.
check_card() {
  if [[ -n $PEER ]]; then
    note "card log ($1): $(grep -c '^>' "$2") APDUs ($PEER's module: our module's card checks do not apply)"
    return 0
  fi
  local phase=$1 log=$2 expect_sign=$3 expect_login=${4:-yes} n_verify n_sign n_sel n_sig
  n_verify=$(verify_with_data_count "$log")
  n_sign=$(sign_pin_verifies "$log")
  n_sel=$(grep -c '^> 00A4020C02001B' "$log" || true)
  n_sig=$(grep -c '^> 802A' "$log" || true)
  note "card log ($phase): $(grep -c '^>' "$log") APDUs, $n_verify VERIFY with a PIN, $n_sel SELECT of EF 001B (signature PIN), $n_sign VERIFY with data after it, $n_sig signatures"
  ((n_sign == 0)) || fail "$phase: the signature password was sent to the card ($n_sign VERIFY with data after SELECT 001B)"
  [[ $expect_login == yes ]] || return 0
  ((n_verify == 1)) || fail "$phase: expected exactly one VERIFY with a PIN (the auth PIN typed), got $n_verify"
  ((n_sig >= 1)) || fail "$phase: the card made no signature (no 802A command): the TLS client auth did not use the card"
  if [[ $expect_sign == no ]] && ((n_sel > 0)); then
    fail "$phase: the browser should see the authentication token only, yet the signature PIN EF 001B was selected $n_sel times"
  fi
}

# ERROR_TITLE_RE: window titles of the browsers' error pages.
ERROR_TITLE_RE='Problem loading page|Secure Connection Failed|Privacy error|can.t be reached|can.t provide a secure'

# start_browser LOG CMD...: start a browser in its own session (process group), BROWSER_PID.
start_browser() {
  local log=$1
  shift
  setsid "$@" >"$log" 2>&1 &
  BROWSER_PID=$!
}

# stop_browser: end the browser this test started, with all its processes (its process group).
stop_browser() {
  [[ -n ${BROWSER_PID:-} ]] || return 0
  kill -TERM -- "-$BROWSER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$BROWSER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$BROWSER_PID" 2>/dev/null || true
  wait "$BROWSER_PID" 2>/dev/null || true
  BROWSER_PID=""
}

# wait_window REGEX SECONDS: wait until a window with that title is mapped; sets WIN.
wait_window() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    WIN=$(window_named "$1")
    [[ -n $WIN ]] && return 0
    kill -0 "$BROWSER_PID" 2>/dev/null || fail "the browser exited (see its log)"
    sleep 0.3
  done
  fail "no window titled /$1/ within $2 s; windows: $(window_titles)"
}
