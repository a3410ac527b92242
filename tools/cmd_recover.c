// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline recover [RUN]: replay the undo records of runs whose runner
 * and guardian are both gone, newest record first.  Idempotent: a run
 * already recovered is nothing to do.
 *
 * Without a journal (its folder is gone: deleted, or a reboot emptied
 * /run), or with --scan, it cannot know what was changed, so it looks for
 * what faultline makes, by name, and fails (exit 4) naming each one:
 * scratch cgroups faultline-*, qdiscs with faultline's handles fa17: and
 * fa18:, ifb devices fl-ifb-*, cls_bpf filters and BPF programs with
 * faultline's program names, in every network namespace it can reach.
 * Limits written to a cgroup of the user's cannot be told apart by a scan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/tc_act/tc_bpf.h>
#include <linux/pkt_cls.h>

#include "tools/cmds.h"
#include "netem/tc.h"

/* The runs, listed under the journal's lock (no run is half-made). */
static int list_locked(struct fl_run_info **runs, size_t *n)
{
	char path[600];
	int fd, ret;

	/* The journal folder itself is the lock (see core/runner.c). */
	snprintf(path, sizeof(path), "%s", fl_rundir());
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	ret = fl_runs_list(runs, n);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The scan: what faultline makes, found by name.                      */

struct scan {
	json_object *found;		/* array of { "kind", "what", "where",
					 * "remove" } */
	__u32 ids[256];			/* BPF programs named in a filter */
	size_t nids;
	const char *ns;			/* the namespace being scanned */
	const struct fl_run_info *runs;	/* the journal's runs: theirs are
					 * accounted for */
	size_t nruns;
};

static void found(struct scan *sc, const char *kind, const char *what,
		  const char *where, const char *remove)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "what", json_object_new_string(what));
	json_object_object_add(o, "where", json_object_new_string(where));
	json_object_object_add(o, "remove", json_object_new_string(remove));
	json_object_array_add(sc->found, o);
}

static bool our_prog(const char *name)
{
	return !strncmp(name, "part_", 5) || !strncmp(name, "sf_", 3);
}

static int prog_name(__u32 id, char *buf, size_t len, __u32 *type)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), ret;

	if (fd < 0)
		return -errno;
	ret = bpf_obj_get_info_by_fd(fd, &info, &ilen);
	close(fd);
	if (ret)
		return ret;
	snprintf(buf, len, "%s", info.name);
	if (type)
		*type = info.type;
	return 0;
}

/*
 * The runner of a run id (<stamp>-<pid>[-k]) when it is still running:
 * then it may still revert what it made itself.
 */
static pid_t live_runner(const char *name)
{
	char path[64], comm[32] = "";
	const char *p = name + strlen("faultline-");
	FILE *f;
	long pid;

	/* Skip the stamp: YYYYmmdd-HHMMSS-. */
	if (strlen(p) < 17 || p[8] != '-' || p[15] != '-')
		return 0;
	pid = strtol(p + 16, NULL, 10);
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return strncmp(comm, "faultline", 9) ? 0 : (pid_t)pid;
}

/* Scratch cgroups directly under a hierarchy's root. */
static void scan_cgroups(struct scan *sc, const char *root)
{
	char path[600], what[700], rm[1300];
	struct dirent *de;
	DIR *d;

	if (!root || !*root)
		return;
	d = opendir(root);
	while (d && (de = readdir(d))) {
		FILE *f;
		int procs = 0;
		char line[32], held[96] = "";
		bool theirs = false;
		size_t k;
		pid_t pid;

		if (strncmp(de->d_name, "faultline-", 10) ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		for (k = 0; k < sc->nruns; k++) {
			size_t l = strlen(sc->runs[k].id);

			theirs |= !strncmp(de->d_name + 10, sc->runs[k].id, l) &&
				  de->d_name[10 + l] == '-';
		}
		if (theirs)
			continue;	/* a run in the journal holds it */
		pid = live_runner(de->d_name);
		if (pid)
			snprintf(held, sizeof(held), "; its runner, pid %d, is "
				 "still running and may still remove it",
				 (int)pid);
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", root,
			 de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			procs++;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		snprintf(what, sizeof(what), "scratch cgroup %s (%d "
			 "process%s in it%s)", path, procs, procs == 1 ? "" : "es",
			 held);
		snprintf(rm, sizeof(rm), "kill the processes in %s/cgroup.procs, "
			 "then rmdir %s", path, path);
		found(sc, "cgroup", what, root, rm);
	}
	if (d)
		closedir(d);
}

struct dev_ctx {
	struct scan *sc;
	const char *dev;
	const char *dir;
};

static int qdisc_cb(const struct tc_obj *o, void *data)
{
	struct dev_ctx *c = data;
	char what[200], rm[200];
	uint32_t maj = TC_H_MAJ(o->handle);

	if (maj != 0xfa170000U && maj != 0xfa180000U)
		return 0;
	snprintf(what, sizeof(what), "qdisc %s %x: on %s", o->kind,
		 maj >> 16, c->dev);
	if (o->parent == TC_H_ROOT)
		snprintf(rm, sizeof(rm), "tc qdisc del dev %s root (then put "
			 "your own root qdisc back)", c->dev);
	else
		snprintf(rm, sizeof(rm), "tc qdisc del dev %s handle %x:",
			 c->dev, maj >> 16);
	found(c->sc, "qdisc", what, c->sc->ns, rm);
	return 0;
}

static int bpf_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= TCA_BPF_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int filter_cb(const struct tc_obj *o, void *data)
{
	struct dev_ctx *c = data;
	const struct nlattr *tb[TCA_BPF_MAX + 1] = {};
	char name[64] = "", what[300], rm[200];
	__u32 id;

	if (strcmp(o->kind, "bpf") || !o->tb[TCA_OPTIONS])
		return 0;
	mnl_attr_parse_nested(o->tb[TCA_OPTIONS], bpf_attr_cb, tb);
	if (!tb[TCA_BPF_ID])
		return 0;
	id = mnl_attr_get_u32(tb[TCA_BPF_ID]);
	if (prog_name(id, name, sizeof(name), NULL) || !our_prog(name))
		return 0;
	if (c->sc->nids < ARRAY_SIZE(c->sc->ids))
		c->sc->ids[c->sc->nids++] = id;
	snprintf(what, sizeof(what), "filter bpf %s (program %u) on %s %s, "
		 "pref %u", name, id, c->dev, c->dir, TC_H_MAJ(o->info) >> 16);
	snprintf(rm, sizeof(rm), "tc filter del dev %s %s pref %u", c->dev,
		 c->dir, TC_H_MAJ(o->info) >> 16);
	found(c->sc, "filter", what, c->sc->ns, rm);
	return 0;
}

/* One network namespace: ifb devices, qdiscs and filters of ours. */
static void scan_netns(struct scan *sc)
{
	struct if_nameindex *ifs, *i;
	char what[200], rm[200];

	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		struct dev_ctx c = { sc, i->if_name, NULL };

		if (!strncmp(i->if_name, "fl-ifb-", 7)) {
			snprintf(what, sizeof(what), "ifb device %s",
				 i->if_name);
			snprintf(rm, sizeof(rm), "ip link del %s", i->if_name);
			found(sc, "link", what, sc->ns, rm);
		}
		tc_dump(RTM_GETQDISC, i->if_index, 0, qdisc_cb, &c);
		c.dir = "ingress";
		tc_dump(RTM_GETTFILTER, i->if_index,
			TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), filter_cb, &c);
		c.dir = "egress";
		tc_dump(RTM_GETTFILTER, i->if_index,
			TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), filter_cb, &c);
	}
	if (ifs)
		if_freenameindex(ifs);
}

/* Every network namespace we can reach, once each. */
static void scan_all_netns(struct scan *sc)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	unsigned long long seen[512];
	size_t nseen = 0, k;
	char path[300], where[300];
	struct stat st;
	int self, fd;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return;
	if (!fstat(self, &st))
		seen[nseen++] = st.st_ino;
	sc->ns = "this network namespace";
	scan_netns(sc);
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
				sc->ns = where;
				scan_netns(sc);
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
}

/* BPF programs with faultline's names not already named in a filter. */
static void scan_progs(struct scan *sc)
{
	char name[64], what[200], rm[200];
	__u32 id = 0, type;
	size_t k;

	while (!bpf_prog_get_next_id(id, &id)) {
		bool seen = false;

		if (prog_name(id, name, sizeof(name), &type) ||
		    !our_prog(name))
			continue;
		for (k = 0; k < sc->nids; k++)
			seen |= sc->ids[k] == id;
		if (seen)
			continue;
		snprintf(what, sizeof(what), "BPF program %u %s (type %u)",
			 id, name, type);
		snprintf(rm, sizeof(rm), "bpftool prog show id %u pids: "
			 "detach it where it is attached, or end the process "
			 "holding it", id);
		found(sc, "bpf", what, "this machine", rm);
	}
}

static json_object *scan_machine(const struct fl_run_info *runs,
				 size_t nruns)
{
	const struct fl_kernel *k = fl_kernel_get();
	struct scan sc = { .found = json_object_new_array(), .runs = runs,
			   .nruns = nruns };

	scan_cgroups(&sc, k->memory_root);
	if (strcmp(k->unified_root, k->memory_root))
		scan_cgroups(&sc, k->unified_root);
	scan_all_netns(&sc);
	scan_progs(&sc);
	return sc.found;
}

/* Print what the scan found; the number of objects. */
static size_t print_scan(json_object *found_arr, const char *why)
{
	size_t i, n = json_object_array_length(found_arr);

	if (!n)
		return 0;
	fl_err("%s; these look like faultline's and no undo record accounts "
	       "for them, so they may be left over (nothing was changed):",
	       why);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(found_arr, i), *v;
		const char *what, *where, *rm;

		json_object_object_get_ex(o, "what", &v);
		what = json_object_get_string(v);
		json_object_object_get_ex(o, "where", &v);
		where = json_object_get_string(v);
		json_object_object_get_ex(o, "remove", &v);
		rm = json_object_get_string(v);
		fprintf(stderr, "  %s, in %s\n    remove: %s\n", what, where, rm);
	}
	fprintf(stderr, "  limits faultline wrote to cgroups of your own "
		"cannot be found this way: check the oom targets' memory "
		"limits by hand\n");
	return n;
}

static void print_result(json_object *res)
{
	json_object *id, *rev, *fail;
	size_t i;

	json_object_object_get_ex(res, "run", &id);
	json_object_object_get_ex(res, "reverted", &rev);
	json_object_object_get_ex(res, "failed", &fail);
	for (i = 0; rev && i < json_object_array_length(rev); i++) {
		json_object *o = json_object_array_get_idx(rev, i), *f, *e;

		json_object_object_get_ex(o, "fault", &f);
		json_object_object_get_ex(o, "engine", &e);
		printf("run %s: fault %s (%s) reverted\n",
		       json_object_get_string(id), json_object_get_string(f),
		       json_object_get_string(e));
	}
	for (i = 0; fail && i < json_object_array_length(fail); i++) {
		json_object *o = json_object_array_get_idx(fail, i);
		json_object *f = NULL, *e = NULL, *r = NULL, *w = NULL;
		json_object *st = NULL, *dir = NULL;

		json_object_object_get_ex(o, "fault", &f);
		json_object_object_get_ex(o, "engine", &e);
		json_object_object_get_ex(o, "record", &r);
		json_object_object_get_ex(o, "error", &w);
		json_object_object_get_ex(o, "state", &st);
		json_object_object_get_ex(res, "dir", &dir);
		fl_err("run %s: fault %s (%s) was NOT reverted: %s",
		       json_object_get_string(id), json_object_get_string(f),
		       json_object_get_string(e), json_object_get_string(w));
		fprintf(stderr, "  the record stays in %s/%s; what may be "
			"left on this machine: %s\n",
			json_object_get_string(dir), json_object_get_string(r),
			st ? json_object_to_json_string_ext(st,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) :
			"(unknown: the record has no state)");
	}
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "scan", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct fl_run_info *runs = NULL;
	const char *want = NULL;
	json_object *out, *arr;
	size_t n = 0, i, done = 0;
	bool force = false, found = false, scan = false, nojournal;
	json_object *left = NULL;
	size_t nleft = 0;
	struct stat st;
	int c, ret, status = FL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "jfsh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			fl_json_output = true;
			break;
		case 'f':
			force = true;
			break;
		case 's':
			scan = true;
			break;
		case 'h':
			cmd_usage("recover", stdout);
			printf("  RUN      a run id from 'faultline status' "
			       "(default: every dead run)\n"
			       "  --force  also replay a run whose runner or "
			       "guardian is alive\n"
			       "  --scan   also look for faultline's objects "
			       "that no record accounts for\n"
			       "           (done anyway when the journal folder "
			       "is gone)\n");
			return 0;
		default:
			return cmd_bad_usage("recover", "unknown option");
		}
	}
	if (optind < argc - 1)
		return cmd_bad_usage("recover", "recover takes one run at most");
	if (optind == argc - 1) {
		want = argv[optind];
		if (strrchr(want, '/'))
			want = strrchr(want, '/') + 1;
	}

	/* No journal folder at all: deleted, or /run emptied by a reboot. */
	nojournal = stat(fl_rundir(), &st) && errno == ENOENT;
	ret = list_locked(&runs, &n);
	if (ret) {
		fl_err("cannot read the journal in %s: %s", fl_rundir(),
		       strerror(-ret));
		return FL_EXIT_UNSUPPORTED;
	}
	out = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(out, "rundir", json_object_new_string(fl_rundir()));
	for (i = 0; i < n; i++) {
		struct fl_run_info *ri = &runs[i];
		json_object *res;

		if (want && strcmp(ri->id, want))
			continue;
		found = true;
		if (ri->alive && !force) {
			fl_err("run %s is alive (runner %d, guardian %d): it "
			       "reverts by itself; 'faultline recover --force "
			       "%s' replays it anyway", ri->id, (int)ri->pid,
			       (int)ri->guardian, ri->id);
			if (want)
				status = FL_EXIT_UNSUPPORTED;
			continue;
		}
		res = json_object_new_object();
		ret = fl_recover_run(ri->dir, res);
		if (ret == -ENOENT) {
			json_object_put(res);
			continue;	/* recovered meanwhile */
		}
		done++;
		json_object_object_add(res, "ok", json_object_new_boolean(!ret));
		if (!fl_json_output)
			print_result(res);
		if (ret) {
			status = FL_EXIT_APPLY;
			if (!fl_json_output)
				fl_err("run %s: not everything was reverted "
				       "(%s); fix the cause and run 'faultline "
				       "recover %s' again", ri->id,
				       strerror(-ret), ri->id);
		} else if (!fl_json_output) {
			printf("run %s: recovered\n", ri->id);
		}
		json_object_array_add(arr, res);
	}
	json_object_object_add(out, "runs", arr);
	json_object_object_add(out, "recovered", json_object_new_int(done));
	if (nojournal || scan) {
		char why[700];

		left = scan_machine(runs, n);
		if (nojournal)
			snprintf(why, sizeof(why), "there is no journal in %s "
				 "(deleted?), so what a run changed is unknown",
				 fl_rundir());
		else
			snprintf(why, sizeof(why), "scan");
		nleft = fl_json_output ? json_object_array_length(left) :
			print_scan(left, why);
		json_object_object_add(out, "journal",
				       json_object_new_boolean(!nojournal));
		json_object_object_add(out, "leftovers", left);
		if (nleft)
			status = FL_EXIT_APPLY;
	}
	if (nleft && !fl_json_output) {
		fl_err("%zu object(s) may be left over; remove them as shown "
		       "(this is not a recovery)", nleft);
	} else if (nojournal && !done && status == FL_EXIT_OK &&
		   !fl_json_output) {
		printf("nothing to recover: there is no journal in %s, and "
		       "nothing of faultline's was found on this machine "
		       "(limits written to cgroups of your own cannot be "
		       "found by a scan)\n", fl_rundir());
	} else if (!done && status == FL_EXIT_OK && !fl_json_output) {
		if (want && !found)
			printf("nothing to recover: no run %s in %s (already "
			       "recovered?)\n", want, fl_rundir());
		else
			printf("nothing to recover in %s\n", fl_rundir());
	}
	if (fl_json_output)
		fl_print_json(out);
	json_object_put(out);
	fl_runs_free(runs, n);
	return status;
}
