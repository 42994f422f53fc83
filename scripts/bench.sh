#!/usr/bin/env bash
# Runtime benchmarks: troupe against CAF 0.17 on the same workloads, in the same run, each in a
# fresh process (so peak RSS is per workload), alternating troupe and CAF, median of N runs.
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

if [ "$JSON" = 1 ]; then
  cat <<JSON
{"runs": $RUNS, "fan_in_troupe_msg_s": $fan_t, "fan_in_caf_msg_s": $fan_c, "fan_in_ratio": $(ratio "$fan_t" "$fan_c"),
 "ping_pong_troupe_rtt_ns": $pp_t, "ping_pong_caf_rtt_ns": $pp_c, "ping_pong_ratio": $(ratio "$pp_t" "$pp_c"),
 "spawn_troupe_actors_s": $sp_t, "spawn_caf_actors_s": $sp_c, "spawn_ratio": $(ratio "$sp_t" "$sp_c"),
 "idle_actor_bytes": $id_t, "idle_actor_bytes_caf": $id_c,
 "flood_troupe_msg_s": $fl_t, "flood_caf_unbounded_msg_s": $fl_c, "flood_throughput_ratio": $(ratio "$fl_t" "$fl_c"),
 "flood_peak_rss_mb": $fl_rss_t, "flood_caf_peak_rss_mb": $fl_rss_c}
JSON
else
  printf "%-10s %16s %16s %10s %s\n" workload troupe caf ratio target
  printf "%-10s %16.0f %16.0f %10s %s\n" fan_in "$fan_t" "$fan_c" "$(ratio "$fan_t" "$fan_c")" "msg/s, >= 3"
  printf "%-10s %16.1f %16.1f %10s %s\n" ping_pong "$pp_t" "$pp_c" "$(ratio "$pp_t" "$pp_c")" "ns/round trip, <= 0.25"
  printf "%-10s %16.0f %16.0f %10s %s\n" spawn "$sp_t" "$sp_c" "$(ratio "$sp_t" "$sp_c")" "actors/s, >= 3"
  printf "%-10s %16.1f %16.1f %10s %s\n" idle "$id_t" "$id_c" "" "bytes/actor, troupe <= 300"
  printf "%-10s %16.0f %16.0f %10s %s\n" flood "$fl_t" "$fl_c" "$(ratio "$fl_t" "$fl_c")" "msg/s (troupe bounded vs CAF unbounded), >= 1"
  printf "%-10s %16.1f %16.1f %10s %s\n" flood_rss "$fl_rss_t" "$fl_rss_c" "" "peak RSS MB, troupe <= 100"
fi
