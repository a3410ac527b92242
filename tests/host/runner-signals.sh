#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The runner and signals (test engine): SIGINT and SIGTERM revert and
# exit; a second SIGINT reverts at once instead of waiting for probes.
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE_TEST" ] || { skip "runner signals" "no $FAULTLINE_TEST (make tests)"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "runner signals" "root"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
cd "$T"

cat > "$T/long.yaml" <<YAML
name: long
duration: 60s
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
  - name: b
    test: { file: $T/b, value: B }
    at: 200ms
YAML

for sig in INT TERM; do
	echo prior-a > "$T/a"; echo prior-b > "$T/b"
	"$FAULTLINE_TEST" run long.yaml > "$T/$sig.out" 2>&1 &
	pid=$!; at_exit "kill -9 $pid"
	wait_for 3 is "$T/b" B
	check_eq "SIG$sig: both faults applied" "A|B" "$(content "$T/a")|$(content "$T/b")"
	t0=$(now_ms)
	kill -"$sig" "$pid"
	wait "$pid"; rc=$?
	ms=$(($(now_ms) - t0))
	want=130; [ "$sig" = TERM ] && want=143
	check_eq "SIG$sig: exits 128+signal" "$want" "$rc"
	check "SIG$sig: stops at once (${ms}ms)" test "$ms" -lt 2000
	check_eq "SIG$sig: everything is reverted" "prior-a|prior-b" \
		"$(content "$T/a")|$(content "$T/b")"
	check_match "SIG$sig: reverted in reverse order" \
		'fault b: reverted.*fault a: reverted' "$(tr '\n' ' ' < "$T/$sig.out")"
	check_eq "SIG$sig: the journal is empty" 0 "$(runs_left)"
done

# A probe that takes 20s: the first SIGINT waits for it (the faults stay
# until it ends), the second reverts at once.
echo prior-a > "$T/a"
cat > "$T/probe.yaml" <<YAML
name: slow-probe
duration: 60s
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
probes:
  - name: slow
    exec: [sleep, "20.$$"]
    every: 30s
    timeout: 25s
YAML
"$FAULTLINE_TEST" run probe.yaml > "$T/probe.out" 2>&1 &
pid=$!; at_exit "kill -9 $pid"
wait_for 3 is "$T/a" A
sleep 0.3
kill -INT "$pid"
sleep 1
check_eq "first SIGINT: waits for the running probe; the fault stays" A "$(content "$T/a")"
check "first SIGINT: the runner is still there" kill -0 "$pid"
t0=$(now_ms)
kill -INT "$pid"
wait "$pid"; rc=$?
ms=$(($(now_ms) - t0))
check_eq "second SIGINT: exit 130" 130 "$rc"
check "second SIGINT: reverts at once (${ms}ms)" test "$ms" -lt 1500
check_eq "second SIGINT: the fault is reverted" prior-a "$(content "$T/a")"
check_match "second SIGINT: says so" 'SIGINT again: reverting at once' "$(cat "$T/probe.out")"
no_proc() { ! pgrep -f "^sleep $1\$" >/dev/null; }
check "second SIGINT: the probe is killed" no_proc "20.$$"
check_eq "second SIGINT: the journal is empty" 0 "$(runs_left)"
