#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# faultline plan for people: a syscall fault's routes and the reasons a
# call has none are each said once (not in the why, again at the step and
# again at the end), without parentheses inside parentheses; a command
# target's script is shortened in the targets table (the JSON keeps it
# whole).  Plan changes nothing, so this needs no lock.
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE" ] || { notok "plans: $FAULTLINE is built"; exit 0; }

sleep 600 & sl=$!
at_exit "kill $sl"
# fsync passes through no LSM or cgroup hook: without the syscall entry
# (FAULTLINE_FORCE_SYSCALL_ENTRY=off, tests only) a pid target has no
# route for it on any kernel.
cat >"$T/refused.yaml" <<YAML
name: refused
duration: 10s
targets:
  app: { pid: $sl }
faults:
  - name: f
    syscall: { target: app, calls: [fsync], errno: EIO }
YAML
out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=off "$FAULTLINE" plan "$T/refused.yaml" 2>&1); rc=$?
check_eq "plans: a call without a route cannot run (exit 3)" 3 "$rc"
check_eq "plans: 'no route on this kernel' is said once" 1 \
	"$(grep -o 'no route on this kernel' <<<"$out" | wc -l)"
check_eq "plans: the kernel option for the syscall entry is named once" 1 \
	"$(grep -o 'CONFIG_FUNCTION_ERROR_INJECTION' <<<"$out" | wc -l)"
check_match "plans: the closing list names the fault and points up" \
	"^  - fault 'f' cannot apply \\(why: above, at its step\\)$" "$out"
# The why and its indented lines.
why=$(awk '/^ +why: / { on = 1; print; next } on && /^                  [^ ]/ { print; next } { on = 0 }' <<<"$out")
check_match "plans: the why lists the routes a line each" '^ +1\. syscall entry: ' "$why"
for w in 'syscall entry' 'LSM hook' 'cgroup sock_addr hooks' 'seccomp user notification'; do
	check_eq "plans: route '$w' is in the why once" 1 "$(grep -c "$w" <<<"$why")"
done
depth=$(awk '{ d = 0; for (i = 1; i <= length($0); i++) {
	c = substr($0, i, 1); if (c == "(") { d++; if (d > m) m = d } else if (c == ")") d-- } }
	END { print m + 0 }' <<<"$why")
check "plans: no parentheses inside parentheses in the why (depth $depth)" [ "$depth" -le 1 ]
# What the probes said, once each (a reason two features share is
# not told apart).
feats="fmod_ret:syscall kprobe:override lsm fmod_ret:security"
for f in $feats; do
	w=$(fact "bpf.$f.why")
	[ "$(fact "bpf.$f.available")" = true ] || [ -z "$w" ] && continue
	n=0
	for g in $feats; do [ "$(fact "bpf.$g.why")" = "$w" ] && n=$((n + 1)); done
	[ $n = 1 ] || continue
	check_eq "plans: doctor's reason for $f is given once ($w)" 1 \
		"$(grep -oF -- "$w" <<<"$out" | wc -l)"
done

# A command target with a long script.
long="while :; do echo 'a line that goes on and on and on and on'; sleep 1; done"
cat >"$T/long.yaml" <<YAML
name: long
duration: 10s
targets:
  loop: { command: [sh, -c, "$long"] }
YAML
out=$("$FAULTLINE" plan "$T/long.yaml" 2>&1)
row=$(grep '^  loop ' <<<"$out")
check_match "plans: the command is shortened in the targets table" \
	"^  loop +command +sh -c 'while :; do echo .*\\.\\.\\.  \\(run starts it\\)$" "$row"
check "plans: ... to a line that fits (${#row} characters)" [ "${#row}" -le 90 ]
check_eq "plans: the JSON keeps the whole command" "$long" \
	"$("$FAULTLINE" --json plan "$T/long.yaml" | python3 -c 'import json, sys
print(json.load(sys.stdin)["targets"][0]["command"][2])')"
exit 0
