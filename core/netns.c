// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every network namespace this process can reach, once each: its own, the
 * named ones under /run/netns, and those of every process (/proc/PID/ns/net),
 * told apart by the inode of their nsfs file.  Leftover scans (recover)
 * walk them; whatever looks in a namespace uses it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/faultline.h"

#define NETNS_MAX_SEEN	512

int fl_netns_each(void (*fn)(void *ctx, const char *where), void *ctx)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	unsigned long long seen[NETNS_MAX_SEEN];
	size_t nseen = 0, k;
	char path[300], where[300];
	struct stat st;
	int self, fd;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (!fstat(self, &st))
		seen[nseen++] = st.st_ino;
	fn(ctx, "this network namespace");
	for (k = 0; k < ARRAY_SIZE(dirs); k++) {
		DIR *d = opendir(dirs[k]);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			size_t m;
			bool dup = false;

			if (de->d_name[0] == '.' || (k == 1 &&
			    (de->d_name[0] < '0' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path), k ? "%s/%s/ns/net" :
				 "%s/%s", dirs[k], de->d_name);
			if (stat(path, &st))
				continue;
			for (m = 0; m < nseen; m++)
				dup |= seen[m] == st.st_ino;
			if (dup || nseen == ARRAY_SIZE(seen))
				continue;
			seen[nseen++] = st.st_ino;
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (!setns(fd, CLONE_NEWNET)) {
				snprintf(where, sizeof(where), k ?
					 "network namespace %llu (of pid %s)" :
					 "network namespace %llu (%s)",
					 (unsigned long long)st.st_ino,
					 k ? de->d_name : path);
				fn(ctx, where);
				if (setns(self, CLONE_NEWNET))
					fl_err("setns back: %s",
					       strerror(errno));
			}
			close(fd);
		}
		if (d)
			closedir(d);
	}
	close(self);
	return 0;
}
