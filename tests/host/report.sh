#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The report's SVG timeline and "faultline report": run writes x.svg next
# to x.json; the SVG is well-formed XML (xmllint) with one bar per fault,
# one tick per probe result (failures red), markers for the OOM kill and
# the first syscall injection, a skipped fault hatched, names escaped and
# a time axis in seconds; "report FILE --svg OUT" reprints the summary and
# redraws the same picture; headless Chromium renders it when installed.
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE" ] || { notok "report: $FAULTLINE is built"; exit 1; }
command -v xmllint >/dev/null || { skip "report" "needs xmllint (libxml2-utils)"; exit 0; }
cd "$T"

# xp FILE XPATH: an XPath 1.0 value, namespaces ignored.
xp() { xmllint --xpath "$2" "$1" 2>/dev/null; }
# Elements whose class has WORD: //*[local-name()=NAME][class has WORD]
cls() { echo "//*[local-name()='$1'][contains(concat(' ',@class,' '),' $2 ')]"; }

# --- A real run (the test engine), probes that fail half the time. -------
if [ -x "$FAULTLINE_TEST" ] && [ "$(id -u)" = 0 ]; then
	export FAULTLINE_RUNDIR=$T/run
	cat >"$T/tl.yaml" <<YAML
name: timeline
duration: 2s
faults:
  - name: a
    test: { file: $T/a, value: A }
    at: 0s
    for: 1s
  - name: b
    test: { file: $T/b, value: B }
    at: 500ms
probes:
  - name: half
    exec: [sh, -c, "test ! -e $T/a"]
    every: 200ms
    timeout: 200ms
    expect: { exit: 0 }
YAML
	out=$("$FAULTLINE_TEST" run --report tl.json tl.yaml 2>&1)
	check_eq "report: the drill fails its probe while a is applied" 1 "$?"
	check_match "run prints where the timeline is" '^timeline: tl\.svg$' "$out"
	check "run writes tl.svg next to tl.json" test -s tl.svg
	check "run's SVG is well-formed (xmllint)" xmllint --noout tl.svg
	read -r runs passed failed <<<"$(python3 -c '
import json; p = json.load(open("tl.json"))["probes"][0]
print(p["runs"], p["passed"], p["failed"])')"
	check_eq "one tick per probe result" "$runs" \
		"$(xp tl.svg "count($(cls line tick))")"
	check_eq "failed results are red ticks ($failed)" "$failed" \
		"$(xp tl.svg "count($(cls line fail)[@stroke='#e74c3c'])")"
	check "some ticks are red, some green ($passed/$runs)" \
		test "$failed" -gt 0 -a "$passed" -gt 0
	check_eq "one bar per fault" 2 "$(xp tl.svg "count($(cls g fault)/*[local-name()='rect'])")"
	# a: applied at ~0s, reverted at ~1s: its bar spans ~1/2 of the axis.
	w=$(xp tl.svg "string($(cls g fault)[@data-name='a']/*[local-name()='rect']/@width)")
	check "a's bar is about half the axis wide ($w of 740px)" \
		python3 -c "import sys; sys.exit(not 300 < float('$w') < 440)"
	rep=$("$FAULTLINE" report tl.json --svg re.svg)
	check_eq "report --svg exits 0" 0 "$?"
	# Times to the ms from the JSON: the last digit may differ.
	lines() { grep -E '^  (fault|probe) ' | sed 's/+[0-9]*\.[0-9]*s/+Ts/g'; }
	check_eq "report reprints run's fault and probe lines" \
		"$(lines <<<"$out")" "$(lines <<<"$rep")"
	check_match "with the times" '^  fault a +reverted +applied \+0\.00[0-9]s reverted \+1\.0[0-9]{2}s' "$rep"
	check_match "report gives the verdict" '^drill timeline: FAIL \(exit 1\)$' "$rep"
	check "report --svg redraws the same picture" cmp -s tl.svg re.svg

	# --- report merge: two runs on one machine (one hostname), as make
	# demo's hosts a and b are: they stay two hosts, told apart by run id,
	# even from files of the same name; no input is ever written over.
	cat >"$T/tiny.yaml" <<YAML
name: tiny
duration: 300ms
faults:
  - name: t
    test: { file: $T/t, value: T }
    at: 0s
    for: 100ms
YAML
	mkdir -p h1 h2
	"$FAULTLINE_TEST" run --quiet --report h1/r.json tiny.yaml &&
		"$FAULTLINE_TEST" run --quiet --report h2/r.json tiny.yaml
	fixture "report merge: two real reports" test -s h1/r.json -a -s h2/r.json
	out=$("$FAULTLINE" report merge -o m.json h1/r.json h2/r.json 2>&1)
	check_eq "report merge -o exits 0" 0 "$?"
	want=$(jq -r '"\(.host)/\(.run)"' h1/r.json h2/r.json | sort | tr '\n' ' ')
	check_eq "report merge: one hostname, two hosts, named with their run ids" \
		"$want" "$(jq -r '.hosts[].host' m.json | sort | tr '\n' ' ')"
	check_match "report merge: the summary shows both" \
		"^  fault t: active on 2 hosts" "$out"
	sum=$(md5sum h1/r.json h2/r.json)
	out=$("$FAULTLINE" report merge -o h1/r.json h1/r.json h2/r.json 2>&1)
	check_eq "report merge -o INPUT: refused (exit 2)" 2 "$?"
	check_match "... saying why" "h1/r.json is one of the reports to merge" "$out"
	out=$("$FAULTLINE" report merge --output "$T/h2/../h2/r.json" h1/r.json h2/r.json 2>&1)
	check_eq "report merge --output INPUT by another path: refused (exit 2)" 2 "$?"
	out=$("$FAULTLINE" report merge --svg h2/r.json h1/r.json h2/r.json 2>&1)
	check_eq "report merge --svg INPUT: refused (exit 2)" 2 "$?"
	"$FAULTLINE" report merge --json h1/r.json h2/r.json >stdout.json 2>&1
	check_eq "report merge --json A B: the merged JSON on stdout" \
		faultline-merged-report "$(jq -r .kind stdout.json 2>&1)"
	check_eq "report merge: no input was written over" "$sum" \
		"$(md5sum h1/r.json h2/r.json)"
	out=$("$FAULTLINE" report merge h1/r.json ./h1/r.json 2>&1)
	check_eq "report merge: one file twice is refused (exit 2)" 2 "$?"
else
	skip "report: a real run" "needs root and $FAULTLINE_TEST (make tests)"
fi

# --- Files that are not reports: what they are, not json-c's words. ------
printf '{"faults": [' >cut.json
printf '{"a": 1,,}\n' >badj.json
: >empty.json
for c in "examples/demo.yaml|not JSON: it begins with '# The faultline demo drill" \
	 "cut.json|the JSON ends early" "badj.json|bad JSON at line 1, column 9" \
	 "empty.json|the file is empty"; do
	f=${c%%|*}
	[ "$f" = examples/demo.yaml ] && f=$SRC/$f
	out=$("$FAULTLINE" report "$f" 2>&1)
	check_match "report ${f##*/}: FILE: not a faultline report (${c#*|}...)" \
		"^faultline: error: $f: not a faultline report \\(${c#*|}" "$out"
	check "report ${f##*/}: no json-c tokener words" \
		bash -c '! grep -Eq "tokener|json_object_from_file" <<<"$1"' _ "$out"
	out=$("$FAULTLINE" report merge "$f" all.json 2>&1)
	check_match "report merge ${f##*/}: the same message" \
		"$f: not a faultline report \\(${c#*|}" "$out"
done

# --- A report with every kind of lane and marker. ----------------------
cat >"$T/all.json" <<'JSON'
{
  "experiment": { "name": "all <&> kinds", "file": "x.yaml", "duration": 40.0 },
  "run": "r1", "started": "2026-01-01T00:00:00.000Z",
  "ended": "2026-01-01T00:00:40.000Z", "elapsed": 40.0,
  "faults": [
    { "name": "slow", "engine": "netem", "state": "skipped", "optional": true,
      "at": 0.0, "for": 30.0, "applied_t": null, "reverted_t": null,
      "detail": "sch_netem is not available" },
    { "name": "refuse", "engine": "syscall", "state": "reverted",
      "at": 5.0, "for": 20.0, "applied_t": 5.0, "reverted_t": 25.0,
      "observed": { "first_events": [ { "time": "2026-01-01T00:00:07.500Z",
        "pid": 42, "comm": "py", "call": "connect", "errno": "ECONNREFUSED" } ] } },
    { "name": "cut", "engine": "partition", "state": "failed",
      "at": 10.0, "for": 5.0, "applied_t": null, "reverted_t": null,
      "detail": "EPERM" },
    { "name": "oom", "engine": "oom", "state": "reverted", "at": 28.0,
      "for": null, "applied_t": 28.0, "reverted_t": 40.0,
      "observed": { "victim": { "pid": 7, "comm": "hog", "signal": "SIGKILL" },
        "squeeze_to_kill_ms": 120, "proven": true,
        "expectation": { "met": true, "detail": "a proven kill" } } }
  ],
  "probes": [ { "name": "web", "runs": 3, "passed": 2, "failed": 1, "timeouts": 1,
    "results": [ { "t": 1.0, "exit": 0, "pass": true },
                 { "t": 12.0, "exit": -1, "pass": false, "timeout": true },
                 { "t": 20.0, "exit": 0, "pass": true } ] } ],
  "verdict": "fail", "exit": 1
}
JSON
out=$("$FAULTLINE" report all.json --svg all.svg)
check_eq "report of a hand-made report exits 0" 0 "$?"
check "its SVG is well-formed, names escaped" xmllint --noout all.svg
check_match "the title keeps the escaped name" 'all &lt;&amp;&gt; kinds' "$(cat all.svg)"
check_match "report prints the skipped fault's reason" \
	'^  fault slow +skipped +\(sch_netem is not available\)$' "$out"
check_match "report prints the oom expectation" '^        expected: a proven kill$' "$out"
check_match "report prints timeouts" '^  probe web +2/3 passed, 1 timed out$' "$out"
check_eq "four fault lanes, one probe lane" "4 1" \
	"$(xp all.svg "count($(cls g fault))") $(xp all.svg "count($(cls line probe-lane))")"
check_eq "the skipped fault is hatched grey over its planned span" "url(#hatch) 0-30" \
	"$(xp all.svg "string($(cls g skipped)/*[local-name()='rect']/@fill)") $(python3 -c '
import sys, xml.dom.minidom as m
for g in m.parse("all.svg").getElementsByTagName("g"):
    if "skipped" in g.getAttribute("class").split():
        r = g.getElementsByTagName("rect")[0]
        x, w = float(r.getAttribute("x")), float(r.getAttribute("width"))
        print("%d-%d" % round((x - 190) / 18.5), round((x + w - 190) / 18.5)) if False else None
        print("%d-%d" % (round((x - 190) / 18.5), round((x + w - 190) / 18.5)))')"
check_eq "the failed fault is hatched red" "url(#hatch-red)" \
	"$(xp all.svg "string($(cls g failed)/*[local-name()='rect']/@fill)")"
check_eq "the oom kill marker is at applied + squeeze_to_kill (28.12s)" "28.120" \
	"$(xp all.svg "string($(cls g oom-kill)/@data-t)")"
check_match "it names the victim" 'OOM kill: pid 7 hog \(SIGKILL\), proven' \
	"$(xp all.svg "string($(cls g oom-kill))")"
check_eq "the first injection marker is at 7.5s" "7.500" \
	"$(xp all.svg "string($(cls g injection)/@data-t)")"
check_eq "one red tick, two green" "1 2" \
	"$(xp all.svg "count($(cls line fail)[@stroke='#e74c3c'])") $(xp all.svg "count($(cls line pass)[@stroke='#27ae60'])")"
check_match "the axis is in seconds, every 5s to 40s" '0s 5s 10s .* 35s 40s time \(seconds\)' \
	"$(python3 -c '
import xml.dom.minidom as m
for g in m.parse("all.svg").getElementsByTagName("g"):
    if g.getAttribute("class") == "axis":
        print(" ".join(t.firstChild.data for t in g.getElementsByTagName("text")))')"
check_status "report: a file that is no report is a usage error" 2 \
	"$FAULTLINE" report "$SRC/examples/demo.yaml"
check_status "report: no file is a usage error" 2 "$FAULTLINE" report
check_eq "report --json prints the report" "fail" \
	"$("$FAULTLINE" report --json all.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])')"

# --- The legend and each fault's planned window (issue 16, item 11). ------
# cut (netem) was planned 1s-3s and applied at 3.398s; flap (partition)
# repeats, its 2nd occurrence late; api is a steady-state probe that
# fails during cut, as expected, and once passes when it should not.
cat >"$T/win.json" <<'JSON'
{
  "experiment": { "name": "windows", "file": "w.yaml", "duration": 10.0 },
  "run": "r2", "started": "2026-01-01T00:00:00.000Z",
  "ended": "2026-01-01T00:00:10.000Z", "elapsed": 10.0,
  "faults": [
    { "name": "cut", "engine": "netem", "state": "reverted", "at": 1.0,
      "for": 2.0, "applied_t": 3.398, "reverted_t": 3.403,
      "window": { "planned_from": 1.0, "planned_until": 3.0,
        "actual_from": 3.398, "actual_until": 3.403, "late": 2.398,
        "lost_percent": 100,
        "warning": "fault cut: applied at +3.398s, 2.398s late: 100% of its 2s window (+1.000s..+3.000s) was lost" } },
    { "name": "flap", "engine": "partition", "state": "reverted", "at": 4.0,
      "for": null, "applied_t": 4.0, "reverted_t": 8.9,
      "repeat": { "every": 2.0, "for": 1.0, "times": 2, "jitter": 0 },
      "occurrences": [
        { "occurrence": 1, "state": "reverted", "at": 4.0, "until": 5.0,
          "applied_t": 4.0, "reverted_t": 5.0,
          "window": { "planned_from": 4.0, "planned_until": 5.0,
            "actual_from": 4.0, "actual_until": 5.0, "late": 0, "lost_percent": 0 } },
        { "occurrence": 2, "state": "reverted", "at": 6.0, "until": 7.0,
          "applied_t": 6.6, "reverted_t": 7.0,
          "window": { "planned_from": 6.0, "planned_until": 7.0,
            "actual_from": 6.6, "actual_until": 7.0, "late": 0.6, "lost_percent": 60,
            "warning": "fault flap, occurrence 2/2: applied at +6.600s, 0.600s late" } } ] }
  ],
  "probes": [ { "name": "api", "runs": 3, "passed": 2, "failed": 1, "unexpected": 1,
    "results": [ { "t": 0.5, "exit": 0, "pass": true, "as_expected": true },
                 { "t": 3.4, "exit": 7, "pass": false, "as_expected": true },
                 { "t": 3.402, "exit": 0, "pass": true, "as_expected": false } ] } ],
  "warnings": [ "fault cut: applied at +3.398s, 2.398s late: 100% of its 2s window (+1.000s..+3.000s) was lost" ],
  "verdict_detail": "probe api: expected to fail during cut, but passed 1/2",
  "verdict": "fail", "exit": 1
}
JSON
out=$("$FAULTLINE" report win.json --svg win.svg)
check "windows: the SVG is well-formed" xmllint --noout win.svg
legend() { xp win.svg "string(//*[local-name()='g'][@class='legend-item'][*[local-name()='text']='$1']/*[1]/@$2)"; }
check_eq "windows: the legend gives each engine's colour (its ops table's)" "#2e86de #8e44ad" \
	"$(legend netem fill) $(legend partition fill)"
check_eq "windows: and no engine the report does not have" "" "$(legend oom fill)"
check_eq "windows: it explains the planned window, the ticks and the markers" \
	"#95a5a6 #f39c12 #27ae60 #e74c3c #f39c12 #c0392b #333" \
	"$(legend 'planned window' fill) $(legend 'applied late (window lost)' fill) \
$(legend 'probe passed' stroke) $(legend 'probe failed' stroke) \
$(legend 'failed, as its phase expects' stroke) $(legend 'OOM kill' stroke) \
$(legend 'first syscall injection' stroke)"
check_eq "windows: cut's planned window beside its actual bar, marked late" \
	"planned late 1.000 3.000" \
	"$(xp win.svg "string($(cls g planned)[@data-name='cut']/@class)") $(xp win.svg "string($(cls g planned)[@data-name='cut']/@data-from)") $(xp win.svg "string($(cls g planned)[@data-name='cut']/@data-until)")"
# 960 px wide, 190 px of labels, 30 on the right: 74 px a second.
check_eq "windows: the planned strip starts at 1s, the bar at 3.398s" "264.0 441.5" \
	"$(xp win.svg "string($(cls g planned)[@data-name='cut']/*[local-name()='rect']/@x)") $(xp win.svg "string($(cls g fault)[@data-name='cut']/*[local-name()='rect']/@x)")"
check_eq "windows: a planned window per occurrence, only the 2nd late" "planned|planned late" \
	"$(xp win.svg "string($(cls g planned)[@data-name='flap'][@data-occurrence='1']/@class)")|$(xp win.svg "string($(cls g planned)[@data-name='flap'][@data-occurrence='2']/@class)")"
check_eq "windows: the expected failure is amber, the unexpected pass red" "#f39c12 #c0392b" \
	"$(xp win.svg "string($(cls line expected-fail)/@stroke)") $(xp win.svg "string($(cls line pass)[@stroke!='#27ae60']/@stroke)")"
check_match "windows: the title says which phase failed" \
	'fail probe api: expected to fail during cut, but passed 1/2' \
	"$(xp win.svg "string(//*[local-name()='text'][*[@class='verdict']])")"
check_eq "windows: the summary says which phase failed, under the verdict" \
	"drill windows: FAIL (exit 1)|  why: probe api: expected to fail during cut, but passed 1/2" \
	"$(grep -A1 '^drill windows' <<<"$out" | paste -sd'|')"
check_match "windows: the summary has the warning" \
	'^  WARNING: fault cut: applied at \+3\.398s, 2\.398s late' "$out"

# --- It renders in a real browser. ----------------------------------------
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chrome" ]; then
	# Cropped at the axis: the legend under it has every colour too.
	axis=$(xp all.svg "string(//*[local-name()='g'][@class='axis']/*[local-name()='line'][1]/@y1)")
	timeout 60 "$chrome" --headless --no-sandbox --disable-gpu \
		--hide-scrollbars --window-size=960,"${axis:-300}" \
		--user-data-dir="$T/chrome" \
		--screenshot="$T/all.png" "file://$T/all.svg" >/dev/null 2>&1
	check "chromium renders the SVG to a PNG" test -s "$T/all.png"
	# The PNG's pixels: enough of the engines' and the ticks' colours.
	colours=$(python3 - "$T/all.png" <<'PY' 2>&1
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
i, idat, w = 8, b"", 0
while i < len(d):
    n, t = struct.unpack(">I4s", d[i:i + 8]); c = d[i + 8:i + 8 + n]; i += 12 + n
    if t == b"IHDR":
        w, h, bd, ct = struct.unpack(">IIBB", c[:10])
        bpp = {2: 3, 6: 4}[ct]
    elif t == b"IDAT":
        idat += c
raw = zlib.decompress(idat); stride = w * bpp; prev = bytearray(stride); px = set()
for y in range(h):
    f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; cc = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - cc; pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
    prev = line
    for x in range(0, stride, bpp): px.add(bytes(line[x:x + 3]))
want = {"syscall": "16a085", "oom": "e67e22", "fail": "e74c3c", "pass": "27ae60"}
print(" ".join(k for k, v in want.items() if bytes.fromhex(v) in px))
PY
)
	check_eq "the rendering shows the bars and ticks in their colours" \
		"syscall oom fail pass" "$colours"
else
	skip "report: chromium renders the SVG" "no chromium"
fi
