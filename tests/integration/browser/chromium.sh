#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Chromium logs in to a web site with the (virtual) My Number Card, driven as a person would.
#
# Same site as firefox.sh (127.0.0.1:8443, TLS 1.2 only, client certificate from the JPKI test auth
# CA required, page "logged in as <subject>"). Chromium runs in a real window under Xvfb (the PIN
# dialog is Chromium's own "Unlock Security Device" window) with a temporary HOME whose NSS
# database ~/.pki/nssdb has the module registered with modutil (packaging/BROWSERS.md "Chromium")
# and trusts the server's CA. Two phases, each with a fresh --user-data-dir:
#   1. tokens = auth-only, no policy: certificate chooser -> OK, PIN dialog -> 1234, logged-in page;
#      the signature PIN EF is never selected.
#   2. tokens = both, policy AutoSelectCertificateForUrls (written to /etc/chromium/policies/managed
#      on a tmpfs mounted in this private mount namespace only): no chooser; the module shows a
#      browser only the authentication token (browser-tokens = auth-only, the default), so Chromium
#      never asks for the signature password: auth PIN, logged-in page.
# Screenshots and OCR text of every dialog and the page go to $JPKI_ARTEFACT_DIR.
source "$(dirname "$0")/common.sh"
skip_unless_installed chromium:chromium xvfb:Xvfb xdotool:xdotool imagemagick:import \
  imagemagick:convert tesseract-ocr:tesseract libnss3-tools:certutil libnss3-tools:modutil python3:python3
cd "$JPKI_WORK"

step "HTTPS site $URL (TLS 1.2 only, client certificate from the JPKI auth CA) and Xvfb"
start_site
start_x
trap 'stop_browser; kill $SERVER_PID $XVFB_PID 2>/dev/null || true' EXIT
printf 'tokens = auth-only\n' >auth-only.conf
printf 'tokens = both\n' >both.conf

step "NSS database \$HOME/.pki/nssdb: modutil -add, server CA trusted"
DB=$HOME/.pki/nssdb
mkdir -p "$DB"
certutil -N -d "sql:$DB" --empty-password || fail "certutil -N failed"
JPKI_PKCS11_CONF=$JPKI_WORK/auth-only.conf modutil -dbdir "sql:$DB" -add "JPKI (My Number Card)" -libfile "$M" -force \
  </dev/null >modutil.txt 2>&1 || { cat modutil.txt; fail "modutil -add failed"; }
certutil -d "sql:$DB" -A -n "browser test server CA" -t "C,," -i srv/ca.pem || fail "certutil -A failed"

# run_chromium PHASE CONF SIGN_SELECTS_ALLOWED(yes|no) [ERROR_PAGE_ALLOWED(yes|no)]: the browser
# opens the site; the person answers the dialogs (drive); with ERROR_PAGE_ALLOWED an error page
# is recorded and the person reloads once (F5) before giving up.
run_chromium() {
  local phase=$1 conf=$2 allow_sign=$3 allow_error=${4:-no} srv_from card_from t=$SECONDS
  srv_from=$(($(wc -l <"$SERVER_LOG") + 1))
  card_from=$(($(wc -l <"$JPKI_CARD_LOG") + 1))
  JPKI_PKCS11_CONF=$JPKI_WORK/$conf start_browser "$ART/$phase-chromium.log" \
    chromium --no-sandbox --disable-gpu --disable-quic --no-first-run --no-default-browser-check \
    --disable-background-networking --disable-component-update --disable-sync --password-store=basic \
    --user-data-dir="$JPKI_WORK/ud-$phase" --window-size=1280,900 --window-position=0,0 "$URL"
  wait_window 'Chromium$' 60
  drive "$phase" '^Unlock Security Device' '^JPKI login test' 'Chromium$' 'Select a certificate' "$allow_error"
  local seen1=("${SEEN[@]}") sign1=$SIGN_PROMPTS auth1=$AUTH_PROMPTS choosers1=$CHOOSERS
  if [[ $OUTCOME == error ]]; then
    note "the person reloads the page (F5) once"
    press "$(window_named 'Chromium$')" F5
    drive "$phase-reload" '^Unlock Security Device' '^JPKI login test' 'Chromium$' 'Select a certificate' "$allow_error"
    SEEN=("${seen1[@]}" "reload (F5)" "${SEEN[@]}")
    SIGN_PROMPTS=$((SIGN_PROMPTS + sign1)) AUTH_PROMPTS=$((AUTH_PROMPTS + auth1)) CHOOSERS=$((CHOOSERS + choosers1))
  fi
  note "what the user saw: ${SEEN[*]/%/,} ($((SECONDS - t)) s)"
  [[ $OUTCOME == page ]] && check_server "$phase" "$srv_from"
  stop_browser
  card_phase_log "$card_from" "$ART/$phase-card.log"
  if [[ $OUTCOME == page ]]; then
    ((AUTH_PROMPTS == 1)) || fail "$phase: the auth PIN dialog was not shown exactly once ($AUTH_PROMPTS)"
    check_card "$phase" "$ART/$phase-card.log" "$allow_sign"
  else
    check_card "$phase" "$ART/$phase-card.log" "$allow_sign" no
  fi
}

step "phase 1: tokens = auth-only, certificate chosen in the dialog"
run_chromium chr1-auth-only auth-only.conf no
((CHOOSERS >= 1)) || fail "chr1-auth-only: no certificate chooser was shown"
((SIGN_PROMPTS == 0)) || fail "tokens = auth-only: Chromium asked for the signature password"
pass "Chromium, auth-only: chooser -> PIN dialog -> 'logged in as CN=$AUTH_CN' (TLS 1.2), no signature password asked"

step "phase 2: tokens = both, policy AutoSelectCertificateForUrls"
# Only in this test's private mount namespace: a tmpfs over /etc/chromium (its files copied).
mkdir -p etc-chromium/policies/managed
cp -a /etc/chromium/. etc-chromium/ 2>/dev/null || true
cat >etc-chromium/policies/managed/jpki-test.json <<'JSON'
{ "AutoSelectCertificateForUrls": [
    "{\"pattern\":\"https://localhost:8443\",\"filter\":{\"ISSUER\":{\"O\":\"JPKI\"}}}" ] }
JSON
[[ -d /etc/chromium ]] || fail "/etc/chromium does not exist (the chromium package ships it)"
mount --bind "$JPKI_WORK/etc-chromium" /etc/chromium || fail "cannot bind-mount the policy over /etc/chromium"
run_chromium chr2-both both.conf no
((CHOOSERS == 0)) || fail "chr2-both: the certificate chooser was shown although AutoSelectCertificateForUrls selects it"
((SIGN_PROMPTS == 0)) || fail "tokens = both: Chromium asked $SIGN_PROMPTS time(s) for the signature password"
[[ $OUTCOME == page ]] || fail "tokens = both: Chromium did not reach the logged-in page ($OUTCOME)"
pass "Chromium, tokens = both + auto-select policy: logged in without chooser; only the authentication token was shown, no signature password asked"
echo "artefacts: $ART"
echo "Chromium browser test: all checks passed ($((SECONDS - T0)) s)"
