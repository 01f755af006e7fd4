#!/usr/bin/env bash
# register / unregister / doctor in a temporary HOME: p11-kit user config, the Chromium NSS
# database (created when missing) and a Firefox profile.
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?JPKI_MODULE must name libjpki-pkcs11.so}
export HOME=$JPKI_WORK/home XDG_CONFIG_HOME= XDG_DATA_HOME= JPKI_PKCS11_CONF=$JPKI_WORK/none.conf
unset JPKI_PKCS11_TOKENS
mkdir -p "$HOME/.mozilla/firefox/abcd.default-release"
printf '[Profile0]\nName=default-release\nIsRelative=1\nPath=abcd.default-release\nDefault=1\n' \
  >"$HOME/.mozilla/firefox/profiles.ini"
certutil -N -d "sql:$HOME/.mozilla/firefox/abcd.default-release" --empty-password

expect_rc 0 "doctor before register" -- "$T" doctor --module "$M"
cat out.txt
expect_grep 'warning\] *chromium: not registered' out.txt "doctor: chromium not registered"
expect_grep 'fix: close Firefox, then: jpki-tool register --firefox' out.txt "doctor: firefox fix"
expect_rc 1 "register with a missing module" -- "$T" register --module /nonexistent/libjpki-pkcs11.so

expect_rc 0 "register" -- "$T" register --module "$M" --force
cat out.txt
f=$HOME/.config/pkcs11/modules/jpki.module
grep -qx "module: $M" "$f" || fail "p11-kit user config does not name $M"
grep -q "library=$M" "$HOME/.pki/nssdb/pkcs11.txt" || fail "module missing from ~/.pki/nssdb"
grep -q "library=$M" "$HOME/.mozilla/firefox/abcd.default-release/pkcs11.txt" || fail "module missing from the Firefox profile"
modutil -dbdir "sql:$HOME/.pki/nssdb" -list 2>/dev/null | grep -q 'JPKI (My Number Card)' || fail "modutil -list"
pass "registered in p11-kit, Chromium's NSS DB and the Firefox profile"
expect_grep 'tokens = auth-only' out.txt "register tells about auth-only for browsers"
expect_rc 0 "register again is idempotent" -- "$T" register --module "$M" --force
expect_grep 'chromium: already registered' out.txt "second register"

expect_rc 0 "doctor after register" -- "$T" doctor --module "$M" --json
python3 - <<'PY' || fail "doctor --json after register"
import json
d = json.load(open("out.txt"))
ok = {(c["area"], c["level"]) for c in d["checks"]}
assert ("chromium", "ok") in ok and ("firefox", "ok") in ok and ("p11-kit", "ok") in ok, d
assert any(c["area"] == "browsers" and c["level"] == "warning" for c in d["checks"]), d
PY
pass "doctor sees every registration and warns about the browser token setting"
echo 'tokens = auth-only' >"$JPKI_PKCS11_CONF"
expect_rc 0 "doctor with tokens = auth-only" -- "$T" doctor --module "$M"
grep -q 'browsers:' out.txt && fail "doctor still warns with auth-only"

expect_rc 0 "unregister" -- "$T" unregister
cat out.txt
[[ ! -e $f ]] || fail "p11-kit user config still there"
grep -q jpki-pkcs11 "$HOME/.pki/nssdb/pkcs11.txt" && fail "still in ~/.pki/nssdb"
grep -q jpki-pkcs11 "$HOME/.mozilla/firefox/abcd.default-release/pkcs11.txt" && fail "still in the Firefox profile"
expect_rc 0 "unregister again" -- "$T" unregister --nss
expect_grep 'chromium: not registered' out.txt "second unregister"
pass "register/unregister: all checks passed"
