/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/analysis/trend.c, lib/output/trendprint.c and prom.c. */
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

#define NSNAP 8
#define NTYPES 4

/* One type's bytes over up to NSNAP snapshots; UINT64_MAX: missing. */
struct series {
	const char *name;
	uint64_t bytes[NSNAP];
};

struct fake {
	struct muppy_snapshot s[NSNAP];
	struct muppy_type_stat t[NSNAP][NTYPES];
	const struct muppy_snapshot *p[NSNAP];
};

/* Snapshots a minute apart, given in the order of `order` (a permutation). */
static void fake_init(struct fake *f, const struct series *ser, size_t n,
		      const size_t *order)
{
	size_t i, j;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		struct muppy_snapshot *s = &f->s[i];
		size_t at = order ? order[i] : i;

		s->pid = 42;
		s->time_ms = 1000000 + 60000 * (int64_t)at;
		s->executable = (char *)"/usr/bin/python3";
		s->python = (char *)"3.11.2";
		s->implementation = (char *)"cpython";
		s->types = f->t[i];
		for (j = 0; j < NTYPES && ser[j].name; j++) {
			uint64_t b = ser[j].bytes[at];

			if (b == UINT64_MAX)
				continue;
			f->t[i][s->ntypes++] = (struct muppy_type_stat){
				(char *)ser[j].name, b / 8, b };
			s->objects += b / 8;
			s->bytes += b;
		}
		f->p[i] = s;
	}
}

static const struct muppy_trend_row *row(const struct muppy_trend *t,
					 const char *name)
{
	size_t i;

	for (i = 0; i < t->nrows; i++)
		if (!strcmp(t->rows[i].name, name))
			return &t->rows[i];
	return NULL;
}

#define GONE UINT64_MAX

static void test_needed(void **state)
{
	(void)state;
	assert_int_equal(muppy__trend_needed(1), 1);
	assert_int_equal(muppy__trend_needed(4), 4);
	assert_int_equal(muppy__trend_needed(5), 4);
	assert_int_equal(muppy__trend_needed(9), 8);
	assert_int_equal(muppy__trend_needed(10), 8);
	assert_int_equal(muppy__trend_needed(11), 9);
}

static void test_theil_sen(void **state)
{
	double t[5] = { 0, 1, 2, 3, 4 }, scratch[10];
	uint64_t line[5] = { 10, 20, 30, 40, 50 };
	uint64_t outlier[5] = { 10, 20, 1000, 40, 50 };
	uint64_t flat[5] = { 7, 7, 7, 7, 7 };
	double same[3] = { 1, 1, 1 };

	(void)state;
	assert_true(muppy__theil_sen(t, line, 5, scratch) == 10.0);
	/* One wild value does not move the median slope. */
	assert_true(muppy__theil_sen(t, outlier, 5, scratch) == 10.0);
	assert_true(muppy__theil_sen(t, flat, 5, scratch) == 0.0);
	assert_true(muppy__theil_sen(same, line, 3, scratch) == 0.0);
}

static void test_suspects(void **state)
{
	static const struct series ser[] = {
		{ "leak", { 100, 200, 300, 400, 500, 600 } },
		{ "churn", { 500, 100, 900, 50, 800, 700 } },
		{ "late", { GONE, GONE, 80, 160, 240, 320 } },
		{ "gone", { 400, 400, 400, GONE, GONE, GONE } },
	};
	static const size_t shuffled[] = { 3, 0, 5, 1, 4, 2 };
	struct muppy_trend *t;
	struct fake f;

	(void)state;
	fake_init(&f, ser, 6, shuffled);
	assert_int_equal(muppy_trend_compute(f.p, 6, &t), 0);
	/* Taken in time order, whatever the order of the arguments. */
	assert_int_equal(t->input[0], 1);
	assert_int_equal(t->input[5], 2);
	assert_true(t->minutes == 5.0);
	assert_int_equal(t->nrows, 4);
	assert_int_equal(t->nsuspects, 2);
	assert_string_equal(t->suspects[0].name, "leak");
	assert_string_equal(t->suspects[1].name, "late");
	assert_int_equal(row(t, "leak")->rank, 1);
	assert_true(row(t, "leak")->bytes_rate == 100.0);
	assert_int_equal(row(t, "leak")->grew, 5);
	assert_int_equal(row(t, "late")->grew, 4);
	assert_int_equal(row(t, "late")->d_bytes, 320);
	assert_int_equal(row(t, "churn")->rank, 0);
	assert_int_equal(row(t, "gone")->rank, 0);
	assert_int_equal(row(t, "gone")->bytes[5], 0);
	assert_int_equal(row(t, "gone")->d_bytes, -400);
	/* Sorted by absolute byte rate: leak first. */
	assert_string_equal(t->rows[0].name, "leak");
	muppy_trend_sort(t, MUPPY_SORT_NAME);
	assert_string_equal(t->rows[0].name, "churn");
	muppy_trend_free(t);
}

static void test_few_intervals(void **state)
{
	/* Three snapshots: both intervals must grow. */
	static const struct series ser[] = {
		{ "up", { 1, 2, 3 } },
		{ "upflat", { 1, 2, 2 } },
		{ "same", { 5, 5, 5 } },
		{ NULL },
	};
	struct muppy_trend *t;
	struct fake f;

	(void)state;
	fake_init(&f, ser, 3, NULL);
	assert_int_equal(muppy_trend_compute(f.p, 3, &t), 0);
	assert_int_equal(t->nrows, 2); /* "same" never changed */
	assert_int_equal(t->nsuspects, 1);
	assert_string_equal(t->suspects[0].name, "up");
	muppy_trend_free(t);
}

static void test_errors(void **state)
{
	static const struct series ser[] = {
		{ "x", { 1, 2, 3 } }, { "x", { 1, 2, 3 } }, { NULL },
	};
	struct muppy_trend *t = NULL;
	struct fake f;

	(void)state;
	fake_init(&f, ser, 3, NULL);
	assert_int_equal(muppy_trend_compute(f.p, 2, &t), -EINVAL);
	assert_int_equal(muppy_trend_compute(f.p, 3, &t), -EINVAL);
	assert_null(t);
}

static void test_sparkline(void **state)
{
	uint64_t v[3] = { 0, 50, 100 }, flat[2] = { 3, 3 };
	char buf[128];

	(void)state;
	muppy__sparkline(buf, sizeof(buf), v, 3);
	assert_string_equal(buf, "\xe2\x96\x81\xe2\x96\x85\xe2\x96\x88");
	muppy__sparkline(buf, sizeof(buf), flat, 2);
	assert_string_equal(buf, "\xe2\x96\x81\xe2\x96\x81");
}

/* Prints through a memory stream; returns the text (free it). */
static char *prom_labels(const struct muppy_snapshot *s, size_t limit,
			 const struct muppy_label *labels, size_t nlabels)
{
	struct muppy_print_opts po = { .format = MUPPY_FORMAT_PROMETHEUS,
				       .limit = limit, .labels = labels,
				       .nlabels = nlabels };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(muppy_prom_print(f, s, &po), 0);
	fclose(f);
	return buf;
}

static char *prom(const struct muppy_snapshot *s, size_t limit)
{
	return prom_labels(s, limit, NULL, 0);
}

static void test_prom(void **state)
{
	static const struct series ser[] = {
		{ "big", { 800 } },
		{ "we\\x1b\"ird", { 80 } },
		{ "small", { 8 } },
		{ NULL },
	};
	struct fake f;
	char *out;

	(void)state;
	fake_init(&f, ser, 1, NULL);
	f.s[0].rss = 4096;
	f.s[0].hold_us = 1500;
	out = prom(&f.s[0], 2);
	assert_non_null(strstr(out, "# TYPE muppy_type_bytes gauge\n"
				    "# UNIT muppy_type_bytes bytes\n"));
	assert_non_null(strstr(out, "muppy_type_bytes{pid=\"42\",program=\"\","
				    "type=\"big\"} 800\n"));
	/* The escaped name's backslash and the quote, escaped again. */
	assert_non_null(strstr(out, "muppy_type_bytes{pid=\"42\",program=\"\",type=\"we"
				    "\\\\x1b\\\"ird\"} 80\n"));
	assert_non_null(strstr(out, "muppy_type_bytes{pid=\"42\",program=\"\",type="
				    "\"(other)\"} 8\n"));
	assert_null(strstr(out, "type=\"small\""));
	assert_non_null(strstr(out, "muppy_rss_bytes{pid=\"42\",program=\"\"} 4096\n"));
	assert_non_null(strstr(out, "muppy_walk_seconds{pid=\"42\",program=\"\"} "
				    "0.001500\n"));
	assert_non_null(strstr(out, "muppy_snapshot_timestamp_seconds"
				    "{pid=\"42\",program=\"\"} 1000.000\n"));
	assert_int_equal(strcmp(out + strlen(out) - 6, "# EOF\n"), 0);
	/* Frozen objects only when the snapshot knows them (format 1.1). */
	assert_null(strstr(out, "muppy_frozen_objects"));
	free(out);
	out = prom(&f.s[0], 0);
	assert_null(strstr(out, "(other)"));
	free(out);
	f.s[0].frozen_known = true;
	f.s[0].frozen = 12345;
	out = prom(&f.s[0], 0);
	assert_non_null(strstr(out, "# TYPE muppy_frozen_objects gauge\n"
				    "# HELP muppy_frozen_objects Objects "
				    "gc.freeze() moved to the permanent "
				    "generation (gc.get_freeze_count()).\n"
				    "muppy_frozen_objects{pid=\"42\",program=\"\"} 12345\n"
				    "# TYPE muppy_rss_bytes gauge\n"));
	free(out);
	f.s[0].frozen = 0;
	out = prom(&f.s[0], 0);
	assert_non_null(strstr(out, "muppy_frozen_objects{pid=\"42\",program=\"\"} 0\n"));
	free(out);
}

/* The command for the top suspect: quoted for the shell when need be,
 * the pid of the last snapshot in time; none without suspects or with a
 * comma in the name. */
static void test_next_command(void **state)
{
	static const struct {
		const char *name, *want; /* want NULL: -EINVAL */
	} cases[] = {
		{ "__main__.Leak", "muppy-snap --owners=__main__.Leak 44" },
		{ "a-b_c:d/e@f%g+h=i", "muppy-snap --owners=a-b_c:d/e@f%g+h=i 44" },
		{ "a b", "muppy-snap --owners='a b' 44" },
		{ "it's", "muppy-snap --owners='it'\\''s' 44" },
		{ "''", "muppy-snap --owners=''\\'''\\''' 44" },
		{ "$(x)`y`\\x1b", "muppy-snap --owners='$(x)`y`\\x1b' 44" },
		{ "\xc3\xa9t\xc3\xa9", "muppy-snap --owners='\xc3\xa9t\xc3\xa9' 44" },
		{ "", "muppy-snap --owners='' 44" },
		{ "a,b", NULL },
	};
	static const size_t order[] = { 0, 2, 1 };
	struct series ser[] = {
		{ "x", { 8, 16, 24 } }, { "flat", { 8, 8, 8 } }, { NULL },
	};
	struct muppy_trend *t;
	struct fake f;
	char *cmd;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("case %s\n", cases[i].name);
		ser[0].name = cases[i].name;
		fake_init(&f, ser, 3, order);
		f.s[1].pid = 44; /* the last in time: given second */
		assert_int_equal(muppy_trend_compute(f.p, 3, &t), 0);
		assert_int_equal(t->nsuspects, 1);
		if (!cases[i].want) {
			assert_int_equal(muppy_trend_next_command(t, &cmd),
					 -EINVAL);
			assert_null(cmd);
		} else {
			assert_int_equal(muppy_trend_next_command(t, &cmd), 0);
			assert_string_equal(cmd, cases[i].want);
			free(cmd);
		}
		muppy_trend_free(t);
	}
	ser[0].bytes[2] = 8; /* no suspect */
	fake_init(&f, ser, 3, NULL);
	assert_int_equal(muppy_trend_compute(f.p, 3, &t), 0);
	assert_int_equal(t->nsuspects, 0);
	assert_int_equal(muppy_trend_next_command(t, &cmd), -ENOENT);
	assert_null(cmd);
	muppy_trend_free(t);
}

static void test_prom_labels(void **state)
{
	static const struct series ser[] = { { "big", { 800 } }, { NULL } };
	static const struct muppy_label labels[] = {
		{ "job", "web" }, { "app", "a\\b\"c\nd \xc3\xa9" },
	};
	struct muppy_print_opts po = { .format = MUPPY_FORMAT_PROMETHEUS };
	struct fake f;
	char *out;
	FILE *null;

	(void)state;
	fake_init(&f, ser, 1, NULL);
	f.s[0].cmdline = (char *)"/usr/bin/python3 -u /srv/my\\x22app.py -p 1";
	f.s[0].implementation = (char *)"cpython";
	f.s[0].python = (char *)"3.11.2";
	out = prom_labels(&f.s[0], 0, labels, 2);
	/* Every series: pid, program, then the labels given, in order. */
	assert_non_null(strstr(out, "muppy_type_bytes{pid=\"42\",program="
				    "\"my\\\\x22app.py\",job=\"web\",app=\"a\\\\b"
				    "\\\"c\\nd \xc3\xa9\",type=\"big\"} 800\n"));
	assert_non_null(strstr(out, "muppy_rss_bytes{pid=\"42\",program="
				    "\"my\\\\x22app.py\",job=\"web\",app=\"a\\\\b"
				    "\\\"c\\nd \xc3\xa9\"} 0\n"));
	assert_non_null(strstr(out, "muppy_python_info{pid=\"42\",program="
				    "\"my\\\\x22app.py\",job=\"web\",app=\"a\\\\b"
				    "\\\"c\\nd \xc3\xa9\",implementation=\"cpython\","
				    "version=\"3.11.2\",executable="));
	free(out);

	/* Names of Prometheus, not muppy's own, each value UTF-8. */
	assert_true(muppy_prom_label_ok("job", ""));
	assert_true(muppy_prom_label_ok("_a1", "x"));
	assert_true(muppy_prom_label_ok("A_b", "\xf0\x9f\x98\x80"));
	assert_false(muppy_prom_label_ok("", "x"));
	assert_false(muppy_prom_label_ok("1a", "x"));
	assert_false(muppy_prom_label_ok("a-b", "x"));
	assert_false(muppy_prom_label_ok("a.b", "x"));
	assert_false(muppy_prom_label_ok("__name__", "x"));
	assert_false(muppy_prom_label_ok("__x", "x"));
	assert_false(muppy_prom_label_ok("pid", "x"));
	assert_false(muppy_prom_label_ok("program", "x"));
	assert_false(muppy_prom_label_ok("type", "x"));
	assert_false(muppy_prom_label_ok("version", "x"));
	assert_false(muppy_prom_label_ok("implementation", "x"));
	assert_false(muppy_prom_label_ok("executable", "x"));
	assert_false(muppy_prom_label_ok("job", "\xff"));
	assert_false(muppy_prom_label_ok("job", "\xc3"));
	assert_false(muppy_prom_label_ok("job", "\xed\xa0\x80")); /* surrogate */
	assert_false(muppy_prom_label_ok("job", "\xc0\xaf")); /* overlong */

	/* The printer refuses what the check refuses. */
	null = fopen("/dev/null", "w");
	assert_non_null(null);
	po.labels = (const struct muppy_label[]){ { "pid", "1" } };
	po.nlabels = 1;
	assert_int_equal(muppy_prom_print(null, &f.s[0], &po), -EINVAL);
	fclose(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_theil_sen),
		cmocka_unit_test(test_suspects),
		cmocka_unit_test(test_few_intervals),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_next_command),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_prom_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
