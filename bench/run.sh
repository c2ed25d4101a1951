#!/usr/bin/env bash
# Benchmarks (JMH), not tests. Each suite prints its ratio against a peer measured in the same run.
#   bench/run.sh import [git|tar|compile]   kmemlab import vs perf script (target >= 4x)
#   bench/run.sh replay [tar] [policies]    replay events/s per policy (target >= 5M under baseline), memory 1x vs 10x
#   bench/run.sh report [tar] [events]      kmemlab stat and report on a >= 10M-event trace built under /tmp from shifted
#                                           copies (targets stat <= 3 s, report <= 10 s), against perf kmem stat's rate
#   bench/run.sh pcp [quick]                page allocator order-0 alloc+free pairs/s, pcp fast path (target >= 20M) and
#                                           rmqueue_bulk path, against Netty's PooledByteBufAllocator 4 KiB pairs
#   bench/run.sh record [seconds] [rounds]  kmemlab record's own CPU vs perf record's on one stress workload (root; target < 1x);
#                                           KMEMLAB_BENCH_WORKLOAD=CMD replaces the workload (perf bench sched messaging)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
modules=bench
# the report and record suites run the kmemlab CLI, so its jar must be current too
[ "${1:-}" = report ] || [ "${1:-}" = record ] && modules=bench,cli
(cd "$here" && ./mvnw -q -B -DskipTests install -pl "$modules" -am)
exec java -Xmx8g --add-opens=java.base/java.nio=ALL-UNNAMED -Dkmemlab.shared="${KMEMLAB_SHARED:-$here/../shared}" -Dkmemlab.home="$here" \
  -jar "$here/bench/target/benchmarks.jar" "$@"
