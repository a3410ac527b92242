# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Podman in the test VM (sourced after tests/lib.sh): no registry, a
# read-only root, no journald, no iptables.  podman_setup makes tmpfs
# storage, a config of its own (vfs, cgroupfs, file events), and an image
# "flbb" imported from a busybox-static rootfs; ctr_run NAME [ARGS...]
# starts a container with no network (--network none) and ctr_veth gives
# it an eth0 whose peer the test keeps.  Everything is removed at exit.

# Every podman call of the tests goes through here.
pm() { podman "$@"; }

podman_setup() {
	command -v podman >/dev/null || { echo "podman is not installed"; return 1; }
	local d
	# The VM's root is read-only: podman writes under these.
	for d in /var/tmp /var/lib/containers /var/lib/cni /var/cache \
		 /run/containers; do
		[ -d "$d" ] || mkdir -p "$d" 2>/dev/null || continue
		mount -t tmpfs tmpfs "$d" || return 1
	done
	mountpoint -q /dev/shm || mount -t tmpfs tmpfs /dev/shm
	cat >"$T/containers.conf" <<C
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/podman-events"
[containers]
log_driver = "k8s-file"
C
	cat >"$T/storage.conf" <<C
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
C
	export CONTAINERS_CONF=$T/containers.conf
	export CONTAINERS_STORAGE_CONF=$T/storage.conf
	mkdir -p "$T/rootfs/bin" "$T/rootfs/proc" "$T/rootfs/sys" \
		"$T/rootfs/dev" "$T/rootfs/tmp" "$T/rootfs/etc"
	cp /bin/busybox "$T/rootfs/bin/busybox" || return 1
	for d in sh sleep cat echo nc ip ping dd head tail ls sed tr; do
		ln -s busybox "$T/rootfs/bin/$d"
	done
	tar -C "$T/rootfs" -cf "$T/rootfs.tar" . &&
	pm import -q "$T/rootfs.tar" flbb >/dev/null
}

# ctr_run NAME [podman run options] -- COMMAND...: a detached container.
ctr_run() {
	local name=$1
	shift
	pm run -d --name "$name" --network none "$@" >/dev/null &&
	at_exit "podman rm -f -t 0 $name >/dev/null 2>&1"
}

ctr_pid() { pm inspect --format '{{.State.Pid}}' "$1"; }

# ctr_veth NAME HOSTDEV ADDR/PREFIX PEERADDR/PREFIX: eth0 in the container,
# HOSTDEV its peer here.
ctr_veth() {
	local pid
	pid=$(ctr_pid "$1") || return 1
	ip link add "$2" type veth peer name "$2"c &&
	ip link set "$2"c netns "$pid" &&
	nsenter -t "$pid" -n ip link set "$2"c name eth0 &&
	nsenter -t "$pid" -n ip addr add "$3" dev eth0 &&
	nsenter -t "$pid" -n ip link set eth0 up &&
	nsenter -t "$pid" -n ip link set lo up &&
	ip addr add "$4" dev "$2" && ip link set "$2" up
}
