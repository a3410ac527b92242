#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: is every fault on time?  Per engine, RUNS drills (default 3)
# of N faults each (default 20, each 60 ms long, 120 ms apart; 500 ms for
# oom); from each report the apply lag (applied_t - at) and the
# revert lag (reverted_t - due end: for counts from the apply), min /
# median / p90 / max in microseconds; and an outside observer's view of
# the same instants:
#   partition  UDP packets every PERIOD_US (default 200) from a network
#              namespace where faultline runs to its peer's: the first
#              packet lost and the first one through again, by their send
#              times, against the report's applied and reverted instants
#   syscall    a process in a cgroup v2 folder this script makes, calling
#              connect() on a UDP socket in a loop: the first call that
#              fails with the fault's errno, and the first that succeeds
#              again (cgroup/connect4 route)
#   oom        (no observer: the report's lag only) a squeeze to 512M of a
#              v1/v2 memory cgroup this script makes, holding a sleeper
# The observer's figures are "observed minus report" (positive: the effect
# was seen after the report's instant); their resolution is the
# observer's own interval, printed with them.
#
# Then, side by side: one `faultline run` of a one-peer partition (the
# whole command, and less the 10 ms the drill holds the partition on
# purpose, from its report) next to one `nft -f` of a one-peer set and
# its `nft delete table`; and the time from a squeeze to the kernel's kill of a 256
# MiB and a 1 GiB hog (tests/helpers/memhog) in a cgroup this script
# makes, KILL_RUNS each (default 3); the 1 GiB hog is skipped, saying so,
# unless MemAvailable holds it with 1 GiB to spare.
#
# The load average is printed first: on a busy machine the lags are the
# machine's as much as faultline's.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
FL=${OUTPUT}faultline
MEMHOG=${OUTPUT}tests/helpers/memhog
RUNS=${RUNS:-3}
N=${N:-20}
PERIOD_US=${PERIOD_US:-200}
KILL_RUNS=${KILL_RUNS:-3}
ENGINES=${ENGINES:-partition syscall oom}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces, BPF, cgroups)" >&2
	exit 2
fi
command -v nft >/dev/null || { echo "bench: nft is missing (make deps)" >&2; exit 2; }
[ -x "$MEMHOG" ] || { echo "bench: build tests/helpers/memhog (make tests)" >&2; exit 2; }

T=$(mktemp -d /tmp/faultline-bench.XXXXXX)
export FAULTLINE_RUNDIR=$T/run
NA=fl-tl-a-$$ NB=fl-tl-b-$$
uni=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
mem=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
memusage=memory.usage_in_bytes
[ -n "$mem" ] || { mem=$uni; memusage=memory.current; }
cgs=()
cleanup() {
	local c p
	kill -9 $(jobs -p) 2>/dev/null
	# What a failed drill left in this bench's own journal.
	"$FL" recover --quiet >/dev/null 2>&1
	for c in "${cgs[@]}"; do	# our own cgroups: what is in them is ours
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	done
	wait 2>/dev/null
	# A killed process leaves its cgroup a moment later: try for 3 s.
	for c in "${cgs[@]}"; do
		for _ in $(seq 30); do rmdir "$c" 2>/dev/null && break; sleep 0.1; done
	done
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"

# drill FILE ENGINE-LINE: N faults of one engine, 60 ms each, GAP ms
# apart (default 120; for counts from the apply, so a fault whose apply
# is later than GAP - 60 ms overlaps the next one).
drill() {
	local i gap=${GAP:-120}
	{
		echo "name: timeline"
		echo "duration: $((300 + N * gap))ms"
		[ -n "${TARGETS:-}" ] && printf 'targets:\n%s\n' "$TARGETS"
		echo "faults:"
		for i in $(seq 0 $((N - 1))); do
			echo "  - name: f$i"
			echo "    at: $((200 + i * gap))ms"
			echo "    for: 60ms"
			echo "    $2"
		done
	} > "$1"
}

# lags REPORTS...: the report's apply and revert lags, one line per fault.
lags() {
	python3 - "$@" <<'PY'
import json, sys
for p in sys.argv[1:]:
    r = json.load(open(p))
    for f in r["faults"]:
        l = f.get("lag") or {}
        print(l.get("apply_us"), l.get("revert_us"), r["started_unix"] +
              (f["applied_t"] or 0), r["started_unix"] + (f["reverted_t"] or 0))
PY
}

# stats TITLE FILE COLUMN: min / median / p90 / max of a column in µs.
stats() {
	python3 - "$@" <<'PY'
import sys
title, path, col = sys.argv[1], sys.argv[2], int(sys.argv[3])
v = sorted(float(l.split()[col]) for l in open(path)
           if l.split()[col] not in ("None", "nan"))
if not v:
    print("| %s | no data |" % title); sys.exit()
def pct(p):
    k = (len(v) - 1) * p / 100; lo = int(k); hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)
print("| %s | %d | %.0f | %.0f | %.0f | %.0f |" % (title, len(v), v[0], pct(50), pct(90), v[-1]))
PY
}

header() {
	echo
	echo "| $1 | n | min µs | median µs | p90 µs | max µs |"
	echo "|---|--:|--:|--:|--:|--:|"
}

# ready FILE: an observer is listening for SIGTERM (FILE.ready), up to 30 s.
ready() {
	local i
	for i in $(seq 300); do
		[ -e "$1.ready" ] && { rm -f "$1.ready"; return 0; }
		sleep 0.1
	done
	echo "bench: the observer writing $1 never started" >&2
	return 1
}

# --- partition -----------------------------------------------------------
part_setup() {
	ip netns add $NA && ip netns add $NB &&
	ip -n $NA link add tla0 type veth peer name tlb0 netns $NB &&
	ip -n $NA addr add 10.77.9.1/24 dev tla0 && ip -n $NA link set tla0 up &&
	ip -n $NB addr add 10.77.9.2/24 dev tlb0 && ip -n $NB link set tlb0 up &&
	ip -n $NA link set lo up && ip -n $NB link set lo up
}

# The observer: a receiver in B and a sender in A, each writing what it
# saw when it is told to stop (SIGTERM).
part_observe() {
	ip netns exec $NB python3 - "$T/recv" <<'PY' &
import signal, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.9.2", 9999)); got = []
def stop(*a):
    open(sys.argv[1], "w").write("\n".join(map(str, got))); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[1] + ".ready", "w")
while True:
    got.append(struct.unpack("!Q", s.recv(64)[:8])[0])
PY
	recv=$!
	ready "$T/recv"
	ip netns exec $NA python3 - "$T/sent" "$PERIOD_US" <<'PY' &
import signal, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
period = int(sys.argv[2]) / 1e6; sent = []; seq = 0
def stop(*a):
    open(sys.argv[1], "w").write("\n".join("%d %d" % x for x in sent)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[1] + ".ready", "w")
while True:
    t = time.time_ns()
    s.sendto(struct.pack("!Q", seq), ("10.77.9.2", 9999))
    sent.append((seq, t)); seq += 1
    time.sleep(period)
PY
	send=$!
	ready "$T/sent"
	sleep 0.1
}

part_stop() {
	kill -TERM $send; wait $send 2>/dev/null
	sleep 0.2
	kill -TERM $recv; wait $recv 2>/dev/null
}

# observed SENT RECV LAGS: per fault "observed apply - report, observed
# revert - report" in µs, from the packets.
part_observed() {
	python3 - "$@" <<'PY'
import sys, bisect
sent = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
got = set(int(l) for l in open(sys.argv[2]) if l.strip())
times = [t for _, t in sent]
gaps = [b - a for a, b in zip(times, times[1:])]
gaps.sort()
for l in open(sys.argv[3]):
    a, r = [float(x) * 1e9 for x in l.split()[2:4]]
    i = bisect.bisect_left(times, a - 30e6)
    j = bisect.bisect_right(times, r + 30e6)
    lost = [k for k in range(i, j) if sent[k][0] not in got]
    if not lost:
        print("None None"); continue
    back = next((k for k in range(lost[-1] + 1, len(sent)) if sent[k][0] in got), None)
    print("%.0f %s" % ((times[lost[0]] - a) / 1e3,
                      "%.0f" % ((times[back] - r) / 1e3) if back else "None"))
print("# interval %.0f µs median, %.0f µs p99" % (gaps[len(gaps) // 2] / 1e3,
      gaps[int(len(gaps) * 0.99)] / 1e3), file=sys.stderr)
PY
}

bench_partition() {
	local k
	part_setup || { echo "partition: cannot make the namespaces"; return 1; }
	TARGETS="" drill "$T/p.yaml" "partition: { groups: [[10.77.9.1], [10.77.9.2]] }"
	: > "$T/p.lags"; : > "$T/p.obs"
	for k in $(seq "$RUNS"); do
		part_observe
		ip netns exec $NA "$FL" run --quiet --report "$T/p$k.json" "$T/p.yaml" \
			> "$T/p.out" 2>&1 || { echo "partition: run failed:"; tail -3 "$T/p.out"; }
		part_stop
		lags "$T/p$k.json" > "$T/p$k.lags"
		cat "$T/p$k.lags" >> "$T/p.lags"
		part_observed "$T/sent" "$T/recv" "$T/p$k.lags" >> "$T/p.obs" 2>> "$T/p.int"
	done
	header "partition"
	stats "apply lag (report)" "$T/p.lags" 0
	stats "revert lag (report)" "$T/p.lags" 1
	stats "packets: first lost − applied_t" "$T/p.obs" 0
	stats "packets: first through − reverted_t" "$T/p.obs" 1
	sed 's/^# /observer /' "$T/p.int" | sort -u
}

# --- syscall -------------------------------------------------------------
bench_syscall() {
	local k cg=$uni/flbench-tl-$$
	[ -n "$uni" ] || { echo "syscall: no cgroup v2 mount"; return 0; }
	mkdir "$cg" && cgs+=("$cg")
	TARGETS="  app: { cgroup: $cg }" drill "$T/s.yaml" \
		"syscall: { target: app, calls: [connect], errno: EPERM }"
	: > "$T/s.lags"; : > "$T/s.obs"
	for k in $(seq "$RUNS"); do
		python3 - "$cg" "$T/calls" "$PERIOD_US" <<'PY' &
import errno, os, signal, socket, sys, time
open(sys.argv[1] + "/cgroup.procs", "w").write(str(os.getpid()))
period = int(sys.argv[3]) / 1e6; calls = []
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def stop(*a):
    open(sys.argv[2], "w").write("\n".join("%d %d" % c for c in calls)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[2] + ".ready", "w")
while True:
    t = time.time_ns()
    try:
        s.connect(("127.0.0.1", 9)); e = 0
    except OSError as x:
        e = x.errno
    calls.append((t, e))
    time.sleep(period)
PY
		obs=$!
		ready "$T/calls"
		"$FL" run --quiet --report "$T/s$k.json" "$T/s.yaml" > "$T/s.out" 2>&1 ||
			{ echo "syscall: run failed:"; tail -3 "$T/s.out"; }
		kill -TERM $obs; wait $obs 2>/dev/null
		lags "$T/s$k.json" > "$T/s$k.lags"
		cat "$T/s$k.lags" >> "$T/s.lags"
		python3 - "$T/calls" "$T/s$k.lags" >> "$T/s.obs" 2>> "$T/s.int" <<'PY'
import sys, bisect
calls = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
times = [t for t, _ in calls]
gaps = sorted(b - a for a, b in zip(times, times[1:]))
for l in open(sys.argv[2]):
    a, r = [float(x) * 1e9 for x in l.split()[2:4]]
    i = bisect.bisect_left(times, a - 30e6); j = bisect.bisect_right(times, r + 30e6)
    bad = [k for k in range(i, j) if calls[k][1] == 1]	# EPERM
    if not bad:
        print("None None"); continue
    back = next((k for k in range(bad[-1] + 1, len(calls)) if calls[k][1] != 1), None)
    print("%.0f %s" % ((times[bad[0]] - a) / 1e3,
                      "%.0f" % ((times[back] - r) / 1e3) if back else "None"))
print("# interval %.0f µs median, %.0f µs p99" % (gaps[len(gaps) // 2] / 1e3,
      gaps[int(len(gaps) * 0.99)] / 1e3), file=sys.stderr)
PY
	done
	header "syscall (cgroup/connect4)"
	stats "apply lag (report)" "$T/s.lags" 0
	stats "revert lag (report)" "$T/s.lags" 1
	stats "calls: first EPERM − applied_t" "$T/s.obs" 0
	stats "calls: first success − reverted_t" "$T/s.obs" 1
	sed 's/^# /observer /' "$T/s.int" | sort -u
}

# --- oom: the squeeze's lag ----------------------------------------------
bench_oom() {
	local k cg=$mem/flbench-tl-oom-$$
	mkdir "$cg" && cgs+=("$cg")
	sleep 1000 & echo $! > "$cg/cgroup.procs"
	# The squeeze's apply is slow on a loaded machine: 500 ms apart, so
	# that two faults on the one cgroup never overlap.
	GAP=500 TARGETS="  app: { cgroup: $cg }" drill "$T/o.yaml" \
		"oom: { target: app, squeeze: { to: 512M } }"
	: > "$T/o.lags"
	for k in $(seq "$RUNS"); do
		"$FL" run --quiet --report "$T/o$k.json" "$T/o.yaml" > "$T/o.out" 2>&1 ||
			{ [ $? = 1 ] || { echo "oom: run failed:"; tail -3 "$T/o.out"; }; }
		lags "$T/o$k.json" >> "$T/o.lags"
	done
	header "oom (squeeze to 512M, $(basename "$(dirname "$cg")") memory cgroup)"
	stats "apply lag (report)" "$T/o.lags" 0
	stats "revert lag (report)" "$T/o.lags" 1
}

# --- one partition: faultline run against nft -f -------------------------
bench_nft() {
	[ -e /run/netns/$NA ] || part_setup || return 1
	printf 'name: one\nduration: 10ms\nfaults:\n  - name: cut\n    partition: { groups: [[10.77.9.1], [10.77.9.2]] }\n' > "$T/one.yaml"
	cat > "$T/one.nft" <<'NFT'
table inet fl {
	set peers { type ipv4_addr; elements = { 10.77.9.2 } }
	chain input { type filter hook input priority 0; ip saddr @peers drop; }
	chain output { type filter hook output priority 0; ip daddr @peers drop; }
}
NFT
	python3 - "$FL" "$NA" "$T" <<'PY'
import json, statistics, subprocess, sys, time
fl, ns, t = sys.argv[1:4]
def run(argv):
    t0 = time.monotonic()
    subprocess.run(["ip", "netns", "exec", ns] + argv, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.monotonic() - t0) * 1e3
flr, app, hold, nf, nd = [], [], [], [], []
for i in range(7):
    flr.append(run([fl, "run", "--quiet", "--report", t + "/one.json", t + "/one.yaml"]))
    r = json.load(open(t + "/one.json"))["faults"][0]
    app.append(r["lag"]["apply_us"] / 1e3)
    hold.append((r["reverted_t"] - r["applied_t"]) * 1e3)
    nf.append(run(["nft", "-f", t + "/one.nft"]))
    nd.append(run(["nft", "delete", "table", "inet", "fl"]))
m = statistics.median
print()
print("| one partition, 1 peer (median of 7) | ms |")
print("|---|--:|")
print("| faultline run (whole command) | %.1f |" % m(flr))
print("| of which apply lag (applied_t − at) | %.1f |" % m(app))
print("| of which the partition held (reverted_t − applied_t) | %.1f |" % m(hold))
print("| the whole command less that hold | %.1f |" % m([a - b for a, b in zip(flr, hold)]))
print("| nft -f (1-peer set) | %.1f |" % m(nf))
print("| nft delete table | %.1f |" % m(nd))
print("| nft -f + delete | %.1f |" % m([a + b for a, b in zip(nf, nd)]))
PY
}

# --- time to kill a hog ----------------------------------------------------
bench_kill() {
	local size k hog avail cg=$mem/flbench-tl-kill-$$ i
	mkdir "$cg" && cgs+=("$cg")
	echo
	echo "| hog | squeeze to kill, ms (report's squeeze_to_kill_ms, each run) |"
	echo "|---|---|"
	for size in 256 1024; do
		avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
		if [ "$avail" -lt $((size + 1024)) ]; then
			echo "| $size MiB | skipped: MemAvailable is $avail MiB, under $((size + 1024)) MiB |"
			continue
		fi
		local res=""
		for k in $(seq "$KILL_RUNS"); do
			if [ "$memusage" = memory.usage_in_bytes ]; then
				"$MEMHOG" --cgroup "$cg" --size $((size + 256))M --step 4M --every 5 > /dev/null &
			else
				"$MEMHOG" --cgroup "$cg" --size "${size}M" > /dev/null &
			fi
			hog=$!
			for i in $(seq 3000); do
				[ "$(cat "$cg/$memusage")" -ge $((size << 20)) ] && break
				sleep 0.01
			done
			printf 'name: kill\nduration: 3s\ntargets:\n  hog: { pid: %d }\nfaults:\n  - name: squeeze\n    oom: { target: hog, squeeze: { below-usage: 16M } }\n' \
				$hog > "$T/k.yaml"
			"$FL" --quiet run --report "$T/k.json" "$T/k.yaml" > /dev/null 2>&1
			kill -9 $hog 2>/dev/null; wait $hog 2>/dev/null
			res="$res $(python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))["faults"][0].get("observed") or {}
print(o.get("squeeze_to_kill_ms", "none"))' "$T/k.json")"
			{ echo max > "$cg/memory.max"; } 2>/dev/null
			{ echo -1 > "$cg/memory.limit_in_bytes"; } 2>/dev/null
		done
		echo "| $size MiB |$res |"
	done
}

for e in $ENGINES; do bench_$e; done
bench_nft
# (bash reports each hog's SIGKILL: that is the point, not an error)
bench_kill 2> >(grep -v Killed >&2)
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
