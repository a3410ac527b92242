#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The link fault (issue 14), in two network namespaces the test makes and
# joins with a veth pair (eth0 in each, 10.76.0.1 and 10.76.0.2): never a
# device of this host's.
#  - plan: the mechanism, a missing device, carrier mode where the driver
#    cannot (veth), the lockout guard (a default route, an SSH session on
#    port 22, a connection held by a process named sshd) and
#    allow-lockout; the cookbook's link-flap and dns-down plan here.
#  - the proof: a TCP transfer between the namespaces (python3 sockets)
#    stalls while eth0 is down and resumes after revert, every byte
#    through, the connection never lost; the report has the flags before,
#    during and after.
#  - kill -9 of the runner while eth0 is down: the guardian brings it up;
#    kill -9 of both: faultline recover does, from the host's namespace.
#  - no journal: recover --scan names the device by its marker (exit 4).
#  - someone else's change: brought up during the drill, revert says so
#    and the expectation fails; promisc set while down, revert leaves the
#    device alone and keeps the record.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "link" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "link: $FAULTLINE is built"; exit 1; }
command -v python3 >/dev/null || { skip "link" "needs python3"; exit 0; }
export FAULTLINE_RUNDIR=$T/run

a=fl-$$-ka b=fl-$$-kb
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
}
netns_pair $a $b 10.76.0.1/24 10.76.0.2/24 ||
	{ notok "link: make the namespaces"; exit 1; }
at_exit cleanup

inA() { ip netns exec $a "$@"; }
inB() { ip netns exec $b "$@"; }
# flags: eth0's flags in a ("BROADCAST,MULTICAST,UP,LOWER_UP").
flags() { inA ip -o link show eth0 | sed -E 's/.*<([^>]*)>.*/\1/'; }
is_up() { [[ ",$(flags)," == *,UP,* ]]; }
is_down() { ! is_up; }
# The flags the device had.  Once it is up again, the kernel's link watch
# sets RUNNING (no NO-CARRIER) a moment later, on its own schedule.
flags_back() { [ "$(flags)" = "$before" ]; }
altnames() { inA ip -o link show eth0 | grep -o 'altname [^ \\]*' ; true; }
# applied OUT PID: the run's output says its fault is applied.
applied() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '"event":"applied"' "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# start NAME: run $T/NAME.yaml in namespace a in the background, its pid
# in $pid, and wait for its fault to be applied.  NAME.out is emptied
# first: the redirection happens in the child, maybe after applied()
# has read the last run's "applied" and let the test act too early.
start() {
	: >"$T/$1.out"
	ip netns exec $a "$FAULTLINE" run --json "$T/$1.yaml" \
		>"$T/$1.out" 2>"$T/$1.err" &
	pid=$!; pids+=($pid)
	applied "$T/$1.out" $pid
}
before=$(flags)

drill "$T/down.yaml" down 2s
fault "$T/down.yaml" down 'link: { device: eth0 }' 'at: 0s' 'for: 1s'

# --- plan --------------------------------------------------------------------
out=$(inA "$FAULTLINE" plan "$T/down.yaml" 2>&1); rc=$?
check_eq "link: plan of eth0 in a namespace exits 0" 0 "$rc"
check_match "link: plan names the mechanism" "link via rtnetlink: IFF_UP cleared" "$out"
check_match "link: plan names the marker" "alternative name fl-link-[0-9]+" "$out"
# A static route through eth0: down removes it for good, and plan says so.
inA ip route add 10.99.0.0/16 via 10.76.0.2 dev eth0
out=$(inA "$FAULTLINE" plan "$T/down.yaml" 2>&1)
check_match "link: plan names the static route down removes" \
	"down removes 1 static route through eth0 .*: 10.99.0.0/16 via 10.76.0.2" "$out"
inA ip route del 10.99.0.0/16
drill "$T/nodev.yaml" nodev 2s
fault "$T/nodev.yaml" down 'link: { device: fl-nodev0 }' 'at: 0s' 'for: 1s'
out=$(inA "$FAULTLINE" plan "$T/nodev.yaml" 2>&1); rc=$?
check_eq "link: plan of a device the namespace lacks exits 3" 3 "$rc"
check_match "link: and says so" "device fl-nodev0 does not exist in this network namespace" "$out"

drill "$T/carrier.yaml" carrier 2s
fault "$T/carrier.yaml" c 'link: { device: eth0, mode: carrier }' 'at: 0s' 'for: 1s'
out=$(inA "$FAULTLINE" plan "$T/carrier.yaml" 2>&1); rc=$?
check_eq "link: carrier mode on a veth is refused (exit 3)" 3 "$rc"
check_match "link: naming the driver and mode: down" \
	"device eth0 \(veth\) cannot have its carrier set.*use mode: down" "$out"
check_eq "link: the refusal left eth0 as it was" "$before" "$(flags)"

# The lockout guard: a default route through eth0.
inA ip route add default via 10.76.0.2 dev eth0
out=$(inA "$FAULTLINE" plan "$T/down.yaml" 2>&1); rc=$?
check_eq "link: a device with the default route is refused (exit 3)" 3 "$rc"
check_match "link: naming the route" \
	"carries the default route \(IPv4\) via 10.76.0.2 dev eth0, table main.*allow-lockout: true" "$out"
out=$(inA "$FAULTLINE" run -q "$T/down.yaml" 2>&1); rc=$?
check_eq "link: run refuses it too (exit 3)" 3 "$rc"
check "link: and eth0 stayed up" is_up
drill "$T/lockout.yaml" lockout 2s
fault "$T/lockout.yaml" down 'link: { device: eth0, allow-lockout: true }' 'at: 0s' 'for: 1s'
out=$(inA "$FAULTLINE" plan "$T/lockout.yaml" 2>&1); rc=$?
check_eq "link: allow-lockout: true plans it (exit 0)" 0 "$rc"
check_match "link: and says the guard is off" "allow-lockout: the default route and SSH sessions are not looked for" "$out"
inA ip route del default

# An SSH session: a connection to 10.76.0.1:PORT, held by a server whose
# command name is NAME (prctl), from b, in subshells (no job notices).
# srv and cli are their pids, as the processes write them.
ssh_server() {
	rm -f "$T/srv.pid" "$T/cli.pid"
	(ip netns exec $a python3 -c '
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.76.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[3], "w").write(str(os.getpid()))
c, _ = s.accept(); time.sleep(60)' "$1" "$2" "$T/srv.pid" &)
	wait_for 5 test -s "$T/srv.pid"
	srv=$(cat "$T/srv.pid"); pids+=($srv)
	(ip netns exec $b python3 -c '
import os, socket, sys, time
c = socket.create_connection(("10.76.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write(str(os.getpid())); time.sleep(60)' "$1" "$T/cli.pid" &)
	wait_for 5 test -s "$T/cli.pid"
	cli=$(cat "$T/cli.pid"); pids+=($cli)
}
# ssh_stop: both gone.
ssh_stop() {
	kill -9 $srv $cli 2>/dev/null
	wait_for 5 gone $srv
	wait_for 5 gone $cli
}
ssh_server 22 python3
out=$(inA "$FAULTLINE" plan "$T/down.yaml" 2>&1); rc=$?
check_eq "link: a device with an SSH session on port 22 is refused (exit 3)" 3 "$rc"
check_match "link: naming the session" \
	"carries an established SSH session \(10.76.0.1:22 <- 10.76.0.2:[0-9]+\)" "$out"
ssh_stop
ssh_server 2022 sshd
out=$(inA "$FAULTLINE" plan "$T/down.yaml" 2>&1); rc=$?
check_eq "link: a connection sshd holds, on another port, is refused (exit 3)" 3 "$rc"
check_match "link: naming sshd's pid" \
	"SSH session \(10.76.0.1:2022 <- 10.76.0.2:[0-9]+, sshd pid $srv\)" "$out"
ssh_stop
out=$(inA "$FAULTLINE" plan "$T/down.yaml" 2>&1); rc=$?
check_eq "link: with the session gone, plan exits 0 again" 0 "$rc"

# The cookbook: link-flap plans on a namespace's eth0, dns-down here.
for ex in link-flap dns-down; do
	f=$SRC/examples/$ex.yaml
	[ -e "$f" ] || { notok "link: examples/$ex.yaml exists"; continue; }
	check_status "link: examples/$ex.yaml validates" 0 "$FAULTLINE" validate "$f"
done
out=$(inA "$FAULTLINE" plan "$SRC/examples/link-flap.yaml" 2>&1); rc=$?
check_eq "link: examples/link-flap.yaml plans on eth0 (exit 0)" 0 "$rc"
check_eq "link: twice down" 2 "$(grep -c 'apply .*link via rtnetlink' <<<"$out")"
out=$("$FAULTLINE" plan "$SRC/examples/dns-down.yaml" 2>&1); rc=$?
check_eq "link: examples/dns-down.yaml plans here (exit 0)" 0 "$rc"
check_match "link: by failing calls to port 53" "connect.*cgroup|sock_addr" "$out"

# dns-down really runs, shortened: the resolver's connect to port 53 fails.
sed -e 's/^duration: 30s/duration: 4s/; s/at: 5s/at: 300ms/; s/for: 20s/for: 3s/' \
	"$SRC/examples/dns-down.yaml" >"$T/dns.yaml"
echo "report: { json: $T/dns.json }" >>"$T/dns.yaml"
out=$("$FAULTLINE" run --no-live "$T/dns.yaml" 2>&1); rc=$?
check_eq "link: dns-down, shortened, runs (exit 0)" 0 "$rc"
check_match "link: its target cannot resolve names while it holds" "^resolve failed" "$out"
check "link: by failed connects to port 53" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["faults"][0]["observed"]
s = json.dumps(o)
assert o["injections"] > 0 and "connect" in s and "53" in s, o
' "$T/dns.json"

# --- The proof: a TCP transfer stalls while eth0 is down, then resumes. -----
inB python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.76.0.2", 7001)); s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept(); n = 0
with open(sys.argv[1], "w") as log:
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
        log.write("%.3f %d\n" % (time.time(), n)); log.flush()
c.close()
print(n)' "$T/arrivals" >"$T/server.out" 2>&1 &
server=$!; pids+=($server)
wait_for 5 test -e "$T/arrivals.ready"
inA python3 -c '
import socket, sys, time
c = socket.create_connection(("10.76.0.2", 7001), timeout=120)
open(sys.argv[2], "w").close()
end = time.time() + float(sys.argv[1]); n = 0
while time.time() < end:
    c.sendall(b"x" * 1000); n += 1000; time.sleep(0.05)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(n)' 9 "$T/connected" >"$T/client.out" 2>&1 &
client=$!; pids+=($client)
# The drill starts once the connection is up (python starts slowly on a
# busy machine).
fixture "the client is connected" wait_for 20 test -e "$T/connected" ||
	{ sed 's/^/#   /' "$T/client.out"; kill -9 $server $client; exit 1; }
drill "$T/stall.yaml" stall 6s
fault "$T/stall.yaml" down 'link: { device: eth0 }' 'at: 1500ms' 'for: 3s'
echo "report: { json: $T/stall.json }" >>"$T/stall.yaml"
inA "$FAULTLINE" run --json "$T/stall.yaml" >"$T/stall.out" 2>&1; rc=$?
check_eq "link: the drill exits 0" 0 "$rc"
wait_for 60 gone $client || kill -9 $client
wait $client; crc=$?
wait_for 10 gone $server || kill -9 $server
wait $server
check_eq "link: the client finished without an error (connection kept)" 0 "$crc"
sent=$(cat "$T/client.out")
check_eq "link: every byte sent arrived" "$sent" "$(cat "$T/server.out")"
# The longest pause between arrivals, and whether data came after it.
gap=$(python3 - "$T/arrivals" <<'EOF'
import sys
t = [float(l.split()[0]) for l in open(sys.argv[1])]
g = max((b - a, i) for i, (a, b) in enumerate(zip(t, t[1:])))
print("%.1f %d" % (g[0], len(t) - g[1] - 2))
EOF
)
echo "# longest pause between arrivals ${gap% *}s, then ${gap#* } more arrivals"
check "link: the transfer stalled while eth0 was down (pause ${gap% *}s >= 2.5s)" \
	python3 -c "import sys; sys.exit(not float('${gap% *}') >= 2.5)"
check "link: and resumed after revert (${gap#* } arrivals after the pause)" \
	test "${gap#* }" -gt 5
check_eq "link: eth0 has its flags back" "$before" "$(flags)"
check_eq "link: and no marker left" "" "$(altnames)"
check "link: the report has before, during and after" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["faults"][0]["observed"]
assert ",up," in "," + o["before"]["flags"] + ",", o
assert ",up," not in "," + o["during"]["flags"] + ",", o
assert ",up," in "," + o["after"]["flags"] + ",", o
assert o["flags_restored"] and o["expectation"]["met"], o
assert 2900 <= o["down_ms"] <= 3500, o
' "$T/stall.json"
check_match "link: live shows how long it is down" '"event":"progress","fault":"down","down_s":[12]' "$(cat "$T/stall.out")"

# --- kill -9 of the runner while eth0 is down: the guardian. --------------
drill "$T/long.yaml" long 60s
fault "$T/long.yaml" down 'link: { device: eth0 }' 'at: 0s' 'for: 50s'
start long
guardian=$(guardian_of); [ -n "$guardian" ] && pids+=($guardian)
check "link: eth0 is down while the fault holds" is_down
check_match "link: marked with its alternative name" "altname fl-link-" "$(altnames)"
kill -9 $pid; wait $pid 2>/dev/null
wait_for 5 is_up
check "link: the guardian brought eth0 up after kill -9 of the runner" is_up
wait_for 3 flags_back
check_eq "link: with the flags it had" "$before" "$(flags)"
wait_for 3 no_runs
check_eq "link: the journal is emptied" 0 "$(runs_left)"
check_eq "link: the marker is gone" "" "$(altnames)"

# --- kill -9 of both: faultline recover, from the host's namespace. --------
start long
guardian=$(guardian_of); [ -n "$guardian" ] && pids+=($guardian)
kill_both $pid "$guardian"; wait $pid 2>/dev/null
wait_for 2 gone "$guardian"
sleep 0.3
check "link: with both killed, eth0 stays down" is_down
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "link: recover exits 0" 0 "$rc"
check "link: recover brought eth0 up" is_up
wait_for 3 flags_back
check_eq "link: with the flags it had, after recover" "$before" "$(flags)"
check_eq "link: and no marker" "" "$(altnames)"
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "link: a second recover has nothing to do (exit 0)" 0 "$rc"

# --- No journal: the scan finds the device by its marker. ------------------
start long
guardian=$(guardian_of); [ -n "$guardian" ] && pids+=($guardian)
kill_both $pid "$guardian"; wait $pid 2>/dev/null
wait_for 2 gone "$guardian"
rm -rf "$FAULTLINE_RUNDIR"
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "link: recover without a journal exits 4" 4 "$rc"
check_match "link: and names the device by its marker" \
	"device eth0 marked fl-link-[0-9]+ by a link fault.*ip link set eth0 up" "$(tr '\n' ' ' <<<"$out")"
mk=$(altnames | awk '{print $2}')
inA ip link set eth0 up
[ -n "$mk" ] && inA ip link property del dev eth0 altname "$mk"
check "link: put back by hand as recover said" is_up

# --- Someone else's changes during the drill. -----------------------------
drill "$T/short.yaml" short 3s
fault "$T/short.yaml" down 'link: { device: eth0 }' 'at: 0s' 'for: 2s'
start short
inA ip link set eth0 up
wait $pid; rc=$?
check_eq "link: brought up by someone else: the expectation fails (exit 1)" 1 "$rc"
check_match "link: revert says so" "eth0 was brought back during the drill by someone else" "$(cat "$T/short.err")"
check "link: eth0 is up" is_up
check_eq "link: and no run is left" 0 "$(runs_left)"

start short
inA ip link set eth0 promisc on
wait $pid; rc=$?
check_eq "link: changed by someone else while down: revert fails (exit 4)" 4 "$rc"
check_match "link: leaving it, and saying so" "eth0: someone changed it during the drill.*leaving it as it is" "$(cat "$T/short.err")"
check "link: eth0 was left down" is_down
check_eq "link: the record stays" 1 "$(runs_left)"
inA ip link set eth0 promisc off
out=$("$FAULTLINE" recover 2>&1); rc=$?
check_eq "link: once put back as faultline left it, recover exits 0" 0 "$rc"
wait_for 3 flags_back
check_eq "link: and eth0 has its flags back" "$before" "$(flags)"
