#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs inside pcsc-harness.sh (private mount/net/PID namespaces, a private pcscd, the virtual card).
#   deb_install_check.sh PACKAGE.deb
# /usr, /etc and /var are covered with overlays whose upper layers live in this namespace's
# tmpfs: dpkg really installs and purges the package (database, conffiles, triggers) but nothing
# reaches the machine, and concurrently running tests never see the installed module. The
# overlays' upper layers also tell exactly which files the install/purge cycle left behind.
source "$(dirname "$0")/../lib.sh"
deb=${1:?usage: deb_install_check.sh PACKAGE.deb}
PKG=jpki-pkcs11
cd "$JPKI_WORK"

# --- throw-away /usr, /etc, /var ----------------------------------------------------------------
ovl=$JPKI_WORK/ovl
mkdir -p "$ovl"
mount -t tmpfs -o mode=0755 tmpfs "$ovl"
# Unmount before the harness removes $JPKI_WORK (the namespace would drop them too, but the
# harness's rm -rf runs inside it).
umount_overlays() { for d in var etc usr; do umount -l "/$d" 2>/dev/null || true; done; umount -l "$ovl" 2>/dev/null || true; }
trap umount_overlays EXIT
for d in usr etc var; do
  mkdir -p "$ovl/$d.up" "$ovl/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$ovl/$d.up,workdir=$ovl/$d.work" "/$d" ||
    fail "cannot overlay /$d (overlayfs needed)"
done
pass "/usr, /etc and /var are private overlays"

# Use the installed configuration, not a test one.
unset JPKI_PKCS11_CONF JPKI_PKCS11_TOKENS JPKI_PKCS11_LOG_LEVEL JPKI_PKCS11_LOG_FILE
moddir=$(pkg-config p11-kit-1 --variable p11_module_path)
confdir=$(pkg-config p11-kit-1 --variable p11_module_configs)
proxy=$(pkg-config p11-kit-1 --variable proxy_module)
[[ -n $moddir && -n $confdir && -f $proxy ]] || fail "p11-kit pkg-config variables missing"

# --- install ------------------------------------------------------------------------------------
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
  fail "$PKG is already installed on this machine; the test needs a clean state"
fi
dpkg -i "$deb" >dpkg-i.log 2>&1 || { cat dpkg-i.log; fail "dpkg -i failed (missing Depends?)"; }
dpkg -L "$PKG" >files.txt
for f in "$moddir/libjpki-pkcs11.so" "$confdir/jpki-pkcs11.module" /etc/jpki-pkcs11/jpki-pkcs11.conf \
         /usr/bin/jpki-tool /usr/share/man/man1/jpki-tool.1.gz /usr/share/man/man5/jpki-pkcs11.conf.5.gz \
         /usr/share/doc/$PKG/copyright /usr/share/doc/$PKG/changelog.gz; do
  grep -qx "$f" files.txt || fail "$f not in the package"
  [[ -f $f ]] || fail "$f not installed"
done
if grep -q register files.txt; then fail "a registration helper besides jpki-tool: $(grep register files.txt)"; fi
if grep -Ev '^/(\.|usr|etc)(/|$)' files.txt | grep -q .; then fail "files outside /usr and /etc: $(grep -Ev '^/(\.|usr|etc)(/|$)' files.txt)"; fi
if grep -q '^/usr/local' files.txt; then fail "files under /usr/local"; fi
dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q '/etc/jpki-pkcs11/jpki-pkcs11.conf' ||
  fail "jpki-pkcs11.conf is not a conffile"
pass "dpkg -i: $(grep -c . files.txt) paths; module in $moddir, .module in $confdir, conffile in /etc"

# --- p11-kit finds the module through the installed .module file ---------------------------------
p11-kit list-modules >modules.txt 2>&1 || { cat modules.txt; fail "p11-kit list-modules failed"; }
# p11-kit 0.24 prints "NAME: MODULE" per module, 0.25 "module: NAME" and "    path: PATH" (the
# path resolved); both then indented details.
awk '/^[^ ]/{on = ($1 == "jpki-pkcs11:" || ($1 == "module:" && $2 == "jpki-pkcs11"))} on' modules.txt >ours.txt
cat ours.txt
[[ -s ours.txt ]] || { cat modules.txt; fail "p11-kit list-modules does not show jpki-pkcs11"; }
expect_grep '^module: libjpki-pkcs11.so$' "$confdir/jpki-pkcs11.module" "the .module file does not name the module relatively"
grep -Eq "^jpki-pkcs11: libjpki-pkcs11.so\$|^ +path: $moddir/libjpki-pkcs11.so\$" ours.txt ||
  fail "p11-kit did not load the module by its relative name from $moddir"
[[ $(grep -c '^    token: ' ours.txt) == 2 ]] || fail "p11-kit: expected the card's two tokens"
expect_grep 'token: JPKI Auth' ours.txt "auth token not listed by p11-kit"
pass "p11-kit list-modules: jpki-pkcs11 with its two tokens"

# --- pkcs11-tool through p11-kit-proxy.so ---------------------------------------------------------
px() { pkcs11-tool --module "$proxy" "$@"; }
px -L >proxy-slots.txt 2>&1 || { cat proxy-slots.txt; fail "pkcs11-tool via p11-kit-proxy -L failed"; }
auth_label=$(sed -n 's/^ *token label *: *\(JPKI Auth.*[^ ]\) *$/\1/p' proxy-slots.txt | head -n1)
sign_label=$(sed -n 's/^ *token label *: *\(JPKI Sign.*[^ ]\) *$/\1/p' proxy-slots.txt | head -n1)
[[ -n $auth_label && -n $sign_label ]] || { cat proxy-slots.txt; fail "our tokens not seen through p11-kit-proxy"; }
pass "pkcs11-tool via $(basename "$proxy"): '$auth_label' and '$sign_label'"

head -c 2000 /dev/urandom >data.bin
px --token-label "$auth_label" --login --pin 1234 --sign -m SHA256-RSA-PKCS --id 01 \
   -i data.bin -o auth.sig >sign.log 2>&1 || { cat sign.log; fail "signing through p11-kit-proxy failed"; }
verify_sig sha256 "$JPKI_PKI_DIR/auth.pem" data.bin auth.sig
pass "SHA256-RSA-PKCS signature through p11-kit-proxy verifies with OpenSSL against auth.pem"

# --- browsers: the authentication token only, with the installed configuration untouched ----------
# The module recognises browsers by program name; pkcs11-tool under the name "firefox" is one.
cp "$(command -v pkcs11-tool)" "$JPKI_WORK/firefox"
"$JPKI_WORK/firefox" --module "$proxy" -L >browser-slots.txt 2>&1 || { cat browser-slots.txt; fail "pkcs11-tool as firefox -L"; }
grep -q 'JPKI Auth' browser-slots.txt || fail "a browser does not see the auth token"
if grep -q 'JPKI Sign' browser-slots.txt; then fail "a browser sees the signature token (browser-tokens default)"; fi
JPKI_PKCS11_TOKENS=both "$JPKI_WORK/firefox" --module "$proxy" -L 2>&1 | grep -q 'JPKI Sign' ||
  fail "JPKI_PKCS11_TOKENS=both does not override browser-tokens"
pass "browsers see the authentication token only by default; JPKI_PKCS11_TOKENS=both overrides"

# --- registration with jpki-tool: Firefox policy, an NSS database -----------------------------------
conf_md5=$(md5sum </etc/jpki-pkcs11/jpki-pkcs11.conf | cut -d' ' -f1)
jpki-tool register --firefox-policy >register.log 2>&1 || { cat register.log; fail "jpki-tool register --firefox-policy"; }
grep -q "\"JPKI (My Number Card)\": \"$moddir/libjpki-pkcs11.so\"" /etc/firefox/policies/policies.json ||
  { cat /etc/firefox/policies/policies.json; fail "policies.json lacks the SecurityDevices entry"; }
HOME=$JPKI_WORK XDG_CONFIG_HOME=$JPKI_WORK/xdg jpki-tool register --nssdb "$JPKI_WORK/nssdb" >>register.log 2>&1 ||
  { cat register.log; fail "jpki-tool register --nssdb"; }
modutil -dbdir "sql:$JPKI_WORK/nssdb" -list 2>&1 | grep -q "library name: $moddir/libjpki-pkcs11.so" ||
  fail "module not in the NSS database"
certutil -L -d "sql:$JPKI_WORK/nssdb" -h all >nss-certs.txt 2>&1 || true
expect_grep 'JPKI Auth' nss-certs.txt "NSS (certutil) does not see the auth token's certificate"
[[ $(md5sum </etc/jpki-pkcs11/jpki-pkcs11.conf | cut -d' ' -f1) == "$conf_md5" ]] ||
  fail "registration changed the conffile /etc/jpki-pkcs11/jpki-pkcs11.conf"
[[ ! -e $JPKI_WORK/xdg/environment.d ]] || fail "registration wrote a session environment"
expect_grep 'web browsers see the authentication token only' register.log "register does not say what browsers see"
jpki-tool unregister --firefox-policy >>register.log 2>&1 || { cat register.log; fail "jpki-tool unregister --firefox-policy"; }
[[ ! -e /etc/firefox/policies/policies.json ]] || fail "policies.json left after unregister --firefox-policy"
jpki-tool unregister --nssdb "$JPKI_WORK/nssdb" >>register.log 2>&1 || { cat register.log; fail "jpki-tool unregister --nssdb"; }
if modutil -dbdir "sql:$JPKI_WORK/nssdb" -list 2>&1 | grep -q libjpki-pkcs11; then fail "module left in the NSS database"; fi
pass "jpki-tool register/unregister: Firefox policy, NSS database (auth certificate seen); conffile untouched"

# --- purge and look for leftovers -------------------------------------------------------------------
dpkg --purge "$PKG" >dpkg-r.log 2>&1 || { cat dpkg-r.log; fail "dpkg --purge failed"; }
left=()
while read -r f; do
  [[ $f == /. ]] && continue
  if [[ -d $f && ! -L $f ]]; then
    # A directory may stay only if another package owns it (/usr/share/man/man5, …).
    [[ -e $f ]] && ! dpkg-query -S "$f" >/dev/null 2>&1 && left+=("$f")
  elif [[ -e $f || -L $f ]]; then
    left+=("$f")
  fi
done <files.txt
((${#left[@]} == 0)) || fail "left behind after dpkg --purge: ${left[*]}"
# Anything new under /usr or /etc appears as a non-directory in the overlay's upper layers (a
# deleted lower file is a 0/0 character-device whiteout, which does not count).
new=$(find "$ovl/usr.up" "$ovl/etc.up" ! -type d ! -type c 2>/dev/null | sed "s|^$ovl/\(usr\|etc\)\.up|/\1|" || true)
[[ -z $new ]] || fail "files left in /usr or /etc after the purge: $new"
[[ ! -e /var/lib/dpkg/info/$PKG.list ]] || fail "dpkg still lists $PKG"
pass "dpkg --purge: every packaged file gone, nothing new left in /usr or /etc"
