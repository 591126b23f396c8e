/* SPDX-License-Identifier: MIT */
/*
 * muppy-diff: compares two heap snapshots and prints the change per type,
 * or, given three or more, the trend of each type and the leak suspects.
 * Options are parsed here; loading, comparing and printing are the
 * library's.  See muppy-diff(1).
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "muppy.h"

const char *argp_program_version = "muppy-diff " MUPPY_VERSION;
const char *argp_program_bug_address = "the muppy-snap issue tracker";

/* Rows a table shows unless --limit says otherwise. */
#define TABLE_LIMIT 20
/* Types an SVG chart draws unless --limit says otherwise. */
#define SVG_LIMIT 8

enum { OPT_FAIL_ON_GROWTH = 0x100, OPT_FAIL_ON_SUSPECTS, OPT_COLOR };

static const struct argp_option options[] = {
	{ "sort", 's', "KEY", 0,
	  "Order the types by KEY: size (absolute byte change, the "
	  "default), count (absolute object change) or name", 0 },
	{ "limit", 'n', "N", 0,
	  "Show at most N types (default: 20 in a table, all in tsv and "
	  "json); 0 shows all", 0 },
	{ "format", 'f', "FORMAT", 0,
	  "Print a table (the default), tsv or json; with three or more "
	  "files also svg (a chart of the top types over time)", 0 },
	{ "fail-on-growth", OPT_FAIL_ON_GROWTH, "SIZE", 0,
	  "After printing, exit with status 3 when the total bytes grew by "
	  "more than SIZE (bytes, or with a k, M or G suffix: 1k = 1024) "
	  "from the first snapshot to the last", 0 },
	{ "fail-on-suspects", OPT_FAIL_ON_SUSPECTS, NULL, 0,
	  "With three or more files: after printing, exit with status 4 "
	  "when there are leak suspects", 0 },
	{ "color", OPT_COLOR, "WHEN", 0,
	  "Color leak suspects: auto (the default: on a terminal, unless "
	  "NO_COLOR is set), always or never", 0 },
	{ 0 }
};

/* --help's text; the exit codes follow (cli_doc()). */
static const char doc[] =
	"Compare two heap snapshots of CPython processes (files written by "
	"muppy-snap) and print how the number of objects and their bytes "
	"changed per type, largest change first.  Given three or more, "
	"print the trend: per type the series, the growth per minute and "
	"the leak suspects, types that grew steadily, and the muppy-snap "
	"--owners command that shows who holds the top suspect.  Snapshots "
	"taken with --owners add who holds those types: the change per "
	"holder between two, the largest holders of a suspect in the last "
	"of a trend.  A FILE of - is standard input.";

struct args {
	enum muppy_sort sort;
	enum muppy_format format;
	size_t limit;
	bool limit_set;
	const char *growth_arg; /* NULL: no --fail-on-growth */
	uint64_t growth;
	bool fail_on_suspects;
	int color;
	char **files;
	size_t nfiles;
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;

	switch (key) {
	case 's':
		cli_opt_sort(state, arg, &a->sort);
		break;
	case 'n':
		cli_opt_limit(state, arg, &a->limit);
		a->limit_set = true;
		break;
	case 'f':
		if (!cli_parse_format(arg, CLI_FMT(MUPPY_FORMAT_TABLE) |
				      CLI_FMT(MUPPY_FORMAT_TSV) |
				      CLI_FMT(MUPPY_FORMAT_JSON) |
				      CLI_FMT(MUPPY_FORMAT_SVG), &a->format))
			argp_error(state, "invalid --format value '%s' "
				   "(expected table, tsv, json or svg)", arg);
		break;
	case OPT_FAIL_ON_SUSPECTS:
		a->fail_on_suspects = true;
		break;
	case OPT_COLOR:
		if (!cli_parse_color(arg, &a->color))
			argp_error(state, "invalid --color value '%s' (expected "
				   "auto, always or never)", arg);
		break;
	case OPT_FAIL_ON_GROWTH:
		if (muppy_parse_size(arg, &a->growth))
			argp_error(state, "invalid --fail-on-growth value '%s' "
				   "(expected a size such as 512k or 10M)", arg);
		a->growth_arg = arg;
		break;
	case ARGP_KEY_ARGS:
		a->files = state->argv + state->next;
		a->nfiles = (size_t)(state->argc - state->next);
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		/* Two files are a diff, three or more a trend. */
		if (a->nfiles < 2)
			argp_error(state, "expects two snapshot files, OLD and "
				   "NEW, or three or more for a trend (got %zu)",
				   a->nfiles);
		if (a->nfiles == 2 && a->fail_on_suspects)
			argp_error(state, "--fail-on-suspects needs three or "
				   "more snapshot files");
		if (a->nfiles == 2 && a->format == MUPPY_FORMAT_SVG)
			argp_error(state, "--format=svg needs three or more "
				   "snapshot files");
		for (size_t i = 0, dash = 0; i < a->nfiles; i++)
			if (!strcmp(a->files[i], "-") && ++dash > 1)
				argp_error(state, "only one snapshot file can be "
					   "- (standard input)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct argp argp = { options, parse_opt,
				  "OLD NEW\nS1 S2 S3...", doc, NULL, NULL,
				  NULL };

/* One line on stderr for each reason the comparison may mislead. */
static void warn_mismatch(const struct muppy_snapshot *old,
			  const struct muppy_snapshot *new)
{
	char t_old[32], t_new[32];

	if (old->pid != new->pid)
		cli_warn("snapshots are of different processes (pid %" PRId64
			 " vs %" PRId64 ")", old->pid, new->pid);
	if (strcmp(old->executable, new->executable))
		cli_warn("snapshots are of different executables (%s vs %s)",
			 old->executable, new->executable);
	if (new->time_ms < old->time_ms) {
		muppy_time_format(t_old, sizeof(t_old), old->time_ms);
		muppy_time_format(t_new, sizeof(t_new), new->time_ms);
		cli_warn("NEW was captured before OLD (%s vs %s); are the "
			 "files swapped?", t_new, t_old);
	}
}

/*
 * One line for each side that has owners (muppy-snap --owners) of a type
 * the other has not: there is no change per holder to show for it.
 */
static void warn_owners(const struct muppy_snapshot *old,
			const struct muppy_snapshot *new)
{
	const struct muppy_snapshot *side[2] = { old, new }, *other;
	const char *name[2] = { "OLD", "NEW" };
	size_t i, k;

	for (k = 0; k < 2; k++) {
		other = side[1 - k];
		if (!side[k]->nowners)
			continue;
		if (!other->nowners) {
			cli_warn("only %s has owners (muppy-snap --owners): no "
				 "holders to compare", name[k]);
			continue;
		}
		for (i = 0; i < side[k]->nowners; i++)
			if (!muppy_snapshot_owners(other, side[k]->owners[i].type))
				cli_warn("only %s has owners of %s: no holders to "
					 "compare for it", name[k],
					 side[k]->owners[i].type);
	}
}

/* MUPPY_EXIT_GROWTH after a message when --fail-on-growth is exceeded. */
static int check_growth(const struct args *a, const struct muppy_diff *d)
{
	char grew[32];

	if (!a->growth_arg || d->d_bytes <= 0 ||
	    (uint64_t)d->d_bytes <= a->growth)
		return MUPPY_EXIT_OK;
	muppy_human_delta(grew, sizeof(grew), d->d_bytes);
	cli_error("total bytes grew by %s (%" PRId64 " bytes), more than "
		  "--fail-on-growth=%s (%" PRIu64 " bytes)", grew, d->d_bytes,
		  a->growth_arg, a->growth);
	return MUPPY_EXIT_GROWTH;
}

static int diff_two(const struct args *a)
{
	struct muppy_snapshot *old = NULL, *new = NULL;
	struct muppy_print_opts po = { 0 };
	struct muppy_diff *d;
	int rc, status;

	status = cli_load_snapshot(a->files[0], &old);
	if (status)
		return status;
	status = cli_load_snapshot(a->files[1], &new);
	if (status)
		goto out_free_old;
	warn_mismatch(old, new);
	warn_owners(old, new);

	rc = muppy_diff_compute(old, new, &d);
	if (rc) {
		cli_perror(-rc, "cannot compare %s with %s", a->files[0],
			   a->files[1]);
		status = MUPPY_EXIT_ERROR;
		goto out_free_new;
	}
	muppy_diff_sort(d, a->sort);
	po.format = a->format;
	po.limit = a->limit_set ? a->limit :
		   a->format == MUPPY_FORMAT_TABLE ? TABLE_LIMIT : 0;
	po.old_name = a->files[0];
	po.new_name = a->files[1];
	rc = muppy_diff_print(stdout, d, &po);
	if (rc) {
		cli_perror(-rc, "write error");
		status = MUPPY_EXIT_ERROR;
		goto out_free_diff;
	}
	status = cli_close_stdout();
	if (!status)
		status = check_growth(a, d);

out_free_diff:
	muppy_diff_free(d);
out_free_new:
	muppy_snapshot_free(new);
out_free_old:
	muppy_snapshot_free(old);
	return status;
}

/* Warns once when the series mixes processes or executables. */
static void warn_series(const struct muppy_trend *t)
{
	size_t i;

	for (i = 1; i < t->n; i++) {
		if (t->snaps[i]->pid != t->snaps[0]->pid) {
			cli_warn("snapshots are of different processes (pid %"
				 PRId64 " and %" PRId64 "); did it restart?",
				 t->snaps[0]->pid, t->snaps[i]->pid);
			break;
		}
	}
	for (i = 1; i < t->n; i++) {
		if (strcmp(t->snaps[i]->executable, t->snaps[0]->executable)) {
			cli_warn("snapshots are of different executables (%s "
				 "and %s)", t->snaps[0]->executable,
				 t->snaps[i]->executable);
			break;
		}
	}
}

/* The verdicts of --fail-on-growth and --fail-on-suspects; 4 wins. */
static int check_trend(const struct args *a, const struct muppy_trend *t)
{
	char grew[32];
	int status = MUPPY_EXIT_OK;

	if (a->growth_arg && t->total.d_bytes > 0 &&
	    (uint64_t)t->total.d_bytes > a->growth) {
		muppy_human_delta(grew, sizeof(grew), t->total.d_bytes);
		cli_error("total bytes grew by %s (%" PRId64 " bytes) from the "
			  "first snapshot to the last, more than "
			  "--fail-on-growth=%s (%" PRIu64 " bytes)", grew,
			  t->total.d_bytes, a->growth_arg, a->growth);
		status = MUPPY_EXIT_GROWTH;
	}
	if (a->fail_on_suspects && t->nsuspects) {
		cli_error("%zu leak suspect%s, the first %s", t->nsuspects,
			  t->nsuspects == 1 ? "" : "s", t->suspects[0].name);
		status = MUPPY_EXIT_SUSPECTS;
	}
	return status;
}

static int trend(const struct args *a)
{
	struct muppy_snapshot **snaps;
	struct muppy_print_opts po = { 0 };
	struct muppy_trend *t = NULL;
	size_t i, loaded = 0;
	int rc, status = MUPPY_EXIT_OK;

	snaps = calloc(a->nfiles, sizeof(*snaps));
	if (!snaps) {
		cli_error("%s", strerror(ENOMEM));
		return MUPPY_EXIT_ERROR;
	}
	for (; loaded < a->nfiles && !status; loaded++)
		status = cli_load_snapshot(a->files[loaded], &snaps[loaded]);
	if (status)
		goto out_free;
	rc = muppy_trend_compute((const struct muppy_snapshot *const *)snaps,
				 a->nfiles, &t);
	if (rc) {
		cli_perror(-rc, "cannot compare the snapshots");
		status = MUPPY_EXIT_ERROR;
		goto out_free;
	}
	warn_series(t);
	muppy_trend_sort(t, a->sort);
	po.format = a->format;
	po.limit = a->limit_set ? a->limit :
		   a->format == MUPPY_FORMAT_TABLE ? TABLE_LIMIT :
		   a->format == MUPPY_FORMAT_SVG ? SVG_LIMIT : 0;
	po.color = a->format == MUPPY_FORMAT_TABLE &&
		   cli_use_color(STDOUT_FILENO, a->color);
	rc = muppy_trend_print(stdout, t, &po,
			       (const char *const *)a->files);
	if (rc) {
		cli_perror(-rc, "write error");
		status = MUPPY_EXIT_ERROR;
		goto out_free;
	}
	status = cli_close_stdout();
	if (!status)
		status = check_trend(a, t);
out_free:
	muppy_trend_free(t);
	for (i = 0; i < loaded; i++)
		muppy_snapshot_free(snaps[i]);
	free(snaps);
	return status;
}

int main(int argc, char **argv)
{
	struct args a = { .sort = MUPPY_SORT_SIZE,
			  .format = MUPPY_FORMAT_TABLE, .color = -1 };

	/* getopt names argv[0] in its messages; say muppy-diff like the rest. */
	if (argc > 0)
		argv[0] = program_invocation_short_name;
	argp.doc = cli_doc(doc, CLI_DIFF);
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	return a.nfiles == 2 ? diff_two(&a) : trend(&a);
}
