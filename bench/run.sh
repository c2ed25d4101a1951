#!/usr/bin/env bash
# Benchmarks (JMH), not tests. Each suite prints its ratio against a peer measured in the same run.
#   bench/run.sh import [git|tar|compile]   kmemlab import vs perf script (target >= 4x)
#   bench/run.sh replay [tar] [policies]    replay events/s per policy (target >= 5M under baseline), memory 1x vs 10x
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$here" && ./mvnw -q -B -DskipTests install -pl bench -am)
exec java -Xmx8g --add-opens=java.base/java.nio=ALL-UNNAMED -Dkmemlab.shared="${KMEMLAB_SHARED:-$here/../shared}" \
  -jar "$here/bench/target/benchmarks.jar" "$@"
