#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# register / unregister / doctor in a temporary HOME: p11-kit user config, the Chromium NSS
# database (created when missing), a Firefox profile, an arbitrary NSS database, and the Firefox
# enterprise policy (in a throw-away overlay of /etc); what doctor says browsers see.
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?JPKI_MODULE must name libjpki-pkcs11.so}
export HOME=$JPKI_WORK/home XDG_CONFIG_HOME= XDG_DATA_HOME= JPKI_PKCS11_CONF=$JPKI_WORK/jpki.conf
unset JPKI_PKCS11_TOKENS
: >"$JPKI_PKCS11_CONF"
mkdir -p "$HOME/.mozilla/firefox/abcd.default-release"
printf '[Profile0]\nName=default-release\nIsRelative=1\nPath=abcd.default-release\nDefault=1\n' \
  >"$HOME/.mozilla/firefox/profiles.ini"
certutil -N -d "sql:$HOME/.mozilla/firefox/abcd.default-release" --empty-password

# --- the user's registrations ---------------------------------------------------------------------
expect_rc 0 "doctor before register" -- "$T" doctor --module "$M"
cat out.txt
expect_grep 'warning\] *chromium: not registered' out.txt "doctor: chromium not registered"
expect_grep 'fix: close Firefox, then: jpki-tool register --firefox' out.txt "doctor: firefox fix"
expect_grep 'ok\] *browsers: web browsers see the authentication token only' out.txt "doctor: browsers auth-only by default"
expect_rc 1 "register with a missing module" -- "$T" register --module /nonexistent/libjpki-pkcs11.so

expect_rc 0 "register" -- "$T" register --module "$M" --force
cat out.txt
f=$HOME/.config/pkcs11/modules/jpki.module
grep -qx "module: $M" "$f" || fail "p11-kit user config does not name $M"
grep -q "library=$M" "$HOME/.pki/nssdb/pkcs11.txt" || fail "module missing from ~/.pki/nssdb"
grep -q "library=$M" "$HOME/.mozilla/firefox/abcd.default-release/pkcs11.txt" || fail "module missing from the Firefox profile"
modutil -dbdir "sql:$HOME/.pki/nssdb" -list 2>/dev/null | grep -q 'JPKI (My Number Card)' || fail "modutil -list"
pass "registered in p11-kit, Chromium's NSS DB and the Firefox profile"
expect_grep 'note: web browsers see the authentication token only' out.txt "register states what browsers see"
[[ ! -e $HOME/.config/environment.d ]] || fail "register wrote a session environment"
grep -q . "$JPKI_PKCS11_CONF" && fail "register changed the configuration file"
expect_rc 0 "register again is idempotent" -- "$T" register --module "$M" --force
expect_grep 'chromium: already registered' out.txt "second register"

expect_rc 0 "doctor after register" -- "$T" doctor --module "$M" --json
python3 - <<'PY' || fail "doctor --json after register"
import json
d = json.load(open("out.txt"))
ok = {(c["area"], c["level"]) for c in d["checks"]}
assert ("chromium", "ok") in ok and ("firefox", "ok") in ok and ("p11-kit", "ok") in ok, d
assert ("browsers", "ok") in ok, d
PY
pass "doctor sees every registration; browsers get the authentication token only"

# --- what doctor says about browser-tokens / JPKI_PKCS11_TOKENS -----------------------------------
echo 'tokens = both' >"$JPKI_PKCS11_CONF"
expect_rc 0 "doctor with tokens = both" -- "$T" doctor --module "$M"
expect_grep 'ok\] *browsers: web browsers see the authentication token only' out.txt "tokens does not apply to browsers"
echo 'browser-tokens = both' >"$JPKI_PKCS11_CONF"
expect_rc 0 "doctor with browser-tokens = both" -- "$T" doctor --module "$M"
cat out.txt
expect_grep 'warning\] *browsers: web browsers also see the signature token' out.txt "doctor: browser-tokens = both"
expect_grep "fix: remove \`browser-tokens = both\` from $JPKI_PKCS11_CONF" out.txt "doctor: browser-tokens fix"
: >"$JPKI_PKCS11_CONF"
expect_rc 0 "doctor with JPKI_PKCS11_TOKENS=both" -- env JPKI_PKCS11_TOKENS=both "$T" doctor --module "$M"
expect_grep 'warning\] *browsers: .*JPKI_PKCS11_TOKENS=both' out.txt "doctor: JPKI_PKCS11_TOKENS=both"
expect_grep 'fix: unset JPKI_PKCS11_TOKENS' out.txt "doctor: JPKI_PKCS11_TOKENS fix"

# --- an arbitrary NSS database ------------------------------------------------------------------------
expect_rc 0 "register --nssdb" -- "$T" register --module "$M" --nssdb "$JPKI_WORK/db"
modutil -dbdir "sql:$JPKI_WORK/db" -list 2>/dev/null | grep -q "library name: $M" || fail "module not in --nssdb DIR"
[[ -e $HOME/.config/pkcs11/modules/jpki.module ]] || fail "--nssdb alone touched the p11-kit config"
expect_rc 0 "unregister --nssdb" -- "$T" unregister --nssdb "$JPKI_WORK/db"
expect_grep '^nssdb: removed' out.txt "unregister --nssdb"
grep -q jpki-pkcs11 "$JPKI_WORK/db/pkcs11.txt" && fail "still in --nssdb DIR"
expect_rc 2 "--nssdb without a directory" -- "$T" register --nssdb ""

# --- the Firefox enterprise policy ------------------------------------------------------------------
expect_rc 1 "--firefox-policy as a plain user" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$T" register --module "$M" --firefox-policy
expect_grep 'run it as root' err.txt "--firefox-policy explains that it needs root"
# /etc becomes a throw-away overlay (this test runs in the harness's private mount namespace).
ovl=$JPKI_WORK/ovl
mkdir -p "$ovl" && mount -t tmpfs tmpfs "$ovl" && mkdir "$ovl/up" "$ovl/work"
trap 'umount -l /etc 2>/dev/null; umount -l "$ovl" 2>/dev/null; true' EXIT
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$ovl/up,workdir=$ovl/work" /etc || fail "cannot overlay /etc"
pol=/etc/firefox/policies/policies.json
rm -rf /etc/firefox && mkdir -p "${pol%/*}"
echo '{"policies": {"DisableTelemetry": true, "SecurityDevices": {"Other": "/x.so"}}, "x": 1.5}' >"$pol"
expect_rc 0 "register --firefox-policy" -- "$T" register --module "$M" --firefox-policy
cat "$pol"
python3 - "$pol" "$M" <<'PY' || fail "policies.json after register"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["x"] == 1.5 and p["policies"]["DisableTelemetry"] is True, p
assert p["policies"]["SecurityDevices"] == {"Other": "/x.so", "JPKI (My Number Card)": sys.argv[2]}, p
PY
expect_rc 0 "doctor sees the policy" -- "$T" doctor --module "$M"
expect_grep "firefox: registered for every profile by the policy $pol" out.txt "doctor: policy"
expect_rc 0 "unregister --firefox-policy" -- "$T" unregister --firefox-policy
python3 - "$pol" <<'PY' || fail "policies.json after unregister"
import json, sys
p = json.load(open(sys.argv[1]))
assert p == {"policies": {"DisableTelemetry": True, "SecurityDevices": {"Other": "/x.so"}}, "x": 1.5}, p
PY
rm "$pol"
expect_rc 0 "register --firefox-policy (no file yet)" -- "$T" register --module "$M" --firefox-policy
grep -q "\"JPKI (My Number Card)\": \"$M\"" "$pol" || fail "policies.json not written"
expect_rc 0 "unregister --firefox-policy (only our entry)" -- "$T" unregister --firefox-policy
[[ ! -e $pol ]] || fail "policies.json left with nothing in it"
echo '{broken' >"$pol"
expect_rc 1 "register --firefox-policy with a broken file" -- "$T" register --module "$M" --firefox-policy
expect_grep 'not valid JSON' out.txt "broken policies.json reported"
[[ $(cat "$pol") == '{broken' ]] || fail "broken policies.json was changed"
pass "Firefox policy: merged, removed, broken file left alone, root required"

# --- unregister ----------------------------------------------------------------------------------------
expect_rc 0 "unregister" -- "$T" unregister
cat out.txt
[[ ! -e $f ]] || fail "p11-kit user config still there"
grep -q jpki-pkcs11 "$HOME/.pki/nssdb/pkcs11.txt" && fail "still in ~/.pki/nssdb"
grep -q jpki-pkcs11 "$HOME/.mozilla/firefox/abcd.default-release/pkcs11.txt" && fail "still in the Firefox profile"
expect_rc 0 "unregister again" -- "$T" unregister --nss
expect_grep 'chromium: not registered' out.txt "second unregister"
pass "register/unregister: all checks passed"
