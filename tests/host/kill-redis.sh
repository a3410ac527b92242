#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kill fault with a real program: redis-server as a command target
# with restart: true, in a network namespace the test makes, under the
# load of redis-benchmark (which the test starts).  faultline kills the
# server mid-run with SIGKILL: the benchmark loses its connections and
# reports the failed requests, the runner starts the server again, the
# restarted server answers (and has lost what was written before: no
# persistence), and the report proves the death (signal 9 seen at the
# exit, the pid and comm redis-server) and says when it died and came
# back.  Only processes this script or its drill started are killed.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run
[ "$(id -u)" = 0 ] || { skip "kill redis" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "kill redis: $FAULTLINE is built"; exit 1; }
for p in redis-server redis-benchmark redis-cli; do
	command -v $p >/dev/null ||
		{ skip "kill redis" "no $p (Debian packages redis-server, redis-tools)"; exit 0; }
done

ns=flt-redis-$$
ip netns add "$ns" || { notok "kill redis: make the namespace"; exit 1; }
at_exit "ip netns del $ns"
ip -n "$ns" link set lo up
bench=
at_exit '[ -n "$bench" ] && kill -9 $bench'

cli() { ip netns exec "$ns" redis-cli -p 6379 "$@" 2>&1; }
answers() { [ "$(cli ping)" = PONG ]; }
# ev NAME FIELD: FIELD of the first --json event NAME in the output.
ev() {
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    try: e = json.loads(l)
    except ValueError: continue
    if e.get("event") == sys.argv[2]: print(e.get(sys.argv[3], "")); break' "$T/run.out" "$1" "$2"
}
# rep EXPR: a Python expression over the report (r), its fault's
# observed (o) and the restarts (rs).
rep() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); o = r["faults"][0].get("observed", {})
rs = r.get("targets_restarted", [])
print(eval(sys.argv[2]))' "$T/kill.json" "$1" 2>&1
}

# The server on the namespace's loopback, no persistence; killed at 3 s.
cat >"$T/kill.yaml" <<Y
name: kill-redis
duration: 6s
targets:
  db:
    command: [ip, netns, exec, $ns, redis-server, --port, "6379", --bind, 127.0.0.1,
              --save, "", --appendonly, "no"]
    restart: true
faults:
  - name: kill-db
    kill: { target: db, pick: one }
    at: 3s
    for: 2s
probes:
  - name: ping
    exec: [ip, netns, exec, $ns, redis-cli, -p, "6379", ping]
    every: 500ms
    timeout: 400ms
Y
out=$("$FAULTLINE" plan "$T/kill.yaml" 2>&1)
check_match "kill redis: plan says how the death is sent and proven" \
	"kill via pidfd_send_signal" "$out"

"$FAULTLINE" run --json --report "$T/kill.json" "$T/kill.yaml" >"$T/run.out" 2>"$T/run.err" &
runner=$!
wait_for 5 answers
first=$(ev target-started pid)
fixture "the server (pid $first) answers, and holds a key" quiet cli set canary before
# Load until well past the kill: the benchmark loses its connections.
ip netns exec "$ns" redis-benchmark -p 6379 -c 4 -n 100000000 -t set,get \
	-q >"$T/bench.out" 2>&1 &
bench=$!
wait_for 6 grep -qs '"event":"target-restarted"' "$T/run.out"
wait_for 3 answers
check_eq "kill redis: the restarted server answers during the drill" PONG "$(cli ping)"
check_eq "kill redis: it is a new process: the key written before the kill is gone" \
	"" "$(cli get canary)"
wait_for 3 gone "$bench"
# Failed by the kill, not by the server's stop at the drill's end.
early=no
kill -0 "$runner" 2>/dev/null && gone "$bench" && early=yes
wait "$bench"; brc=$?
bench=
check "kill redis: redis-benchmark fails mid-drill (exit $brc, while the drill runs: $early)" \
	test "$brc" -ne 0 -a "$early" = yes
check_match "kill redis: and reports its failed requests (the connection lost)" \
	"Error: (Connection reset by peer|Server closed the connection)" \
	"$(tr '\r' '\n' <"$T/bench.out")"
wait "$runner"; rc=$?
# A probe run fails the drill (exit 1): the first, while the server
# starts, and one at the kill may.  None other may.
check_eq "kill redis: run exits 0, or 1 for probe runs only at the start and at the kill" \
	"$rc []" \
	"$([ "$rc" -le 1 ] && echo "$rc" || echo "0/1, got $rc") $(rep '[p["t"] for p in r["probes"][0]["results"] if not p["pass"] and not p["t"] < 0.3 and not rs[0]["died_t"] - 0.5 <= p["t"] <= rs[0]["back_t"] + 0.1]')"
check_eq "kill redis: the kill's own expectation is met" True "$(rep 'r["faults"][0]["observed"]["expectation"]["met"]')"
[ "$rc" -le 1 ] || sed 's/^/#   | /' "$T/run.err" | tail -5

check_eq "kill redis: the report proves the death: pid, comm, signal 9, proven" \
	"$first redis-server SIGKILL 9 True" \
	"$(rep '" ".join(str(x) for x in (o["victims"][0]["pid"], o["victims"][0]["comm"], o["victims"][0]["signal"], o["victims"][0].get("exit_signal"), o["victims"][0]["proven"]))')"
check_eq "kill redis: one victim, the expectation met" "1 True" \
	"$(rep 'len(o["victims"]), o["expectation"]["met"]' | tr -d '(),')"
check_eq "kill redis: the report says it died by signal 9 and came back as another pid" \
	"1 $first signal 9 True" \
	"$(rep 'len(rs), rs[0]["pid"], rs[0]["status"], rs[0]["back_pid"] not in (0, '"$first"')' | tr -d "(),'")"
check "kill redis: it died about 3 s in and came back within a second" \
	test "$(rep '2.9 <= rs[0]["died_t"] < 3.5 and 0 <= rs[0]["back_t"] - rs[0]["died_t"] < 1')" = True
check_eq "kill redis: the probe passed again after the restart" True \
	"$(rep 'any(p["pass"] for p in r["probes"][0]["results"] if p["t"] > rs[0]["back_t"] + 0.1)')"
check_match "kill redis: the events say it exited and was started again" \
	'"event":"target-restarted".*"old_pid":'"$first" "$(cat "$T/run.out")"
check "kill redis: the server is stopped after the drill" wait_for 3 eval '! answers'
check "kill redis: no journal left" no_runs

# -- The cookbook entry, run (faster, in the namespace) -------------------------
sed -e 's/^duration: 40s/duration: 4s/' -e 's/at: 15s/at: 1500ms/' \
	-e 's/for: 10s  /for: 1s  /' -e 's/every: 1s/every: 500ms/' \
	-e 's/timeout: 1s/timeout: 500ms/' \
	"$SRC/examples/kill-db-mid-request.yaml" >"$T/cook.yaml"
nsenter --net=/run/netns/"$ns" -- "$FAULTLINE" run --report "$T/kill.json" "$T/cook.yaml" >"$T/cook.out" 2>&1; rc=$?
check_eq "examples/kill-db-mid-request.yaml runs (exit 0: its probe retries past the restart)" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   | /' "$T/cook.out" | tail -8
check_eq "examples/kill-db-mid-request.yaml: redis-server killed by SIGKILL, proven, and back" \
	"redis-server 9 True 1" \
	"$(rep 'o["victims"][0]["comm"], o["victims"][0].get("exit_signal"), o["victims"][0]["proven"], len(rs)' | tr -d "(),'")"
