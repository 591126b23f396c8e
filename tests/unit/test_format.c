/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/output/stream.c, cells.c, json.c and diffprint.c:
 * output helpers, name shortening, JSON strings and the three diff
 * formats.
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

/* Runs fn on a memory stream and returns what it wrote (caller frees). */
static char *capture_json(const char *s)
{
	struct muppy__out o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	muppy__out_init(&o, f);
	muppy__json_string(&o, s);
	assert_int_equal(muppy__out_finish(&o), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_json_string(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ NULL, "null" },
		{ "", "\"\"" },
		{ "dict", "\"dict\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "back\\\\slash", "\"back\\\\\\\\slash\"" },
		/* Our escaped form: backslashes doubled, nothing else. */
		{ "\\x1b[31mred", "\"\\\\x1b[31mred\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "tab\there\nnl", "\"tab\\u0009here\\u000anl\"" },
		{ "caf\xc3\xa9 \xe6\x97\xa5", "\"caf\xc3\xa9 \xe6\x97\xa5\"" },
		{ "\"", "\"\\\"\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = capture_json(cases[i].in);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_escaped_cut(void **state)
{
	static const struct {
		const char *s;
		size_t max, want;
	} cases[] = {
		{ "", 0, 0 },
		{ "abc", 3, 3 },
		{ "abc", 120, 3 },
		{ "abcdef", 3, 3 },
		{ "abcdef", 0, 0 },
		/* \xHH is kept whole or not at all. */
		{ "ab\\x41cd", 2, 2 },
		{ "ab\\x41cd", 3, 2 },
		{ "ab\\x41cd", 5, 2 },
		{ "ab\\x41cd", 6, 6 },
		{ "ab\\x41cd", 7, 7 },
		{ "\\x1b\\x1b", 7, 4 },
		/* Short escapes likewise. */
		{ "a\\tb", 2, 1 },
		{ "a\\tb", 3, 3 },
		{ "a\\\\b", 2, 1 },
		/* UTF-8 sequences of 2, 3 and 4 bytes. */
		{ "a\xc3\xa9z", 2, 1 },
		{ "a\xc3\xa9z", 3, 3 },
		{ "\xe6\x97\xa5\xe6\x9c\xac", 5, 3 },
		{ "x\xf0\x9f\x98\x80y", 4, 1 },
		{ "x\xf0\x9f\x98\x80y", 5, 5 },
		/* Malformed input never makes it cut past max. */
		{ "abc\\", 3, 3 },
		{ "ab\\x4", 4, 2 },
		{ "\xf0\x9f", 1, 0 },
		{ "\x80\x80\x80", 2, 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t got = muppy__escaped_cut(cases[i].s, strlen(cases[i].s),
						cases[i].max);

		print_message("case %zu: %s max %zu\n", i, cases[i].s,
			      cases[i].max);
		assert_int_equal(got, cases[i].want);
	}
}

static void test_text_width_and_signed(void **state)
{
	static const struct {
		int64_t v;
		const char *want;
	} sgn[] = {
		{ 0, "0" },
		{ 5, "+5" },
		{ -5, "-5" },
		{ INT64_MAX, "+9223372036854775807" },
		{ -INT64_MAX, "-9223372036854775807" },
		{ INT64_MIN, "-9223372036854775808" },
	};
	char buf[24];
	size_t i;

	(void)state;
	assert_int_equal(muppy__text_width(""), 0);
	assert_int_equal(muppy__text_width("bytes"), 5);
	assert_int_equal(muppy__text_width("\xce\x94 objects"), 9);
	assert_int_equal(muppy__text_width("caf\xc3\xa9"), 4);
	for (i = 0; i < ARRAY_SIZE(sgn); i++) {
		muppy__format_signed(buf, sizeof(buf), sgn[i].v);
		assert_string_equal(buf, sgn[i].want);
	}
}

/* --- diffs built in memory -------------------------------------------- */

struct fixture {
	struct muppy_snapshot old, new;
	struct muppy_diff d;
	struct muppy_diff_row rows[4];
	char *long_name;
};

static const struct muppy_diff_row base_rows[] = {
	{ "__main__.Leak", 0, 0, 30, 1536, 30, 1536 },
	{ "dict", 10, 1000, 10, 1512, 0, 512 },
	{ "\\x1b[31mred", 2, 536, 0, 0, -2, -536 },
};

static void fixture_init(struct fixture *fx, size_t nrows)
{
	memset(fx, 0, sizeof(*fx));
	fx->old.pid = 4242;
	fx->old.time_ms = 0;
	fx->old.python = (char *)"3.11.2";
	fx->old.executable = (char *)"/usr/bin/python3";
	fx->old.objects = 100;
	fx->old.bytes = 2048;
	fx->old.rss = 8192;
	fx->new = fx->old;
	fx->new.pid = 31337;
	fx->new.time_ms = 1000123;
	fx->new.python = (char *)"3.12\\x01";
	fx->new.executable = (char *)"/opt/\"q\"/py";
	fx->new.objects = 130;
	fx->new.bytes = 3584;
	fx->new.rss = 12288;
	memcpy(fx->rows, base_rows, nrows * sizeof(base_rows[0]));
	fx->d.old = &fx->old;
	fx->d.new = &fx->new;
	fx->d.rows = fx->rows;
	fx->d.nrows = nrows;
	fx->d.d_objects = 30;
	fx->d.d_bytes = 1536;
	fx->d.sort = MUPPY_SORT_SIZE;
}

static char *render(const struct muppy_diff *d, enum muppy_format format,
		    size_t limit, int want_rc)
{
	struct muppy_print_opts o = { format, limit, "old.snap", "new.snap" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(muppy_diff_print(f, d, &o), want_rc);
	assert_int_equal(fclose(f), 0);
	return buf;
}

#define HEAD \
	"old: old.snap  pid  4242  1970-01-01T00:00:00.000Z  100 objects  " \
	"2.0 KiB\n" \
	"new: new.snap  pid 31337  1970-01-01T00:16:40.123Z  130 objects  " \
	"3.5 KiB\n\n"
#define TITLES "\xce\x94 objects   \xce\x94 bytes  objects    bytes  type\n"
#define ROW1   "      +30  +1.5 KiB       30  1.5 KiB  __main__.Leak\n"
#define ROW2   "        0    +512 B       10  1.5 KiB  dict\n"
#define ROW3   "       -2    -536 B        0      0 B  \\x1b[31mred\n"
#define RULE   "--------------------------------------------\n"
#define TOTAL  "      +30  +1.5 KiB      130  3.5 KiB  total\n"

#define JSON_HEAD \
	"{\n" \
	"  \"schema\": \"muppy-diff/1\",\n" \
	"  \"old\": {\"file\": \"old.snap\", \"pid\": 4242, " \
	"\"time\": \"1970-01-01T00:00:00.000Z\", \"python\": \"3.11.2\", " \
	"\"executable\": \"/usr/bin/python3\", \"rss\": 8192, " \
	"\"objects\": 100, " \
	"\"bytes\": 2048},\n" \
	"  \"new\": {\"file\": \"new.snap\", \"pid\": 31337, " \
	"\"time\": \"1970-01-01T00:16:40.123Z\", \"python\": " \
	"\"3.12\\\\x01\", \"executable\": \"/opt/\\\"q\\\"/py\", " \
	"\"rss\": 12288, \"objects\": 130, \"bytes\": 3584},\n" \
	"  \"sort\": \"size\",\n"
#define JSON_ROW1 \
	"    {\"type\": \"__main__.Leak\", \"d_count\": 30, \"d_bytes\": " \
	"1536, \"old_count\": 0, \"old_bytes\": 0, \"new_count\": 30, " \
	"\"new_bytes\": 1536}"
#define JSON_ROW2 \
	"    {\"type\": \"dict\", \"d_count\": 0, \"d_bytes\": 512, " \
	"\"old_count\": 10, \"old_bytes\": 1000, \"new_count\": 10, " \
	"\"new_bytes\": 1512}"
#define JSON_ROW3 \
	"    {\"type\": \"\\\\x1b[31mred\", \"d_count\": -2, \"d_bytes\": " \
	"-536, \"old_count\": 2, \"old_bytes\": 536, \"new_count\": 0, " \
	"\"new_bytes\": 0}"
#define JSON_TOTAL \
	"  \"total\": {\"d_count\": 30, \"d_bytes\": 1536, \"old_count\": 100, " \
	"\"old_bytes\": 2048, \"new_count\": 130, \"new_bytes\": 3584}\n}\n"

#define TSV_HEAD \
	"d_count\td_bytes\told_count\told_bytes\tnew_count\tnew_bytes\ttype\n"

struct print_case {
	const char *what;
	size_t nrows;
	enum muppy_format format;
	size_t limit;
	const char *want;
};

static const struct print_case print_cases[] = {
	{ "table, all rows", 3, MUPPY_FORMAT_TABLE, 0,
	  HEAD TITLES ROW1 ROW2 ROW3 RULE TOTAL },
	{ "table, limit above the rows", 3, MUPPY_FORMAT_TABLE, 20,
	  HEAD TITLES ROW1 ROW2 ROW3 RULE TOTAL },
	{ "table, limit = rows", 3, MUPPY_FORMAT_TABLE, 3,
	  HEAD TITLES ROW1 ROW2 ROW3 RULE TOTAL },
	{ "table, one hidden", 3, MUPPY_FORMAT_TABLE, 2,
	  HEAD TITLES ROW1 ROW2
	  "... 1 more type changed (--limit=0 shows all)\n" RULE TOTAL },
	{ "table, two hidden", 3, MUPPY_FORMAT_TABLE, 1,
	  HEAD TITLES ROW1
	  "... 2 more types changed (--limit=0 shows all)\n" RULE TOTAL },
	{ "table, no change", 0, MUPPY_FORMAT_TABLE, 0, HEAD "no change\n" },
	{ "tsv, all rows", 3, MUPPY_FORMAT_TSV, 0,
	  TSV_HEAD "30\t1536\t0\t0\t30\t1536\t__main__.Leak\n"
	  "0\t512\t10\t1000\t10\t1512\tdict\n"
	  "-2\t-536\t2\t536\t0\t0\t\\x1b[31mred\n" },
	{ "tsv, limit", 3, MUPPY_FORMAT_TSV, 1,
	  TSV_HEAD "30\t1536\t0\t0\t30\t1536\t__main__.Leak\n" },
	{ "tsv, no change", 0, MUPPY_FORMAT_TSV, 0, TSV_HEAD },
	{ "json, all rows", 3, MUPPY_FORMAT_JSON, 0,
	  JSON_HEAD "  \"types\": [\n" JSON_ROW1 ",\n" JSON_ROW2 ",\n"
	  JSON_ROW3 "\n  ],\n  \"hidden\": 0,\n" JSON_TOTAL },
	{ "json, limit", 3, MUPPY_FORMAT_JSON, 1,
	  JSON_HEAD "  \"types\": [\n" JSON_ROW1
	  "\n  ],\n  \"hidden\": 2,\n" JSON_TOTAL },
	{ "json, no change", 0, MUPPY_FORMAT_JSON, 0,
	  JSON_HEAD "  \"types\": [],\n  \"hidden\": 0,\n" JSON_TOTAL },
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
		got = render(&fx.d, k->format, k->limit, 0);
		assert_string_equal(got, k->want);
		free(got);
	}
}

static void test_print_sort_names(void **state)
{
	static const struct {
		enum muppy_sort by;
		const char *want;
	} cases[] = {
		{ MUPPY_SORT_SIZE, "\"sort\": \"size\"" },
		{ MUPPY_SORT_COUNT, "\"sort\": \"count\"" },
		{ MUPPY_SORT_NAME, "\"sort\": \"name\"" },
	};
	struct fixture fx;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got;

		fixture_init(&fx, 1);
		fx.d.sort = cases[i].by;
		got = render(&fx.d, MUPPY_FORMAT_JSON, 0, 0);
		assert_non_null(strstr(got, cases[i].want));
		free(got);
	}
}

/* Long names are shortened in tables only, on an escape boundary. */
static void test_long_names(void **state)
{
	static const struct {
		const char *tail; /* appended to 118 'L's */
		const char *shown_tail;
	} cases[] = {
		{ "", "" },
		{ "ab", "ab" },            /* exactly 120 bytes: whole */
		{ "abc", "ab..." },        /* 121 bytes: cut at 120 */
		{ "\\x41b", "..." },       /* escape would cross 120 */
		{ "a\\x41", "a..." },
		{ "\xc3\xa9\xc3\xa9", "\xc3\xa9..." },
		{ "a\xe6\x97\xa5", "a..." },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture fx;
		char name[256], want[256], *got, *line;

		memset(name, 'L', 118);
		strcpy(name + 118, cases[i].tail);
		memset(want, 'L', 118);
		snprintf(want + 118, sizeof(want) - 118, "%s\n",
			 cases[i].shown_tail);
		fixture_init(&fx, 1);
		fx.rows[0].name = name;

		got = render(&fx.d, MUPPY_FORMAT_TABLE, 0, 0);
		line = strstr(got, "LLLL");
		assert_non_null(line);
		assert_memory_equal(line, want, strlen(want));
		free(got);

		got = render(&fx.d, MUPPY_FORMAT_TSV, 0, 0);
		assert_non_null(strstr(got, name));
		assert_null(strstr(got, "..."));
		free(got);

		got = render(&fx.d, MUPPY_FORMAT_JSON, 0, 0);
		assert_null(strstr(got, "..."));
		free(got);
	}

	/* 100 kB of name still prints 120 bytes in a table, all in tsv. */
	{
		struct fixture fx;
		size_t n = 100000;
		char *name = malloc(n + 1), *got, *line;

		assert_non_null(name);
		memset(name, 'L', n);
		name[n] = '\0';
		fixture_init(&fx, 1);
		fx.rows[0].name = name;
		got = render(&fx.d, MUPPY_FORMAT_TABLE, 0, 0);
		line = strstr(got, "LLLL");
		assert_non_null(line);
		assert_int_equal(strcspn(line, "\n"), 123);
		free(got);
		got = render(&fx.d, MUPPY_FORMAT_TSV, 0, 0);
		assert_non_null(strstr(got, name));
		free(got);
		free(name);
	}
}

/* File names come from the command line: escaped in every format. */
static void test_file_names_escaped(void **state)
{
	struct muppy_print_opts o = { MUPPY_FORMAT_TABLE, 0, "a\nb.snap",
				      NULL };
	struct fixture fx;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	fixture_init(&fx, 1);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(muppy_diff_print(f, &fx.d, &o), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "old: a\\nb.snap  pid"));
	assert_non_null(strstr(buf, "new: (unnamed)  pid"));
	free(buf);

	o.format = MUPPY_FORMAT_JSON;
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(muppy_diff_print(f, &fx.d, &o), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "{\"file\": \"a\\\\nb.snap\""));
	assert_non_null(strstr(buf, "{\"file\": null"));
	free(buf);
}

/* Extreme values print exactly in tsv and json. */
static void test_extremes(void **state)
{
	struct fixture fx;
	char *got;

	(void)state;
	fixture_init(&fx, 1);
	fx.rows[0].old_count = fx.rows[0].old_bytes = MUPPY_MAX_VALUE;
	fx.rows[0].new_count = fx.rows[0].new_bytes = 0;
	fx.rows[0].d_count = fx.rows[0].d_bytes = -INT64_MAX;
	got = render(&fx.d, MUPPY_FORMAT_TSV, 0, 0);
	assert_string_equal(got, TSV_HEAD
		"-9223372036854775807\t-9223372036854775807\t"
		"9223372036854775807\t9223372036854775807\t0\t0\t"
		"__main__.Leak\n");
	free(got);
	got = render(&fx.d, MUPPY_FORMAT_TABLE, 0, 0);
	assert_non_null(strstr(got,
		"-9223372036854775807  -8.0 EiB        0      0 B  "
		"__main__.Leak\n"));
	free(got);
}

static void test_errors(void **state)
{
	struct muppy_print_opts o = { MUPPY_FORMAT_TABLE, 0, "o", "n" };
	struct fixture fx;
	size_t f;
	FILE *full;
	char *got;

	(void)state;
	fixture_init(&fx, 3);
	/* Snapshot format is for snapshots: refused before any output. */
	got = render(&fx.d, MUPPY_FORMAT_SNAP, 0, -EINVAL);
	assert_string_equal(got, "");
	free(got);

	full = fopen("/dev/full", "w");
	if (!full)
		skip();
	for (f = MUPPY_FORMAT_TABLE; f <= MUPPY_FORMAT_JSON; f++) {
		o.format = (enum muppy_format)f;
		assert_int_equal(muppy_diff_print(full, &fx.d, &o), -ENOSPC);
		clearerr(full);
	}
	fclose(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_escaped_cut),
		cmocka_unit_test(test_text_width_and_signed),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_sort_names),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_file_names_escaped),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
