#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: apply plus revert of one netem qdisc on a veth in a namespace,
# faultline against the two tc commands a user would run, side by side.
#
#   netem      faultline run of a netem fault (delay 10ms) lasting 1 ms:
#              process start, YAML, check, tc state saved in the journal
#              (fsync), guardian, apply over rtnetlink with read-back,
#              observe, revert, report; versus
#              'tc qdisc add dev eth0 root netem delay 10ms' + 'tc qdisc del'.
#   matched    the same with match: (prio parent, u32 filters, netem), versus
#              tc qdisc add prio + tc qdisc add netem + tc filter add + del.
#
# Needs sch_netem: on a kernel without it (like the development host) the
# script runs itself under the stock kernel in QEMU with tools/vmtest, whose
# absolute times are slow (TCG) but whose ratios still compare the two.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
FL=${OUTPUT}faultline
RUNS=${RUNS:-20}
cd "$SRC"

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 2
fi
if ! modprobe sch_netem 2>/dev/null && ! grep -qs '^sch_netem ' /proc/modules; then
	if [ "${VMTEST:-}" = 1 ]; then
		echo "bench: no sch_netem in the VM either" >&2; exit 1
	fi
	echo "this kernel has no sch_netem: running under tools/vmtest (QEMU TCG, stock kernel)"
	exec "$SRC/tools/vmtest" --timeout 900 --env RUNS="$RUNS" -- bash "$0"
fi

ns=flbench-$$
ip netns add $ns || exit 1
trap 'ip netns del $ns' EXIT
ip -n $ns link add eth0 type veth peer name eth1
ip -n $ns link set eth0 up
ip -n $ns link set eth1 up
export FAULTLINE_RUNDIR=$(mktemp -d /tmp/flbench.XXXXXX)
cat >"$FAULTLINE_RUNDIR/one.yaml" <<'Y'
name: bench
duration: 1ms
faults:
  - name: one
    netem: { device: eth0, delay: 10ms }
Y
cat >"$FAULTLINE_RUNDIR/matched.yaml" <<'Y'
name: bench
duration: 1ms
faults:
  - name: one
    netem: { device: eth0, delay: 10ms, match: { to: 10.9.0.0/16, ports: 5432 } }
Y
cat >"$FAULTLINE_RUNDIR/tc-one.sh" <<'SH'
tc qdisc add dev eth0 root handle 1: netem delay 10ms && tc qdisc del dev eth0 root
SH
cat >"$FAULTLINE_RUNDIR/tc-matched.sh" <<'SH'
tc qdisc add dev eth0 root handle 1: prio bands 3 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 &&
tc qdisc add dev eth0 parent 1:2 handle 2: netem delay 10ms &&
tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.9.0.0/16 match ip sport 5432 0xffff flowid 1:2 &&
tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.9.0.0/16 match ip dport 5432 0xffff flowid 1:2 &&
tc qdisc del dev eth0 root
SH

python3 - "$RUNS" "$FL" "$ns" "$FAULTLINE_RUNDIR" <<'PY'
import os, subprocess, sys, time

runs, fl, ns, d = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def measure(argv):
    """Median wall seconds over runs."""
    times = []
    # One run first, not counted: caches (the VM reads files over 9p).
    subprocess.run(["ip", "netns", "exec", ns] + argv,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.run(["ip", "netns", "exec", ns] + argv,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.monotonic() - t0)
        if p.returncode != 0:
            print(f"bench: {' '.join(argv)} failed: {p.stderr.decode()}",
                  file=sys.stderr)
            sys.exit(1)
    times.sort()
    return times[len(times) // 2]

print(f"bench: {runs} runs each, median wall time (both sides include "
      "'ip netns exec')")
print(f"{'case':10} {'faultline':>12} {'tc':>12} {'ratio':>8}")
for name, yaml, sh in (("netem", "one.yaml", "tc-one.sh"),
                       ("matched", "matched.yaml", "tc-matched.sh")):
    f = measure([fl, "run", "--quiet", f"{d}/{yaml}"])
    t = measure(["sh", f"{d}/{sh}"])
    print(f"{name:10} {f*1000:10.1f}ms {t*1000:10.1f}ms {f/t:7.2f}x")
PY
rc=$?
rm -rf "$FAULTLINE_RUNDIR"
exit $rc
