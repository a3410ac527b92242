#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The oom fault is prepared before the timeline (issue 17): the kernel
# log, the exit capture and the cgroup's event descriptors are opened,
# and the undo record is saved, before t=0, so that at the instant apply
# only checks that the cgroup is the one prepared, creates the record's
# switch and writes the limit; a target that moved to another cgroup
# meanwhile is squeezed there, prepared again at its instant.  kill -9
# of the runner before the instant writes nothing back: someone else's
# limit set meanwhile stays.  A pid's scratch cgroup has its record at
# prepare too (the switch first at the instant, then the cgroup), and a
# command's cgroup is prepared once the command has started.
# Only cgroups this script creates are squeezed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
export FAULTLINE_RUNDIR=$T/run
oom_host_v1 "oom prepare" "tests/vm/oom.sh covers v2"
command -v strace >/dev/null || { skip "oom prepare" "strace is not installed"; exit 0; }

# runner_pid OUT: the runner's pid, from the run event of its --json OUT.
runner_pid() {
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "run": print(e["pid"])' "$1" 2>/dev/null
}

top=$mem/fltest-oomprep-$$
fixture "test cgroups" mkdir "$top" "$top/victim" "$top/other" || exit 0
at_exit cleanup_cg

# -- Prepared: the descriptors are opened before the run event ----------
start_hog "$top/victim" --size 900M --step 4M --every 40
victim=$hog
squeeze_hog "$T/p.yaml" oomtest-prepare 2s 500ms
# LeakSanitizer (SANITIZE=1) cannot run under ptrace: no leak check here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -y -s 60 -e trace=openat,write,pwrite64,rename,renameat,renameat2 -o "$T/trace" -- \
	"$FAULTLINE" run --json --report "$T/p.json" "$T/p.yaml" >"$T/p.out" 2>&1
check_eq "oom prepare: run exits 0" 0 "$?"
check_eq "oom prepare: the fault was prepared, and the kill is proven" "True True" \
	"$(obs "$T/p.json" 'o["prepared"], o["proven"]' | tr -d "(),")"
ppid=$(runner_pid "$T/p.out")
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

# The record is renamed into place before the run event; at the instant
# the switch is created and the limit written, with no record between.
rec=$(grep -n "^$ppid .*rename.*\"0001-squeeze\.json\"" "$T/trace" | head -1 | cut -d: -f1)
limit=$(tail -n +"${started:-1}" "$T/trace" |
	grep -nE "(p?write|pwrite64)\([0-9]*<$top/victim/memory.limit_in_bytes>" | head -1 | cut -d: -f1)
check "oom prepare: the undo record is written before the timeline starts (lines $rec < $started)" \
	test "${rec:-999999}" -lt "${started:-0}"
check_match "oom prepare: the switch is created at the instant, before the limit write" \
	'openat\(.*/oom-0001-squeeze\.armed", O_RDONLY\|O_CREAT\|O_EXCL' \
	"$(tail -n +"${started:-1}" "$T/trace" | head -n "${limit:-1}")"
check_eq "oom prepare: at the instant no record is written before the limit write" "" \
	"$(tail -n +"${started:-1}" "$T/trace" | head -n "${limit:-1}" |
	   grep -E 'rename.*[0-9]{4}-[^"]*\.json"')"
check_eq "oom prepare: the switch is gone afterwards" "" \
	"$(ls "$FAULTLINE_RUNDIR"/*/oom-* 2>/dev/null)"

# -- kill -9 before the instant: nothing is written back -----------------
sleep 1000 &
sleeper=$!
at_exit "kill $sleeper"
fixture "a sleeper in the cgroup" sh -c "echo $sleeper > $top/victim/cgroup.procs"
lim0=$(cat "$top/victim/memory.limit_in_bytes")
sed -e "s/pid: [0-9]*/pid: $sleeper/" -e "s/at: 500ms/at: 20s/" \
	-e "s/duration: 2s/duration: 22s/" "$T/p.yaml" >"$T/k.yaml"
"$FAULTLINE" run --json "$T/k.yaml" >"$T/k.out" 2>"$T/k.err" &
run=$!
at_exit "kill -9 $run"
fixture "the timeline has started" wait_for 10 grep -q '"event":"run"' "$T/k.out"
check_match "before the instant the record names its switch" \
	'"switch":"[^"]*/oom-0001-squeeze\.armed"' \
	"$(tr -d ' \n' < "$(ls "$FAULTLINE_RUNDIR"/*/0001-squeeze.json)")"
check_eq "before the instant the switch does not exist" "" \
	"$(ls "$FAULTLINE_RUNDIR"/*/oom-* 2>/dev/null)"
echo 805306368 > "$top/victim/memory.limit_in_bytes"
kill -9 $run; wait $run 2>/dev/null
wait_for 5 no_runs
check_eq "kill -9 before the instant: the journal is emptied" 0 "$(runs_left)"
check_eq "kill -9 before the instant: someone else's limit set after prepare stays" \
	805306368 "$(cat "$top/victim/memory.limit_in_bytes")"
echo "$lim0" > "$top/victim/memory.limit_in_bytes"

# -- A limit changed between prepare and the instant: apply saves the
# record again, and revert writes back the value the instant found.
sed -e "s/pid: [0-9]*/pid: $sleeper/" -e "s/at: 500ms/at: 1500ms/" \
	-e "s/below-usage: 8M/to: 512M/" -e "s/duration: 2s/duration: 2500ms/" \
	"$T/p.yaml" >"$T/c.yaml"
"$FAULTLINE" run --json "$T/c.yaml" >"$T/c.out" 2>&1 &
run=$!
fixture "the timeline has started" wait_for 10 grep -q '"event":"run"' "$T/c.out"
echo 943718400 > "$top/victim/memory.limit_in_bytes"
wait $run
check_eq "a limit changed before the instant is the one written back" \
	943718400 "$(cat "$top/victim/memory.limit_in_bytes")"
check_eq "a limit changed before the instant: the journal is empty afterwards" 0 "$(runs_left)"
echo "$lim0" > "$top/victim/memory.limit_in_bytes"
kill $sleeper 2>/dev/null

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

# -- A pid's scratch cgroup: the record at prepare, the cgroup at apply --
# The record names the scratch cgroup (after the journal, which exists at
# prepare); at the instant the switch comes first, then the cgroup is
# made and the pid moved in, with no record written before the limit.
start_hog "$top/victim" --size 900M --step 4M --every 40
victim=$hog
sed -e "s/pid: [0-9]*/pid: $victim/" -e "s/cgroup: own/cgroup: scratch/" \
	"$T/p.yaml" >"$T/s.yaml"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -y -s 60 -e trace=openat,mkdir,write,pwrite64,rename,renameat,renameat2 -o "$T/s.trace" -- \
	"$FAULTLINE" run --json --report "$T/s.json" "$T/s.yaml" >"$T/s.out" 2>&1
check_eq "oom prepare, scratch: run exits 0" 0 "$?"
check_eq "oom prepare, scratch: the fault was prepared, and the kill is proven" "True True" \
	"$(obs "$T/s.json" 'o["prepared"], o["proven"]' | tr -d "(),")"
ppid=$(runner_pid "$T/s.out")
started=$(grep -n "^$ppid .*write(1<[^>]*>, \"{\\\\\"event\\\\\":\\\\\"run\\\\\"" "$T/s.trace" | head -1 | cut -d: -f1)
rec=$(grep -n "^$ppid .*rename.*\"0001-squeeze\.json\"" "$T/s.trace" | head -1 | cut -d: -f1)
check "oom prepare, scratch: the undo record is written before the timeline starts (lines $rec < $started)" \
	test "${rec:-999999}" -lt "${started:-0}"
after=$(tail -n +"${started:-1}" "$T/s.trace")
sw=$(grep -nE 'openat\(.*/oom-0001-squeeze\.armed", O_RDONLY\|O_CREAT\|O_EXCL' <<<"$after" | head -1 | cut -d: -f1)
mk=$(grep -nE "^$ppid +mkdir\(\"$mem/[^\"]*squeeze\"" <<<"$after" | head -1 | cut -d: -f1)
mv=$(grep -nE "write\([0-9]*<$mem/[^>]*squeeze/cgroup.procs>" <<<"$after" | head -1 | cut -d: -f1)
limit=$(grep -nE "(p?write|pwrite64)\([0-9]*<$mem/[^>]*squeeze/memory.limit_in_bytes>" <<<"$after" | head -1 | cut -d: -f1)
check "oom prepare, scratch: at the instant the switch comes first, then the cgroup, the move and the limit (lines $sw < $mk < $mv, $limit)" \
	test "${sw:-999999}" -lt "${mk:-0}" -a "${mk:-999999}" -lt "${mv:-0}" -a "${sw:-999999}" -lt "${limit:-0}"
check_eq "oom prepare, scratch: at the instant no record is written before the limit write" "" \
	"$(head -n "${limit:-1}" <<<"$after" | grep -E 'rename.*[0-9]{4}-[^"]*\.json"')"
check_eq "oom prepare, scratch: the scratch cgroup is removed" "" \
	"$(ls -d "$mem"/faultline-* 2>/dev/null | grep squeeze)"
check_eq "oom prepare, scratch: the journal is empty afterwards" 0 "$(runs_left)"

# kill -9 before the instant: the record names the scratch cgroup, and
# its replay (no switch) neither makes nor moves anything.
sleep 1000 &
sleeper=$!
at_exit "kill $sleeper"
fixture "a sleeper in the cgroup" sh -c "echo $sleeper > $top/victim/cgroup.procs"
sed -e "s/pid: [0-9]*/pid: $sleeper/" -e "s/at: 500ms/at: 20s/" \
	-e "s/duration: 2s/duration: 22s/" "$T/s.yaml" >"$T/sk.yaml"
"$FAULTLINE" run --json "$T/sk.yaml" >"$T/sk.out" 2>"$T/sk.err" &
run=$!
at_exit "kill -9 $run"
fixture "the timeline has started" wait_for 10 grep -q '"event":"run"' "$T/sk.out"
check_match "oom prepare, scratch: before the instant the record names the scratch cgroup, where the pid is, and its switch" \
	"\"scratch\":\\{\"path\":\"$mem/faultline-[^\"]*-squeeze\",\"from\":\"$top/victim\",\"pid\":$sleeper\\}.*\"switch\":\"[^\"]*/oom-0001-squeeze\\.armed\"" \
	"$(tr -d ' \n' < "$(ls "$FAULTLINE_RUNDIR"/*/0001-squeeze.json)")"
kill -9 $run; wait $run 2>/dev/null
wait_for 5 no_runs
check_eq "oom prepare, scratch: kill -9 before the instant empties the journal" 0 "$(runs_left)"
check_eq "oom prepare, scratch: kill -9 before the instant leaves the pid where it was" \
	"$top/victim" "$mem$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/$sleeper/cgroup)"
check_eq "oom prepare, scratch: kill -9 before the instant made no scratch cgroup" "" \
	"$(ls -d "$mem"/faultline-* 2>/dev/null | grep squeeze)"
kill $sleeper 2>/dev/null

# -- A command's cgroup: prepared again once the command has started ----
cat >"$T/cmd.yaml" <<YAML
name: oomtest-command
duration: 3s
targets:
  hog: { command: [$MEMHOG, --size, 900M, --step, 4M, --every, "40"] }
faults:
  - name: squeeze
    oom: { target: hog, cgroup: scratch, squeeze: { below-usage: 8M } }
    at: 1s
YAML
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -y -s 60 -e trace=openat,write,pwrite64,rename,renameat,renameat2 -o "$T/c.trace" -- \
	"$FAULTLINE" run --json --report "$T/cmd.json" "$T/cmd.yaml" >"$T/cmd.out" 2>&1
check_eq "oom prepare, command: run exits 0" 0 "$?"
check_eq "oom prepare, command: the fault was prepared, and the kill is proven" "True True" \
	"$(obs "$T/cmd.json" 'o["prepared"], o["proven"]' | tr -d "(),")"
ppid=$(runner_pid "$T/cmd.out")
tstart=$(grep -n "^$ppid .*write(1<[^>]*>, \"{\\\\\"event\\\\\":\\\\\"target-started\\\\\"" "$T/c.trace" | head -1 | cut -d: -f1)
rec=$(grep -nE "^$ppid .*rename.*\"[0-9]{4}-squeeze\.json\"" "$T/c.trace" | head -1 | cut -d: -f1)
sw=$(grep -nE "^$ppid .*openat\(.*/oom-[0-9]{4}-squeeze\.armed\", O_RDONLY\|O_CREAT\|O_EXCL" "$T/c.trace" | head -1 | cut -d: -f1)
limit=$(grep -nE "^$ppid .*(p?write|pwrite64)\([0-9]*<[^>]*/memory.limit_in_bytes>" "$T/c.trace" | head -1 | cut -d: -f1)
check "oom prepare, command: the record is written after the command started, before the instant's switch (lines $tstart < $rec < $sw)" \
	test "${tstart:-999999}" -lt "${rec:-0}" -a "${rec:-999999}" -lt "${sw:-0}"
check_eq "oom prepare, command: at the instant no record is written before the limit write" "" \
	"$(sed -n "${sw:-1},${limit:-1}p" "$T/c.trace" | grep -E 'rename.*[0-9]{4}-[^"]*\.json"')"
check_eq "oom prepare, command: the journal is empty afterwards" 0 "$(runs_left)"
