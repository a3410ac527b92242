#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The runner's clock with the test engine (tests/runner/test_engine.c):
# applied_t and reverted_t are the instants the engine marked (right after
# the write that takes effect), in microseconds; `for` counts from the
# actual apply; the report gives each fault's lag; the drill runs
# SCHED_FIFO with 1 ns timer slack unless --no-realtime.
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE_TEST" ] || { skip "runner clock" "no $FAULTLINE_TEST (make tests)"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "runner clock" "root"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
cd "$T"

# slow: 300 ms between the record and the write, 200 ms after it (a record
# fsynced again, a thread started); for: 400 ms from the write.
cat > "$T/slow.yaml" <<YAML
name: clock
duration: 2s
faults:
  - name: slow
    test: { file: $T/s, value: S, slow-start: 300ms, apply-delay: 200ms }
    at: 100ms
    for: 400ms
YAML
"$FAULTLINE_TEST" run --quiet --report "$T/slow.json" slow.yaml > "$T/slow.out" 2>&1
check_eq "slow: exit 0" 0 "$?"
read -r at rt aus rus < <(python3 - "$T/slow.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["faults"][0]
lag = f.get("lag") or {}
print(f["applied_t"], f["reverted_t"], lag.get("apply_us"), lag.get("revert_us"))
PY
)
check "slow: applied_t is the write's instant, 0.4 s, not apply's return (applied_t=$at)" \
	awk -v t="$at" 'BEGIN { exit !(t >= 0.395 && t < 0.48) }'
check "slow: for counts from the write: reverted 400 ms after it ($at .. $rt)" \
	awk -v a="$at" -v r="$rt" 'BEGIN { exit !(r - a >= 0.399 && r - a < 0.48) }'
check "slow: the report's apply lag is about 300 ms (apply_us=$aus)" \
	awk -v l="$aus" 'BEGIN { exit !(l >= 295000 && l < 380000) }'
check "slow: the revert lag is from the due end, under 80 ms (revert_us=$rus)" \
	awk -v l="$rus" 'BEGIN { exit !(l != "None" && l >= 0 && l < 80000) }'
# As printed (json.dumps would drop a trailing zero: 0.401710).
raw=$(grep -o '"applied_t": *[0-9.]*' "$T/slow.json" | head -n 1 | sed 's/.*: *//')
check_match "slow: times in microseconds (six decimals: $raw)" '^[0-9]+\.[0-9]{6}$' "$raw"
out=$("$FAULTLINE_TEST" report "$T/slow.json" 2>&1)
check_match "slow: the summary gives the lag" '^  fault slow .*applied \+0\.[0-9]{3}s reverted \+0\.[0-9]{3}s, lag [0-9.]+/[0-9.]+ ms' "$out"

# --- Realtime: the run says what it got, --no-realtime turns it off. ------
cat > "$T/rt.yaml" <<YAML
name: rt
duration: 200ms
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 50ms
YAML
"$FAULTLINE_TEST" run --json rt.yaml > "$T/rt.out" 2>&1
check_match "realtime: the run event names the clock" \
	'"event":"run",.*"clock":"(SCHED_FIFO 10|no SCHED_FIFO)' "$(cat "$T/rt.out")"
"$FAULTLINE_TEST" run --json --no-realtime rt.yaml > "$T/nort.out" 2>&1
check_match "realtime: --no-realtime keeps the usual scheduling" \
	'"event":"run",.*"clock":"off \(--no-realtime\)"' "$(cat "$T/nort.out")"
check_eq "the journal is empty afterwards" 0 "$(runs_left)"
