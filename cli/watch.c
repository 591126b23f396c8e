/* SPDX-License-Identifier: MIT */
/*
 * muppy-snap --interval: a snapshot every interval and, each time, what
 * changed since the previous one, like Pympler's SummaryTracker but from
 * outside the process, so nothing of the tracker is counted.  Ends after
 * --count snapshots or on a signal with the summary of the session: the
 * change from the first snapshot to the last and, from three snapshots
 * on, the trend and its leak suspects.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "snapcli.h"

/* The summary's trend uses at most this many snapshots, thinned evenly. */
#define KEEP_MAX 4096
/* Rows of a diff on a terminal when --limit is not given: what fits. */
#define MIN_ROWS 5
#define DEFAULT_ROWS 20

struct session {
	const struct cli_watch *w;
	int pid;
	struct muppy_snapshot **snaps;
	char **names;   /* the file, or "snapshot N" */
	size_t n;
	unsigned long taken; /* snapshots taken, thinned ones included */
	bool tty;       /* redraw in place */
	bool color;
	uint64_t t0_ns; /* start of the session */
	/* A process just followed may still be starting its interpreter:
	 * until then a "not ready" answer is tried again, quietly. */
	uint64_t ready_by_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void format_elapsed(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;

	snprintf(buf, size, "%" PRIu64 ":%02u:%02u", s / 3600,
		 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

static size_t term_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return ws.ws_row;
	return 24;
}

static void session_free(struct session *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++) {
		muppy_snapshot_free(ss->snaps[i]);
		free(ss->names[i]);
	}
	free(ss->snaps);
	free(ss->names);
	ss->snaps = NULL;
	ss->names = NULL;
	ss->n = 0;
}

/* Keeps every other snapshot but the first and the last. */
static void thin(struct session *ss)
{
	size_t i, k = 1;

	for (i = 1; i < ss->n; i++) {
		if (i % 2 && i != ss->n - 1) {
			muppy_snapshot_free(ss->snaps[i]);
			free(ss->names[i]);
			continue;
		}
		ss->snaps[k] = ss->snaps[i];
		ss->names[k++] = ss->names[i];
	}
	ss->n = k;
}

static int keep(struct session *ss, struct muppy_snapshot *s, char *name)
{
	if (ss->n == KEEP_MAX)
		thin(ss);
	if (!ss->snaps) {
		ss->snaps = calloc(KEEP_MAX, sizeof(*ss->snaps));
		ss->names = calloc(KEEP_MAX, sizeof(*ss->names));
		if (!ss->snaps || !ss->names)
			return -ENOMEM;
	}
	ss->snaps[ss->n] = s;
	ss->names[ss->n++] = name;
	return 0;
}

/*
 * --owners=auto: once there is a trend (three snapshots), each snapshot
 * asks who holds its top suspect; the name is copied into *name (freed
 * by the caller).  false: a plain snapshot.
 */
static bool auto_owners(struct session *ss, char **name)
{
	struct muppy_trend *t;
	bool ok = false;

	*name = NULL;
	if (!ss->w->owners_auto || ss->n < 3 ||
	    muppy_trend_compute((const struct muppy_snapshot *const *)
				ss->snaps, ss->n, &t) < 0)
		return false;
	if (t->nsuspects)
		ok = (*name = strdup(t->suspects[0].name)) != NULL;
	muppy_trend_free(t);
	return ok;
}

/* Takes one snapshot; *status gets the exit code of a failure. */
static int take(struct session *ss, struct muppy_snapshot **out,
		int *status)
{
	const struct cli_watch *w = ss->w;
	struct muppy_snap_opts o = w->snap;
	struct muppy_error err = { "" };
	struct muppy_snap_stats st;
	char *suspect;
	int r;

	if (auto_owners(ss, &suspect)) {
		o.owners = (const char *const *)&suspect;
		o.nowners = 1;
	}
	r = muppy_snap_take(ss->pid, &o, out, &st, &err);
	free(suspect);
	if (r == -EINTR)
		return r;
	if (r == -EAGAIN && mono_ns() < ss->ready_by_ns)
		return r; /* tried again: no message */
	if (r < 0) {
		if (ss->tty)
			fputs("\r\033[K", stdout);
		fflush(stdout);
		cli_error("%s", err.msg[0] ? err.msg : strerror(-r));
		*status = cli_exit_code(r);
		return r;
	}
	if (w->verbose)
		fprintf(stderr, "muppy-snap: pid %d: snapshot %lu: interpreter "
			"held %.1f ms, total %.1f ms\n", ss->pid,
			ss->taken + 1, st.hold_us / 1000.0,
			st.total_us / 1000.0);
	return 0;
}

/* -o DIR/ with --format=prometheus: the files of processes that are
 * gone are removed (snapcli.h). */
static void sweep_prom(const struct cli_watch *w)
{
	if (w->output && w->file == MUPPY_FORMAT_PROMETHEUS &&
	    cli_is_dir(w->output))
		cli_prom_sweep(w->output);
}

/* Writes the snapshot to -o; returns its name (the file, or a label). */
static char *store(struct session *ss, const struct muppy_snapshot *s,
		   int *status)
{
	const struct cli_watch *w = ss->w;
	struct muppy_print_opts po = { .format = w->file,
				       .labels = w->labels,
				       .nlabels = w->nlabels };
	char path[PATH_MAX], *name;

	if (w->file == MUPPY_FORMAT_PROMETHEUS)
		po.limit = w->limit_set ? w->limit : CLI_PROM_LIMIT;

	if (w->output) {
		if (cli_output_path(w->output, ss->pid, s->time_ms, w->file,
				    path, sizeof(path)) < 0) {
			cli_error("%s: file name too long", w->output);
			*status = MUPPY_EXIT_ERROR;
			return NULL;
		}
		*status = cli_print_snapshot(path, s, &po, w->sort);
		if (*status)
			return NULL;
		sweep_prom(w); /* a predecessor's file */
		if (w->file == MUPPY_FORMAT_SNAP)
			return strdup(path);
	}
	if (asprintf(&name, "snapshot %lu", ss->taken + 1) < 0)
		return NULL;
	return name;
}

static size_t diff_limit(const struct session *ss)
{
	const struct cli_watch *w = ss->w;
	size_t rows;

	if (w->limit_set)
		return w->limit;
	if (w->show != MUPPY_FORMAT_TABLE)
		return 0;
	if (!ss->tty)
		return DEFAULT_ROWS;
	rows = term_rows();
	return rows > MIN_ROWS + 10 ? rows - 10 : MIN_ROWS;
}

/* The title of a frame: on a terminal at the top, else a '#' line. */
static void frame_title(struct session *ss, const struct muppy_snapshot *s)
{
	const struct cli_watch *w = ss->w;
	char when[32], el[32], of[32] = "";

	muppy_time_format(when, sizeof(when), s->time_ms);
	format_elapsed(el, sizeof(el), mono_ns() - ss->t0_ns);
	if (w->count)
		snprintf(of, sizeof(of), " of %lu", w->count);
	if (ss->tty) {
		fputs("\033[H\033[J", stdout);
		printf("%smuppy-snap: pid %d every %.3g s, snapshot %lu%s at "
		       "%s, elapsed %s (Ctrl-C stops)%s\n\n",
		       ss->color ? "\033[1m" : "", ss->pid,
		       w->interval_ms / 1000.0, ss->taken, of, when, el,
		       ss->color ? "\033[0m" : "");
	} else if (w->show != MUPPY_FORMAT_JSON) {
		printf("# %s snapshot %lu%s of pid %d, elapsed %s\n", when,
		       ss->taken, of, ss->pid, el);
	}
}

static int print_frame(struct session *ss, const struct muppy_snapshot *old,
		       const struct muppy_snapshot *new, const char *old_name,
		       const char *new_name)
{
	struct muppy_print_opts po = { .format = ss->w->show,
				       .limit = diff_limit(ss),
				       .old_name = old_name,
				       .new_name = new_name };
	struct muppy_diff *d;
	int r;

	r = muppy_diff_compute(old, new, &d);
	if (r) {
		cli_perror(-r, "cannot compare the snapshots");
		return MUPPY_EXIT_ERROR;
	}
	muppy_diff_sort(d, ss->w->sort);
	frame_title(ss, new);
	r = muppy_diff_print(stdout, d, &po);
	muppy_diff_free(d);
	if (!r && ss->w->show == MUPPY_FORMAT_TABLE && !ss->tty)
		putchar('\n');
	if (r || fflush(stdout)) {
		cli_perror(r ? -r : errno, "write error");
		return MUPPY_EXIT_ERROR;
	}
	return MUPPY_EXIT_OK;
}

static void print_first(struct session *ss, const struct muppy_snapshot *s)
{
	char bytes[32];

	if (ss->w->show == MUPPY_FORMAT_JSON)
		return;
	frame_title(ss, s);
	muppy_human_bytes(bytes, sizeof(bytes), s->bytes);
	printf("%s%" PRIu64 " objects, %s in %zu types; changes show from the "
	       "next snapshot on\n\n", ss->w->show == MUPPY_FORMAT_TSV ?
	       "# " : "", s->objects, bytes, s->ntypes);
	fflush(stdout);
}

/*
 * Waits until deadline_ns; on a terminal says when the next snapshot
 * comes.  False when a signal asked to stop.
 */
static bool wait_until(struct session *ss, uint64_t deadline_ns,
		       volatile sig_atomic_t *stop)
{
	char el[32];

	while (!*stop) {
		uint64_t now = mono_ns(), step;
		struct timespec ts;

		if (now >= deadline_ns)
			break;
		step = deadline_ns - now;
		if (ss->tty) {
			format_elapsed(el, sizeof(el), now - ss->t0_ns);
			printf("\r\033[Knext snapshot in %" PRIu64 " s (elapsed "
			       "%s)", (step + 999999999u) / 1000000000u, el);
			fflush(stdout);
			step = step % 1000000000u ? step % 1000000000u :
			       1000000000u;
		}
		muppy_snap_reap(); /* threads left traced, now stopped */
		if (step > 250000000u)
			step = 250000000u;
		ts.tv_sec = (time_t)(step / 1000000000u);
		ts.tv_nsec = (long)(step % 1000000000u);
		nanosleep(&ts, NULL); /* EINTR: look at *stop again */
	}
	if (ss->tty)
		fputs("\r\033[K", stdout);
	return !*stop;
}

/* The summary: first vs last, and the trend from three snapshots on. */
static int summary(struct session *ss)
{
	const struct cli_watch *w = ss->w;
	struct muppy_print_opts po = { .format = w->show, .limit = 0 };
	struct muppy_trend *t;
	char el[32];
	int r;

	if (ss->n < 2)
		return MUPPY_EXIT_OK;
	format_elapsed(el, sizeof(el), mono_ns() - ss->t0_ns);
	if (w->show != MUPPY_FORMAT_JSON)
		printf("%s== session summary: %lu snapshots of pid %d, elapsed "
		       "%s ==\n", w->show == MUPPY_FORMAT_TSV ? "# " : "",
		       ss->taken, ss->pid, el);
	po.limit = w->limit_set ? w->limit :
		   w->show == MUPPY_FORMAT_TABLE ? DEFAULT_ROWS : 0;
	po.old_name = ss->names[0];
	po.new_name = ss->names[ss->n - 1];
	po.color = cli_use_color(STDOUT_FILENO, w->color);
	if (ss->n == 2 || w->show != MUPPY_FORMAT_JSON) {
		struct muppy_diff *d;

		r = muppy_diff_compute(ss->snaps[0], ss->snaps[ss->n - 1], &d);
		if (r)
			goto out_error;
		muppy_diff_sort(d, w->sort);
		r = muppy_diff_print(stdout, d, &po);
		muppy_diff_free(d);
		if (r)
			goto out_write;
	}
	if (ss->n >= 3) {
		if (w->show != MUPPY_FORMAT_JSON)
			printf("\n");
		r = muppy_trend_compute((const struct muppy_snapshot *const *)
					ss->snaps, ss->n, &t);
		if (r)
			goto out_error;
		muppy_trend_sort(t, w->sort);
		r = muppy_trend_print(stdout, t, &po,
				      (const char *const *)ss->names);
		muppy_trend_free(t);
		if (r)
			goto out_write;
	}
	return fflush(stdout) ? MUPPY_EXIT_ERROR : MUPPY_EXIT_OK;
out_error:
	cli_perror(-r, "cannot compare the snapshots");
	return MUPPY_EXIT_ERROR;
out_write:
	cli_perror(-r, "write error");
	return MUPPY_EXIT_ERROR;
}

/* --pidof/--pgrep: the one process found, or 0 after a message (none
 * when quiet). */
static int find_one(const struct cli_watch *w, int *status, bool quiet)
{
	int pids[2];
	int n = cli_find_pids(w->find, w->find_regex, w->uid, pids, 2);

	if (n == 1)
		return pids[0];
	*status = n == 0 ? MUPPY_EXIT_NOPROC : MUPPY_EXIT_USAGE;
	if (quiet)
		return 0;
	if (n < 0)
		cli_perror(-n, "%s", w->find);
	else if (n == 0 && w->user)
		cli_error("no process of user %s matches '%s'", w->user,
			  w->find);
	else if (n == 0)
		cli_error("no process matches '%s'", w->find);
	else
		cli_error("'%s' matches several processes (%d, %d%s); watch "
			  "mode follows one", w->find, pids[0], pids[1],
			  n > 2 ? ", ..." : "");
	return 0;
}

/* The target exited: with --pidof/--pgrep, follow its successor. */
static bool follow(struct session *ss, volatile sig_atomic_t *stop,
		   int *status)
{
	uint64_t grace = (uint64_t)ss->w->interval_ms * 1000000u * 3 +
			 3000000000u;
	uint64_t give_up = mono_ns() + grace;
	int old = ss->pid, pid = 0, st;
	bool said = false; /* why none was found: once an outage */

	if (!ss->w->find)
		return false;
	while (!*stop && mono_ns() < give_up) {
		pid = find_one(ss->w, &st, said);
		if (pid && pid != old)
			break;
		said = said || !pid;
		pid = 0;
		nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	}
	if (!pid)
		return false;
	cli_warn("pid %d exited; now watching pid %d (a new session)", old,
		 pid);
	*status = summary(ss);
	session_free(ss);
	ss->pid = pid;
	ss->taken = 0;
	ss->ready_by_ns = mono_ns() + grace;
	return *status == MUPPY_EXIT_OK;
}

int cli_watch_run(const struct cli_watch *w, volatile sig_atomic_t *stop)
{
	struct session ss = { .w = w, .pid = w->pid };
	const char *term = getenv("TERM");
	uint64_t next;
	int status = MUPPY_EXIT_OK;

	ss.tty = isatty(STDOUT_FILENO) && term && *term &&
		 strcmp(term, "dumb") != 0;
	ss.color = cli_use_color(STDOUT_FILENO, w->color);
	if (w->find && !(ss.pid = find_one(w, &status, false))) {
		sweep_prom(w);
		return status;
	}
	ss.t0_ns = mono_ns();
	next = ss.t0_ns;
	while (!*stop && (!w->count || ss.taken < w->count)) {
		struct muppy_snapshot *s;
		char *name;
		int r;

		if (ss.taken && !wait_until(&ss, next, stop))
			break;
		next += (uint64_t)w->interval_ms * 1000000u;
		if (next < mono_ns())
			next = mono_ns(); /* slower than the interval */
		r = take(&ss, &s, &status);
		if (r == -EINTR)
			break;
		if (r == -EAGAIN && mono_ns() < ss.ready_by_ns) {
			/* a followed process, its interpreter starting */
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
			next = mono_ns();
			continue;
		}
		if (r < 0) {
			if ((r == -ESRCH || r == -EOWNERDEAD) &&
			    follow(&ss, stop, &status)) {
				status = MUPPY_EXIT_OK;
				next = mono_ns();
				continue;
			}
			break;
		}
		ss.ready_by_ns = 0;
		name = store(&ss, s, &status);
		if (!name) {
			if (!status) {
				cli_error("%s", strerror(ENOMEM));
				status = MUPPY_EXIT_ERROR;
			}
			muppy_snapshot_free(s);
			break;
		}
		ss.taken++;
		if (ss.n == 0)
			print_first(&ss, s);
		else if ((status = print_frame(&ss, ss.snaps[ss.n - 1], s,
					       ss.names[ss.n - 1], name)))
			r = -EIO;
		if (keep(&ss, s, name) < 0) {
			muppy_snapshot_free(s);
			free(name);
			cli_error("%s", strerror(ENOMEM));
			status = MUPPY_EXIT_ERROR;
			break;
		}
		if (r)
			break;
	}
	if (ss.tty)
		putchar('\n');
	/* Also when the process exited: what was seen until then. */
	if (summary(&ss) && !status)
		status = MUPPY_EXIT_ERROR;
	sweep_prom(w); /* the process may be gone: its file with it */
	session_free(&ss);
	if (*stop && !status && *stop != SIGINT)
		status = 128 + *stop;
	return status;
}
