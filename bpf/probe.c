// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which BPF program types does this kernel load?  Each feature has a
 * small real program in probe.bpf.c; a probe loads only that one (and
 * where loading alone proves little, attaches and detaches it at once).
 * libbpf's own messages are kept out of the terminal but the reason is
 * kept: the errno and the verifier's last line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf/bpfault.h"
#include "bpf/bpflog.h"
#include "bpf/btfload.h"
#include "bpf/probe.skel.h"

enum probe_attach {
	LOAD_ONLY,
	ATTACH,			/* attach, then detach at once */
};

static const struct {
	const char *name;
	const char *prog;
	enum probe_attach attach;
} feats[FL_BPF_NR_FEATURES] = {
	[FL_BPF_SCHED_CLS] = { "sched_cls", "probe_tc", LOAD_ONLY },
	[FL_BPF_CGROUP_SOCK_ADDR] = { "cgroup_sock_addr", "probe_connect4",
				      LOAD_ONLY },
	[FL_BPF_CGROUP_SOCKOPT] = { "cgroup_sockopt", "probe_getsockopt",
				    LOAD_ONLY },
	[FL_BPF_TP_BTF] = { "tp_btf", "probe_tp_btf", ATTACH },
	[FL_BPF_RAW_TP] = { "raw_tp", "probe_raw_tp", ATTACH },
	[FL_BPF_LSM] = { "lsm", "probe_lsm", ATTACH },
	[FL_BPF_FMOD_RET_SECURITY] = { "fmod_ret:security",
				       "probe_fmod_security", ATTACH },
	[FL_BPF_FMOD_RET_SYSCALL] = { "fmod_ret:syscall", "probe_fmod_syscall",
				      ATTACH },
	[FL_BPF_KPROBE_OVERRIDE] = { "kprobe:override", "probe_kprobe",
				     ATTACH },
};

static struct {
	bool done;
	int ret;
	char why[256];
} cache[FL_BPF_NR_FEATURES];

/* Root, or CAP_SYS_ADMIN or CAP_BPF in the effective set. */
static bool may_load_bpf(void)
{
	unsigned long long eff = 0;

	if (geteuid() == 0)
		return true;
	fl_cap_eff(&eff);
	return eff & ((1ULL << 21) | (1ULL << 39));
}

/* The kprobe PMU, or a tracefs that takes kprobe events. */
static bool have_kprobes(void)
{
	return !access("/sys/bus/event_source/devices/kprobe", F_OK) ||
	       !access("/sys/kernel/tracing/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

static void load_why(enum fl_bpf_feature f, int err,
		     const struct bpf_log *log, char *why, size_t len)
{
	const char *vline = log->verifier;
	bool have = vline[0];

	if (f == FL_BPF_KPROBE_OVERRIDE && have &&
	    strstr(vline, "bpf_override_return")) {
		snprintf(why, len, "load: %s: bpf_override_return is missing "
			 "(needs CONFIG_BPF_KPROBE_OVERRIDE)%s", strerror(err),
			 have_kprobes() ? "" : "; no kprobes either");
		return;
	}
	snprintf(why, len, "load: %s%s%.159s", strerror(err),
		 have ? "; verifier: " : "", vline);
}

static void attach_why(enum fl_bpf_feature f, int err, char *why, size_t len)
{
	if (f == FL_BPF_KPROBE_OVERRIDE && !have_kprobes()) {
		snprintf(why, len, "attach: %s: no kprobes in this kernel "
			 "(needs CONFIG_KPROBES and CONFIG_KPROBE_EVENTS)",
			 strerror(err));
		return;
	}
	if (f == FL_BPF_KPROBE_OVERRIDE && err == EINVAL) {
		snprintf(why, len, "attach: %s: the function is not "
			 "error-injectable", strerror(err));
		return;
	}
	snprintf(why, len, "attach: %s", strerror(err));
}

static int probe_one(enum fl_bpf_feature f, struct bpf_log *log, char *why,
		     size_t len)
{
	struct bpf_program *prog, *p;
	struct bpf_link *link;
	struct probe *skel;
	int err, ret;

	if (!may_load_bpf()) {
		snprintf(why, len, "not tested: loading BPF programs needs "
			 "root (CAP_BPF or CAP_SYS_ADMIN)");
		return -EPERM;
	}
	fl_btf_handlers();
	skel = probe__open();
	if (!skel) {
		err = errno ? errno : EINVAL;
		snprintf(why, len, "not tested: cannot open the probe "
			 "object: %s", strerror(err));
		return -err;
	}
	prog = bpf_object__find_program_by_name(skel->obj, feats[f].prog);
	if (!prog) {
		snprintf(why, len, "not tested: no probe for this "
			 "architecture");
		ret = -EOPNOTSUPP;
		goto out;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == prog);

	err = probe__load(skel);
	if (err) {
		load_why(f, -err, log, why, len);
		ret = 0;
		goto out;
	}
	if (feats[f].attach == ATTACH) {
		link = bpf_program__attach(prog);
		if (!link) {
			attach_why(f, errno, why, len);
			ret = 0;
			goto out;
		}
		bpf_link__destroy(link);
		snprintf(why, len, "loaded, attached and detached");
	} else {
		snprintf(why, len, "loaded");
	}
	ret = 1;
out:
	probe__destroy(skel);
	return ret;
}

const char *fl_bpf_feature_name(enum fl_bpf_feature f)
{
	if ((unsigned int)f >= FL_BPF_NR_FEATURES)
		return "unknown";
	return feats[f].name;
}

int fl_bpf_probe(enum fl_bpf_feature f, char *why, size_t len)
{
	struct bpf_log log;

	if ((unsigned int)f >= FL_BPF_NR_FEATURES) {
		if (why && len)
			snprintf(why, len, "unknown feature");
		return -EINVAL;
	}
	if (!cache[f].done) {
		bpf_log_begin(&log);
		errno = 0;
		cache[f].ret = probe_one(f, &log, cache[f].why,
					 sizeof(cache[f].why));
		bpf_log_end(&log);
		cache[f].done = true;
	}
	if (why && len)
		snprintf(why, len, "%s", cache[f].why);
	return cache[f].ret;
}
