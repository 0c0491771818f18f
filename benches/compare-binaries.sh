#!/bin/bash
# Times two (or more) builds of openphone-sync on the same bench workspace, alternately, in
# one session (a shared machine's load moves between runs: ratios taken this way hold).
# Use it as the bench's BENCH_WRAP; it runs each of $CMP_BINS $CMP_ROUNDS times (default 2) on every measured command,
# appends "binary args | wall s peak KiB | load average" lines to $CMP_LOG, then runs the
# first of $CMP_BINS for the bench's own table. With PERF=1 that last run is also recorded by
# `perf record` into /tmp/perf.<n>.data. Example (docs/performance.md, issue 22):
#   cp target/release/openphone-sync /tmp/before   # built at the commit before
#   cargo build --release && cp target/release/openphone-sync /tmp/after
#   BENCH_WRAP=$PWD/benches/compare-binaries.sh CMP_BINS="/tmp/before /tmp/after" \
#     CMP_LOG=/tmp/cmp.log BENCH_LOCAL_SIZES=100000,1000000 cargo bench --bench throughput -- local
set -u
time_cmd=$1 f=$2 fmt=$3
shift 4
out=$(mktemp)
for round in $(seq "${CMP_ROUNDS:-2}"); do
  for b in $CMP_BINS; do
    /usr/bin/time -f "%e %M" -o "$out" "$b" "$@" > /dev/null 2>&1
    echo "$(basename "$b") $* | $(tail -1 "$out") | load $(cut -d' ' -f1 /proc/loadavg)" >> "$CMP_LOG"
  done
done
rm -f "$out"
set -- $CMP_BINS "$@"
first=$1
shift $(( $(echo $CMP_BINS | wc -w) ))
if [ -n "${PERF:-}" ]; then
  n=$(ls /tmp/perf.*.data 2>/dev/null | wc -l)
  exec perf record -q -F 499 -g -o "/tmp/perf.$n.data" "$time_cmd" "$f" "$fmt" "$first" "$@"
fi
exec "$time_cmd" "$f" "$fmt" "$first" "$@"
