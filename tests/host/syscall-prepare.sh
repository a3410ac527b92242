#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The syscall fault is prepared before the timeline (issue 17): its object
# is opened, loaded and verified before t=0, with a minimal BTF cached in
# /run/faultline-btf instead of the kernel's; at the instant only the
# record and the attaches remain.  The cgroup/connect4 route, on a cgroup
# v2 folder this test makes.
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
strace -f -qq -s 40 -e trace=openat,bpf,write -o "$T/trace" -- \
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
check_eq "the journal is empty afterwards" 0 "$(runs_left)"
