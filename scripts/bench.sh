#!/usr/bin/env bash
# Runtime benchmarks: troupe against CAF 0.17 on the same workloads, in the same run, each in a
# fresh process (so peak RSS is per workload), alternating troupe and CAF, median of N runs.
# WebAssembly benchmarks (bench/wasm_bench): compute kernel native/AOT/interpreter, dispatch
# round trip, warm spawn (and a WebAssembly actor's spawn against a native one's) and cold AOT
# compile each measure their reference in the same process; the WebAssembly vs native counter under fan-in runs each side in its own process.
# Platform benchmarks: package verification against plain SHA-256 of the same bytes
# (bench/platform_bench); a guest's committed storage puts against raw SQLite with the same
# settings, and a guest's signatures against raw libsodium (bench/wasm_bench storage|sign), each
# in the same process.
# Mesh benchmarks: two processes on 127.0.0.1 per run, troupe's mesh (Noise on) against CAF
# 0.17's remote actors (libcaf_io) on the same workloads (bench/troupe_mesh_bench,
# bench/caf_mesh_bench), alternating, each run fresh processes; the bulk run also times raw
# libsodium ChaCha20-Poly1305 over the same bytes and the sealed pipe (bench/sealed_pipe.h: the
# same bytes sealed, sent over loopback TCP and opened, nothing else); detection and convergence with real
# `troupe node run` processes (bench/mesh_nodes_bench).
# Median of N runs.
#   scripts/bench.sh [--runs N] [--json] [--markdown] [--quick] [--results FILE] [--save FILE]
#                    [--into DIR]
# Prints a table and MET/MISSED per target (or, with --json, one JSON object with every figure,
# ratio and the missed targets). Exit status 0 whether or not targets are met (a figure is not
# an error); 1 for a usage error or a failed run.
#   --markdown      also writes the figures into docs/BENCHMARKS.md (between its
#                   "<!-- bench:NAME:begin/end -->" markers) and README.md (inline
#                   "<!-- bench:readme-NAME -->...<!-- /bench:readme-NAME -->" markers): the
#                   figures there are generated, never typed.
#   --quick         smoke, not figures: one run, every size divided by 100, to check that the
#                   drivers and this script work. Its results are marked; --markdown refuses
#                   to write them into the repository's docs (use --into a copy).
#   --results FILE  reads RESULT lines from FILE (saved with --save) instead of running.
#   --into DIR      the tree holding docs/BENCHMARKS.md and README.md for --markdown (default:
#                   this repository).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
JSON=0
MARKDOWN=0
QUICK=0
RESULTS=""
SAVE=""
INTO=""
need() { [ $# -ge 2 ] || { echo "bench.sh: $1 needs a value" >&2; exit 1; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) need "$@"; RUNS="$2"; shift 2 ;;
    --json) JSON=1; shift ;;
    --markdown) MARKDOWN=1; shift ;;
    --quick) QUICK=1; shift ;;
    --results) need "$@"; RESULTS="$2"; shift 2 ;;
    --save) need "$@"; SAVE="$2"; shift 2 ;;
    --into) need "$@"; INTO="$2"; shift 2 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done
case "$RUNS" in
  '' | *[!0-9]* | 0) echo "bench.sh: --runs needs a positive number" >&2; exit 1 ;;
esac
if [ "$QUICK" = 1 ]; then RUNS=1; fi
if [ "$QUICK" = 1 ] && [ "$MARKDOWN" = 1 ] && [ -z "$INTO" ]; then
  echo "bench.sh: --quick is smoke, not figures: it does not write the docs (use --into a copy)" >&2
  exit 1
fi

# The targets, in one place: JSON key, comparison, threshold, what it is.
TARGETS=(
  "fan_in_ratio >= 3 fan-in, troupe/CAF msg/s"
  "ping_pong_ratio <= 0.25 ping-pong, troupe/CAF round-trip time"
  "spawn_ratio >= 3 spawn, troupe/CAF actors/s"
  "idle_actor_bytes <= 300 idle actor, troupe bytes"
  "flood_throughput_ratio >= 1 flood (troupe bounded vs CAF unbounded), msg/s ratio"
  "flood_peak_rss_mb <= 100 flood, troupe peak RSS MB"
  "wasm_compute_ratio <= 1.5 compute kernel, AOT/native time"
  "wasm_dispatch_ns <= 500 dispatch round trip, AOT ns"
  "wasm_actor_ratio >= 0.5 counter actor under fan-in, WebAssembly/native msg/s"
  "wasm_warm_spawn_us <= 20 warm spawn, AOT µs"
  "wasm_spawn_vs_native_ratio <= 5 actor spawn+stop, WebAssembly (AOT)/native time"
  "pkg_verify_ratio >= 0.8 package verify MB/s / plain SHA-256 MB/s, same bytes"
  "storage_put_ratio >= 0.5 a guest's committed puts/s / raw SQLite puts/s, same settings"
  "sign_ratio >= 0.5 a guest's signatures/s / raw libsodium signatures/s"
  "mesh_fan_in_ratio >= 2 cross-node fan-in, troupe/CAF msg/s"
  "mesh_ping_pong_ratio <= 0.5 cross-node ping-pong, troupe/CAF round-trip time"
  "mesh_bulk_vs_aead_ratio >= 0.7 64 KiB messages across nodes, MB/s / raw ChaCha20-Poly1305 MB/s"
)

OUT=$(mktemp)
MD=$(mktemp -d)
trap 'rm -rf "$OUT" "$MD"' EXIT

if [ -n "$RESULTS" ]; then
  [ -r "$RESULTS" ] || { echo "bench.sh: cannot read $RESULTS" >&2; exit 1; }
  grep '^RESULT' "$RESULTS" >"$OUT" || true
else
  scripts/setup.sh >&2
  B=build/bench
  if [ "$QUICK" = 1 ]; then export TROUPE_BENCH_QUICK=1; fi
  # flood_unbounded is troupe's side only: CAF's flood is unbounded already, and both
  # troupe floods compare with it.
  for w in fan_in ping_pong spawn idle flood flood_unbounded; do
    for ((i = 1; i <= RUNS; i++)); do
      for impl in troupe caf; do
        if [ "$impl $w" = "caf flood_unbounded" ]; then continue; fi
        echo "bench: $impl $w run $i/$RUNS" >&2
        "$B/${impl}_bench" "$w" | grep '^RESULT' >>"$OUT"
      done
    done
  done
  for ((i = 1; i <= RUNS; i++)); do
    for w in compute dispatch "actor native" "actor aot" spawn compile preempt; do
      echo "bench: wasm $w run $i/$RUNS" >&2
      # shellcheck disable=SC2086  # "actor native" is a workload and its side
      "$B/wasm_bench" $w | grep '^RESULT' >>"$OUT"
    done
  done
  for ((i = 1; i <= RUNS; i++)); do
    echo "bench: platform pkg_verify run $i/$RUNS" >&2
    "$B/platform_bench" pkg_verify | grep '^RESULT' >>"$OUT"
    for w in storage sign; do
      echo "bench: platform $w run $i/$RUNS" >&2
      "$B/wasm_bench" $w | grep '^RESULT' >>"$OUT"
    done
  done
  # The mesh: each run starts its own second process (the driver waits for its readiness line).
  for w in fan_in ping_pong bulk; do
    for ((i = 1; i <= RUNS; i++)); do
      for impl in troupe caf; do
        echo "bench: $impl mesh_$w run $i/$RUNS" >&2
        "$B/${impl}_mesh_bench" "$w" | grep '^RESULT' >>"$OUT"
      done
    done
  done
  for ((i = 1; i <= RUNS; i++)); do
    for w in converge detect; do
      echo "bench: mesh $w run $i/$RUNS (5 troupe node processes)" >&2
      "$B/mesh_nodes_bench" "$w" | grep '^RESULT' >>"$OUT"
    done
  done
fi
if [ -n "$SAVE" ]; then cp "$OUT" "$SAVE"; fi
QUICK_RESULTS=0
if grep -q ' quick$' "$OUT"; then QUICK_RESULTS=1; fi
# The number of runs behind the medians (from the results, so --results reports it too).
RUNS=$(grep -c '^RESULT troupe fan_in ' "$OUT" || true)

# Median value and median peak RSS per (impl, workload).
summary=$(awk '
  { key = $2 " " $3; v[key] = v[key] " " $5; split($6, r, "="); m[key] = m[key] " " r[2] }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ");
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END { for (k in v) print k, median(v[k]), median(m[k]) }' "$OUT")

get() { echo "$summary" | awk -v k="$1 $2" -v f="$3" '$1 " " $2 == k { print $f }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "0.000"; else printf "%.3f", a / b }'; }

declare -A V
V[fan_in_troupe_msg_s]=$(get troupe fan_in 3); V[fan_in_caf_msg_s]=$(get caf fan_in 3)
V[ping_pong_troupe_rtt_ns]=$(get troupe ping_pong 3); V[ping_pong_caf_rtt_ns]=$(get caf ping_pong 3)
V[spawn_troupe_actors_s]=$(get troupe spawn 3); V[spawn_caf_actors_s]=$(get caf spawn 3)
V[idle_actor_bytes]=$(get troupe idle 3); V[idle_actor_bytes_caf]=$(get caf idle 3)
V[flood_troupe_msg_s]=$(get troupe flood 3); V[flood_caf_unbounded_msg_s]=$(get caf flood 3)
V[flood_peak_rss_mb]=$(get troupe flood 4); V[flood_caf_peak_rss_mb]=$(get caf flood 4)
V[flood_unbounded_troupe_msg_s]=$(get troupe flood_unbounded 3)
V[flood_unbounded_peak_rss_mb]=$(get troupe flood_unbounded 4)
V[wasm_compute_native_us]=$(get native compute 3); V[wasm_compute_aot_us]=$(get aot compute 3)
V[wasm_compute_interp_us]=$(get interp compute 3)
V[wasm_dispatch_ns]=$(get aot dispatch 3); V[wasm_interp_dispatch_ns]=$(get interp dispatch 3)
V[wasm_actor_native_msg_s]=$(get native actor 3); V[wasm_actor_msg_s]=$(get aot actor 3)
V[wasm_warm_spawn_us]=$(get aot spawn 3); V[wasm_interp_spawn_us]=$(get interp spawn 3)
V[wasm_spawn_actor_us]=$(get aot spawn_actor 3); V[wasm_native_spawn_actor_us]=$(get native spawn_actor 3)
V[wasm_aot_compile_ms]=$(get aot compile 3)
V[wasm_preempt_idle_worst_us]=$(get idle preempt_worst 3); V[wasm_preempt_idle_p99_us]=$(get idle preempt_p99 3)
V[wasm_preempt_worst_us]=$(get spinning preempt_worst 3); V[wasm_preempt_p99_us]=$(get spinning preempt_p99 3)
V[pkg_verify_mb_s]=$(get verify pkg_verify 3); V[pkg_sha256_mb_s]=$(get sha256 pkg_verify 3)
V[pkg_module_load_mb_s]=$(get load pkg_verify 3)
V[storage_guest_puts_s]=$(get guest storage_put 3); V[storage_raw_puts_s]=$(get raw storage_put 3)
V[sign_guest_s]=$(get guest sign 3); V[sign_raw_s]=$(get raw sign 3)
V[mesh_fan_in_troupe_msg_s]=$(get troupe mesh_fan_in 3); V[mesh_fan_in_caf_msg_s]=$(get caf mesh_fan_in 3)
V[mesh_ping_pong_troupe_rtt_us]=$(get troupe mesh_ping_pong 3); V[mesh_ping_pong_caf_rtt_us]=$(get caf mesh_ping_pong 3)
V[mesh_bulk_troupe_mb_s]=$(get troupe mesh_bulk 3); V[mesh_bulk_caf_mb_s]=$(get caf mesh_bulk 3)
V[mesh_bulk_aead_mb_s]=$(get aead mesh_bulk 3); V[mesh_bulk_pipe_mb_s]=$(get pipe mesh_bulk 3)
V[mesh_detect_ms]=$(get troupe mesh_detect 3); V[mesh_converge_ms]=$(get troupe mesh_converge 3)
# Every figure must be there (a driver that printed nothing is a failed run, not a zero).
for pair in "troupe fan_in" "caf fan_in" "troupe ping_pong" "caf ping_pong" "troupe spawn" \
  "caf spawn" "troupe idle" "caf idle" "troupe flood" "caf flood" "troupe flood_unbounded" \
  "native compute" \
  "aot compute" "interp compute" "aot dispatch" "interp dispatch" "native actor" "aot actor" \
  "aot spawn" "interp spawn" "aot spawn_actor" "native spawn_actor" "aot compile" "idle preempt_worst" "spinning preempt_worst" \
  "verify pkg_verify" "sha256 pkg_verify" "load pkg_verify" "guest storage_put" "raw storage_put" \
  "guest sign" "raw sign" "troupe mesh_fan_in" "caf mesh_fan_in" "troupe mesh_ping_pong" \
  "caf mesh_ping_pong" "troupe mesh_bulk" "caf mesh_bulk" "aead mesh_bulk" "pipe mesh_bulk" "troupe mesh_detect" \
  "troupe mesh_converge"; do
  if ! echo "$summary" | awk -v k="$pair" '$1 " " $2 == k { found = 1 } END { exit !found }'; then
    echo "bench.sh: no result for $pair" >&2
    exit 1
  fi
done
V[fan_in_ratio]=$(ratio "${V[fan_in_troupe_msg_s]}" "${V[fan_in_caf_msg_s]}")
V[ping_pong_ratio]=$(ratio "${V[ping_pong_troupe_rtt_ns]}" "${V[ping_pong_caf_rtt_ns]}")
V[spawn_ratio]=$(ratio "${V[spawn_troupe_actors_s]}" "${V[spawn_caf_actors_s]}")
V[flood_throughput_ratio]=$(ratio "${V[flood_troupe_msg_s]}" "${V[flood_caf_unbounded_msg_s]}")
V[flood_unbounded_ratio]=$(ratio "${V[flood_unbounded_troupe_msg_s]}" "${V[flood_caf_unbounded_msg_s]}")
V[wasm_compute_ratio]=$(ratio "${V[wasm_compute_aot_us]}" "${V[wasm_compute_native_us]}")
V[wasm_interp_compute_ratio]=$(ratio "${V[wasm_compute_interp_us]}" "${V[wasm_compute_native_us]}")
V[wasm_actor_ratio]=$(ratio "${V[wasm_actor_msg_s]}" "${V[wasm_actor_native_msg_s]}")
V[wasm_spawn_vs_native_ratio]=$(ratio "${V[wasm_spawn_actor_us]}" "${V[wasm_native_spawn_actor_us]}")
V[pkg_verify_ratio]=$(ratio "${V[pkg_verify_mb_s]}" "${V[pkg_sha256_mb_s]}")
V[storage_put_ratio]=$(ratio "${V[storage_guest_puts_s]}" "${V[storage_raw_puts_s]}")
V[sign_ratio]=$(ratio "${V[sign_guest_s]}" "${V[sign_raw_s]}")
V[mesh_fan_in_ratio]=$(ratio "${V[mesh_fan_in_troupe_msg_s]}" "${V[mesh_fan_in_caf_msg_s]}")
V[mesh_ping_pong_ratio]=$(ratio "${V[mesh_ping_pong_troupe_rtt_us]}" "${V[mesh_ping_pong_caf_rtt_us]}")
V[mesh_bulk_ratio]=$(ratio "${V[mesh_bulk_troupe_mb_s]}" "${V[mesh_bulk_caf_mb_s]}")
V[mesh_bulk_vs_aead_ratio]=$(ratio "${V[mesh_bulk_troupe_mb_s]}" "${V[mesh_bulk_aead_mb_s]}")
V[mesh_bulk_vs_pipe_ratio]=$(ratio "${V[mesh_bulk_troupe_mb_s]}" "${V[mesh_bulk_pipe_mb_s]}")
V[mesh_pipe_vs_aead_ratio]=$(ratio "${V[mesh_bulk_pipe_mb_s]}" "${V[mesh_bulk_aead_mb_s]}")

# MET or MISSED per target; V[met:key] holds it.
MISSED=()
for t in "${TARGETS[@]}"; do
  read -r key op threshold _ <<<"$t"
  value=${V[$key]}
  if awk -v v="$value" -v op="$op" -v t="$threshold" \
    'BEGIN { exit !((op == ">=" && v + 0 >= t + 0) || (op == "<=" && v + 0 <= t + 0)) }'; then
    V[met:$key]=MET
  else
    V[met:$key]=MISSED
    MISSED+=("$key")
  fi
done

if [ "$JSON" = 1 ]; then
  missed_json=""
  for k in "${MISSED[@]+"${MISSED[@]}"}"; do missed_json+="${missed_json:+, }\"$k\""; done
  cat <<JSON
{"runs": $RUNS, "quick": $([ "$QUICK_RESULTS" = 1 ] && echo true || echo false), "fan_in_troupe_msg_s": ${V[fan_in_troupe_msg_s]}, "fan_in_caf_msg_s": ${V[fan_in_caf_msg_s]}, "fan_in_ratio": ${V[fan_in_ratio]},
 "ping_pong_troupe_rtt_ns": ${V[ping_pong_troupe_rtt_ns]}, "ping_pong_caf_rtt_ns": ${V[ping_pong_caf_rtt_ns]}, "ping_pong_ratio": ${V[ping_pong_ratio]},
 "spawn_troupe_actors_s": ${V[spawn_troupe_actors_s]}, "spawn_caf_actors_s": ${V[spawn_caf_actors_s]}, "spawn_ratio": ${V[spawn_ratio]},
 "idle_actor_bytes": ${V[idle_actor_bytes]}, "idle_actor_bytes_caf": ${V[idle_actor_bytes_caf]},
 "flood_troupe_msg_s": ${V[flood_troupe_msg_s]}, "flood_caf_unbounded_msg_s": ${V[flood_caf_unbounded_msg_s]}, "flood_throughput_ratio": ${V[flood_throughput_ratio]},
 "flood_peak_rss_mb": ${V[flood_peak_rss_mb]}, "flood_caf_peak_rss_mb": ${V[flood_caf_peak_rss_mb]},
 "flood_unbounded_troupe_msg_s": ${V[flood_unbounded_troupe_msg_s]}, "flood_unbounded_ratio": ${V[flood_unbounded_ratio]}, "flood_unbounded_peak_rss_mb": ${V[flood_unbounded_peak_rss_mb]},
 "wasm_compute_native_us": ${V[wasm_compute_native_us]}, "wasm_compute_aot_us": ${V[wasm_compute_aot_us]}, "wasm_compute_interp_us": ${V[wasm_compute_interp_us]},
 "wasm_compute_ratio": ${V[wasm_compute_ratio]}, "wasm_interp_compute_ratio": ${V[wasm_interp_compute_ratio]},
 "wasm_dispatch_ns": ${V[wasm_dispatch_ns]}, "wasm_interp_dispatch_ns": ${V[wasm_interp_dispatch_ns]},
 "wasm_actor_native_msg_s": ${V[wasm_actor_native_msg_s]}, "wasm_actor_msg_s": ${V[wasm_actor_msg_s]}, "wasm_actor_ratio": ${V[wasm_actor_ratio]},
 "wasm_warm_spawn_us": ${V[wasm_warm_spawn_us]}, "wasm_interp_spawn_us": ${V[wasm_interp_spawn_us]}, "wasm_aot_compile_ms": ${V[wasm_aot_compile_ms]},
 "wasm_spawn_actor_us": ${V[wasm_spawn_actor_us]}, "wasm_native_spawn_actor_us": ${V[wasm_native_spawn_actor_us]}, "wasm_spawn_vs_native_ratio": ${V[wasm_spawn_vs_native_ratio]},
 "wasm_preempt_worst_us": ${V[wasm_preempt_worst_us]}, "wasm_preempt_p99_us": ${V[wasm_preempt_p99_us]}, "wasm_preempt_idle_worst_us": ${V[wasm_preempt_idle_worst_us]}, "wasm_preempt_idle_p99_us": ${V[wasm_preempt_idle_p99_us]},
 "pkg_verify_mb_s": ${V[pkg_verify_mb_s]}, "pkg_sha256_mb_s": ${V[pkg_sha256_mb_s]}, "pkg_module_load_mb_s": ${V[pkg_module_load_mb_s]}, "pkg_verify_ratio": ${V[pkg_verify_ratio]},
 "storage_guest_puts_s": ${V[storage_guest_puts_s]}, "storage_raw_puts_s": ${V[storage_raw_puts_s]}, "storage_put_ratio": ${V[storage_put_ratio]},
 "sign_guest_s": ${V[sign_guest_s]}, "sign_raw_s": ${V[sign_raw_s]}, "sign_ratio": ${V[sign_ratio]},
 "mesh_fan_in_troupe_msg_s": ${V[mesh_fan_in_troupe_msg_s]}, "mesh_fan_in_caf_msg_s": ${V[mesh_fan_in_caf_msg_s]}, "mesh_fan_in_ratio": ${V[mesh_fan_in_ratio]},
 "mesh_ping_pong_troupe_rtt_us": ${V[mesh_ping_pong_troupe_rtt_us]}, "mesh_ping_pong_caf_rtt_us": ${V[mesh_ping_pong_caf_rtt_us]}, "mesh_ping_pong_ratio": ${V[mesh_ping_pong_ratio]},
 "mesh_bulk_troupe_mb_s": ${V[mesh_bulk_troupe_mb_s]}, "mesh_bulk_caf_mb_s": ${V[mesh_bulk_caf_mb_s]}, "mesh_bulk_ratio": ${V[mesh_bulk_ratio]},
 "mesh_bulk_aead_mb_s": ${V[mesh_bulk_aead_mb_s]}, "mesh_bulk_vs_aead_ratio": ${V[mesh_bulk_vs_aead_ratio]},
 "mesh_bulk_pipe_mb_s": ${V[mesh_bulk_pipe_mb_s]}, "mesh_bulk_vs_pipe_ratio": ${V[mesh_bulk_vs_pipe_ratio]}, "mesh_pipe_vs_aead_ratio": ${V[mesh_pipe_vs_aead_ratio]},
 "mesh_detect_ms": ${V[mesh_detect_ms]}, "mesh_converge_ms": ${V[mesh_converge_ms]},
 "targets_missed": [$missed_json]}
JSON
else
  if [ "$QUICK_RESULTS" = 1 ]; then echo "QUICK RUN: smoke, not figures (sizes / 100, one run)"; fi
  printf "%-10s %16s %16s %10s %s\n" workload troupe caf ratio target
  printf "%-10s %16.0f %16.0f %10s %s\n" fan_in "${V[fan_in_troupe_msg_s]}" "${V[fan_in_caf_msg_s]}" "${V[fan_in_ratio]}" "msg/s, >= 3"
  printf "%-10s %16.1f %16.1f %10s %s\n" ping_pong "${V[ping_pong_troupe_rtt_ns]}" "${V[ping_pong_caf_rtt_ns]}" "${V[ping_pong_ratio]}" "ns/round trip, <= 0.25"
  printf "%-10s %16.0f %16.0f %10s %s\n" spawn "${V[spawn_troupe_actors_s]}" "${V[spawn_caf_actors_s]}" "${V[spawn_ratio]}" "actors/s, >= 3"
  printf "%-10s %16.1f %16.1f %10s %s\n" idle "${V[idle_actor_bytes]}" "${V[idle_actor_bytes_caf]}" "" "bytes/actor, troupe <= 300"
  printf "%-10s %16.0f %16.0f %10s %s\n" flood "${V[flood_troupe_msg_s]}" "${V[flood_caf_unbounded_msg_s]}" "${V[flood_throughput_ratio]}" "msg/s (troupe bounded vs CAF unbounded), >= 1"
  printf "%-10s %16.1f %16.1f %10s %s\n" flood_rss "${V[flood_peak_rss_mb]}" "${V[flood_caf_peak_rss_mb]}" "" "peak RSS MB, troupe <= 100"
  printf "%-10s %16.0f %16.0f %10s %s\n" flood_unb "${V[flood_unbounded_troupe_msg_s]}" "${V[flood_caf_unbounded_msg_s]}" "${V[flood_unbounded_ratio]}" "msg/s (both unbounded), no target"
  printf "%-10s %16.1f %16.1f %10s %s\n" flood_u_rss "${V[flood_unbounded_peak_rss_mb]}" "${V[flood_caf_peak_rss_mb]}" "" "peak RSS MB (both unbounded), no target"
  echo
  printf "%-16s %12s %12s %12s %s\n" wasm native aot interp "ratio / target"
  printf "%-16s %12.2f %12.2f %12.1f %s\n" compute_us "${V[wasm_compute_native_us]}" "${V[wasm_compute_aot_us]}" "${V[wasm_compute_interp_us]}" "aot ${V[wasm_compute_ratio]}x native (<= 1.5), interp ${V[wasm_interp_compute_ratio]}x"
  printf "%-16s %12s %12.0f %12.0f %s\n" dispatch_ns "" "${V[wasm_dispatch_ns]}" "${V[wasm_interp_dispatch_ns]}" "aot <= 500"
  printf "%-16s %12.0f %12.0f %12s %s\n" actor_msg_s "${V[wasm_actor_native_msg_s]}" "${V[wasm_actor_msg_s]}" "" "aot ${V[wasm_actor_ratio]} of native (>= 0.5)"
  printf "%-16s %12s %12.1f %12.1f %s\n" warm_spawn_us "" "${V[wasm_warm_spawn_us]}" "${V[wasm_interp_spawn_us]}" "aot <= 20"
  printf "%-16s %12.2f %12.2f %12s %s\n" spawn_actor_us "${V[wasm_native_spawn_actor_us]}" "${V[wasm_spawn_actor_us]}" "" "aot ${V[wasm_spawn_vs_native_ratio]}x native (<= 5)"
  printf "%-16s %12s %12.0f %12s %s\n" aot_compile_ms "" "${V[wasm_aot_compile_ms]}" "" "cold, C++ counter guest"
  printf "%-16s %12.0f %12.0f %12s %s\n" preempt_worst_us "${V[wasm_preempt_idle_worst_us]}" "${V[wasm_preempt_worst_us]}" "" "echo round trip: idle node | beside 4 spinning guests (p99 ${V[wasm_preempt_idle_p99_us]} | ${V[wasm_preempt_p99_us]} us)"
  echo
  printf "%-16s %12s %12s %12s %s\n" platform sha256 verify load "ratio / target"
  printf "%-16s %12.1f %12.1f %12.1f %s\n" pkg_verify_mb_s "${V[pkg_sha256_mb_s]}" "${V[pkg_verify_mb_s]}" "${V[pkg_module_load_mb_s]}" "verify ${V[pkg_verify_ratio]}x sha256 (>= 0.8); load: the module load alone"
  printf "%-16s %12.0f %12.0f %12s %s\n" storage_puts_s "${V[storage_raw_puts_s]}" "${V[storage_guest_puts_s]}" "" "guest ${V[storage_put_ratio]}x raw SQLite (>= 0.5)"
  printf "%-16s %12.0f %12.0f %12s %s\n" signs_s "${V[sign_raw_s]}" "${V[sign_guest_s]}" "" "guest ${V[sign_ratio]}x raw libsodium (>= 0.5)"
  echo
  printf "%-16s %12s %12s %12s %s\n" mesh troupe caf reference "ratio / target"
  printf "%-16s %12.0f %12.0f %12s %s\n" fan_in_msg_s "${V[mesh_fan_in_troupe_msg_s]}" "${V[mesh_fan_in_caf_msg_s]}" "" "troupe ${V[mesh_fan_in_ratio]}x CAF (>= 2)"
  printf "%-16s %12.1f %12.1f %12s %s\n" ping_pong_rtt_us "${V[mesh_ping_pong_troupe_rtt_us]}" "${V[mesh_ping_pong_caf_rtt_us]}" "" "troupe ${V[mesh_ping_pong_ratio]}x CAF (<= 0.5)"
  printf "%-16s %12.1f %12.1f %12.1f %s\n" bulk_mb_s "${V[mesh_bulk_troupe_mb_s]}" "${V[mesh_bulk_caf_mb_s]}" "${V[mesh_bulk_aead_mb_s]}" "troupe ${V[mesh_bulk_vs_aead_ratio]}x raw AEAD (>= 0.7), ${V[mesh_bulk_ratio]}x CAF"
  printf "%-16s %12.1f %12s %12.1f %s\n" bulk_pipe_mb_s "${V[mesh_bulk_pipe_mb_s]}" "" "${V[mesh_bulk_aead_mb_s]}" "sealed pipe ${V[mesh_pipe_vs_aead_ratio]}x raw AEAD; troupe ${V[mesh_bulk_vs_pipe_ratio]}x the pipe"
  printf "%-16s %12.0f %12s %12s %s\n" detect_ms "${V[mesh_detect_ms]}" "" "~5000" "kill -9 to dead at the other 4 of 5 (reference: memberlist's default, not measured)"
  printf "%-16s %12.0f %12s %12s %s\n" converge_ms "${V[mesh_converge_ms]}" "" "" "5 nodes, first launch to all alive everywhere"
  echo
  for t in "${TARGETS[@]}"; do
    read -r key op threshold label <<<"$t"
    printf "%-6s %-26s %12s %s %-5s %s\n" "${V[met:$key]}" "$key" "${V[$key]}" "$op" "$threshold" "$label"
  done
fi

[ "$MARKDOWN" = 1 ] || exit 0

# --- Markdown: the tables of docs/BENCHMARKS.md and the README's figures. ---
ROOT=${INTO:-.}
if [ "$QUICK_RESULTS" = 1 ] && [ -z "$INTO" ]; then
  echo "bench.sh: quick results are smoke, not figures: not writing them into the docs" \
    "(use --into a copy)" >&2
  exit 1
fi
DOC="$ROOT/docs/BENCHMARKS.md"
README="$ROOT/README.md"
fmt() { awk -v v="$2" -v f="$1" 'BEGIN { printf f, v }'; }
mega() { awk -v v="$1" 'BEGIN { printf "%.2f M", v / 1e6 }'; }
tgt() { # the target column and the met column of a key
  local t key op threshold
  for t in "${TARGETS[@]}"; do
    read -r key op threshold _ <<<"$t"
    if [ "$key" = "$1" ]; then
      printf "%s %s%s | %s" "$([ "$op" = ">=" ] && echo "≥" || echo "≤")" "$threshold" "$2" \
        "${V[met:$key]}"
      return
    fi
  done
  echo "bench.sh: no target $1" >&2
  exit 1
}
commit=$(git log -1 --format='%h ("%s")' 2>/dev/null || echo "unknown commit")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
recorded=""
if [ "$QUICK_RESULTS" = 1 ]; then recorded="QUICK RUN (smoke, not figures). "; fi
recorded+="Generated by \`scripts/bench.sh --runs $RUNS --markdown\` on $(date -u +%Y-%m-%d) at $commit; $(nproc) CPUs${cpu:+ ($cpu)}."

{
  echo "$recorded"
  echo
  echo "| workload | troupe | CAF 0.17 | ratio | target | met |"
  echo "|---|---:|---:|---:|---|---|"
  echo "| fan-in: 100 senders × 100 k messages → 1 actor | $(mega "${V[fan_in_troupe_msg_s]}") msg/s | $(mega "${V[fan_in_caf_msg_s]}") msg/s | **$(fmt %.2f "${V[fan_in_ratio]}")×** | $(tgt fan_in_ratio ×) |"
  echo "| ping-pong: 1 M round trips, round-trip time | $(fmt %.1f "${V[ping_pong_troupe_rtt_ns]}") ns | $(fmt %.1f "${V[ping_pong_caf_rtt_ns]}") ns | **$(fmt %.3f "${V[ping_pong_ratio]}")** | $(tgt ping_pong_ratio "") |"
  echo "| spawn 1 M actors, stop them, release the refs | $(fmt %.3f "$(awk -v v="${V[spawn_troupe_actors_s]}" 'BEGIN { print v / 1e6 }')") M actors/s | $(fmt %.3f "$(awk -v v="${V[spawn_caf_actors_s]}" 'BEGIN { print v / 1e6 }')") M actors/s | **$(fmt %.2f "${V[spawn_ratio]}")×** | $(tgt spawn_ratio ×) |"
  echo "| idle actor memory (RSS delta / 1 M idle actors) | **$(fmt %.1f "${V[idle_actor_bytes]}") bytes** | $(fmt %.1f "${V[idle_actor_bytes_caf]}") bytes | | $(tgt idle_actor_bytes " bytes") |"
  echo "| flood: 10 M messages into a slow actor, troupe bounded (4096, backpressure) vs CAF unbounded: throughput | $(mega "${V[flood_troupe_msg_s]}") msg/s | $(mega "${V[flood_caf_unbounded_msg_s]}") msg/s | **$(fmt %.2f "${V[flood_throughput_ratio]}")×** | $(tgt flood_throughput_ratio ×) |"
  echo "| flood: peak RSS | **$(fmt %.1f "${V[flood_peak_rss_mb]}") MB** | $(fmt %.1f "${V[flood_caf_peak_rss_mb]}") MB | | $(tgt flood_peak_rss_mb " MB") |"
  echo "| flood, both unbounded (\`flood_unbounded_ratio\`): throughput | $(mega "${V[flood_unbounded_troupe_msg_s]}") msg/s | $(mega "${V[flood_caf_unbounded_msg_s]}") msg/s | **$(fmt %.2f "${V[flood_unbounded_ratio]}")×** | — | |"
  echo "| flood, both unbounded: peak RSS | $(fmt %.1f "${V[flood_unbounded_peak_rss_mb]}") MB | $(fmt %.1f "${V[flood_caf_peak_rss_mb]}") MB | | — | |"
} >"$MD/runtime"

{
  echo "$recorded"
  echo
  echo "| workload | native | AOT | interpreter | result | target | met |"
  echo "|---|---:|---:|---:|---|---|---|"
  echo "| compute kernel, µs per round (\`wasm_compute_ratio\`, \`wasm_interp_compute_ratio\`) | $(fmt %.1f "${V[wasm_compute_native_us]}") | $(fmt %.1f "${V[wasm_compute_aot_us]}") | $(fmt %.0f "${V[wasm_compute_interp_us]}") | AOT **$(fmt %.2f "${V[wasm_compute_ratio]}")×** native; interpreter $(fmt %.0f "${V[wasm_interp_compute_ratio]}")× | AOT $(tgt wasm_compute_ratio ×) |"
  echo "| dispatch round trip, 64-byte payload (\`wasm_dispatch_ns\`, \`wasm_interp_dispatch_ns\`) | | **$(fmt %.0f "${V[wasm_dispatch_ns]}") ns** | $(fmt %.0f "${V[wasm_interp_dispatch_ns]}") ns | | AOT $(tgt wasm_dispatch_ns " ns") |"
  echo "| counter actor under fan-in, msg/s (\`wasm_actor_ratio\`) | $(mega "${V[wasm_actor_native_msg_s]}") | $(mega "${V[wasm_actor_msg_s]}") | | **$(fmt %.3f "${V[wasm_actor_ratio]}")×** native | $(tgt wasm_actor_ratio ×) |"
  echo "| warm spawn: instantiate a loaded module and destroy it (\`wasm_warm_spawn_us\`) | | **$(fmt %.1f "${V[wasm_warm_spawn_us]}") µs** | $(fmt %.0f "${V[wasm_interp_spawn_us]}") µs | | $(tgt wasm_warm_spawn_us " µs") |"
  echo "| actor spawn: spawn, stop, release, µs per actor (\`wasm_spawn_vs_native_ratio\`) | $(fmt %.2f "${V[wasm_native_spawn_actor_us]}") µs | $(fmt %.2f "${V[wasm_spawn_actor_us]}") µs | | AOT **$(fmt %.2f "${V[wasm_spawn_vs_native_ratio]}")×** native | $(tgt wasm_spawn_vs_native_ratio ×) |"
  echo "| cold AOT compile of the C++ counter guest (\`wasm_aot_compile_ms\`) | | $(fmt %.0f "${V[wasm_aot_compile_ms]}") ms | | wasm2c + gcc | | |"
  echo "| preemption: a native echo's round trip on 2 workers beside 4 AOT guests in \`loop br 0\`, worst / p99 (\`wasm_preempt_worst_us\`, \`wasm_preempt_p99_us\`); reference: the same node idle | | **$(fmt %.0f "${V[wasm_preempt_worst_us]}") µs** / $(fmt %.0f "${V[wasm_preempt_p99_us]}") µs | | idle: $(fmt %.0f "${V[wasm_preempt_idle_worst_us]}") µs / $(fmt %.0f "${V[wasm_preempt_idle_p99_us]}") µs | — | |"
} >"$MD/wasm"

{
  echo "$recorded"
  echo
  echo "| workload | reference | troupe | result | target | met |"
  echo "|---|---:|---:|---|---|---|"
  echo "| verify a package with an 8 MiB guest module, MB/s of package bytes (\`pkg_verify_ratio\`); the last step alone, loading the module: $(fmt %.0f "${V[pkg_module_load_mb_s]}") MB/s (\`pkg_module_load_mb_s\`) | $(fmt %.0f "${V[pkg_sha256_mb_s]}") MB/s | $(fmt %.0f "${V[pkg_verify_mb_s]}") MB/s | **$(fmt %.2f "${V[pkg_verify_ratio]}")×** SHA-256 | $(tgt pkg_verify_ratio ×) |"
  echo "| storage: committed puts/s of 100-byte values, one per message, by the kv guest (AOT) against raw SQLite doing the same puts (WAL, \`synchronous=FULL\`, exclusive locking, the store's table and upsert, one transaction each) (\`storage_put_ratio\`) | $(fmt %.0f "${V[storage_raw_puts_s]}")/s | $(fmt %.0f "${V[storage_guest_puts_s]}")/s | **$(fmt %.2f "${V[storage_put_ratio]}")×** raw | $(tgt storage_put_ratio ×) |"
  echo "| signing: signatures/s of a 64-byte message, one per message, by the signer guest (AOT, the node's key custody) against raw \`crypto_sign_detached\` (\`sign_ratio\`) | $(fmt %.0f "${V[sign_raw_s]}")/s | $(fmt %.0f "${V[sign_guest_s]}")/s | **$(fmt %.2f "${V[sign_ratio]}")×** raw | $(tgt sign_ratio ×) |"
} >"$MD/platform"

{
  echo "$recorded"
  echo
  echo "| workload | troupe | reference | ratio | target | met |"
  echo "|---|---:|---:|---:|---|---|"
  echo "| fan-in across nodes: 10 senders × 50 k \`int\`s → 1 counter in the other process, window 100 (\`mesh_fan_in_ratio\`) | $(fmt %.0f "${V[mesh_fan_in_troupe_msg_s]}") msg/s | CAF 0.17: $(fmt %.0f "${V[mesh_fan_in_caf_msg_s]}") msg/s | **$(fmt %.2f "${V[mesh_fan_in_ratio]}")×** | $(tgt mesh_fan_in_ratio ×) |"
  echo "| ping-pong across nodes: 20 k sequential asks, round-trip time (\`mesh_ping_pong_ratio\`) | $(fmt %.1f "${V[mesh_ping_pong_troupe_rtt_us]}") µs | CAF 0.17: $(fmt %.1f "${V[mesh_ping_pong_caf_rtt_us]}") µs | **$(fmt %.3f "${V[mesh_ping_pong_ratio]}")** | $(tgt mesh_ping_pong_ratio "") |"
  echo "| bulk across nodes: 8192 × 64 KiB from 1 sender, window 16 (\`mesh_bulk_ratio\`; CAF's bytes travel unencrypted) | $(fmt %.0f "${V[mesh_bulk_troupe_mb_s]}") MB/s | CAF 0.17: $(fmt %.0f "${V[mesh_bulk_caf_mb_s]}") MB/s | $(fmt %.2f "${V[mesh_bulk_ratio]}")× | — | |"
  echo "| bulk against raw libsodium ChaCha20-Poly1305 (IETF) encryption of the same bytes on one core, 64 KiB per call (\`mesh_bulk_vs_aead_ratio\`) | $(fmt %.0f "${V[mesh_bulk_troupe_mb_s]}") MB/s | $(fmt %.0f "${V[mesh_bulk_aead_mb_s]}") MB/s | **$(fmt %.2f "${V[mesh_bulk_vs_aead_ratio]}")×** | $(tgt mesh_bulk_vs_aead_ratio ×) |"
  echo "| the sealed pipe: the same bytes sealed in Noise-sized pieces, written to loopback TCP by one process, read and opened by another, no frames or actors (bench/sealed_pipe.h) (\`mesh_pipe_vs_aead_ratio\`) | $(fmt %.0f "${V[mesh_bulk_pipe_mb_s]}") MB/s | $(fmt %.0f "${V[mesh_bulk_aead_mb_s]}") MB/s | $(fmt %.2f "${V[mesh_pipe_vs_aead_ratio]}")× | — | |"
  echo "| bulk against the sealed pipe (\`mesh_bulk_vs_pipe_ratio\`) | $(fmt %.0f "${V[mesh_bulk_troupe_mb_s]}") MB/s | $(fmt %.0f "${V[mesh_bulk_pipe_mb_s]}") MB/s | $(fmt %.2f "${V[mesh_bulk_vs_pipe_ratio]}")× | — | |"
  echo "| failure detection: kill -9 of 1 of 5 \`troupe node run\` processes until the other 4 report it dead, default (LAN) timing (\`mesh_detect_ms\`) | **$(fmt %.0f "${V[mesh_detect_ms]}") ms** | memberlist's default: about 5 s (its figure, not measured here) | | — | |"
  echo "| convergence: 5 \`troupe node run\` processes from the first launch until every node sees all 5 alive (\`mesh_converge_ms\`) | **$(fmt %.0f "${V[mesh_converge_ms]}") ms** | | | — | |"
} >"$MD/mesh"

rt_met=0; rt_n=0; rt_missed=""; w_met=0; w_n=0; w_missed=""
for t in "${TARGETS[@]}"; do
  read -r key _ <<<"$t"
  if [[ "$key" == pkg_* || "$key" == storage_* || "$key" == sign_* || "$key" == mesh_* ]]; then
    continue  # platform and mesh targets: their own tables, not in the README's two summaries
  elif [[ "$key" == wasm_* ]]; then
    w_n=$((w_n + 1))
    if [ "${V[met:$key]}" = MET ]; then w_met=$((w_met + 1)); else w_missed+="${w_missed:+, }$key"; fi
  else
    rt_n=$((rt_n + 1))
    if [ "${V[met:$key]}" = MET ]; then rt_met=$((rt_met + 1)); else rt_missed+="${rt_missed:+, }$key"; fi
  fi
done
count() { if [ "$1" = "$2" ]; then echo "all $2 targets met"; else echo "$1 of $2 targets met (MISSED: $3)"; fi; }
stamp="\`scripts/bench.sh --runs $RUNS\`, $(date -u +%Y-%m-%d)"
runtime_summary="$(count $rt_met $rt_n "$rt_missed") (fan-in $(fmt %.2f "${V[fan_in_ratio]}")×, ping-pong $(fmt %.3f "${V[ping_pong_ratio]}"), spawn $(fmt %.2f "${V[spawn_ratio]}")×, idle $(fmt %.0f "${V[idle_actor_bytes]}") B, flood $(fmt %.2f "${V[flood_throughput_ratio]}")× at $(fmt %.1f "${V[flood_peak_rss_mb]}") MB; $stamp)"
wasm_summary="$(count $w_met $w_n "$w_missed"): AOT compute $(fmt %.2f "${V[wasm_compute_ratio]}")× native (≤ 1.5), dispatch $(fmt %.0f "${V[wasm_dispatch_ns]}") ns (≤ 500), the WebAssembly counter actor $(fmt %.2f "${V[wasm_actor_ratio]}")× the native one's msg/s under fan-in (≥ 0.5), warm spawn $(fmt %.1f "${V[wasm_warm_spawn_us]}") µs (≤ 20), a WebAssembly actor's spawn and stop $(fmt %.2f "${V[wasm_spawn_vs_native_ratio]}")× a native one's (≤ 5); cold AOT compile $(fmt %.1f "$(awk -v v="${V[wasm_aot_compile_ms]}" 'BEGIN { print v / 1000 }')") s ($stamp)"

# Replaces the lines between "<!-- bench:NAME:begin -->" and "<!-- bench:NAME:end -->" (each
# alone on its line, exactly once) in FILE with the contents of FROM.
replace_block() {
  local file=$1 name=$2 from=$3 b="<!-- bench:$2:begin -->" e="<!-- bench:$2:end -->"
  if [ "$(grep -cxF "$b" "$file")" != 1 ] || [ "$(grep -cxF "$e" "$file")" != 1 ]; then
    echo "bench.sh: $file needs one '$b' and one '$e' line" >&2
    exit 1
  fi
  awk -v b="$b" -v e="$e" -v from="$from" '
    $0 == b { print; while ((getline l < from) > 0) print l; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}
# Replaces the text between "<!-- bench:readme-NAME -->" and "<!-- /bench:readme-NAME -->" (on
# one line, exactly once) in FILE with TEXT.
replace_inline() {
  local file=$1 b="<!-- bench:readme-$2 -->" e="<!-- /bench:readme-$2 -->"
  printf '%s' "$3" >"$MD/inline"
  awk -v b="$b" -v e="$e" -v from="$MD/inline" '
    BEGIN { getline text < from }
    { i = index($0, b); j = index($0, e)
      if (i && j > i) { $0 = substr($0, 1, i + length(b) - 1) text substr($0, j); n++ }
      print }
    END { if (n != 1) exit 3 }' "$file" >"$file.tmp" || {
    rm -f "$file.tmp"
    echo "bench.sh: $file needs '$b...$e' on one line, once" >&2
    exit 1
  }
  mv "$file.tmp" "$file"
}
replace_block "$DOC" runtime "$MD/runtime"
replace_block "$DOC" wasm "$MD/wasm"
replace_block "$DOC" platform "$MD/platform"
replace_block "$DOC" mesh "$MD/mesh"
replace_inline "$README" runtime "$runtime_summary"
replace_inline "$README" wasm "$wasm_summary"
echo "bench.sh: wrote the figures into $DOC and $README" >&2
