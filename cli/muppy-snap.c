/* SPDX-License-Identifier: MIT */
/*
 * muppy-snap: takes a heap summary of running CPython processes, once or
 * every --interval (watch.c).  Options are parsed here; attaching,
 * walking and printing are the library's.  See muppy-snap(1).
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
#include "snapcli.h"

const char *argp_program_version = "muppy-snap " MUPPY_VERSION;
const char *argp_program_bug_address = "the muppy-snap issue tracker";

/* Rows a table shows unless --limit says otherwise. */
#define TABLE_LIMIT 25
#define MAX_PIDS 1024

enum { OPT_NO_GC = 0x100, OPT_PAYLOAD, OPT_PIDOF, OPT_COLOR, OPT_OWNERS,
       OPT_PATHS, OPT_LABEL };

/* --owners=auto: this many types */
#define AUTO_OWNERS 3

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0,
	  "Write the snapshot to FILE instead of standard output; {pid}, "
	  "{ms} and strftime conversions such as %Y%m%dT%H%M%S are "
	  "replaced; a directory gets DIR/{pid}-%Y%m%dT%H%M%S.{ms}.snap", 0 },
	{ "format", 'f', "FORMAT", 0,
	  "table, snap (the snapshot file format), tsv, json or prometheus "
	  "(OpenMetrics text for node_exporter); default: table on a "
	  "terminal, snap otherwise and with -o", 0 },
	{ "label", OPT_LABEL, "NAME=VALUE", 0,
	  "With --format=prometheus: add the label NAME=VALUE to every "
	  "series (such as job=web); may be repeated", 0 },
	{ "pidof", OPT_PIDOF, "NAME", 0,
	  "Snapshot the processes called NAME (the program, or the last part "
	  "of a word of the command line, such as app.py)", 0 },
	{ "pgrep", 'p', "PATTERN", 0,
	  "Snapshot the processes whose command line matches the extended "
	  "regular expression PATTERN, as pgrep -f", 0 },
	{ "user", 'u', "USER", 0,
	  "With --pidof or --pgrep: only processes whose effective user is "
	  "USER (a name or a number), as pgrep -u", 0 },
	{ "interval", 'i', "SECONDS", 0,
	  "Watch mode: a snapshot every SECONDS, printing what changed since "
	  "the previous one, until Ctrl-C or --count; then the summary of "
	  "the session", 0 },
	{ "count", 'c', "N", 0,
	  "Watch mode: stop after N snapshots", 0 },
	{ "color", OPT_COLOR, "WHEN", 0,
	  "Color in watch mode: auto (the default: on a terminal, unless "
	  "NO_COLOR is set), always or never", 0 },
	{ "sort", 's', "KEY", 0,
	  "Order the types by KEY: size (bytes, the default), count or name",
	  0 },
	{ "limit", 'n', "N", 0,
	  "Show at most N types (default: 25 in a table, all otherwise); 0 "
	  "shows all", 0 },
	{ "owners", OPT_OWNERS, "TYPE[,TYPE...]", 0,
	  "Also find who holds the objects of each TYPE (named as the rows "
	  "name it, such as __main__.Session), and the shortest paths from "
	  "a module to a few of them; auto: the 3 largest types that are "
	  "neither built in nor of the standard library", 0 },
	{ "paths", OPT_PATHS, "N", 0,
	  "With --owners: N sample paths a type (default 3, at most 100)", 0 },
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

/* --help's text; the exit codes follow (cli_doc()). */
static const char doc[] =
	"Take a summary of the heap of running CPython processes: for each "
	"type, how many objects are alive and how many bytes they take "
	"(sys.getsizeof), without restarting or disturbing the process.  "
	"With --interval, watch one process and print what changes.";

struct args {
	struct muppy_snap_opts snap;
	enum muppy_format format;
	bool format_set;
	enum muppy_sort sort;
	size_t limit;
	bool limit_set;
	bool verbose;
	const char *output;
	const char *find;   /* --pidof or --pgrep */
	bool find_regex;
	const char *user;   /* --user, or NULL */
	uid_t uid;          /* its uid, or CLI_ANY_UID */
	int interval_ms;    /* 0: no watch mode */
	unsigned long count;
	int color;
	int pids[MAX_PIDS];
	size_t npids;
	struct cli_owners owners;
	struct muppy_label labels[CLI_LABELS_MAX];
	size_t nlabels;
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

/* --label NAME=VALUE: a label name of Prometheus, none of muppy's own,
 * each once. */
static void parse_label(struct argp_state *state, struct args *a,
			char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq)
		argp_error(state, "invalid --label value '%s' (expected "
			   "NAME=VALUE)", arg);
	*eq = '\0';
	if (!muppy_prom_label_ok(arg, ""))
		argp_error(state, "invalid --label name '%s' (expected a "
			   "Prometheus label name, [a-zA-Z_][a-zA-Z0-9_]* not "
			   "starting with __, other than muppy-snap's own: pid, "
			   "program, type, implementation, version, "
			   "executable)", arg);
	if (!muppy_prom_label_ok("x", eq + 1))
		argp_error(state, "--label %s: the value is not UTF-8", arg);
	for (size_t i = 0; i < a->nlabels; i++)
		if (!strcmp(a->labels[i].name, arg))
			argp_error(state, "--label %s given twice", arg);
	if (a->nlabels == CLI_LABELS_MAX)
		argp_error(state, "too many --label options (at most %d)",
			   CLI_LABELS_MAX);
	a->labels[a->nlabels++] = (struct muppy_label){ arg, eq + 1 };
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		break;
	case 'f':
		if (!cli_parse_format(arg, ~CLI_FMT(MUPPY_FORMAT_SVG),
				      &a->format))
			argp_error(state, "invalid --format value '%s' "
				   "(expected table, snap, tsv, json or "
				   "prometheus)", arg);
		a->format_set = true;
		break;
	case OPT_LABEL:
		parse_label(state, a, arg);
		break;
	case OPT_PIDOF:
	case 'p':
		if (a->find)
			argp_error(state, "--pidof and --pgrep may be given "
				   "once");
		a->find = arg;
		a->find_regex = key == 'p';
		break;
	case 'u':
		if (!cli_parse_user(arg, &a->uid))
			argp_error(state, "unknown user '%s' (expected a user "
				   "name or number)", arg);
		a->user = arg;
		break;
	case 'i':
		if (!parse_seconds(arg, &a->interval_ms))
			argp_error(state, "invalid --interval value '%s' "
				   "(expected seconds, such as 60 or 0.5)", arg);
		break;
	case 'c': {
		size_t n;

		if (!cli_parse_limit(arg, &n) || n == 0 || n > ULONG_MAX)
			argp_error(state, "invalid --count value '%s' (expected "
				   "a number of snapshots, at least 1)", arg);
		a->count = n;
		break;
	}
	case OPT_COLOR:
		if (!cli_parse_color(arg, &a->color))
			argp_error(state, "invalid --color value '%s' (expected "
				   "auto, always or never)", arg);
		break;
	case 's':
		cli_opt_sort(state, arg, &a->sort);
		break;
	case 'n':
		cli_opt_limit(state, arg, &a->limit);
		a->limit_set = true;
		break;
	case OPT_OWNERS:
		if (a->owners.n || a->owners.automatic ||
		    cli_parse_owners(arg, &a->owners) < 0)
			argp_error(state, "invalid --owners value (expected "
				   "auto, or 1 to %d type names, none empty, "
				   "separated by commas, given once)",
				   MUPPY_OWNERS_MAX);
		for (size_t i = 0; i < a->owners.n; i++)
			if (!muppy_is_escaped(a->owners.names[i],
					      strlen(a->owners.names[i])))
				argp_error(state, "invalid --owners type '%s' "
					   "(expected a name as snapshots write "
					   "it, escaped)", a->owners.names[i]);
		/* escaped names are canonical: one spelling a type */
		for (size_t i = 0; i < a->owners.n; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(a->owners.names[i],
					    a->owners.names[j]))
					argp_error(state, "invalid --owners "
						   "value: '%s' named twice",
						   a->owners.names[i]);
		a->snap.owners = a->owners.names;
		a->snap.nowners = a->owners.n;
		break;
	case OPT_PATHS: {
		size_t n;

		if (!cli_parse_limit(arg, &n) || n > 100)
			argp_error(state, "invalid --paths value '%s' (expected "
				   "0 to 100)", arg);
		a->snap.paths = (unsigned)n;
		break;
	}
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
		if (a->npids == 0 && !a->find)
			argp_error(state, "expects at least one PID");
		if (a->npids && a->find)
			argp_error(state, "give PIDs or --pidof/--pgrep, not "
				   "both");
		if (a->user && !a->find)
			argp_error(state, "--user goes with --pidof or "
				   "--pgrep");
		if (a->npids > 1 && a->output && !strstr(a->output, "{pid}") &&
		    !cli_is_dir(a->output))
			argp_error(state, "with several PIDs, -o needs {pid} "
				   "in the file name");
		if (a->nlabels && a->format != MUPPY_FORMAT_PROMETHEUS)
			argp_error(state, "--label goes with "
				   "--format=prometheus");
		if (a->count && !a->interval_ms)
			argp_error(state, "--count needs --interval");
		if (a->interval_ms && a->npids > 1)
			argp_error(state, "--interval watches one process (got "
				   "%zu PIDs)", a->npids);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct argp argp = { options, parse_opt,
				  "PID...\n--pidof=NAME [--user=USER]\n"
				  "--interval=SECONDS PID",
				  doc, NULL, NULL, NULL };

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

static void report_stats(int pid, const struct muppy_snap_stats *st,
			 const struct muppy_snapshot *s)
{
	fprintf(stderr,
		"muppy-snap: pid %d: thread %d stopped %.3f ms%s; interpreter "
		"held %.1f ms (walk %.1f ms); payload memory %.1f KiB "
		"(%.2f B/object); total %.1f ms\n",
		pid, st->tid, st->stopped_us / 1000.0,
		st->here ? " (it held the GIL: the walk ran on it)" : "",
		st->hold_us / 1000.0,
		st->walk_us / 1000.0, st->mem_peak / 1024.0,
		s->objects ? (double)st->mem_peak / (double)s->objects : 0.0,
		st->total_us / 1000.0);
}

/*
 * --owners=auto: a plain snapshot first, then one asking for its largest
 * types of the program; the same as muppy_snap_take() otherwise.
 */
static int take_auto(int pid, const struct muppy_snap_opts *o,
		     struct muppy_snapshot **s, struct muppy_snap_stats *st,
		     struct muppy_error *err)
{
	struct muppy_snap_opts plain = *o;
	char *names[AUTO_OWNERS];
	size_t n;
	int r;

	plain.nowners = 0;
	r = muppy_snap_take(pid, &plain, s, st, err);
	if (r < 0)
		return r;
	n = cli_owners_pick(*s, names, AUTO_OWNERS);
	if (n == 0)
		return 0; /* none of the program's own: the plain one */
	muppy_snapshot_free(*s);
	*s = NULL;
	plain.owners = (const char *const *)names;
	plain.nowners = n;
	r = muppy_snap_take(pid, &plain, s, st, err);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}

static int snap_one(const struct args *a, int pid)
{
	struct muppy_print_opts po = { .format = a->format,
				       .labels = a->labels,
				       .nlabels = a->nlabels };
	struct muppy_snapshot *s = NULL;
	struct muppy_error err = { "" };
	struct muppy_snap_stats st;
	char path[PATH_MAX];
	int r;

	r = a->owners.automatic ? take_auto(pid, &a->snap, &s, &st, &err) :
	    muppy_snap_take(pid, &a->snap, &s, &st, &err);
	if (r < 0) {
		cli_error("%s", err.msg[0] ? err.msg : strerror(-r));
		return cli_exit_code(r);
	}
	if (a->verbose)
		report_stats(pid, &st, s);
	po.limit = a->limit_set ? a->limit :
		   a->format == MUPPY_FORMAT_TABLE ? TABLE_LIMIT :
		   a->format == MUPPY_FORMAT_PROMETHEUS ? CLI_PROM_LIMIT : 0;
	if (a->output) {
		if (cli_output_path(a->output, pid, s->time_ms, a->format,
				    path, sizeof(path)) < 0) {
			cli_error("%s: file name too long", a->output);
			r = MUPPY_EXIT_ERROR;
		} else {
			r = cli_print_snapshot(path, s, &po, a->sort);
		}
	} else {
		r = cli_print_snapshot(NULL, s, &po, a->sort);
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

/* Watch mode: the options for watch.c. */
static int watch(const struct args *a)
{
	struct cli_watch w = {
		.pid = a->npids ? a->pids[0] : 0,
		.find = a->find,
		.find_regex = a->find_regex,
		.user = a->user,
		.uid = a->uid,
		.snap = a->snap,
		.owners_auto = a->owners.automatic,
		.interval_ms = a->interval_ms,
		.count = a->count,
		.output = a->output,
		.show = MUPPY_FORMAT_TABLE,
		.file = MUPPY_FORMAT_SNAP,
		.sort = a->sort,
		.limit = a->limit,
		.limit_set = a->limit_set,
		.color = a->color,
		.verbose = a->verbose,
		.labels = a->labels,
		.nlabels = a->nlabels,
	};

	if (a->format_set && (a->format == MUPPY_FORMAT_TSV ||
			      a->format == MUPPY_FORMAT_JSON))
		w.show = a->format;
	if (a->format_set && a->format == MUPPY_FORMAT_PROMETHEUS) {
		if (!a->output) {
			cli_error("--interval with --format=prometheus needs "
				  "-o FILE");
			return MUPPY_EXIT_USAGE;
		}
		w.file = MUPPY_FORMAT_PROMETHEUS;
	}
	return cli_watch_run(&w, &got_signal);
}

/* --pidof/--pgrep without watch mode: every process found. */
static int find_pids(struct args *a)
{
	int n = cli_find_pids(a->find, a->find_regex, a->uid, a->pids,
			      MAX_PIDS);

	if (n < 0) {
		cli_error("%s: %s", a->find, n == -EINVAL ?
			  "not a valid extended regular expression" :
			  strerror(-n));
		return n == -EINVAL ? MUPPY_EXIT_USAGE : MUPPY_EXIT_ERROR;
	}
	if (n == 0) {
		if (a->user)
			cli_error("no process of user %s matches '%s'", a->user,
				  a->find);
		else
			cli_error("no process matches '%s'", a->find);
		return MUPPY_EXIT_NOPROC;
	}
	a->npids = (size_t)n < MAX_PIDS ? (size_t)n : MAX_PIDS;
	if (a->npids > 1 && a->output && !strstr(a->output, "{pid}") &&
	    !cli_is_dir(a->output)) {
		cli_error("'%s' matches %zu processes; -o needs {pid} in the "
			  "file name", a->find, a->npids);
		return MUPPY_EXIT_USAGE;
	}
	return MUPPY_EXIT_OK;
}

/* The files of -o DIR/'s naming whose processes are gone: not scraped
 * for ever. */
static void sweep_prom(const struct args *a)
{
	if (a->output && a->format == MUPPY_FORMAT_PROMETHEUS &&
	    cli_is_dir(a->output))
		cli_prom_sweep(a->output);
}

int main(int argc, char **argv)
{
	char payload[PATH_MAX];
	struct args a = {
		.snap = { .gc = true, .timeout_ms = 10000, .paths = 3 },
		.sort = MUPPY_SORT_SIZE,
		.color = -1,
		.uid = CLI_ANY_UID,
	};
	int status = MUPPY_EXIT_OK;

	if (argc > 0)
		argv[0] = program_invocation_short_name;
	argp.doc = cli_doc(doc, CLI_SNAP);
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (!a.snap.payload)
		a.snap.payload = find_payload(payload, sizeof(payload));
	if (a.output && (status = cli_output_check(a.output, a.format)))
		return status;
	if (a.interval_ms) {
		catch_signals();
		return watch(&a);
	}
	if (a.find && (status = find_pids(&a))) {
		/* none left: the files of those that were are stale */
		if (status == MUPPY_EXIT_NOPROC)
			sweep_prom(&a);
		return status;
	}
	if (!a.format_set)
		a.format = !a.output && isatty(STDOUT_FILENO)
			   ? MUPPY_FORMAT_TABLE : MUPPY_FORMAT_SNAP;
	if (a.npids > 1 && !a.output && a.format != MUPPY_FORMAT_TABLE) {
		cli_error("with several PIDs, use -o FILE with {pid} or "
			  "--format=table");
		return MUPPY_EXIT_USAGE;
	}
	catch_signals();

	for (size_t i = 0; i < a.npids && !got_signal; i++) {
		int r;

		if (i > 0 && !a.output)
			putchar('\n');
		r = snap_one(&a, a.pids[i]);
		if (r > status) /* each on its own; the worst status */
			status = r;
	}
	sweep_prom(&a);
	if (got_signal)
		return 128 + got_signal;
	return status;
}
