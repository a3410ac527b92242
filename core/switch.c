// SPDX-License-Identifier: GPL-2.0-only
/*
 * Switches: empty files in a run's journal folder that an engine creates
 * at a fault's instant, and that its revert reads from the record alone:
 * "the change may have been made" while the file exists.  A record saved
 * at prepare, before the instant, names its switch; apply's one extra
 * call is the switch's openat(2), not a rewrite of the record.  No fsync:
 * a switch speaks to the guardian and recover after the runner died, and
 * a reboot takes the kernel state it guards with it.
 *
 * The name is "<prefix><fault><suffix>", the fault's name made safe for
 * a file name; revert touches only a path of that shape.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/faultline.h"

void fl_switch_path(const struct fl_undo *u, const char *prefix,
		    const char *name, const char *suffix, char *buf,
		    size_t len)
{
	size_t i, off;

	off = snprintf(buf, len, "%s/%s", fl_journal_dir(u->j), prefix);
	for (i = 0; name[i] && off + 1 < len && i < 64; i++)
		buf[off++] = isalnum((unsigned char)name[i]) ||
			     name[i] == '-' ? name[i] : '_';
	buf[off < len ? off : len - 1] = 0;
	snprintf(buf + strlen(buf), len - strlen(buf), "%s", suffix);
}

/* Is path a switch of this shape (whatever a record says)? */
static bool switch_shape(const char *path, const char *prefix,
			 const char *suffix)
{
	const char *base = strrchr(path, '/');
	size_t n, ns = strlen(suffix);

	if (!base || path[0] != '/')
		return false;
	base++;
	n = strlen(base);
	return !strncmp(base, prefix, strlen(prefix)) && n >= ns &&
	       !strcmp(base + n - ns, suffix);
}

/* Create it (it must not exist): the descriptor, or -errno. */
int fl_switch_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

/*
 * 1 when it exists, 0 when not, -ENOENT when its folder is gone too (the
 * journal deleted: whether it was created cannot be told), -EINVAL for
 * a path of another shape.
 */
int fl_switch_on(const char *path, const char *prefix, const char *suffix)
{
	char dir[PATH_MAX];

	if (!switch_shape(path, prefix, suffix))
		return -EINVAL;
	if (!access(path, F_OK))
		return 1;
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	return access(dir, F_OK) ? -ENOENT : 0;
}

/* Remove it; gone already is done. */
int fl_switch_remove(const char *path, const char *prefix, const char *suffix)
{
	if (!switch_shape(path, prefix, suffix))
		return -EINVAL;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
