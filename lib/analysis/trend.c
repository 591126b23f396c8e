/* SPDX-License-Identifier: MIT */
/*
 * Trends across many snapshots: the series of each type in capture-time
 * order, its growth rates (Theil-Sen slopes per minute) and the ranking
 * of leak suspects.  The rule is in muppy.h and muppy-diff(1).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* Slopes computed at most, per series; more pairs are sampled evenly. */
#define MAX_PAIRS 20000

/* One row of one snapshot, for grouping rows by name. */
struct entry {
	const char *name;
	size_t snap; /* position in time order */
	const struct muppy_type_stat *st;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->snap < y->snap ? -1 : x->snap > y->snap;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double muppy__theil_sen(const double *t, const uint64_t *y, size_t n,
			double *scratch)
{
	size_t pairs = n * (n - 1) / 2, step, k = 0, p = 0, i, j;

	if (n < 2)
		return 0;
	step = pairs > MAX_PAIRS ? (pairs + MAX_PAIRS - 1) / MAX_PAIRS : 1;
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++, p++) {
			if (p % step || !(t[j] > t[i]))
				continue;
			scratch[k++] = ((double)y[j] - (double)y[i]) /
				       (t[j] - t[i]);
		}
	}
	return median(scratch, k);
}

size_t muppy__trend_needed(size_t intervals)
{
	if (intervals < MUPPY_TREND_ALL_BELOW)
		return intervals;
	return (intervals * MUPPY_TREND_GREW_PCT + 99) / 100;
}

/* Rates, growth and the verdict of one series. */
static void row_measure(struct muppy_trend_row *r, const double *t, size_t n,
			double *scratch)
{
	size_t i, m = n - 1;

	r->count_rate = muppy__theil_sen(t, r->count, n, scratch);
	r->bytes_rate = muppy__theil_sen(t, r->bytes, n, scratch);
	r->d_count = (int64_t)r->count[m] - (int64_t)r->count[0];
	r->d_bytes = (int64_t)r->bytes[m] - (int64_t)r->bytes[0];
	r->grew = 0;
	for (i = 0; i < m; i++)
		if (r->bytes[i + 1] > r->bytes[i])
			r->grew++;
	r->rank = 0;
	r->score = 0;
	if (r->grew >= muppy__trend_needed(m) && r->grew > 0 &&
	    r->d_bytes > 0 && r->bytes_rate > 0)
		r->score = r->bytes_rate * (double)r->grew / (double)m;
}

static double mag(double v)
{
	return v < 0 ? -v : v;
}

static int cmp_mag(double a, double b)
{
	a = mag(a);
	b = mag(b);
	return a > b ? -1 : a < b;
}

static int cmp_imag(int64_t a, int64_t b)
{
	uint64_t x = a < 0 ? -(uint64_t)a : (uint64_t)a;
	uint64_t y = b < 0 ? -(uint64_t)b : (uint64_t)b;

	return x > y ? -1 : x < y;
}

static int cmp_size(const void *a, const void *b)
{
	const struct muppy_trend_row *x = a, *y = b;
	int c = cmp_mag(x->bytes_rate, y->bytes_rate);

	if (!c)
		c = cmp_imag(x->d_bytes, y->d_bytes);
	if (!c)
		c = cmp_mag(x->count_rate, y->count_rate);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_count(const void *a, const void *b)
{
	const struct muppy_trend_row *x = a, *y = b;
	int c = cmp_mag(x->count_rate, y->count_rate);

	if (!c)
		c = cmp_imag(x->d_count, y->d_count);
	if (!c)
		c = cmp_mag(x->bytes_rate, y->bytes_rate);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b)
{
	const struct muppy_trend_row *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_score(const void *a, const void *b)
{
	const struct muppy_trend_row *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->name, y->name);
}

void muppy_trend_sort(struct muppy_trend *t, enum muppy_sort by)
{
	int (*cmp)(const void *, const void *) =
		by == MUPPY_SORT_COUNT ? cmp_count :
		by == MUPPY_SORT_NAME ? cmp_name : cmp_size;

	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof(*t->rows), cmp);
	t->sort = by;
}

/* A trend as muppy_trend_compute() makes it: the public part first,
 * then what only this file uses. */
struct trend {
	struct muppy_trend pub;
	uint64_t *values; /* storage of the rows' series */
};

static struct trend *to_trend(struct muppy_trend *t)
{
	return (struct trend *)((char *)t - offsetof(struct trend, pub));
}

void muppy_trend_free(struct muppy_trend *t)
{
	if (!t)
		return;
	free(t->snaps);
	free(t->input);
	free(t->rows);
	free(t->suspects);
	free(to_trend(t)->values);
	free(to_trend(t));
}

/* Snapshot positions in capture-time order, ties in argument order. */
static int order_by_time(struct muppy_trend *t,
			 const struct muppy_snapshot *const *snaps, size_t n)
{
	size_t i, j;

	t->snaps = calloc(n, sizeof(*t->snaps));
	t->input = calloc(n, sizeof(*t->input));
	if (!t->snaps || !t->input)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && snaps[t->input[j - 1]]->time_ms >
				      snaps[i]->time_ms; j--)
			t->input[j] = t->input[j - 1];
		t->input[j] = i;
	}
	for (i = 0; i < n; i++)
		t->snaps[i] = snaps[t->input[i]];
	t->n = n;
	t->minutes = (double)(t->snaps[n - 1]->time_ms - t->snaps[0]->time_ms) /
		     60000.0;
	return 0;
}

/* All rows of all snapshots, grouped by name; *ntypes distinct names. */
static int collect(const struct muppy_trend *t, struct entry **out,
		   size_t *nentries, size_t *ntypes)
{
	size_t total = 0, i, j, k = 0;
	struct entry *e;

	for (i = 0; i < t->n; i++) {
		if (t->snaps[i]->objects > MUPPY_MAX_VALUE ||
		    t->snaps[i]->bytes > MUPPY_MAX_VALUE)
			return -EOVERFLOW;
		total += t->snaps[i]->ntypes;
	}
	e = calloc(total ? total : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->snaps[i]->ntypes; j++) {
			const struct muppy_type_stat *st = &t->snaps[i]->types[j];

			if (!st->name || st->count > MUPPY_MAX_VALUE ||
			    st->bytes > MUPPY_MAX_VALUE) {
				free(e);
				return st->name ? -EOVERFLOW : -EINVAL;
			}
			e[k++] = (struct entry){ st->name, i, st };
		}
	}
	if (total > 1)
		qsort(e, total, sizeof(*e), cmp_entry);
	*ntypes = 0;
	for (i = 0; i < total; i++) {
		if (i && !strcmp(e[i - 1].name, e[i].name)) {
			if (e[i - 1].snap == e[i].snap) {
				free(e);
				return -EINVAL;
			}
			continue;
		}
		(*ntypes)++;
	}
	*out = e;
	*nentries = total;
	return 0;
}

static bool constant(const struct muppy_trend_row *r, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (r->count[i] != r->count[0] || r->bytes[i] != r->bytes[0])
			return false;
	return true;
}

/* Fills rows (types that ever changed) and the total from the entries. */
static int build_rows(struct muppy_trend *t, const struct entry *e,
		      size_t nentries, size_t ntypes, double *tmin,
		      double *scratch)
{
	size_t n = t->n, i = 0, slot = 0;
	uint64_t *v, *values;

	values = calloc((ntypes + 1) * 2 * n, sizeof(*values));
	to_trend(t)->values = values;
	t->rows = calloc(ntypes ? ntypes : 1, sizeof(*t->rows));
	if (!values || !t->rows)
		return -ENOMEM;
	while (i < nentries) {
		struct muppy_trend_row *r = &t->rows[t->nrows];

		v = values + slot * 2 * n;
		memset(v, 0, 2 * n * sizeof(*v));
		r->name = e[i].name;
		r->count = v;
		r->bytes = v + n;
		for (; i < nentries && !strcmp(e[i].name, r->name); i++) {
			v[e[i].snap] = e[i].st->count;
			v[n + e[i].snap] = e[i].st->bytes;
		}
		if (constant(r, n))
			continue;
		row_measure(r, tmin, n, scratch);
		t->nrows++;
		slot++;
	}
	v = values + ntypes * 2 * n;
	for (i = 0; i < n; i++) {
		v[i] = t->snaps[i]->objects;
		v[n + i] = t->snaps[i]->bytes;
	}
	t->total.name = "total";
	t->total.count = v;
	t->total.bytes = v + n;
	row_measure(&t->total, tmin, n, scratch);
	t->total.score = 0;
	return 0;
}

static int rank_suspects(struct muppy_trend *t)
{
	size_t i;

	t->suspects = calloc(t->nrows ? t->nrows : 1, sizeof(*t->suspects));
	if (!t->suspects)
		return -ENOMEM;
	for (i = 0; i < t->nrows; i++)
		if (t->rows[i].score > 0)
			t->suspects[t->nsuspects++] = t->rows[i];
	if (t->nsuspects > 1)
		qsort(t->suspects, t->nsuspects, sizeof(*t->suspects),
		      cmp_score);
	/* Give the rows their rank: both lists are small enough. */
	for (i = 0; i < t->nsuspects; i++) {
		t->suspects[i].rank = i + 1;
		for (size_t j = 0; j < t->nrows; j++)
			if (t->rows[j].name == t->suspects[i].name)
				t->rows[j].rank = i + 1;
	}
	return 0;
}

int muppy_trend_compute(const struct muppy_snapshot *const *snaps, size_t n,
			struct muppy_trend **out)
{
	size_t nentries = 0, ntypes = 0, pairs, i;
	struct entry *e = NULL;
	double *tmin = NULL, *scratch = NULL;
	struct muppy_trend *t;
	struct trend *tr;
	int rc;

	if (n < 3)
		return -EINVAL;
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	t = &tr->pub;
	rc = order_by_time(t, snaps, n);
	if (rc)
		goto out_free;
	rc = collect(t, &e, &nentries, &ntypes);
	if (rc)
		goto out_free;
	pairs = n * (n - 1) / 2;
	tmin = calloc(n, sizeof(*tmin));
	scratch = calloc(pairs < MAX_PAIRS ? pairs : MAX_PAIRS, sizeof(*scratch));
	if (!tmin || !scratch) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < n; i++)
		tmin[i] = (double)(t->snaps[i]->time_ms - t->snaps[0]->time_ms) /
			  60000.0;
	rc = build_rows(t, e, nentries, ntypes, tmin, scratch);
	if (!rc)
		rc = rank_suspects(t);
	if (rc)
		goto out_free;
	muppy_trend_sort(t, MUPPY_SORT_SIZE);
	*out = t;
	t = NULL;
out_free:
	free(scratch);
	free(tmin);
	free(e);
	muppy_trend_free(t);
	return rc;
}

int muppy_trend_next_command(const struct muppy_trend *t, char **out)
{
	const char *name;
	char *q;
	int n;

	*out = NULL;
	if (!t->nsuspects)
		return -ENOENT;
	name = t->suspects[0].name;
	if (strchr(name, ','))
		return -EINVAL;
	q = muppy__shell_quote(name);
	if (!q)
		return -ENOMEM;
	n = asprintf(out, "muppy-snap --owners=%s %" PRId64, q,
		     t->snaps[t->n - 1]->pid);
	free(q);
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
