#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: a partition applied and healed with 10, 1,000 and 10,000
# peer prefixes, side by side, as ratios of wall time:
#
#   faultline  'faultline run' of a drill with one partition fault (the
#              whole command: load, checks, journal, guardian, apply, heal;
#              its 10ms duration is included, though it is never waited
#              for: it ends before apply returns)
#   iptables   one rule per peer and direction, one iptables process per
#              rule (what chaosd and Jepsen do), healed with iptables -F
#   nft set    one nft -f with a set of the peers and two rules, healed by
#              deleting the table
#
# Each runs in a throwaway network namespace (a veth pair with 10.77.x
# addresses, no traffic leaves it).  RUNS (default 5) runs each, median;
# iptables with 10,000 peers runs once (it takes minutes).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
FL=${OUTPUT}faultline
RUNS=${RUNS:-5}
SIZES=${SIZES:-10 1000 10000}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces, BPF)" >&2
	exit 2
fi
for t in iptables nft; do
	command -v $t >/dev/null || { echo "bench: $t is missing (make deps)" >&2; exit 2; }
done

NS=fl-bench-$$
W=$(mktemp -d /tmp/faultline-bench.XXXXXX)
trap 'ip netns del $NS 2>/dev/null; rm -rf "$W"' EXIT
ip netns add $NS
ip -n $NS link add flb0 type veth peer name flb1
ip -n $NS link set flb0 up
ip -n $NS link set flb1 up
ip -n $NS addr add 10.77.250.1/16 dev flb0

python3 - "$RUNS" "$FL" "$NS" "$W" $SIZES <<'PY'
import os, statistics, subprocess, sys, time

runs, fl, ns, w = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sizes = [int(s) for s in sys.argv[5:]]

def peers(n):
    return ["10.77.%d.%d" % (i // 250, i % 250 + 1) for i in range(n)]

def run(argv, check=True):
    t0 = time.monotonic()
    p = subprocess.run(["ip", "netns", "exec", ns] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    if check and p.returncode:
        sys.exit("bench: %s failed (%d): %s" % (argv, p.returncode,
                                                  p.stderr.decode()[-300:]))
    return dt

def median(f, n):
    return statistics.median(f() for _ in range(n))

def files(n):
    ps = peers(n)
    y = os.path.join(w, "p%d.yaml" % n)
    with open(y, "w") as f:
        f.write("name: bench\nduration: 10ms\nfaults:\n  - name: cut\n"
                "    partition:\n      groups:\n        - [10.77.250.1]\n"
                "        - [%s]\n" % ", ".join(ps))
    ipt = os.path.join(w, "ipt%d.sh" % n)
    with open(ipt, "w") as f:
        f.write("iptables -w -A INPUT -p tcp --sport 22 -j ACCEPT\n"
                "iptables -w -A OUTPUT -p tcp --dport 22 -j ACCEPT\n")
        for p in ps:
            f.write("iptables -w -A INPUT -s %s -j DROP\n" % p)
            f.write("iptables -w -A OUTPUT -d %s -j DROP\n" % p)
        f.write("iptables -w -F INPUT\niptables -w -F OUTPUT\n")
    nf = os.path.join(w, "nft%d" % n)
    with open(nf, "w") as f:
        f.write("table inet fl {\n\tset peers {\n\t\ttype ipv4_addr\n"
                "\t\tflags interval\n\t\telements = { %s }\n\t}\n"
                % ", ".join(ps))
        f.write("\tchain input {\n\t\ttype filter hook input priority 0;\n"
                "\t\ttcp sport 22 accept\n\t\tip saddr @peers drop\n\t}\n")
        f.write("\tchain output {\n\t\ttype filter hook output priority 0;\n"
                "\t\ttcp dport 22 accept\n\t\tip daddr @peers drop\n\t}\n}\n")
    nft = os.path.join(w, "nft%d.sh" % n)
    with open(nft, "w") as f:
        f.write("nft -f %s && nft delete table inet fl\n" % nf)
    return y, ipt, nft

rows = []
for n in sizes:
    y, ipt, nft = files(n)
    # The whole command.  The drill's 10ms are not subtracted: the fault
    # has no for, so it is reverted at the drill's end, which has passed
    # by the time apply returns; those 10ms are never waited for.
    t_fl = median(lambda: run([fl, "run", "--quiet", y]), runs)
    t_ipt = median(lambda: run(["sh", ipt]), 1 if n >= 10000 else runs)
    t_nft = median(lambda: run(["sh", nft]), runs)
    rows.append((n, t_fl, t_ipt, t_nft))
    print("partition %5d peers: faultline %8.3fs  iptables %8.3fs (x%.1f)"
          "  nft set %8.3fs (x%.1f)" % (n, t_fl, t_ipt, t_ipt / t_fl,
                                       t_nft, t_nft / t_fl), flush=True)

print()
print("| peers | faultline | iptables, a rule per peer | ratio | nft set | ratio |")
print("|------:|----------:|--------------------------:|------:|--------:|------:|")
for n, a, b, c in rows:
    print("| %d | %.3f s | %.3f s | %.1fx | %.3f s | %.2fx |" %
          (n, a, b, b / a, c, c / a))
PY
