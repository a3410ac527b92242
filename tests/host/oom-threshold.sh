#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# v1 memory usage thresholds wake the oom squeeze (issue 17): when every
# write of a limit just above usage loses the race with the hog's next
# allocation, a threshold registered through cgroup.event_control wakes
# the watcher as soon as usage moves past it, and the kill follows at
# once instead of at the next re-assert (250 ms).  The lost race is made
# certain with FAULTLINE_OOM_V1_LOST_RACE=1 (apply's first step makes no
# try just above usage).  Only cgroups this script creates are squeezed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
export FAULTLINE_RUNDIR=$T/run
oom_host_v1 "oom thresholds" "v2 has no memory.usage_in_bytes thresholds"

top=$mem/fltest-oomthr-$$
fixture "a test cgroup" mkdir "$top" "$top/victim" || exit 0
at_exit cleanup_cg
# No anon reclaim there, even on a host with swap: a limit below usage is
# refused (EBUSY) for certain.
fixture "swappiness 0 in the test cgroup" sh -c "echo 0 > $top/victim/memory.swappiness" || exit 0

# A hog that grows 4 MiB every 40 ms: it passes any threshold within
# 40 ms, well before the 250 ms re-assert.
start_hog "$top/victim" --size 900M --step 4M --every 40
victim=$hog
squeeze_hog "$T/t.yaml" oomtest-threshold 3s 1s
FAULTLINE_OOM_V1_LOST_RACE=1 "$FAULTLINE" run --report "$T/t.json" "$T/t.yaml" >"$T/t.out" 2>&1
check_eq "oom thresholds: run exits 0" 0 "$?"
check_eq "oom thresholds: the kill is proven" "True $victim" \
	"$(obs "$T/t.json" 'o["proven"], o["victim"]["pid"]' | tr -d "(),")"
check_eq "oom thresholds: a usage threshold was registered after the lost race (at most 16)" True \
	"$(obs "$T/t.json" '1 <= o["thresholds"] <= 16')"
check_eq "oom thresholds: the threshold woke the squeeze" True \
	"$(obs "$T/t.json" 'o["threshold_wakeups"] >= 1')"
echo "# squeeze to kill: $(obs "$T/t.json" 'o["squeeze_to_kill_ms"]') ms, $(obs "$T/t.json" 'o["thresholds"], o["threshold_wakeups"], o["writes"]') (thresholds, wake-ups, writes)"
check_eq "oom thresholds: the journal is empty afterwards" 0 "$(runs_left)"
