#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Report of bench/run.sh: reads the configuration and the raw records (one JSON object per line,
written by run.sh inside the harness), prints the table, writes OUT/latest.json and OUT/latest.md.

    report.py CONFIG.json RECORDS.jsonl OUT_DIR

Exit status 1 when a scenario failed, a signature did not verify or one was lost; a number is
never a failure (this is a benchmark)."""
import json
import statistics
import sys
from pathlib import Path

SCENARIOS = [  # (number, client name, title)
    (1, "slots", "list slots and tokens"),
    (2, "objects", "list objects on both tokens"),
    (3, "login-sign", "log in and sign once with each key"),
    (4, "sign-many", "N signatures in one session"),
    (5, "browser", "cold start of a browser-like client"),
]
GOAL_SCENARIOS = {1, 2, 3, 5}  # issue 8: ≤ 1/4 of OpenSC's APDUs and ≤ 1/3 of its wall time
# Our module runs twice per scenario: "ours" with a warm certificate cache (filled by earlier
# processes on the card: the usual state, judged by the goal) and "ours-cold" on first use (empty
# cache, shown for reference). JSON keys: ours, ours_cold, opensc.
KEYS = {"ours": "ours", "ours-cold": "ours_cold", "opensc": "opensc"}


RATIO_KEYS = ("apdus", "pcsc_calls", "bytes", "wall_ms")

# Card signatures per scenario with a time goal (scenario 4 signs --count times and has no goal).
CARD_SIGNATURES = {3: 2, 5: 1}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def fmt(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}" if digits else f"{round(x):,}"


def fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}"


def main():
    config = json.loads(Path(sys.argv[1]).read_text())
    records = []
    rec_path = Path(sys.argv[2])
    if rec_path.exists():
        records = [json.loads(l) for l in rec_path.read_text().splitlines() if l.strip()]
    out = Path(sys.argv[3])
    modules = ["ours", "ours-cold"] + (["opensc"] if config.get("opensc") else [])
    host_modules = ["ours"] + (["opensc"] if config.get("opensc") else [])
    failures = []

    def fail(what, rec):
        client = rec.get("client") or {}
        failures.append(f"{what}: rc={rec.get('rc')} {client.get('error', 'no output') if client else 'no output'}")

    scenarios = []
    for num, name, title in SCENARIOS:
        row = {"number": num, "name": name, "title": title}
        ran = False
        for m in modules:
            recs = [r for r in records if r["phase"] == "scenario" and r["module"] == m and r["scenario"] == name]
            if not recs:
                if name in config.get("scenarios", []):
                    failures.append(f"{m} scenario {num} ({name}): no result (harness or runner failed)")
                continue
            ran = True
            for r in recs:
                if r["rc"] != 0 or not r.get("client") or not r["client"].get("ok"):
                    fail(f"{m} scenario {num} ({name}) run {r['run']}", r)
            ok = [r for r in recs if r["rc"] == 0 and r.get("client")]
            apdus = [r["apdus"] for r in recs]
            row[KEYS[m]] = {
                "ok": len(ok) == len(recs),
                "runs": len(recs),
                "apdus": median(apdus),
                "apdus_min_max": [min(apdus), max(apdus)],
                "bytes": median([r["bytes_out"] + r["bytes_in"] for r in recs]),
                "bytes_out": median([r["bytes_out"] for r in recs]),
                "bytes_in": median([r["bytes_in"] for r in recs]),
                # PC/SC calls that went to pcscd (pcsc_count.so preloaded; None when not counted)
                # and blocking waits (our change watcher), counted apart.
                "pcsc_calls": median([r["client"].get("pcsc_calls") for r in ok]),
                "pcsc_waits": median([r["client"].get("pcsc_waits") for r in ok]),
                "wall_ms": median([r["client"]["wall_ms"] for r in ok]),
                "wall_ms_runs": [r["client"]["wall_ms"] for r in ok],
                "signatures_verified": sum(r["client"]["verified"] for r in ok),
                "rss_added_kb": median([r["client"]["rss_added_kb"] for r in ok]),
                "cpu_ms": median([r["client"]["cpu_user_ms"] + r["client"]["cpu_sys_ms"] for r in ok]),
            }
        if not ran:
            continue
        if "ours" in row and "opensc" in row:
            o, s = row["ours"], row["opensc"]
            row["ratio"] = {k: ratio(o[k], s[k]) for k in RATIO_KEYS}
            if "ours_cold" in row:
                row["ratio_cold"] = {k: ratio(row["ours_cold"][k], s[k]) for k in RATIO_KEYS}
            # Time is judged on the module-controlled part (planning decision, issue 20): wall time
            # minus the card's own signing time, which is the same for every module.
            n_sigs = config["count"] if num == 4 else CARD_SIGNATURES.get(num, 0)
            card = n_sigs * config["latency"]["sign_ms"] if not config["quick"] else 0
            if o["wall_ms"] is not None and s["wall_ms"] is not None:
                row["module_ms"] = {"card_signatures": n_sigs, "card_signing_ms": card, "ours": o["wall_ms"] - card,
                                    "opensc": s["wall_ms"] - card,
                                    "ratio": ratio(o["wall_ms"] - card, s["wall_ms"] - card)}
            if num in GOAL_SCENARIOS:
                module_ratio = row.get("module_ms", {}).get("ratio")
                row["goal"] = {
                    "apdus_at_most_quarter": row["ratio"]["apdus"] is not None and row["ratio"]["apdus"] <= 0.25,
                    "module_time_at_most_third": module_ratio is not None and module_ratio <= 1 / 3,
                }
        scenarios.append(row)

    # Host CPU per signature (callgrind, signing loop only) and per-process CPU time.
    cpu = {}
    for m in host_modules:
        c = {}
        for r in records:
            if r["phase"] == "callgrind" and r["module"] == m:
                if r["rc"] != 0 or r.get("instructions") is None:
                    fail(f"{m} callgrind", r)
                else:
                    c["instructions_per_signature"] = round(r["instructions"] / r["count"])
                    c["instructions_total"] = r["instructions"]
                    c["callgrind_signatures"] = r["count"]
        s4 = [r for r in records if r["phase"] == "scenario" and r["module"] == m
              and r["scenario"] == "sign-many" and r["rc"] == 0 and r.get("client")]
        if s4:
            c["process_cpu_ms_per_signature"] = round(median(
                [(r["client"]["cpu_user_ms"] + r["client"]["cpu_sys_ms"]) / max(1, r["client"]["signatures"]) for r in s4]), 3)
        cpu[m] = c
    if all("instructions_per_signature" in cpu.get(m, {}) for m in ("ours", "opensc")):
        cpu["ratio"] = ratio(cpu["ours"]["instructions_per_signature"], cpu["opensc"]["instructions_per_signature"])

    memory = {}
    for m in host_modules:
        vals = [r["client"]["rss_added_kb"] for r in records
                if r["phase"] == "scenario" and r["module"] == m and r.get("client") and r["client"].get("rss_added_kb", -1) >= 0]
        memory[m] = {"rss_added_kb": median(vals), "samples": len(vals)}
    if memory.get("ours", {}).get("rss_added_kb") and memory.get("opensc", {}).get("rss_added_kb"):
        memory["ratio"] = ratio(memory["ours"]["rss_added_kb"], memory["opensc"]["rss_added_kb"])

    throughput, batches = {}, {}
    for r in records:
        if r["phase"] != "throughput":
            continue
        procs = r["processes"]
        expected = r["procs"] * r["count"]
        verified = sum((p.get("client") or {}).get("verified", 0) for p in procs)
        errors = sum((p.get("client") or {}).get("sign_errors", 0) for p in procs)
        relogins = sum((p.get("client") or {}).get("relogins", 0) for p in procs)
        failed = [i for i, p in enumerate(procs) if p["rc"] != 0]
        for i in failed:
            fail(f"{r['module']} throughput ({r['label']}) process {i}", procs[i])
        if verified != expected and not failed:
            failures.append(f"{r['module']} throughput ({r['label']}): {verified} of {expected} signatures verified")
        batches.setdefault((r["label"], r["module"]), []).append({
            "processes": r["procs"], "signatures_each": r["count"], "expected": expected,
            "verified": verified, "lost": expected - verified, "sign_errors": errors,
            "relogins_after_lost_login": relogins,
            "wall_ms": round(r["wall_ms"], 1), "apdus": r["apdus"],
            "signatures_per_s": round(verified / (r["wall_ms"] / 1000), 2) if r["wall_ms"] > 0 else None,
        })
    # Each module's median batch (by signatures per second) is its figure; every batch is kept.
    for (label, module), runs in batches.items():
        ranked = sorted(runs, key=lambda b: b["signatures_per_s"] or 0)
        figure = dict(ranked[(len(ranked) - 1) // 2])
        figure["batches"] = [b["signatures_per_s"] for b in runs]
        figure["verified_all"] = sum(b["verified"] for b in runs)
        figure["expected_all"] = sum(b["expected"] for b in runs)
        figure["relogins_all"] = sum(b["relogins_after_lost_login"] for b in runs)
        throughput.setdefault(label, {})[module] = figure

    for label in config.get("throughput_labels", []):
        for m in host_modules:
            if m not in throughput.get(label, {}):
                failures.append(f"{m} throughput ({label}): no result")
    if config.get("callgrind"):
        for m in host_modules:
            if "instructions_per_signature" not in cpu.get(m, {}):
                failures.append(f"{m} callgrind: no result")

    result = {"config": config, "scenarios": scenarios, "cpu": cpu, "memory_rss_added": memory,
              "throughput": throughput, "failures": failures, "ok": not failures}
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    md = render(result, host_modules)
    (out / "latest.md").write_text(md)
    print(md)
    print(f"bench: wrote {out / 'latest.json'} and {out / 'latest.md'}", file=sys.stderr)
    if failures:
        print("bench: FAILURES:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


def render(result, modules):
    c = result["config"]
    lat = c["latency"]
    lines = []
    lines.append("## Benchmark: jpki-pkcs11 vs OpenSC (same virtual card)\n")
    profile = c.get("profile", "contact")
    mode = f"quick (smoke) run, no latency (profile {profile} not applied)" if c["quick"] else (
        f"profile {profile}: latency model {lat['apdu_ms']} ms/APDU + {lat['byte_ms']} ms/byte + {lat['sign_ms']} ms/signature")
    lines.append(f"{mode}; wall time = median of {c['runs']} run(s); scenario 4 = {c['count']} signatures; "
                 f"commit {c['git']}, {c['date']}, {c['host']}, {c['cpus']} CPUs, bench took {c['elapsed_s']} s.\n")
    both = "opensc" in modules
    lines.append("Two rows per scenario for ours: **warm** = the certificate cache filled by earlier processes on "
                 "this card (the usual state; the goal column judges this row), **first use** = empty cache "
                 "(shown for reference, not judged).\n")
    if both and not c["quick"]:
        lines.append("**Headline: module-controlled time.** The card's own signing time "
                     f"({lat['sign_ms']} ms per card signature) is the same for every module, so time is "
                     "compared without it: wall time minus the card's signing time, for both modules alike "
                     "(the goal column judges this figure; raw wall times are in the table below).")
        lines.append("")
        lines.append("| # | scenario | card signatures | card signing ms | ms ours − signing | ms OpenSC − signing | ratio (goal ≤ ⅓) |")
        lines.append("|---|---|--:|--:|--:|--:|--:|")
        for s in result["scenarios"]:
            m = s.get("module_ms")
            if not m:
                continue
            title = s["title"].replace("N signatures", f"{c['count']} signatures")
            n = m["card_signatures"]
            lines.append(f"| {s['number']} | {title} | {n if n else '–'} | {fmt(m['card_signing_ms'], 1)} "
                         f"| {fmt(m['ours'], 1)} | {fmt(m['opensc'], 1)} | {fmt_ratio(m['ratio'])} |")
        lines.append("")
    if c.get("pcsc_count"):
        lines.append("pcscd calls = the client process's PC/SC calls that go to pcscd (SCardTransmit, transactions, "
                     "connect, status, non-blocking SCardGetStatusChange …; median over runs), counted by "
                     "pcsc_count.so for both modules alike; blocking waits (our change watcher) are not in it.\n")
    else:
        lines.append("pcscd calls not counted (pcsc_count.so not built).\n")
    if both:
        lines.append("| # | scenario | ours | APDUs ours | APDUs OpenSC | ratio | pcscd calls ours | pcscd calls OpenSC | ratio "
                     "| bytes ours | bytes OpenSC | ratio | ms ours | ms OpenSC | ratio | goal (≤¼ APDUs, ≤⅓ time) |")
        lines.append("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    else:
        lines.append("| # | scenario | ours | APDUs | pcscd calls | bytes | ms |")
        lines.append("|---|---|---|--:|--:|--:|--:|")
    for s in result["scenarios"]:
        title = s["title"].replace("N signatures", f"{c['count']} signatures")
        for key, cache, ratio_key in (("ours", "warm", "ratio"), ("ours_cold", "first use", "ratio_cold")):
            o = s.get(key, {})
            first = key == "ours"
            num, name = (s["number"], title) if first else ("", "")
            fl = "" if o.get("ok", False) else " **FAILED**"
            if both:
                p = s.get("opensc", {})
                if first:
                    fl += "" if p.get("ok", False) else " **OpenSC FAILED**"
                r = s.get(ratio_key, {})
                g = s.get("goal")
                if not first:
                    goal = "(not judged)" if g is not None else "–"
                elif g is None:
                    goal = "–"
                else:
                    goal = "met" if all(g.values()) else "not met (" + ", ".join(
                        k for k, v in [("APDUs", g["apdus_at_most_quarter"]), ("module time", g["module_time_at_most_third"])] if not v) + ")"
                lines.append(f"| {num} | {name} | {cache}{fl} | {fmt(o.get('apdus'))} | {fmt(p.get('apdus'))} | {fmt_ratio(r.get('apdus'))} "
                             f"| {fmt(o.get('pcsc_calls'))} | {fmt(p.get('pcsc_calls'))} | {fmt_ratio(r.get('pcsc_calls'))} "
                             f"| {fmt(o.get('bytes'))} | {fmt(p.get('bytes'))} | {fmt_ratio(r.get('bytes'))} "
                             f"| {fmt(o.get('wall_ms'), 1)} | {fmt(p.get('wall_ms'), 1)} | {fmt_ratio(r.get('wall_ms'))} | {goal} |")
            else:
                lines.append(f"| {num} | {name} | {cache}{fl} | {fmt(o.get('apdus'))} | {fmt(o.get('pcsc_calls'))} "
                             f"| {fmt(o.get('bytes'))} | {fmt(o.get('wall_ms'), 1)} |")
    lines.append("")
    lines.append("| host figure | ours | OpenSC | ratio |")
    lines.append("|---|--:|--:|--:|")
    cpu = result["cpu"]
    def g(m, k):
        return cpu.get(m, {}).get(k)
    if any(g(m, "instructions_per_signature") for m in modules):
        lines.append(f"| CPU per signature, instructions (callgrind, C_SignInit+C_Sign, {c['callgrind_count']} signatures; ours with card-timeout = 0 so that every card call is on the counted thread) "
                     f"| {fmt(g('ours', 'instructions_per_signature'))} | {fmt(g('opensc', 'instructions_per_signature'))} "
                     f"| {fmt_ratio(cpu.get('ratio'))} |")
    po, pp = g("ours", "process_cpu_ms_per_signature"), g("opensc", "process_cpu_ms_per_signature")
    lines.append(f"| process CPU per signature, ms (user+sys of scenario 4 incl. start-up) | {fmt(po, 3)} | {fmt(pp, 3)} "
                 f"| {fmt_ratio(ratio(po, pp))} |")
    mem = result["memory_rss_added"]
    lines.append(f"| resident memory added by dlopen + C_Initialize, KiB (VmRSS) | {fmt(mem.get('ours', {}).get('rss_added_kb'))} "
                 f"| {fmt(mem.get('opensc', {}).get('rss_added_kb'))} | {fmt_ratio(mem.get('ratio'))} |")
    for label, desc in (("latency", "latency model"), ("host", "no latency")):
        t = result["throughput"].get(label)
        if not t:
            continue
        def tp(m):
            x = t.get(m)
            if not x:
                return "–"
            each = ", ".join(f"{v:.0f}" if v >= 100 else f"{v:.2f}" for v in x["batches"])
            return (f"{x['signatures_per_s']:.2f}/s (median of {len(x['batches'])} batches: {each}; "
                    f"{x['verified_all']}/{x['expected_all']} verified, "
                    f"{x['expected_all'] - x['verified_all']} lost, {x['relogins_all']} re-logins)")
        any_ = next(iter(t.values()))
        so, sp = t.get("ours", {}).get("signatures_per_s"), t.get("opensc", {}).get("signatures_per_s")
        lines.append(f"| throughput, {any_['processes']} processes × {any_['signatures_each']} signatures ({desc}) "
                     f"| {tp('ours')} | {tp('opensc')} | {fmt_ratio(ratio(so, sp))} |")
    lines.append("")
    if result["throughput"]:
        lines.append("Re-logins: a process whose login the card lost (another process selected the JPKI "
                     "application, which clears the card's PIN state) got CKR_USER_NOT_LOGGED_IN and logged in "
                     "again before retrying, as an application would; a signature counts as lost only when that "
                     "fails too.\n")
    if result["failures"]:
        lines.append("**Failures:**\n")
        lines += [f"- {f}" for f in result["failures"]]
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
