#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The live view of run, seen on a terminal: a real drill inside tmux (a
# syscall fault on a command target through the cgroup hooks, an optional
# netem fault this kernel cannot do, a probe that passes and fails by
# turns), its screen captured over the run.  The clock moves, states go
# pending -> active -> reverted, the skipped row gives its reason, the
# probe strip shows passes and failures, the counters move, the frame is
# redrawn in place (no clear screen) and stays above the summary; an OOM
# kill and its victim, a target's output as an event line.  Off a
# terminal, with --no-live and with --json there are no escapes; --quiet
# prints nothing.  Connections go to 127.0.0.1 only.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run

if [ "$(id -u)" != 0 ]; then skip "live view" "needs root"; exit 0; fi
if ! command -v tmux >/dev/null; then skip "live view" "tmux is not installed (tools/deps)"; exit 0; fi
if [ -z "$(unified_mount)" ]; then
	skip "live view" "no cgroup v2 hierarchy for the syscall fault (cgroups.unified_mount)"; exit 0
fi
if ! have_bpf cgroup_sock_addr; then
	skip "live view" "missing BPF cgroup sock_addr programs: $(fact bpf.cgroup_sock_addr.why)"; exit 0
fi

sock=fl-live-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
at_exit "tmux -L $sock -f /dev/null kill-server; rm -f ${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"

# The drill: connect() to 127.0.0.1 refused from 2s to 5s; "wan" is
# optional and cannot run (no sch_netem here, and no such device anyway).
cat >"$T/drill.yaml" <<YAML
name: live-drill
duration: 8s
targets:
  busy:
    command: [bash, -c, "exec >/dev/null 2>&1; while :; do (: </dev/tcp/127.0.0.1/1); sleep 0.1; done"]
faults:
  - name: refuse
    syscall: { target: busy, calls: [connect], errno: ECONNREFUSED }
    at: 2s
    for: 3s
  - name: wan
    optional: true
    netem: { device: fllive$$, delay: 100ms }
    at: 1s
probes:
  - name: flip
    exec: [bash, -c, "if [ -e $T/flip ]; then rm $T/flip; exit 1; fi; touch $T/flip"]
    every: 400ms
YAML
cat >"$T/ok.yaml" <<YAML
name: live-ok
duration: 3s
probes:
  - name: fine
    exec: ["true"]
    every: 1500ms
YAML

# start NAME CMD: run CMD (a shell line) in a fresh 120x40 tmux session,
# its raw output copied to $T/NAME.raw, its status to $T/NAME.exit.
start() {
	local name=$1 cmd=$2
	rm -f "$T/$name.exit"
	# A session each (killing the last one would end the server).
	live=$name
	tm new-session -d -s "$live" -x 120 -y 40 \
		"sleep 0.5; cd $T && $cmd; echo \$? >$T/$name.exit; sleep 600"
	tm pipe-pane -t "$live" -o "cat >$T/$name.raw"
}
screen() { tm capture-pane -p -t "$live"; }
# wait_screen ERE SECONDS: until a line of the screen matches; $scr holds
# the last capture.
wait_screen() {
	local end=$((SECONDS + $2))
	while :; do
		scr=$(screen)
		grep -Eq -- "$1" <<<"$scr" && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}
wait_exit() { # NAME SECONDS
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		[ -s "$T/$1.exit" ] && return 0
		sleep 0.2
	done
	return 1
}
# no_match BRE FILE: the file exists and no line matches.
no_match() { [ -e "$2" ] && ! grep -q -- "$1" "$2"; }
elapsed() { sed -n 's/.*elapsed \([0-9:]*\) .*/\1/p' <<<"$1" | head -1; }

# ---------------------------------------------------------------------
# The live view.
start live "LANG=C $FAULTLINE run --report $T/live.json $T/drill.yaml"

wait_screen '^refuse +pending' 10
check_match "live: a pending fault, with the time to its start" \
	'^refuse +pending +00:02-00:05 +starts in 00:0[12]' "$scr"
check_match "live: the header names the drill, elapsed and remaining" \
	'^live-drill \(.*drill.yaml\)  elapsed 00:0[0-9]  remaining 00:0[0-9]  running' "$scr"
check_match "live: a progress bar" '^\[#*\.+\] +[0-9]+%$' "$scr"
check_match "live: the optional fault that cannot run is skipped, with why" \
	'^wan +skipped +00:01-00:08 +optional: .*(sch_netem|does not exist)' "$scr"
a=$(elapsed "$scr")
sleep 1.5
b=$(elapsed "$(screen)")
check "live: the screen updates (elapsed $a, then $b)" [ -n "$a" -a -n "$b" -a "$a" != "$b" ]

if wait_screen '^refuse +active +00:02-00:05 +[1-9][0-9]* injections \(connect [1-9]' 10; then
	ok "live: the active fault, its injections counted live"
else
	notok "live: the active fault, its injections counted live"
	printf '%s\n' "$scr" | sed 's/^/#   | /'
fi
c1=$(sed -n 's/^refuse .* \([0-9]*\) injections.*/\1/p' <<<"$scr")
wait_screen '^refuse +reverted' 10
check_match "live: the fault is reverted at the end of its window, counters kept" \
	'^refuse +reverted +00:02-00:05 +[1-9][0-9]* injections' "$scr"
c2=$(sed -n 's/^refuse .* \([0-9]*\) injections.*/\1/p' <<<"$scr")
check "live: the counters grew while it was active ($c1, then $c2)" [ "${c2:-0}" -gt "${c1:-0}" ]
check_match "live: the probe strip shows passes and failures (ASCII under LANG=C)" \
	'^flip +([+x]*\+[+x]*x|[+x]*x[+x]*\+)[+x]* +[1-9][0-9]* +[1-9][0-9]*$' "$scr"
check_match "live: the last event lines are shown" '^\[\+[0-9]+\.[0-9]{3}s\] ' "$scr"

wait_exit live 20
check_eq "live: the drill ends with exit 1 (the probe failed)" 1 "$(cat "$T/live.exit" 2>/dev/null)"
scr=$(screen)
check_match "live: the last frame says done, at 100%" '^live-drill .*elapsed 00:0[78]  remaining 00:00  done' "$scr"
check_match "live: ... with a full bar" '^\[#+\] 100%$' "$scr"
frame=$(grep -n '^live-drill (' <<<"$scr" | head -1 | cut -d: -f1)
summary=$(grep -n '^drill live-drill: FAIL (exit 1)' <<<"$scr" | head -1 | cut -d: -f1)
check "live: the summary is printed under the last frame (lines ${frame:-?} < ${summary:-?})" \
	[ "${frame:-99}" -lt "${summary:-0}" ]
check_eq "live: the frame is drawn once on the screen (redrawn in place)" 1 \
	"$(grep -c '^FAULT  STATE' <<<"$scr")"
check_match "live: the lines before the view stay (no clear screen)" \
	'^\[\+0\.[0-9]{3}s\] drill live-drill' "$scr"
raw=$(cat "$T/live.raw" 2>/dev/null)
check "live: it moves the cursor up to redraw" grep -q $'\e\\[[0-9]*A' <<<"$raw"
check "live: it never clears the whole screen" no_match $'\e\\[2J\\|\e\\[H' "$T/live.raw"
check_eq "live: the report has the same states" "reverted skipped" \
	"$(python3 -c 'import json, sys
print(" ".join(f["state"] for f in json.load(open(sys.argv[1]))["faults"]))' "$T/live.json" 2>&1)"

# UTF-8: check marks instead of + and x.
# Nothing happens in this one after its first probe: only the clock.
start utf "LANG=C.UTF-8 $FAULTLINE run $T/ok.yaml"
wait_screen '^live-ok .*elapsed' 10
a=$(elapsed "$scr")
sleep 1.2
b=$(elapsed "$(screen)")
check "live: the clock ticks with no events (elapsed $a, then $b)" [ -n "$a" -a -n "$b" -a "$a" != "$b" ]
wait_exit utf 15
check_match "live: UTF-8 strip under a UTF-8 locale" '^fine +✓+ +[1-9]' "$(screen)"

# A narrower terminal: every line is cut to the width, nothing wraps.
start narrow "LANG=C $FAULTLINE run $T/drill.yaml"
tm resize-window -t "$live" -x 60
wait_screen '^refuse +active' 10
tm resize-window -t "$live" -x 50
sleep 1.2
scr=$(screen)
check "live: after SIGWINCH to 50 columns, no line is wider than 49" \
	[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' <<<"$scr")" -le 49 ]
check_eq "live: ... and the frame is still drawn once" 1 "$(grep -c '^FAULT' <<<"$scr")"
check_match "live: ... with the skipped reason wrapped under it" '^ {20,}[a-z(]' "$scr"
wait_exit narrow 20

# ---------------------------------------------------------------------
# An OOM kill: the kills counted live, and the victim on the row as soon
# as the kill is proven, while the row still says active (the window is
# 4s; the hog fills 32M in well under a second); what the command target
# writes ("pid N") comes through the view as an event line instead of
# scrolling the frame away.
MEMHOG=$HELPERS/memhog
cat >"$T/oom.yaml" <<YAML
name: live-oom
duration: 6s
targets:
  hog: { command: [$MEMHOG, --size, 400M, --step, 8M, --every, "50"] }
faults:
  - name: squeeze
    oom: { target: hog, cgroup: scratch, squeeze: { to: 32M } }
    at: 1s
    for: 4s
YAML
if [ ! -x "$MEMHOG" ]; then
	skip "live: an OOM kill" "tests/helpers/memhog is not built (make tests)"
elif ! "$FAULTLINE" plan "$T/oom.yaml" >"$T/oom.plan" 2>&1; then
	skip "live: an OOM kill" "this machine cannot squeeze memory: $(tail -1 "$T/oom.plan")"
else
	start oom "LANG=C $FAULTLINE run --report $T/oom.json $T/oom.yaml"
	wait_screen '^\[\+0\.[0-9]{3}s\] output: pid [0-9]+$' 10
	check_match "live: a target's output is an event line" '^\[\+0\.[0-9]{3}s\] output: pid [0-9]+$' "$scr"
	wait_screen '^squeeze +active .*[1-9] OOM kill' 10
	check_match "live: the OOM kill counted live" '^squeeze +active +00:01-00:05 +(victim [0-9]+ \([^)]*\); )?limit .*, 1 OOM kill' "$scr"
	wait_screen '^squeeze +(active|reverted) +00:01-00:05 +victim ' 10
	active=$(grep -E '^squeeze ' <<<"$scr")
	wait_exit oom 15
	scr=$(screen)
	victim=$(python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))["faults"][0]["observed"]["victim"]
print(v["pid"], v["comm"])' "$T/oom.json" 2>&1)
	check_match "live: the active row names the proven victim ($victim)" \
		"^squeeze +active +00:01-00:05 +victim ${victim% *} \\(${victim#* }\\); limit" "$active"
	check_match "live: the reverted row names the victim ($victim)" \
		"^squeeze +reverted +00:01-00:05 +victim ${victim% *} \\(${victim#* }\\); limit" "$scr"
	check_eq "live: the target's output did not tear the frame" 1 "$(grep -c '^live-oom (' <<<"$scr")"
fi

# ---------------------------------------------------------------------
# --start-at: the countdown in the header; Ctrl-C there applies nothing.
# Ctrl-C while the drill runs: the view ends with its frame, exit 130.
start wait "LANG=C $FAULTLINE run --start-at +20s $T/ok.yaml"
if wait_screen '^live-ok .*starts in 00:[12][0-9]  at [0-9T:.-]+Z \(Ctrl-C: cancel\)' 10; then
	ok "live: the --start-at countdown is in the header"
else
	notok "live: the --start-at countdown is in the header"
	printf '%s\n' "$scr" | sed 's/^/#   | /'
fi
tm send-keys -t "$live" C-c
wait_exit wait 10
check_eq "live: Ctrl-C in the countdown exits 130" 130 "$(cat "$T/wait.exit" 2>/dev/null)"
check_match "live: ... and says nothing was applied" 'countdown cancelled; nothing was applied' "$(screen)"

start int "LANG=C $FAULTLINE run $T/ok.yaml"
wait_screen '^live-ok .*elapsed 00:0[1-9]' 10
tm send-keys -t "$live" C-c
wait_exit int 10
scr=$(screen)
check_eq "live: Ctrl-C while running exits 130" 130 "$(cat "$T/int.exit" 2>/dev/null)"
check_match "live: ... the last frame stays, then the summary" '^drill live-ok: INTERRUPTED' "$scr"
check_eq "live: ... drawn once" 1 "$(grep -c '^live-ok (' <<<"$scr")"

# ---------------------------------------------------------------------
# Plain lines: off a terminal, with --no-live, with TERM=dumb.
LANG=C "$FAULTLINE" run "$T/ok.yaml" >"$T/plain.out" 2>&1
check_eq "plain: off a terminal, exit 0" 0 "$?"
check "plain: off a terminal, no escape sequences" no_match $'\e' "$T/plain.out"
check_match "plain: timestamped event lines" '^\[\+0\.[0-9]{3}s\] drill live-ok' "$(cat "$T/plain.out")"
check_match "plain: and the summary" '^drill live-ok: PASS \(exit 0\)' "$(cat "$T/plain.out")"

start nolive "LANG=C $FAULTLINE run --no-live $T/ok.yaml"
wait_exit nolive 15
check "plain: --no-live on a terminal writes no escape sequences" no_match $'\e' "$T/nolive.raw"
check_match "plain: --no-live on a terminal prints timestamped lines" '^\[\+0\.[0-9]{3}s\] probe fine: pass' "$(screen)"

start dumb "TERM=dumb $FAULTLINE run $T/ok.yaml"
wait_exit dumb 15
check "plain: TERM=dumb writes no escape sequences" no_match $'\e' "$T/dumb.raw"

start json "$FAULTLINE run --json $T/ok.yaml >$T/json.out"
wait_exit json 15
check "json: on a terminal too, every line is a JSON event" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(not (ev and all("event" in e for e in ev) and ev[-1]["event"] == "report"))' "$T/json.out"

# --quiet: nothing at all on success, on a terminal or not.
start quiet "$FAULTLINE run --quiet $T/ok.yaml; $FAULTLINE --quiet run $T/ok.yaml"
wait_exit quiet 20
check_eq "quiet: exit 0" 0 "$(cat "$T/quiet.exit")"
check_eq "quiet: on a terminal, nothing printed" "" "$(tr -d '\r\n' <"$T/quiet.raw")"
"$FAULTLINE" run --quiet "$T/ok.yaml" >"$T/quiet.out" 2>&1
check_eq "quiet: off a terminal, exit 0" 0 "$?"
check_eq "quiet: off a terminal, nothing printed" "" "$(cat "$T/quiet.out")"
check_eq "no journal left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"
