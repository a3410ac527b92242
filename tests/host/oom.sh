#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The oom fault on this host's cgroup v1 memory hierarchy: a genuine kernel
# OOM kill proven three ways (SIGKILL captured as the victim exits, the oom_kill
# counter, the /dev/kmsg line), a sibling that survives, limits restored
# byte for byte, scratch cgroups removed, the refusals (exit 3), and the
# guardian restoring the limits when the runner is killed mid-squeeze.
# Only cgroups this script creates are squeezed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
export FAULTLINE_RUNDIR=$T/run
oom_host_v1 "oom" "tests/vm/oom.sh covers v2"
[ -r /dev/kmsg ] || { skip "oom" "cannot read /dev/kmsg"; exit 0; }

top=$mem/fltest-oom-$$
mkdir "$top" "$top/victim" "$top/sibling" || { notok "oom: make test cgroups"; exit 0; }
at_exit cleanup_cg

# Odd limits, so a restore to defaults would show: memsw above the limit.
echo 943718400 >"$top/victim/memory.limit_in_bytes"
if [ -f "$top/victim/memory.memsw.limit_in_bytes" ]; then
	echo 1073741824 >"$top/victim/memory.memsw.limit_in_bytes"
fi
limits() {
	cat "$1/memory.limit_in_bytes" "$1/memory.memsw.limit_in_bytes" 2>/dev/null | tr '\n' ' '
}
before=$(limits "$top/victim")

# -- A proven kill of a multi-threaded hog; the sibling survives ---------
start_hog "$top/sibling" --size 64M
sibling=$hog
start_hog "$top/victim" --size 900M --step 4M --every 50 --threads 4
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
"$FAULTLINE" run --json --report "$T/kill.json" "$T/kill.yaml" >"$T/kill.out" 2>&1
check_eq "oom: run exits 0" 0 "$?"
# The live squeeze state: progress events, the last one as the report.
check_eq "oom: live progress shows the squeeze, ending with the report's kill" True \
	"$(python3 -c 'import json, sys
p = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "progress"]
o = json.load(open(sys.argv[2]))["faults"][0]["observed"]
print(len(p) >= 1 and p[-1]["oom_kills"] == o["oom_kill_after"] - o["oom_kill_before"] >= 1 and p[-1]["dead"] == 1)' "$T/kill.out" "$T/kill.json" 2>&1)"
sleep 0.2
check_eq "oom: the victim is dead" "dead" "$(alive "$victim")"
check_eq "oom: the victim is the target" "$victim memhog" "$(obs "$T/kill.json" 'o["victim"]["pid"], o["victim"]["comm"]' | tr -d "(),'")"
check_eq "oom: proof 1, it died by SIGKILL, captured as it exited" "SIGKILL captured at exit" \
	"$(obs "$T/kill.json" 'o["victim"]["signal"], o["proof"]["exit"]' | tr -d "(),'")"
check_eq "oom: proof 2, the oom_kill counter rose" True "$(obs "$T/kill.json" 'o["oom_kill_after"] > o["oom_kill_before"]')"
check_match "oom: proof 3, /dev/kmsg names its PID" "Killed process $victim \\(memhog\\)" "$(obs "$T/kill.json" 'o["kmsg"]')"
check_eq "oom: the kill is proven" True "$(obs "$T/kill.json" 'o["proven"]')"
check_eq "oom: the v1 eventfd saw the OOM" True "$(obs "$T/kill.json" 'o["oom_eventfd_notifications"] >= 1')"
check_eq "oom: memory at the kill and the peak are reported" True \
	"$(obs "$T/kill.json" 'o["memory_at_kill"] > 0 and o["peak"] > 0 and o["squeeze_to_kill_ms"] >= 0')"
check_eq "oom: no collateral kills" 0 "$(obs "$T/kill.json" 'o["collateral_kills"]')"
check_eq "oom: the sibling cgroup's hog survives" alive "$(alive "$sibling")"
check_eq "oom: limits restored byte for byte (memsw raised first)" "$before" "$(limits "$top/victim")"
check_eq "oom: no journal left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"

# -- Kills in another cgroup during the drill are not collateral --------
# Another workload at its own limit keeps being OOM-killed meanwhile (the
# kernel rate-limits its "oom-kill:" lines, so the count decides then).
mkdir "$top/noise" && echo 16M >"$top/noise/memory.limit_in_bytes"
noise0=$(awk '/^oom_kill / {print $2}' "$top/noise/memory.oom_control")
( while :; do "$MEMHOG" --cgroup "$top/noise" --size 64M --step 4M --every 10 \
	>/dev/null 2>&1; sleep 0.2; done ) 2>/dev/null &
noise=$!
at_exit "kill $noise 2>/dev/null"
start_hog "$top/victim" --size 900M --step 4M --every 50
victim=$hog
sed "s/pid: [0-9]*/pid: $victim/" "$T/kill.yaml" >"$T/noise.yaml"
"$FAULTLINE" --quiet run --report "$T/noise.json" "$T/noise.yaml" >/dev/null 2>&1
kill $noise 2>/dev/null; wait $noise 2>/dev/null
noise1=$(awk '/^oom_kill / {print $2}' "$top/noise/memory.oom_control")
check "oom noise: the other cgroup's hogs were OOM-killed meanwhile" [ "$((noise1 - noise0))" -ge 3 ]
check_eq "oom noise: the target's kill is proven, with no collateral" "True $victim 0" \
	"$(obs "$T/noise.json" 'o["proven"], o["victim"]["pid"], o["collateral_kills"]' | tr -d "(),")"

# -- scratch for a PID: moved into a new cgroup, killed there ------------
oom_scratch --size 900M --step 4M --every 50

# -- scratch: a survivor is moved back ---------------------------------
oom_back ":memory:.*/fltest-oom-$$/victim\$"

# -- A full experiment: a command target, a probe watching it ----------
oom_full 900M

# -- Refusals: exit 3 ----------------------------------------------------
refuse "PID 1" "{ pid: 1 }"
refuse "a kernel thread" "{ pid: 2 }"
refuse "the root cgroup" "{ cgroup: $mem }"
refuse "a cgroup holding faultline" "{ cgroup: $mem$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup) }"
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
refuse "expect: pressure on v1" "{ pid: $unkillable }" ", expect: pressure"
check_match "oom: pressure needs memory.high" "memory.high" "$(cat "$T/r.out")"
kill -9 "$unkillable"
check_eq "oom: limits untouched by the refusals" "$before" "$(limits "$top/victim")"

# -- kill -9 of the runner mid-squeeze: the guardian restores ----------
oom_crash

# -- an expectation that fails: a squeeze that stays above the hog's usage --
cat > "$T/idle.yaml" <<YAML
name: oomtest-idle
duration: 2s
targets:
  hog: { pid: $idle }
faults:
  - name: squeeze
    oom: { target: hog, squeeze: { to: 128M } }
YAML
"$FAULTLINE" run "$T/idle.yaml" >"$T/idle.out" 2>&1; rc=$?
check_eq "oom: a squeeze that kills nothing fails the drill" 1 "$rc"
check_match "oom: and says which expectation failed" "EXPECTATION FAILED: no proven kernel OOM kill" "$(cat "$T/idle.out")"
check_eq "oom: limits restored after the failed expectation" "$before" "$(limits "$top/victim")"
