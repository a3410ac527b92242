#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The BPF LSM under the stock kernel: bpf is an active LSM, and an LSM
# program (tests/vm/lsm_probe.bpf.c, built now) loads, attaches and runs.
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/lsm" "run it under tools/vmtest"; exit 0; }

lsm=$(cat /sys/kernel/security/lsm 2>&1)
check_match "lsm: bpf is in /sys/kernel/security/lsm" '(^|,)bpf(,|$)' "$lsm"

obj=$T/lsm_probe.bpf.o
pin=/sys/fs/bpf/flvm_lsm_$$
maps=/sys/fs/bpf/flvm_lsm_maps_$$
at_exit rm -rf "$pin" "$maps"

if ! out=$(clang -g -O2 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	   -Wall -c "$SRC/tests/vm/lsm_probe.bpf.c" -o "$obj" 2>&1); then
	notok "lsm: build the probe"; printf '%s\n' "$out" | sed 's/^/#   /'
	exit 0
fi
ok "lsm: build the probe"

if ! out=$(bpftool prog load "$obj" "$pin" pinmaps "$maps" 2>&1); then
	notok "lsm: bpftool prog load of an lsm/file_open program"
	printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	exit 0
fi
ok "lsm: bpftool prog load of an lsm/file_open program"
check_match "lsm: the program is of type lsm" '"type": *"lsm"' \
	"$(bpftool -j prog show pinned "$pin")"

# bpftool 7.1 cannot attach LSM programs: do it with the bpf syscall
# (BPF_RAW_TRACEPOINT_OPEN), open a few files, and read the count.
out=$(python3 - "$pin" "$maps/counts" <<'PY' 2>&1
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR_BPF = 321  # x86_64
BPF_MAP_LOOKUP_ELEM, BPF_OBJ_GET, BPF_RAW_TRACEPOINT_OPEN = 1, 7, 17

def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, "bpf(%d): %s" % (cmd, os.strerror(e)))
    return r

def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    return bpf(BPF_OBJ_GET, struct.pack("QII", ctypes.addressof(p), 0, 0))

def count(map_fd):
    key = ctypes.c_uint32(0)
    val = ctypes.c_uint64(0)
    bpf(BPF_MAP_LOOKUP_ELEM, struct.pack("IIQQQ", map_fd, 0,
        ctypes.addressof(key), ctypes.addressof(val), 0))
    return val.value

prog = obj_get(sys.argv[1])
cmap = obj_get(sys.argv[2])
before = count(cmap)
link = bpf(BPF_RAW_TRACEPOINT_OPEN, struct.pack("QI", 0, prog))
for _ in range(5):
    open("/proc/self/status").close()
during = count(cmap)
os.close(link)
for _ in range(5):
    open("/proc/self/status").close()
after = count(cmap)
print("attached; opens counted: before %d, while attached %d, after detach %d"
      % (before, during - before, after - during))
sys.exit(0 if during - before >= 5 and after == during else 1)
PY
)
check "lsm: the program attaches and runs on file_open" test $? -eq 0
echo "#   $out" | tail -5
