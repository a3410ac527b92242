#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# repeat: with the test engine (tests/runner/test_engine.c, whose "kernel
# state" is a file): every occurrence applied and reverted at its planned
# time, seen in the file itself by a sampler; the events, the report's
# occurrences and the SVG's bars; the seed reproducing the jitter (plan
# and run agree, --seed and seed: and a drawn seed replay); kill -9 of
# the runner mid-occurrence (the guardian reverts exactly that one
# record) and between occurrences (the journal holds the next
# occurrence's record, prepared in the gap, whose replay changes
# nothing), and recover after kill -9 of both, which reverts in the
# reverse of apply, not of prepare (seq).
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE_TEST" ] || { skip "runner repeat" "no $FAULTLINE_TEST (make tests)"; exit 0; }
[ "$(id -u)" = 0 ] || { skip "runner repeat" "root"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
cd "$T"
FT=$FAULTLINE_TEST

# --- The drill: flap at 300ms, every 1s for 400ms, 3 times, jitter 300ms. --
drill "$T/flap.yaml" flap 4s
fault "$T/flap.yaml" flap "test: { file: $T/f, value: ON }" 'at: 300ms' \
	'repeat: { every: 1s, for: 400ms, times: 3, jitter: 300ms }'
fault "$T/flap.yaml" plain "test: { file: $T/p, value: P }" 'at: 100ms' 'for: 1s'

# The planned windows for a seed, "at until" in ms, a line each.
planned() {
	"$FT" plan --json ${1:+--seed "$1"} "${2:-flap.yaml}" | python3 -c '
import json, sys
p = json.load(sys.stdin)
f = [f for f in p["faults"] if f["name"] == "flap"][0]
for o in f["occurrences"]:
    print(o["at_ns"] // 1000000, o["until_ns"] // 1000000)'
}
p7=$(planned 7)
check_eq "plan: three occurrences" 3 "$(wc -l <<<"$p7")"
check_eq "plan: the same seed, the same jitter" "$p7" "$(planned 7)"
check "plan: another seed, another jitter" test "$p7" != "$(planned 8)"
out=$("$FT" plan --seed 7 flap.yaml)
check_match "plan: shows each occurrence on the timeline" \
	'apply +flap 1/3.*revert +flap 1/3.*apply +flap 2/3.*revert +flap 2/3.*apply +flap 3/3.*revert +flap 3/3' \
	"$(tr '\n' ' ' <<<"$out")"
check_match "plan: and the seed it drew them from" '^Seed: 7 \(option\)' "$out"

# --- The run: a sampler watches the file every 10ms. ---------------------
rm -f "$T/f" "$T/p"
sample() {
	local t0=$(now_ms)
	while [ -e "$T/sampling" ]; do
		echo "$(($(now_ms) - t0)) $(content "$T/f")"
		sleep 0.01
	done > "$T/samples"
}
touch "$T/sampling"; sample & spid=$!; at_exit "rm -f $T/sampling; kill $spid"
"$FT" run --json --seed 7 --report rep.json flap.yaml > "$T/run.out" 2> "$T/run.err"
rc=$?
rm -f "$T/sampling"; wait $spid
check_eq "run: exit 0" 0 "$rc"
check_eq "run: the file is as before (absent)" "<absent>" "$(content "$T/f")"
check_eq "run: the journal is empty afterwards" 0 "$(runs_left)"
# The windows the sampler saw: runs of ON between <absent>.
windows=$(awk '$2 == "ON" && prev != "ON" { n++ } { prev = $2 } END { print n + 0 }' "$T/samples")
check_eq "run: the file was ON in three separate windows" 3 "$windows"
ev=$(sed -n 's/^{"event":"\(applied\|reverted\)","fault":"flap","occurrence":\([0-9]\),"occurrences":3.*"t":\([0-9.]*\).*/\1 \2 \3/p' "$T/run.out")
check_eq "events: applied and reverted in turn, occurrence 1 to 3" \
	"applied 1,reverted 1,applied 2,reverted 2,applied 3,reverted 3" \
	"$(awk '{ print $1 " " $2 }' <<<"$ev" | paste -sd,)"
# Each at its planned time: applied within 150ms after "at", reverted
# within 150ms after "until" (this machine has two busy cores).
late=$(paste <(awk '{ print $3 * 1000 }' <<<"$ev" | paste - -) <(cat <<<"$p7") |
	awk '{ if ($1 < $3 || $1 > $3 + 150 || $2 < $4 || $2 > $4 + 150) print }')
check_eq "events: each occurrence applied at its 'at' and reverted at its 'until'" "" "$late"
check_match "events: the start line gives the seed" '"event":"start".*"seed":7' "$(head -1 "$T/run.out")"
check "events: the plain fault's lines have no occurrence" \
	grep -q '^{"event":"applied","fault":"plain","engine"' "$T/run.out"

# --- The report: occurrences per fault; a plain fault as before. --------
rep=$(python3 - "$T/rep.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = {x["name"]: x for x in r["faults"]}
fl, pl = f["flap"], f["plain"]
print("seed", r["seed"])
print("flap", fl["state"], fl["repeat"]["times"], fl["repeat"]["every"],
      fl["repeat"]["jitter"], fl["applied_t"] == fl["occurrences"][0]["applied_t"],
      fl["reverted_t"] == fl["occurrences"][2]["reverted_t"])
for o in fl["occurrences"]:
    print("occ", o["occurrence"], o["state"], int(round(o["at"] * 1000)),
          o["applied_t"] >= o["at"], o["reverted_t"] >= o["until"])
print("plain", " ".join(sorted(pl)))
PY
)
check_eq "report: the seed" "seed 7" "$(sed -n 1p <<<"$rep")"
check_eq "report: the flap fault, its repeat, first apply and last revert" \
	"flap reverted 3 1.0 0.3 True True" "$(sed -n 2p <<<"$rep")"
check_eq "report: every occurrence reverted, at its planned time" \
	"$(awk '{ print "occ " NR " reverted " $1 " True True" }' <<<"$p7")" \
	"$(grep '^occ' <<<"$rep")"
check_eq "report: a fault without repeat keeps its keys, and only those" \
	"plain applied_at applied_t at detail engine for lag mechanism name observed optional reverted_at reverted_t state window" \
	"$(grep '^plain' <<<"$rep")"
out=$("$FT" report rep.json 2>&1)
check_match "report: the summary lists the occurrences" \
	'fault flap .*reverted.* 1/3 reverted +applied \+.* 2/3 reverted .* 3/3 reverted ' \
	"$(tr '\n' ' ' <<<"$out")"

# --- The SVG: one bar per occurrence in the fault's lane. ----------------
check "svg: written next to the report" test -s "$T/rep.svg"
bars=$(grep -o 'data-name="flap" data-occurrence="[0-9]"><rect x="[0-9.]*"' "$T/rep.svg" |
	sed 's/.*occurrence="\([0-9]\)"><rect x="\([0-9.]*\)"/\1 \2/')
check_eq "svg: three bars in flap's lane" "1,2,3" "$(awk '{ print $1 }' <<<"$bars" | paste -sd,)"
check "svg: left to right" awk 'NR > 1 && $2 <= prev { exit 1 } { prev = $2 }' <<<"$bars"
check_eq "svg: the plain fault has its one bar" 1 "$(grep -c 'class="fault [a-z]*" data-name="plain"' "$T/rep.svg")"
check_match "svg: the lane says how many" 'test, reverted, 3 occurrences' "$(cat "$T/rep.svg")"

# --- Seeds: the file's seed:, and a drawn one that the report replays. --
sed 's/^duration: 4s/&\nseed: 7/' flap.yaml > seeded.yaml
sed -i 's/^name: flap/name: seeded/' seeded.yaml
check_eq "seed: the file's seed: gives the --seed timeline" "$p7" "$(planned '' seeded.yaml)"
check_match "seed: plan says it is the file's" '^Seed: 7 \(file\)' "$("$FT" plan seeded.yaml)"
check "seed: --seed overrides the file's" test "$(planned 8 seeded.yaml)" = "$(planned 8)"
# No seed anywhere: one is drawn, printed, kept in the report, and
# replays the run's timeline.
drill "$T/quick.yaml" quick 1500ms
fault "$T/quick.yaml" flap "test: { file: $T/q, value: Q }" \
	'repeat: { every: 500ms, for: 100ms, jitter: 300ms }'
out=$("$FT" run --report quick.json quick.yaml 2>&1)
seed=$(sed -n 's/.*, seed \([0-9]*\) (--seed \1 draws the same jitter)$/\1/p' <<<"$out" | head -1)
check_match "seed: a drawn seed is printed on the start line" '^[0-9]+$' "$seed"
check_eq "seed: and kept in the report" "$seed" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seed"])' quick.json)"
ran=$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["faults"][0]
for o in f["occurrences"]:
    print(int(round(o["at"] * 1000)), int(round(o["until"] * 1000)))' quick.json)
check_eq "seed: plan --seed SEED gives the run's occurrences" \
	"$(planned "$seed" quick.yaml)" "$ran"
check_eq "seed: until the drill ends without times (3 of them)" 3 "$(wc -l <<<"$ran")"

# Hosts started together (--start-at) without a seed would draw apart.
out=$("$FT" run -q --start-at +1s quick.yaml 2>&1)
check_match "seed: --start-at with jitter and no seed warns" \
	'each host draws its own jitter; give the file a seed: or every host the same --seed' "$out"
out=$("$FT" run -q --start-at +1s --seed 3 quick.yaml 2>&1)
check_eq "seed: not with --seed" "" "$out"

# --- kill -9 mid-occurrence: the guardian reverts that one record. -------
# prepare: true: each occurrence's record is saved before its instant
# (the first before the timeline, the next ones in the gap).
drill "$T/long.yaml" long 20s
fault "$T/long.yaml" flap "test: { file: $T/k, value: K, prepare: true }" \
	'repeat: { every: 2s, for: 1s, times: 5 }'
echo prior-k > "$T/k"
# start N [FILE]: run FILE (long.yaml) in the background, wait for
# occurrence N applied.
start() {
	# Emptied first: the last run's "applied" must not pass for this one's.
	: >"$T/long.out"
	"$FT" run --json "${2:-long.yaml}" > "$T/long.out" 2> "$T/long.err" &
	pid=$!; at_exit "kill -9 $pid"
	wait_for 8 grep -q "\"event\":\"applied\",\"fault\":\"flap\",\"occurrence\":$1," "$T/long.out"
	guardian=$(guardian_of)
	[ -n "$guardian" ] && [ "$guardian" != 0 ] && at_exit "kill -9 $guardian"
}
start 2
dir=$(run_dir)
check_eq "kill -9: the file holds occurrence 2's value" K "$(content "$T/k")"
check_eq "kill -9: one record in the journal, occurrence 2's own (the first one's is dropped)" \
	"0002-flap.json" "$(ls "$dir" | grep -E '^[0-9]{4}-')"
kill -9 "$pid"; wait "$pid" 2>/dev/null
wait_for 3 is "$T/k" prior-k
check_eq "kill -9: the guardian puts the file back" prior-k "$(content "$T/k")"
wait_for 3 no_runs
check_eq "kill -9: the journal is emptied" 0 "$(runs_left)"
check_match "kill -9: the guardian reverted exactly one record" \
	'the runner died; reverted 1 fault' "$(cat "$T/long.err")"
sleep 1.2
check_eq "kill -9: no later occurrence is applied by anyone" prior-k "$(content "$T/k")"

# Between two occurrences nothing is on; the journal holds one record,
# the next occurrence's, prepared in the gap after occurrence 1's record
# was dropped: it holds the file as it is now, so its replay changes
# nothing.  A gap of 4s, so that the kill comes inside it.
drill "$T/gap.yaml" gap 20s
fault "$T/gap.yaml" flap "test: { file: $T/k, value: K, prepare: true }" \
	'repeat: { every: 5s, for: 1s, times: 3 }'
start 1 gap.yaml
wait_for 3 grep -q '"event":"reverted","fault":"flap","occurrence":1,' "$T/long.out"
dir=$(run_dir)
wait_for 2 test -e "$dir/0002-flap.json"
recs=$(ls "$dir" | grep -E '^[0-9]{4}-')
rec=$(tr -d ' \n' < "$dir/0002-flap.json" 2>&1)
kill -9 "$pid"; wait "$pid" 2>/dev/null
check_eq "between occurrences: killed before occurrence 2 was applied" "" \
	"$(grep '"event":"applied","fault":"flap","occurrence":2,' "$T/long.out")"
check_eq "between occurrences: the journal holds only the next occurrence's prepared record" \
	"0002-flap.json" "$recs"
check_match "between occurrences: it holds the file as it is between them" \
	'"state":\{"file":"[^"]*/k","existed":true,"content":"prior-k\\n"' "$rec"
wait_for 3 no_runs
check_match "between occurrences: the guardian replays that record" \
	'the runner died; reverted 1 fault' "$(cat "$T/long.err")"
check_eq "between occurrences: and the file is as before" prior-k "$(content "$T/k")"
check_eq "between occurrences: the journal is emptied" 0 "$(runs_left)"
sleep 1.2
check_eq "between occurrences: no later occurrence is applied by anyone" prior-k "$(content "$T/k")"

# kill -9 of both mid-occurrence: recover replays the one record, once.
start 3
dir=$(run_dir)
kill -9 "$guardian" "$pid"; wait "$pid" 2>/dev/null
wait_for 2 gone "$guardian"
check_eq "recover: with both dead, occurrence 3 stays on" K "$(content "$T/k")"
check_eq "recover: its one record is left" "0003-flap.json" "$(ls "$dir" | grep -E '^[0-9]{4}-')"
out=$("$FT" recover 2>&1); rc=$?
check_eq "recover: exit 0" 0 "$rc"
check_eq "recover: reverts that one record" 1 "$(grep -c 'fault flap (test) reverted' <<<"$out")"
check_eq "recover: the file is restored" prior-k "$(content "$T/k")"
check_eq "recover: the journal is empty" 0 "$(runs_left)"

# --- recover undoes in the reverse of apply, not of prepare. ------------
# flap's second occurrence (3.2s) is prepared in the gap, after cut
# (3.5s) was prepared before the timeline: its record's seq is higher,
# though it was applied first.  Both write one file, so only the reverse
# of apply puts it back: cut's record holds flap's value, flap's the
# prior one.
drill "$T/order.yaml" order 10s
fault "$T/order.yaml" flap "test: { file: $T/o, value: R, prepare: true }" \
	'at: 200ms' 'repeat: { every: 3s, for: 2500ms, times: 2 }'
fault "$T/order.yaml" cut "test: { file: $T/o, value: C, prepare: true }" \
	'at: 3500ms' 'for: 4s'
echo prior-o > "$T/o"
: >"$T/long.out"
"$FT" run --json order.yaml > "$T/long.out" 2> "$T/long.err" &
pid=$!; at_exit "kill -9 $pid"
wait_for 8 grep -q '"event":"applied","fault":"cut"' "$T/long.out"
guardian=$(guardian_of)
[ -n "$guardian" ] && [ "$guardian" != 0 ] && at_exit "kill -9 $guardian"
dir=$(run_dir)
kill -9 "$guardian" "$pid"; wait "$pid" 2>/dev/null
wait_for 2 gone "$guardian"
check_eq "order: killed with flap's second occurrence and cut on" C "$(content "$T/o")"
check_eq "order: flap's occurrence 2 was applied before cut" \
	"flap 2,cut" "$(sed -n 's/^{"event":"applied","fault":"\([a-z]*\)",\("occurrence":\([0-9]\),\)\{0,1\}.*/\1 \3/p' \
		"$T/long.out" | sed 's/ $//' | tail -2 | paste -sd,)"
check_eq "order: each record keeps its planned instant and file place" \
	"0002-cut.json 3500000000 1,0003-flap.json 3200000000 0" \
	"$(cd "$dir" && for f in 0*.json; do python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sys.argv[1], r.get("due_ns"), r.get("index"))' "$f"; done | paste -sd,)"
out=$("$FT" recover --json 2>&1); rc=$?
check_eq "order: recover exits 0" 0 "$rc"
check_eq "order: recover reverts cut, then flap (the reverse of apply)" \
	"0002-cut.json,0003-flap.json" "$(python3 -c '
import json, sys
def walk(o):
    if isinstance(o, dict):
        for r in o.get("reverted", []):
            print(r["record"])
        for v in o.values():
            if isinstance(v, (dict, list)):
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.loads(sys.stdin.read()))' <<<"$out" | paste -sd,)"
check_eq "order: and the file is as before the drill" prior-o "$(content "$T/o")"
check_eq "order: the journal is empty" 0 "$(runs_left)"

# --- The live view (a terminal in tmux): the occurrence and the wait. ----
if ! command -v tmux >/dev/null; then
	skip "repeat: the live view" "tmux is not installed (tools/deps)"
	exit 0
fi
sock=fl-rep-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
at_exit "tmux -L $sock -f /dev/null kill-server"
drill "$T/slow.yaml" slow 9s
fault "$T/slow.yaml" flap "test: { file: $T/s, value: S }" 'at: 1s' \
	'repeat: { every: 3s, for: 1s, times: 3 }'
tm new-session -d -s live -x 120 -y 30 \
	"cd $T && LANG=C $FT run slow.yaml; sleep 600"
# wait_screen ERE SECONDS: until a line of the screen matches; $scr holds it.
wait_screen() {
	local end=$((SECONDS + $2))
	while :; do
		scr=$(tm capture-pane -p -t live)
		grep -Eq -- "$1" <<<"$scr" && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
wait_screen '^flap +active' 6
check_match "live: occurrence 1 of 3 is active, with its window" \
	'^flap +active +00:01-00:02 +1/3' "$scr"
wait_screen '^flap +waiting' 6
check_match "live: between two, it waits for the next, with the time to it" \
	'^flap +waiting +00:04-00:05 +2/3 next in 00:0[0-3]' "$scr"
check_match "live: the event lines name the occurrence" \
	'fault flap: reverted, occurrence 1/3; next at \+4\.000s' "$scr"
wait_screen '^flap +active +00:04' 6
check_match "live: then occurrence 2 of 3 is active" '^flap +active +00:04-00:05 +2/3' "$scr"
