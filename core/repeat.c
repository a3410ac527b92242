// SPDX-License-Identifier: GPL-2.0-only
/*
 * Repeats: a fault applied and reverted again and again on the timeline
 * (Jepsen's nemesis schedules, Pumba's --interval).
 *
 *   repeat: { every: 30s, for: 5s, times: 3, jitter: 5s }
 *
 * Occurrence k (0-based) starts at at + k * every + j_k and ends for
 * later, where j_k is drawn in [0, jitter] (whole milliseconds) from the
 * drill's seed, the fault's name and k alone: the same seed gives the
 * same timeline in plan and in run, and adding a fault changes no other
 * fault's draws.  Occurrences never overlap (every >= for + jitter, and
 * every > for), each one ends within the drill's duration, and without
 * times there are as many as end within it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/faultline.h"

/* More than this many occurrences of one fault is a mistake. */
#define FL_REPEAT_MAX	10000

static const char *const repeat_keys[] = {
	"every", "for", "times", "jitter", NULL
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t fl_repeat_jitter(uint64_t seed, const char *name, unsigned int k,
			  uint64_t max)
{
	uint64_t h = 0xcbf29ce484222325ULL, x;	/* FNV-1a of the name */
	const char *p;

	if (!max)
		return 0;
	for (p = name ? name : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	x = splitmix64(seed ^ splitmix64(h + k));
	/* Whole milliseconds, so that plans and reports read cleanly. */
	if (max >= NSEC_PER_MSEC)
		return x % (max / NSEC_PER_MSEC + 1) * NSEC_PER_MSEC;
	return x % (max + 1);
}

bool fl_experiment_jitters(const struct fl_experiment *exp)
{
	size_t i;

	for (i = 0; exp && i < exp->nfaults; i++)
		if (exp->faults[i].repeat.on && exp->faults[i].repeat.jitter_ns)
			return true;
	return false;
}

int fl_experiment_set_seed(struct fl_experiment *exp, const char *s,
			   const char **why)
{
	uint64_t v;
	int ret;

	ret = fl_parse_u64(s, &v, why);
	if (ret)
		return ret;
	exp->seed = v;
	exp->seed_from = FL_SEED_OPTION;
	return 0;
}

/* Where the last of n occurrences may end at the latest (with the
 * largest jitter), or UINT64_MAX past 584 years. */
static uint64_t last_end(const struct fl_fault *f, uint64_t n)
{
	const struct fl_repeat *rp = &f->repeat;
	uint64_t t;

	if (n && rp->every_ns && n - 1 > (UINT64_MAX - f->at_ns) / rp->every_ns)
		return UINT64_MAX;
	t = f->at_ns + (n ? n - 1 : 0) * rp->every_ns;
	if (t + rp->jitter_ns < t || t + rp->jitter_ns + rp->for_ns <
	    t + rp->jitter_ns)
		return UINT64_MAX;
	return t + rp->jitter_ns + rp->for_ns;
}

/* The length of each occurrence: repeat's for, or the fault's. */
static int repeat_length(struct fl_fault *f, const struct fl_node *v,
			 const char *what, struct fl_diag *d)
{
	struct fl_repeat *rp = &f->repeat;
	const struct fl_node *forn = fl_map_get(v, "for");

	if (forn && f->has_for) {
		fl_diag_err(d, forn, "%s: for: is given twice, beside repeat: "
			    "and in it; give each occurrence's length once",
			    what);
		return -EINVAL;
	}
	if (forn)
		return fl_get_duration_pos(forn, "for", &rp->for_ns, d);
	if (!f->has_for) {
		fl_diag_err(d, v, "%s: repeat: needs for: (how long each "
			    "occurrence lasts)", what);
		return -EINVAL;
	}
	rp->for_ns = f->for_ns;
	return 0;
}

/* every > for, every >= for + jitter: occurrences never overlap. */
static int check_spacing(const struct fl_fault *f, const struct fl_node *v,
			 const char *what, struct fl_diag *d)
{
	const struct fl_repeat *rp = &f->repeat;
	const struct fl_node *at = fl_map_get(v, "every");
	char a[32], b[32], c[32];

	if (rp->every_ns <= rp->for_ns) {
		fl_diag_err(d, at, "%s: repeat: every (%s) must be longer than "
			    "for (%s), or an occurrence would still be on "
			    "when the next begins", what,
			    fl_fmt_duration(rp->every_ns, a, sizeof(a)),
			    fl_fmt_duration(rp->for_ns, b, sizeof(b)));
		return -EINVAL;
	}
	if (rp->jitter_ns > rp->every_ns - rp->for_ns) {
		fl_diag_err(d, fl_map_get(v, "jitter"), "%s: repeat: jitter "
			    "(%s) is more than every - for (%s - %s): two "
			    "occurrences could overlap", what,
			    fl_fmt_duration(rp->jitter_ns, a, sizeof(a)),
			    fl_fmt_duration(rp->every_ns, b, sizeof(b)),
			    fl_fmt_duration(rp->for_ns, c, sizeof(c)));
		return -EINVAL;
	}
	return 0;
}

/* How many: times, which must fit in the duration, or as many as fit. */
static int check_count(const struct fl_experiment *exp, struct fl_fault *f,
		       const struct fl_node *v, const char *what,
		       struct fl_diag *d)
{
	struct fl_repeat *rp = &f->repeat;
	const struct fl_node *tn = fl_map_get(v, "times");
	uint64_t dur = exp->duration_ns, end, n;
	char a[32], b[32];

	if (!dur)
		return 0;	/* no duration: said already */
	if (rp->times) {
		end = last_end(f, rp->times);
		if (end <= dur)
			return 0;
		fl_diag_err(d, tn, "%s: repeat: occurrence %u of %u may end "
			    "at %s (at + %u x every + jitter + for), after "
			    "the drill's duration %s", what, rp->times,
			    rp->times, end == UINT64_MAX ? "the end of time" :
			    fl_fmt_duration(end, a, sizeof(a)), rp->times - 1,
			    fl_fmt_duration(dur, b, sizeof(b)));
		return -EINVAL;
	}
	end = last_end(f, 1);
	if (end > dur) {
		fl_diag_err(d, v, "%s: repeat: the first occurrence may end at "
			    "%s, after the drill's duration %s", what,
			    end == UINT64_MAX ? "the end of time" :
			    fl_fmt_duration(end, a, sizeof(a)),
			    fl_fmt_duration(dur, b, sizeof(b)));
		return -EINVAL;
	}
	n = (dur - end) / rp->every_ns + 1;
	if (n > FL_REPEAT_MAX) {
		fl_diag_err(d, v, "%s: repeat: %" PRIu64 " occurrences until "
			    "the drill ends, more than %d; give times: or a "
			    "longer every", what, n, FL_REPEAT_MAX);
		return -EINVAL;
	}
	return 0;
}

int fl_repeat_parse(const struct fl_experiment *exp, struct fl_fault *f,
		    const struct fl_node *v, const char *what,
		    struct fl_diag *d)
{
	struct fl_repeat *rp = &f->repeat;
	const struct fl_node *n;
	uint64_t times;
	int err = 0;

	rp->node = v;
	if (fl_map_check(v, repeat_keys, "repeat", d)) {
		err = -EINVAL;
		if (!v || v->type != FL_NODE_MAP)
			return err;
	}
	n = fl_map_need(v, "every", "repeat", d);
	if (!n || fl_get_duration_pos(n, "every", &rp->every_ns, d))
		err = -EINVAL;
	if (repeat_length(f, v, what, d))
		err = -EINVAL;
	n = fl_map_get(v, "jitter");
	if (n && fl_get_duration(n, "jitter", &rp->jitter_ns, d))
		err = -EINVAL;
	n = fl_map_get(v, "times");
	if (n) {
		if (fl_get_u64(n, "times", 1, FL_REPEAT_MAX, &times, d))
			err = -EINVAL;
		else
			rp->times = (unsigned int)times;
	}
	if (err)
		return err;
	rp->on = true;
	if (check_spacing(f, v, what, d) || check_count(exp, f, v, what, d))
		return -EINVAL;
	/* The fault's for is each occurrence's, as the report gives it. */
	f->for_ns = rp->for_ns;
	f->has_for = true;
	return 0;
}

int fl_fault_occurrences(const struct fl_experiment *exp,
			 const struct fl_fault *f, struct fl_occurrence **out,
			 size_t *n)
{
	const struct fl_repeat *rp = &f->repeat;
	uint64_t dur = exp->duration_ns, cnt = 1, k;
	struct fl_occurrence *v;

	*out = NULL;
	*n = 0;
	if (rp->on && rp->times)
		cnt = rp->times;
	else if (rp->on && dur >= last_end(f, 1))
		cnt = (dur - last_end(f, 1)) / rp->every_ns + 1;
	if (cnt > FL_REPEAT_MAX)
		cnt = FL_REPEAT_MAX;
	v = calloc(cnt, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (!rp->on) {
		v[0].at = f->at_ns;
		v[0].end = f->has_for ? f->at_ns + f->for_ns : dur;
		if (dur && v[0].end > dur)
			v[0].end = dur;
		*out = v;
		*n = 1;
		return 0;
	}
	for (k = 0; k < cnt; k++) {
		v[k].jitter = fl_repeat_jitter(exp->seed, f->name, k,
					       rp->jitter_ns);
		v[k].at = f->at_ns + k * rp->every_ns + v[k].jitter;
		v[k].end = v[k].at + rp->for_ns;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* A seed when neither the file nor --seed gives one: short to type. */
uint64_t fl_seed_draw(void)
{
	uint32_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
		s = (uint32_t)(time(NULL) ^ (getpid() << 16));
	return s;
}
