// SPDX-License-Identifier: GPL-2.0-only
/*
 * The journal: what undoes every applied fault, on disk before the kernel
 * is touched.
 *
 *   fl_rundir()/<run-id>/run.json          who runs, since when, until when
 *   fl_rundir()/<run-id>/NNNN-<fault>.json one undo record per applied fault
 *
 * Every file is written to a temporary name, fsynced, renamed into place
 * and the folder fsynced, so a record is either whole or absent.  A record
 * is removed once its revert is done; the run folder once no record is
 * left.  recover and the guardian replay records in the reverse of the
 * order they were applied in: by the planned instant and file order each
 * record keeps, not by seq, which is the order they were prepared in.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/faultline.h"
#include "core/journal.h"

struct fl_journal {
	char id[64];
	char dir[512];
	int dirfd;
	json_object *run;		/* run.json */
	int last_seq;
	/*
	 * The runner's own copy of every record not yet reverted ("seq" ->
	 * record), so that it still reverts what it applied when someone
	 * deletes the journal folder under it.
	 */
	json_object *mem;
	bool lost;			/* a record was missing: said so */
};

const char *fl_rundir(void)
{
	const char *s = getenv("FAULTLINE_RUNDIR");

	return s && *s ? s : FL_RUNDIR_DEFAULT;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode)) {
		if (errno != EEXIST)
			return -errno;
	}
	return 0;
}

/* Write name in dirfd atomically: temp file, fsync, rename, fsync dir. */
static int write_atomic(int dirfd, const char *name, const char *data)
{
	char tmp[300];
	size_t len = strlen(data), off = 0;
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto err;
		}
		off += n;
	}
	if (fsync(fd)) {
		ret = -errno;
		goto err;
	}
	close(fd);
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name)) {
		ret = -errno;
		goto err;
	}
	if (fsync(dirfd))
		return -errno;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return ret;
}

static int write_json(int dirfd, const char *name, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *buf;
	int ret;

	if (asprintf(&buf, "%s\n", s) < 0)
		return -ENOMEM;
	ret = write_atomic(dirfd, name, buf);
	free(buf);
	return ret;
}

json_object *fl_journal_read_at(int dirfd, const char *name)
{
	json_object *o;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	o = json_object_from_fd(fd);	/* json-c's reader */
	close(fd);
	if (!o)
		errno = EBADMSG;
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

/* A record's file name: NNNN-<fault>.json, the name made file-safe. */
static void record_name(char *buf, size_t len, int seq, const char *fault)
{
	char safe[65];
	size_t i;

	for (i = 0; fault && fault[i] && i < sizeof(safe) - 1; i++) {
		char c = fault[i];

		safe[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			  (c == '.' && i) ? c : '_';
	}
	safe[i] = '\0';
	snprintf(buf, len, "%04d-%s.json", seq, safe);
}

/* The sequence number of a record file name, or -1 when not a record. */
static int record_seq(const char *name)
{
	size_t len = strlen(name);
	int seq = 0, i;

	if (len < 10 || strcmp(name + len - 5, ".json"))
		return -1;
	for (i = 0; name[i] >= '0' && name[i] <= '9'; i++) {
		if (seq > 99999999)
			return -1;
		seq = seq * 10 + (name[i] - '0');
	}
	if (i < 4 || name[i] != '-')
		return -1;
	return seq;
}

#define CMP_DESC(x, y)	(((y) > (x)) - ((y) < (x)))

static int rec_cmp_desc(const void *a, const void *b)
{
	const struct fl_rec_ent *x = a, *y = b;

	return CMP_DESC(x->seq, y->seq);
}

static int rec_cmp_replay(const void *a, const void *b)
{
	const struct fl_rec_ent *x = a, *y = b;

	if (x->timed != y->timed)
		return x->timed ? -1 : 1;
	if (x->timed && x->due_ns != y->due_ns)
		return CMP_DESC(x->due_ns, y->due_ns);
	if (x->timed && x->index != y->index)
		return CMP_DESC(x->index, y->index);
	return CMP_DESC(x->seq, y->seq);
}

void fl_journal_replay_sort(struct fl_rec_ent *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), rec_cmp_replay);
}

int fl_journal_records(int dirfd, struct fl_rec_ent **out, size_t *n)
{
	struct fl_rec_ent *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	*out = NULL;
	*n = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int seq = record_seq(de->d_name);

		if (seq < 0 || strlen(de->d_name) >= sizeof(v->name))
			continue;
		if (FL_GROW(v, cap, cnt, 16)) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v[cnt].seq = seq;
		strcpy(v[cnt].name, de->d_name);
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), rec_cmp_desc);
	*out = v;
	*n = cnt;
	return 0;
}

/* A record's planned instant and file order, when it has them. */
static void rec_timing(json_object *rec, struct fl_rec_ent *e)
{
	json_object *due, *index;

	e->timed = json_object_object_get_ex(rec, "due_ns", &due) &&
		   json_object_object_get_ex(rec, "index", &index) &&
		   json_object_is_type(due, json_type_int) &&
		   json_object_is_type(index, json_type_int);
	e->due_ns = e->timed ? json_object_get_uint64(due) : 0;
	e->index = e->timed ? json_object_get_int(index) : 0;
}

int fl_journal_replay_order(int dirfd, struct fl_rec_ent **out, size_t *n)
{
	json_object *rec;
	size_t i;
	int ret;

	ret = fl_journal_records(dirfd, out, n);
	if (ret)
		return ret;
	/* One that cannot be read goes by its seq: its replay says why. */
	for (i = 0; i < *n; i++) {
		rec = fl_journal_read_at(dirfd, (*out)[i].name);
		rec_timing(rec, &(*out)[i]);
		json_object_put(rec);
	}
	fl_journal_replay_sort(*out, *n);
	return 0;
}

static int find_record(int dirfd, int seq, char *name, size_t len)
{
	struct fl_rec_ent *v;
	size_t n, i;
	int ret;

	ret = fl_journal_records(dirfd, &v, &n);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (i = 0; i < n; i++) {
		if (v[i].seq != seq)
			continue;
		snprintf(name, len, "%s", v[i].name);
		ret = 0;
		break;
	}
	free(v);
	return ret;
}

/* run.json: who runs, since when, until when, holding what. */
static json_object *run_json(const char *id, const struct fl_experiment *exp,
			     int64_t wall, int64_t deadline_wall,
			     json_object *resources, pid_t guardian)
{
	json_object *run;
	char tbuf[40];
	char *abs;

	run = json_object_new_object();
	fl_json_add_str(run, "id", id);
	json_object_object_add(run, "pid", json_object_new_int(getpid()));
	json_object_object_add(run, "pid_start",
		json_object_new_uint64(fl_pid_start_time(getpid())));
	json_object_object_add(run, "guardian", json_object_new_int(guardian));
	json_object_object_add(run, "guardian_start", json_object_new_uint64(
			       guardian > 0 ? fl_pid_start_time(guardian) : 0));
	/* Absolute, so that status means something from anywhere. */
	abs = exp->file ? realpath(exp->file, NULL) : NULL;
	fl_json_add_str(run, "file", abs ? abs : exp->file ? exp->file : "");
	free(abs);
	fl_json_add_str(run, "name", exp->name ? exp->name : "");
	json_object_object_add(run, "started",
			       json_object_new_int64(wall / (int64_t)NSEC_PER_SEC));
	fl_json_add_str(run, "started_at",
			fl_fmt_time(wall, tbuf, sizeof(tbuf)));
	json_object_object_add(run, "deadline",
		json_object_new_int64((deadline_wall + (int64_t)NSEC_PER_SEC - 1) /
				      (int64_t)NSEC_PER_SEC));
	fl_json_add_str(run, "deadline_at",
			fl_fmt_time(deadline_wall, tbuf, sizeof(tbuf)));
	json_object_object_add(run, "resources", resources ?
			       json_object_get(resources) :
			       json_object_new_array());
	return run;
}

int fl_journal_create(const struct fl_experiment *exp, uint64_t deadline_ns,
		      json_object *resources, pid_t guardian,
		      struct fl_journal **out)
{
	const char *root = fl_rundir();
	struct fl_journal *j;
	int64_t wall = fl_wall_ns();
	char stamp[32];
	struct tm tm;
	time_t sec = wall / (int64_t)NSEC_PER_SEC;
	uint64_t now = fl_now_ns();
	int64_t deadline_wall;
	int ret, k;

	*out = NULL;
	ret = mkdir_p(root, 0700);
	if (ret) {
		fl_err("cannot create the journal folder %s: %s", root,
		       strerror(-ret));
		return ret;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->dirfd = -1;
	j->mem = json_object_new_object();
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (k = 0; k < 100; k++) {
		if (k)
			snprintf(j->id, sizeof(j->id), "%s-%d-%d", stamp,
				 (int)getpid(), k);
		else
			snprintf(j->id, sizeof(j->id), "%s-%d", stamp,
				 (int)getpid());
		snprintf(j->dir, sizeof(j->dir), "%s/%s", root, j->id);
		if (!mkdir(j->dir, 0700))
			break;
		if (errno != EEXIST) {
			ret = -errno;
			fl_err("cannot create %s: %s", j->dir, strerror(errno));
			goto err;
		}
	}
	if (k == 100) {
		ret = -EEXIST;
		goto err;
	}
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		ret = -errno;
		goto err_rmdir;
	}
	deadline_wall = wall + (int64_t)(deadline_ns > now ?
					 deadline_ns - now : 0);
	j->run = run_json(j->id, exp, wall, deadline_wall, resources, guardian);
	ret = write_json(j->dirfd, "run.json", j->run);
	if (ret) {
		fl_err("cannot write %s/run.json: %s", j->dir, strerror(-ret));
		goto err_rmdir;
	}
	*out = j;
	return 0;
err_rmdir:
	rmdir(j->dir);
err:
	if (j->dirfd >= 0)
		close(j->dirfd);
	json_object_put(j->run);
	json_object_put(j->mem);
	free(j);
	return ret;
}

void fl_journal_close(struct fl_journal *j)
{
	if (!j)
		return;
	if (j->dirfd >= 0)
		close(j->dirfd);
	json_object_put(j->run);
	json_object_put(j->mem);
	free(j);
}

const char *fl_journal_id(const struct fl_journal *j)
{
	return j->id;
}

const char *fl_journal_dir(const struct fl_journal *j)
{
	return j->dir;
}

int fl_undo_save(struct fl_undo *u, json_object *state)
{
	struct fl_journal *j = u->j;
	char name[128], tbuf[40], key[16];
	struct fl_rec_ent t = { .timed = u->timed, .due_ns = u->due_ns,
				.index = u->index };
	json_object *rec, *kept;
	int ret;

	if (!j || !u->f || !u->f->engine)
		return -EINVAL;
	if (u->seq <= 0)
		u->seq = ++j->last_seq;
	record_name(name, sizeof(name), u->seq, u->f->name);
	snprintf(key, sizeof(key), "%d", u->seq);
	/* A rewrite through an engine's copy of u (oom's, disk's) keeps
	 * the instant the runner's first save wrote. */
	if (!t.timed && json_object_object_get_ex(j->mem, key, &kept))
		rec_timing(kept, &t);
	rec = json_object_new_object();
	fl_json_add_str(rec, "engine", u->f->engine->name);
	fl_json_add_str(rec, "fault", u->f->name ? u->f->name : "");
	json_object_object_add(rec, "seq", json_object_new_int(u->seq));
	fl_json_add_str(rec, "created",
			fl_fmt_time(fl_wall_ns(), tbuf, sizeof(tbuf)));
	if (t.timed) {
		json_object_object_add(rec, "due_ns",
				       json_object_new_uint64(t.due_ns));
		json_object_object_add(rec, "index",
				       json_object_new_int(t.index));
	}
	json_object_object_add(rec, "state", state ? json_object_get(state) :
			       NULL);
	/* The latest state, kept even when the write fails. */
	json_object_object_add(j->mem, key, json_object_get(rec));
	ret = write_json(j->dirfd, name, rec);
	json_object_put(rec);
	if (ret)
		fl_err("cannot write the undo record %s/%s: %s", j->dir, name,
		       strerror(-ret));
	return ret;
}

void fl_undo_why(struct fl_undo *u, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;		/* keep the reason there was */
	free(u->why);
	u->why = s;
}

void fl_undo_release(struct fl_undo *u)
{
	free(u->why);
	u->why = NULL;
}

static int int_cmp_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (y > x) - (y < x);
}

int fl_journal_kept(const struct fl_journal *j, const char *engine,
		    int **seqs, size_t *n)
{
	size_t cap = json_object_object_length(j->mem), cnt = 0;
	int *v;

	*seqs = NULL;
	*n = 0;
	if (!cap)
		return 0;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_object_object_foreach(j->mem, key, rec) {
		const char *e = jstr(rec, "engine");

		(void)key;
		if (e && !strcmp(e, engine) && cnt < cap)
			v[cnt++] = (int)jint(rec, "seq");
	}
	if (!cnt) {
		free(v);
		return 0;
	}
	qsort(v, cnt, sizeof(*v), int_cmp_desc);
	*seqs = v;
	*n = cnt;
	return 0;
}

static void mem_drop(struct fl_journal *j, int seq)
{
	char key[16];

	snprintf(key, sizeof(key), "%d", seq);
	json_object_object_del(j->mem, key);
}

int fl_journal_drop(struct fl_journal *j, int seq)
{
	char name[256];
	int ret;

	mem_drop(j, seq);
	ret = find_record(j->dirfd, seq, name, sizeof(name));
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	if (unlinkat(j->dirfd, name, 0) && errno != ENOENT)
		return -errno;
	fsync(j->dirfd);
	return 0;
}

/*
 * The network namespace a record names ("netns": "dev:ino", or an inode
 * number as older records kept it): 1 with *id and its spelling in buf,
 * 0 when it names none, -EINVAL when it cannot be read.
 */
static int rec_netns(json_object *state, struct fl_netns_id *id, char *buf,
		     size_t len)
{
	json_object *v;

	if (!state || !json_object_object_get_ex(state, "netns", &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_int))
		snprintf(buf, len, "%llu",
			 (unsigned long long)json_object_get_uint64(v));
	else if (json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
	else
		return -EINVAL;
	if (fl_netns_parse(buf, id))
		return -EINVAL;
	return id->ino ? 1 : 0;
}

/*
 * Switch into the record's network namespace (*oldfd to leave it, -1
 * when there is nothing to leave).  A namespace that no longer exists
 * took everything in it along: *gone, and why says so.
 */
static int enter_rec_netns(json_object *state, int *oldfd, bool *gone,
			   char *why, size_t len)
{
	struct fl_netns_id id;
	char ns[64];
	int ret;

	*oldfd = -1;
	ret = rec_netns(state, &id, ns, sizeof(ns));
	if (ret <= 0) {
		if (ret)
			snprintf(why, len, "the record's network namespace "
				 "cannot be read");
		return ret;
	}
	ret = fl_netns_enter(&id, oldfd);
	if (ret == -ENOENT) {
		const char *of = jstr(state, "netns_of");

		*gone = true;
		snprintf(why, len, "network namespace %s%s%s is gone, and "
			 "everything that was in it", ns, of ? " of " : "",
			 of ? of : "");
		return 0;
	}
	if (ret)
		snprintf(why, len, "cannot enter network namespace %s: %s",
			 ns, strerror(-ret));
	return ret;
}

/* What fl_revert_gone() said during the revert op now running. */
static __thread char revert_gone[256];

void fl_revert_gone(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(revert_gone, sizeof(revert_gone), fmt, ap);
	va_end(ap);
}

/*
 * Revert one record (as read or kept) through its engine, inside the
 * network namespace it names; *gone when that namespace is gone (the
 * record is done, why says so).
 */
static int revert_rec(json_object *rec, bool *gone, char *why, size_t len)
{
	const struct fl_engine *e;
	json_object *state = NULL;
	const char *ename;
	int ret, oldfd;

	*gone = false;
	ename = jstr(rec, "engine");
	json_object_object_get_ex(rec, "state", &state);
	e = ename ? fl_engine_find(ename) : NULL;
	if (!e || !e->revert) {
		snprintf(why, len, "engine '%s' is not part of this faultline "
			 "binary; nothing was reverted", ename ? ename : "?");
		return -ENOPKG;
	}
	ret = enter_rec_netns(state, &oldfd, gone, why, len);
	if (ret || *gone)
		return ret;
	revert_gone[0] = 0;
	ret = e->revert(state);
	fl_netns_leave(oldfd);
	if (ret == -ENOENT)
		ret = 0;
	if (!ret && revert_gone[0]) {
		*gone = true;
		snprintf(why, len, "%s", revert_gone);
	}
	if (ret) {
		snprintf(why, len, "%s revert failed: %s", ename,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * Revert one record file of dirfd through its engine and remove it; why
 * on failure, or when its namespace was gone (*gone).
 */
static int revert_record(int dirfd, const char *name, json_object **recp,
			 bool *gone, char *why, size_t len)
{
	json_object *rec;
	int ret;

	*recp = NULL;
	*gone = false;
	rec = fl_journal_read_at(dirfd, name);
	if (!rec) {
		if (errno == ENOENT)
			return 0;	/* reverted and dropped meanwhile */
		snprintf(why, len, "the record cannot be read or parsed");
		return -EBADMSG;
	}
	*recp = rec;
	ret = revert_rec(rec, gone, why, len);
	if (ret)
		return ret;
	if (unlinkat(dirfd, name, 0) && errno != ENOENT) {
		ret = -errno;
		snprintf(why, len, "reverted, but the record cannot be "
			 "removed: %s", strerror(errno));
		return ret;
	}
	fsync(dirfd);
	return 0;
}

/*
 * Revert a record of this run from its file; when the file is gone (the
 * journal folder deleted under a live run), from the runner's own copy,
 * so that a lost journal never means "nothing to undo".
 */
int fl_journal_revert(struct fl_journal *j, int seq)
{
	char name[256], why[256], key[16];
	json_object *rec = NULL, *kept = NULL;
	bool gone;
	int ret;

	snprintf(key, sizeof(key), "%d", seq);
	json_object_object_get_ex(j->mem, key, &kept);
	ret = find_record(j->dirfd, seq, name, sizeof(name));
	if (!ret) {
		ret = revert_record(j->dirfd, name, &rec, &gone, why,
				    sizeof(why));
		if (ret)
			fl_err("%s/%s: %s", j->dir, name, why);
		else if (gone)
			fl_warn("%s/%s: %s: nothing to revert", j->dir, name,
				why);
		if (ret || rec) {
			if (!ret)
				mem_drop(j, seq);
			json_object_put(rec);
			return ret;
		}
		/* Gone between the listing and the read. */
	} else if (!kept) {
		return ret == -ENOENT ? 0 : ret;
	}
	if (!kept)
		return 0;
	if (!j->lost) {
		fl_warn("undo record %d is gone from %s (was the journal "
			"deleted?): reverting from the runner's own copy",
			seq, j->dir);
		j->lost = true;
	}
	ret = revert_rec(kept, &gone, why, sizeof(why));
	if (ret) {
		fl_err("%s: record %d (the runner's copy): %s", j->dir, seq,
		       why);
		return ret;
	}
	if (gone)
		fl_warn("%s: record %d (the runner's copy): %s: nothing to "
			"revert", j->dir, seq, why);
	mem_drop(j, seq);
	return 0;
}

int fl_journal_finish(struct fl_journal *j)
{
	struct fl_rec_ent *v;
	size_t n;
	int ret;

	if (json_object_object_length(j->mem))
		return -ENOTEMPTY;
	ret = fl_journal_records(j->dirfd, &v, &n);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	free(v);
	if (n)
		return -ENOTEMPTY;
	if (unlinkat(j->dirfd, "run.json", 0) && errno != ENOENT)
		return -errno;
	if (rmdir(j->dir) && errno != ENOENT)
		return -errno;
	return 0;
}

/* One entry of a recover result: { "record", "fault", "engine", ... }. */
static json_object *result_entry(const char *name, json_object *rec)
{
	const char *fault = jstr(rec, "fault"), *engine = jstr(rec, "engine");
	json_object *o = json_object_new_object();

	fl_json_add_str(o, "record", name);
	fl_json_add_str(o, "fault", fault ? fault : "");
	fl_json_add_str(o, "engine", engine ? engine : "");
	return o;
}

/* Remove what is left of a run folder with no record: run.json, temps. */
static int remove_run(int dirfd, const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (unlinkat(dirfd, "run.json", 0) && errno != ENOENT)
		return -errno;
	/* Leftover temp files of an interrupted write. */
	d = opendir(dir);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, ".tmp-", 5))
			unlinkat(dirfd, de->d_name, 0);
	if (d)
		closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * Replay every record of dirfd, the last applied first, into the three
 * arrays.
 */
static int replay_records(int dirfd, json_object *reverted, json_object *gone,
			  json_object *failed)
{
	struct fl_rec_ent *v = NULL;
	size_t n, i;
	int ret, first = 0;

	ret = fl_journal_replay_order(dirfd, &v, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		char why[300] = "";
		json_object *rec, *o, *st;
		bool was_gone;
		int err;

		err = revert_record(dirfd, v[i].name, &rec, &was_gone, why,
				    sizeof(why));
		o = result_entry(v[i].name, rec);
		if (err) {
			fl_json_add_str(o, "error", why);
			if (rec && json_object_object_get_ex(rec, "state", &st))
				json_object_object_add(o, "state",
						       json_object_get(st));
			json_object_array_add(failed, o);
			if (!first)
				first = err;
		} else if (was_gone) {
			fl_json_add_str(o, "why", why);
			json_object_array_add(gone, o);
		} else {
			json_object_array_add(reverted, o);
		}
		json_object_put(rec);
	}
	free(v);
	return first;
}

int fl_recover_run(const char *dir, json_object *result)
{
	json_object *reverted, *gone, *failed;
	const char *id;
	int dirfd, ret;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	/* One replayer at a time: the guardian, recover. */
	if (flock(dirfd, LOCK_EX)) {
		ret = -errno;
		close(dirfd);
		return ret;
	}
	id = strrchr(dir, '/');
	id = id ? id + 1 : dir;
	reverted = json_object_new_array();
	gone = json_object_new_array();
	failed = json_object_new_array();
	if (result) {
		fl_json_add_str(result, "run", id);
		fl_json_add_str(result, "dir", dir);
		json_object_object_add(result, "reverted",
				       json_object_get(reverted));
		json_object_object_add(result, "gone", json_object_get(gone));
		json_object_object_add(result, "failed", json_object_get(failed));
	}
	ret = replay_records(dirfd, reverted, gone, failed);
	if (!ret)
		ret = remove_run(dirfd, dir);
	json_object_put(reverted);
	json_object_put(gone);
	json_object_put(failed);
	close(dirfd);
	return ret;
}
