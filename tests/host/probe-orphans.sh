#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A probe's child dies with faultline (selfchaos trial 27 left one): the
# exit-watch probe's child waits in pause() until faultline kills it, and
# the seccomp probe's child waits in getppid() for faultline's answer.
# faultline (doctor, which runs the same probes as run's checks) is
# killed -9 under gdb in that moment; no faultline process may stay.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "probe-orphans" "needs root"; exit 0; }
command -v gdb >/dev/null ||
	{ skip "probe-orphans" "no gdb (tools/deps installs it)"; exit 0; }
exe=$(readlink -f "$FAULTLINE")

# The processes running this faultline binary, but for those in $1 (one
# find, not a readlink per process: the wait below calls it 40 times).
ours() {
	find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$exe" 2>/dev/null |
		awk -F/ -v skip="$1" 'BEGIN { split(skip, a, "\n"); for (i in a) s[a[i]] = 1 }
			!($3 in s) { print $3 }'
}

# killed_in NAME BREAK FRAME: run doctor under gdb, kill it -9 at BREAK's
# first call, which must come from FRAME (the probe), then wait (2 s)
# until no process of it is left.
killed_in() {
	local name=$1 before left i
	before=$(ours "")
	# gdb's output goes to a file: a child left behind holds it open.
	gdb -q -batch -ex 'set follow-fork-mode parent' \
		-ex 'set detach-on-fork on' -ex "break $2" -ex run -ex 'bt 4' \
		-ex kill --args "$FAULTLINE" doctor --json \
		</dev/null >"$T/gdb.$name" 2>&1
	if ! grep -Eq "^#[0-9]+ +(0x[0-9a-f]+ in )?$3 \(" "$T/gdb.$name"; then
		notok "probe-orphans: $name: doctor stops at $2 in $3"
		sed 's/^/#   | /' "$T/gdb.$name" | tail -8
		return
	fi
	for ((i = 0; i < 40; i++)); do
		left=$(ours "$before")
		[ -z "$left" ] && break
		sleep 0.05
	done
	check_eq "probe-orphans: $name: nothing of faultline is left when it is killed -9 in the probe" \
		"" "$(for p in $left; do echo "$p $(cat /proc/$p/wchan 2>/dev/null)"; done)"
	for p in $left; do kill -9 "$p" 2>/dev/null; done
}

killed_in exitwatch kill probe_once
if [ "$(fact seccomp.user_notif.available)" = true ]; then
	killed_in seccomp fl_pidfd_getfd sc_seccomp_probe
else
	skip "probe-orphans: seccomp" "no seccomp user notification"
fi
