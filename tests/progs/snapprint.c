/* SPDX-License-Identifier: MIT */
/*
 * snapprint FORMAT SORT LIMIT FILE: loads FILE (a snapshot, "-" for stdin)
 * and prints it with muppy_snapshot_print(), for tests/snapprint/.
 * FORMAT is table, tsv, json or snap; SORT size, count or name; LIMIT a
 * row count, 0 for all.  Exit 0, 1 on a write error, 2 when FILE does not
 * load, 64 on a bad command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/exitcodes.h"
#include "muppy.h"

static int usage(const char *why)
{
	fprintf(stderr, "snapprint: %s\n"
		"usage: snapprint table|tsv|json|snap size|count|name LIMIT "
		"FILE\n", why);
	return MUPPY_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const char *const formats[] = { "table", "tsv", "json", "snap" };
	static const char *const sorts[] = { "size", "count", "name" };
	struct muppy_print_opts o = { MUPPY_FORMAT_TABLE, 0, NULL, NULL };
	struct muppy_snapshot *s;
	struct muppy_error err;
	enum muppy_sort by = MUPPY_SORT_SIZE;
	unsigned i;
	char *end;
	int rc;

	if (argc != 5)
		return usage("want 4 arguments");
	for (i = 0; i < 4 && strcmp(argv[1], formats[i]); i++)
		;
	if (i == 4)
		return usage("bad format");
	o.format = (enum muppy_format)i;
	for (i = 0; i < 3 && strcmp(argv[2], sorts[i]); i++)
		;
	if (i == 3)
		return usage("bad sort");
	by = (enum muppy_sort)i;
	errno = 0;
	o.limit = strtoul(argv[3], &end, 10);
	if (errno || end == argv[3] || *end || argv[3][0] == '-')
		return usage("bad limit");

	muppy_error_clear(&err);
	rc = muppy_snapshot_load(argv[4], &s, &err);
	if (rc) {
		fprintf(stderr, "snapprint: %s\n", err.msg);
		return MUPPY_EXIT_BADFILE;
	}
	rc = muppy_snapshot_print(stdout, s, &o, by);
	muppy_snapshot_free(s);
	if (rc) {
		fprintf(stderr, "snapprint: write error: %s\n", strerror(-rc));
		return MUPPY_EXIT_ERROR;
	}
	if (fclose(stdout)) {
		fprintf(stderr, "snapprint: write error: %s\n", strerror(errno));
		return MUPPY_EXIT_ERROR;
	}
	return MUPPY_EXIT_OK;
}
