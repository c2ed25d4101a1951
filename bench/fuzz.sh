#!/usr/bin/env bash
# Fuzz every reader with Jazzer, one target after another, each for SECONDS (default 3600, enough for
# 1M executions of the slowest target on a 2-core machine; CI runs 30).
#   bench/fuzz.sh [SECONDS] [TARGET...]       TARGET: module:Class#method, e.g. recorder:ImportFuzzTest#perfData
# KMEMLAB_FUZZ_RUNS=N stops each target after N executions (or at SECONDS, whichever comes first), so that a
# 1M-execution run ends when it has reached 1M rather than at a guessed duration.
# Prints runs, seconds and exec/s per target; exits 1 when a target found anything. A finding is saved by
# Jazzer next to the target's seeds (src/test/resources/**/<Class>Inputs/<method>/crash-*), where plain
# `mvn test` replays it from then on. The generated corpus is kept in <module>/.cifuzz-corpus (ignored by git).
# Seeds come from the fixtures in the repository; with ../shared/traces present, KMEMLAB_FUZZ_SHARED=1 adds
# the heads of the real traces there to the text targets' corpus before fuzzing.
#
# Measured on the 2-core development VM shared with three other builds (load average 10-13), 45-60 s per target:
#   arrowTrace 157-190 exec/s, perfScript 185, ftrace 135, perfData 208, traceDat 16, anyFormat 1,628,
#   machineSnapshot 328, policySet 11,096, replaySet 3,791; no finding after the fixes these targets found.
#   1M executions therefore take from 90 s (policySet) to ~17 h (traceDat) on such a machine; the default
#   hour per target reaches 1M only for policySet, replaySet and anyFormat.
#   The 2 GiB garbage file: rejected in 0.3-0.6 s (3.1 s for the first command of a cold JVM), reading under 17 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(
    trace-format:TraceFuzzTest#arrowTrace
    recorder:ImportFuzzTest#perfScript
    recorder:ImportFuzzTest#ftrace
    recorder:ImportFuzzTest#perfData
    recorder:ImportFuzzTest#traceDat
    recorder:ImportFuzzTest#anyFormat
    allocator-impl:SnapshotFuzzTest#machineSnapshot
    allocator-impl:SnapshotFuzzTest#policySet
    replayer:ReplayOptionsFuzzTest#replaySet
    cli:NotebookFuzzTest#notebook
  )
fi
modules=$(printf '%s\n' "${targets[@]}" | cut -d: -f1 | sort -u | paste -sd, -)
./mvnw -B -q -o test-compile -pl "$modules" -am
if [ "${KMEMLAB_FUZZ_SHARED:-0}" = 1 ] && [ -d ../shared/traces ]; then
  mkdir -p recorder/.cifuzz-corpus/org.kmemlab.recorder.ImportFuzzTest/{perfScript,ftrace}
  for f in ../shared/traces/*; do
    case "$f" in
      *perf*script*|*perf*.txt*) dst=perfScript ;;
      *ftrace*|*trace*.txt*) dst=ftrace ;;
      *) continue ;;
    esac
    # the first 200 lines: small seeds let the fuzzer mutate what matters
    (zstdcat -f "$f" 2>/dev/null || cat "$f") | head -200 > "recorder/.cifuzz-corpus/org.kmemlab.recorder.ImportFuzzTest/$dst/shared-$(basename "$f")" || true
  done
fi
log=$(mktemp -d)
status=0
passed=0
failed=0
printf '%-45s %10s %6s %8s  %s\n' target runs secs exec/s result
for t in "${targets[@]}"; do
  mod=${t%%:*}; test=${t#*:}
  out="$log/${test//[#\/]/_}.log"
  # -am: the target runs against this checkout's modules, never a jar another worktree installed in ~/.m2
  if JAZZER_FUZZ=1 ./mvnw -B -o -pl "$mod" -am test -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.max_duration="${secs}s" ${KMEMLAB_FUZZ_RUNS:+-Djazzer.max_executions=$KMEMLAB_FUZZ_RUNS} >"$out" 2>&1; then result=ok; passed=$((passed + 1)); else result="FINDING (log: $out)"; status=1; failed=$((failed + 1)); fi
  done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$out" | tail -1 || true)
  runs=$(echo "$done_line" | awk '{print $2}'); s=$(echo "$done_line" | awk '{print $5}')
  rate=$([ -n "$runs" ] && [ "${s:-0}" -gt 0 ] && echo $((runs / s)) || echo "?")
  printf '%-45s %10s %6s %8s  %s\n' "$t" "${runs:-?}" "${s:-?}" "$rate" "$result"
done
# The 2 GiB garbage file: how long the CLI takes to reject it (HugeGarbageTest asserts only the bytes read).
if [ "${KMEMLAB_FUZZ_HUGE:-1}" = 1 ]; then
  ./mvnw -B -o -pl cli -am test -Dtest=HugeGarbageTest -Dsurefire.failIfNoSpecifiedTests=false >"$log/huge.log" 2>&1 || status=1
  grep -h '^huge-garbage' "$log/huge.log" || echo "huge-garbage: see $log/huge.log"
fi
echo "fuzz: $passed passed, $failed failed"
[ $status = 0 ] && rm -rf "$log"
exit $status
