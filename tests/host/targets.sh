#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Command targets: run starts each in scratch cgroups of its own, and they
# are removed at the end, and by the guardian when the runner is killed.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run
mem=$(memory_mount)
[ -n "$mem" ] || mem=$(unified_mount)
if [ -z "$mem" ]; then
	skip "scratch cgroups" "no memory controller and no cgroup v2 hierarchy (doctor: cgroups)"
	exit 0
fi
# scratch RUNNER: the scratch cgroups of this script's run by that runner
# pid (the run id is <time>-<pid>), never another faultline's: a demo or
# another test may run at the same time.
scratch() {
	ls -d /sys/fs/cgroup/faultline-*-"$1"-job \
		/sys/fs/cgroup/*/faultline-*-"$1"-job 2>/dev/null
}
# Remove only scratch cgroups this script's runs made, whatever happens.
cleanup_ours() {
	local d p
	for d in $(scratch "$1"); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
		sleep 0.2; rmdir "$d"
	done
}

cat > "$T/d.yaml" <<YAML
name: targets
duration: 4s
targets:
  job: { command: [sh, -c, "echo \$\$ > $T/job.pid; exec sleep 60"] }
faults:
  - name: mark
    test: { file: $T/state, value: "on" }
YAML

"$FAULTLINE_TEST" --quiet run "$T/d.yaml" > "$T/out" 2>&1 &
runner=$!
at_exit "kill -9 $runner"
wait_for 5 test -s "$T/job.pid"
job=$(cat "$T/job.pid" 2>/dev/null)
at_exit "[ -n '$job' ] && kill -9 $job"
cg=$(scratch "$runner" | head -1)
check "a command target gets a scratch cgroup named for its run" [ -n "$cg" ]
memcg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ || ($1 == "0" && $2 == "") {print $3; exit}' /proc/"$job"/cgroup 2>/dev/null)
check_match "the command runs inside it from its start" "faultline-[0-9-]*-$runner-job" "$memcg"
check "the journal holds its undo record" ls "$T"/run/*/0001-scratch-job.json
wait "$runner"; rc=$?
check_eq "the drill passes" 0 "$rc"
check_eq "the scratch cgroups are gone after the run" "" "$(scratch "$runner")"
check "the command was stopped" bash -c "! kill -0 $job 2>/dev/null"
cleanup_ours "$runner"

# kill -9 of the runner: the guardian kills the command and removes them.
rm -f "$T/job.pid"
"$FAULTLINE_TEST" --quiet run "$T/d.yaml" > "$T/out2" 2>&1 &
runner=$!
at_exit "kill -9 $runner"
wait_for 5 test -s "$T/job.pid"
job=$(cat "$T/job.pid" 2>/dev/null)
at_exit "[ -n '$job' ] && kill -9 $job"
check "a scratch cgroup exists during the second run" test -n "$(scratch "$runner")"
kill -9 "$runner"
for _ in $(seq 40); do [ -z "$(scratch "$runner")" ] && break; sleep 0.1; done
check_eq "after kill -9 of the runner the guardian removed them" "" "$(scratch "$runner")"
wait_for 2 gone "$job"
check "and stopped the command" gone "$job"
check "and emptied the journal" bash -c "[ -z \"\$(ls -A $T/run 2>/dev/null)\" ]"
cleanup_ours "$runner"

# A pid target that is gone: run refuses before applying anything.
cat > "$T/gone.yaml" <<YAML
name: gone
duration: 2s
targets:
  gone: { pid: 4194304 }
faults:
  - name: mark
    test: { file: $T/gone-state, value: "on" }
YAML
out=$("$FAULTLINE_TEST" run "$T/gone.yaml" 2>&1); rc=$?
check_eq "run refuses a pid target that does not exist" 3 "$rc"
check_match "saying which" "target 'gone': no process with pid 4194304" "$out"
check "and applies nothing" test ! -e "$T/gone-state"

# A command that cannot run: the runner sees its exec fail and stops
# before the timeline, saying why, with nothing applied or left.
cat > "$T/noexec.yaml" <<YAML
name: noexec
duration: 2s
targets:
  job: { command: [$T/no-such-program, x] }
faults:
  - name: mark
    test: { file: $T/noexec-state, value: "on" }
YAML
"$FAULTLINE_TEST" run "$T/noexec.yaml" >"$T/noexec.out" 2>&1; rc=$?
check_eq "a command that cannot be executed stops the drill (apply-failed)" 4 "$rc"
check_match "and the summary says why" \
	"why: target job: cannot start $T/no-such-program: No such file or directory" \
	"$(cat "$T/noexec.out")"
check_eq "and applies nothing" "" "$(grep 'fault mark: applied' "$T/noexec.out")"
check "and empties the journal" bash -c "[ -z \"\$(ls -A $T/run 2>/dev/null)\" ]"

# A fault at 0s meets the command, not the runner's child before its
# exec: with both on one CPU the child has not run yet when the timeline
# starts, unless the runner waited for its exec.
cat > "$T/k0.yaml" <<YAML
name: kill-at-start
duration: 300ms
targets:
  victim: { command: [sleep, "1000"] }
faults:
  - name: k
    kill: { target: victim }
    at: 0s
YAML
for i in 1 2 3; do
	out=$(taskset -c 0 "$FAULTLINE_TEST" run "$T/k0.yaml" 2>&1); rc=$?
	[ $rc = 0 ] || break
done
check_eq "a kill at 0s of a command target on the runner's CPU passes (3 runs)" 0 "$rc"
check_match "and kills the command itself" "SIGKILL to PID [0-9]* \(sleep\): dead" "$out"
