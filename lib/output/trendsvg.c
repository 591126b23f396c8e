/* SPDX-License-Identifier: MIT */
/*
 * An SVG line chart of a trend: the bytes of the top types over time,
 * leak suspects first, and the total, for people to look at in a
 * browser.  The y axis has round ticks in binary units (0, 2 MiB, 4 MiB,
 * 6 MiB; 0, 0.5 MiB, 1 MiB), its top the first tick at or above the
 * largest value; the x axis round times since the
 * first snapshot, whose absolute time the title and the axis name.  Each
 * line has its own color, dash pattern and point marker, so lines that
 * lie on each other stay apart in the legend and at the points.  Legend
 * names are shortened with an ellipsis to fit; every line and legend
 * entry carries the full name in a <title>.  Deterministic output (fixed
 * geometry, fixed palette) so it can be tested.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define W 960
#define H 480
#define X0 90.0   /* plot area */
#define X1 600.0
#define Y0 40.0
#define Y1 410.0
#define LEGEND_X 620
#define LEGEND_TEXT_X (LEGEND_X + 36)
#define LEGEND_ROW 20
/* Characters of a legend entry: 12 px sans-serif text averages under
 * 7.5 px a character, and the legend has W - 10 - LEGEND_TEXT_X px. */
#define LEGEND_CHARS 36
#define Y_TICKS_MAX 5
#define X_TICKS_MAX 8
#define MARKERS_MAX_POINTS 40 /* beyond, markers at the ends only */

static const char *const palette[] = {
	"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
static const char *const dashes[] = { NULL, "7 3", "2 2", "9 3 2 3" };
/* Point markers, drawn around 0,0 within -4.5..4.5. */
static const char *const shapes[] = {
	"<circle r=\"3.5\"",
	"<rect x=\"-3.5\" y=\"-3.5\" width=\"7\" height=\"7\"",
	"<path d=\"M0 -4.5 L4.5 3.5 H-4.5 Z\"",
	"<path d=\"M0 -4.5 L4.5 0 L0 4.5 L-4.5 0 Z\"",
	"<path d=\"M-4 -4 L4 4 M-4 4 L4 -4\" stroke-width=\"2\"",
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* Text for XML: the escaped name is printable; &, <, >, " and ' remain. */
static const char *xml_rep(char c)
{
	return c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" :
	       c == '"' ? "&quot;" : c == '\'' ? "&apos;" : NULL;
}

static void out_xml(struct muppy__out *o, const char *s, size_t len)
{
	muppy__out_replaced(o, s, len, xml_rep);
}

/* The name in at most max characters: cut with an ellipsis (U+2026). */
static void out_xml_fit(struct muppy__out *o, const char *name, size_t max)
{
	size_t len = strlen(name), keep;

	if (muppy__text_width(name) <= max) {
		out_xml(o, name, len);
		return;
	}
	/* bytes are at least characters: max - 1 bytes fit with the "…" */
	keep = muppy__escaped_cut(name, len, max - 1);
	out_xml(o, name, keep);
	muppy__out_str(o, "\xe2\x80\xa6");
}

/* The rows to draw: suspects by rank, then the others in table order. */
static size_t pick(const struct muppy_trend *t, size_t limit,
		   const struct muppy_trend_row **out)
{
	size_t k = 0, i;

	for (i = 0; i < t->nsuspects && k < limit; i++)
		out[k++] = &t->suspects[i];
	for (i = 0; i < t->nrows && k < limit; i++)
		if (!t->rows[i].rank)
			out[k++] = &t->rows[i];
	return k;
}

/* --- the y axis: bytes ---------------------------------------------------- */

static const char *const byte_units[] = {
	"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
};

struct y_axis {
	uint64_t step, top;   /* top = step * ticks */
	unsigned ticks;
	unsigned unit;        /* labels in byte_units[unit] */
};

/*
 * The smallest step with at most Y_TICKS_MAX ticks up to max (>= 1) of
 * 1, 2 or 5 times 1, 10 or 100 of a binary unit (B, KiB, ...), or a
 * quarter or a half of one, whose labels stay below 1024 of it: 0,
 * 0.5 MiB, 1 MiB, 1.5 MiB; 0, 2 MiB, 4 MiB, 6 MiB.
 */
static void y_axis(struct y_axis *a, uint64_t max)
{
	/* in quarters of the unit */
	static const uint64_t q[] = { 1, 2, 4, 8, 20, 40, 80, 200, 400, 800,
				      2000 };
	uint64_t pow = 1;

	for (unsigned u = 0; u < ARRAY_SIZE(byte_units); u++, pow *= 1024) {
		for (size_t m = 0; m < ARRAY_SIZE(q); m++) {
			uint64_t step, ticks, top;

			if (u == 0 && q[m] < 4)
				continue; /* no quarter bytes */
			if (__builtin_mul_overflow(q[m], pow, &step))
				break;
			step /= 4;
			ticks = max / step + (max % step != 0);
			if (ticks > Y_TICKS_MAX ||
			    __builtin_mul_overflow(step, ticks, &top))
				continue;
			if (top / pow >= 1024 && u + 1 < ARRAY_SIZE(byte_units))
				break; /* the next unit says it better */
			*a = (struct y_axis){ step, top, (unsigned)ticks, u };
			return;
		}
		if (pow > UINT64_MAX / 1024)
			break;
	}
	/* Not reached for values up to MUPPY_MAX_VALUE (2 EiB steps). */
	*a = (struct y_axis){ max, max, 1, 0 };
}

/* "0", "512 KiB", "1.5 MiB", "0.25 MiB": tick values are whole quarters
 * of the unit. */
static void out_bytes_label(struct muppy__out *o, uint64_t v, unsigned unit)
{
	uint64_t pow = 1, cents;

	for (unsigned u = 0; u < unit; u++)
		pow *= 1024;
	if (!v) {
		muppy__out_str(o, "0");
		return;
	}
	muppy__out_printf(o, "%" PRIu64, v / pow);
	cents = (uint64_t)((double)(v % pow) * 100.0 / (double)pow + 0.5);
	if (cents)
		muppy__out_printf(o, cents % 10 ? ".%02" PRIu64 : ".%" PRIu64,
				  cents % 10 ? cents : cents / 10);
	muppy__out_printf(o, " %s", byte_units[unit]);
}

static double y_of(uint64_t v, const struct y_axis *a)
{
	return Y1 - (Y1 - Y0) * (double)v / (double)a->top;
}

/* --- the x axis: time since the first snapshot ---------------------------- */

struct x_axis {
	int64_t span_ms, step_ms;
	int64_t unit_ms;      /* labels in s, min, h or d */
	const char *unit;
};

static void x_axis(struct x_axis *a, int64_t span_ms)
{
	static const int64_t steps[] = {
		100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000,
		60000, 120000, 300000, 600000, 900000, 1800000,
		3600000, 7200000, 10800000, 21600000, 43200000,
		86400000, 172800000, 604800000,
	};
	int64_t step = 0;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (span_ms / steps[i] <= X_TICKS_MAX) {
			step = steps[i];
			break;
		}
	if (!step) /* weeks: 1, 2, 5, 10, ... of them */
		for (step = 604800000; span_ms / step > X_TICKS_MAX;)
			step *= span_ms / step / 2 > X_TICKS_MAX ? 5 : 2;
	a->span_ms = span_ms;
	a->step_ms = step;
	/* the unit of which the step is a whole number or a half: 30 s,
	 * 15 min, 0.5 h, 6 h, 0.5 d */
	if (step < 60000)
		a->unit_ms = 1000, a->unit = "s";
	else if (step < 1800000)
		a->unit_ms = 60000, a->unit = "min";
	else if (step < 43200000)
		a->unit_ms = 3600000, a->unit = "h";
	else
		a->unit_ms = 86400000, a->unit = "d";
}

static double x_at(int64_t ms, const struct x_axis *a)
{
	return a->span_ms > 0 ?
	       X0 + (X1 - X0) * (double)ms / (double)a->span_ms : X0;
}

static double x_of(const struct muppy_trend *t, size_t i,
		   const struct x_axis *a)
{
	return x_at(t->snaps[i]->time_ms - t->snaps[0]->time_ms, a);
}

static void axes(struct muppy__out *o, const struct x_axis *xa,
		 const struct y_axis *ya, const char *when)
{
	muppy__out_printf(o, "<path d=\"M%.0f %.0f V%.0f H%.0f\" "
			  "stroke=\"#000\" fill=\"none\"/>\n", X0, Y0, Y1, X1);
	for (unsigned i = 0; i <= ya->ticks; i++) {
		double y = y_of(ya->step * i, ya);

		muppy__out_printf(o, "<path d=\"M%.0f %.1f H%.0f\" "
				  "stroke=\"#ddd\"/>\n<text class=\"ytick\" "
				  "x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">",
				  X0, y, X1, X0 - 6, y + 4);
		out_bytes_label(o, ya->step * i, ya->unit);
		muppy__out_str(o, "</text>\n");
	}
	for (int64_t ms = 0; ms <= xa->span_ms; ms += xa->step_ms) {
		double x = x_at(ms, xa);
		int64_t whole = ms / xa->unit_ms, part = ms % xa->unit_ms;

		muppy__out_printf(o, "<path d=\"M%.1f %.0f V%.0f\" "
				  "stroke=\"#000\"/>\n<text class=\"xtick\" "
				  "x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">"
				  "%" PRId64, x, Y1, Y1 + 4, x, Y1 + 18, whole);
		if (part) /* tenths: steps are whole tenths of the unit */
			muppy__out_printf(o, ".%" PRId64,
					  part * 10 / xa->unit_ms);
		muppy__out_printf(o, " %s</text>\n", xa->unit);
		if (xa->step_ms <= 0)
			break;
	}
	muppy__out_printf(o, "<text x=\"%.0f\" y=\"%.0f\" "
			  "text-anchor=\"middle\">time since the first "
			  "snapshot, %s</text>\n", (X0 + X1) / 2, Y1 + 40, when);
}

/* --- lines and legend ----------------------------------------------------- */

struct style {
	const char *color, *dash;
	size_t shape;
	const char *width;
};

static struct style style_of(size_t i, bool suspect)
{
	return (struct style){
		.color = palette[i % ARRAY_SIZE(palette)],
		.dash = dashes[i % ARRAY_SIZE(dashes)],
		.shape = (i / ARRAY_SIZE(palette) + i) % NSHAPES,
		.width = suspect ? "2.5" : "1.5",
	};
}

static void out_stroke(struct muppy__out *o, const struct style *st)
{
	muppy__out_printf(o, "fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"",
			  st->color, st->width);
	if (st->dash)
		muppy__out_printf(o, " stroke-dasharray=\"%s\"", st->dash);
}

static void out_marker_def(struct muppy__out *o, size_t i,
			   const struct style *st)
{
	muppy__out_printf(o, "<marker id=\"m%zu\" viewBox=\"-5 -5 10 10\" "
			  "markerWidth=\"10\" markerHeight=\"10\" "
			  "markerUnits=\"userSpaceOnUse\">%s fill=\"%s\" "
			  "stroke=\"%s\"/></marker>\n", i, shapes[st->shape],
			  st->color, st->color);
}

/* One line: the name in a <title>, the points, markers. */
static void out_line(struct muppy__out *o, const struct muppy_trend *t,
		     const struct x_axis *xa, const struct y_axis *ya,
		     const char *name, const uint64_t *bytes,
		     const struct style *st, const char *marker_id)
{
	muppy__out_str(o, "<g class=\"series\"><title>");
	out_xml(o, name, strlen(name));
	muppy__out_str(o, "</title><polyline ");
	out_stroke(o, st);
	if (marker_id) {
		muppy__out_printf(o, " marker-start=\"url(#%s)\" "
				  "marker-end=\"url(#%s)\"", marker_id,
				  marker_id);
		if (t->n <= MARKERS_MAX_POINTS)
			muppy__out_printf(o, " marker-mid=\"url(#%s)\"",
					  marker_id);
	}
	muppy__out_str(o, " points=\"");
	for (size_t j = 0; j < t->n; j++)
		muppy__out_printf(o, "%s%.1f,%.1f", j ? " " : "",
				  x_of(t, j, xa), y_of(bytes[j], ya));
	muppy__out_str(o, "\"/></g>\n");
}

/* A legend entry in row `row`: a piece of the line with its marker, the
 * name cut to fit (the full one in a <title>). */
static void out_legend(struct muppy__out *o, size_t row, const char *name,
		       const char *prefix, const struct style *st,
		       bool marker)
{
	double y = Y0 + LEGEND_ROW * (double)row;

	muppy__out_str(o, "<g class=\"legend\"><title>");
	muppy__out_str(o, prefix);
	out_xml(o, name, strlen(name));
	muppy__out_printf(o, "</title><path d=\"M%d %.0f H%d\" ",
			  LEGEND_X, y + 6, LEGEND_X + 28);
	out_stroke(o, st);
	muppy__out_str(o, "/>");
	if (marker)
		muppy__out_printf(o, "<g transform=\"translate(%d %.0f)\">%s "
				  "fill=\"%s\" stroke=\"%s\"/></g>",
				  LEGEND_X + 14, y + 6, shapes[st->shape],
				  st->color, st->color);
	muppy__out_printf(o, "<text x=\"%d\" y=\"%.0f\"%s>%s",
			  LEGEND_TEXT_X, y + 10,
			  *prefix ? " font-weight=\"bold\"" : "", prefix);
	out_xml_fit(o, name, LEGEND_CHARS - muppy__text_width(prefix));
	muppy__out_str(o, "</text></g>\n");
}

void muppy__trend_svg(struct muppy__out *o, const struct muppy_trend *t,
		      size_t limit)
{
	const struct muppy_trend_row **rows;
	size_t n, i, j, rows_max, shown;
	struct x_axis xa;
	struct y_axis ya;
	uint64_t max = 1;
	char when[32];

	if (!limit || limit > t->nrows)
		limit = t->nrows;
	rows = calloc(limit ? limit : 1, sizeof(*rows));
	if (!rows) {
		if (!o->err)
			o->err = -ENOMEM;
		return;
	}
	n = pick(t, limit, rows);
	for (j = 0; j < t->n; j++) {
		for (i = 0; i < n; i++)
			if (rows[i]->bytes[j] > max)
				max = rows[i]->bytes[j];
		if (t->total.bytes[j] > max)
			max = t->total.bytes[j];
	}
	y_axis(&ya, max);
	x_axis(&xa, t->snaps[t->n - 1]->time_ms - t->snaps[0]->time_ms);
	muppy_time_format(when, sizeof(when), t->snaps[0]->time_ms);
	muppy__out_printf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<svg xmlns=\"http://www.w3.org/2000/svg\" "
			  "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
			  "font-family=\"sans-serif\" font-size=\"12\">\n"
			  "<rect width=\"100%%\" height=\"100%%\" "
			  "fill=\"#fff\"/>\n<text x=\"%.0f\" y=\"24\" "
			  "font-size=\"15\">bytes per type, %zu snapshots "
			  "of pid %" PRId64 " from %s</text>\n",
			  W, H, W, H, X0, t->n, t->snaps[0]->pid, when);
	muppy__out_str(o, "<defs>\n");
	for (i = 0; i < n; i++) {
		struct style st = style_of(i, rows[i]->rank);

		out_marker_def(o, i, &st);
	}
	muppy__out_str(o, "</defs>\n");
	axes(o, &xa, &ya, when);

	/* The total under the types, then the types, the first on top. */
	{
		struct style st = { "#000", "4 3", 0, "1.5" };

		out_line(o, t, &xa, &ya, "total", t->total.bytes, &st, NULL);
		out_legend(o, 0, "total (all types)", "", &st, false);
	}
	rows_max = (size_t)((H - 20 - Y0) / LEGEND_ROW);
	shown = n + 1 <= rows_max ? n : rows_max - 2;
	for (i = n; i-- > 0;) {
		struct style st = style_of(i, rows[i]->rank);
		char id[32];

		snprintf(id, sizeof(id), "m%zu", i);
		out_line(o, t, &xa, &ya, rows[i]->name, rows[i]->bytes, &st,
			 id);
	}
	for (i = 0; i < shown; i++) {
		struct style st = style_of(i, rows[i]->rank);

		out_legend(o, i + 1, rows[i]->name,
			   rows[i]->rank ? "suspect: " : "", &st, true);
	}
	if (shown < n)
		muppy__out_printf(o, "<text x=\"%d\" y=\"%.0f\">and %zu more "
				  "(their names in the lines' titles)</text>\n",
				  LEGEND_TEXT_X,
				  Y0 + LEGEND_ROW * (double)(shown + 1) + 10,
				  n - shown);
	muppy__out_str(o, "</svg>\n");
	free(rows);
}
