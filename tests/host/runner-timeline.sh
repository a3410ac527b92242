#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The runner with the test engine (tests/runner/test_engine.c, whose
# "kernel state" is a file): timeline order, probes, checks, apply
# failures, validation errors and the report.
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE_TEST" ] || { skip "runner timeline" "no $FAULTLINE_TEST (make tests)"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "runner timeline" "root"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
cd "$T"

# The "event fault" pairs of --json event lines, in order.
events() { sed -n 's/^{"event":"\([a-z-]*\)","fault":"\([^"]*\)".*/\1 \2/p' "$1"; }

# --- Timeline: a at 0s for 1s, b at 1s until the end (2s). ---------------
echo prior-a > "$T/a"; rm -f "$T/b"
cat > "$T/timeline.yaml" <<YAML
name: timeline
duration: 2s
faults:
  - name: b
    test: { file: $T/b, value: B }
    at: 1s
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
    for: 1500ms
YAML
"$FAULTLINE_TEST" run --json timeline.yaml > "$T/tl.out" 2> "$T/tl.err" &
pid=$!; at_exit "kill -9 $pid"
wait_for 2 is "$T/a" A
check_eq "timeline: a (at 0s) is applied first" "A|<absent>" \
	"$(content "$T/a")|$(content "$T/b")"
wait_for 3 is "$T/b" B
check_eq "timeline: b is applied at 1s, a still active" "A|B" \
	"$(content "$T/a")|$(content "$T/b")"
wait_for 3 is "$T/a" prior-a
check_eq "timeline: a is reverted after its 'for', b still active" "prior-a|B" \
	"$(content "$T/a")|$(content "$T/b")"
wait "$pid"; rc=$?
check_eq "timeline: exit 0" 0 "$rc"
check_eq "timeline: b is removed again (it did not exist)" "<absent>" "$(content "$T/b")"
check_eq "timeline: events in order" "applied a,applied b,reverted a,reverted b" \
	"$(events "$T/tl.out" | paste -sd,)"
ts=$(grep -v '"event":"report"' "$T/tl.out" | sed -n 's/.*"t":\([0-9.]*\).*/\1/p')
check "timeline: event timestamps never go back" \
	awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 }' <<<"$ts"
tb=$(grep '"event":"applied","fault":"b"' "$T/tl.out" | sed -n 's/.*"t":\([0-9.]*\).*/\1/p')
check "timeline: b applied at about 1s (t=$tb)" awk -v t="$tb" 'BEGIN { exit !(t >= 0.95 && t < 1.5) }'
ta=$(grep '"event":"reverted","fault":"a"' "$T/tl.out" | sed -n 's/.*"t":\([0-9.]*\).*/\1/p')
check "timeline: a reverted at about 1.5s (t=$ta)" awk -v t="$ta" 'BEGIN { exit !(t >= 1.45 && t < 2) }'
check_eq "timeline: the journal is empty afterwards" 0 "$(runs_left)"
check_match "timeline: the last line is the report" '^\{"event":"report","report":\{.*"verdict":"pass"' \
	"$(tail -1 "$T/tl.out")"

# --- Ties go in file order; reverts in reverse. ----------------------------
cat > "$T/ties.yaml" <<YAML
name: ties
duration: 300ms
faults:
  - name: zz
    test: { file: $T/zz }
    at: 0s
  - name: aa
    test: { file: $T/aa }
    at: 0s
YAML
"$FAULTLINE_TEST" run --json ties.yaml > "$T/ties.out" 2>&1
check_eq "ties: applied in file order, reverted in reverse" \
	"applied zz,applied aa,reverted aa,reverted zz" \
	"$(events "$T/ties.out" | paste -sd,)"

# --- Human output and the report file. ------------------------------------
out=$("$FAULTLINE_TEST" run --report rep.json timeline.yaml 2>&1); rc=$?
check_eq "report: exit 0" 0 "$rc"
check_match "human lines are timestamped" '^\[\+0\.[0-9]{3}s\] fault a: applied \(file write\)$' "$out"
check_match "the summary gives the verdict" '^drill timeline: PASS' "$out"
check "report: --report FILE is relative to the current folder" test -s "$T/rep.json"
rep=$(tr -d ' \n' < "$T/rep.json")
check_match "report: both faults reverted with timestamps" \
	'"name":"b","engine":"test","state":"reverted".*"applied_at":"[0-9T:.-]+Z".*"reverted_at":"[0-9T:.-]+Z"' "$rep"
check_match "report: what the engine observed" '"observed":\{"file":"[^"]*/a","content":"A"\}' "$rep"
check_match "report: the verdict" '"verdict":"pass","exit":0' "$rep"

# --- Probes. ---------------------------------------------------------------
probe_file() { # name exec expect every timeout duration
	cat > "$T/$1.yaml" <<YAML
name: $1
duration: $6
faults:
  - name: p
    test: { file: $T/p, value: P }
    at: 0s
probes:
  - name: check
    exec: $2
    every: $4
    timeout: $5
    expect: { exit: $3 }
report: { json: $T/$1.json }
YAML
}
probe_file pass '[true]' 0 200ms 200ms 1s
check_status "probe: every expectation held" 0 "$FAULTLINE_TEST" run --quiet pass.yaml
check_match "probe: its results are in the report" '"runs":[4-6],"passed":[4-6],"failed":0' \
	"$(tr -d ' \n' < "$T/pass.json")"
probe_file fail '[false]' 0 200ms 200ms 1s
check_status "probe: a failed expectation" 1 "$FAULTLINE_TEST" run --quiet fail.yaml
check_match "probe: the report says fail" '"verdict":"fail","exit":1' "$(tr -d ' \n' < "$T/fail.json")"
probe_file three '[sh, -c, "exit 3"]' 3 300ms 300ms 1s
check_status "probe: expect exit 3 holds" 0 "$FAULTLINE_TEST" run --quiet three.yaml
marker="30.$$"
probe_file hang "[sleep, \"$marker\"]" 0 2s 300ms 1s
start=$(date +%s%N)
"$FAULTLINE_TEST" run hang.yaml > "$T/hang.out" 2>&1; rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "probe: a hanging probe fails its expectation" 1 "$rc"
check "probe: the run does not wait for it (${ms}ms)" test "$ms" -lt 2500
check_match "probe: it is killed at its timeout" 'probe check: FAIL \(timed out after 3[0-9]{2}ms' "$(cat "$T/hang.out")"
check_match "probe: the report counts the timeout" '"timeouts":1' "$(tr -d ' \n' < "$T/hang.json")"
no_proc() { ! pgrep -f "^sleep $1\$" >/dev/null; }
check "probe: no probe process is left behind" no_proc "$marker"
check_eq "probe: the fault was reverted" "<absent>" "$(content "$T/p")"

# --- Apply failure of the 2nd fault: the 1st is reverted, exit 4. ---------
echo prior-a > "$T/a"; rm -f "$T/b"
cat > "$T/applyfail.yaml" <<YAML
name: applyfail
duration: 10s
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
  - name: b
    test: { file: $T/b, value: B, fail-apply: true }
    at: 300ms
YAML
start=$(date +%s%N)
out=$("$FAULTLINE_TEST" run applyfail.yaml 2>&1); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "apply failure: exit 4" 4 "$rc"
check "apply failure: it stops at once (${ms}ms)" test "$ms" -lt 2000
check_match "apply failure: says which fault failed" 'fault b: apply FAILED' "$out"
check_eq "apply failure: a is reverted, b never written" "prior-a|<absent>" \
	"$(content "$T/a")|$(content "$T/b")"
check_eq "apply failure: the journal is empty" 0 "$(runs_left)"

# --- Checks before anything is applied. ------------------------------------
cat > "$T/check.yaml" <<YAML
name: check
duration: 1s
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
  - name: c
    test: { file: $T/c, fail-check: "no such feature here" }
    at: 500ms
YAML
out=$("$FAULTLINE_TEST" run check.yaml 2>&1); rc=$?
check_eq "check: a failing check exits 3" 3 "$rc"
check_match "check: with the reason" 'fault c \(test\) cannot run on this machine: no such feature here' "$out"
check_eq "check: nothing was applied" "prior-a|<absent>" "$(content "$T/a")|$(content "$T/c")"
check_eq "check: no run was registered" 0 "$(runs_left)"
sed -i 's/^  - name: c$/  - name: c\n    optional: true/' "$T/check.yaml"
out=$("$FAULTLINE_TEST" run check.yaml 2>&1); rc=$?
check_eq "check: an optional fault that cannot run is skipped" 0 "$rc"
check_match "check: with a line saying so" 'fault c: skipped \(optional\): no such feature here' "$out"
check_eq "check: the other fault ran and was reverted" "prior-a" "$(content "$T/a")"

# --- Validation errors: exit 2, nothing applied. ---------------------------
cat > "$T/bad.yaml" <<YAML
name: bad
duration: 1s
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
  - name: b
    test: { file: $T/b, vaule: B }
    at: 5s
YAML
out=$("$FAULTLINE_TEST" run bad.yaml 2>&1); rc=$?
check_eq "validation: exit 2" 2 "$rc"
check_match "validation: the unknown key, with its position" 'bad.yaml:8:[0-9]+: .*vaule' "$out"
check_match "validation: the window outside duration" 'bad.yaml:9:[0-9]+: ' "$out"
check_eq "validation: nothing applied" "prior-a|<absent>" "$(content "$T/a")|$(content "$T/b")"
check_eq "validation: no run was registered" 0 "$(runs_left)"
