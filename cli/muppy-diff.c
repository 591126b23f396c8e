/* SPDX-License-Identifier: MIT */
/*
 * muppy-diff: compares two heap snapshots and prints the change per type.
 * Options are parsed here; loading, comparing and printing are the
 * library's.  See muppy-diff(1).
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "muppy.h"

const char *argp_program_version = "muppy-diff " MUPPY_VERSION;
const char *argp_program_bug_address = "the muppy-snap issue tracker";

/* Rows a table shows unless --limit says otherwise. */
#define TABLE_LIMIT 20

enum { OPT_FAIL_ON_GROWTH = 0x100 };

static const struct argp_option options[] = {
	{ "sort", 's', "KEY", 0,
	  "Order the types by KEY: size (absolute byte change, the "
	  "default), count (absolute object change) or name", 0 },
	{ "limit", 'n', "N", 0,
	  "Show at most N types (default: 20 in a table, all in tsv and "
	  "json); 0 shows all", 0 },
	{ "format", 'f', "FORMAT", 0,
	  "Print a table (the default), tsv or json", 0 },
	{ "fail-on-growth", OPT_FAIL_ON_GROWTH, "SIZE", 0,
	  "After printing, exit with status 3 when the total bytes grew by "
	  "more than SIZE (bytes, or with a k, M or G suffix: 1k = 1024)", 0 },
	{ 0 }
};

static const char doc[] =
	"Compare two heap snapshots of CPython processes (files written by "
	"muppy-snap) and print how the number of objects and their bytes "
	"changed per type, largest change first.  A FILE of - is standard "
	"input."
	"\v"
	"Exit status: 0 success, 1 error (output, memory), 2 a snapshot file "
	"is missing, unreadable or malformed, 3 the heap grew by more than "
	"--fail-on-growth, 64 usage error.";

struct args {
	enum muppy_sort sort;
	enum muppy_format format;
	size_t limit;
	bool limit_set;
	const char *growth_arg; /* NULL: no --fail-on-growth */
	uint64_t growth;
	char **files;
	size_t nfiles;
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;

	switch (key) {
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
	case 'f':
		if (!cli_parse_format(arg, false, &a->format))
			argp_error(state, "invalid --format value '%s' "
				   "(expected table, tsv or json)", arg);
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
		/* Three or more files will be a trend; two are a diff. */
		if (a->nfiles != 2)
			argp_error(state, "expects two snapshot files, OLD and "
				   "NEW (got %zu)", a->nfiles);
		if (!strcmp(a->files[0], "-") && !strcmp(a->files[1], "-"))
			argp_error(state, "only one snapshot file can be - "
				   "(standard input)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_opt, "OLD NEW", doc,
				  NULL, NULL, NULL };

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

	rc = muppy_diff_compute(old, new, &d);
	if (rc) {
		cli_error("cannot compare %s with %s: %s", a->files[0],
			  a->files[1], strerror(-rc));
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
		cli_error("write error: %s", strerror(-rc));
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

int main(int argc, char **argv)
{
	struct args a = { .sort = MUPPY_SORT_SIZE,
			  .format = MUPPY_FORMAT_TABLE };

	/* getopt names argv[0] in its messages; say muppy-diff like the rest. */
	if (argc > 0)
		argv[0] = program_invocation_short_name;
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	return diff_two(&a);
}
