#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2
# The oom fault on cgroup v2 under the stock kernel: a genuine kernel OOM
# kill proven three ways (SIGKILL captured as the victim exits, memory.events
# oom_kill, the /dev/kmsg line), a sibling that survives, limits restored
# byte for byte, scratch cgroups removed, expect: pressure (memory.high
# throttles, memory.events high rises, nothing is killed), the refusals
# (exit 3) and the guardian restoring the limits after kill -9.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/oom" "run it under tools/vmtest"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
MEMHOG=$HELPERS/memhog
mem=/sys/fs/cgroup
[ -x "$MEMHOG" ] || { notok "vm/oom: tests/helpers/memhog is not built (make tests)"; exit 0; }
grep -qw memory $mem/cgroup.controllers || { notok "vm/oom: no v2 memory controller"; exit 0; }
echo +memory >$mem/cgroup.subtree_control

top=$mem/fltest-oom-$$
mkdir "$top" || { notok "oom: make test cgroups"; exit 0; }
at_exit cleanup_cg
echo +memory >"$top/cgroup.subtree_control"
mkdir "$top/victim" "$top/sibling"

# Odd limits, so a restore to defaults would show.
echo 943718400 >"$top/victim/memory.max"
echo 536870912 >"$top/victim/memory.swap.max" 2>/dev/null
echo 900000768 >"$top/victim/memory.high"
limits() {
	cat "$1/memory.max" "$1/memory.swap.max" "$1/memory.high" 2>/dev/null | tr '\n' ' '
}
before=$(limits "$top/victim")

# -- A proven kill of a multi-threaded hog; the sibling survives ---------
start_hog "$top/sibling" --size 64M
sibling=$hog
start_hog "$top/victim" --fork --size 256M --threads 4
victim=$hog
cat > "$T/kill.yaml" <<YAML
name: oomtest-kill
duration: 6s
targets:
  hog: { pid: $victim }
faults:
  - name: squeeze
    oom:
      target: hog
      cgroup: own
      squeeze: { below-usage: 8M }
    at: 1s
YAML
"$FAULTLINE" --quiet run --report "$T/kill.json" "$T/kill.yaml" >"$T/kill.out" 2>&1
check_eq "oom: run exits 0" 0 "$?"
sleep 0.2
check_eq "oom: the victim is dead" "dead" "$(alive "$victim")"
check_eq "oom: the victim is the target" "$victim memhog" "$(obs "$T/kill.json" 'o["victim"]["pid"], o["victim"]["comm"]' | tr -d "(),'")"
check_eq "oom: proof 1, it died by SIGKILL, captured as it exited" "SIGKILL captured at exit" \
	"$(obs "$T/kill.json" 'o["victim"]["signal"], o["proof"]["exit"]' | tr -d "(),'")"
check_eq "oom: proof 2, the oom_kill counter rose" True "$(obs "$T/kill.json" 'o["oom_kill_after"] > o["oom_kill_before"]')"
check_match "oom: proof 3, /dev/kmsg names its PID" "Killed process $victim \\(memhog\\)" "$(obs "$T/kill.json" 'o["kmsg"]')"
check_eq "oom: the kill is proven" True "$(obs "$T/kill.json" 'o["proven"]')"
check_eq "oom: memory at the kill and the peak are reported" True \
	"$(obs "$T/kill.json" 'o["memory_at_kill"] > 0 and o["peak"] > 0 and o["squeeze_to_kill_ms"] >= 0')"
check_eq "oom: no collateral kills" 0 "$(obs "$T/kill.json" 'o["collateral_kills"]')"
check_eq "oom: the sibling cgroup's hog survives" alive "$(alive "$sibling")"
check_eq "oom: limits restored byte for byte" "$before" "$(limits "$top/victim")"
check_eq "oom: no journal left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"

# -- scratch for a PID: moved into a new cgroup, killed there ------------
oom_scratch --fork --size 400M --step 4M --every 50

# -- scratch: a survivor is moved back ---------------------------------
oom_back "^0::.*/fltest-oom-$$/victim\$"

# -- A full experiment: a command target, a probe watching it ----------
oom_full 400M

# -- Refusals: exit 3 ----------------------------------------------------
refuse "PID 1" "{ pid: 1 }"
refuse "a kernel thread" "{ pid: 2 }"
refuse "the root cgroup" "{ cgroup: $mem }"
self=$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup)
if [ "$self" = / ]; then
	# The guest runs us in the root cgroup: put a shell in a leaf first.
	mkdir "$top/self"
	refuse "a cgroup holding faultline" "{ cgroup: $top/self }" >/dev/null
	bash -c "echo \$\$ >$top/self/cgroup.procs; exec $FAULTLINE run $T/r.yaml" >"$T/r.out" 2>&1
	check_eq "oom refuses a cgroup holding faultline (exit 3)" 3 "$?"
else
	refuse "a cgroup holding faultline" "{ cgroup: $mem$self }"
fi
sleep 600 &
unkillable=$!
at_exit "kill -9 $unkillable"
echo "$unkillable" >"$top/victim/cgroup.procs"
# Lowering oom_score_adj needs CAP_SYS_RESOURCE, which root may lack.
if echo -1000 2>/dev/null >"/proc/$unkillable/oom_score_adj"; then
	refuse "oom_score_adj -1000" "{ pid: $unkillable }"
	check_match "oom: the -1000 refusal says why" "oom_score_adj -1000" "$(cat "$T/r.out")"
else
	skip "oom refuses oom_score_adj -1000" "no CAP_SYS_RESOURCE to set it (tests/vm/oom.sh covers it)"
fi
kill -9 "$unkillable"
check_eq "oom: limits untouched by the refusals" "$before" "$(limits "$top/victim")"

mkdir "$top/threaded" "$top/threaded/t"
echo threaded >"$top/threaded/t/cgroup.type"
refuse "a threaded cgroup" "{ cgroup: $top/threaded/t }"

# -- expect: pressure: memory.high throttles, nothing is killed ---------
start_hog "$top/victim" --size 200M --step 4M --every 20
slow=$hog
cat > "$T/pressure.yaml" <<YAML
name: oomtest-pressure
duration: 4s
targets:
  hog: { pid: $slow }
faults:
  - name: squeeze
    oom: { target: hog, squeeze: { to: 32M }, expect: pressure }
YAML
"$FAULTLINE" --quiet run --report "$T/pressure.json" "$T/pressure.yaml" >/dev/null 2>&1
check_eq "oom pressure: run exits 0" 0 "$?"
check_eq "oom pressure: memory.events high rose" True \
	"$(obs "$T/pressure.json" 'o["high_events_after"] > o["high_events_before"]')"
check_eq "oom pressure: no OOM kill" "True None" \
	"$(obs "$T/pressure.json" 'o["oom_kill_after"] == o["oom_kill_before"], o["victim"]' | tr -d "(),'")"
check_eq "oom pressure: the hog lives" alive "$(alive "$slow")"
check_eq "oom pressure: memory.high restored" "$before" "$(limits "$top/victim")"
kill -9 "$slow"

# -- kill -9 of the runner mid-squeeze: the guardian restores ----------
oom_crash
