#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The oom fault is prepared before the timeline (issue 17): the kernel
# log, the exit capture and the cgroup's event descriptors are opened
# before t=0, so that at the instant apply only checks that the cgroup is
# the one prepared and writes the limit; a target that moved to another
# cgroup meanwhile is squeezed there, prepared again at its instant.
# Only cgroups this script creates are squeezed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
export FAULTLINE_RUNDIR=$T/run
oom_host_v1 "oom prepare" "tests/vm/oom.sh covers v2"
command -v strace >/dev/null || { skip "oom prepare" "strace is not installed"; exit 0; }

top=$mem/fltest-oomprep-$$
fixture "test cgroups" mkdir "$top" "$top/victim" "$top/other" || exit 0
at_exit cleanup_cg

# -- Prepared: the descriptors are opened before the run event ----------
start_hog "$top/victim" --size 900M --step 4M --every 40
victim=$hog
squeeze_hog "$T/p.yaml" oomtest-prepare 2s 500ms
# LeakSanitizer (SANITIZE=1) cannot run under ptrace: no leak check here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -y -s 60 -e trace=openat,write -o "$T/trace" -- \
	"$FAULTLINE" run --json --report "$T/p.json" "$T/p.yaml" >"$T/p.out" 2>&1
check_eq "oom prepare: run exits 0" 0 "$?"
check_eq "oom prepare: the fault was prepared, and the kill is proven" "True True" \
	"$(obs "$T/p.json" 'o["prepared"], o["proven"]' | tr -d "(),")"
ppid=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "run": print(e["pid"])' "$T/p.out" 2>/dev/null)
started=$(grep -n "^$ppid .*write(1<[^>]*>, \"{\\\\\"event\\\\\":\\\\\"run\\\\\"" "$T/trace" | head -1 | cut -d: -f1)
kmsg=$(grep -n "openat(.*\"/dev/kmsg\"" "$T/trace" | head -1 | cut -d: -f1)
evctl=$(grep -n "write([0-9]*<$top/victim/cgroup.event_control>" "$T/trace" | head -1 | cut -d: -f1)
check "oom prepare: /dev/kmsg is opened before the timeline starts (lines $kmsg < $started)" \
	test "${kmsg:-999999}" -lt "${started:-0}"
check "oom prepare: the oom_control eventfd is registered before the timeline starts (lines $evctl < $started)" \
	test "${evctl:-999999}" -lt "${started:-0}"
# (memory.oom_control is read again for its oom_kill counter, by path.)
check_eq "oom prepare: neither the log nor cgroup.event_control is opened at the instant" "" \
	"$(tail -n +"${started:-1}" "$T/trace" | grep -E "openat\(.*(cgroup.event_control|/dev/kmsg)")"

# -- Moved between prepare and the instant: squeezed where it is now -----
start_hog "$top/victim" --size 900M --step 4M --every 40
victim=$hog
sed -e "s/pid: [0-9]*/pid: $victim/" -e "s/at: 500ms/at: 1500ms/" \
	-e "s/below-usage: 8M/to: 16M/" "$T/p.yaml" >"$T/m.yaml"
"$FAULTLINE" run --json --report "$T/m.json" "$T/m.yaml" >"$T/m.out" 2>&1 &
run=$!
at_exit "kill $run"
fixture "the timeline has started" wait_for 10 grep -q '"event":"run"' "$T/m.out"
fixture "the hog moves to another cgroup" sh -c "echo $victim > $top/other/cgroup.procs"
wait "$run"
check_eq "oom prepare: run exits 0 after the target moved" 0 "$?"
check_eq "oom prepare: the new cgroup is squeezed, not as prepared, and the kill is proven" \
	"$top/other False True" \
	"$(obs "$T/m.json" 'o["cgroup"], o["prepared"], o["proven"]' | tr -d "(),'")"
check_eq "oom prepare: the journal is empty afterwards" 0 "$(runs_left)"
