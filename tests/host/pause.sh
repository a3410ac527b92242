#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The pause fault on this machine: a cgroup frozen with the v2 freezer
# (cgroup.freeze) and with the v1 freezer (freezer.state) where each is
# mounted, a process tree stopped with SIGSTOP (follow-forks on and off),
# each proven by a ticker that stops ticking and ticks again after the
# thaw; the refusals of a target someone else froze or stopped (never
# thawed by us); the guardian's thaw after kill -9 of the runner,
# recover's after kill -9 of both, a reused pid never signalled, recover
# naming a frozen cgroup whose journal is lost; someone else's thaw
# failing the drill; and examples/hung-db.yaml.  Only cgroups and
# processes this script makes are frozen.  tests/vm/pause.sh runs it on
# pure cgroup v2.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run
[ "$(id -u)" = 0 ] || { skip "pause" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "pause: $FAULTLINE is built"; exit 1; }
v2=$(unified_mount)
v1=
[ "$(fact cgroups.controllers.freezer.mode)" = v1 ] &&
	v1=$(fact_path cgroups.controllers.freezer.mount)
name=fltest-pause-$$
pids=()
cgs=()

cleanup() {
	local p c
	for p in "${pids[@]}"; do kill -CONT "$p"; kill -9 "$p"; done
	for c in "${cgs[@]}"; do
		[ -e "$c/cgroup.freeze" ] && echo 0 >"$c/cgroup.freeze"
		[ -e "$c/freezer.state" ] && echo THAWED >"$c/freezer.state"
	done
	sleep 0.2
	for ((p = ${#cgs[@]} - 1; p >= 0; p--)); do rmdir "${cgs[p]}"; done
}
at_exit cleanup

# mkcg PATH: a cgroup of the test's, removed at exit.
mkcg() { mkdir "$1" && cgs+=("$1"); }

# ticker FILE [CGROUP]: a process that writes a growing number to FILE
# every 50 ms (in CGROUP when given); sets tick.
ticker() {
	bash -c '[ -z "$2" ] || echo $$ >"$2/cgroup.procs"; i=0
		while :; do i=$((i + 1)); echo $i >"$1"; sleep 0.05; done' _ "$1" "${2:-}" &
	tick=$!
	pids+=("$tick")
	wait_for 3 test -s "$1"
}
# ticking FILE: its number changes within 600 ms; still FILE: it does not.
ticking() { local a; a=$(cat "$1"); msleep 600; [ "$(cat "$1")" != "$a" ]; }
still() { local a; a=$(cat "$1"); msleep 600; [ "$(cat "$1")" = "$a" ]; }
# state PID: its state letter; is_stopped PID: it is T.
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
is_stopped() { [ "$(state "$1")" = T ]; }
# obs REPORT EXPR: a Python expression over the first fault's observed (o).
obs() {
	python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))["faults"][0].get("observed", {})
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
# frozen_file MODE: the file that says whether it is frozen, and values.
freeze_file() { [ "$1" = v2 ] && echo cgroup.freeze || echo freezer.state; }
frozen_val() { [ "$1" = v2 ] && echo 1 || echo FROZEN; }
thawed_val() { [ "$1" = v2 ] && echo 0 || echo THAWED; }
xattr() { python3 -c 'import os, sys
try: print(os.getxattr(sys.argv[1], "trusted.faultline.pause").decode())
except OSError: print("none")' "$1"; }

# pause_drill FILE TARGET-YAML [FOR] [PAUSE-EXTRA]: a drill of one pause
# fault on target t, at 300ms for FOR ms (3000: time for the checks
# under TCG), 1s after it ends.
pause_drill() {
	local f=${3:-3000}
	drill "$1" pausetest "$((f + 1300))ms" "t: $2"
	fault "$1" hang "pause: { target: t${4:+, $4} }" 'at: 300ms' "for: ${f}ms"
}

# -- A frozen cgroup, v2 and v1 ---------------------------------------------
# freezer_case MODE ROOT
freezer_case() {
	local mode=$1 cg=$2/$name-$1 ff fv tv rc out
	ff=$(freeze_file "$mode") fv=$(frozen_val "$mode") tv=$(thawed_val "$mode")
	mkcg "$cg" || { notok "pause $mode: make $cg"; return; }
	ticker "$T/tick-$mode" "$cg"
	pause_drill "$T/$mode.yaml" "{ cgroup: $cg }"
	out=$("$FAULTLINE" plan "$T/$mode.yaml" 2>&1)
	check_match "pause $mode: plan names the freezer" "pause via cgroup $mode freezer" "$out"
	"$FAULTLINE" run --json --report "$T/$mode.json" "$T/$mode.yaml" >"$T/$mode.out" 2>&1 &
	local runner=$!
	wait_for 5 is "$cg/$ff" "$fv"
	check_eq "pause $mode: $ff says $fv during the fault" "$fv" "$(content "$cg/$ff")"
	[ "$mode" = v2 ] && check_eq "pause v2: cgroup.events says frozen 1" "frozen 1" \
		"$(grep frozen "$cg/cgroup.events")"
	check "pause $mode: the ticker stops ticking" still "$T/tick-$mode"
	check_eq "pause $mode: the cgroup is marked with the run's id" \
		"$(basename "$(run_dir)")" "$(xattr "$cg")"
	wait "$runner"; rc=$?
	check_eq "pause $mode: run exits 0" 0 "$rc"
	check_eq "pause $mode: $ff says $tv after revert" "$tv" "$(content "$cg/$ff")"
	check "pause $mode: the ticker ticks again" ticking "$T/tick-$mode"
	check_eq "pause $mode: the mark is gone" none "$(xattr "$cg")"
	# The ticker, and the sleep it may be in.
	check_eq "pause $mode: the report says what was frozen, how long, and that it thawed" \
		"$cg True True True True" \
		"$(obs "$T/$mode.json" 'o["cgroup"], o["held"], o["thawed"], 2.5 < o["frozen_s"] < 4, '"$tick"' in o["pids"]' | tr -d "(),'")"
	check_match "pause $mode: live progress counts the frozen processes" \
		'"event":"progress".*"frozen":true.*"processes":[12]' "$(cat "$T/$mode.out")"
	check_match "pause $mode: the SVG timeline has the pause colour" '#3498db' \
		"$(cat "$T/$mode.svg" 2>/dev/null)"
	check "pause $mode: no journal left" no_runs
}
if [ -n "$v2" ]; then freezer_case v2 "$v2"
else skip "pause v2" "no cgroup v2 hierarchy (cgroups.unified_mount)"; fi
if [ -n "$v1" ]; then freezer_case v1 "$v1"
else skip "pause v1" "no v1 freezer controller (cgroups.controllers.freezer.mode)"; fi

# -- A command faultline starts: its scratch cgroup freezes ---------------------
if [ -n "$v2" ]; then
	echo 'i=0; while :; do i=$((i + 1)); echo $i >"$1"; sleep 0.05; done' >"$T/cmd.sh"
	drill "$T/cmd.yaml" pausecmd 4500ms "t: { command: [bash, $T/cmd.sh, $T/tick-cmd] }"
	fault "$T/cmd.yaml" hang 'pause: { target: t }' 'at: 500ms' 'for: 3s'
	"$FAULTLINE" run --json --report "$T/cmd.json" "$T/cmd.yaml" >"$T/cmd.out" 2>&1 &
	runner=$!
	wait_for 5 grep -qs '"event":"applied"' "$T/cmd.out"
	check "pause command: the ticker stops ticking" still "$T/tick-cmd"
	wait "$runner"; rc=$?
	check_eq "pause command: run exits 0" 0 "$rc"
	check_match "pause command: its v2 scratch cgroup was frozen and thawed" \
		"^v2 $v2/faultline-[0-9-]*-t True True$" \
		"$(obs "$T/cmd.json" 'o["how"], o["cgroup"], o["held"], o["thawed"]' | tr -d "(),'")"
else
	skip "pause command" "no cgroup v2 hierarchy (cgroups.unified_mount)"
fi

# -- Frozen by someone else: refused, never thawed ---------------------------
# refused_case MODE ROOT
refused_case() {
	local mode=$1 cg=$2/$name-$1-theirs ff fv out rc
	ff=$(freeze_file "$mode") fv=$(frozen_val "$mode")
	mkcg "$cg" && mkcg "$cg/child" || { notok "pause $mode: make $cg"; return; }
	echo "$fv" >"$cg/$ff"
	pause_drill "$T/theirs.yaml" "{ cgroup: $cg }" 500
	out=$("$FAULTLINE" run "$T/theirs.yaml" 2>&1); rc=$?
	check_eq "pause $mode: a cgroup frozen before the drill is refused (exit 3)" 3 "$rc"
	check_match "pause $mode: saying someone else froze it" "frozen already .*someone else" "$out"
	check_eq "pause $mode: and it is still frozen after the run" "$fv" "$(content "$cg/$ff")"
	pause_drill "$T/theirs.yaml" "{ cgroup: $cg/child }" 500
	out=$("$FAULTLINE" run "$T/theirs.yaml" 2>&1); rc=$?
	check_eq "pause $mode: a cgroup whose parent is frozen is refused (exit 3)" 3 "$rc"
	check_match "pause $mode: saying an ancestor is frozen" "an ancestor cgroup is frozen" "$out"
	check_eq "pause $mode: and the parent is still frozen" "$fv" "$(content "$cg/$ff")"
	echo "$(thawed_val "$mode")" >"$cg/$ff"
}
[ -n "$v2" ] && refused_case v2 "$v2"
[ -n "$v1" ] && refused_case v1 "$v1"

# -- A process tree stopped with signals ---------------------------------------
# tree: a ticker with two sleeping children (and, now and then, the
# ticker's own short sleep); sets root, kids.
tree() {
	bash -c 'sleep 1000 & sleep 1000 & i=0
		while :; do i=$((i + 1)); echo $i >"$1"; sleep 0.05; done' _ "$T/tick-pid" &
	root=$!
	pids+=("$root")
	wait_for 3 test -s "$T/tick-pid"
	wait_for 3 two_kids
	kids=$(pgrep -P "$root" -f 'sleep 1000' | tr '\n' ' ')
	pids+=($kids)
}
states() { local p; for p in "$root" $kids; do state "$p"; done | tr -d '\n'; }
all_stopped() { [ "$(states)" = TTT ]; }
two_kids() { [ "$(pgrep -c -P "$root" -f 'sleep 1000')" = 2 ]; }
# running: all three are there and none is stopped (R, S, or D for a
# moment while the ticker writes its file on a busy disk).
running() { [[ $(states) =~ ^[RSD]{3}$ ]]; }
tree
pause_drill "$T/pid.yaml" "{ pid: $root }"
out=$("$FAULTLINE" plan "$T/pid.yaml" 2>&1)
check_match "pause pid: plan names SIGSTOP and the 3 (or 4) processes" "SIGSTOP to PID $root and its descendants.*\([34] processes now\)" "$out"
"$FAULTLINE" run --json --report "$T/pid.json" "$T/pid.yaml" >"$T/pid.out" 2>&1 &
runner=$!
wait_for 5 all_stopped
check_eq "pause pid: the process and both children are stopped" TTT "$(states)"
check "pause pid: the ticker stops ticking" still "$T/tick-pid"
wait "$runner"; rc=$?
check_eq "pause pid: run exits 0" 0 "$rc"
check "pause pid: all three run again after revert" running
check "pause pid: the ticker ticks again" ticking "$T/tick-pid"
check_eq "pause pid: the report lists the stopped pids and the thaw" \
	"signal True True True" \
	"$(obs "$T/pid.json" 'o["how"], set(['"$root,${kids// /,}"']) <= set(o["pids"]), o["held"], o["thawed"]' | tr -d "(),'")"

pause_drill "$T/pid1.yaml" "{ pid: $root }" "" "follow-forks: false"
"$FAULTLINE" run "$T/pid1.yaml" >/dev/null 2>&1 &
runner=$!
wait_for 5 is_stopped "$root"
check_match "pause pid: follow-forks: false stops the process alone" '^T[SR]{2}$' "$(states)"
wait "$runner"
check "pause pid: which runs again after revert" running

kid=${kids%% *}
kill -STOP "$kid"
wait_for 3 is_stopped "$kid"
pause_drill "$T/pid.yaml" "{ pid: $root }" 500
out=$("$FAULTLINE" run "$T/pid.yaml" 2>&1); rc=$?
check_eq "pause pid: a tree with a process stopped before the drill is refused (exit 3)" 3 "$rc"
check_match "pause pid: saying someone else stopped it" "PID $kid, a child of the target, is stopped already" "$out"
check_eq "pause pid: and it is still stopped after the run" T "$(state "$kid")"
kill -CONT "$kid"

# -- kill -9: the guardian thaws; kill -9 of both, then recover -------------
crash_drill() {
	drill "$T/crash.yaml" crash 60s "t: { pid: $root }${v2:+
c: { cgroup: $v2/$name-v2 }}"
	fault "$T/crash.yaml" stop 'pause: { target: t }' 'at: 0s'
	[ -n "$v2" ] && fault "$T/crash.yaml" freeze 'pause: { target: c }' 'at: 0s'
	true
}
crash_drill
# (Not $name inside: check's own local name would shadow it.)
crash_cg=$v2/$name-v2
v2frozen() { [ -z "$v2" ] || is "$crash_cg/cgroup.freeze" "$1"; }
start_bg "$T/crash.yaml"
wait_for 5 v2frozen 1
wait_for 5 all_stopped
check "kill -9: the drill froze the tree and the cgroup" test "$(states)" = TTT -a "$(v2frozen 1 && echo y)" = y
kill -9 "$runner"
wait_for 10 no_runs
if running; then ok "kill -9 of the runner: the guardian resumes the tree"
else
	notok "kill -9 of the runner: the guardian resumes the tree"
	echo "#   states $(states), $(runs_left) run(s) left; the run said:"
	sed 's/^/#   | /' "$T/bg.out"
fi
check "kill -9 of the runner: the guardian thaws the cgroup" v2frozen 0

start_bg "$T/crash.yaml"
wait_for 5 all_stopped
kill_both "$runner" "$guardian"
sleep 0.3
check_eq "kill -9 of both: the tree stays stopped" TTT "$(states)"
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "recover: exits 0" 0 "$rc"
check "recover: resumes the tree" running
check "recover: thaws the cgroup" v2frozen 0
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "recover again: nothing to do (exit 0)" 0 "$rc"

# A reused pid: the record's start time no longer matches, so no SIGCONT.
start_bg "$T/crash.yaml"
wait_for 5 all_stopped
kill_both "$runner" "$guardian"
sleep 0.3
rec=$(grep -l '"how": *"signal"' "$(run_dir)"/0*.json)
stopped=$(python3 - "$rec" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["state"]["pids"]:
    p["start"] += 1
    print(p["pid"])
json.dump(d, open(sys.argv[1], "w"))
EOF
)
"$FAULTLINE" recover >/dev/null 2>&1
check_eq "recover: a pid whose start time differs from the record's is never signalled" TTT "$(states)"
# Every process the drill stopped, the ticker's short sleeps included.
kill -CONT $stopped 2>/dev/null

# -- The journal lost: recover names the frozen cgroup -------------------------
if [ -n "$v2" ]; then
	drill "$T/lost.yaml" lost 60s "c: { cgroup: $v2/$name-v2 }"
	fault "$T/lost.yaml" freeze 'pause: { target: c }' 'at: 0s'
	start_bg "$T/lost.yaml"
	wait_for 5 v2frozen 1
	kill_both "$runner" "$guardian"
	sleep 0.3
	rm -rf "$FAULTLINE_RUNDIR"
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "recover without a journal: exits 4 when it finds a cgroup we froze" 4 "$rc"
	check_match "recover without a journal: names it" \
		"cgroup $v2/$name-v2 frozen by faultline run " "$out"
	check_match "recover without a journal: and how to thaw it" \
		"remove: echo 0 > $v2/$name-v2/cgroup.freeze" "$out"
	echo 0 >"$v2/$name-v2/cgroup.freeze"

	# Someone else thaws it during the drill: the expectation fails.
	pause_drill "$T/thaw.yaml" "{ cgroup: $v2/$name-v2 }" 2500
	"$FAULTLINE" run --report "$T/thaw.json" "$T/thaw.yaml" >"$T/thaw.out" 2>&1 &
	runner=$!
	wait_for 5 v2frozen 1
	msleep 300
	echo 0 >"$v2/$name-v2/cgroup.freeze"
	wait "$runner"; rc=$?
	check_eq "someone else's thaw during the drill fails it (exit 1)" 1 "$rc"
	check_match "and the summary says so" "EXPECTATION FAILED: .*thawed by someone else" "$(cat "$T/thaw.out")"
fi

# -- The cookbook entry ---------------------------------------------------------
check_status "examples/hung-db.yaml validates" 0 "$FAULTLINE" validate "$SRC/examples/hung-db.yaml"
out=$("$FAULTLINE" plan "$SRC/examples/hung-db.yaml" 2>&1); rc=$?
check_eq "examples/hung-db.yaml plans (exit 0)" 0 "$rc"
check_match "examples/hung-db.yaml: pauses the database for 10s" "revert +hang-db" "$out"
