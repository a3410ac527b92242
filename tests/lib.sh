# SPDX-License-Identifier: GPL-2.0-only
# Helpers for tests/host and tests/vm scripts.  A script prints one line a
# check: "ok - NAME", "not ok - NAME" or "skip - NAME # missing FEATURE";
# tests/run counts them.  Scripts clean up with traps.

: "${OUTPUT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/}"
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FAULTLINE=${FAULTLINE:-${OUTPUT}faultline}
FAULTLINE_TEST=${FAULTLINE_TEST:-${OUTPUT}tests/faultline-test}

ok()   { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
skip() { echo "skip - $1 # $2"; }

# check NAME CMD...: ok when CMD succeeds.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"
	else notok "$1"; echo "#   expected: $2" ; echo "#   actual:   $3"; fi
}

# check_match NAME REGEX TEXT: TEXT has a line matching the ERE.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"
	else notok "$1"; echo "#   no line matches: $2"; printf '%s\n' "$3" | sed 's/^/#   | /' | head -20; fi
}

# check_status NAME EXPECTED CMD...: the command's exit status.
check_status() {
	local name=$1 want=$2 got; shift 2
	"$@" >/dev/null 2>&1; got=$?
	check_eq "$name (exit $want)" "$want" "$got"
}

# A scratch folder removed at exit; tests add their own cleanup with
# at_exit, which runs in reverse order even when the script fails.
T=$(mktemp -d /tmp/faultline-test.XXXXXX)
_cleanups=()
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM
