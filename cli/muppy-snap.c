/* SPDX-License-Identifier: MIT */
/*
 * muppy-snap: takes a heap summary of running CPython processes.
 * Options are parsed here; attaching, walking and printing are the
 * library's.  See muppy-snap(1).
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "muppy.h"

const char *argp_program_version = "muppy-snap " MUPPY_VERSION;
const char *argp_program_bug_address = "the muppy-snap issue tracker";

/* Rows a table shows unless --limit says otherwise. */
#define TABLE_LIMIT 25
#define MAX_PIDS 1024

enum { OPT_NO_GC = 0x100, OPT_PAYLOAD };

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0,
	  "Write the snapshot to FILE instead of standard output; {pid} "
	  "and strftime conversions such as %Y%m%dT%H%M%S are replaced", 0 },
	{ "format", 'f', "FORMAT", 0,
	  "table, snap (the snapshot file format), tsv or json; default: "
	  "table on a terminal, snap otherwise and with -o", 0 },
	{ "sort", 's', "KEY", 0,
	  "Order the types by KEY: size (bytes, the default), count or name",
	  0 },
	{ "limit", 'n', "N", 0,
	  "Show at most N types (default: 25 in a table, all otherwise); 0 "
	  "shows all", 0 },
	{ "no-gc", OPT_NO_GC, NULL, 0,
	  "Do not run a full garbage collection before the walk", 0 },
	{ "timeout", 't', "SECONDS", 0,
	  "Give up when the snapshot is not done after SECONDS (default 10)",
	  0 },
	{ "verbose", 'v', NULL, 0,
	  "Say on standard error where the time went", 0 },
	{ "payload", OPT_PAYLOAD, "FILE", OPTION_HIDDEN,
	  "The payload library to inject (for development)", 0 },
	{ 0 }
};

static const char doc[] =
	"Take a summary of the heap of running CPython processes: for each "
	"type, how many objects are alive and how many bytes they take "
	"(sys.getsizeof), without restarting or disturbing the process."
	"\v"
	"Exit status: 0 success, 1 error, 10 no such process, 11 permission "
	"denied, 12 not a supported CPython, 13 timed out, 14 the process "
	"exited during the snapshot, 15 the process is stopped, traced or "
	"busy, 64 usage error, 128+N killed by signal N.";

struct args {
	struct muppy_snap_opts snap;
	enum muppy_format format;
	bool format_set;
	enum muppy_sort sort;
	size_t limit;
	bool limit_set;
	bool verbose;
	const char *output;
	int pids[MAX_PIDS];
	size_t npids;
};

static bool parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return false;
	*pid = (int)v;
	return true;
}

static bool parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400)
		return false;
	*ms = (int)(v * 1000 + 0.5);
	return *ms > 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		break;
	case 'f':
		if (!cli_parse_format(arg, true, &a->format))
			argp_error(state, "invalid --format value '%s' "
				   "(expected table, snap, tsv or json)", arg);
		a->format_set = true;
		break;
	case 's':
		if (!cli_parse_sort(arg, &a->sort))
			argp_error(state, "invalid --sort value '%s' (expected "
				   "size, count or name)", arg);
		break;
	case 'n':
		if (!cli_parse_limit(arg, &a->limit))
			argp_error(state, "invalid --limit value '%s' (expected "
				   "a number of types, 0 for all)", arg);
		a->limit_set = true;
		break;
	case OPT_NO_GC:
		a->snap.gc = false;
		break;
	case 't':
		if (!parse_seconds(arg, &a->snap.timeout_ms))
			argp_error(state, "invalid --timeout value '%s' "
				   "(expected seconds, such as 10 or 0.5)", arg);
		break;
	case 'v':
		a->verbose = true;
		break;
	case OPT_PAYLOAD:
		a->snap.payload = arg;
		break;
	case ARGP_KEY_ARG:
		if (a->npids == MAX_PIDS)
			argp_error(state, "too many PIDs (at most %d)",
				   MAX_PIDS);
		if (!parse_pid(arg, &a->pids[a->npids++]))
			argp_error(state, "invalid PID '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (a->npids == 0)
			argp_error(state, "expects at least one PID");
		if (a->npids > 1 && a->output && !strstr(a->output, "{pid}"))
			argp_error(state, "with several PIDs, -o needs {pid} "
				   "in the file name");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_opt, "PID...", doc,
				  NULL, NULL, NULL };

/* The payload: $MUPPY_PAYLOAD, beside this program, or installed. */
static const char *find_payload(char *buf, size_t size)
{
	const char *env = getenv("MUPPY_PAYLOAD");
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", buf, size - 32);
	if (n > 0) {
		buf[n] = '\0';
		slash = strrchr(buf, '/');
		if (slash) {
			strcpy(slash + 1, "muppy-payload.so");
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	return MUPPY_PKGLIBDIR "/muppy-payload.so";
}

/* Replaces {pid} and strftime conversions of the -o template. */
static int output_name(const char *tmpl, int pid, const struct tm *tm,
		       char *buf, size_t size)
{
	char expanded[PATH_MAX];
	size_t n = 0;

	for (const char *p = tmpl; *p; p++) {
		if (!strncmp(p, "{pid}", 5)) {
			int w = snprintf(expanded + n, sizeof(expanded) - n,
					 "%d", pid);

			if (w < 0 || (size_t)w >= sizeof(expanded) - n)
				return -ENAMETOOLONG;
			n += (size_t)w;
			p += 4;
		} else if (n + 1 < sizeof(expanded)) {
			expanded[n++] = *p;
		} else {
			return -ENAMETOOLONG;
		}
	}
	expanded[n] = '\0';
	/* The template is the user's own format string, as for date(1). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(buf, size, expanded, tm) == 0 && *expanded)
		return -ENAMETOOLONG;
#pragma GCC diagnostic pop
	return 0;
}

static void report_stats(int pid, const struct muppy_snap_stats *st,
			 const struct muppy_snapshot *s)
{
	fprintf(stderr,
		"muppy-snap: pid %d: thread %d stopped %.3f ms; interpreter "
		"held %.1f ms (walk %.1f ms); payload memory %.1f KiB "
		"(%.2f B/object); total %.1f ms\n",
		pid, st->tid, st->stopped_us / 1000.0, st->hold_us / 1000.0,
		st->walk_us / 1000.0, st->mem_peak / 1024.0,
		s->objects ? (double)st->mem_peak / (double)s->objects : 0.0,
		st->total_us / 1000.0);
}

static int print_to(const char *path, const struct muppy_snapshot *s,
		    const struct muppy_print_opts *po, enum muppy_sort sort)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int r;

	if (!path) {
		r = muppy_snapshot_print(stdout, s, po, sort);
		if (r < 0) {
			cli_error("write error: %s", strerror(-r));
			return MUPPY_EXIT_ERROR;
		}
		return fflush(stdout) == 0 ? MUPPY_EXIT_OK : MUPPY_EXIT_ERROR;
	}
	/* Write beside, then rename: a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	f = fopen(tmp, "wex");
	if (!f) {
		cli_error("%s: %s", tmp, strerror(errno));
		return MUPPY_EXIT_ERROR;
	}
	r = muppy_snapshot_print(f, s, po, sort);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		cli_error("%s: %s", path, strerror(-r));
		return MUPPY_EXIT_ERROR;
	}
	return MUPPY_EXIT_OK;
}

static int snap_one(const struct args *a, int pid)
{
	struct muppy_print_opts po = { .format = a->format };
	struct muppy_snapshot *s = NULL;
	struct muppy_error err = { "" };
	struct muppy_snap_stats st;
	char path[PATH_MAX];
	struct tm tm;
	time_t now;
	int r;

	r = muppy_snap_take(pid, &a->snap, &s, &st, &err);
	if (r < 0) {
		cli_error("%s", err.msg[0] ? err.msg : strerror(-r));
		return muppy_exit_code(r);
	}
	if (a->verbose)
		report_stats(pid, &st, s);
	po.limit = a->limit_set ? a->limit :
		   a->format == MUPPY_FORMAT_TABLE ? TABLE_LIMIT : 0;
	if (a->output) {
		now = (time_t)(s->time_ms / 1000);
		localtime_r(&now, &tm);
		if (output_name(a->output, pid, &tm, path, sizeof(path)) < 0) {
			cli_error("%s: file name too long", a->output);
			r = MUPPY_EXIT_ERROR;
		} else {
			r = print_to(path, s, &po, a->sort);
		}
	} else {
		r = print_to(NULL, s, &po, a->sort);
	}
	muppy_snapshot_free(s);
	return r;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* Ctrl-C and friends interrupt waiting, never the target's restoring. */
static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	char payload[PATH_MAX];
	struct args a = {
		.snap = { .gc = true, .timeout_ms = 10000 },
		.sort = MUPPY_SORT_SIZE,
	};
	int status = MUPPY_EXIT_OK;

	if (argc > 0)
		argv[0] = program_invocation_short_name;
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (!a.format_set)
		a.format = !a.output && isatty(STDOUT_FILENO)
			   ? MUPPY_FORMAT_TABLE : MUPPY_FORMAT_SNAP;
	if (a.npids > 1 && !a.output && a.format != MUPPY_FORMAT_TABLE) {
		cli_error("with several PIDs, use -o FILE with {pid} or "
			  "--format=table");
		return MUPPY_EXIT_USAGE;
	}
	if (!a.snap.payload)
		a.snap.payload = find_payload(payload, sizeof(payload));
	catch_signals();

	for (size_t i = 0; i < a.npids && !got_signal; i++) {
		int r;

		if (i > 0 && !a.output)
			putchar('\n');
		r = snap_one(&a, a.pids[i]);
		if (r && !status)
			status = r;
	}
	if (got_signal)
		return 128 + got_signal;
	return status;
}
