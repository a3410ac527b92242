#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The CLI on this machine: version, usage errors, validate and plan, and
# that plan changes nothing.
source "$(dirname "$0")/../lib.sh"
cd "$SRC"

out=$("$FAULTLINE" --version); rc=$?
check_match "--version prints the version" '^faultline [0-9]+\.[0-9]+\.[0-9]+$' "$out"
check_eq "--version exits 0" 0 "$rc"

out=$("$FAULTLINE" valdate x.yaml 2>&1); rc=$?
check_eq "unknown command exits 2" 2 "$rc"
check_match "unknown command suggests the right one" "Did you mean 'validate'" "$out"

for c in validate plan run status recover doctor; do
	out=$("$FAULTLINE" "$c" --help 2>&1); rc=$?
	check_eq "$c --help exits 0" 0 "$rc"
	check_match "$c --help shows its usage" "^Usage: faultline $c" "$out"
done

# A valid file, and one with several errors: every error, with positions.
cat > "$T/good.yaml" <<'YAML'
name: good
duration: 10s
targets:
  job: { command: [sleep, "30"] }
faults:
  - name: squeeze
    oom: { target: job, cgroup: scratch, squeeze: { below-usage: 16M } }
    at: 1s
    for: 2s
YAML
cat > "$T/bad.yaml" <<'YAML'
name: bad
duration: 10s
faults:
  - name: one
    oom: { target: nobody, squeeze: { below-usage: 16M } }
    at: 20s
  - name: one
    netem: { device: lo, dealy: 10ms }
probes:
  - name: p
    exec: [true]
    every: 1 s
YAML
out=$("$FAULTLINE" validate "$T/good.yaml" 2>&1); rc=$?
check_eq "validate accepts a good file" 0 "$rc"
out=$("$FAULTLINE" validate "$T/good.yaml" "$T/bad.yaml" 2>&1); rc=$?
check_eq "validate rejects a bad file with exit 2" 2 "$rc"
check_match "undefined target reported at its line:col" "bad.yaml:5:[0-9]+: .*nobody" "$out"
check_match "fault window outside duration reported" "bad.yaml:[67]:[0-9]+: .*duration" "$out"
check_match "duplicate name reported" "bad.yaml:7:[0-9]+: .*one" "$out"
check_match "unknown key with did-you-mean" "bad.yaml:8:[0-9]+: .*dealy.*delay" "$out"
check_match "bad duration reported" "bad.yaml:12:[0-9]+: " "$out"
n=$(printf '%s\n' "$out" | grep -c 'bad.yaml:[0-9]*:[0-9]*: ')
check "every problem reported at once (>= 5, got $n)" [ "$n" -ge 5 ]

out=$("$FAULTLINE" --json validate "$T/bad.yaml" 2>/dev/null); rc=$?
check_eq "validate --json exits 2 on a bad file" 2 "$rc"
check "validate --json gives errors with line and col" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
errs = d["files"][0]["errors"]
assert not d["valid"] and len(errs) >= 5, errs
assert all(e["line"] > 0 and e["col"] > 0 and e["message"] for e in errs), errs
' "$out"

for f in examples/*.yaml; do
	[ -e "$f" ] || continue
	check_status "validate $f" 0 "$FAULTLINE" validate "$f"
done

# Every example (the cookbook, examples/README.md) plans here: exit 0, or
# 3 with each fault this machine cannot do saying why; never a bad file.
for f in examples/*.yaml; do
	[ -e "$f" ] || continue
	json=$("$FAULTLINE" --json plan "$f" 2>/dev/null); rc=$?
	check "plan $f: exit 0 or 3 (got $rc)" [ "$rc" = 0 -o "$rc" = 3 ]
	check "plan $f: every fault has its mechanism; one that cannot run says why" \
		python3 -c '
import json, sys
p = json.loads(sys.argv[1])
rc = int(sys.argv[2])
assert p["faults"] and all(f.get("mechanism") for f in p["faults"]), p
bad = [f for f in p["faults"] if f.get("problem")]
assert (rc == 3) == (not p["runnable"]), (rc, p["runnable"])
assert rc == 0 or bad or any(f.get("state") == "skipped" for f in p["faults"]), p
' "$json" "$rc"
done
# The cookbook lists every example, and every file it links exists (or
# is the kill engine's example, which its branch brings).
for f in examples/*.yaml; do
	check_match "examples/README.md lists ${f#examples/}" "\\(${f#examples/}\\)" \
		"$(cat examples/README.md)"
done
for f in $(grep -oE '\]\([a-z0-9-]+\.yaml\)' examples/README.md | tr -d '[]()'); do
	[ "$f" = kill-db-mid-request.yaml ] && [ ! -e examples/$f ] && continue
	check "examples/README.md's $f exists" test -e "examples/$f"
done
for m in dns-down disk-full kill-db-mid-request hung-db link-flap flapping-partition \
	 slow-wan oom-kill missing-config; do
	check_match "the cookbook has a drill for $m" "\\| \\[$m\\.yaml\\]" "$(cat examples/README.md)"
done

# plan touches nothing: links, namespaces, qdiscs, cgroups, the journal.
snapshot() {
	ip -o link | sed 's/ state [A-Z]*//' | awk '{print $2}'
	ip netns list
	tc qdisc show
	find $(memory_mount) $(unified_mount) -maxdepth 2 -type d 2>/dev/null | sort
	ls -A /run/faultline 2>/dev/null
}
before=$(snapshot)
out=$("$FAULTLINE" plan "$T/good.yaml" 2>&1); rc=$?
if [ "$(memory_mode)" = none ]; then
	check_eq "plan of an oom drill exits 3 without a memory controller" 3 "$rc"
else
	check_eq "plan of a drill this machine can do exits 0" 0 "$rc"
fi
check_match "plan names the mechanism" "via " "$out"
check_match "plan shows the timeline's revert" "revert +squeeze" "$out"
if [ -e examples/slow-wan.yaml ]; then
	out=$("$FAULTLINE" plan examples/slow-wan.yaml 2>&1); rc=$?
	# wan.yaml: netem with a match (prio or htb) and an ingress fault
	# (ifb) on eth0.
	if have_qdisc netem && have_qdisc ifb && { have_qdisc prio || have_qdisc htb; } &&
	   ip link show eth0 >/dev/null 2>&1; then
		check_eq "plan of a netem drill exits 0 where netem exists" 0 "$rc"
	elif have_qdisc netem; then
		skip "plan of a netem drill exits 0" "missing ifb, prio and htb, or eth0"
	else
		check_eq "plan of a netem drill exits 3 without sch_netem" 3 "$rc"
		check_match "plan names the missing module" "sch_netem" "$out"
	fi
	json=$("$FAULTLINE" --json plan examples/slow-wan.yaml 2>/dev/null)
	check "plan --json is a plan document" python3 -c '
import json, sys
p = json.loads(sys.argv[1])
assert p["faults"] and p["timeline"] and "runnable" in p, p
assert all("mechanism" in f and "objects" in f for f in p["faults"]), p["faults"]
' "$json"
fi
after=$(snapshot)
check_eq "plan changed nothing on the machine" "$before" "$after"

# run needs root.
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$FAULTLINE" run "$T/good.yaml" 2>&1); rc=$?
	check_eq "run without root exits 3" 3 "$rc"
	check_match "run without root says why" "needs root" "$out"
fi

# --- The common options (issue 16): one table, every command the same. ---
# Every option a command's --help lists (up to its first blank line), the
# command takes; --json, --quiet and --help are in every one.
value_for() {
	case $1 in GROUP|N) echo 1 ;; TIME) echo +1s ;; DURATION) echo 1s ;;
	*) echo /dev/null ;; esac
}
for c in validate plan run status recover doctor report "report merge"; do
	# shellcheck disable=SC2086 # "report merge" is two words
	help=$("$FAULTLINE" $c --help 2>&1 | awk '/^$/ { exit } { print }')
	for o in --json --quiet --help; do
		check_match "$c --help lists $o" "(^|[ [])$o([] ,]|$)" "$help"
	done
	while read -r o meta; do
		args=("$o")
		[[ $meta =~ ^[A-Z]+$ ]] && args+=("$(value_for "$meta")")
		# The one-line drill's options take YAML (and --for a time).
		case $o in
		--fault) args=("$o" 'netem: { device: lo, delay: 1ms }') ;;
		--target) args=("$o" 'pid: 1') ;;
		--for) args=("$o" 1s) ;;
		esac
		# shellcheck disable=SC2086
		"$FAULTLINE" $c "${args[@]}" --help >/dev/null 2>&1
		check_eq "$c takes $o, which its --help lists" 0 "$?"
	done < <(grep -E '^(Usage:|  +-)' <<<"$help" |
		 grep -oE -- '--[a-z][a-z-]+( [A-Z]+)?' | sort -u)
done

# Before the command, they are the command's: honoured, or refused.
out=$("$FAULTLINE" --quiet plan "$T/good.yaml" 2>/dev/null); rc=$?
check_eq "faultline --quiet plan: nothing on stdout" "" "$out"
check_eq "faultline --quiet plan: the same exit status as plan" \
	"$("$FAULTLINE" plan "$T/good.yaml" >/dev/null 2>&1; echo $?)" "$rc"
check_eq "plan -q: nothing on stdout" "" "$("$FAULTLINE" plan -q "$T/good.yaml" 2>/dev/null)"
check_eq "faultline -q validate: nothing on stdout" "" \
	"$("$FAULTLINE" -q validate "$T/good.yaml" 2>&1)"
full=$("$FAULTLINE" doctor 2>/dev/null)
out=$("$FAULTLINE" -q doctor 2>/dev/null); rc=$?
check_eq "faultline -q doctor exits 0" 0 "$rc"
check "faultline -q doctor: shorter than doctor ($(wc -l <<<"$out") of $(wc -l <<<"$full") lines)" \
	[ "$(wc -l <<<"$out")" -lt "$(wc -l <<<"$full")" ]
check "faultline -q doctor: only 'area: status' lines, those of doctor" \
	bash -c 'while IFS= read -r l; do [[ $l =~ ^"  "[a-z]+[a-z\ ]*:\ [a-z]+$ ]] &&
		grep -qxF -- "$l" <<<"$2" || exit 1; done <<<"$1"' _ "$out" "$full"
check_eq "faultline --json status: JSON" true \
	"$("$FAULTLINE" --json status | jq 'has("runs")' 2>&1)"
for h in h1 h2; do
	printf '{"experiment": {"name": "x"}, "host": "%s", "faults": [],
	 "started": "2026-01-01T00:00:00.000Z", "verdict": "pass"}\n' $h >"$T/$h.json"
done
check_eq "faultline --json report merge: JSON (options before report merge)" \
	"faultline-merged-report" "$("$FAULTLINE" --json report merge "$T/h1.json" \
	"$T/h2.json" 2>/dev/null | jq -r .kind 2>&1)"
out=$("$FAULTLINE" --as 1 status 2>&1); rc=$?
check_eq "faultline --as 1 status: an option status does not take is refused" 2 "$rc"
check_match "... naming it" "status: unknown option '--as'" "$out"
out=$("$FAULTLINE" plan --seed 2>&1); rc=$?
check_eq "plan --seed without a value: exit 2" 2 "$rc"
check_match "... saying so" "plan: --seed needs a value" "$out"

# An unknown run id is a usage error (exit 2) that names it.
mkdir -p "$T/rundir"
out=$(FAULTLINE_RUNDIR=$T/rundir "$FAULTLINE" recover nosuchrun 2>&1); rc=$?
check_eq "recover nosuchrun exits 2" 2 "$rc"
check_match "recover nosuchrun says there is no such run" "no run nosuchrun in $T/rundir" "$out"
out=$(FAULTLINE_RUNDIR=$T/rundir "$FAULTLINE" --json recover nosuchrun 2>/dev/null); rc=$?
check_eq "recover --json nosuchrun exits 2 too" 2 "$rc"
