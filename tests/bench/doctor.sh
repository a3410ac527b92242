#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: doctor side by side with what a user would otherwise run,
# reported as ratios (wall time and peak memory).
#
#   doctor   faultline doctor (qdisc kinds tried in a throwaway netns over
#            rtnetlink, BPF program types loaded from one skeleton) versus
#            the same questions asked with ip and tc in an unshared netns
#            plus 'bpftool feature probe'.
#   validate faultline validate of every example; nothing else validates
#            these files, so it is reported alone, as an absolute figure.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
FL=${OUTPUT}faultline
RUNS=${RUNS:-10}
cd "$SRC"

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces, BPF)" >&2
	exit 2
fi

tc_equiv=$(mktemp /tmp/faultline-bench.XXXXXX)
trap 'rm -f "$tc_equiv"' EXIT
cat > "$tc_equiv" <<'SH'
# What doctor finds out, asked with iproute2 and bpftool.
unshare -n sh -c '
ip link add flb0 type veth peer name flb1 && ip link set flb0 up
for k in netem prio htb tbf; do
	tc qdisc add dev flb0 root handle 1: $k >/dev/null 2>&1 && tc qdisc del dev flb0 root
done
tc qdisc add dev flb0 clsact && tc qdisc del dev flb0 clsact
tc qdisc add dev flb0 ingress && tc qdisc del dev flb0 ingress
ip link add flb2 type ifb && ip link del flb2
' >/dev/null 2>&1
bpftool feature probe kernel >/dev/null 2>&1
SH

python3 - "$RUNS" "$FL" "$tc_equiv" <<'PY'
import os, resource, subprocess, sys, time, glob

runs, fl, tc_equiv = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def measure(argv):
    """Median wall seconds over runs, and the peak RSS (KiB) of one run."""
    times, peak = [], 0
    for _ in range(runs):
        pid = os.fork()
        if pid == 0:
            fd = os.open(os.devnull, os.O_RDWR)
            os.dup2(fd, 1); os.dup2(fd, 2)
            os.execvp(argv[0], argv)
        t0 = time.monotonic()
        _, status, ru = os.wait4(pid, 0)
        times.append(time.monotonic() - t0)
        peak = max(peak, ru.ru_maxrss)
        if os.waitstatus_to_exitcode(status) not in (0, 3):
            print(f"bench: {' '.join(argv)} failed: {status}", file=sys.stderr)
            sys.exit(1)
    times.sort()
    return times[len(times) // 2], peak

rows = []
fl_t, fl_m = measure([fl, "--json", "doctor"])
eq_t, eq_m = measure(["sh", tc_equiv])
rows.append(("doctor", "faultline doctor", fl_t, fl_m,
             "ip + tc + bpftool feature probe", eq_t, eq_m))
examples = sorted(glob.glob("examples/*.yaml"))
v_t, v_m = measure([fl, "validate"] + examples)

print(f"bench: {runs} runs each, median wall time, peak RSS of one process tree")
print(f"{'case':10} {'faultline':>12} {'alternative':>12} {'time ratio':>11} {'mem ratio':>10}")
for name, _, t, m, _, at, am in rows:
    print(f"{name:10} {t*1000:10.1f}ms {at*1000:10.1f}ms {t/at:10.2f}x {m/am:9.2f}x")
    print(f"{'':10} faultline: {rows[0][1]}; alternative: {rows[0][4]}")
print(f"{'validate':10} {v_t*1000:10.1f}ms {'-':>12} {'-':>11} {'-':>10}"
      f"  ({len(examples)} example files, {v_m} KiB peak)")
PY
