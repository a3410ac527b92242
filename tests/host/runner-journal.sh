#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The journal, status, recover, the guardian and locks (test engine).
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE_TEST" ] || { skip "runner journal" "no $FAULTLINE_TEST (make tests)"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "runner journal" "root"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
cd "$T"

# start FILE: run it in the background; sets pid and guardian.
start() {
	"$FAULTLINE_TEST" run "$1" > "$T/run.out" 2> "$T/run.err" &
	pid=$!; at_exit "kill -9 $pid"
	wait_for 3 is "$T/a" A
	guardian=$(guardian_of)
	[ -n "$guardian" ] && [ "$guardian" != 0 ] && at_exit "kill -9 $guardian"
}

test_drill "$T/long.yaml" long 60s a "$T/a" A 0s

# --- While a run is active: its undo record, status. -----------------------
echo prior-a > "$T/a"
start long.yaml
dir=$(run_dir)
check "journal: the run folder is mode 0700" test "$(stat -c %a "$dir")" = 700
rec=$(ls "$dir" | grep -E '^[0-9]{4}-a\.json$')
check_eq "journal: one undo record for the applied fault" "0001-a.json" "$rec"
rec=$(tr -d ' \n' < "$dir/$rec")
check_match "journal: the record holds the saved prior state" \
	'"engine":"test","fault":"a","seq":1,.*"state":\{"file":"[^"]*/a","existed":true,"content":"prior-a\\n"' "$rec"
check_match "journal: run.json names the runner" "\"pid\":$pid," "$(tr -d ' \n' < "$dir/run.json")"
check "journal: run.json names a live guardian" kill -0 "$guardian"
out=$("$FAULTLINE_TEST" status); rc=$?
check_eq "status: exit 0" 0 "$rc"
check_match "status: shows the active run" "^run $(basename "$dir")  pid $pid  guardian $guardian  alive$" "$out"
check_match "status: and the fault it holds" '^    a \(test\)' "$out"
check_match "status --json: alive" '"alive":true' "$(tr -d ' \n' <<<"$("$FAULTLINE_TEST" status --json)")"
out=$("$FAULTLINE_TEST" recover "$(basename "$dir")" 2>&1); rc=$?
check_eq "recover: refuses a live run" 3 "$rc"
check_match "recover: says why" 'is alive' "$out"
check_eq "recover: the live run's fault is untouched" A "$(content "$T/a")"
# Its run.json deleted under it (an rm -rf that raced a new record leaves
# the folder with the record alone): the pid in the run's id is alive and
# is faultline, so recover still leaves the run to itself.
mv "$dir/run.json" "$T/run.json.keep"
out=$("$FAULTLINE_TEST" recover 2>&1); rc=$?
check_match "recover: a live run without its run.json is alive (its id names the runner)" \
	"run $(basename "$dir") is alive \(runner $pid," "$out"
check_eq "recover: and its fault is untouched" A "$(content "$T/a")"
mv "$T/run.json.keep" "$dir/run.json"
# The same after an upgrade replaced faultline's file during the run: the
# runner's exe then reads "PATH (deleted)", and it is still faultline.
mkdir -p "$T/bin" && cp "$FAULTLINE_TEST" "$T/bin/fl"
test_drill "$T/up.yaml" up 60s u "$T/u" U 0s
FAULTLINE_RUNDIR=$T/run-up "$T/bin/fl" run up.yaml >"$T/up.out" 2>&1 &
up=$!; at_exit "kill -9 $up"
wait_for 3 is "$T/u" U
g=$(guardian_of "$T/run-up"); [ -n "$g" ] && at_exit "kill -9 $g"
cp "$FAULTLINE_TEST" "$T/bin/fl.new" && mv -f "$T/bin/fl.new" "$T/bin/fl"
updir=$(run_dir "$T/run-up")
mv "$updir/run.json" "$T/up.json.keep"
out=$(FAULTLINE_RUNDIR=$T/run-up "$T/bin/fl" recover 2>&1)
check_match "recover: and so is one whose faultline file an upgrade replaced" \
	"run $(basename "$updir") is alive \(runner $up," "$out"
check_eq "recover: its fault untouched too" U "$(content "$T/u")"
mv "$T/up.json.keep" "$updir/run.json"
kill -TERM "$up"; wait "$up"
check_eq "recover: that run, stopped, put its fault back" "<absent>" "$(content "$T/u")"

# --- Locks: a second run on the same resource is refused. ----------------
test_drill "$T/same.yaml" same 1s a2 "$T/a" OTHER 0s
out=$("$FAULTLINE_TEST" run same.yaml 2>&1); rc=$?
check_eq "locks: a run on a busy resource is refused" 3 "$rc"
check_match "locks: with a clear error" "busy: file:$T/a is held by run $(basename "$dir")" "$out"
check_eq "locks: the first run's fault is untouched" A "$(content "$T/a")"
test_drill "$T/other.yaml" other 300ms o "$T/o" O 0s
check_status "locks: a run on another resource goes ahead" 0 "$FAULTLINE_TEST" run -q other.yaml

# --- The guardian reverts after kill -9 of the runner. -------------------
t0=$(now_ms)
kill -9 "$pid"
wait "$pid" 2>/dev/null
wait_for 3 is "$T/a" prior-a
ms=$(($(now_ms) - t0))
check_eq "guardian: the file is restored after kill -9 of the runner" prior-a "$(content "$T/a")"
check "guardian: within a second or two (${ms}ms)" test "$ms" -lt 2000
wait_for 2 no_runs
check_eq "guardian: the journal is emptied" 0 "$(runs_left)"
wait_for 2 gone "$guardian"
check "guardian: exits afterwards" gone "$guardian"
check_match "guardian: says what it did" 'guardian.*the runner died; reverted 1 fault' "$(cat "$T/run.err")"

# --- recover after kill -9 of both the guardian and the runner. -----------
start long.yaml
dir=$(run_dir)
kill -9 "$guardian" "$pid"
wait "$pid" 2>/dev/null
wait_for 2 gone "$guardian"
sleep 0.3
check_eq "recover: with both dead, the fault stays" A "$(content "$T/a")"
out=$("$FAULTLINE_TEST" status)
check_match "status: a dead run says how to recover it" \
	"dead: run 'faultline recover $(basename "$dir")'" "$out"
test_drill "$T/same.yaml" same 1s a2 "$T/a" OTHER 0s
out=$("$FAULTLINE_TEST" run same.yaml 2>&1); rc=$?
check_eq "locks: a dead run's records also hold the resource" 3 "$rc"
check_match "locks: and the error says to recover" "run 'faultline recover $(basename "$dir")' first" "$out"
# A binary without the test engine must not claim success.
if [ -x "$FAULTLINE" ]; then
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "recover: a record of an unknown engine fails" 4 "$rc"
	check_match "recover: naming the record" "0001-a.json" "$out"
	check_match "recover: and the engine" "engine 'test' is not part of this faultline binary" "$out"
	check "recover: the record stays" test -e "$dir/0001-a.json"
fi
# A revert that fails: the file is a folder now, so the write back fails.
mv "$T/a" "$T/a.file" && mkdir "$T/a"
out=$("$FAULTLINE_TEST" recover 2>&1); rc=$?
check_eq "recover: a failed revert is exit 4" 4 "$rc"
check_match "recover: says the fault was NOT reverted, and why" \
	"run $(basename "$dir"): fault a \(test\) was NOT reverted: test revert failed: Is a directory" "$out"
check_match "recover: says where the record stays" \
	"the record stays in $dir/0001-a.json" "$out"
check_match "recover: and what may be left" \
	"what may be left on this machine: .*\"file\":\"$T/a\"" "$out"
check "recover: the failed record stays" test -e "$dir/0001-a.json"
check_match "recover: and says to run it again" \
	"fix the cause and run 'faultline recover $(basename "$dir")' again" "$out"
rmdir "$T/a" && mv "$T/a.file" "$T/a"
out=$("$FAULTLINE_TEST" recover 2>&1); rc=$?
check_eq "recover: exit 0" 0 "$rc"
check_match "recover: says what it reverted" "run $(basename "$dir"): fault a \(test\) reverted" "$out"
check_eq "recover: the file is restored" prior-a "$(content "$T/a")"
check_eq "recover: the journal is empty" 0 "$(runs_left)"
out=$("$FAULTLINE_TEST" recover 2>&1); rc=$?
check_eq "recover twice: a no-op, exit 0" 0 "$rc"
check_match "recover twice: nothing to do" '^nothing to recover' "$out"
out=$("$FAULTLINE_TEST" recover "$(basename "$dir")" 2>&1); rc=$?
# A run recovered is gone: its id is unknown now, exit 2 (issue 16).
check_eq "recover RUN twice: the run is unknown now, exit 2" 2 "$rc"
check_match "recover RUN twice: says so" "no run $(basename "$dir") in .*a run already recovered is no longer listed" "$out"
check_eq "recover twice: the file is as it was" prior-a "$(content "$T/a")"

# --- The guardian enforces the deadline. -----------------------------------
# The runner hangs in apply for 60s; the drill lasts 1s.
echo prior-a > "$T/a"
cat > "$T/hang.yaml" <<YAML
name: hang
duration: 1s
faults:
  - name: a
    test: { file: $T/a, value: A, apply-delay: 60s }
    at: 0s
YAML
t0=$(now_ms)
start hang.yaml
{ wait "$pid"; } 2>/dev/null; rc=$?
ms=$(($(now_ms) - t0))
check_eq "deadline: the guardian SIGKILLs the runner" 137 "$rc"
check "deadline: soon after duration + grace (${ms}ms)" test "$ms" -lt 5000
check "deadline: not before the drill's end (${ms}ms)" test "$ms" -ge 1000
wait_for 2 is "$T/a" prior-a
check_eq "deadline: the guardian reverts" prior-a "$(content "$T/a")"
wait_for 2 no_runs
check_eq "deadline: the journal is emptied" 0 "$(runs_left)"
check_match "deadline: the guardian says so" 'killed at the deadline; reverted 1 fault' "$(cat "$T/run.err")"

# The engines' prepare runs after the guardian is given its deadline: the
# time it takes moves the deadline (a 1s drill whose prepare takes 3s is
# not killed at 1s + its 2s grace).
cat > "$T/slowprep.yaml" <<YAML
name: slowprep
duration: 1s
faults:
  - name: a
    test: { file: $T/a, value: A, prepare-delay: 3s }
    at: 0s
YAML
"$FAULTLINE_TEST" run -q slowprep.yaml > "$T/run.out" 2> "$T/run.err"; rc=$?
check_eq "deadline: a slow prepare moves it (exit 0, not killed)" 0 "$rc"
check_eq "deadline: after a slow prepare, the file is as before" prior-a "$(content "$T/a")"
check_eq "deadline: after a slow prepare, the journal is empty" 0 "$(runs_left)"
