#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of jpki-pkcs11 against OpenSC's opensc-pkcs11.so on the same virtual card.
#
#   bench/run.sh [--quick] [--runs N] [--count N] [--tp-procs P] [--tp-count N]
#                [--profile contact|contactless]
#                [--latency-apdu-ms F] [--latency-byte-ms F] [--latency-sign-ms F]
#                [--no-callgrind] [--no-opensc] [--out DIR]
#
# Runs, inside tests/harness/pcsc-harness.sh (private pcscd + virtual card; root needed):
#   phase 1, card with the latency model: scenarios 1–5 × {ours with a warm certificate cache,
#            ours on first use (empty cache), OpenSC} × N runs (the order rotates from run to
#            run), each a fresh jpki-bench-client process on a card reset beforehand (control FIFO
#            "reset"); APDUs and bytes from the card's APDU log; wall time and resident memory
#            from the client; pcscd round trips from pcsc_count.so (LD_PRELOAD into each of
#            these client processes, tools/pcsc_count); then P processes signing at once. Every run of ours has its own
#            cache directory: empty for "ours-cold"; for "ours" filled just before by earlier
#            processes on this card (scenarios slots and objects, not measured).
#   phase 2, card without latency: valgrind --tool=callgrind of scenario 4 (instructions of the
#            signing loop only, C_SignInit + C_Sign, divided by the number of signatures) and the
#            same concurrent signing without latency (host + pcscd bound).
# Then prints the table and writes DIR/latest.json and DIR/latest.md (default bench/results/) and
# the APDU log of each scenario and module (first run) under DIR/apdus/.
#
# Latency model (estimates, see README.md), chosen with --profile; --latency-* override a figure:
#   contact (default): 4 ms per APDU, 0.1 ms per command+response byte, 250 ms per COMPUTE
#                      DIGITAL SIGNATURE (USB CCID contact reader);
#   contactless:       8 ms per APDU, 0.1 ms per byte, 250 ms per signature (USB NFC reader such
#                      as Sony's PaSoRi, ISO/IEC 14443 Type B at 106 kbit/s).
#
# --quick (the smoke test): no latency, 1 run, no callgrind, scenario 4 with 5 signatures,
# throughput 4 × 3; writes to a temporary directory unless --out is given. The exit status is
# non-zero when a scenario fails or a signature does not verify (never because of a number).
#
# Programs: JPKI_BENCH_CLIENT, JPKI_MODULE, JPKI_VCARD, JPKI_PCSC_COUNT (environment) or, failing
# that, --build-dir DIR (default build/release, the "release" preset) with bench/, module/, vcard/
# and tools/pcsc_count/ inside. Without pcsc_count.so the pcscd-calls column is empty.
# OpenSC: OPENSC_MODULE (default /usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
die() { echo "bench: $*" >&2; exit 2; }

# ---- inner phases (run inside the harness) -------------------------------------------------

# Card log slice [from, to) in bytes → "apdus bytes_out bytes_in". VERIFY data is masked as "**"
# after the header and Lc ("0020008004**"), so its length comes from Lc.
log_counts() {
  tail -c +"$(($1 + 1))" "$JPKI_CARD_LOG" | head -c "$(($2 - $1))" | awk '
    function hexbyte(h) { return (index("0123456789ABCDEF", substr(h, 1, 1)) - 1) * 16 + index("0123456789ABCDEF", substr(h, 2, 1)) - 1 }
    /^> / && $2 ~ /\*\*$/ { n++; out += 5 + hexbyte(substr($2, 9, 2)); next }
    /^> / { n++; out += length($2) / 2 }
    /^< / { inb += length($2) / 2 }
    END { printf "%d %d %d\n", n, out, inb }'
}

log_size() { stat -c %s "$JPKI_CARD_LOG"; }

# A cold card for every run: the virtual card's state (selected file, verified PINs) is reset.
card_reset() {
  local before
  before=$(grep -c '^# control: reset' "$JPKI_CARD_LOG" || true)
  echo reset >"$JPKI_CARD_CTL"
  for _ in $(seq 100); do
    (($(grep -c '^# control: reset' "$JPKI_CARD_LOG" || true) > before)) && return 0
    sleep 0.02
  done
  echo "bench: card did not acknowledge the reset" >&2
}

# A fresh, empty certificate cache directory for one run of our module.
fresh_cache() {
  export JPKI_PKCS11_CACHE_DIR="$RAW/cache/$1"
  rm -rf "$JPKI_PKCS11_CACHE_DIR"
}

# The usual state of the cache: filled by earlier processes that used this card (token info of
# both tokens, every public certificate). Not measured.
warm_cache() {
  local s
  for s in slots objects; do
    card_reset
    timeout 300 "$JPKI_BENCH_CLIENT" --module "$1" --scenario "$s" --count 1 >/dev/null \
      2>>"$RAW/client-stderr.log" || echo "bench: cache warm-up ($s) failed" >&2
  done
}

# run_one MODULE_NAME MODULE_PATH SCENARIO RUN COUNT: one client process, one JSON record. The
# client runs with pcsc_count.so preloaded (when built), which counts its PC/SC calls for both
# modules alike; the client reports them after C_Finalize.
run_one() {
  local name=$1 path=$2 scenario=$3 run=$4 count=$5 a b out rc=0 counts preload=()
  fresh_cache "$name-$scenario-$run"
  [[ $name == ours ]] && warm_cache "$path"
  [[ -n ${JPKI_PCSC_COUNT:-} ]] && preload=(env "LD_PRELOAD=$JPKI_PCSC_COUNT${LD_PRELOAD:+ $LD_PRELOAD}")
  card_reset
  a=$(log_size)
  out=$(timeout 300 "${preload[@]}" "$JPKI_BENCH_CLIENT" --module "$path" --scenario "$scenario" \
        --count "$count" 2>>"$RAW/client-stderr.log") || rc=$?
  b=$(log_size)
  counts=$(log_counts "$a" "$b")
  if ((run == 1)); then
    tail -c +"$((a + 1))" "$JPKI_CARD_LOG" | head -c "$((b - a))" >"$RAW/apdus/$name-$scenario.log"
  fi
  [[ $out == \{* ]] || out=null
  read -r n bo bi <<<"$counts"
  printf '{"phase":"scenario","module":"%s","scenario":"%s","run":%d,"rc":%d,"apdus":%d,"bytes_out":%d,"bytes_in":%d,"client":%s}\n' \
    "$name" "$scenario" "$run" "$rc" "$n" "$bo" "$bi" "$out" >>"$RAW/records.jsonl"
  if ((rc != 0)); then
    echo "bench: $name $scenario run $run FAILED: $out" >&2
  fi
}

# throughput MODULE_NAME MODULE_PATH PROCS COUNT LABEL: PROCS processes signing COUNT each.
throughput() {
  local name=$1 path=$2 procs=$3 count=$4 label=$5 a b t0 t1 i pids=() rcs=() clients=""
  card_reset
  a=$(log_size)
  t0=$(date +%s%N)
  for ((i = 0; i < procs; i++)); do
    timeout 600 "$JPKI_BENCH_CLIENT" --module "$path" --scenario sign-many --count "$count" \
      >"$RAW/tp-$name-$label-$i.json" 2>>"$RAW/client-stderr.log" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    rcs[i]=0
    wait "${pids[i]}" || rcs[i]=$?
  done
  t1=$(date +%s%N)
  b=$(log_size)
  tail -c +"$((a + 1))" "$JPKI_CARD_LOG" | head -c "$((b - a))" >"$RAW/apdus/$name-throughput-$label.log"
  read -r n bo bi <<<"$(log_counts "$a" "$b")"
  for ((i = 0; i < procs; i++)); do
    local c
    c=$(cat "$RAW/tp-$name-$label-$i.json" 2>/dev/null || true)
    [[ $c == \{* ]] || c=null
    clients+="${clients:+,}{\"rc\":${rcs[i]},\"client\":$c}"
    ((rcs[i] == 0)) || echo "bench: $name throughput ($label) process $i FAILED: $c" >&2
  done
  printf '{"phase":"throughput","label":"%s","module":"%s","procs":%d,"count":%d,"wall_ms":%.3f,"apdus":%d,"bytes_out":%d,"bytes_in":%d,"processes":[%s]}\n' \
    "$label" "$name" "$procs" "$count" "$(echo "($t1 - $t0) / 1000000" | bc -l)" "$n" "$bo" "$bi" \
    "$clients" >>"$RAW/records.jsonl"
}

# Scenario rows: ours (warm cache), ours-cold (empty cache), OpenSC. Host figures: ours, OpenSC.
modules_list() {
  echo "ours $JPKI_MODULE"
  [[ ${1:-} == host ]] || echo "ours-cold $JPKI_MODULE"
  [[ -n ${OPENSC_MODULE:-} ]] && echo "opensc $OPENSC_MODULE"
  return 0
}

# Both modules with their default configuration: no user file cache or configuration of OpenSC,
# an empty configuration file for ours (no /etc/jpki-pkcs11 log settings), no overrides.
hermetic_env() {
  export HOME="$JPKI_WORK"
  : >"$JPKI_WORK/jpki-pkcs11.conf"
  export JPKI_PKCS11_CONF="$JPKI_WORK/jpki-pkcs11.conf"
  unset JPKI_PKCS11_LOG_LEVEL JPKI_PKCS11_LOG_FILE JPKI_PKCS11_TOKENS OPENSC_CONF OPENSC_DRIVER
}

inner_measure() {
  hermetic_env
  local run scenario name path
  mkdir -p "$RAW/apdus"
  mapfile -t mods < <(modules_list)
  for ((run = 1; run <= RUNS; run++)); do
    for scenario in $SCENARIOS; do
      # Rotate who goes first, so that drift hits every module alike.
      local k=$(((run - 1) % ${#mods[@]}))
      local order=("${mods[@]:k}" "${mods[@]:0:k}")
      for m in "${order[@]}"; do
        read -r name path <<<"$m"
        run_one "$name" "$path" "$scenario" "$run" "$COUNT"
      done
    done
    echo "bench: run $run/$RUNS done" >&2
  done
  mapfile -t mods < <(modules_list host)
  throughput_batches "$TP_COUNT" "$TP_LABEL"
}

# throughput_batches COUNT LABEL: TP_BATCHES batches per module, the modules taking turns (so that
# drift hits both alike); the report takes the median batch of each.
throughput_batches() {
  local count=$1 label=$2 batch name path
  for ((batch = 1; batch <= TP_BATCHES; batch++)); do
    for m in "${mods[@]}"; do
      read -r name path <<<"$m"
      fresh_cache "$name-throughput-$label"
      throughput "$name" "$path" "$TP_PROCS" "$count" "$label"
    done
  done
}

inner_host() {
  hermetic_env
  mkdir -p "$RAW/apdus"
  local name path out rc
  mapfile -t mods < <(modules_list host)
  for m in "${mods[@]}"; do
    ((DO_CALLGRIND)) || break
    read -r name path <<<"$m"
    fresh_cache "$name-callgrind"
    card_reset
    rc=0
    # card-timeout = 0 keeps our card calls on the client's thread: callgrind's collection (switched
    # on around the sign loop by the client) is per thread, so calls made on the transport's helper
    # thread would go uncounted. The hop itself costs a few hundred instructions per call.
    printf 'card-timeout = 0\n' >"$JPKI_WORK/callgrind.conf"
    out=$(JPKI_PKCS11_CONF="$JPKI_WORK/callgrind.conf" valgrind --tool=callgrind --collect-atstart=no \
            --callgrind-out-file="$RAW/callgrind.$name.out" \
            "$JPKI_BENCH_CLIENT" --module "$path" --scenario sign-many --count "$CG_COUNT" \
            2>>"$RAW/valgrind.log") || rc=$?
    [[ $out == \{* ]] || out=null
    local ir
    ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$RAW/callgrind.$name.out" 2>/dev/null || true)
    printf '{"phase":"callgrind","module":"%s","rc":%d,"count":%d,"instructions":%s,"client":%s}\n' \
      "$name" "$rc" "$CG_COUNT" "${ir:-null}" "$out" >>"$RAW/records.jsonl"
    ((rc == 0)) || echo "bench: callgrind $name FAILED: $out" >&2
  done
  throughput_batches "$TP_COUNT_HOST" host
}

if [[ ${1:-} == --inner-measure ]]; then inner_measure; exit 0; fi
if [[ ${1:-} == --inner-host ]]; then inner_host; exit 0; fi

# ---- outer: options, programs, the two harness runs, the report ------------------------------

quick=0 callgrind=1 opensc=1 out="" build_dir="$repo/build/release"
RUNS=3 COUNT=50 TP_PROCS=4 TP_COUNT=10 TP_COUNT_HOST=25 CG_COUNT=50 TP_BATCHES=3
profile=contact lat_apdu="" lat_byte="" lat_sign=""
SCENARIOS="slots objects login-sign sign-many browser"
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --count) COUNT=$2; CG_COUNT=$2; shift 2 ;;
    --tp-procs) TP_PROCS=$2; shift 2 ;;
    --tp-count) TP_COUNT=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --latency-apdu-ms) lat_apdu=$2; shift 2 ;;
    --latency-byte-ms) lat_byte=$2; shift 2 ;;
    --latency-sign-ms) lat_sign=$2; shift 2 ;;
    --no-callgrind) callgrind=0; shift ;;
    --no-opensc) opensc=0; shift ;;
    --out) out=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
# The latency profiles (README.md, "Latency model"): per APDU, per byte, per card signature (ms).
case "$profile" in
  contact) profile_figures=(4 0.1 250) ;;
  contactless) profile_figures=(8 0.1 250) ;;
  *) die "unknown profile $profile (contact or contactless)" ;;
esac
profile_name=$profile
[[ -n $lat_apdu$lat_byte$lat_sign ]] && profile_name+=" (figures overridden)"
: "${lat_apdu:=${profile_figures[0]}}" "${lat_byte:=${profile_figures[1]}}" "${lat_sign:=${profile_figures[2]}}"
TP_LABEL=latency
if ((quick)); then
  TP_LABEL=host
  RUNS=1 COUNT=5 TP_COUNT=3 TP_COUNT_HOST=3 TP_BATCHES=1 callgrind=0 lat_apdu=0 lat_byte=0 lat_sign=0
  [[ -n $out ]] || out=$(mktemp -d "${TMPDIR:-/tmp}/jpki-bench-quick.XXXXXX")
fi
[[ -n $out ]] || out="$here/results"

: "${JPKI_BENCH_CLIENT:=$build_dir/bench/jpki-bench-client}"
: "${JPKI_MODULE:=$build_dir/module/libjpki-pkcs11.so}"
: "${JPKI_VCARD:=$build_dir/vcard/jpki-vcard}"
: "${JPKI_PCSC_COUNT:=$build_dir/tools/pcsc_count/pcsc_count.so}"
if [[ ! -e $JPKI_PCSC_COUNT ]]; then
  echo "bench: $JPKI_PCSC_COUNT not found (target jpki-pcsc-count); no pcscd-calls column" >&2
  JPKI_PCSC_COUNT=""
fi
for p in JPKI_BENCH_CLIENT JPKI_MODULE JPKI_VCARD; do
  [[ -e ${!p} ]] || die "$p not found at ${!p} (build the targets or set $p)"
done
OPENSC_MODULE=${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so}
if ((!opensc)); then
  OPENSC_MODULE=""
elif [[ ! -e $OPENSC_MODULE ]]; then
  echo "bench: OpenSC module not found at $OPENSC_MODULE; measuring ours only" >&2
  OPENSC_MODULE=""
fi
if ((callgrind)) && ! command -v valgrind >/dev/null; then
  echo "bench: valgrind not installed; no instruction counts" >&2
  callgrind=0
fi
command -v bc >/dev/null || die "bc not installed"
command -v python3 >/dev/null || die "python3 not installed (for the report)"

mkdir -p "$out"
RAW=$(mktemp -d "${TMPDIR:-/tmp}/jpki-bench-raw.XXXXXX")
trap 'rm -rf "$RAW"' EXIT
export RAW RUNS COUNT TP_PROCS TP_COUNT TP_COUNT_HOST TP_BATCHES TP_LABEL CG_COUNT SCENARIOS OPENSC_MODULE
export JPKI_BENCH_CLIENT JPKI_MODULE JPKI_VCARD JPKI_PCSC_COUNT
harness="$repo/tests/harness/pcsc-harness.sh"
self="$here/run.sh"

latency=""
if ((quick == 0)); then
  latency="--latency-apdu-ms $lat_apdu --latency-byte-ms $lat_byte --latency-sign-ms $lat_sign"
fi
t_start=$(date +%s)
echo "bench: phase 1 (profile $profile_name, latency model: ${latency:-none}; $RUNS run(s))" >&2
JPKI_HARNESS_TIMEOUT=1200 "$harness" --card0 "$latency" -- "$self" --inner-measure ||
  echo "bench: phase 1 ended with status $?" >&2
if ((quick == 0)); then
  echo "bench: phase 2 (no latency: callgrind, host-bound throughput)" >&2
  export DO_CALLGRIND=$callgrind
  JPKI_HARNESS_TIMEOUT=1200 "$harness" -- "$self" --inner-host ||
    echo "bench: phase 2 ended with status $?" >&2
fi
rm -rf "$out/apdus" "$out/client-stderr.log"
mkdir -p "$out/apdus"
for f in "$RAW"/apdus/*.log; do
  [[ -e $f && $f != *-throughput-* ]] && cp "$f" "$out/apdus/"
done
[[ -s $RAW/client-stderr.log ]] && cp "$RAW/client-stderr.log" "$out/client-stderr.log"

# shellcheck disable=SC2086 # the scenario list is split on purpose
scenarios_json=$(printf '"%s",' $SCENARIOS | sed 's/,$//')
cat >"$RAW/config.json" <<JSON
{"quick": $quick, "runs": $RUNS, "count": $COUNT, "tp_procs": $TP_PROCS, "tp_count": $TP_COUNT,
 "tp_count_host": $TP_COUNT_HOST, "tp_batches": $TP_BATCHES, "callgrind": $callgrind, "callgrind_count": $CG_COUNT,
 "profile": "$profile_name", "pcsc_count": $([[ -n $JPKI_PCSC_COUNT ]] && echo true || echo false),
 "latency": {"apdu_ms": $lat_apdu, "byte_ms": $lat_byte, "sign_ms": $lat_sign},
 "ours": "$JPKI_MODULE", "opensc": "${OPENSC_MODULE}",
 "git": "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "host": "$(uname -srm)",
 "cpus": $(nproc), "elapsed_s": $(($(date +%s) - t_start)),
 "scenarios": [$scenarios_json],
 "throughput_labels": [$(if ((quick)); then echo '"host"'; else echo '"latency", "host"'; fi)]}
JSON
rc=0
python3 "$here/report.py" "$RAW/config.json" "$RAW/records.jsonl" "$out" || rc=$?
if ((rc != 0)); then  # keep what explains a failure
  cp "$RAW"/apdus/*-throughput-*.log "$out/apdus/" 2>/dev/null || true
  cp "$RAW/records.jsonl" "$out/records.jsonl" 2>/dev/null || true
fi
exit $rc
