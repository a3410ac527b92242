#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# faultline doctor under the stock kernel: it finds netem, the memory
# controller on cgroup v2 and the BPF LSM (all missing on the dev host).
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/doctor" "run it under tools/vmtest"; exit 0; }

if [ ! -x "$FAULTLINE" ]; then
	notok "doctor: $FAULTLINE is not built (make)"
	exit 0
fi
out=$("$FAULTLINE" --json doctor 2>"$T/err"); rc=$?
check_eq "doctor: --json doctor exits 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/err" | head -20

# Print "name=value" for each fact the test needs; "missing" when absent.
facts=$(python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError as e:
    print("json=invalid:", e); sys.exit(0)
def get(*path):
    for p in path:
        d2 = get.cur.get(p) if isinstance(get.cur, dict) else None
        if d2 is None: return "missing"
        get.cur = d2
    return get.cur
for name, path in (("netem", ("qdiscs", "netem", "available")),
                   ("prio", ("qdiscs", "prio", "available")),
                   ("memory", ("cgroups", "memory", "mode")),
                   ("bpf_lsm", ("bpf", "lsm", "available"))):
    get.cur = d
    v = get(*path)
    print("%s=%s" % (name, json.dumps(v)))
' <<<"$out")
check_match "doctor: netem is available" '^netem=true$' "$facts"
check_match "doctor: prio is available" '^prio=true$' "$facts"
check_match "doctor: memory is on cgroup v2" '^memory="v2"$' "$facts"
check_match "doctor: BPF LSM programs are available" '^bpf_lsm=true$' "$facts"

# The host suite's doctor test reads the facts from the machine, not from
# the dev host: it passes under the stock kernel too.
bash "$SRC/tests/host/doctor.sh" > "$T/host-doctor.out" 2>&1
while IFS= read -r l; do
	case $l in
	"ok - "* | "not ok - "* | "skip - "*)
		echo "${l%% - *} - stock kernel, tests/host/doctor.sh: ${l#* - }" ;;
	*) echo "$l" ;;
	esac
done < "$T/host-doctor.out"
