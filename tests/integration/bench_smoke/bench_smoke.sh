#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench_smoke.sh RUN_SH OUT_DIR: bench/run.sh --quick, then checks that the report has every
# scenario for every module measured, with APDUs and pcscd calls counted and every signature
# verified.
set -euo pipefail
run_sh=$1 out=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$out"
"$run_sh" --quick --out "$out" || fail "bench/run.sh --quick failed (a scenario errored or a signature did not verify)"
json="$out/latest.json"
[[ -s $json ]] || fail "no $json"
python3 - "$json" <<'PY' || fail "incomplete report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"], r["failures"]
mods = ["ours"] + (["opensc"] if r["config"]["opensc"] else [])
rows = mods + ["ours_cold"]  # ours on first use (empty certificate cache) is a scenario row only
names = [s["name"] for s in r["scenarios"]]
assert names == ["slots", "objects", "login-sign", "sign-many", "browser"], names
expected_sigs = {"slots": 0, "objects": 0, "login-sign": 2, "sign-many": r["config"]["count"], "browser": 1}
for s in r["scenarios"]:
    for m in rows:
        x = s[m]
        assert x["ok"] and x["apdus"] > 0 and x["bytes"] > 0, (s["name"], m, x)
        assert x["signatures_verified"] == expected_sigs[s["name"]] * x["runs"], (s["name"], m, x)
        # pcscd round trips, counted by pcsc_count.so for OpenSC (which looks the PC/SC functions up
        # on its own libpcsclite handle) as for ours: at least one per APDU.
        if r["config"].get("pcsc_count"):
            assert x["pcsc_calls"] is not None and x["pcsc_calls"] >= x["apdus"], (s["name"], m, x)
for m in mods:
    t = r["throughput"]["host"][m]
    assert t["lost"] == 0 and t["verified"] == t["expected"] > 0, (m, t)
print("ok: every scenario ran with", ", ".join(rows), "and every signature verified")
PY
grep -q '| 1 | list slots and tokens' "$out/latest.md" || fail "table missing from latest.md"
echo "ok: bench smoke run"
