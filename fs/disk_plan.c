// SPDX-License-Identifier: GPL-2.0-only
/*
 * The disk fault's plan: measuring the filesystem that holds the path,
 * what this machine allows (check), what run would do (describe) and the
 * lock (resources, the filesystem's device).  Nothing here writes.
 *
 * "Free" is f_bavail, what df shows as Avail and what a process without
 * the right to the root reserve can still write; with reserved: fill it
 * is f_bfree, every free block, the reserve too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/mountinfo.h"
#include "fs/disk.h"

/* statfs f_type of the filesystems told apart here (linux/magic.h). */
#define TMPFS_MAGIC_	0x01021994UL
#define NFS_MAGIC_	0x6969UL
#define SMB_MAGIC_	0x517bUL
#define CIFS_MAGIC_	0xff534d42UL
#define SMB2_MAGIC_	0xfe534d42UL
#define FUSE_MAGIC_	0x65735546UL
#define CEPH_MAGIC_	0x00c36400UL
#define V9FS_MAGIC_	0x01021997UL
#define AFS_MAGIC_	0x5346414fUL
#define AFS_FS_MAGIC_	0x6b414653UL
#define CODA_MAGIC_	0x73757245UL
#define OCFS2_MAGIC_	0x7461636fUL
#define GFS2_MAGIC_	0x01161970UL

uint64_t disk_free_of(const struct disk_spec *s, const struct disk_fs *fs)
{
	return (s->reserved == DISK_RESERVED_FILL ? fs->bfree : fs->avail) *
	       fs->bsize;
}

uint64_t disk_goal(const struct disk_spec *s, const struct disk_fs *fs)
{
	uint64_t total;

	if (s->has_free)
		return s->free;
	/* df's Use%: used / (used + avail); with the reserve: / size. */
	total = s->reserved == DISK_RESERVED_FILL ? fs->size :
		fs->size - fs->bfree + fs->avail;
	return (uint64_t)((double)total * fs->bsize * (100.0 - s->used) /
			  100.0);
}

uint64_t disk_slack(const struct disk_fs *fs)
{
	return 64 * fs->bsize;
}

void disk_dir(const char *path, char *buf, size_t len)
{
	struct stat st;
	char *p;

	snprintf(buf, len, "%s", path);
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return;
	p = strrchr(buf, '/');
	if (p && p > buf)
		*p = 0;
	else if (p)
		p[1] = 0;
}

void disk_lock_key(dev_t dev, char *buf, size_t len)
{
	snprintf(buf, len, "fs:%u:%u", major(dev), minor(dev));
}

struct mount_find {
	const char *path;
	dev_t dev;
	size_t best;
	struct disk_fs *fs;
};

/* The longest mount point over the path that is on its device. */
static int mount_cb(void *ctx, const char *root, const char *mnt,
		    const char *fstype, const char *superopts)
{
	struct mount_find *m = ctx;
	size_t n = strlen(mnt);
	struct stat st;

	if (strncmp(m->path, mnt, n) ||
	    (n > 1 && m->path[n] && m->path[n] != '/') || n < m->best)
		return 0;
	if (stat(mnt, &st) || st.st_dev != m->dev)
		return 0;
	m->best = n;
	snprintf(m->fs->mount, sizeof(m->fs->mount), "%s", mnt);
	snprintf(m->fs->type_name, sizeof(m->fs->type_name), "%s", fstype);
	return 0;
}

static void fill_counts(struct disk_fs *fs, const struct statvfs *sv)
{
	fs->flags = sv->f_flag;
	fs->bsize = sv->f_frsize ? sv->f_frsize : sv->f_bsize;
	fs->size = sv->f_blocks;
	fs->bfree = sv->f_bfree;
	fs->avail = sv->f_bavail;
}

int disk_measure_fd(int fd, struct disk_fs *fs)
{
	struct statvfs sv;

	if (fstatvfs(fd, &sv))
		return -errno;
	fill_counts(fs, &sv);
	return 0;
}

int disk_measure(const char *path, struct disk_fs *fs)
{
	struct mount_find m = { .fs = fs };
	char real[PATH_MAX];
	struct statvfs sv;
	struct statfs sf;
	struct stat st;

	memset(fs, 0, sizeof(*fs));
	if (stat(path, &st) || statvfs(path, &sv) || statfs(path, &sf))
		return -errno;
	fs->dev = st.st_dev;
	fs->type = (unsigned long)sf.f_type;
	fill_counts(fs, &sv);
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	m.path = real;
	m.dev = st.st_dev;
	fl_mountinfo_each(mount_cb, &m);
	if (!fs->mount[0])
		snprintf(fs->mount, sizeof(fs->mount), "%s", real);
	if (!fs->type_name[0])
		snprintf(fs->type_name, sizeof(fs->type_name), "0x%lx",
			 fs->type);
	return 0;
}

/* ------------------------------------------------------------------ */
/* check                                                               */

#define WHY(...) snprintf(why, len, __VA_ARGS__)

static bool network_fs(unsigned long t)
{
	static const unsigned long net[] = {
		NFS_MAGIC_, SMB_MAGIC_, CIFS_MAGIC_, SMB2_MAGIC_, FUSE_MAGIC_,
		CEPH_MAGIC_, V9FS_MAGIC_, AFS_MAGIC_, AFS_FS_MAGIC_,
		CODA_MAGIC_, OCFS2_MAGIC_, GFS2_MAGIC_,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(net); i++)
		if (t == net[i])
			return true;
	return false;
}

/* MemAvailable from /proc/meminfo, bytes; 0 when unknown. */
static uint64_t mem_available(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *fp = fopen("/proc/meminfo", "re");

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (fp)
		fclose(fp);
	return (uint64_t)kb * 1024;
}

/* The journal must keep room for its records: not on this filesystem. */
static int check_journal(const struct disk_fs *fs, char *why, size_t len)
{
	char dir[PATH_MAX], *p;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", fl_rundir());
	/* The run folder may not exist yet: its nearest parent that does. */
	while (stat(dir, &st) && (p = strrchr(dir, '/')) && p > dir)
		*p = 0;
	if (stat(dir, &st) || st.st_dev != fs->dev)
		return 0;
	WHY("the journal (%s) is on this filesystem: a fill there would leave no room for the undo records; set FAULTLINE_RUNDIR to a folder on another one",
	    fl_rundir());
	return -EOPNOTSUPP;
}

static int check_fs(const struct disk_spec *s, const struct disk_fs *fs,
		    char *why, size_t len)
{
	char a[32], b[32];
	uint64_t fill, mem;

	if (fs->flags & ST_RDONLY) {
		WHY("%s (%s) is mounted read-only: nothing can be written there, so there is nothing to fill",
		    fs->mount, fs->type_name);
		return -EROFS;
	}
	if (!fs->size || !fs->bsize) {
		WHY("%s (%s) keeps no space accounting (statvfs reports 0 blocks): a fill there could be neither measured nor bounded",
		    fs->mount, fs->type_name);
		return -EOPNOTSUPP;
	}
	if (network_fs(fs->type)) {
		WHY("%s is a network or cluster filesystem (%s): an unlinked open file there is not freed by the server when its holder dies (NFS keeps it as .nfsXXXX, FUSE leaves it to its daemon) and the space is other machines' too",
		    fs->mount, fs->type_name);
		return -EOPNOTSUPP;
	}
	fill = disk_free_of(s, fs);
	fill = fill > disk_goal(s, fs) ? fill - disk_goal(s, fs) : 0;
	mem = mem_available();
	if (fs->type == TMPFS_MAGIC_ && mem && fill > mem) {
		WHY("%s is a tmpfs, whose blocks are memory: filling %s would take more than the %s of memory available",
		    fs->mount, fl_fmt_size(fill, a, sizeof(a)),
		    fl_fmt_size(mem, b, sizeof(b)));
		return -ENOMEM;
	}
	return 0;
}

int disk_check(const struct fl_fault *f, char *why, size_t len)
{
	const struct disk_spec *s = f->priv;
	char dir[PATH_MAX];
	struct disk_fs fs;
	int r;

	if (!s || !s->path)
		return -EINVAL;
	r = disk_measure(s->path, &fs);
	if (r) {
		WHY("path %s: %s%s", s->path, strerror(-r), r == -ENOENT ?
		    " (the fill goes on the filesystem that holds it, so it must exist)" :
		    "");
		return r;
	}
	r = check_fs(s, &fs, why, len);
	if (!r)
		r = check_journal(&fs, why, len);
	if (r)
		return r;
	disk_dir(s->path, dir, sizeof(dir));
	if (access(dir, W_OK)) {
		r = -errno;
		WHY("cannot write in %s, where the fill file goes: %s", dir,
		    strerror(-r));
		return r;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* describe, resources                                                 */

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

int disk_describe(const struct fl_fault *f, json_object *out)
{
	const struct disk_spec *s = f->priv;
	const char *measure;
	char dir[PATH_MAX], mech[PATH_MAX + 200], a[32], b[32], c[32];
	json_object *objs, *params;
	uint64_t now, goal, fill;
	struct disk_fs fs;

	if (!s || !s->path)
		return -EINVAL;
	measure = s->reserved == DISK_RESERVED_FILL ?
		  "f_bfree: every free block, the root reserve too" :
		  "f_bavail: what df shows as Avail";
	disk_dir(s->path, dir, sizeof(dir));
	objs = json_object_new_array();
	params = json_object_new_object();
	if (disk_measure(s->path, &fs)) {
		fl_json_add_str(out, "mechanism", "none (the path does not exist)");
		fl_json_addf(objs, "a fill file in %s, once it exists", dir);
		goto out;
	}
	now = disk_free_of(s, &fs);
	goal = disk_goal(s, &fs);
	fill = now > goal ? now - goal : 0;
	snprintf(mech, sizeof(mech), "fill %s (%s) to %s free, an unlinked file held open, fallocate",
		 fs.mount, fs.type_name, fl_fmt_size(goal, a, sizeof(a)));
	fl_json_add_str(out, "mechanism", mech);
	fl_json_addf(objs, "fill file in %s: O_TMPFILE (else created and unlinked at once), %s allocated now, held open by the runner alone; truncated at revert, and freed by the kernel whenever the runner exits",
		     dir, fl_fmt_size(fill, a, sizeof(a)));
	fl_json_add_str(params, "mount", fs.mount);
	fl_json_add_str(params, "fstype", fs.type_name);
	add_u64(params, "size", fs.size * fs.bsize);
	add_u64(params, "free_now", now);
	add_u64(params, "goal", goal);
	add_u64(params, "fill", fill);
	if (fs.bfree > fs.avail)
		add_u64(params, "reserved_blocks",
			(fs.bfree - fs.avail) * fs.bsize);
	snprintf(mech, sizeof(mech), "%s free of %s now; the fill leaves %s",
		 fl_fmt_size(now, a, sizeof(a)),
		 fl_fmt_size(fs.size * fs.bsize, b, sizeof(b)),
		 fl_fmt_size(goal, c, sizeof(c)));
	fl_json_add_str(params, "summary", mech);
out:
	fl_json_add_str(params, "path", s->path);
	fl_json_add_str(params, "free_means", measure);
	fl_json_add_str(out, "why",
			"every process writing to that filesystem gets the real ENOSPC; faultline holds the only reference to the fill, so the space comes back the moment it closes it or dies, with nothing to replay; the space is checked every 250 ms and topped up when something frees some");
	json_object_object_add(out, "objects", objs);
	json_object_object_add(out, "params", params);
	return 0;
}

int disk_resources(const struct fl_fault *f, json_object *out)
{
	const struct disk_spec *s = f->priv;
	char key[64];
	struct stat st;

	if (!s || !s->path)
		return -EINVAL;
	/* What is shared: the filesystem, however the path names it. */
	if (stat(s->path, &st))
		return 0;
	disk_lock_key(st.st_dev, key, sizeof(key));
	json_object_array_add(out, json_object_new_string(key));
	return 0;
}
