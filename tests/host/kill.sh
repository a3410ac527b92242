#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kill fault on this machine, each death proven by the exit status
# seen as the victim exits: a pid (alone, and its tree with
# follow-forks), a cgroup's processes (all, oldest, newest, and random
# drawn from the seed: the same seed, the same victim), a command
# started again (restart: true) and killed at each occurrence of a
# repeat; SIGTERM handled (an exit status) and ignored (the expectation
# fails); the proof through the proc connector and without any (not
# proven, saying why); the refusals (init, a kernel thread, faultline's
# ancestor, another run of another copy of faultline, a cgroup holding
# faultline); kill -9 of the runner and of
# both, after which nothing is signalled again; and
# examples/kill-db-mid-request.yaml.  Only processes this script starts
# are killed.  tests/vm/kill.sh runs it on pure cgroup v2.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run
[ "$(id -u)" = 0 ] || { skip "kill" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "kill: $FAULTLINE is built"; exit 1; }
# The cgroups the test makes: in the v2 hierarchy, else the memory one.
root=$(unified_mount)
[ -n "$root" ] || root=$(memory_mount)
pids=()
cg=
at_exit 'for p in "${pids[@]}"; do kill -9 $p; done; sleep 0.2; [ -n "$cg" ] && rmdir "$cg"'

# sleeper: a process of the test's, sets p.
sleeper() { sleep 1000 & p=$!; pids+=("$p"); }
# nkids PID N: PID has N children; nprocs N: the test's cgroup holds N.
# (For wait_for: a "$(...)" in its arguments would be read only once.)
nkids() { [ "$(pgrep -c -P "$1")" = "$2" ]; }
nprocs() { [ "$(wc -l <"$cg/cgroup.procs")" = "$1" ]; }
# rep FILE EXPR: a Python expression over the report (r), its first
# fault's observed (o) and victims (v).
rep() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); o = r["faults"][0].get("observed", {})
v = o.get("victims", [])
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
# kill_drill FILE TARGET-YAML [KILL-EXTRA]: one kill fault on target t at
# 200 ms, watched for 1 s.
kill_drill() {
	drill "$1" killtest 1500ms "t: $2"
	fault "$1" boom "kill: { target: t${3:+, $3} }" 'at: 200ms' 'for: 1s'
}

# -- doctor says how deaths will be proven -----------------------------------
cons=$("$FAULTLINE" doctor --json 2>/dev/null | python3 -c 'import json, sys
for c in json.load(sys.stdin)["consequences"]:
    print("%s: %s: %s" % (c["area"], c["status"], c["detail"]))')
if [ "$(fact bpf.tp_btf.available)" = true ]; then
	check_match "kill: doctor says each death will be proven" \
		'^kill proof: available: .*captured as it exits' "$cons"
else
	check_match "kill: doctor says deaths are proven through the proc connector, or not proven" \
		'^kill proof: (available: .*proc connector|[a-z]+: no exit capture)' "$cons"
fi

# -- A pid, SIGKILL ------------------------------------------------------------
sleeper
kill_drill "$T/pid.yaml" "{ pid: $p }"
out=$("$FAULTLINE" plan "$T/pid.yaml" 2>&1)
check_match "kill pid: plan names the victim" "SIGKILL to PID $p \(sleep\)" "$out"
"$FAULTLINE" run --json --report "$T/pid.json" "$T/pid.yaml" >"$T/pid.out" 2>&1; rc=$?
check_eq "kill pid: run exits 0" 0 "$rc"
check "kill pid: the process is dead" gone "$p"
check_eq "kill pid: the report proves it: pid, comm, signal 9 seen at the exit" \
	"$p sleep SIGKILL 9 True killed by SIGKILL" \
	"$(rep "$T/pid.json" '" ".join(str(x) for x in (v[0]["pid"], v[0]["comm"], v[0]["signal"], v[0].get("exit_signal"), v[0]["proven"], v[0]["how"]))')"
check_match "kill pid: the proof names the exit watcher" \
	"^(tp_btf on sched_process_exit|the proc connector)" "$(rep "$T/pid.json" 'o["proof"]')"
check_match "kill pid: the expectation says killed by SIGKILL, proven" \
	"^PID $p \(sleep\) killed by SIGKILL .* after the signal; proven by its exit status\$" \
	"$(rep "$T/pid.json" 'o["expectation"]["detail"]')"
check_match "kill pid: the SVG timeline has the kill colour" '#c0392b' \
	"$(cat "$T/pid.svg" 2>/dev/null)"
check "kill pid: no journal left" no_runs

# -- A pid's tree with follow-forks ---------------------------------------------
bash -c 'sleep 1000 & sleep 1000 & wait' &
p=$!; pids+=("$p")
wait_for 3 nkids "$p" 2
kids=$(pgrep -P "$p" | sort -n | tr '\n' ' ')
kill_drill "$T/tree.yaml" "{ pid: $p }" "follow-forks: true"
"$FAULTLINE" run --report "$T/tree.json" "$T/tree.yaml" >/dev/null 2>&1; rc=$?
check_eq "kill tree: run exits 0" 0 "$rc"
check_eq "kill tree: the process and both children were killed, each proven" \
	"$(echo "$p $kids" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')3 True" \
	"$(rep "$T/tree.json" '" ".join(str(x) for x in sorted(x["pid"] for x in v)) + " " + str(len(v)) + " " + str(all(x["proven"] and x.get("exit_signal") == 9 for x in v))')"

# -- A cgroup: all, oldest, newest, random ------------------------------------
cg=$root/fltest-kill-$$
mkdir "$cg" || { notok "kill: make $cg"; exit 1; }
# three: three sleepers in the cgroup, oldest first; sets three.
three() {
	local i
	three=
	for i in 1 2 3; do
		bash -c 'echo $$ >"$1/cgroup.procs"; exec sleep 1000' _ "$cg" &
		pids+=($!); three="$three $!"
		msleep 30
	done
	three=${three# }
	wait_for 3 nprocs 3
}
nth() { echo "$three" | cut -d' ' -f"$1"; }
three
kill_drill "$T/cg.yaml" "{ cgroup: $cg }"
"$FAULTLINE" run --report "$T/cg.json" "$T/cg.yaml" >/dev/null 2>&1; rc=$?
check_eq "kill cgroup: run exits 0" 0 "$rc"
check_eq "kill cgroup: every process of it killed, each proven" "$three True" \
	"$(rep "$T/cg.json" '" ".join(str(x["pid"]) for x in v) + " " + str(all(x["proven"] for x in v))')"
check_eq "kill cgroup: it is empty" 0 "$(wc -l <"$cg/cgroup.procs")"
for pick in oldest newest; do
	three
	kill_drill "$T/cg.yaml" "{ cgroup: $cg }" "pick: $pick"
	"$FAULTLINE" run --report "$T/cg.json" "$T/cg.yaml" >/dev/null 2>&1
	want=$(nth 1); [ $pick = newest ] && want=$(nth 3)
	check_eq "kill cgroup: pick: $pick kills PID $want alone" "$want 1 2" \
		"$(rep "$T/cg.json" 'v[0]["pid"], len(v)' | tr -d '(),') $(wc -l <"$cg/cgroup.procs")"
	kill $(cat "$cg/cgroup.procs")
	wait_for 3 nprocs 0
done
# random: the seed's draw, the same for the same seed; the report says it.
three
kill_drill "$T/rnd.yaml" "{ cgroup: $cg }" "pick: random"
out=$("$FAULTLINE" plan --seed 7 "$T/rnd.yaml" 2>&1)
planned=$(sed -n 's/.*SIGKILL to PID \([0-9]*\).*drawn from the seed.*/\1/p' <<<"$out")
idx=$(echo "$three" | tr ' ' '\n' | grep -nx "$planned" | cut -d: -f1)
check "kill random: plan names the victim drawn from the seed" test -n "$idx"
"$FAULTLINE" run --seed 7 --report "$T/rnd.json" "$T/rnd.yaml" >/dev/null 2>&1
check_eq "kill random: run kills the planned one, and the report gives the seed" \
	"$planned 7 random" "$(rep "$T/rnd.json" 'str(v[0]["pid"]) + " " + str(o["seed"]) + " " + o["pick"]')"
kill $(cat "$cg/cgroup.procs"); wait_for 3 nprocs 0
three
"$FAULTLINE" run --seed 7 --report "$T/rnd2.json" "$T/rnd.yaml" >/dev/null 2>&1
check_eq "kill random: the same seed kills the same one of three again" \
	"$(nth "$idx")" "$(rep "$T/rnd2.json" 'v[0]["pid"]')"
kill $(cat "$cg/cgroup.procs"); wait_for 3 nprocs 0

# -- SIGTERM: handled (an exit status), ignored (the expectation fails) ------
bash -c 'trap "exit 3" TERM; while :; do sleep 0.05; done' &
p=$!; pids+=("$p")
kill_drill "$T/term.yaml" "{ pid: $p }" "signal: TERM"
"$FAULTLINE" run --report "$T/term.json" "$T/term.yaml" >/dev/null 2>&1; rc=$?
check_eq "kill TERM handled: run exits 0, the exit status seen" \
	"0 exited with status 3 3 True" \
	"$rc $(rep "$T/term.json" 'v[0]["how"] + " " + str(v[0].get("exit_status")) + " " + str(v[0]["proven"])')"
bash -c 'trap "" TERM; while :; do sleep 0.05; done' &
p=$!; pids+=("$p")
kill_drill "$T/ign.yaml" "{ pid: $p }" "signal: SIGTERM"
out=$("$FAULTLINE" run --report "$T/ign.json" "$T/ign.yaml" 2>&1); rc=$?
check_eq "kill TERM ignored: the expectation fails (exit 1)" 1 "$rc"
check_match "kill TERM ignored: the summary says it is still alive" \
	"EXPECTATION FAILED: PID $p \(bash\) still alive" "$out"
check_match "kill TERM ignored: not proven, saying why" "no exit within the fault's window" \
	"$(rep "$T/ign.json" 'v[0]["why"]')"
kill -9 "$p"

# -- The proof's fallbacks -----------------------------------------------------
sleeper
kill_drill "$T/cn.yaml" "{ pid: $p }"
FAULTLINE_KILL_EXIT_CAPTURE=connector "$FAULTLINE" run --report "$T/cn.json" "$T/cn.yaml" >/dev/null 2>&1
check_eq "kill: through the proc connector the death is proven too" \
	"the proc connector (PROC_EVENT_EXIT) 9 True" \
	"$(rep "$T/cn.json" 'o["proof"] + " " + str(v[0].get("exit_signal")) + " " + str(v[0]["proven"])')"
sleeper
kill_drill "$T/off.yaml" "{ pid: $p }"
FAULTLINE_KILL_EXIT_CAPTURE=off "$FAULTLINE" run --report "$T/off.json" "$T/off.yaml" >/dev/null 2>&1; rc=$?
check_eq "kill: without an exit watcher the death is seen, not proven, and says why" \
	"0 True False" "$rc $(rep "$T/off.json" 'str(v[0]["dead"]) + " " + str(v[0]["proven"])')"
check_match "kill: the why names the pidfd and the disabled watcher" \
	"pidfd saw it exit.*disabled by FAULTLINE_KILL_EXIT_CAPTURE=off" "$(rep "$T/off.json" 'v[0]["why"]')"

# -- Refusals ------------------------------------------------------------------
# refused NAME TARGET-YAML ERE
refused() {
	kill_drill "$T/no.yaml" "$2"
	out=$("$FAULTLINE" plan "$T/no.yaml" 2>&1); rc=$?
	check_eq "kill refuses $1 at plan (exit 3)" 3 "$rc"
	check_match "kill refuses $1, saying why" "$3" "$out"
}
refused "init" "{ pid: 1 }" "PID 1 .* is init"
kt=$(pgrep -P 2 | head -1)
if [ -n "$kt" ]; then
	refused "a kernel thread" "{ pid: $kt }" "PID $kt .* is a kernel thread"
else
	skip "kill refuses a kernel thread" "no child of kthreadd (PID 2) in this PID namespace"
fi
refused "faultline's ancestor (this script)" "{ pid: $$ }" "PID $$ .* is an ancestor of faultline"
# Another run, from another copy of faultline's program.
mkdir -p "$T/bin" && cp "$FAULTLINE" "$T/bin/faultline"
kill_drill "$T/other.yaml" "{ command: [sleep, '1000'] }"
sed -i 's/^duration: .*/duration: 1m/; s/at: 200ms/at: 50s/' "$T/other.yaml"
: >"$T/other.out"
"$T/bin/faultline" run --json "$T/other.yaml" >"$T/other.out" 2>&1 &
other=$!; pids+=("$other")
wait_for 5 grep -qs '"event":"run"' "$T/other.out"
refused "another faultline run" "{ pid: $other }" \
	"PID $other \(faultline\) is a faultline process"
kill -TERM "$other"; wait "$other"; rc=$?
check_eq "kill: that run lives, and stops on SIGTERM (exit 143)" 143 "$rc"
# A cgroup that holds faultline itself and a sleeper: refused by run's
# check (exit 3) when faultline starts in it, and at apply (exit 4) when
# it moves in after the check; nothing killed either way.
sleeper
echo "$p" >"$cg/cgroup.procs"
kill_drill "$T/self.yaml" "{ cgroup: $cg }"
out=$(bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
	"$FAULTLINE" run "$T/self.yaml" 2>&1); rc=$?
check_eq "kill refuses a cgroup that holds faultline at check (exit 3)" 3 "$rc"
check_match "kill refuses a cgroup that holds faultline, saying why" \
	"PID [0-9]+ \(faultline\) is faultline itself" "$out"
drill "$T/self.yaml" killself 2s "t: { cgroup: $cg }"
fault "$T/self.yaml" boom "kill: { target: t }" 'at: 1s' 'for: 500ms'
"$FAULTLINE" run --json "$T/self.yaml" >"$T/self.out" 2>&1 &
runner=$!
wait_for 5 grep -qs '"event":"run"' "$T/self.out"
echo "$runner" >"$cg/cgroup.procs"
wait "$runner"; rc=$?
check_eq "kill refuses a cgroup that holds faultline at apply too (exit 4)" 4 "$rc"
check_match "kill refuses at apply, saying why" \
	'"event":"apply-failed".*PID '"$runner"' \(faultline\) is faultline itself' "$(cat "$T/self.out")"
check "kill refuses a cgroup that holds faultline: its other process lives" kill -0 "$p"
kill -9 "$p"

# -- A command started again, killed at each occurrence ------------------------
drill "$T/rep.yaml" killrep 2500ms "t: { command: [sleep, '1000'], restart: true }"
fault "$T/rep.yaml" boom "kill: { target: t }" 'at: 200ms' 'repeat: { every: 700ms, for: 300ms, times: 3 }'
check_match "kill repeat: plan says the command is started again" \
	'^  t +command +sleep 1000  \(run starts it, and again each time it exits\)$' \
	"$("$FAULTLINE" plan "$T/rep.yaml" 2>&1)"
"$FAULTLINE" run --json --report "$T/rep.json" "$T/rep.yaml" >"$T/rep.out" 2>&1; rc=$?
check_eq "kill repeat: run exits 0" 0 "$rc"
check_eq "kill repeat: three occurrences, each killed another pid, each proven" "3 3 True" \
	"$(rep "$T/rep.json" 'len(r["faults"][0]["occurrences"]), len(set(oc["observed"]["victims"][0]["pid"] for oc in r["faults"][0]["occurrences"])), all(oc["observed"]["victims"][0]["proven"] for oc in r["faults"][0]["occurrences"])' | tr -d '(),')"
check_eq "kill repeat: the command was started again three times, each victim the last one started" "3 True" \
	"$(rep "$T/rep.json" 'len(r["targets_restarted"]), [x["pid"] for x in r["targets_restarted"]] == [oc["observed"]["victims"][0]["pid"] for oc in r["faults"][0]["occurrences"]]' | tr -d '(),')"
# Live counters: a victim that takes a second to die after SIGTERM, so
# that its death comes after the apply's first reading even on a slow
# machine (under ASan the SIGKILLed one died before it).
drill "$T/live.yaml" killlive 3s "t: { command: [sh, -c, 'trap \"sleep 1; exit 0\" TERM; while :; do sleep 0.1; done'] }"
fault "$T/live.yaml" boom "kill: { target: t, signal: TERM }" 'at: 300ms' 'for: 2500ms'
"$FAULTLINE" run --json --report "$T/live.json" "$T/live.yaml" >"$T/live.out" 2>&1
check_match "kill: live counters count the dead" '"event":"progress".*"dead":[1-9]' "$(cat "$T/live.out")"
drill "$T/norestart.yaml" killone 1500ms "t: { command: [sleep, '1000'] }"
fault "$T/norestart.yaml" boom "kill: { target: t }" 'at: 200ms' 'for: 1s'
"$FAULTLINE" run --json --report "$T/nr.json" "$T/norestart.yaml" >"$T/nr.out" 2>&1
check_eq "kill: without restart: the command stays dead" "0 0" \
	"$(rep "$T/nr.json" 'len(r["targets_restarted"])') $(grep -c '"event":"target-restarted"' "$T/nr.out")"

# -- A crash: nothing is signalled again ------------------------------------
# counter: a process that counts the SIGTERMs it gets in FILE and lives on.
cat >"$T/counter.sh" <<'SH'
n=0
trap 'n=$((n + 1)); echo $n >"$1"' TERM
while :; do sleep 0.05; done
SH
bash "$T/counter.sh" "$T/terms" &
p=$!; pids+=("$p")
drill "$T/crash.yaml" crash 60s "t: { pid: $p }"
fault "$T/crash.yaml" boom "kill: { target: t, signal: TERM }" 'at: 0s'
start_bg "$T/crash.yaml"
wait_for 3 is "$T/terms" 1
check_eq "kill crash: the drill sent one SIGTERM" 1 "$(content "$T/terms")"
kill -9 "$runner"
wait_for 10 no_runs
msleep 300
check "kill -9 of the runner: the guardian drops the record" no_runs
check_eq "kill -9 of the runner: nothing was signalled again" 1 "$(content "$T/terms")"
start_bg "$T/crash.yaml"
wait_for 3 is "$T/terms" 2
kill_both "$runner" "$guardian"
sleep 0.3
rec=$(ls "$(run_dir)"/0*.json 2>/dev/null | head -1)
check_match "kill -9 of both: the record names the victim by pid and start time" \
	"\"pid\": *$p" "$(cat "$rec" 2>/dev/null)"
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "recover: exits 0" 0 "$rc"
msleep 300
check_eq "recover: sends nothing again" 2 "$(content "$T/terms")"
check "recover: no journal left" no_runs
kill -9 "$p"

# -- The cookbook entry ---------------------------------------------------------
check_status "examples/kill-db-mid-request.yaml validates" 0 "$FAULTLINE" validate "$SRC/examples/kill-db-mid-request.yaml"
out=$("$FAULTLINE" plan "$SRC/examples/kill-db-mid-request.yaml" 2>&1); rc=$?
check_eq "examples/kill-db-mid-request.yaml plans (exit 0)" 0 "$rc"
check_match "examples/kill-db-mid-request.yaml: kills the database at 15 s" "\+15s +apply +kill-db +kill via" "$out"
