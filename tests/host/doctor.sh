#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# faultline doctor on this machine, whatever the machine: each fact it
# reports is compared with what this script finds by other means (uname,
# /proc/self/mounts, tc in a throwaway namespace), the text with the JSON,
# and the consequences with the facts; and probing left nothing behind.
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
check_eq "doctor prints nothing on stderr" "" "$(cat "$T/err")"

# This script's own doctor run, not tests/run's cached one.
"$FAULTLINE" --json doctor >"$T/doctor.json" 2>"$T/err"; rc=$?
FL_FACTS=$T/doctor.json
check_eq "doctor --json exits 0" 0 "$rc"
check "doctor --json is one JSON document" \
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
	"$T/doctor.json"
get() { fact "$1"; }

# Nothing left behind by doctor: no namespace, veth, ifb device or
# securityfs mount (compared now, before this script makes namespaces of
# its own, whose first one may mount /run/netns).
snapshot >"$T/after"
if diff -u "$T/before" "$T/after" >"$T/diff"; then
	ok "no device, netns or mount left behind"
else
	notok "no device, netns or mount left behind"
	sed 's/^/#   /' "$T/diff"
fi
check_eq "no probe device on the host" "" \
	"$(ip -o link | grep -o 'flprobe[^:@ ]*')"
yesno() { [ "$1" = true ] && echo yes || echo no; }

# --- System. ----------------------------------------------------------------
check_eq "kernel release is uname -r" "$(uname -r)" "$(get system.kernel)"
check_eq "BTF: /sys/kernel/btf/vmlinux" \
	"$([ -e /sys/kernel/btf/vmlinux ] && echo true || echo false)" \
	"$(get system.btf)"
check_eq "root: id -u" "$([ "$(id -u)" = 0 ] && echo true || echo false)" \
	"$(get system.root)"

# --- Cgroups, from /proc/self/mounts. ----------------------------------------
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/self/mounts | head -1)
memv1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' /proc/self/mounts)
if [ -n "$v2" ] && [ -n "$v1" ]; then layout=hybrid
elif [ -n "$v2" ]; then layout=v2
elif [ -n "$v1" ]; then layout=v1
else layout=none; fi
check_eq "cgroup layout ($layout, from /proc/self/mounts)" "$layout" \
	"$(get cgroups.layout)"
if [ -n "$v2" ]; then
	check_eq "cgroup v2 mount" "$v2" "$(get cgroups.unified_mount)"
fi
if [ -n "$memv1" ]; then
	mode=v1 mount=$memv1
elif [ -n "$v2" ] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null; then
	mode=v2 mount=$v2
else
	mode=none mount=
fi
check_eq "memory controller: $mode (from /proc/self/mounts)" "$mode" \
	"$(get cgroups.memory.mode)"
if [ "$mode" != none ]; then
	check_eq "memory mount" "$mount" "$(get cgroups.memory.mount)"
	check_match "doctor text: memory on $mode" "^  memory +$mode at $mount" "$out"
else
	skip "memory mount" "no memory controller mounted"
fi
if [ "$mode" = v1 ]; then
	memsw=$([ -e "$mount/memory.memsw.limit_in_bytes" ] && echo true || echo false)
	check_eq "memsw: memory.memsw.limit_in_bytes" "$memsw" "$(get cgroups.memory.memsw)"
fi

# --- Qdiscs: tried here with tc in a namespace of this script's. ------------
ns=fl-doc-$$
if netns_pair "$ns" "$ns-b" 10.77.0.1/24 10.77.0.2/24 veth0; then
	for q in netem prio htb tbf; do
		tc -n "$ns" qdisc del dev veth0 root 2>/dev/null
		case $q in
		netem) args="netem delay 1ms" ;;
		prio) args="prio" ;;
		htb) args="htb default 1" ;;
		tbf) args="tbf rate 1mbit burst 32kb latency 50ms" ;;
		esac
		if tc -n "$ns" qdisc add dev veth0 root $args 2>/dev/null; then want=true; else want=false; fi
		check_eq "$q: as tc finds it ($want)" "$want" "$(get qdiscs.$q.available)"
		check_match "doctor text: $q $(yesno "$want")" "^  $q +$(yesno "$want")" "$out"
	done
	tc -n "$ns" qdisc del dev veth0 root 2>/dev/null
	if tc -n "$ns" qdisc add dev veth0 clsact 2>/dev/null; then want=true; else want=false; fi
	check_eq "clsact: as tc finds it ($want)" "$want" "$(get qdiscs.clsact.available)"
	if ip -n "$ns" link add flifb0 type ifb 2>/dev/null; then want=true; else want=false; fi
	check_eq "ifb: as ip finds it ($want)" "$want" "$(get qdiscs.ifb.available)"
	netns_del "$ns" "$ns-b"
else
	skip "qdiscs compared with tc" "cannot make network namespaces"
fi
if [ "$(get qdiscs.netem.available)" = false ]; then
	check_match "netem: why names sch_netem" '^sch_netem: ' "$(get qdiscs.netem.why)"
fi

# --- BPF: what was tried, and what the LSM list allows. ----------------------
for b in sched_cls cgroup_sock_addr lsm kprobe:override; do
	check_eq "bpf $b was tested" true "$(get "bpf.$b.tested")"
	check_match "doctor text: $b $(yesno "$(get "bpf.$b.available")")" \
		"^  $b +$(yesno "$(get "bpf.$b.available")")" "$out"
done
lsms=$(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["system"]["lsm"] or []))' "$T/doctor.json" 2>/dev/null)
if [ -n "$lsms" ] && ! grep -qw bpf <<<"$lsms"; then
	check_eq "lsm refused: bpf is not an active LSM ($lsms)" false "$(get bpf.lsm.available)"
fi

# --- What this means: each consequence follows from the facts. --------------
cons=$(python3 - "$T/doctor.json" <<'EOF'
import json, sys
for c in json.load(open(sys.argv[1]))["consequences"]:
    print("%s: %s: %s" % (c["area"], c["status"], c["detail"]))
EOF
)
netem=$(get qdiscs.netem.available) prio=$(get qdiscs.prio.available)
htb=$(get qdiscs.htb.available)
if [ "$netem" = true ]; then
	check_match "consequence: netem faults available" \
		'^netem faults: available: .*through sch_netem' "$cons"
else
	check_match "consequence: netem faults unavailable, exit 3" \
		'^netem faults: unavailable: sch_netem missing; plan and run exit 3' "$cons"
fi
if [ "$prio" = true ] && [ "$htb" = true ]; then
	check_match "consequence: matched subsets use prio" \
		'^matched netem subsets: [a-z]+: .*use prio' "$cons"
elif [ "$htb" = true ]; then
	check_match "consequence: matched subsets would use htb" \
		'^matched netem subsets: .*use htb \(prio is missing\)' "$cons"
elif [ "$prio" = true ]; then
	check_match "consequence: matched subsets would use prio" \
		'^matched netem subsets: .*use prio \(htb is missing\)' "$cons"
fi
if [ "$(get bpf.cgroup_sock_addr.available)" = true ]; then
	check_match "consequence: syscall route 3 available" \
		'^syscall faults: [a-z]+: .*route 3 \(cgroup sock_addr\) available' "$cons"
else
	check_match "consequence: syscall route 3 unavailable" \
		'^syscall faults: [a-z]+: .*route 3 \(cgroup sock_addr\) unavailable' "$cons"
fi
# The rate: key is netem's own: doctor's "rate limits" is what plan does
# with a rate fault (no tbf or htb is ever used).
printf 'name: rate\nduration: 10s\nfaults:\n  - name: r\n    netem: { device: lo, rate: 1mbit }\n' >"$T/rate.yaml"
"$FAULTLINE" plan "$T/rate.yaml" >/dev/null 2>&1; rc=$?
check_match "consequence: rate limits $([ $rc = 0 ] && echo available || echo unavailable) as plan finds (exit $rc)" \
	"^rate limits: $([ $rc = 0 ] && echo available || echo unavailable): the netem fault's rate" "$cons"

# Each syscall route doctor lists, with its calls and target kinds, is the
# route plan takes (the first available route that lists the call and
# kind), and a call no available route lists is refused.
sleep 600 & sleeper=$!
at_exit "kill $sleeper"
python3 - "$T/doctor.json" "$FAULTLINE" "$sleeper" "$T" <<'PY'
import json, subprocess, sys
doc, fl, pid, tmp = sys.argv[1:5]
cons = json.load(open(doc))["consequences"]
routes = [c for c in cons if c["area"] == "syscall faults"][0].get("routes")
if routes is None:
    print("not ok - doctor --json: syscall faults lists its routes")
    sys.exit(0)
words = {"fmod_ret on the syscall entry": "fmod_ret",
         "kprobe with bpf_override_return": "kprobe", "BPF LSM": "lsm",
         "fmod_ret on security_* hooks": "fmod_security",
         "cgroup sock_addr hooks with bpf_set_retval": "cgroup",
         "seccomp user notification": "seccomp", "none": "none"}
calls = {"recvmsg", "recvfrom", "fsync", "openat", "connect"}
for r in routes:
    calls |= set(r["calls"] or [])
for kind, target in (("pid", "{ pid: %s }" % pid),
                     ("command", '{ command: [sleep, "60"] }')):
    want = {}
    for c in sorted(calls):
        want[c] = "none"
        for r in routes:
            if r["available"] and kind in r["targets"] and \
               (r["calls"] is None or c in r["calls"]):
                want[c] = r["mechanism"]
                break
    faults = "".join("  - name: f-%s\n    syscall: { target: app, calls: "
                     "[%s], errno: EIO }\n" % (c, c) for c in sorted(calls))
    path = "%s/routes-%s.yaml" % (tmp, kind)
    open(path, "w").write("name: routes\nduration: 10s\ntargets:\n  app: "
                          "%s\nfaults:\n%s" % (target, faults))
    out = subprocess.run([fl, "--json", "plan", path], capture_output=True,
                         text=True).stdout
    got = {f["name"][2:]: words.get(f.get("mechanism", "").split(" (")[0],
                                    f.get("mechanism"))
           for f in json.loads(out)["faults"]}
    for c in sorted(calls):
        name = "doctor's syscall routes: %s on a %s target takes %s (plan)" % (
            c, kind, want[c])
        if got.get(c) == want[c]:
            print("ok - " + name)
        else:
            print("not ok - %s # plan: %s" % (name, got.get(c)))
PY

# Each missing capability names the steps of run that fail without it.
priv=$(grep '^privileges: ' <<<"$cons")
for cap in cap_net_admin cap_sys_admin cap_sys_resource; do
	[ "$(get "system.capabilities.$cap")" = false ] || continue
	check_match "consequence: without $cap names the steps it breaks" \
		"without $cap: [a-z]+ [a-z]+ .*(fault|faults|BPF)" "$priv"
done
if command -v capsh >/dev/null && [ "$(id -u)" = 0 ]; then
	priv=$(capsh --drop=cap_net_admin -- -c "\"$FAULTLINE\" doctor" | grep -A3 '^  privileges: ')
	check_match "doctor without cap_net_admin: netem, partition and link faults fail" \
		'without cap_net_admin: netem, partition and link faults' "$(tr -s ' \n' ' ' <<<"$priv")"
else
	skip "doctor without cap_net_admin" "capsh (libcap2-bin) and root"
fi
check_eq "no privilege line says only 'a step of run'" "" \
	"$(grep -o 'a step of run that needs it' <<<"$cons")"

case $mode in
v1)	sw='memory\.limit_in_bytes'
	[ "$memsw" = true ] && sw="$sw and memory\\.memsw\\.limit_in_bytes"
	check_match "consequence: memory on v1" "^memory: available: cgroup v1.* at $mount: oom faults use $sw" "$cons" ;;
v2)	check_match "consequence: memory on v2" "^memory: available: cgroup v2 at $mount: oom faults use memory\.max" "$cons" ;;
none)	check_match "consequence: no memory controller" '^memory: unavailable: ' "$cons" ;;
esac
if [ "$mode" != none ] && [ "$(get bpf.tp_btf.available)" = true ]; then
	check_match "consequence: the oom proof captures exits" \
		'^oom proof: available: .*captured as it exits' "$cons"
elif [ "$mode" != none ]; then
	check_match "consequence: the oom proof reads the zombie" \
		'^oom proof: [a-z]+: no exit capture' "$cons"
fi
for area in 'netem faults' partitions 'syscall faults' memory; do
	check_match "doctor text: consequence '$area'" "^  $area: " "$out"
done

check_status "doctor --help" 0 "$FAULTLINE" doctor --help
check_status "doctor with a stray argument" 2 "$FAULTLINE" doctor extra

exit 0
