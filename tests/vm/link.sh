#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The link fault under the stock kernel: tests/host/link.sh (down, the
# TCP stall, the guardian, recover, the scan), and what this host cannot
# show, mode: carrier on a device whose driver has carrier control (a
# dummy device in a namespace the test makes): the carrier goes off while
# the device stays up, comes back at revert, and after kill -9 of the
# runner the guardian puts it back.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/link" "run it under tools/vmtest"; exit 0; }
bash "$SRC/tests/host/link.sh"

export FAULTLINE_RUNDIR=$T/run
modprobe dummy 2>/dev/null
c=fl-$$-kc
netns_add $c || { notok "vm/link: make the namespace"; exit 1; }
if ! ip -n $c link add d0 type dummy 2>/dev/null; then
	skip "vm/link: carrier mode" "no dummy device (CONFIG_DUMMY)"
	exit 0
fi
ip -n $c link set d0 up
flags() { ip -n $c -o link show d0 | sed -E 's/.*<([^>]*)>.*/\1/'; }
no_carrier() { [[ ",$(flags)," == *,NO-CARRIER,* ]]; }
has_carrier() { ! no_carrier; }
before=$(flags)

drill "$T/carrier.yaml" carrier 3s
fault "$T/carrier.yaml" c 'link: { device: d0, mode: carrier }' 'at: 0s' 'for: 2s'
echo "report: { json: $T/carrier.json }" >>"$T/carrier.yaml"
out=$(ip netns exec $c "$FAULTLINE" plan "$T/carrier.yaml" 2>&1); rc=$?
check_eq "vm/link: carrier mode on a dummy device plans (exit 0)" 0 "$rc"
check_match "vm/link: by IFLA_CARRIER" "IFLA_CARRIER off" "$out"
ip netns exec $c "$FAULTLINE" run --json "$T/carrier.yaml" >"$T/c.out" 2>&1 &
pid=$!
wait_for 5 grep -q '"event":"applied"' "$T/c.out"
# The kernel's linkwatch reports the carrier change a moment later.
check "vm/link: the carrier is off while the fault holds" wait_for 2 no_carrier
check_match "vm/link: and the device stays up" "(^|,)UP(,|$)" "$(flags)"
wait $pid; rc=$?
check_eq "vm/link: the drill exits 0" 0 "$rc"
wait_for 3 has_carrier
check_eq "vm/link: the carrier is back, the flags as before" "$before" "$(flags)"
check "vm/link: the report has the carrier before, during and after" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["faults"][0]["observed"]
assert o["mode"] == "carrier", o
assert (o["before"]["carrier"], o["during"]["carrier"], o["after"]["carrier"]) == ("on", "off", "on"), o
assert o["flags_restored"] and o["expectation"]["met"], o
' "$T/carrier.json"

drill "$T/long.yaml" long 60s
fault "$T/long.yaml" c 'link: { device: d0, mode: carrier }' 'at: 0s' 'for: 50s'
ip netns exec $c "$FAULTLINE" run --json "$T/long.yaml" >"$T/l.out" 2>&1 &
pid=$!
wait_for 5 grep -q '"event":"applied"' "$T/l.out"
check "vm/link: no carrier before kill -9" no_carrier
kill -9 $pid; wait $pid 2>/dev/null
wait_for 5 has_carrier
check "vm/link: the guardian set the carrier on again after kill -9" has_carrier
wait_for 3 no_runs
check_eq "vm/link: and emptied the journal" 0 "$(runs_left)"
