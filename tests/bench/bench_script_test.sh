#!/usr/bin/env bash
# scripts/bench.sh without running a benchmark: from saved RESULT lines (results.txt) it must
# print MET/MISSED per target, write the tables between docs/BENCHMARKS.md's markers and the
# README's figures (into a copy of both), do so idempotently, and refuse what it must refuse.
#   bench_script_test.sh REPO_ROOT
set -u
root=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bench_script_test: $*" >&2; exit 1; }
mkdir -p "$tmp/docs"
cp "$root/README.md" "$tmp/README.md"
cp "$root/docs/BENCHMARKS.md" "$tmp/docs/BENCHMARKS.md"
bench="$root/scripts/bench.sh"

out=$("$bench" --results "$here/results.txt" --markdown --into "$tmp" 2>&1) ||
  fail "bench.sh failed: $out"
echo "$out" | grep -Eq '^MET +fan_in_ratio +3\.620' || fail "fan_in_ratio not MET (median): $out"
echo "$out" | grep -Eq '^MISSED +spawn_ratio +2\.900' || fail "spawn_ratio not MISSED: $out"
echo "$out" | grep -Eq '^MET +wasm_warm_spawn_us +9\.1' || fail "wasm_warm_spawn_us: $out"
echo "$out" | grep -Eq '^MET +wasm_spawn_vs_native_ratio +4\.000' || fail "wasm_spawn_vs_native_ratio: $out"
echo "$out" | grep -Eq '^MISSED +pkg_verify_ratio +0\.500' || fail "pkg_verify_ratio not MISSED: $out"
echo "$out" | grep -Eq '^MET +storage_put_ratio +0\.800' || fail "storage_put_ratio not MET: $out"
echo "$out" | grep -Eq '^MISSED +sign_ratio +0\.400' || fail "sign_ratio not MISSED: $out"
echo "$out" | grep -Eq '^MET +mesh_fan_in_ratio +2\.500' || fail "mesh_fan_in_ratio not MET: $out"
echo "$out" | grep -Eq '^MISSED +mesh_ping_pong_ratio +0\.600' ||
  fail "mesh_ping_pong_ratio not MISSED: $out"
echo "$out" | grep -Eq '^MISSED +mesh_bulk_vs_aead_ratio +0\.400' ||
  fail "mesh_bulk_vs_aead_ratio not MISSED: $out"
[ "$(echo "$out" | grep -cE '^(MET|MISSED) ')" = 17 ] || fail "not 17 targets: $out"
doc="$tmp/docs/BENCHMARKS.md"
grep -q '^| spawn 1 M actors, stop them, release the refs | 0.750 M actors/s | 0.259 M actors/s | \*\*2.90×\*\* | ≥ 3× | MISSED |$' "$doc" ||
  fail "no generated spawn row in docs/BENCHMARKS.md"
grep -q '^| dispatch round trip, 64-byte payload .* | | \*\*102 ns\*\* | 10789 ns | | AOT ≤ 500 ns | MET |$' "$doc" ||
  fail "no generated dispatch row in docs/BENCHMARKS.md"
grep -q '^| flood, both unbounded (`flood_unbounded_ratio`): throughput | 4.95 M msg/s | 3.30 M msg/s | \*\*1.50×\*\* | — | |$' "$doc" ||
  fail "no generated flood_unbounded row in docs/BENCHMARKS.md"
grep -q '^| preemption: .* | | \*\*2400 µs\*\* / 1100 µs | | idle: 180 µs / 60 µs | — | |$' "$doc" ||
  fail "no generated preemption row in docs/BENCHMARKS.md"
grep -q '^| actor spawn: spawn, stop, release, µs per actor (`wasm_spawn_vs_native_ratio`) | 3.00 µs | 12.00 µs | | AOT \*\*4.00×\*\* native | ≤ 5× | MET |$' "$doc" ||
  fail "no generated actor spawn row in docs/BENCHMARKS.md"
grep -q '^| verify a package with an 8 MiB guest module, .* 800 MB/s (`pkg_module_load_mb_s`) | 300 MB/s | 150 MB/s | \*\*0.50×\*\* SHA-256 | ≥ 0.8× | MISSED |$' "$doc" ||
  fail "no generated pkg_verify row in docs/BENCHMARKS.md"
grep -q '^| storage: committed puts/s .* | 1000/s | 800/s | \*\*0.80×\*\* raw | ≥ 0.5× | MET |$' "$doc" ||
  fail "no generated storage row in docs/BENCHMARKS.md"
grep -q '^| signing: signatures/s .* | 50000/s | 20000/s | \*\*0.40×\*\* raw | ≥ 0.5× | MISSED |$' "$doc" ||
  fail "no generated signing row in docs/BENCHMARKS.md"
grep -q '^| fan-in across nodes: .* | 500000 msg/s | CAF 0.17: 200000 msg/s | \*\*2.50×\*\* | ≥ 2× | MET |$' "$doc" ||
  fail "no generated mesh fan-in row in docs/BENCHMARKS.md"
grep -q '^| ping-pong across nodes: .* | 120.0 µs | CAF 0.17: 200.0 µs | \*\*0.600\*\* | ≤ 0.5 | MISSED |$' "$doc" ||
  fail "no generated mesh ping-pong row in docs/BENCHMARKS.md"
grep -q '^| bulk against raw libsodium .* | 400 MB/s | 1000 MB/s | \*\*0.40×\*\* | ≥ 0.7× | MISSED |$' "$doc" ||
  fail "no generated mesh bulk row in docs/BENCHMARKS.md"
grep -q '^| failure detection: .* | \*\*5300 ms\*\* | memberlist.s default: about 5 s .* | | — | |$' "$doc" ||
  fail "no generated mesh detect row (median of 3) in docs/BENCHMARKS.md"
grep -q '| fan-in | 16.0 M msg/s' "$doc" && fail "the old runtime table is still there"
grep -q '<!-- bench:readme-runtime -->5 of 6 targets met (MISSED: spawn_ratio) (fan-in 3.62×' "$tmp/README.md" ||
  fail "README runtime figures not generated"
grep -q '<!-- bench:readme-wasm -->all 5 targets met: AOT compute 1.29× native' "$tmp/README.md" ||
  fail "README wasm figures not generated"
cp "$doc" "$tmp/first.md"
"$bench" --results "$here/results.txt" --markdown --into "$tmp" >/dev/null 2>&1 || fail "rerun failed"
cmp -s "$doc" "$tmp/first.md" || fail "a second run changed docs/BENCHMARKS.md"

json=$("$bench" --results "$here/results.txt" --json 2>&1) || fail "--json failed"
echo "$json" | grep -q '"spawn_ratio": 2.900' || fail "--json: $json"
echo "$json" | grep -q '"flood_unbounded_ratio": 1.500' || fail "--json flood_unbounded: $json"
echo "$json" | grep -q '"wasm_preempt_worst_us": 2400' || fail "--json preempt: $json"
echo "$json" | grep -q '"wasm_spawn_vs_native_ratio": 4.000' || fail "--json spawn ratio: $json"
echo "$json" | grep -q '"pkg_verify_ratio": 0.500' || fail "--json pkg_verify_ratio: $json"
echo "$json" | grep -q '"storage_put_ratio": 0.800' || fail "--json storage_put_ratio: $json"
echo "$json" | grep -q '"sign_ratio": 0.400' || fail "--json sign_ratio: $json"
echo "$json" | grep -q '"mesh_detect_ms": 5300, "mesh_converge_ms": 250' || fail "--json mesh: $json"
echo "$json" | grep -q '"mesh_bulk_aead_mb_s": 1000, "mesh_bulk_vs_aead_ratio": 0.400' ||
  fail "--json mesh bulk: $json"
echo "$json" | grep -q '"mesh_bulk_pipe_mb_s": 625, "mesh_bulk_vs_pipe_ratio": 0.640, "mesh_pipe_vs_aead_ratio": 0.625' ||
  fail "--json mesh bulk pipe: $json"
echo "$json" | grep -q '"targets_missed": \["spawn_ratio", "pkg_verify_ratio", "sign_ratio", "mesh_ping_pong_ratio", "mesh_bulk_vs_aead_ratio"\]' ||
  fail "--json targets: $json"

# Refusals: quick results into the repository's docs, a missing figure, an unknown option.
sed 's/$/ quick/' "$here/results.txt" | grep '^RESULT' >"$tmp/quick.txt"
out=$("$bench" --results "$tmp/quick.txt" --markdown 2>&1) && fail "quick results written"
echo "$out" | grep -q 'smoke, not figures' || fail "quick refusal: $out"
grep -v 'troupe flood_unbounded' "$here/results.txt" >"$tmp/missing.txt"
out=$("$bench" --results "$tmp/missing.txt" 2>&1) && fail "a missing figure passed"
echo "$out" | grep -q 'no result for troupe flood_unbounded' || fail "missing refusal: $out"
grep -v 'aead mesh_bulk' "$here/results.txt" >"$tmp/missing.txt"
out=$("$bench" --results "$tmp/missing.txt" 2>&1) && fail "a missing mesh figure passed"
echo "$out" | grep -q 'no result for aead mesh_bulk' || fail "missing mesh refusal: $out"
grep -v 'pipe mesh_bulk' "$here/results.txt" >"$tmp/missing.txt"
out=$("$bench" --results "$tmp/missing.txt" 2>&1) && fail "a missing pipe figure passed"
echo "$out" | grep -q 'no result for pipe mesh_bulk' || fail "missing pipe refusal: $out"
out=$("$bench" --fast 2>&1) && fail "an unknown option passed"
echo "$out" | grep -q "unknown argument '--fast'" || fail "unknown option: $out"
sed -i 's/<!-- bench:wasm:end -->//' "$doc"
out=$("$bench" --results "$here/results.txt" --markdown --into "$tmp" 2>&1) &&
  fail "a missing marker passed"
echo "$out" | grep -q "needs one" || fail "missing marker: $out"
echo "bench_script_test: ok"
