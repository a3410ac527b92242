// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live view of run on a terminal: a status block redrawn in place.
 *
 * A header (the drill, elapsed and remaining time, a progress bar), one
 * row per fault (state, window, the engine's live counters or why it was
 * skipped; a fault that repeats shows its current occurrence, "2/3", and
 * waits between two), one row per probe (its last results as a strip, pass and fail
 * counts) and the last few event lines.  Each redraw moves the cursor up
 * over the previous frame and writes over it, so the scrollback above is
 * kept and the last frame stays on screen for the summary under it.
 *
 * Lines are cut to the terminal's width, so that none wraps and the
 * number of rows to move up is known; SIGWINCH interrupts the runner's
 * poll, and the next frame is cut to the new width.  What command
 * targets write would scroll the frame out from under the cursor, so it
 * comes through a pipe and is shown among the event lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/faultline.h"
#include "core/runner.h"

#define LIVE_STRIP	20		/* probe results shown */
#define LIVE_EVENTS	5		/* event lines shown */
#define LIVE_NAME_MAX	24		/* fault and probe name column */
#define LIVE_MAX_LINES	256
#define LIVE_OUT_MAX	512		/* a target's output line, cut */

/* What the view knows of a fault: the runner tells it as it goes. */
struct live_fault {
	enum fl_fault_state state;
	char *detail;			/* why it failed or was skipped */
	char *counters;			/* the engine's summary */
	char *victim;			/* "pid 12 (memhog)" */
	char *late;			/* "LATE 2.4s": applied late */
	struct fl_occurrence *occ;	/* its occurrences, as the run's */
	size_t nocc, cur;
};

/* A probe run in the strip: passed, and as its phase expected. */
#define LIVE_PASS	1
#define LIVE_MET	2

struct live_probe {
	unsigned char strip[LIVE_STRIP];	/* LIVE_*, oldest first */
	unsigned int n, passed, failed, unmet;
};

struct fl_live {
	const struct fl_experiment *exp;
	struct live_fault *faults;
	struct live_probe *probes;
	char *events[LIVE_EVENTS];
	size_t nevents;
	bool utf8, color;
	int namew;
	/* The frame being built. */
	char *buf;
	size_t len, cap;
	unsigned int width, rows;
	unsigned int cols[LIVE_MAX_LINES];	/* columns of each line */
	unsigned int nlines;
	unsigned int cur;			/* columns of the current line */
	bool full;				/* the current line is cut */
	/* The frame on screen. */
	unsigned int prev_cols[LIVE_MAX_LINES];
	unsigned int prev_lines;
	bool ended;
	struct sigaction old_winch;
	/* Command targets' output: a pipe, and the partial line read. */
	int out[2];
	char part[LIVE_OUT_MAX];
	size_t npart;
};

/* It only has to interrupt the runner's poll: each frame reads the size. */
static void on_winch(int sig)
{
	(void)sig;
}

static bool env_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		if (!v || !*v)
			continue;
		return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

bool fl_live_wanted(const struct fl_run_opts *opts)
{
	const char *term = getenv("TERM");

	if (opts->json || opts->quiet || opts->no_live)
		return false;
	if (!term || !*term || !strcmp(term, "dumb"))
		return false;
	return isatty(STDOUT_FILENO);
}

struct fl_live *fl_live_new(const struct fl_experiment *exp)
{
	size_t nf = exp->nfaults ? exp->nfaults : 1;
	size_t np = exp->nprobes ? exp->nprobes : 1;
	struct fl_live *lv = calloc(1, sizeof(*lv));
	struct sigaction sa = { 0 };
	size_t i, n;

	if (!lv)
		return NULL;
	lv->exp = exp;
	lv->out[0] = lv->out[1] = -1;
	lv->faults = calloc(nf, sizeof(*lv->faults));
	lv->probes = calloc(np, sizeof(*lv->probes));
	if (!lv->faults || !lv->probes) {
		fl_live_free(lv);
		return NULL;
	}
	lv->utf8 = env_utf8();
	lv->color = !getenv("NO_COLOR");
	lv->namew = 5;
	for (i = 0; i < exp->nfaults; i++) {
		n = exp->faults[i].name ? strlen(exp->faults[i].name) : 0;
		if ((int)n > lv->namew)
			lv->namew = n;
		/* The same seed: the same windows as the runner's. */
		if (fl_fault_occurrences(exp, &exp->faults[i],
					 &lv->faults[i].occ,
					 &lv->faults[i].nocc)) {
			fl_live_free(lv);
			return NULL;
		}
	}
	for (i = 0; i < exp->nprobes; i++) {
		n = exp->probes[i].name ? strlen(exp->probes[i].name) : 0;
		if ((int)n > lv->namew)
			lv->namew = n;
	}
	if (lv->namew > LIVE_NAME_MAX)
		lv->namew = LIVE_NAME_MAX;
	/* poll() returns EINTR on a handled signal even with SA_RESTART,
	 * which keeps a write to the terminal from failing. */
	sa.sa_handler = on_winch;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, &lv->old_winch);
	return lv;
}

static void set_str(char **slot, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		return;
	free(*slot);
	*slot = d;
}

void fl_live_event(struct fl_live *lv, const char *line)
{
	size_t i;

	if (!lv)
		return;
	if (lv->nevents == LIVE_EVENTS) {
		free(lv->events[0]);
		for (i = 1; i < LIVE_EVENTS; i++)
			lv->events[i - 1] = lv->events[i];
		lv->nevents--;
		lv->events[lv->nevents] = NULL;
	}
	set_str(&lv->events[lv->nevents], line);
	if (lv->events[lv->nevents])
		lv->nevents++;
}

int fl_live_output_fd(struct fl_live *lv)
{
	if (!lv)
		return -1;
	if (lv->out[1] >= 0)
		return lv->out[1];
	if (pipe2(lv->out, O_CLOEXEC))
		return lv->out[0] = lv->out[1] = -1;
	/* Only our end: a target's writes block, as on a terminal. */
	fcntl(lv->out[0], F_SETFL, fcntl(lv->out[0], F_GETFL) | O_NONBLOCK);
	fcntl(lv->out[0], F_SETPIPE_SZ, 1 << 20);
	return lv->out[1];
}

static void out_line(struct fl_live *lv, int64_t t)
{
	char line[LIVE_OUT_MAX + 32], tb[32];

	run_fmt_rel(t < 0 ? 0 : (uint64_t)t, tb, sizeof(tb));
	snprintf(line, sizeof(line), "[%s] output: %.*s", tb,
		 (int)lv->npart, lv->part);
	fl_live_event(lv, line);
	lv->npart = 0;
}

/* Read what the targets wrote, a line an event; all of it when flush. */
static void read_output(struct fl_live *lv, int64_t t, bool flush)
{
	char buf[4096];
	ssize_t n, i;

	if (lv->out[0] < 0)
		return;
	while ((n = read(lv->out[0], buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				out_line(lv, t);
			} else if (buf[i] != '\r' &&
				   lv->npart < sizeof(lv->part)) {
				lv->part[lv->npart++] = buf[i];
			}
		}
	}
	if (flush && lv->npart)
		out_line(lv, t);
}

void fl_live_fault(struct fl_live *lv, size_t i, enum fl_fault_state st,
		   const char *detail)
{
	if (!lv || i >= lv->exp->nfaults)
		return;
	lv->faults[i].state = st;
	set_str(&lv->faults[i].detail, detail);
}

void fl_live_occurrence(struct fl_live *lv, size_t i, size_t k)
{
	if (lv && i < lv->exp->nfaults)
		lv->faults[i].cur = k;
}

void fl_live_counters(struct fl_live *lv, size_t i, const char *summary)
{
	if (lv && i < lv->exp->nfaults)
		set_str(&lv->faults[i].counters, summary);
}

void fl_live_observed(struct fl_live *lv, size_t i, json_object *observed)
{
	json_object *v, *pid, *comm;
	char buf[128];

	if (!lv || i >= lv->exp->nfaults || !observed ||
	    !json_object_object_get_ex(observed, "victim", &v) ||
	    !json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "pid", &pid))
		return;
	if (json_object_object_get_ex(v, "comm", &comm))
		snprintf(buf, sizeof(buf), "victim %d (%s)",
			 json_object_get_int(pid), json_object_get_string(comm));
	else
		snprintf(buf, sizeof(buf), "victim %d",
			 json_object_get_int(pid));
	set_str(&lv->faults[i].victim, buf);
}

void fl_live_probe(struct fl_live *lv, size_t i, bool pass, bool met)
{
	struct live_probe *p;

	if (!lv || i >= lv->exp->nprobes)
		return;
	p = &lv->probes[i];
	if (p->n == LIVE_STRIP) {
		memmove(p->strip, p->strip + 1, LIVE_STRIP - 1);
		p->n--;
	}
	p->strip[p->n++] = (pass ? LIVE_PASS : 0) | (met ? LIVE_MET : 0);
	if (pass)
		p->passed++;
	else
		p->failed++;
	if (!met)
		p->unmet++;
}

void fl_live_late(struct fl_live *lv, size_t i, const char *text)
{
	if (lv && i < lv->exp->nfaults)
		set_str(&lv->faults[i].late, text);
}


/* ------------------------------------------------------------------ */
/* Building a frame: lines cut to the width, escapes not counted.      */

static void raw(struct fl_live *lv, const char *s, size_t n)
{
	if (lv->len + n + 1 > lv->cap) {
		size_t cap = (lv->cap ? lv->cap * 2 : 4096) + n;
		char *b = realloc(lv->buf, cap);

		if (!b)
			return;
		lv->buf = b;
		lv->cap = cap;
	}
	memcpy(lv->buf + lv->len, s, n);
	lv->len += n;
	lv->buf[lv->len] = '\0';
}

/* Text: control characters become '?', UTF-8 counts one column a
 * character; the line stops one column short of the width. */
static void put(struct fl_live *lv, const char *s)
{
	for (; *s && !lv->full; s++) {
		unsigned char c = *s;
		char q = '?';
		bool lead = (c & 0xc0) != 0x80;

		if (lead && lv->cur + 1 >= lv->width) {
			lv->full = true;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			raw(lv, &q, 1);
		else
			raw(lv, (const char *)&c, 1);
		if (lead)
			lv->cur++;
	}
}

static void putf(struct fl_live *lv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct fl_live *lv, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(lv, buf);
}

static void endl(struct fl_live *lv);

/*
 * Text that may not fit: word-wrapped onto at most max lines, the next
 * ones indented by indent columns.
 */
static void put_wrapped(struct fl_live *lv, const char *s,
			unsigned int indent, int max)
{
	unsigned int avail, cols, i;
	size_t n, cut, sp;
	char *chunk;

	while (*s) {
		avail = lv->width > lv->cur + 1 ? lv->width - lv->cur - 1 : 0;
		/* How many bytes fit in avail columns. */
		for (n = 0, cols = 0; s[n]; n++) {
			if ((s[n] & 0xc0) == 0x80)
				continue;
			if (cols == avail)
				break;
			cols++;
		}
		cut = n;
		if (s[n] && max > 1) {
			for (sp = n; sp > 0 && s[sp] != ' '; sp--)
				;
			if (sp > n / 2)
				cut = sp;
		}
		chunk = strndup(s, cut);
		if (!chunk)
			return;
		put(lv, chunk);
		free(chunk);
		s += cut;
		while (*s == ' ')
			s++;
		if (!*s || --max <= 0 || indent + 10 >= lv->width)
			return;
		endl(lv);
		for (i = 0; i < indent; i++)
			put(lv, " ");
	}
}

/* A fixed-width cell: s cut or padded to w columns, then a space. */
static void cell(struct fl_live *lv, const char *s, int w)
{
	putf(lv, "%-*.*s ", w, w, s ? s : "");
}

/* Select Graphic Rendition, when colours are on. */
static void sgr(struct fl_live *lv, const char *code)
{
	char buf[16];

	if (!lv->color)
		return;
	snprintf(buf, sizeof(buf), "\033[%sm", code);
	raw(lv, buf, strlen(buf));
}

static void endl(struct fl_live *lv)
{
	if (lv->nlines >= LIVE_MAX_LINES)
		return;
	sgr(lv, "0");
	raw(lv, "\033[K\n", 4);
	lv->cols[lv->nlines++] = lv->cur;
	lv->cur = 0;
	lv->full = false;
}

static char *mmss(int64_t ns, char *buf, size_t len)
{
	long long s = ns < 0 ? 0 : ns / (int64_t)NSEC_PER_SEC;

	if (s >= 3600)
		snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600,
			 s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02lld:%02lld", s / 60, s % 60);
	return buf;
}

static const char *live_state(enum fl_fault_state s, const char **color)
{
	static const char *const colors[] = {
		[FL_FAULT_PENDING] = "0",
		[FL_FAULT_ACTIVE] = "1;33",
		[FL_FAULT_REVERTED] = "32",
		[FL_FAULT_SKIPPED] = "35",
		[FL_FAULT_FAILED] = "1;31",
	};

	*color = (unsigned int)s < ARRAY_SIZE(colors) ? colors[s] : "0";
	return fl_fault_state_name(s);
}

static void draw_header(struct fl_live *lv, int64_t t, uint64_t duration,
			const char *phase)
{
	const struct fl_experiment *exp = lv->exp;
	char a[16], b[16];
	unsigned int barw, fill, i, pct;
	uint64_t done;

	sgr(lv, "1");
	put(lv, exp->name ? exp->name : "drill");
	sgr(lv, "0");
	putf(lv, " (%s)  ", exp->file ? exp->file : "");
	if (t < 0) {
		putf(lv, "starts in %s  %s",
		     mmss(-t + (int64_t)NSEC_PER_SEC - 1, a, sizeof(a)), phase);
	} else {
		if ((uint64_t)t > duration)
			t = duration;
		putf(lv, "elapsed %s  remaining %s  %s",
		     mmss(t, a, sizeof(a)), mmss(duration - t, b, sizeof(b)),
		     phase);
	}
	endl(lv);

	done = t < 0 ? 0 : (uint64_t)t;
	pct = duration ? done * 100 / duration : 100;
	if (pct > 100)
		pct = 100;
	barw = lv->width > 20 ? lv->width - 10 : 10;
	if (barw > 60)
		barw = 60;
	fill = barw * pct / 100;
	put(lv, "[");
	sgr(lv, "36");
	for (i = 0; i < barw; i++)
		put(lv, i < fill ? "#" : (lv->utf8 ? "\u00b7" : "."));
	sgr(lv, "0");
	putf(lv, "] %3u%%", pct);
	endl(lv);
}

static void draw_faults(struct fl_live *lv, int64_t t, uint64_t duration)
{
	const struct fl_experiment *exp = lv->exp;
	char a[16], b[16], win[40];
	const char *color, *st;
	unsigned int live_col;
	size_t i;

	if (!exp->nfaults)
		return;
	sgr(lv, "2");
	cell(lv, "FAULT", lv->namew);
	cell(lv, "STATE", 8);
	cell(lv, "WINDOW", 13);
	put(lv, "LIVE");
	endl(lv);
	for (i = 0; i < exp->nfaults; i++) {
		const struct fl_fault *f = &exp->faults[i];
		const struct live_fault *lf = &lv->faults[i];
		/* The current occurrence, or the last one once all are done. */
		size_t k = lf->cur < lf->nocc ? lf->cur : lf->nocc - 1;
		uint64_t at = lf->occ[k].at, end = lf->occ[k].end;
		bool waiting = lf->cur < lf->nocc &&
			       (lf->state == FL_FAULT_PENDING ||
				(f->repeat.on &&
				 lf->state == FL_FAULT_REVERTED));

		if (end > duration)
			end = duration;
		cell(lv, f->name, lv->namew);
		st = live_state(lf->state, &color);
		if (waiting && lf->state == FL_FAULT_REVERTED)
			st = "waiting";
		sgr(lv, color);
		cell(lv, st, 8);
		sgr(lv, "0");
		snprintf(win, sizeof(win), "%s-%s", mmss(at, a, sizeof(a)),
			 mmss(end, b, sizeof(b)));
		cell(lv, win, 13);
		if (f->repeat.on)
			putf(lv, "%zu/%zu ", k + 1, lf->nocc);
		if (waiting) {
			if (t >= 0 && (uint64_t)t < at)
				putf(lv, "%s in %s", k ? "next" : "starts",
				     mmss(at - t + NSEC_PER_SEC - 1, a,
					  sizeof(a)));
			endl(lv);
			continue;
		}
		switch (lf->state) {
		case FL_FAULT_PENDING:
			break;
		case FL_FAULT_SKIPPED:
			/* The whole reason, on up to three lines. */
			live_col = lv->cur;
			put(lv, f->optional ? "optional: " : "");
			put_wrapped(lv, lf->detail ? lf->detail : "", live_col,
				    3);
			break;
		case FL_FAULT_FAILED:
			put_wrapped(lv, lf->detail ? lf->detail : "failed",
				    lv->cur, 3);
			break;
		case FL_FAULT_ACTIVE:
		case FL_FAULT_REVERTED:
			/* Lateness, then the victim: the counters may be cut. */
			if (lf->late) {
				sgr(lv, "1;33");
				putf(lv, "%s; ", lf->late);
				sgr(lv, "0");
			}
			if (lf->victim)
				putf(lv, "%s%s", lf->victim,
				     lf->counters ? "; " : "");
			put(lv, lf->counters ? lf->counters :
			    f->engine->live || lf->victim ? "" :
			    "(no live counters)");
			break;
		}
		endl(lv);
	}
}

/* A run in the strip: a pass green, a failure red, one its phase
 * expected (a steady-state probe during a fault) yellow, any run not as
 * expected bold red. */
static void probe_mark(struct fl_live *lv, unsigned char m)
{
	if (!(m & LIVE_MET))
		sgr(lv, "1;31");
	else if (m & LIVE_PASS)
		sgr(lv, "32");
	else
		sgr(lv, "33");
	if (m & LIVE_PASS)
		put(lv, lv->utf8 ? "\u2713" : "+");
	else
		put(lv, lv->utf8 ? "\u2717" : "x");
}

static void draw_probes(struct fl_live *lv)
{
	const struct fl_experiment *exp = lv->exp;
	size_t i, k;

	if (!exp->nprobes)
		return;
	sgr(lv, "2");
	cell(lv, "PROBE", lv->namew);
	cell(lv, "LAST 20", LIVE_STRIP);
	put(lv, "PASS FAIL");
	endl(lv);
	for (i = 0; i < exp->nprobes; i++) {
		struct live_probe *p = &lv->probes[i];

		cell(lv, exp->probes[i].name, lv->namew);
		for (k = 0; k < LIVE_STRIP; k++) {
			if (k >= p->n)
				put(lv, " ");
			else
				probe_mark(lv, p->strip[k]);
		}
		sgr(lv, "0");
		putf(lv, " %4u %4u", p->passed, p->failed);
		if (p->unmet && p->unmet != p->failed)
			putf(lv, "  %u not as expected", p->unmet);
		endl(lv);
	}
}

static unsigned int term_size(unsigned int *rows)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col) {
		*rows = ws.ws_row ? ws.ws_row : 24;
		return ws.ws_col;
	}
	*rows = 24;
	return 80;
}

void fl_live_draw(struct fl_live *lv, int64_t t, uint64_t duration,
		  const char *phase)
{
	unsigned int i, up = 0, max, keep;
	char mv[32];
	size_t k, first;

	if (!lv || lv->ended)
		return;
	read_output(lv, t, false);
	lv->width = term_size(&lv->rows);
	lv->len = 0;
	lv->nlines = 0;
	lv->cur = 0;
	lv->full = false;

	/* Over the frame on screen; a narrower terminal may have wrapped
	 * its lines. */
	for (i = 0; i < lv->prev_lines; i++)
		up += lv->prev_cols[i] ? (lv->prev_cols[i] + lv->width - 1) /
					 lv->width : 1;
	if (up) {
		snprintf(mv, sizeof(mv), "\r\033[%uA", up);
		raw(lv, mv, strlen(mv));
	}

	draw_header(lv, t, duration, phase ? phase : "");
	draw_faults(lv, t, duration);
	draw_probes(lv);
	/* The event lines, as many as fit under the rest. */
	max = lv->rows > 1 ? lv->rows - 1 : 1;
	keep = lv->nlines < max ? max - lv->nlines : 0;
	if (keep > 1 && lv->nevents) {
		keep--;
		sgr(lv, "2");
		put(lv, "EVENTS");
		endl(lv);
		first = lv->nevents > keep ? lv->nevents - keep : 0;
		for (k = first; k < lv->nevents; k++) {
			put(lv, lv->events[k]);
			endl(lv);
		}
	}
	raw(lv, "\033[J", 3);
	if (lv->buf) {
		fwrite(lv->buf, 1, lv->len, stdout);
		fflush(stdout);
	}
	lv->prev_lines = lv->nlines;
	memcpy(lv->prev_cols, lv->cols, sizeof(lv->cols));
}

void fl_live_end(struct fl_live *lv, int64_t t, uint64_t duration)
{
	if (!lv || lv->ended)
		return;
	if (lv->out[0] >= 0)
		read_output(lv, t, true);
	fl_live_draw(lv, t, duration, "done");
	lv->ended = true;
}

void fl_live_free(struct fl_live *lv)
{
	size_t i;

	if (!lv)
		return;
	sigaction(SIGWINCH, &lv->old_winch, NULL);
	if (lv->out[0] >= 0)
		close(lv->out[0]);
	if (lv->out[1] >= 0)
		close(lv->out[1]);
	for (i = 0; lv->faults && i < lv->exp->nfaults; i++) {
		free(lv->faults[i].detail);
		free(lv->faults[i].counters);
		free(lv->faults[i].victim);
		free(lv->faults[i].late);
		free(lv->faults[i].occ);
	}
	for (i = 0; i < lv->nevents; i++)
		free(lv->events[i]);
	free(lv->faults);
	free(lv->probes);
	free(lv->buf);
	free(lv);
}
