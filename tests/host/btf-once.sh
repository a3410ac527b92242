#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel's BTF at most once per process, and not at all once cached
# (issue 17).  libbpf 1.1 parses /sys/kernel/btf/vmlinux (5 MB) for every
# object it loads with CO-RE relocations or a tracing program: each of
# doctor's tracing probes, each syscall fault, the exit capture.
# faultline's section handlers hand it the attach points' ids, and its
# cache (here FAULTLINE_BTF_CACHE, a folder of the test's) the minimal
# BTF for CO-RE.  Counted under strace: the opens of the kernel's BTF by
# faultline itself (not by the bpftool it runs to fill the cache), for
# doctor and for a run with a syscall fault that follows forks
# (tp_btf/sched_process_fork) and a kill proven by the exit capture
# (tp_btf/sched_process_exit), with the cache empty and then filled,
# and with FAULTLINE_BTF=libbpf (libbpf's own way, for comparison).
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { skip "btf-once" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "btf-once: $FAULTLINE is built"; exit 1; }
command -v strace >/dev/null || { skip "btf-once" "no strace"; exit 0; }
if [ "$(fact bpf.tp_btf.available)" != true ]; then
	skip "btf-once" "no tp_btf programs (doctor: $(fact bpf.tp_btf.why))"
	exit 0
fi
export FAULTLINE_RUNDIR=$T/run
export FAULTLINE_BTF_CACHE=$T/btf

# parses STRACE-FILE: the opens of the kernel's BTF by processes that did
# not exec bpftool.
parses() {
	python3 - "$1" <<'P'
import sys
lines = open(sys.argv[1]).read().splitlines()
tool = {l.split()[0] for l in lines if 'execve(' in l and 'bpftool' in l}
print(sum(1 for l in lines
          if '/sys/kernel/btf/vmlinux' in l and 'openat(' in l
          and l.split()[0] not in tool))
P
}
traced() { strace -f -qq -e trace=openat,execve -o "$1" "${@:2}"; }
bpf_facts() {
	python3 -c 'import json, sys; d = json.load(sys.stdin)["bpf"]
print(" ".join("%s=%s" % (k, d[k]["available"]) for k in sorted(d)))'
}

# -- doctor: a probe per program type --------------------------------------
traced "$T/st-doc1" "$FAULTLINE" doctor --json >"$T/doc1" 2>/dev/null
check_eq "btf-once: doctor with the cache empty parses the kernel's BTF once" \
	1 "$(parses "$T/st-doc1")"
check "btf-once: and fills the cache" test -s "$(ls "$T"/btf/ids-* 2>/dev/null | head -1)"
traced "$T/st-doc2" "$FAULTLINE" doctor --json >"$T/doc2" 2>/dev/null
check_eq "btf-once: doctor with the cache filled parses none" \
	0 "$(parses "$T/st-doc2")"
check_eq "btf-once: and finds the same program types" \
	"$(bpf_facts <"$T/doc1")" "$(bpf_facts <"$T/doc2")"
# A damaged table (cut short) is made again, not believed.
ids=$(ls "$T"/btf/ids-* 2>/dev/null | head -1)
printf 'f\nt' >"$ids"
"$FAULTLINE" doctor --json >"$T/doc4" 2>/dev/null
check_eq "btf-once: a damaged cache finds the same program types" \
	"$(bpf_facts <"$T/doc1")" "$(bpf_facts <"$T/doc4")"
check "btf-once: and is made again" test "$(stat -c %s "$ids")" -gt 1000

# FAULTLINE_BTF=libbpf: libbpf's own way, a parse per tracing probe.
FAULTLINE_BTF=libbpf traced "$T/st-doc3" "$FAULTLINE" doctor --json >"$T/doc3" 2>/dev/null
check_eq "btf-once: libbpf's own loading finds the same program types" \
	"$(bpf_facts <"$T/doc3")" "$(bpf_facts <"$T/doc2")"
n=$(parses "$T/st-doc3")
check "btf-once: while it parses the kernel's BTF once per tracing probe ($n)" \
	test "$n" -gt 1

# -- run: a syscall fault following forks, a kill proven as it exits --------
sleep 1000 & app=$!; at_exit "kill -9 $app"
sleep 1000 & victim=$!; at_exit "kill -9 $victim"
drill "$T/d.yaml" btf-once 1500ms "app: { pid: $app }
victim: { pid: $victim }"
fault "$T/d.yaml" sc 'syscall: { target: app, calls: [connect], errno: ENETUNREACH, follow-forks: true }' 'at: 100ms' 'for: 1s'
fault "$T/d.yaml" boom 'kill: { target: victim }' 'at: 200ms' 'for: 1s'
run_once() {
	traced "$T/st-$1" "$FAULTLINE" run --no-live --report "$T/$1.json" \
		"$T/d.yaml" >"$T/$1.out" 2>&1
}
for pass in cold warm libbpf; do
	[ $pass = cold ] && rm -rf "$T/btf"
	[ $pass != cold ] && { sleep 1000 & victim=$!; at_exit "kill -9 $victim"
		sed -i "s/victim: { pid: [0-9]* }/victim: { pid: $victim }/" "$T/d.yaml"; }
	if [ $pass = libbpf ]; then
		label=FAULTLINE_BTF=libbpf
		FAULTLINE_BTF=libbpf run_once $pass
	else
		label="$pass cache"
		run_once $pass
	fi
	check_eq "btf-once: run ($label) applies both faults" 2 \
		"$(grep -cE 'fault (sc|boom): applied \(' "$T/$pass.out")"
	check_eq "btf-once: run ($label): the kill is proven as the victim exits" \
		"True tp_btf on sched_process_exit" \
		"$(python3 -c 'import json, sys
f = [f for f in json.load(open(sys.argv[1]))["faults"] if f["name"] == "boom"][0]["observed"]
print(f["victims"][0]["proven"], f["proof"])' "$T/$pass.json" 2>&1)"
	n=$(parses "$T/st-$pass")
	case $pass in
	cold) check_eq "btf-once: run (cold cache) parses the kernel's BTF once" 1 "$n" ;;
	warm) check_eq "btf-once: run (warm cache) parses none of it" 0 "$n" ;;
	libbpf) check "btf-once: run (FAULTLINE_BTF=libbpf) parses it once per object ($n)" test "$n" -gt 1 ;;
	esac
done
