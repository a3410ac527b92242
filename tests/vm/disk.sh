#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The disk fault under the stock kernel: tests/host/disk.sh once more,
# where the guest loads vfat (which has no O_TMPFILE: the create + unlink
# fallback runs) and ext2, ext4 and tmpfs are another kernel's.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# Only in the throwaway guest: the test mounts and fills filesystems.
if [ "${VMTEST:-}" != 1 ]; then
	echo "skip - vm/disk # run it under tools/vmtest"
	exit 0
fi
# The guest's modules load on demand, but losetup needs /dev/loop-control.
modprobe -q loop 2>/dev/null
exec bash "$SRC/tests/host/disk.sh"
