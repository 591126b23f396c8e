/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/output/snapprint.c: one snapshot as a table, tsv, json and
 * in the snapshot format, in every order, with and without a limit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "muppy_int.h"

/* --- a snapshot built in memory ---------------------------------------- */

struct fixture {
	struct muppy_snapshot s;
	struct muppy_type_stat rows[4];
};

/*
 * Not in canonical order, with ties: Leak and red share a count, dict and
 * zz share count and bytes, so every comparison step is exercised.
 */
static const struct muppy_type_stat base_rows[] = {
	{ (char *)"dict", 10, 1512 },
	{ (char *)"\\x1b[31mred", 30, 536 },
	{ (char *)"zz", 10, 1512 },
	{ (char *)"__main__.Leak", 30, 1536 },
};

static void fixture_init(struct fixture *fx, size_t nrows)
{
	size_t i;

	memset(fx, 0, sizeof(*fx));
	fx->s.minor = 0;
	fx->s.pid = 4242;
	fx->s.cmdline = (char *)"python3 app.py";
	fx->s.time_ms = 1000123;
	fx->s.python = (char *)"3.11.2";
	fx->s.implementation = (char *)"cpython";
	fx->s.executable = (char *)"/usr/bin/python3";
	fx->s.rss = 104857600;
	fx->s.gc = true;
	fx->s.gc_freed = 17;
	fx->s.hold_us = 183042;
	memcpy(fx->rows, base_rows, nrows * sizeof(base_rows[0]));
	for (i = 0; i < nrows; i++) {
		fx->s.objects += fx->rows[i].count;
		fx->s.bytes += fx->rows[i].bytes;
	}
	fx->s.types = fx->rows;
	fx->s.ntypes = nrows;
}

/* What muppy_snapshot_print() wrote (caller frees). */
static char *render(const struct muppy_snapshot *s, enum muppy_format format,
		    enum muppy_sort by, size_t limit, int want_rc)
{
	struct muppy_print_opts o = { format, limit, NULL, NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(muppy_snapshot_print(f, s, &o, by), want_rc);
	assert_int_equal(fclose(f), 0);
	return buf;
}

#define HEAD \
	"pid 4242  python3 app.py\n" \
	"CPython 3.11.2  /usr/bin/python3  1970-01-01T00:16:40.123Z\n" \
	"80 objects  5.0 KiB in 4 types  (RSS 100.0 MiB; gc freed 17 " \
	"objects; interpreter held 183.0 ms)\n\n"
#define TITLES "objects    bytes  type\n"
#define T_LEAK "     30  1.5 KiB  __main__.Leak\n"
#define T_DICT "     10  1.5 KiB  dict\n"
#define T_ZZ   "     10  1.5 KiB  zz\n"
#define T_RED  "     30    536 B  \\x1b[31mred\n"
#define RULE   "-----------------------\n"
#define TOTAL  "     80  5.0 KiB  total\n"

#define TSV_HEAD "count\tbytes\ttype\n"
#define V_LEAK "30\t1536\t__main__.Leak\n"
#define V_DICT "10\t1512\tdict\n"
#define V_ZZ   "10\t1512\tzz\n"
#define V_RED  "30\t536\t\\x1b[31mred\n"

#define JSON_HEAD \
	"{\n" \
	"  \"schema\": \"muppy-snapshot/1\",\n" \
	"  \"pid\": 4242,\n" \
	"  \"cmdline\": \"python3 app.py\",\n" \
	"  \"time\": \"1970-01-01T00:16:40.123Z\",\n" \
	"  \"python\": \"3.11.2\",\n" \
	"  \"implementation\": \"cpython\",\n" \
	"  \"executable\": \"/usr/bin/python3\",\n" \
	"  \"rss\": 104857600,\n" \
	"  \"gc\": true,\n" \
	"  \"gc_freed\": 17,\n" \
	"  \"hold_us\": 183042,\n" \
	"  \"frozen\": null,\n" \
	"  \"frozen_walked\": null,\n" \
	"  \"layout\": null,\n" \
	"  \"checks_failed\": null,\n" \
	"  \"interpreters\": null,\n"
#define JSON_TOTALS "  \"objects\": 80,\n  \"bytes\": 5096,\n"
#define J_LEAK \
	"    {\"type\": \"__main__.Leak\", \"count\": 30, \"bytes\": 1536}"
#define J_DICT "    {\"type\": \"dict\", \"count\": 10, \"bytes\": 1512}"
#define J_ZZ   "    {\"type\": \"zz\", \"count\": 10, \"bytes\": 1512}"
#define J_RED \
	"    {\"type\": \"\\\\x1b[31mred\", \"count\": 30, \"bytes\": 536}"

struct print_case {
	const char *what;
	size_t nrows;
	enum muppy_format format;
	enum muppy_sort by;
	size_t limit;
	const char *want;
};

static const struct print_case print_cases[] = {
	/* Tables in every order. */
	{ "table, size", 4, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0,
	  HEAD TITLES T_LEAK T_DICT T_ZZ T_RED RULE TOTAL },
	{ "table, count", 4, MUPPY_FORMAT_TABLE, MUPPY_SORT_COUNT, 0,
	  HEAD TITLES T_LEAK T_RED T_DICT T_ZZ RULE TOTAL },
	{ "table, name ('\\' < '_' < 'd')", 4, MUPPY_FORMAT_TABLE,
	  MUPPY_SORT_NAME, 0, HEAD TITLES T_RED T_LEAK T_DICT T_ZZ RULE TOTAL },
	{ "table, unknown sort is size", 4, MUPPY_FORMAT_TABLE,
	  (enum muppy_sort)42, 0,
	  HEAD TITLES T_LEAK T_DICT T_ZZ T_RED RULE TOTAL },
	/* Limits. */
	{ "table, limit above the rows", 4, MUPPY_FORMAT_TABLE,
	  MUPPY_SORT_SIZE, 20, HEAD TITLES T_LEAK T_DICT T_ZZ T_RED RULE TOTAL },
	{ "table, limit = rows", 4, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 4,
	  HEAD TITLES T_LEAK T_DICT T_ZZ T_RED RULE TOTAL },
	{ "table, one hidden", 4, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 3,
	  HEAD TITLES T_LEAK T_DICT T_ZZ
	  "... 1 more type (--limit=0 shows all)\n" RULE TOTAL },
	{ "table, three hidden", 4, MUPPY_FORMAT_TABLE, MUPPY_SORT_COUNT, 1,
	  HEAD TITLES T_LEAK
	  "... 3 more types (--limit=0 shows all)\n" RULE TOTAL },
	/* The widths come from the rows shown and the total. */
	{ "table, one row", 1, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0,
	  "pid 4242  python3 app.py\n"
	  "CPython 3.11.2  /usr/bin/python3  1970-01-01T00:16:40.123Z\n"
	  "10 objects  1.5 KiB in 1 type  (RSS 100.0 MiB; gc freed 17 "
	  "objects; interpreter held 183.0 ms)\n\n"
	  TITLES T_DICT RULE "     10  1.5 KiB  total\n" },
	{ "table, no rows", 0, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0,
	  "pid 4242  python3 app.py\n"
	  "CPython 3.11.2  /usr/bin/python3  1970-01-01T00:16:40.123Z\n"
	  "0 objects  0 B in 0 types  (RSS 100.0 MiB; gc freed 17 "
	  "objects; interpreter held 183.0 ms)\n\n"
	  "objects  bytes  type\n---------------------\n"
	  "      0    0 B  total\n" },
	/* TSV. */
	{ "tsv, size", 4, MUPPY_FORMAT_TSV, MUPPY_SORT_SIZE, 0,
	  TSV_HEAD V_LEAK V_DICT V_ZZ V_RED },
	{ "tsv, count", 4, MUPPY_FORMAT_TSV, MUPPY_SORT_COUNT, 0,
	  TSV_HEAD V_LEAK V_RED V_DICT V_ZZ },
	{ "tsv, name", 4, MUPPY_FORMAT_TSV, MUPPY_SORT_NAME, 0,
	  TSV_HEAD V_RED V_LEAK V_DICT V_ZZ },
	{ "tsv, limit", 4, MUPPY_FORMAT_TSV, MUPPY_SORT_NAME, 2,
	  TSV_HEAD V_RED V_LEAK },
	{ "tsv, no rows", 0, MUPPY_FORMAT_TSV, MUPPY_SORT_SIZE, 0, TSV_HEAD },
	/* JSON. */
	{ "json, size", 4, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0,
	  JSON_HEAD JSON_TOTALS "  \"types\": [\n" J_LEAK ",\n" J_DICT ",\n"
	  J_ZZ ",\n" J_RED "\n  ],\n  \"hidden\": 0\n}\n" },
	{ "json, count", 4, MUPPY_FORMAT_JSON, MUPPY_SORT_COUNT, 0,
	  JSON_HEAD JSON_TOTALS "  \"types\": [\n" J_LEAK ",\n" J_RED ",\n"
	  J_DICT ",\n" J_ZZ "\n  ],\n  \"hidden\": 0\n}\n" },
	{ "json, name", 4, MUPPY_FORMAT_JSON, MUPPY_SORT_NAME, 0,
	  JSON_HEAD JSON_TOTALS "  \"types\": [\n" J_RED ",\n" J_LEAK ",\n"
	  J_DICT ",\n" J_ZZ "\n  ],\n  \"hidden\": 0\n}\n" },
	{ "json, limit", 4, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 1,
	  JSON_HEAD JSON_TOTALS "  \"types\": [\n" J_LEAK
	  "\n  ],\n  \"hidden\": 3\n}\n" },
	{ "json, no rows", 0, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0,
	  JSON_HEAD "  \"objects\": 0,\n  \"bytes\": 0,\n"
	  "  \"types\": [],\n  \"hidden\": 0\n}\n" },
};

static void test_print(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(print_cases); i++) {
		const struct print_case *k = &print_cases[i];
		struct fixture fx;
		char *got;

		print_message("case: %s\n", k->what);
		fixture_init(&fx, k->nrows);
		got = render(&fx.s, k->format, k->by, k->limit, 0);
		assert_string_equal(got, k->want);
		free(got);
		/* The snapshot itself keeps its order. */
		assert_memory_equal(fx.rows, base_rows,
				    k->nrows * sizeof(base_rows[0]));
	}
}

/* MUPPY_FORMAT_SNAP is muppy_snapshot_write(), whatever the sort and limit. */
static void test_snap_format(void **state)
{
	static const enum muppy_sort sorts[] = {
		MUPPY_SORT_SIZE, MUPPY_SORT_COUNT, MUPPY_SORT_NAME,
	};
	static const size_t limits[] = { 0, 1, 100 };
	struct fixture fx;
	char *want = NULL, *got;
	size_t len = 0, i, j;
	FILE *f;

	(void)state;
	fixture_init(&fx, 4);
	/* Canonical order, as muppy_snapshot_write() wants. */
	fx.rows[0] = base_rows[3];
	fx.rows[1] = base_rows[0];
	fx.rows[2] = base_rows[2];
	fx.rows[3] = base_rows[1];
	f = open_memstream(&want, &len);
	assert_non_null(f);
	assert_int_equal(muppy_snapshot_write(f, &fx.s), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(want, "# muppy-snapshot 1."));
	for (i = 0; i < ARRAY_SIZE(sorts); i++) {
		for (j = 0; j < ARRAY_SIZE(limits); j++) {
			got = render(&fx.s, MUPPY_FORMAT_SNAP, sorts[i],
				     limits[j], 0);
			assert_string_equal(got, want);
			free(got);
		}
	}
	free(want);

	/* What the writer refuses, the printer refuses. */
	fx.s.bytes++;
	got = render(&fx.s, MUPPY_FORMAT_SNAP, MUPPY_SORT_SIZE, 0, -EINVAL);
	free(got);
}

/* The third header line: plurals, "no gc", the hold time in tenths of ms. */
static void test_summary_line(void **state)
{
	static const struct {
		bool gc;
		uint64_t gc_freed, hold_us;
		size_t nrows;
		const char *want;
	} cases[] = {
		{ true, 17, 183042, 4, "80 objects  5.0 KiB in 4 types  (RSS "
		  "100.0 MiB; gc freed 17 objects; interpreter held 183.0 ms)\n" },
		{ true, 1, 0, 1, "10 objects  1.5 KiB in 1 type  (RSS 100.0 MiB; "
		  "gc freed 1 object; interpreter held 0.0 ms)\n" },
		{ true, 0, 49, 0, "0 objects  0 B in 0 types  (RSS 100.0 MiB; "
		  "gc freed 0 objects; interpreter held 0.0 ms)\n" },
		{ false, 0, 50, 4, "; no gc; interpreter held 0.1 ms)\n" },
		{ false, 99, 149, 4, "; no gc; interpreter held 0.1 ms)\n" },
		{ false, 0, 150, 4, "; no gc; interpreter held 0.2 ms)\n" },
		{ false, 0, 999949, 4, "; no gc; interpreter held 999.9 ms)\n" },
		{ false, 0, 999950, 4, "; no gc; interpreter held 1000.0 ms)\n" },
		{ false, 0, MUPPY_MAX_VALUE, 4,
		  "; no gc; interpreter held 9223372036854775.8 ms)\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture fx;
		char *got;

		print_message("case %zu\n", i);
		fixture_init(&fx, cases[i].nrows);
		fx.s.gc = cases[i].gc;
		fx.s.gc_freed = cases[i].gc_freed;
		fx.s.hold_us = cases[i].hold_us;
		got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
		assert_non_null(strstr(got, cases[i].want));
		free(got);
	}

	/* One object. */
	{
		struct fixture fx;
		char *got;

		fixture_init(&fx, 1);
		fx.s.objects = fx.rows[0].count = 1;
		got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
		assert_non_null(strstr(got, "\n1 object  1.5 KiB in 1 type  "));
		free(got);
	}
}

/*
 * The facts of format 1.1: frozen objects in the summary line, a note for
 * each unusual one, json members (null when not known); tsv has none.
 */
static void test_walk_facts(void **state)
{
	static const char summary[] = "80 objects  5.0 KiB in 4 types  (RSS "
		"100.0 MiB; ";
	static const char held[] = "gc freed 17 objects; interpreter held "
		"183.0 ms)\n";
	static const struct {
		bool frozen_known;
		uint64_t frozen;
		bool frozen_missed;
		enum muppy_layout layout;
		const char *checks_failed, *python;
		uint64_t interpreters;
		const char *table; /* after the summary's "(RSS ...; " */
		const char *json;  /* from "frozen" to "interpreters" */
	} cases[] = {
		/* What muppy-snap writes for a plain process. */
		{ true, 0, false, MUPPY_LAYOUT_VERIFIED, "", "3.11.2", 1,
		  "", "  \"frozen\": 0,\n  \"frozen_walked\": true,\n"
		  "  \"layout\": \"verified\",\n  \"checks_failed\": \"\",\n"
		  "  \"interpreters\": 1,\n" },
		/* Frozen and walked: counted, no note. */
		{ true, 12345, false, MUPPY_LAYOUT_VERIFIED, "list", "3.11.2",
		  1, "12345 frozen; ",
		  "  \"frozen\": 12345,\n  \"frozen_walked\": true,\n"
		  "  \"layout\": \"verified\",\n"
		  "  \"checks_failed\": \"list\",\n  \"interpreters\": 1,\n" },
		{ true, 12345, true, MUPPY_LAYOUT_VERIFIED, "", "3.11.2", 1,
		  "12345 frozen; \001note: 12345 objects frozen by gc.freeze() "
		  "were not walked: only those reachable from other objects "
		  "are counted (a limit of muppy-snap, nothing to fix)\n",
		  "  \"frozen\": 12345,\n  \"frozen_walked\": false,\n" },
		{ true, 1, true, MUPPY_LAYOUT_VERIFIED, "", "3.11.2", 0,
		  "1 frozen; \001note: 1 object frozen by gc.freeze() was not "
		  "walked: it is counted only if reachable from other objects "
		  "(a limit of muppy-snap, nothing to fix)\n",
		  "  \"frozen\": 1,\n  \"frozen_walked\": false,\n"
		  "  \"layout\": \"verified\",\n  \"checks_failed\": \"\",\n"
		  "  \"interpreters\": null,\n" },
		{ true, 0, false, MUPPY_LAYOUT_GENERIC, "list,\\x1b[2J",
		  "3.16.0a1", 1,
		  "\001note: CPython 3.16.0a1 is newer than the versions "
		  "muppy-snap was verified on: only what run-time checks "
		  "proved was used, without fast sizing (checks failed: "
		  "list,\\x1b[2J)\n",
		  "  \"layout\": \"generic\",\n"
		  "  \"checks_failed\": \"list,\\\\x1b[2J\",\n" },
		{ true, 0, false, MUPPY_LAYOUT_GENERIC, "", "", 1,
		  "\001note: CPython is newer than the versions muppy-snap was "
		  "verified on: only what run-time checks proved was used, "
		  "without fast sizing\n", "  \"layout\": \"generic\",\n" },
		{ true, 0, false, MUPPY_LAYOUT_VERIFIED, "", "3.13.1", 3,
		  "\001note: the process runs 3 interpreters; only the main "
		  "interpreter's objects are counted\n",
		  "  \"interpreters\": 3,\n" },
		/* All three notes, in this order. */
		{ true, 2, true, MUPPY_LAYOUT_GENERIC, NULL, "3.16.0", 2,
		  "2 frozen; \001note: 2 objects frozen by gc.freeze() were not "
		  "walked: only those reachable from other objects are counted "
		  "(a limit of muppy-snap, nothing to fix)\n"
		  "note: CPython 3.16.0 is newer than the versions muppy-snap "
		  "was verified on: only what run-time checks proved was used, "
		  "without fast sizing\n"
		  "note: the process runs 2 interpreters; only the main "
		  "interpreter's objects are counted\n",
		  "  \"frozen\": 2,\n  \"frozen_walked\": false,\n"
		  "  \"layout\": \"generic\",\n  \"checks_failed\": \"\",\n"
		  "  \"interpreters\": 2,\n" },
		/* A checks_failed without a layout is shown all the same. */
		{ false, 0, false, MUPPY_LAYOUT_UNKNOWN, "int", "3.11.2", 0, "",
		  "  \"frozen\": null,\n  \"frozen_walked\": null,\n"
		  "  \"layout\": null,\n  \"checks_failed\": \"int\",\n"
		  "  \"interpreters\": null,\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture fx;
		char want[1024], *got, *notes;
		const char *t = cases[i].table, *mark = strchr(t, '\001');

		print_message("case %zu\n", i);
		fixture_init(&fx, 4);
		fx.s.frozen_known = cases[i].frozen_known;
		fx.s.frozen = cases[i].frozen;
		fx.s.frozen_missed = cases[i].frozen_missed;
		fx.s.layout = cases[i].layout;
		fx.s.checks_failed = (char *)cases[i].checks_failed;
		fx.s.python = (char *)cases[i].python;
		fx.s.interpreters = cases[i].interpreters;

		/* \001 splits the summary's part from the notes. */
		notes = (char *)(mark ? mark + 1 : "");
		snprintf(want, sizeof(want), "%s%.*s%s%s\n%s", summary,
			 (int)(mark ? (size_t)(mark - t) : strlen(t)), t, held,
			 notes, TITLES);
		got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
		if (!strstr(got, want))
			fail_msg("table:\n%s\nwant:\n%s", got, want);
		assert_null(strstr(got, "\n\n\n"));
		free(got);

		got = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0, 0);
		if (!strstr(got, cases[i].json))
			fail_msg("json:\n%s\nwant:\n%s", got, cases[i].json);
		assert_non_null(strstr(got, "\"hold_us\": 183042,\n"
					    "  \"frozen\": "));
		assert_non_null(strstr(got, "\"interpreters\": "));
		free(got);

		got = render(&fx.s, MUPPY_FORMAT_TSV, MUPPY_SORT_SIZE, 0, 0);
		assert_string_equal(got, TSV_HEAD V_LEAK V_DICT V_ZZ V_RED);
		free(got);
	}
}

/* Text from the target in the header: shortened at 200 bytes in tables. */
static void test_header_text(void **state)
{
	static const struct {
		const char *tail; /* appended to 198 'c's */
		const char *shown_tail;
	} cases[] = {
		{ "", "" },
		{ "ab", "ab" },          /* exactly 200 bytes: whole */
		{ "abc", "ab..." },      /* 201 bytes: cut at 200 */
		{ "\\x1bb", "..." },     /* the escape would cross 200 */
		{ "a\\x1b", "a..." },
		{ "a\\\\", "a..." },
		{ "\xc3\xa9\xc3\xa9", "\xc3\xa9..." },
		{ "a\xe6\x97\xa5", "a..." },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture fx;
		char cmd[256], want[640], *got;

		memset(cmd, 'c', 198);
		strcpy(cmd + 198, cases[i].tail);
		print_message("case %zu: %s\n", i, cases[i].tail);
		fixture_init(&fx, 1);
		fx.s.cmdline = cmd;
		fx.s.executable = cmd;

		got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
		snprintf(want, sizeof(want), "pid 4242  %.198s%s\nCPython 3.11.2  "
			 "%.198s%s  1970-", cmd, cases[i].shown_tail, cmd,
			 cases[i].shown_tail);
		assert_memory_equal(got, want, strlen(want));
		free(got);

		/* Whole in json. */
		got = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0, 0);
		assert_null(strstr(got, "..."));
		free(got);
	}
}

/* Odd headers: no command line, other implementations, unset fields. */
static void test_header_odd(void **state)
{
	struct fixture fx;
	char *got;

	(void)state;
	fixture_init(&fx, 1);
	fx.s.cmdline = (char *)"";
	fx.s.implementation = (char *)"pypy";
	got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(got, "pid 4242\npypy 3.11.2  /usr/bin/"));
	free(got);

	fx.s.implementation = (char *)"";
	got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(got, "pid 4242\nPython 3.11.2  /usr/bin/"));
	free(got);

	fx.s.cmdline = fx.s.python = fx.s.implementation = NULL;
	fx.s.executable = NULL;
	got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(got, "pid 4242\nPython  1970-"));
	free(got);
	got = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(got, "  \"cmdline\": null,\n"));
	assert_non_null(strstr(got, "  \"executable\": null,\n"));
	free(got);
}

/* Long type names are shortened in tables only, as in the diff. */
static void test_long_names(void **state)
{
	struct fixture fx;
	size_t n = 100000;
	char *name = malloc(n + 1), *got, *line;

	(void)state;
	assert_non_null(name);
	memset(name, 'L', n);
	name[n] = '\0';
	fixture_init(&fx, 1);
	fx.rows[0].name = name;

	got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_NAME, 0, 0);
	line = strstr(got, "LLLL");
	assert_non_null(line);
	assert_int_equal(strcspn(line, "\n"), MUPPY__TABLE_NAME_MAX + 3);
	assert_memory_equal(line + MUPPY__TABLE_NAME_MAX, "...\n", 4);
	free(got);

	got = render(&fx.s, MUPPY_FORMAT_TSV, MUPPY_SORT_NAME, 0, 0);
	assert_non_null(strstr(got, name));
	assert_null(strstr(got, "..."));
	free(got);

	got = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_NAME, 0, 0);
	assert_non_null(strstr(got, name));
	assert_null(strstr(got, "..."));
	free(got);
	free(name);
}

/* Escaped hostile names stay escaped; json adds its own escapes on top. */
static void test_hostile_json(void **state)
{
	static const struct {
		const char *name, *json;
	} cases[] = {
		{ "evil\\nnewline", "\"evil\\\\nnewline\"" },
		{ "\\r\\x00\\x7f\\xc2\\x85", "\"\\\\r\\\\x00\\\\x7f\\\\xc2\\\\x85\"" },
		{ "back\\\\slash", "\"back\\\\\\\\slash\"" },
		{ "\\xe2\\x80\\xaebidi", "\"\\\\xe2\\\\x80\\\\xaebidi\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "caf\xc3\xa9.\xe6\x97\xa5", "\"caf\xc3\xa9.\xe6\x97\xa5\"" },
		{ "", "\"\"" },
		/* Not our escaped form, but json stays valid anyway. */
		{ "raw\x01\x1f\x7f", "\"raw\\u0001\\u001f\\u007f\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture fx;
		char want[128], *got;

		print_message("case %zu\n", i);
		fixture_init(&fx, 1);
		fx.rows[0].name = (char *)cases[i].name;
		snprintf(want, sizeof(want), "\n    {\"type\": %s, \"count\": "
			 "10, \"bytes\": 1512}\n  ],\n", cases[i].json);
		got = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0, 0);
		assert_non_null(strstr(got, want));
		free(got);
	}
}

/* Exact values at the limit in tsv and json. */
static void test_extremes(void **state)
{
	struct fixture fx;
	char *got;

	(void)state;
	fixture_init(&fx, 1);
	fx.rows[0].count = fx.rows[0].bytes = MUPPY_MAX_VALUE;
	fx.s.objects = fx.s.bytes = MUPPY_MAX_VALUE;
	fx.s.rss = fx.s.gc_freed = MUPPY_MAX_VALUE;
	fx.s.pid = INT64_MAX;
	got = render(&fx.s, MUPPY_FORMAT_TSV, MUPPY_SORT_SIZE, 0, 0);
	assert_string_equal(got, TSV_HEAD
		"9223372036854775807\t9223372036854775807\tdict\n");
	free(got);
	got = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(got, "\"count\": 9223372036854775807, "
				    "\"bytes\": 9223372036854775807}"));
	assert_non_null(strstr(got, "\"rss\": 9223372036854775807,"));
	free(got);
	got = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(got, "\n            objects    bytes  type\n"
		"9223372036854775807  8.0 EiB  dict\n"));
	free(got);
}

static void test_errors(void **state)
{
	struct muppy_print_opts o = { MUPPY_FORMAT_TABLE, 0, NULL, NULL };
	struct fixture fx;
	int f;
	FILE *full;
	char *got;

	(void)state;
	fixture_init(&fx, 4);
	got = render(&fx.s, (enum muppy_format)42, MUPPY_SORT_SIZE, 0,
		     -EINVAL);
	assert_string_equal(got, "");
	free(got);
	fx.rows[2].name = NULL;
	got = render(&fx.s, MUPPY_FORMAT_TSV, MUPPY_SORT_SIZE, 0, -EINVAL);
	assert_string_equal(got, "");
	free(got);

	/* A valid snapshot, so that the snap format gets to write. */
	fixture_init(&fx, 1);
	full = fopen("/dev/full", "w");
	if (!full)
		skip();
	for (f = MUPPY_FORMAT_TABLE; f <= MUPPY_FORMAT_SNAP; f++) {
		print_message("format %d\n", f);
		o.format = (enum muppy_format)f;
		assert_int_equal(muppy_snapshot_print(full, &fx.s, &o,
						      MUPPY_SORT_SIZE),
				 -ENOSPC);
		clearerr(full);
	}
	fclose(full);
}

/* Owners built in memory: holders printed largest first however they
 * are stored, all of them whatever the limit, text as it is (escaped). */
static void test_owners(void **state)
{
	struct muppy_holder holders[3] = {
		{ (char *)"b", 1, 56 },
		{ (char *)"dict values of \\x1b", 29, 1480 },
		{ (char *)"a", 1, 56 },
	};
	char *steps[3] = { (char *)"module app . X", (char *)"dict['k']",
			   (char *)"__main__.Leak" };
	struct muppy_path path = { 0x7f0000001000, 3, steps };
	struct muppy_owners owners[2] = {
		{ (char *)"__main__.Leak", 30, 1536, 1, 0, 3, holders, 1,
		  &path },
		{ (char *)"zz", 0, 0, 0, 0, 0, NULL, 0, NULL },
	};
	struct fixture fx;
	char *out;

	(void)state;
	fixture_init(&fx, 4);
	fx.s.owners = owners;
	fx.s.nowners = 2;
	out = render(&fx.s, MUPPY_FORMAT_TABLE, MUPPY_SORT_SIZE, 1, 0);
	assert_non_null(strstr(out,
		"  total\n"
		"\n"
		"Held by, for __main__.Leak (30 objects, 1.5 KiB; 1 shared, "
		"0 unreachable):\n"
		"objects    bytes  holder\n"
		"     29  1.4 KiB  dict values of \\x1b\n"
		"      1     56 B  a\n"
		"      1     56 B  b\n"
		"Paths:\n"
		"  0x7f0000001000  module app . X \xe2\x86\x92 dict['k'] "
		"\xe2\x86\x92 __main__.Leak\n"
		"\n"
		"Held by, for zz: no objects of this type\n"));
	free(out);
	out = render(&fx.s, MUPPY_FORMAT_TSV, MUPPY_SORT_SIZE, 1, 0);
	assert_string_equal(strchr(out, '\n') + 1,
		"30\t1536\t__main__.Leak\n"
		"owners\t__main__.Leak\t30\t1536\t1\t0\n"
		"held\t__main__.Leak\t29\t1480\tdict values of \\x1b\n"
		"held\t__main__.Leak\t1\t56\ta\n"
		"held\t__main__.Leak\t1\t56\tb\n"
		"path\t__main__.Leak\t139637976731648\tmodule app . X\t"
		"dict['k']\t__main__.Leak\n"
		"owners\tzz\t0\t0\t0\t0\n");
	free(out);
	out = render(&fx.s, MUPPY_FORMAT_JSON, MUPPY_SORT_SIZE, 0, 0);
	assert_non_null(strstr(out,
		"  \"hidden\": 0,\n"
		"  \"owners\": [\n"
		"    {\"type\": \"__main__.Leak\", \"count\": 30, \"bytes\": 1536, "
		"\"shared\": 1, \"unreachable\": 0,\n"
		"     \"held_by\": [\n"
		"      {\"holder\": \"dict values of \\\\x1b\", \"count\": 29, "
		"\"bytes\": 1480},\n"
		"      {\"holder\": \"a\", \"count\": 1, \"bytes\": 56},\n"
		"      {\"holder\": \"b\", \"count\": 1, \"bytes\": 56}],\n"
		"     \"paths\": [\n"
		"      {\"id\": 139637976731648, \"steps\": [\"module app . X\", "
		"\"dict['k']\", \"__main__.Leak\"]}]},\n"
		"    {\"type\": \"zz\", \"count\": 0, \"bytes\": 0, \"shared\": 0, "
		"\"unreachable\": 0,\n"
		"     \"held_by\": [],\n"
		"     \"paths\": []}\n"
		"  ]\n"
		"}\n"));
	free(out);
	/* The holders themselves are not reordered. */
	assert_string_equal(holders[0].name, "b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_snap_format),
		cmocka_unit_test(test_summary_line),
		cmocka_unit_test(test_walk_facts),
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_header_odd),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_hostile_json),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_owners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
