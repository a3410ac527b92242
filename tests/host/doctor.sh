#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# faultline doctor on this machine: the facts it must report here (a
# hybrid-cgroup kernel without sch_netem, sch_prio or kprobes, where LSM
# programs are refused), and that probing left nothing behind.
source "$(dirname "$0")/../lib.sh"

# What the host looks like, to compare after the probes.
snapshot() {
	ip -o link | awk -F': ' '{ print $2 }' | sort
	echo '--- netns'
	ip netns list 2>/dev/null | sort
	echo '--- mounts'
	awk '{ print $5 }' /proc/self/mountinfo | sort
}
snapshot >"$T/before"

out=$("$FAULTLINE" doctor 2>"$T/err"); rc=$?
check_eq "doctor exits 0" 0 "$rc"
for section in System Cgroups Qdiscs 'BPF programs' 'What this means'; do
	check_match "doctor text has section '$section'" "^$section" "$out"
done
check_match "doctor text: kernel release" \
	"^  kernel +$(uname -r | sed 's/[.]/[.]/g')\$" "$out"
check_match "doctor text: netem is missing" '^  netem +no +sch_netem' "$out"
check_match "doctor text: htb is available" '^  htb +yes' "$out"
check_match "doctor text: memory on v1" '^  memory +v1 at ' "$out"
check_eq "doctor prints nothing on stderr" "" "$(cat "$T/err")"

"$FAULTLINE" --json doctor >"$T/doctor.json" 2>"$T/err"; rc=$?
check_eq "doctor --json exits 0" 0 "$rc"
check "doctor --json is one JSON document" \
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
	"$T/doctor.json"

# get PATH: a value of the JSON output ("qdiscs.netem.available"); strings
# raw, everything else as JSON (true, false, null).
get() {
	python3 - "$T/doctor.json" "$1" <<'EOF' 2>/dev/null || echo '<missing>'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[k]
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

check_eq "kernel release is uname -r" "$(uname -r)" "$(get system.kernel)"
check_eq "BTF is present" true "$(get system.btf)"
check_eq "memory controller on cgroup v1" v1 "$(get cgroups.memory.mode)"
check_eq "memory layout is hybrid" hybrid "$(get cgroups.memory.layout)"
check_eq "memory mount" /sys/fs/cgroup/memory "$(get cgroups.memory.mount)"
check_eq "cgroup v2 mount" /sys/fs/cgroup/unified \
	"$(get cgroups.unified_mount)"
check_eq "pids controller on v1" v1 "$(get cgroups.controllers.pids.mode)"
check_eq "netem unavailable" false "$(get qdiscs.netem.available)"
check_match "netem: why names sch_netem" '^sch_netem: ' \
	"$(get qdiscs.netem.why)"
check_eq "prio unavailable" false "$(get qdiscs.prio.available)"
check_eq "htb available" true "$(get qdiscs.htb.available)"
check_eq "tbf available" true "$(get qdiscs.tbf.available)"
check_eq "clsact available" true "$(get qdiscs.clsact.available)"
check_eq "ifb available" true "$(get qdiscs.ifb.available)"
check_eq "sched_cls loads" true "$(get bpf.sched_cls.available)"
check_eq "cgroup sock_addr loads" true \
	"$(get bpf.cgroup_sock_addr.available)"
check_eq "lsm refused" false "$(get bpf.lsm.available)"
check_eq "lsm was tested" true "$(get bpf.lsm.tested)"
check_eq "kprobe override refused" false \
	"$(get bpf.kprobe:override.available)"

cons=$(python3 - "$T/doctor.json" <<'EOF'
import json, sys
for c in json.load(open(sys.argv[1]))["consequences"]:
    print("%s: %s: %s" % (c["area"], c["status"], c["detail"]))
EOF
)
check_match "consequence: netem faults unavailable, exit 3" \
	'^netem faults: unavailable: sch_netem missing; plan and run exit 3' \
	"$cons"
check_match "consequence: matched subsets would use htb" \
	'^matched netem subsets: .*use htb \(prio is missing\)' "$cons"
check_match "consequence: syscall route 3 available" \
	'^syscall faults: partial: .*route 3 \(cgroup sock_addr\) available' \
	"$cons"
check_match "consequence: memory on v1 uses memsw" \
	'^memory: available: cgroup v1 \(hybrid\).*memory\.memsw\.limit_in_bytes' \
	"$cons"

check_status "doctor --help" 0 "$FAULTLINE" doctor --help
check_status "doctor with a stray argument" 2 "$FAULTLINE" doctor extra

# Nothing left behind: no namespace, veth, ifb device or securityfs mount.
snapshot >"$T/after"
if diff -u "$T/before" "$T/after" >"$T/diff"; then
	ok "no device, netns or mount left behind"
else
	notok "no device, netns or mount left behind"
	sed 's/^/#   /' "$T/diff"
fi
check_eq "no probe device on the host" "" \
	"$(ip -o link | grep -o 'flprobe[^:@ ]*')"
exit 0
