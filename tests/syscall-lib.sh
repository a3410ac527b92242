# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the syscall fault's tests (after tests/lib.sh): a drill with
# one syscall fault, run in the background until applied, stopped, and
# its report's observed section.

SYSFAIL=$HELPERS/sysfail

# sc_yaml TARGETS-YAML SYSCALL-MAP-BODY: a drill of one syscall fault "f".
sc_yaml() {
	printf 'name: syscall-test\nduration: 120s\ntargets:\n%s\nfaults:\n  - name: f\n    syscall: { %s }\n' "$1" "$2"
}

# sc_start NAME YAML: faultline run in the background ($runner) until the
# fault is applied; 1 (and the end of its output) when it is not.
sc_start() {
	"$FAULTLINE" run --json --report "$T/$1.report" "$2" > "$T/$1.out" 2>&1 &
	runner=$!
	at_exit "kill -9 $runner"
	local i
	for i in $(seq 400); do
		grep -q '"event":"applied"' "$T/$1.out" && return 0
		grep -q '"event":"apply-failed"' "$T/$1.out" && break
		kill -0 "$runner" 2>/dev/null || break
		sleep 0.05
	done
	notok "$1: the fault applies"; sed 's/^/#   /' "$T/$1.out" | tail -5
	return 1
}

# sc_stop: end the run (SIGTERM: revert, report).
sc_stop() { kill -TERM "$runner"; wait "$runner"; }

# sc_observed REPORT KEY: a value of the fault's observed section (a map
# as sorted JSON).
sc_observed() {
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["faults"][0].get("observed",{}); v=o.get(sys.argv[2]); print(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v)' "$@"
}
