#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The syscall fault is prepared before the timeline (issue 17): its object
# is opened, loaded and verified before t=0, with a minimal BTF cached in
# /run/faultline-btf instead of the kernel's, and its undo record (the
# programs' ids, their off switch's and the links') is written and
# fsynced then, with the programs attached and switched off: at the
# instant only the switch's map update remains.
# kill -9 of the runner between prepare and the instant leaves the cgroup
# as it was (the guardian's replay of that record changes nothing).  The
# cgroup/connect4 route, on a cgroup v2 folder this test makes.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { skip "syscall prepare" "root"; exit 0; }
have_bpf cgroup_sock_addr || { skip "syscall prepare" "BPF cgroup/connect4 programs ($(fact bpf.cgroup_sock_addr.why))"; exit 0; }
uni=$(unified_mount)
[ -n "$uni" ] || { skip "syscall prepare" "a cgroup v2 mount"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
cg=$uni/fl-sp-$$
mkdir "$cg" || { notok "syscall prepare: make the cgroup"; exit 0; }
at_exit "rmdir $cg"

cat > "$T/s.yaml" <<YAML
name: prepared
duration: 500ms
targets:
  app: { cgroup: $cg }
faults:
  - name: f
    syscall: { target: app, calls: [connect], errno: EPERM }
    at: 200ms
    for: 100ms
YAML
# LeakSanitizer (SANITIZE=1) cannot run under ptrace: no leak check here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -qq -s 40 -e trace=openat,bpf,write,rename,renameat,renameat2 -o "$T/trace" -- \
	"$FAULTLINE" run --json --report "$T/r.json" "$T/s.yaml" > "$T/out" 2>&1
check_eq "run: exit 0" 0 "$?"
ppid=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "run": print(e["pid"])' "$T/out")
load=$(grep -n "^$ppid .*bpf(BPF_PROG_LOAD.*prog_name=\"sf_connect4\"" "$T/trace" | head -1 | cut -d: -f1)
started=$(grep -n "^$ppid .*write(1, \"{\\\\\"event\\\\\":\\\\\"run\\\\\"" "$T/trace" | head -1 | cut -d: -f1)
check "the program is loaded before the timeline starts (lines $load < $started)" \
	test "${load:-999999}" -lt "${started:-0}"
check "after the start, the kernel's BTF is never read" \
	sh -c "! tail -n +${started:-1} '$T/trace' | grep -q '/sys/kernel/btf/vmlinux'"
# The record is renamed into place (after its fsync) before the run
# event, with the links' ids: the programs are attached then, switched
# off.  At the instant the one call is the switch's map update.
rec=$(grep -n "^$ppid .*rename.*\"0001-f\.json\"" "$T/trace" | tail -1 | cut -d: -f1)
check "the undo record is written before the timeline starts (lines $rec < $started)" \
	test "${rec:-999999}" -lt "${started:-0}"
check_eq "after the start, nothing is attached and no record is written" "" \
	"$(tail -n +"${started:-1}" "$T/trace" | grep "^$ppid " |
	   grep -E 'BPF_LINK_CREATE|BPF_PROG_LOAD|rename.*[0-9]{4}-[^"]*\.json"')"
first=$(tail -n +"${started:-1}" "$T/trace" | grep "^$ppid .*bpf(" | head -1)
check_match "the instant's one BPF call is the off switch's map update" \
	'bpf\(BPF_MAP_UPDATE_ELEM' "$first"
check_eq "the journal is empty afterwards" 0 "$(runs_left)"

# kill -9 between prepare and the instant: the guardian replays the
# record of prepare, which changes nothing, quietly.
sed 's/at: 200ms/at: 20s/; s/duration: 500ms/duration: 22s/' "$T/s.yaml" > "$T/late.yaml"
"$FAULTLINE" run --json "$T/late.yaml" > "$T/out2" 2> "$T/err2" &
pid=$!; at_exit "kill -9 $pid"
wait_for 10 sh -c "grep -q ctl_map_id $FAULTLINE_RUNDIR/*/0001-f.json" 2>/dev/null
wait_for 10 sh -c "grep -q link_ids.*[0-9] $FAULTLINE_RUNDIR/*/0001-f.json" 2>/dev/null
rec=$(tr -d ' \n' < "$(ls $FAULTLINE_RUNDIR/*/0001-f.json)")
check_match "before the instant the record holds the programs' ids" '"ctl_map_id":[1-9]' "$rec"
check_match "before the instant the record holds the links' ids" '"link_ids":\[[1-9]' "$rec"
check_match "before the instant the program is attached to the cgroup" \
	'sf_connect4' "$(bpftool cgroup show "$cg" 2>&1)"
# A process in the cgroup connects: the attached program is switched off.
sh -c 'echo $$ > "$1/cgroup.procs"; exec python3 -c "
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect((\"127.0.0.1\", 9))"' \
	sh "$cg" 2> "$T/conn.err"
check_eq "before the instant a connect in the cgroup succeeds (off)" "0 " \
	"$? $(tail -1 "$T/conn.err")"
kill -9 $pid; wait $pid 2>/dev/null
wait_for 5 no_runs
check_match "kill -9 before the instant: the guardian replays the record" \
	'the runner died; reverted 1 fault' "$(cat "$T/err2")"
check_eq "kill -9 before the instant: the replay says nothing else" "" \
	"$(grep -v 'the runner died; reverted 1 fault' "$T/err2")"
check_eq "kill -9 before the instant: the journal is emptied" 0 "$(runs_left)"
# bpftool is a build dependency (tools/deps).
check_eq "kill -9 before the instant: nothing is attached to the cgroup" "" \
	"$(bpftool cgroup show "$cg" 2>&1 | awk 'NR > 1')"
