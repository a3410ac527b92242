#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The disk fault on filesystems this script makes: a 16M tmpfs, and a 64M
# ext4 image on a loop device where losetup works.  sqlite3 (which
# faultline does not target) gets "database or disk is full" while the
# fill holds and inserts again after revert; the free space comes back to
# the byte; the report gives it before, lowest and after; used: reaches
# its percentage the way df counts it; reserved: fill takes the root
# reserve too; recover --force frees a live holder's fill from the record
# alone; kill -9 of the runner gives the space back at once, and recover
# says there was nothing to undo; the refusals (read-only, no space
# accounting, the journal's own filesystem, a missing path) exit 3; two
# runs cannot fill one filesystem; the cookbook's disk-full example
# validates, plans and runs on the test's tmpfs.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { skip "disk" "needs root (mount)"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "disk: $FAULTLINE is built"; exit 0; }
command -v sqlite3 >/dev/null ||
	{ skip "disk" "sqlite3 is not installed (tools/deps)"; exit 0; }
# The journal on a filesystem of its own, never the one being filled.
mkdir -p "$T/jfs" "$T/tmpfs" "$T/ext4"
mount -t tmpfs -o size=4M fltest-disk-j "$T/jfs" || { notok "disk: mount a tmpfs"; exit 0; }
at_exit "umount -l $T/jfs"
export FAULTLINE_RUNDIR=$T/jfs/run

# avail MOUNT: df's Avail, bytes; bfree MOUNT: every free block.
avail() { echo $(($(stat -f -c '%a * %S' "$1"))); }
bfree() { echo $(($(stat -f -c '%f * %S' "$1"))); }
slack() { echo $((64 * $(stat -f -c %S "$1"))); }

drill_of() { # MOUNT DISK-BODY DURATION FOR
	printf 'name: disktest\nduration: %s\nfaults:\n  - name: fill\n    disk: { path: %s, %s }\n    at: 0s\n    for: %s\n' \
		"$3" "$1" "$2" "$4"
}
start() { # NAME YAML: run in the background until applied
	: >"$T/$1.out"
	"$FAULTLINE" run --json --report "$T/$1.json" "$2" >"$T/$1.out" 2>&1 &
	runner=$!
	at_exit "kill -9 $runner"
	wait_for 5 grep -q '"event":"applied"' "$T/$1.out" && return 0
	notok "disk $1: the fault applies"; sed 's/^/#   /' "$T/$1.out" | tail -5
	return 1
}
observed() { # NAME KEY
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["faults"][0].get("observed",{}); print(o.get(sys.argv[2]))' "$T/$1.json" "$2"
}
# insert MOUNT [as]: a 64K row, as root or as nobody (no right to the
# root reserve).
insert() {
	if [ "${2:-}" = nobody ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			sqlite3 "$1/t.db" "insert into t values(randomblob(65536))" 2>&1
	else
		sqlite3 "$1/t.db" "insert into t values(randomblob(65536))" 2>&1
	fi
}

# -- The proof on one filesystem -------------------------------------
proof() { # NAME MOUNT WHO: WHO inserts (root, or nobody)
	local name=$1 m=$2 who=$3 before out full
	sqlite3 "$m/t.db" "create table t(x)" || { notok "disk $name: sqlite3 makes its database"; return; }
	# nobody reaches it: through $T, into the mount, the database.
	chmod 711 "$T"; chmod 1777 "$m"; chmod 666 "$m/t.db"
	sync
	before=$(avail "$m")
	drill_of "$m" "free: 0" 4s 3s >"$T/plan.yaml"
	out=$("$FAULTLINE" plan "$T/plan.yaml" 2>&1)
	check_match "disk $name: plan names the fill and the filesystem" "fill $m \(" "$out"
	drill_of "$m" "free: 0" 5s 3s >"$T/$name.yaml"
	start "$name" "$T/$name.yaml" || return
	full=$(avail "$m")
	check "disk $name: df's Avail is 0 while the fill holds (got $full, slack $(slack "$m"))" \
		[ "$full" -le "$(slack "$m")" ]
	out=$(insert "$m" "$who")
	check_match "disk $name: sqlite3 ($who) reports the full disk" "database or disk is full" "$out"
	wait "$runner"
	check_eq "disk $name: run exits 0" 0 "$?"
	check_eq "disk $name: the free space is back to the byte" "$before" "$(avail "$m")"
	check_eq "disk $name: the report's free space before" "$before" "$(observed "$name" free_before)"
	check "disk $name: the report's lowest free space is 0 ($(observed "$name" free_lowest))" \
		[ "$(observed "$name" free_lowest)" -le "$(slack "$m")" ]
	check_eq "disk $name: the report's free space after" "$before" "$(observed "$name" free_after)"
	check_eq "disk $name: the expectation holds" True \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["faults"][0]["observed"]["expectation"]["met"])' "$T/$name.json")"
	check "disk $name: the SVG timeline draws the fill in the disk engine's colour" \
		grep -q 'fill="#8e5a2b"' "$T/$name.svg"
	out=$(insert "$m" "$who")
	check_eq "disk $name: sqlite3 ($who) inserts again after revert" "" "$out"
	check "disk $name: the journal is empty" no_runs
}

mount -t tmpfs -o size=16M fltest-disk "$T/tmpfs" || { notok "disk: mount a 16M tmpfs"; exit 0; }
at_exit "umount -l $T/tmpfs"
proof tmpfs "$T/tmpfs" root
rm -f "$T/tmpfs/t.db"

ext4=
if ! command -v mkfs.ext4 >/dev/null; then
	skip "disk ext4" "no mkfs.ext4 (e2fsprogs)"
elif truncate -s 64M "$T/ext4.img" && mkfs.ext4 -q -F "$T/ext4.img" &&
	loop=$(losetup -f --show "$T/ext4.img" 2>/dev/null); then
	at_exit "losetup -d $loop"
	if mount "$loop" "$T/ext4"; then
		at_exit "umount -l $T/ext4"
		ext4=$T/ext4
	else
		notok "disk ext4: mount the image"
	fi
else
	skip "disk ext4" "no loop device (losetup -f failed)"
fi
if [ -n "$ext4" ]; then
	# As nobody: df's Avail is what a process without the right to the
	# root reserve can write.
	proof ext4 "$ext4" nobody
	# used: 50% the way df counts it: used / (used + avail).
	drill_of "$ext4" "used: 50%" 3s 2s >"$T/used.yaml"
	if start used "$T/used.yaml"; then
		pct=$(python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); u=s.f_blocks-s.f_bfree; print(round(100*u/(u+s.f_bavail)))' "$ext4")
		check_eq "disk ext4: used: 50% makes df show 50%" 50 "$pct"
		wait "$runner"
	fi
	# The root reserve (5% by default): root still writes there with the
	# default reserved: keep, and no longer with reserved: fill.
	check "disk ext4: the image has a root reserve" [ "$(bfree "$ext4")" -gt "$(avail "$ext4")" ]
	if start keep "$T/ext4.yaml"; then
		check_eq "disk ext4: reserved: keep: root still writes into the reserve" "" "$(insert "$ext4")"
		wait "$runner"
	fi
	drill_of "$ext4" "free: 0, reserved: fill" 3s 2s >"$T/res.yaml"
	if start res "$T/res.yaml"; then
		check_match "disk ext4: reserved: fill: root's sqlite3 reports the full disk" \
			"database or disk is full" "$(insert "$ext4")"
		wait "$runner"
		check_eq "disk ext4: reserved: fill runs" 0 "$?"
		check "disk ext4: the report names ext4's own floor ($(observed res floor))" \
			[ "$(observed res floor)" -gt 0 ]
		check_match "disk ext4: and says that is as full as it gets" "as full as it gets" "$(cat "$T/res.out")"
	fi
fi

# -- The fallbacks: no O_TMPFILE (vfat), no fallocate (ext2) ---------
# image NAME SIZE MKFS...: a filesystem image on a loop device, mounted
# at $T/NAME (set in img), or 1 with a skip naming what is missing.
image() {
	local name=$1 size=$2 dev; shift 2
	img=
	command -v "$1" >/dev/null || { skip "disk $name" "no $1"; return 1; }
	grep -qw "$name" /proc/filesystems || modprobe -q "$name" 2>/dev/null ||
		{ skip "disk $name" "no $name filesystem in this kernel (CONFIG_${name^^}_FS; tests/vm/disk.sh has it)"; return 1; }
	truncate -s "$size" "$T/$name.img" && "$@" "$T/$name.img" >/dev/null 2>&1 ||
		{ notok "disk $name: make the image"; return 1; }
	dev=$(losetup -f --show "$T/$name.img" 2>/dev/null) ||
		{ skip "disk $name" "no loop device (losetup -f failed)"; return 1; }
	at_exit "losetup -d $dev"
	mkdir -p "$T/$name"
	mount "$dev" "$T/$name" 2>/dev/null ||
		{ notok "disk $name: mount the image"; return 1; }
	at_exit "umount -l $T/$name"
	img=$T/$name
}
fallback() { # NAME HOW GROW
	local b
	b=$(avail "$img")
	drill_of "$img" "free: 0" 3s 2s >"$T/$1.yaml"
	start "$1" "$T/$1.yaml" || return
	check "disk $1: df's Avail is 0 while the fill holds ($(avail "$img"))" \
		[ "$(avail "$img")" -le "$(slack "$img")" ]
	wait "$runner"
	check_eq "disk $1: run exits 0" 0 "$?"
	check_eq "disk $1: the fill file was made by $2" "$2" "$(observed "$1" how)"
	check_eq "disk $1: and grew by $3" "$3" "$(observed "$1" grow)"
	check_eq "disk $1: the free space is back to the byte" "$b" "$(avail "$img")"
	check_eq "disk $1: no fill file is left by name" "" \
		"$(find "$img" -name '.faultline-fill-*' 2>/dev/null)"
}
image vfat 16M mkfs.vfat && fallback vfat create+unlink fallocate
image ext2 16M mkfs.ext2 -q -F && fallback ext2 O_TMPFILE zeros

# -- recover --force on a live, stopped runner: the record alone -----
m=$T/tmpfs
before=$(avail "$m")
drill_of "$m" "free: 1M" 30s 30s >"$T/force.yaml"
if start force "$T/force.yaml"; then
	check "disk: free: 1M leaves 1M ($(avail "$m"))" \
		[ "$(avail "$m")" -ge $((1 << 20)) ] && [ "$(avail "$m")" -le $(((1 << 20) + $(slack "$m"))) ]
	kill -STOP "$runner"
	out=$("$FAULTLINE" recover --force 2>&1)
	check_match "disk: recover --force reverts the fill of a live holder" "fault fill \(disk\) reverted" "$out"
	check_eq "disk: and the space is back while the holder still lives" "$before" "$(avail "$m")"
	kill -CONT "$runner"
	kill -TERM "$runner"
	wait "$runner"
	check_eq "disk: the runner does not fill again after that" "$before" "$(avail "$m")"
fi

# -- kill -9: the space comes back at once ---------------------------
drill_of "$m" "free: 0" 30s 30s >"$T/k9.yaml"
if start k9 "$T/k9.yaml"; then
	guardian=$(guardian_of)
	kill -STOP "$guardian"
	kill -9 "$runner"
	wait "$runner" 2>/dev/null
	check_eq "disk: kill -9 of the runner gives the space back at once" "$before" "$(avail "$m")"
	kill -9 "$guardian"
	out=$("$FAULTLINE" recover 2>&1)
	check_eq "disk: recover after kill -9 exits 0" 0 "$?"
	check_match "disk: recover says there was nothing to undo" \
		"fault fill \(disk\): nothing to revert: PID $runner, which held the fill, is gone" "$out"
	check "disk: no run is left" no_runs
fi
# The guardian alone: it finds the holder gone and leaves no run behind.
if start k9g "$T/k9.yaml"; then
	kill -9 "$runner"
	wait "$runner" 2>/dev/null
	check_eq "disk: kill -9 with the guardian alive: the space is back" "$before" "$(avail "$m")"
	check "disk: the guardian leaves no run" wait_for 5 no_runs
fi

# -- Space freed while the fill holds is taken again (live shows it) --
head -c 1M /dev/zero >"$m/old" && sync
drill_of "$m" "free: 0" 3s 2s >"$T/topup.yaml"
if start topup "$T/topup.yaml"; then
	rm -f "$m/old"
	full_now() { [ "$(avail "$m")" -le "$(slack "$m")" ]; }
	check "disk: space freed during the fault is filled again within a second" \
		wait_for 1 full_now
	wait "$runner"
	check_eq "disk: live shows the top-up (progress event)" True \
		"$(python3 -c 'import json, sys
p = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "progress"]
print(any(e.get("topups", 0) >= 1 and e.get("filled", 0) > 0 for e in p))' "$T/topup.out" 2>&1)"
	check "disk: the report counts the top-up" [ "$(observed topup topups)" -ge 1 ]
fi
before=$(avail "$m")

# -- recover --scan: a journal lost under a live run ------------------
if start scan "$T/k9.yaml"; then
	rm -rf "$FAULTLINE_RUNDIR"
	out=$("$FAULTLINE" recover --scan 2>&1)
	check_match "disk: recover --scan names the fill a live runner holds" \
		"fill file $m/.* held by PID $runner" "$out"
	kill -9 "$runner"; wait "$runner" 2>/dev/null
	check_eq "disk: and the space is back once it is killed" "$before" "$(avail "$m")"
	rm -rf "$FAULTLINE_RUNDIR"
fi

# -- Two runs cannot fill one filesystem -----------------------------
if start lock1 "$T/k9.yaml"; then
	out=$("$FAULTLINE" run "$T/k9.yaml" 2>&1)
	check_eq "disk: a second run on the same filesystem exits 3" 3 "$?"
	check_match "disk: and names the filesystem's lock" "fs:[0-9]+:[0-9]+" "$out"
	kill -TERM "$runner"; wait "$runner"
fi

# -- Refusals at check time: exit 3 with the reason ------------------
refuse() { # WHAT PATH REGEX
	drill_of "$2" "free: 0" 2s 1s >"$T/refuse.yaml"
	out=$("$FAULTLINE" plan "$T/refuse.yaml" 2>&1)
	check_eq "disk: plan refuses $1 (exit 3)" 3 "$?"
	check_match "disk: and says why ($1)" "$3" "$out"
}
mkdir -p "$T/ro"
mount -t tmpfs -o size=1M,ro fltest-disk-ro "$T/ro" && at_exit "umount -l $T/ro"
refuse "a read-only filesystem" "$T/ro" "mounted read-only"
refuse "a filesystem with no space accounting" /proc "no space accounting"
refuse "a missing path" "$m/nope" "No such file or directory"
drill_of "$m" "free: 0" 2s 1s >"$T/refuse.yaml"
out=$(FAULTLINE_RUNDIR=$m/run "$FAULTLINE" plan "$T/refuse.yaml" 2>&1)
check_eq "disk: plan refuses the journal's own filesystem (exit 3)" 3 "$?"
check_match "disk: and says why (the journal)" "the journal .* is on this filesystem" "$out"

# -- The cookbook: disk-full validates, plans, and runs here ---------
check_status "disk: examples/disk-full.yaml validates" 0 "$FAULTLINE" validate "$SRC/examples/disk-full.yaml"
sed "s#/var/tmp#$m#g" "$SRC/examples/disk-full.yaml" >"$T/cook.yaml"
check_status "disk: examples/disk-full.yaml plans on the test's tmpfs" 0 "$FAULTLINE" plan "$T/cook.yaml"
out=$("$FAULTLINE" run --no-live "$T/cook.yaml" 2>&1)
check_eq "disk: examples/disk-full.yaml runs" 0 "$?"
# Its writer's database, if SIGKILL came before its trap.
rm -f "$m/faultline-disk-full.db"
check_match "disk: its writer inserts before the fill" "insert ok" "$out"
check_match "disk: its writer reports the full disk" "database or disk is full" "$out"
check_eq "disk: and the space is back after it" "$before" "$(avail "$m")"
