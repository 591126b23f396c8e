/* SPDX-License-Identifier: MIT */
/*
 * Printing a trend (analysis/trend.c): a table with a sparkline per type and
 * the leak suspects, tsv and json for programs, and an SVG chart of the
 * top types over time.  Output helpers, name shortening and JSON strings
 * are lib/output/'s (stream.c, cells.c, json.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define CELL MUPPY__CELL
/* Points of a sparkline at most; longer series are sampled evenly. */
#define SPARK_MAX 24
/* Snapshots listed above a table at most (half first, half last). */
#define HEADER_FILES 10
/* Holders shown under a suspect in a table at most. */
#define SUSPECT_HOLDERS 3

#define BOLD_RED "\033[1;31m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* File names in argument order, escaped (they come from the command line). */
static char **names_escape(const struct muppy_trend *t,
			   const char *const *names)
{
	char **e = calloc(t->n, sizeof(*e));
	size_t i;

	if (!e)
		return NULL;
	for (i = 0; i < t->n; i++) {
		const char *s = names && names[i] ? names[i] : "(unnamed)";

		e[i] = muppy_escape(s, strlen(s));
		if (!e[i]) {
			while (i--)
				free(e[i]);
			free(e);
			return NULL;
		}
	}
	return e;
}

static void names_free(char **e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i]);
	free(e);
}

static size_t rows_shown(const struct muppy_trend *t, size_t limit)
{
	return limit && limit < t->nrows ? limit : t->nrows;
}

static const char *sort_name(enum muppy_sort s)
{
	return s == MUPPY_SORT_COUNT ? "count" :
	       s == MUPPY_SORT_NAME ? "name" : "size";
}

/* "+500.0", "-3.5", "0". */
static void format_rate(char *buf, size_t size, double v)
{
	if (v > -0.05 && v < 0.05)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "%+.1f", v);
}

static int64_t round_rate(double v)
{
	if (v >= 9.2e18)
		return INT64_MAX;
	if (v <= -9.2e18)
		return -INT64_MAX;
	return (int64_t)(v < 0 ? v - 0.5 : v + 0.5);
}

static void format_span(char *buf, size_t size, double minutes)
{
	if (minutes < 1)
		snprintf(buf, size, "%.1f s", minutes * 60);
	else if (minutes < 120)
		snprintf(buf, size, "%.1f min", minutes);
	else
		snprintf(buf, size, "%.1f h", minutes / 60);
}

/* --- sparkline ------------------------------------------------------------ */

void muppy__sparkline(char *buf, size_t size, const uint64_t *v, size_t n)
{
	static const char *const bars[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	size_t w = n < SPARK_MAX ? n : SPARK_MAX, i, len = 0;
	uint64_t lo = UINT64_MAX, hi = 0;

	for (i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	buf[0] = '\0';
	for (i = 0; i < w && len + 4 <= size; i++) {
		size_t at = w > 1 ? i * (n - 1) / (w - 1) : 0;
		unsigned level = hi > lo ? (unsigned)((double)(v[at] - lo) * 7.0 /
					      (double)(hi - lo) + 0.5) : 0;

		memcpy(buf + len, bars[level], 3);
		len += 3;
		buf[len] = '\0';
	}
}

/* --- table ---------------------------------------------------------------- */

enum { COL_CRATE, COL_BRATE, COL_GREW, COL_DCOUNT, COL_DBYTES, COL_BYTES,
       COL_SPARK, NCOLS };

static const char *const col_titles[NCOLS] = {
	"objects/min", "bytes/min", "grew", "\xce\x94 objects",
	"\xce\x94 bytes", "bytes", "trend",
};

static void cells_fill(char cell[NCOLS][CELL], const struct muppy_trend *t,
		       const struct muppy_trend_row *r)
{
	format_rate(cell[COL_CRATE], CELL, r->count_rate);
	muppy_human_delta(cell[COL_BRATE], CELL, round_rate(r->bytes_rate));
	snprintf(cell[COL_GREW], CELL, "%zu/%zu", r->grew, t->n - 1);
	muppy__format_signed(cell[COL_DCOUNT], CELL, r->d_count);
	muppy_human_delta(cell[COL_DBYTES], CELL, r->d_bytes);
	muppy_human_bytes(cell[COL_BYTES], CELL, r->bytes[t->n - 1]);
	muppy__sparkline(cell[COL_SPARK], CELL, r->bytes, t->n);
}

static void cells_print(struct muppy__out *o, const size_t width[NCOLS],
			char cell[NCOLS][CELL], const char *name, bool hot,
			bool color)
{
	muppy__cells_print(o, width, (const muppy__cell *)cell, NCOLS,
			   COL_SPARK);
	if (hot && color)
		muppy__out_str(o, BOLD_RED);
	muppy__out_name(o, name);
	if (hot && color)
		muppy__out_str(o, RESET);
	muppy__out_str(o, "\n");
}

static bool one_pid(const struct muppy_trend *t)
{
	size_t i;

	for (i = 1; i < t->n; i++)
		if (t->snaps[i]->pid != t->snaps[0]->pid)
			return false;
	return true;
}

/* "trend of 5 snapshots of pid 4242 over 20.0 min", then one line each. */
static void table_header(struct muppy__out *o, const struct muppy_trend *t,
			 char **names)
{
	size_t wfile = 0, wobj = 0, wbytes = 0, wnum, i;
	char span[CELL], when[CELL], num[CELL], cell[CELL];

	format_span(span, sizeof(span), t->minutes);
	if (one_pid(t))
		muppy__out_printf(o, "trend of %zu snapshots of pid %" PRId64
				  " over %s\n", t->n, t->snaps[0]->pid, span);
	else
		muppy__out_printf(o, "trend of %zu snapshots of several "
				  "processes over %s\n", t->n, span);
	snprintf(num, sizeof(num), "%zu", t->n);
	wnum = strlen(num);
	for (i = 0; i < t->n; i++) {
		size_t w = muppy__text_width(names[t->input[i]]);

		wfile = w > wfile ? w : wfile;
		snprintf(cell, sizeof(cell), "%" PRIu64, t->snaps[i]->objects);
		wobj = strlen(cell) > wobj ? strlen(cell) : wobj;
		muppy_human_bytes(cell, sizeof(cell), t->snaps[i]->bytes);
		w = muppy__text_width(cell);
		wbytes = w > wbytes ? w : wbytes;
	}
	for (i = 0; i < t->n; i++) {
		const struct muppy_snapshot *s = t->snaps[i];

		/* Long series: the first and last few. */
		if (t->n > HEADER_FILES && i == HEADER_FILES / 2) {
			muppy__out_printf(o, "  ... %zu more\n",
					  t->n - HEADER_FILES);
			i = t->n - HEADER_FILES / 2 - 1;
			continue;
		}
		snprintf(num, sizeof(num), "%zu", i + 1);
		muppy__out_str(o, "  ");
		muppy__out_cell(o, num, wnum, false);
		muppy__out_str(o, "  ");
		muppy__out_cell(o, names[t->input[i]], wfile, true);
		muppy_time_format(when, sizeof(when), s->time_ms);
		muppy__out_printf(o, "  pid %" PRId64 "  %s  ", s->pid, when);
		snprintf(cell, sizeof(cell), "%" PRIu64, s->objects);
		muppy__out_cell(o, cell, wobj, false);
		muppy__out_str(o, " objects  ");
		muppy_human_bytes(cell, sizeof(cell), s->bytes);
		muppy__out_cell(o, cell, wbytes, false);
		muppy__out_str(o, "\n");
	}
	muppy__out_str(o, "\n");
}

/* The owners of a suspect in the last snapshot, if it has them. */
static const struct muppy_owners *last_owners(const struct muppy_trend *t,
					      const struct muppy_trend_row *r)
{
	return muppy_snapshot_owners(t->snaps[t->n - 1], r->name);
}

/*
 * Under a suspect, its largest holders in the last snapshot:
 *      held by, in the last snapshot:
 *        3495  191.1 KiB  dict values of app.state.SESSIONS
 *      ... 2 more holders
 */
static int suspect_holders(struct muppy__out *o, const struct muppy_owners *ow)
{
	const struct muppy_holder **h = muppy__holders_sorted(ow);
	size_t shown = ow->nholders < SUSPECT_HOLDERS ? ow->nholders :
		       SUSPECT_HOLDERS, wc = 0, wb = 0, i;
	char count[CELL], bytes[CELL];

	if (!h)
		return -ENOMEM;
	for (i = 0; i < shown; i++) {
		snprintf(count, sizeof(count), "%" PRIu64, h[i]->count);
		muppy_human_bytes(bytes, sizeof(bytes), h[i]->bytes);
		wc = strlen(count) > wc ? strlen(count) : wc;
		wb = muppy__text_width(bytes) > wb ? muppy__text_width(bytes) : wb;
	}
	muppy__out_str(o, ow->nholders ? "     held by, in the last snapshot:\n" :
		       "     held by, in the last snapshot: no holder recorded\n");
	for (i = 0; i < shown; i++) {
		snprintf(count, sizeof(count), "%" PRIu64, h[i]->count);
		muppy_human_bytes(bytes, sizeof(bytes), h[i]->bytes);
		muppy__out_str(o, "       ");
		muppy__out_cell(o, count, wc, false);
		muppy__out_str(o, "  ");
		muppy__out_cell(o, bytes, wb, false);
		muppy__out_str(o, "  ");
		muppy__out_name(o, h[i]->name);
		muppy__out_str(o, "\n");
	}
	if (shown < ow->nholders)
		muppy__out_printf(o, "       ... %zu more holder%s "
				  "(--format=json shows all)\n",
				  ow->nholders - shown,
				  ow->nholders - shown == 1 ? "" : "s");
	free(h);
	return 0;
}

/* "next: muppy-snap --owners=TYPE PID", or why there is none. */
static int next_line(struct muppy__out *o, const struct muppy_trend *t)
{
	char *cmd;
	int rc = muppy_trend_next_command(t, &cmd);

	if (rc == -EINVAL) {
		muppy__out_str(o, "next: no muppy-snap --owners command for ");
		muppy__out_name(o, t->suspects[0].name);
		muppy__out_str(o, ": its name has a comma, which --owners "
			       "cannot take\n");
		return 0;
	}
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	/* Whole, however long: it is to be run (and escaped already). */
	muppy__out_str(o, "next: ");
	muppy__out_str(o, cmd);
	muppy__out_str(o, "\n");
	free(cmd);
	return 0;
}

static int print_suspects(struct muppy__out *o, const struct muppy_trend *t,
			  size_t limit, bool color)
{
	int rc;

	size_t shown = limit && limit < t->nsuspects ? limit : t->nsuspects;
	size_t i;
	char rate[CELL], crate[CELL];

	if (color)
		muppy__out_str(o, BOLD);
	if (!t->nsuspects) {
		muppy__out_str(o, "leak suspects: none");
		muppy__out_str(o, color ? RESET "\n" : "\n");
		return 0;
	}
	muppy__out_printf(o, "leak suspects (bytes grew in at least %zu of %zu "
			  "intervals), steadiest growth first:",
			  muppy__trend_needed(t->n - 1), t->n - 1);
	muppy__out_str(o, color ? RESET "\n" : "\n");
	for (i = 0; i < shown; i++) {
		const struct muppy_trend_row *r = &t->suspects[i];

		muppy_human_delta(rate, sizeof(rate), round_rate(r->bytes_rate));
		format_rate(crate, sizeof(crate), r->count_rate);
		muppy__out_printf(o, "  %zu. ", r->rank);
		if (color)
			muppy__out_str(o, BOLD_RED);
		muppy__out_name(o, r->name);
		if (color)
			muppy__out_str(o, RESET);
		muppy__out_printf(o, "  %s/min, %s objects/min, grew in %zu of "
				  "%zu intervals\n", rate, crate, r->grew,
				  t->n - 1);
		if (last_owners(t, r)) {
			rc = suspect_holders(o, last_owners(t, r));
			if (rc < 0)
				return rc;
		}
	}
	if (shown < t->nsuspects)
		muppy__out_printf(o, "  ... %zu more suspect%s (--limit=0 shows "
				  "all)\n", t->nsuspects - shown,
				  t->nsuspects - shown == 1 ? "" : "s");
	return next_line(o, t);
}

static int print_table(struct muppy__out *o, const struct muppy_trend *t,
		       const struct muppy_print_opts *opts, char **names)
{
	size_t shown = rows_shown(t, opts->limit), hidden = t->nrows - shown;
	size_t width[NCOLS], i;
	char cell[NCOLS][CELL];

	table_header(o, t, names);
	if (!t->nrows) {
		muppy__out_str(o, "no change\n");
	} else {
		for (i = 0; i < NCOLS; i++)
			width[i] = muppy__text_width(col_titles[i]);
		for (i = 0; i < shown; i++) {
			cells_fill(cell, t, &t->rows[i]);
			muppy__cells_widen(width, (const muppy__cell *)cell, NCOLS);
		}
		cells_fill(cell, t, &t->total);
		muppy__cells_widen(width, (const muppy__cell *)cell, NCOLS);
		muppy__cells_titles(o, width, col_titles, NCOLS, COL_SPARK);
		for (i = 0; i < shown; i++) {
			cells_fill(cell, t, &t->rows[i]);
			cells_print(o, width, cell, t->rows[i].name,
				    t->rows[i].rank > 0, opts->color);
		}
		if (hidden)
			muppy__out_printf(o, "... %zu more type%s changed "
					  "(--limit=0 shows all)\n", hidden,
					  hidden == 1 ? "" : "s");
		muppy__cells_rule(o, width, NCOLS);
		cells_fill(cell, t, &t->total);
		cells_print(o, width, cell, "total", false, false);
	}
	muppy__out_str(o, "\n");
	return print_suspects(o, t, opts->limit, opts->color);
}

/* --- tsv ----------------------------------------------------------------- */

static void out_series(struct muppy__out *o, const uint64_t *v, size_t n,
		       const char *sep)
{
	size_t i;

	for (i = 0; i < n; i++)
		muppy__out_printf(o, "%s%" PRIu64, i ? sep : "", v[i]);
}

static void print_tsv(struct muppy__out *o, const struct muppy_trend *t,
		      const struct muppy_print_opts *opts)
{
	size_t shown = rows_shown(t, opts->limit), i;

	muppy__out_str(o, "objects_per_min\tbytes_per_min\tgrew\tintervals\t"
			  "d_count\td_bytes\tcount\tbytes\trank\tcounts\t"
			  "bytes_series\ttype\n");
	for (i = 0; i < shown; i++) {
		const struct muppy_trend_row *r = &t->rows[i];

		muppy__out_printf(o, "%.3f\t%.3f\t%zu\t%zu\t%" PRId64 "\t%"
				  PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t%zu\t",
				  r->count_rate, r->bytes_rate, r->grew,
				  t->n - 1, r->d_count, r->d_bytes,
				  r->count[t->n - 1], r->bytes[t->n - 1],
				  r->rank);
		out_series(o, r->count, t->n, ",");
		muppy__out_str(o, "\t");
		out_series(o, r->bytes, t->n, ",");
		muppy__out_str(o, "\t");
		muppy__out_str(o, r->name);
		muppy__out_str(o, "\n");
	}
}

/* --- json ----------------------------------------------------------------- */

static void json_measures(struct muppy__out *o, const struct muppy_trend *t,
			  const struct muppy_trend_row *r)
{
	muppy__out_printf(o, "\"objects_per_min\": %.3f, \"bytes_per_min\": "
			  "%.3f, \"grew\": %zu, \"d_count\": %" PRId64
			  ", \"d_bytes\": %" PRId64 ", \"counts\": [",
			  r->count_rate, r->bytes_rate, r->grew, r->d_count,
			  r->d_bytes);
	out_series(o, r->count, t->n, ", ");
	muppy__out_str(o, "], \"bytes\": [");
	out_series(o, r->bytes, t->n, ", ");
	muppy__out_str(o, "]");
}

/* ", \"held_by\": [...]": every holder of a suspect in the last snapshot. */
static int json_holders(struct muppy__out *o, const struct muppy_owners *ow)
{
	const struct muppy_holder **h = muppy__holders_sorted(ow);

	if (!h)
		return -ENOMEM;
	muppy__json_held_by(o, h, ow->nholders);
	free(h);
	return 0;
}

static int print_json(struct muppy__out *o, const struct muppy_trend *t,
		      const struct muppy_print_opts *opts, char **names)
{
	size_t shown = rows_shown(t, opts->limit), i;
	char when[CELL], *cmd;
	int rc;

	muppy__out_str(o, "{\n  \"schema\": \"muppy-trend/1\",\n"
			  "  \"snapshots\": [");
	for (i = 0; i < t->n; i++) {
		const struct muppy_snapshot *s = t->snaps[i];

		muppy_time_format(when, sizeof(when), s->time_ms);
		muppy__out_str(o, i ? ",\n    {\"file\": " : "\n    {\"file\": ");
		muppy__json_string(o, names[t->input[i]]);
		muppy__out_printf(o, ", \"pid\": %" PRId64 ", \"time\": ",
				  s->pid);
		muppy__json_string(o, when);
		muppy__out_str(o, ", \"python\": ");
		muppy__json_string(o, s->python);
		muppy__out_str(o, ", \"executable\": ");
		muppy__json_string(o, s->executable);
		muppy__out_printf(o, ", \"rss\": %" PRIu64 ", \"objects\": %"
				  PRIu64 ", \"bytes\": %" PRIu64 "}", s->rss,
				  s->objects, s->bytes);
	}
	muppy__out_printf(o, "\n  ],\n  \"minutes\": %.3f,\n  \"intervals\": "
			  "%zu,\n  \"needed\": %zu,\n  \"sort\": \"%s\",\n"
			  "  \"types\": [", t->minutes, t->n - 1,
			  muppy__trend_needed(t->n - 1), sort_name(t->sort));
	for (i = 0; i < shown; i++) {
		const struct muppy_trend_row *r = &t->rows[i];

		muppy__out_str(o, i ? ",\n    {\"type\": " : "\n    {\"type\": ");
		muppy__json_string(o, r->name);
		muppy__out_printf(o, ", \"rank\": %zu, ", r->rank);
		json_measures(o, t, r);
		muppy__out_str(o, "}");
	}
	muppy__out_printf(o, "%s],\n  \"hidden\": %zu,\n  \"total\": {",
			  shown ? "\n  " : "", t->nrows - shown);
	json_measures(o, t, &t->total);
	muppy__out_str(o, "},\n  \"suspects\": [");
	for (i = 0; i < t->nsuspects; i++) {
		const struct muppy_trend_row *r = &t->suspects[i];

		muppy__out_printf(o, "%s{\"rank\": %zu, \"type\": ",
				  i ? ",\n    " : "\n    ", r->rank);
		muppy__json_string(o, r->name);
		muppy__out_printf(o, ", \"score\": %.3f, \"bytes_per_min\": "
				  "%.3f, \"objects_per_min\": %.3f, \"grew\": "
				  "%zu", r->score, r->bytes_rate,
				  r->count_rate, r->grew);
		if (last_owners(t, r)) {
			rc = json_holders(o, last_owners(t, r));
			if (rc < 0)
				return rc;
		}
		muppy__out_str(o, "}");
	}
	muppy__out_printf(o, "%s],\n  \"next_command\": ",
			  t->nsuspects ? "\n  " : "");
	rc = muppy_trend_next_command(t, &cmd);
	if (rc < 0 && rc != -ENOENT && rc != -EINVAL)
		return rc;
	muppy__json_string(o, rc < 0 ? NULL : cmd);
	free(rc < 0 ? NULL : cmd);
	muppy__out_str(o, "\n}\n");
	return 0;
}

int muppy_trend_print(FILE *f, const struct muppy_trend *t,
		      const struct muppy_print_opts *opts,
		      const char *const *names)
{
	struct muppy__out o;
	char **esc;
	int rc = 0;

	if (opts->format != MUPPY_FORMAT_TABLE &&
	    opts->format != MUPPY_FORMAT_TSV &&
	    opts->format != MUPPY_FORMAT_JSON &&
	    opts->format != MUPPY_FORMAT_SVG)
		return -EINVAL;
	esc = names_escape(t, names);
	if (!esc)
		return -ENOMEM;
	muppy__out_init(&o, f);
	switch (opts->format) {
	case MUPPY_FORMAT_TABLE:
		rc = print_table(&o, t, opts, esc);
		break;
	case MUPPY_FORMAT_TSV:
		print_tsv(&o, t, opts);
		break;
	case MUPPY_FORMAT_SVG:
		muppy__trend_svg(&o, t, opts->limit);
		break;
	default:
		rc = print_json(&o, t, opts, esc);
		break;
	}
	names_free(esc, t->n);
	return muppy__out_finish(&o) ?: rc;
}
