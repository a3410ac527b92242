#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A hostile environment (issue 8): each case gets a clear message and a
# defined exit status, and nothing is half-applied.
#  - an experiment file that is world-writable, or owned by another user,
#    is refused like sudo refuses such a sudoers file (exit 2), unless
#    --allow-insecure-file.
source "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "hostile environment" "needs root (chown to another user)"
	exit 0
fi

# A drill whose target leaves a mark when started: a refused file must not
# start it.
mk() { # FILE
	cat > "$1" <<YAML
name: hostile
duration: 2s
targets:
  job: { command: [sh, -c, "touch $T/ran; sleep 30"] }
faults:
  - name: squeeze
    oom: { target: job, cgroup: scratch, squeeze: { below-usage: 16M } }
    at: 1s
    for: 1s
YAML
}

mk "$T/ww.yaml"
chmod 0666 "$T/ww.yaml"
for c in validate plan run; do
	out=$(env -u SUDO_UID "$FAULTLINE" "$c" "$T/ww.yaml" 2>&1); rc=$?
	check_eq "$c refuses a world-writable file (exit 2)" 2 "$rc"
	check_match "$c says why, and the way out" \
		"ww.yaml.*refusing a world-writable experiment file.*--allow-insecure-file" "$out"
done
check "a refused run started nothing" test ! -e "$T/ran"

mk "$T/other.yaml"
chown 65534 "$T/other.yaml"
for c in validate plan run; do
	out=$(env -u SUDO_UID "$FAULTLINE" "$c" "$T/other.yaml" 2>&1); rc=$?
	check_eq "$c refuses a file owned by another user (exit 2)" 2 "$rc"
	check_match "$c names the owner" \
		"other.yaml.*owned by uid 65534.*--allow-insecure-file" "$out"
done
check "a refused run started nothing" test ! -e "$T/ran"

out=$(env SUDO_UID=65534 "$FAULTLINE" validate "$T/other.yaml" 2>&1); rc=$?
check_eq "a file owned by the user who ran sudo is accepted" 0 "$rc"
out=$(env SUDO_UID=65534 "$FAULTLINE" validate "$T/ww.yaml" 2>&1); rc=$?
check_eq "sudo does not make a world-writable file safe (exit 2)" 2 "$rc"

for f in ww other; do
	for c in validate plan; do
		out=$(env -u SUDO_UID "$FAULTLINE" "$c" --allow-insecure-file \
			"$T/$f.yaml" 2>&1); rc=$?
		check_eq "$c --allow-insecure-file takes the $f file" 0 "$rc"
	done
done

mk "$T/mine.yaml"
chmod 0644 "$T/mine.yaml"
check_status "a root-owned 0644 file is fine" 0 \
	env -u SUDO_UID "$FAULTLINE" validate "$T/mine.yaml"
