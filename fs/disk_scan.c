// SPDX-License-Identifier: GPL-2.0-only
/*
 * recover --scan for the disk fault: a fill lives only as long as the
 * process that holds it, so what a lost journal can leave is a faultline
 * process still holding an unlinked file (O_TMPFILE shows as "DIR/#INO
 * (deleted)", the fallback as "DIR/.faultline-fill-RUN-FAULT
 * (deleted)").  Runs the journal knows are accounted for and skipped.
 * A fallback file left named by a crash between its create and its
 * unlink is empty, and its record names it.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/disk.h"

static bool is_faultline(pid_t pid, char *comm, size_t len)
{
	fl_pid_comm(pid, comm, len);
	return fl_comm_is_faultline(comm);
}

static bool accounted(const struct fl_found *found, pid_t pid)
{
	size_t i;

	for (i = 0; i < found->nruns; i++)
		if (found->runs[i].pid == pid || found->runs[i].guardian == pid)
			return true;
	return false;
}

static bool fill_like(const char *target)
{
	const char *base = strrchr(target, '/');
	size_t n = strlen(target), d = strlen(" (deleted)");

	if (!base || n < d || strcmp(target + n - d, " (deleted)"))
		return false;
	return base[1] == '#' ||
	       !strncmp(base + 1, DISK_FILL_PREFIX, strlen(DISK_FILL_PREFIX));
}

static void scan_pid(struct fl_found *found, pid_t pid, const char *comm)
{
	char dir[64], path[320], target[PATH_MAX], what[PATH_MAX + 256];
	char rm[400], size[32];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (!fill_like(target) || stat(path, &st) ||
		    !S_ISREG(st.st_mode) || !st.st_blocks)
			continue;
		snprintf(what, sizeof(what), "fill file %s, %s, held by PID %d (%s) as descriptor %d",
			 target, fl_fmt_size((uint64_t)st.st_blocks * 512,
					     size, sizeof(size)),
			 (int)pid, comm, atoi(de->d_name));
		snprintf(rm, sizeof(rm), "truncate -s 0 %s, or end PID %d: the space comes back when it exits",
			 path, (int)pid);
		found->fn(found->ctx, "file", what, "this machine", rm);
	}
	if (d)
		closedir(d);
}

void disk_scan(struct fl_found *found)
{
	struct dirent *de;
	char comm[64];
	pid_t pid;
	DIR *d;

	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || accounted(found, pid) ||
		    !is_faultline(pid, comm, sizeof(comm)))
			continue;
		scan_pid(found, pid, comm);
	}
	if (d)
		closedir(d);
}
