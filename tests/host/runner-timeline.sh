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

# --- Late windows (issue 16, item 8). --------------------------------------
# An apply that takes long holds the runner up honestly (the test engine's
# apply-delay: a fault whose setup takes 2.5 s); cut, due at 1s for 2s,
# is then applied at about +2.5s and loses three quarters of its window.
# ontime, due after, is applied on time: no warning (its 2.5 s window
# allows 250 ms of a busy machine).
rm -f "$T/slow" "$T/cut" "$T/ontime"
cat > "$T/late.yaml" <<YAML
name: late
duration: 6s
faults:
  - name: slow
    test: { file: $T/slow, value: S, apply-delay: 2500ms }
    at: 0s
    for: 3s
  - name: cut
    test: { file: $T/cut, value: C }
    at: 1s
    for: 2s
  - name: ontime
    test: { file: $T/ontime, value: O }
    at: 3500ms
    for: 2500ms
report: { json: $T/late.json }
YAML
"$FAULTLINE_TEST" run --json late.yaml > "$T/late.out" 2>&1; rc=$?
check_eq "late: the drill still passes (a warning, not a failure)" 0 "$rc"
ev=$(grep '"event":"late","fault":"cut"' "$T/late.out")
check_match "late: a 'late' event for cut, with its planned window" \
	'"planned_from":1\.000,"planned_until":3\.000,"late":1\.[4-9][0-9]*,"lost_percent":[7-9][0-9]' "$ev"
check_eq "late: none for ontime" "" "$(grep '"event":"late","fault":"ontime"' "$T/late.out")"
w=$(jq -c '.faults[] | select(.name == "cut") | .window' "$T/late.json")
check_match "late: the report gives cut's planned and actual window" \
	'^\{"planned_from":1,"planned_until":3,"actual_from":2\.[4-9][0-9]*,"actual_until":4\.[4-9][0-9]*,"late":1\.[4-9][0-9]*,"lost_percent":(7[5-9]|[89][0-9]),"warning":"fault cut: applied at \+2\.[0-9]{3}s, 1\.[0-9]{3}s late: [0-9]+% of its 2s window \(\+1\.000s\.\.\+3\.000s\) was lost"\}$' "$w"
check_eq "late: ontime has its windows and no warning" "3.5|6|true|null" \
	"$(jq -r '.faults[] | select(.name == "ontime") | .window | "\(.planned_from)|\(.planned_until)|\(.actual_from >= 3.5)|\(.warning)"' "$T/late.json")"
check_match "late: the report's warnings name cut" '"fault cut: applied at' \
	"$(jq -c .warnings "$T/late.json")"
check_eq "late: the timeline draws cut's planned window, marked late" "planned late|1.000" \
	"$(xmllint --xpath "string(//*[@class='planned late'][@data-name='cut']/@class)" "$T/late.svg" 2>/dev/null)|$(xmllint --xpath "string(//*[@data-name='cut'][contains(@class,'planned')]/@data-from)" "$T/late.svg" 2>/dev/null)"
out=$("$FAULTLINE_TEST" report "$T/late.json" 2>&1)
check_match "late: the text summary has the warning" \
	'^  WARNING: fault cut: applied at \+2\.[0-9]{3}s, 1\.[0-9]{3}s late: [0-9]+% of its 2s window' "$out"

# A repeating fault: a window per occurrence.  The 2nd of flap's (1.0 s to
# 1.4 s) comes while slow's apply holds the runner until about 2.2 s.
cat > "$T/late-rep.yaml" <<YAML
name: late-rep
duration: 3s
faults:
  - name: flap
    test: { file: $T/cut, value: F }
    at: 0s
    repeat: { every: 1s, for: 400ms, times: 2 }
  - name: slow
    test: { file: $T/slow, value: S, apply-delay: 1300ms }
    at: 900ms
    for: 2s
report: { json: $T/late-rep.json }
YAML
"$FAULTLINE_TEST" run --quiet late-rep.yaml > "$T/late-rep.out" 2>&1
check_eq "late: each occurrence has its window; only the 2nd lost it" \
	"1:0:0.4:true:null|2:1:1.4:false:fault flap, occurrence 2/2: applied at +2." \
	"$(jq -r '[.faults[] | select(.name == "flap") | .occurrences[] |
		"\(.occurrence):\(.window.planned_from):\(.window.planned_until):\(.window.lost_percent < 10):\(.window.warning // "null" | .[0:42])"] | join("|")' "$T/late-rep.json")"

# --- Steady-state probes (issue 16, item 9). -------------------------------
# api must pass before and after cut and fail during it (the probe fails
# while cut's file holds CUT); wrong claims it passes during cut.
rm -f "$T/cutf"
steady_file() { # name expect
	cat > "$T/$1.yaml" <<YAML
name: $1
duration: 3s
faults:
  - name: cut
    test: { file: $T/cutf, value: CUT }
    at: 1s
    for: 1s
probes:
  - name: api
    exec: [sh, -c, "! grep -q CUT $T/cutf"]
    every: 300ms
    expect: $2
report: { json: $T/$1.json }
YAML
}
steady_file steady '{ before: pass, during: { cut: fail }, after: pass }'
out=$("$FAULTLINE_TEST" run steady.yaml 2>&1); rc=$?
check_eq "steady: the probe fails during cut, as expected: exit 0" 0 "$rc"
check_eq "steady: each phase as expected" \
	"before:pass:true|during:cut:fail:true|after:pass:true" \
	"$(jq -r '[.probes[0].phases[] | "\(.phase):\(if .fault then .fault + ":" else "" end)\(.expect):\(.as_expected)"] | join("|")' "$T/steady.json")"
check_eq "steady: every run was as expected, some failed" "0|true" \
	"$(jq -r '.probes[0] | "\(.unexpected)|\(.failed > 0)"' "$T/steady.json")"
check_match "steady: a result says its phase" \
	'"phase":"during","fault":"cut","expect":"fail","as_expected":true' \
	"$(jq -c '.probes[0].results[]' "$T/steady.json")"
check_match "steady: the event line says the failure was expected" \
	'probe api: FAIL, as expected during cut \(exit 1' "$out"
check_match "steady: the summary gives each phase, in order" \
	'^ +passed [0-9]+/[0-9]+ before the faults\| +failed ([0-9]+)/\1 during cut, as expected\| +passed [0-9]+/[0-9]+ after the faults$' \
	"$(grep -A3 '^  probe api' <<<"$out" | tail -3 | paste -sd'|')"

steady_file wrong '{ before: pass, during: { cut: pass } }'
out=$("$FAULTLINE_TEST" run wrong.yaml 2>&1); rc=$?
check_eq "steady: a phase not as expected fails the drill" 1 "$rc"
check_match "steady: the verdict says which phase" \
	'^drill wrong: FAIL \(exit 1\)\|  why: probe api: expected to pass during cut, but failed ([0-9]+)/\1$' \
	"$(grep -A1 '^drill wrong' <<<"$out" | paste -sd'|')"
check_match "steady: the report too" \
	'^probe api: expected to pass during cut, but failed ([0-9]+)/\1$' "$(jq -r .verdict_detail "$T/wrong.json")"
check_match "steady: the phase that held is not blamed" \
	'"phase":"before","expect":"pass","runs":[1-9][0-9]*,"passed":([0-9]+),"failed":0,"as_expected":true' \
	"$(jq -c '.probes[0].phases[]' "$T/wrong.json")"

steady_file inverse '{ during: { cut: fail }, always: fail }'
"$FAULTLINE_TEST" run --quiet inverse.yaml > /dev/null 2>&1; rc=$?
check_eq "steady: always: covers the runs outside the phases given" 1 "$rc"
check_match "steady: those are 'at other times'" \
	'expected to fail at other times, but passed' "$(jq -r .verdict_detail "$T/inverse.json")"

steady_file plain '{ exit: 0 }'
"$FAULTLINE_TEST" run --quiet plain.yaml > /dev/null 2>&1; rc=$?
check_eq "steady: without phases every run must pass, as before" 1 "$rc"
check_match "steady: and the verdict says the failures" \
	'^probe api: expected to pass always, but failed' "$(jq -r .verdict_detail "$T/plain.json")"

# A run that starts before cut and ends after cut is applied saw both
# phases: it is not judged (it would fail "before" otherwise).
rm -f "$T/cutf"
cat > "$T/across.yaml" <<YAML
name: across
duration: 3s
faults:
  - name: cut
    test: { file: $T/cutf, value: CUT }
    at: 1s
    for: 1s
probes:
  - name: api
    exec: [sh, -c, "sleep 0.5; ! grep -q CUT $T/cutf"]
    every: 700ms
    timeout: 700ms
    expect: { before: pass, during: { cut: fail }, after: pass }
report: { json: $T/across.json }
YAML
out=$("$FAULTLINE_TEST" run across.yaml 2>&1); rc=$?
check_eq "steady: a run across cut's apply does not fail the drill" 0 "$rc"
check_eq "steady: it is counted apart, its result marked" "true|true" \
	"$(jq -r '.probes[0] | "\(.across >= 1)|\([.results[] | select(.across)] | length >= 1)"' "$T/across.json")"
check_match "steady: the summary says so" \
	'^ +[0-9]+ run\(s\) saw a fault begin or end under them \(not judged\)$' "$out"

# --- The live view says a fault is late (on a terminal: tmux). -------------
if command -v tmux >/dev/null; then
	sock=fl-rt-$$
	tm() { tmux -L "$sock" -f /dev/null "$@"; }
	at_exit "tmux -L $sock -f /dev/null kill-server"
	tm new-session -d -s late -x 160 -y 40 \
		"cd $T && LANG=C $FAULTLINE_TEST run late.yaml; echo \$? > $T/live.exit; sleep 600"
	for ((i = 0; i < 100; i++)); do [ -s "$T/live.exit" ] && break; sleep 0.2; done
	scr=$(tm capture-pane -p -t late)
	check_match "live: cut's row is marked LATE" '^cut +[a-z]+ +[0-9:-]+ +LATE 1\.[0-9]s' "$scr"
	check_match "live: the summary under the last frame has the warning" \
		'^  WARNING: fault cut: applied at \+2\.[0-9]{3}s, 1\.[0-9]{3}s late' "$scr"
	check_match "live: ontime's row is not marked" '^ontime +reverted +[0-9:-]+ +\(no live' "$scr"
else
	skip "live: a late fault" "tmux is not installed (tools/deps)"
fi
