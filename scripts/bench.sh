#!/usr/bin/env bash
# Runtime benchmarks: troupe against CAF 0.17 on the same workloads, in the same run, each in a
# fresh process (so peak RSS is per workload), alternating troupe and CAF, median of N runs.
# WebAssembly benchmarks (bench/wasm_bench): compute kernel native/AOT/interpreter, dispatch
# round trip, warm spawn and cold AOT compile each measure their reference in the same
# process; the WebAssembly vs native counter under fan-in runs each side in its own process.
# Median of N runs.
#   scripts/bench.sh [--runs N] [--json]
# Prints a table (or, with --json, one JSON object with every figure and ratio).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
JSON=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --json) JSON=1; shift ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done

scripts/setup.sh >&2
B=build/bench
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

for w in fan_in ping_pong spawn idle flood; do
  for ((i = 1; i <= RUNS; i++)); do
    for impl in troupe caf; do
      echo "bench: $impl $w run $i/$RUNS" >&2
      "$B/${impl}_bench" "$w" | grep '^RESULT' >>"$OUT"
    done
  done
done

for ((i = 1; i <= RUNS; i++)); do
  for w in compute dispatch "actor native" "actor aot" spawn compile; do
    echo "bench: wasm $w run $i/$RUNS" >&2
    # shellcheck disable=SC2086  # "actor native" is a workload and its side
    "$B/wasm_bench" $w | grep '^RESULT' >>"$OUT"
  done
done

# Median value and median peak RSS per (impl, workload).
summary=$(awk '
  { key = $2 " " $3; v[key] = v[key] " " $5; split($6, r, "="); m[key] = m[key] " " r[2]; unit[$3] = $4 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ");
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END { for (k in v) print k, median(v[k]), median(m[k]) }' "$OUT")

get() { echo "$summary" | awk -v k="$1 $2" -v f="$3" '$1 " " $2 == k { print $f }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

fan_t=$(get troupe fan_in 3); fan_c=$(get caf fan_in 3)
pp_t=$(get troupe ping_pong 3); pp_c=$(get caf ping_pong 3)
sp_t=$(get troupe spawn 3); sp_c=$(get caf spawn 3)
id_t=$(get troupe idle 3); id_c=$(get caf idle 3)
fl_t=$(get troupe flood 3); fl_c=$(get caf flood 3)
fl_rss_t=$(get troupe flood 4); fl_rss_c=$(get caf flood 4)
wc_n=$(get native compute 3); wc_a=$(get aot compute 3); wc_i=$(get interp compute 3)
wd_a=$(get aot dispatch 3); wd_i=$(get interp dispatch 3)
wa_n=$(get native actor 3); wa_a=$(get aot actor 3)
ws_a=$(get aot spawn 3); ws_i=$(get interp spawn 3)
wcc=$(get aot compile 3)

if [ "$JSON" = 1 ]; then
  cat <<JSON
{"runs": $RUNS, "fan_in_troupe_msg_s": $fan_t, "fan_in_caf_msg_s": $fan_c, "fan_in_ratio": $(ratio "$fan_t" "$fan_c"),
 "ping_pong_troupe_rtt_ns": $pp_t, "ping_pong_caf_rtt_ns": $pp_c, "ping_pong_ratio": $(ratio "$pp_t" "$pp_c"),
 "spawn_troupe_actors_s": $sp_t, "spawn_caf_actors_s": $sp_c, "spawn_ratio": $(ratio "$sp_t" "$sp_c"),
 "idle_actor_bytes": $id_t, "idle_actor_bytes_caf": $id_c,
 "flood_troupe_msg_s": $fl_t, "flood_caf_unbounded_msg_s": $fl_c, "flood_throughput_ratio": $(ratio "$fl_t" "$fl_c"),
 "flood_peak_rss_mb": $fl_rss_t, "flood_caf_peak_rss_mb": $fl_rss_c,
 "wasm_compute_native_us": $wc_n, "wasm_compute_aot_us": $wc_a, "wasm_compute_interp_us": $wc_i,
 "wasm_compute_ratio": $(ratio "$wc_a" "$wc_n"), "wasm_interp_compute_ratio": $(ratio "$wc_i" "$wc_n"),
 "wasm_dispatch_ns": $wd_a, "wasm_interp_dispatch_ns": $wd_i,
 "wasm_actor_native_msg_s": $wa_n, "wasm_actor_msg_s": $wa_a, "wasm_actor_ratio": $(ratio "$wa_a" "$wa_n"),
 "wasm_warm_spawn_us": $ws_a, "wasm_interp_spawn_us": $ws_i, "wasm_aot_compile_ms": $wcc}
JSON
else
  printf "%-10s %16s %16s %10s %s\n" workload troupe caf ratio target
  printf "%-10s %16.0f %16.0f %10s %s\n" fan_in "$fan_t" "$fan_c" "$(ratio "$fan_t" "$fan_c")" "msg/s, >= 3"
  printf "%-10s %16.1f %16.1f %10s %s\n" ping_pong "$pp_t" "$pp_c" "$(ratio "$pp_t" "$pp_c")" "ns/round trip, <= 0.25"
  printf "%-10s %16.0f %16.0f %10s %s\n" spawn "$sp_t" "$sp_c" "$(ratio "$sp_t" "$sp_c")" "actors/s, >= 3"
  printf "%-10s %16.1f %16.1f %10s %s\n" idle "$id_t" "$id_c" "" "bytes/actor, troupe <= 300"
  printf "%-10s %16.0f %16.0f %10s %s\n" flood "$fl_t" "$fl_c" "$(ratio "$fl_t" "$fl_c")" "msg/s (troupe bounded vs CAF unbounded), >= 1"
  printf "%-10s %16.1f %16.1f %10s %s\n" flood_rss "$fl_rss_t" "$fl_rss_c" "" "peak RSS MB, troupe <= 100"
  echo
  printf "%-16s %12s %12s %12s %s\n" wasm native aot interp "ratio / target"
  printf "%-16s %12.2f %12.2f %12.1f %s\n" compute_us "$wc_n" "$wc_a" "$wc_i" "aot $(ratio "$wc_a" "$wc_n")x native (<= 1.5), interp $(ratio "$wc_i" "$wc_n")x"
  printf "%-16s %12s %12.0f %12.0f %s\n" dispatch_ns "" "$wd_a" "$wd_i" "aot <= 500"
  printf "%-16s %12.0f %12.0f %12s %s\n" actor_msg_s "$wa_n" "$wa_a" "" "aot $(ratio "$wa_a" "$wa_n") of native (>= 0.5)"
  printf "%-16s %12s %12.1f %12.1f %s\n" warm_spawn_us "" "$ws_a" "$ws_i" "aot <= 20"
  printf "%-16s %12s %12.0f %12s %s\n" aot_compile_ms "" "$wcc" "" "cold, C++ counter guest"
fi
