#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The partition fault on this kernel, with network namespaces as hosts:
# three hosts a, b and c on a bridge (in a namespace of its own), each
# running faultline with the same file.  A connectivity matrix (TCP
# connect and one-way UDP delivery, IPv4 and IPv6) before, during and
# after each drill; one-way partitions; keep ports; --as; hosts not in
# the file; an established TCP stream that stalls with no RST and
# resumes; a user's clsact kept; kill -9 of the runner (the guardian
# reverts) and of the guardian too (recover reverts).  Addresses are
# 10.77.0.0/24 and fd77::/64, inside the namespaces only.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "partition" "needs root"; exit 0; }
command -v python3 >/dev/null || { skip "partition" "needs python3"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "partition: $FAULTLINE is built"; exit 1; }
if ! have_qdisc clsact || ! have_bpf sched_cls; then
	skip "partition" "missing clsact or BPF sched_cls: $(fact qdiscs.clsact.why); $(fact bpf.sched_cls.why)"
	exit 0
fi

P=$$
NS=(fl-$P-a fl-$P-b fl-$P-c)
BR=fl-$P-br
HOSTS=(a b c)
# Device names differ between namespaces (the device locks name the
# namespace too, see partition-netns.sh; distinct names keep tc output
# unambiguous).
dev() { echo "fl$P$1"; }
ns() { echo "fl-$P-$1"; }
v4() { case $1 in a) echo 10.77.0.1;; b) echo 10.77.0.2;; c) echo 10.77.0.3;; esac; }
v6() { case $1 in a) echo fd77::1;; b) echo fd77::2;; c) echo fd77::3;; esac; }
in_ns() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }

cleanup() {
	local h
	for h in a b c; do
		[ -f "$T/run-$h.pid" ] && kill -INT "$(cat "$T/run-$h.pid")" \
			2>/dev/null && sleep 0.3
	done
	for h in a b c; do
		[ -f "$T/srv-$h.pid" ] && kill "$(cat "$T/srv-$h.pid")" 2>/dev/null
	done
	for h in "${NS[@]}" "$BR"; do ip netns del "$h" 2>/dev/null; done
	# Runs of ours that a failed check left behind.
	for d in "${FAULTLINE_RUNDIR:-/run/faultline}"/*; do
		grep -qs "$T/" "$d/run.json" && rm -rf "$d"
	done
}
at_exit cleanup

ip netns add "$BR" || { notok "partition: make the namespaces"; exit 1; }
ip -n "$BR" link add br0 type bridge
ip -n "$BR" link set br0 up
i=1
for h in "${HOSTS[@]}"; do
	ip netns add "$(ns $h)"
	ip link add "$(dev $h)" netns "$(ns $h)" type veth peer name "p$h" \
		netns "$BR"
	ip -n "$BR" link set "p$h" master br0 up
	ip -n "$(ns $h)" link set lo up
	ip -n "$(ns $h)" addr add "10.77.0.$i/24" dev "$(dev $h)"
	ip -n "$(ns $h)" addr add "fd77::$i/64" dev "$(dev $h)" nodad
	ip -n "$(ns $h)" link set "$(dev $h)" up
	i=$((i + 1))
done

# Servers in every host: TCP 7000 and 22 accept; TCP 7002 echoes (the
# long-lived stream); UDP 7001 logs every datagram it gets (one-way
# delivery, for one-way partitions).
cat >"$T/srv.py" <<'PY'
import os, socket, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def tcp(fam, port, echo):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        if echo:
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        else:
            c.close()
def serve(c):
    try:
        while True:
            b = c.recv(64)
            if not b:
                break
            c.sendall(b)
    except OSError as e:
        log.write("SERVER-ERR %s\n" % e)
def udp(fam):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 7001))
    while True:
        b, _ = s.recvfrom(256)
        log.write(b.decode() + "\n")
for fam in (socket.AF_INET, socket.AF_INET6):
    if fam == socket.AF_INET6:
        pass
    for port, echo in ((7000, False), (22, False), (7002, True)):
        threading.Thread(target=tcp, args=(fam, port, echo), daemon=True).start()
    threading.Thread(target=udp, args=(fam,), daemon=True).start()
open(sys.argv[2], "w").write("up\n")
threading.Event().wait()
PY
# IPv6 sockets bind v6 only, so both families can listen on a port.
sed -i 's/    s = socket.socket(fam, socket.SOCK_STREAM)/&\n    if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)/; s/    s = socket.socket(fam, socket.SOCK_DGRAM)/&\n    if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)/' "$T/srv.py"

# probe tcp ADDR PORT: connect within 1s.  probe udp ADDR TOKEN: send.
cat >"$T/probe.py" <<'PY'
import socket, sys
mode, addr = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if mode == "tcp":
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect((addr, int(sys.argv[3])))
    except OSError:
        sys.exit(1)
    sys.exit(0)
s = socket.socket(fam, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(sys.argv[3].encode(), (addr, 7001))
PY

for h in "${HOSTS[@]}"; do
	# Not through in_ns: $! must be the process itself.
	ip netns exec "$(ns $h)" python3 "$T/srv.py" "$T/log-$h" "$T/up-$h" \
		>/dev/null 2>&1 &
	echo $! >"$T/srv-$h.pid"
done
for _ in $(seq 50); do
	[ -f "$T/up-a" ] && [ -f "$T/up-b" ] && [ -f "$T/up-c" ] && break
	sleep 0.1
done
sleep 0.3

# matrix FAMILY [PORT]: "a>b tcp udp" per ordered pair, 1 when it got
# through, 0 when not; all probes run at once.
matrix() {
	local fam=$1 port=${2:-7000} s d addr out="" tok round
	round=$(date +%s%N)
	for s in "${HOSTS[@]}"; do
		for d in "${HOSTS[@]}"; do
			[ $s = $d ] && continue
			addr=$($fam $d)
			in_ns $s python3 "$T/probe.py" tcp "$addr" "$port" &
			echo $! >"$T/pid-$s$d"
			in_ns $s python3 "$T/probe.py" udp "$addr" \
				"r$round-$fam-$s$d" >/dev/null 2>&1
		done
	done
	for s in "${HOSTS[@]}"; do
		for d in "${HOSTS[@]}"; do
			[ $s = $d ] && continue
			if wait "$(cat "$T/pid-$s$d")"; then
				echo 1 >"$T/tcp-$s$d"
			else
				echo 0 >"$T/tcp-$s$d"
			fi
		done
	done
	sleep 0.2
	for s in "${HOSTS[@]}"; do
		for d in "${HOSTS[@]}"; do
			[ $s = $d ] && continue
			tok=0
			grep -qx "r$round-$fam-$s$d" "$T/log-$d" && tok=1
			out+="$s>$d:$(cat "$T/tcp-$s$d")$tok "
		done
	done
	echo "${out% }"
}

ALL="a>b:11 a>c:11 b>a:11 b>c:11 c>a:11 c>b:11"
check_eq "partition: v4 matrix before (tcp, udp)" "$ALL" "$(matrix v4)"
check_eq "partition: v6 matrix before (tcp, udp)" "$ALL" "$(matrix v6)"

# start_all FILE [HOSTS...]: run FILE in each host, with its extra
# arguments from the variable ARGS_<host>; wait until each applied.
start_all() {
	local file=$1 h n; shift
	for h in "$@"; do
		local extra=ARGS_$h
		rm -f "$T/ev-$h"
		# shellcheck disable=SC2086
		ip netns exec "$(ns $h)" "$FAULTLINE" run --json --report "$T/rep-$h.json" \
			${!extra:-} "$file" >"$T/ev-$h" 2>"$T/err-$h" &
		echo $! >"$T/run-$h.pid"
	done
	# Up to 30 s each: three runs at once on a loaded machine, or
	# under ASan, take seconds to load their programs.
	for h in "$@"; do
		for n in $(seq 600); do
			grep -qs '"event":"applied"\|"event":"apply-failed"' \
				"$T/ev-$h" && break
			sleep 0.05
		done
	done
}
# stop_all HOSTS...: SIGINT (ip netns exec execs faultline), then the
# runs' exit statuses in $st.  Not in a subshell: it waits for them.
stop_all() {
	local h
	st=""
	for h in "$@"; do
		kill -INT "$(cat "$T/run-$h.pid")"
	done
	for h in "$@"; do
		wait "$(cat "$T/run-$h.pid")"
		st+="$? "
	done
	st=${st% }
}
runner_pid() { cat "$T/run-$1.pid"; }
filters() { in_ns $1 tc filter show dev "$(dev $1)" "$2" 2>&1; }
qdiscs() { in_ns $1 tc qdisc show dev "$(dev $1)" 2>&1; }

# ---- 1. Two-way, v4 and v6, the default keep (tcp/22), a stream ------
cat >"$T/split.yaml" <<YAML
name: split
duration: 2m
faults:
  - name: split
    partition:
      groups: [[10.77.0.1, 10.77.0.2, "fd77::1", "fd77::2"], [10.77.0.3, "fd77::3"]]
    at: 0s
YAML

# The stream: a sends a byte every 100ms to c's echo port and logs each
# reply's arrival, or the error that ends it.
cat >"$T/stream.py" <<'PY'
import socket, sys, time
log = open(sys.argv[1], "w", buffering=1)
s = socket.create_connection(("10.77.0.3", 7002), timeout=2)
s.settimeout(120)
try:
    while True:
        s.sendall(b"x")
        if s.recv(64) == b"":
            log.write("EOF\n"); break
        log.write("%.3f\n" % time.monotonic())
        time.sleep(0.1)
except OSError as e:
    log.write("ERR %s\n" % e)
PY
ip netns exec "$(ns a)" python3 "$T/stream.py" "$T/stream" >/dev/null 2>&1 &
stream=$!
at_exit kill $stream
for _ in $(seq 50); do
	[ "$({ wc -l <"$T/stream"; } 2>/dev/null || echo 0)" -gt 5 ] && break
	sleep 0.1
done
n0=$(wc -l <"$T/stream")

in_ns c "$FAULTLINE" plan "$T/split.yaml" >"$T/plan-c" 2>&1
check_match "partition: plan picks cls_bpf and says why" \
	'via cls_bpf at clsact.*|why: cls_bpf programs load' "$(cat "$T/plan-c")"
check_match "partition: plan finds c's group from its address" \
	'this host is in group 2 \(10\.77\.0\.3 on ' "$(cat "$T/plan-c")"

start_all "$T/split.yaml" a b c
check_match "partition: applied in c" '"event":"applied"' "$(cat "$T/ev-c")"
check_match "partition: c has the egress filter" \
	'pref 64023 bpf .*handle 0x[0-9a-f]+ part_egress.*direct-action' \
	"$(filters c egress)"
check_match "partition: c has the ingress filter" \
	'pref 64023 bpf .*handle 0x[0-9a-f]+ part_ingress.*direct-action' \
	"$(filters c ingress)"
sleep 0.3
n1=$(wc -l <"$T/stream")
CUT="a>b:11 a>c:00 b>a:11 b>c:00 c>a:00 c>b:00"
check_eq "partition: v4 matrix during (c cut off)" "$CUT" "$(matrix v4)"
check_eq "partition: v6 matrix during (c cut off)" "$CUT" "$(matrix v6)"
check_eq "partition: keep tcp/22 by default (a>b a>c b>c c>a ...)" \
	"a>b:1 a>c:1 b>a:1 b>c:1 c>a:1 c>b:1" \
	"$(matrix v4 22 | sed 's/\([01]\)[01]\( \|$\)/\1\2/g')"
n2=$(wc -l <"$T/stream")
check "partition: the stream flowed before ($n0 replies)" test "$n0" -gt 2
check "partition: the stream stalls during ($n1 -> $n2 replies)" \
	test "$n2" -le $((n1 + 1))
stop_all a b c
check_eq "partition: every run ends on SIGINT" "130 130 130" "$st"
check_eq "partition: c's clsact is gone after the heal" \
	"qdisc noqueue 0: root refcnt 2 " "$(qdiscs c | head -1)"
check_eq "partition: no filter left on c" "" "$(filters c ingress)$(filters c egress)"
check_eq "partition: v4 matrix after" "$ALL" "$(matrix v4)"
check_eq "partition: v6 matrix after" "$ALL" "$(matrix v6)"
for _ in $(seq 100); do
	[ "$(wc -l <"$T/stream")" -gt $((n2 + 3)) ] && break
	sleep 0.1
done
n3=$(wc -l <"$T/stream")
check "partition: the stream resumes after the heal ($n2 -> $n3)" \
	test "$n3" -gt $((n2 + 3))
check_eq "partition: no RST, no error on the stream" "" \
	"$(grep -v '^[0-9.]*$' "$T/stream"; grep SERVER-ERR "$T/log-c")"
check "partition: the stream's connection is still up" kill -0 $stream
kill $stream 2>/dev/null
obs=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
f = [f for f in r["faults"] if f["name"] == "split"][0]
o = f["observed"]
print(o["group"], o["npeers"], o["dropped"]["egress"] > 0,
      o["kept"]["egress"] > 0,
      " ".join(o["devices"]))' "$T/rep-c.json" 2>&1)
check_eq "partition: c's report: group, peers, egress drops, kept, devices" \
	"2 4 True True $(dev c)" "$obs"

# Alone, c also drops at ingress what a and b still send.
start_all "$T/split.yaml" c
check_eq "partition: v4 matrix with only c cutting" "$CUT" "$(matrix v4)"
stop_all c
check_eq "partition: c alone ends on SIGINT" 130 "$st"
obs=$(python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["faults"][0]["observed"]
print(o["dropped"]["egress"] > 0, o["dropped"]["ingress"] > 0)' \
	"$T/rep-c.json" 2>&1)
check_eq "partition: c's report counts drops at egress and ingress" \
	"True True" "$obs"

# ---- 2. One-way: only traffic from the first group is cut -----------
cat >"$T/oneway.yaml" <<YAML
name: oneway
duration: 2m
faults:
  - name: oneway
    partition:
      groups: [[10.77.0.3], [10.77.0.1, 10.77.0.2]]
      one-way: true
      keep: []
    at: 0s
YAML
start_all "$T/oneway.yaml" a b c
# TCP needs both ways, so it fails either way; UDP shows the direction.
check_eq "partition: one-way matrix: c>a, c>b cut, a>c, b>c delivered" \
	"a>b:11 a>c:01 b>a:11 b>c:01 c>a:00 c>b:00" "$(matrix v4)"
# (c's ingress holds only the mark of the clsact faultline added.)
check_eq "partition: one-way: only egress on c" "" \
	"$(filters c ingress | grep -v 'pref 64022 ')"
check_match "partition: one-way: c's clsact carries faultline's mark" \
	'pref 64022 bpf .*part_mark' "$(filters c ingress)"
check_eq "partition: one-way: only ingress on a" "" "$(filters a egress)"
stop_all a b c
check_eq "partition: one-way runs end on SIGINT" "130 130 130" "$st"
check_eq "partition: matrix after one-way" "$ALL" "$(matrix v4)"

# ---- 3. keep ports, --as, a host not in the file, a user's clsact ---
cat >"$T/keep.yaml" <<YAML
name: keep
duration: 2m
faults:
  - name: keep
    partition:
      groups: [[10.77.0.1], [10.77.0.2]]
      keep: [tcp/6990-7000, udp/7001]
    at: 0s
YAML
# b already has a clsact qdisc with a filter of its own.
in_ns b tc qdisc add dev "$(dev b)" clsact
in_ns b tc filter add dev "$(dev b)" ingress protocol ip prio 7 u32 \
	match ip dst 10.77.99.99/32 classid 1:1
user=$(filters b ingress)
ARGS_c="--as 1"
start_all "$T/keep.yaml" a b c
ARGS_c=
in_ns c "$FAULTLINE" plan --as 1 "$T/keep.yaml" >"$T/plan-as" 2>&1
check_match "partition: plan --as 1 says so" \
	'this host is in group 1 \(chosen with --as 1\)' "$(cat "$T/plan-as")"
check_status "partition: --as past the last group is refused" 3 \
	in_ns c "$FAULTLINE" plan --as 3 "$T/keep.yaml"
check_status "partition: --as 0 is a usage error" 2 \
	in_ns c "$FAULTLINE" plan --as 0 "$T/keep.yaml"
# c (--as 1) cuts b like a does; tcp/7000 and udp/7001 are kept.
check_eq "partition: keep tcp/7000 and udp/7001" "$ALL" "$(matrix v4)"
check_eq "partition: without a keep, tcp/22 is cut (a>b, b>a, c>b, b>c)" \
	"a>b:0 a>c:1 b>a:0 b>c:0 c>a:1 c>b:0" \
	"$(matrix v4 22 | sed 's/\([01]\)[01]\( \|$\)/\1\2/g')"
check_match "partition: b's own filter is still there during" \
	'pref 7 u32' "$(filters b ingress)"
stop_all a b c
check_eq "partition: keep runs end on SIGINT" "130 130 130" "$st"
check_eq "partition: b's clsact and filter are back as they were" \
	"$user" "$(filters b ingress)"
check_match "partition: b keeps its clsact" 'qdisc clsact' "$(qdiscs b)"
in_ns b tc qdisc del dev "$(dev b)" clsact

# Hosts the file does not name are left alone: c is in no group.
start_all "$T/keep.yaml" c
check_eq "partition: a host in no group changes nothing" \
	"qdisc noqueue 0: root refcnt 2 " "$(qdiscs c | head -1)"
stop_all c
check_eq "partition: that run ends on SIGINT" "130" "$st"

# ---- 4. Crash: kill -9 of the runner, then of the guardian too -------
start_all "$T/split.yaml" c
rp=$(runner_pid c)
check_match "partition: active before kill -9" 'part_ingress' "$(filters c ingress)"
kill -9 "$rp"
for _ in $(seq 100); do
	[ -z "$(filters c ingress)" ] && break
	sleep 0.05
done
check_eq "partition: the guardian removed the filters after kill -9" "" \
	"$(filters c ingress)$(filters c egress)"
check_eq "partition: and the clsact" "qdisc noqueue 0: root refcnt 2 " \
	"$(qdiscs c | head -1)"
check_eq "partition: matrix after the guardian's revert" "$ALL" "$(matrix v4)"
{ wait "$(cat "$T/run-c.pid")"; } 2>/dev/null

start_all "$T/split.yaml" c
rp=$(runner_pid c)
gp=$(python3 -c '
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*/run.json"):
    r = json.load(open(f))
    if r.get("pid") == int(sys.argv[2]):
        print(r.get("guardian", ""))' "${FAULTLINE_RUNDIR:-/run/faultline}" "$rp")
check "partition: the run has a guardian ($gp)" test -n "$gp"
kill -9 "$gp" "$rp"
{ wait "$(cat "$T/run-c.pid")"; } 2>/dev/null
sleep 0.3
check_match "partition: still cut with runner and guardian dead" \
	'part_ingress' "$(filters c ingress)"
check_eq "partition: matrix while nobody reverts" \
	"a>b:11 a>c:00 b>a:11 b>c:00 c>a:00 c>b:00" "$(matrix v4)"
in_ns c "$FAULTLINE" recover >"$T/recover" 2>&1
check_match "partition: faultline recover reverts it" 'recovered' \
	"$(cat "$T/recover")"
check_eq "partition: no filter, no clsact after recover" \
	"qdisc noqueue 0: root refcnt 2 " \
	"$(filters c ingress)$(filters c egress)$(qdiscs c | head -1)"
check_eq "partition: matrix after recover" "$ALL" "$(matrix v4)"

# ---- 5. The demo's partition, as examples/demo.yaml has it -----------
sed -n '/^  - name: cut-off-b/,/^    for:/p' "$SRC/examples/demo.yaml" |
	sed 's/^    at: .*/    at: 0s/' >"$T/demo-part"
{ echo "name: demo-partition"; echo "duration: 2m"; echo "faults:"
  cat "$T/demo-part"; } >"$T/demo.yaml"
start_all "$T/demo.yaml" a b c
check_eq "partition: examples/demo.yaml's partition cuts b off" \
	"a>b:00 a>c:11 b>a:00 b>c:00 c>a:11 c>b:00" "$(matrix v4)"
stop_all a b c
check_eq "partition: the demo's partition ends on SIGINT" "130 130 130" "$st"

# ---- 6. netem in a host of the sandbox, as doctor found it ------------
cat >"$T/netem.yaml" <<YAML
name: wan
duration: 10s
faults:
  - name: wan
    netem: { device: $(dev c), delay: 10ms }
YAML
if have_qdisc netem; then
	check_status "partition: netem plans in a namespace (doctor: sch_netem available)" 0 \
		in_ns c "$FAULTLINE" plan "$T/netem.yaml"
else
	check_status "partition: netem is refused on this kernel (doctor: sch_netem missing)" 3 \
		in_ns c "$FAULTLINE" plan "$T/netem.yaml"
	check_match "partition: and the refusal names sch_netem" "sch_netem" \
		"$(in_ns c "$FAULTLINE" plan "$T/netem.yaml" 2>&1)"
fi
