/* SPDX-License-Identifier: MIT */
/*
 * An SVG line chart of a trend: the bytes of the top types over time,
 * leak suspects first, for people to look at in a browser.  Deterministic
 * output (fixed geometry, fixed palette) so it can be tested.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define W 960
#define H 480
#define X0 80.0   /* plot area */
#define X1 600.0
#define Y0 40.0
#define Y1 420.0
#define LEGEND_X 620
#define LEGEND_NAME_MAX 48
#define TICKS 5

static const char *const palette[] = {
	"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

/* Text for XML: the escaped name is printable; &, <, >, " and ' remain. */
static void out_xml(struct muppy__out *o, const char *s, size_t len)
{
	const char *run = s, *end = s + len;

	for (; s < end; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
				  *s == '>' ? "&gt;" : *s == '"' ? "&quot;" :
				  *s == '\'' ? "&apos;" : NULL;

		if (!rep)
			continue;
		muppy__out_write(o, run, (size_t)(s - run));
		muppy__out_str(o, rep);
		run = s + 1;
	}
	muppy__out_write(o, run, (size_t)(end - run));
}

static void out_xml_name(struct muppy__out *o, const char *name)
{
	size_t len = strlen(name);
	size_t keep = muppy__escaped_cut(name, len, LEGEND_NAME_MAX);

	out_xml(o, name, keep);
	if (keep < len)
		muppy__out_str(o, "...");
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

static double x_of(const struct muppy_trend *t, size_t i)
{
	double m = (double)(t->snaps[i]->time_ms - t->snaps[0]->time_ms) /
		   60000.0;

	return t->minutes > 0 ? X0 + (X1 - X0) * m / t->minutes : X0;
}

static double y_of(uint64_t v, uint64_t top)
{
	return Y1 - (Y1 - Y0) * (double)v / (double)top;
}

static void axes(struct muppy__out *o, const struct muppy_trend *t,
		 uint64_t top)
{
	char label[32];
	int i;

	muppy__out_printf(o, "<path d=\"M%.0f %.0f V%.0f H%.0f\" "
			  "stroke=\"#000\" fill=\"none\"/>\n", X0, Y0, Y1, X1);
	for (i = 0; i <= TICKS; i++) {
		uint64_t v = top / TICKS * (uint64_t)i;
		double y = y_of(v, top);
		double m = t->minutes * i / TICKS;
		double x = X0 + (X1 - X0) * i / TICKS;

		muppy_human_bytes(label, sizeof(label), v);
		muppy__out_printf(o, "<path d=\"M%.0f %.1f H%.0f\" "
				  "stroke=\"#ddd\"/>\n<text x=\"%.0f\" "
				  "y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
				  X0, y, X1, X0 - 6, y + 4, label);
		muppy__out_printf(o, "<text x=\"%.1f\" y=\"%.0f\" "
				  "text-anchor=\"middle\">%.1f</text>\n",
				  x, Y1 + 18, m);
	}
	muppy__out_printf(o, "<text x=\"%.0f\" y=\"%.0f\" "
			  "text-anchor=\"middle\">minutes</text>\n",
			  (X0 + X1) / 2, Y1 + 40);
}

void muppy__trend_svg(struct muppy__out *o, const struct muppy_trend *t,
		      size_t limit)
{
	const struct muppy_trend_row **rows;
	size_t n, i, j;
	uint64_t top = 0;
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
	for (i = 0; i < n; i++)
		for (j = 0; j < t->n; j++)
			top = rows[i]->bytes[j] > top ? rows[i]->bytes[j] : top;
	/* A round top: 1, 2 or 5 times a power of ten, times TICKS. */
	{
		uint64_t step = 1;

		while (step * TICKS < top && step < UINT64_MAX / 20) {
			if (step * 2 * TICKS >= top) { step *= 2; break; }
			if (step * 5 * TICKS >= top) { step *= 5; break; }
			step *= 10;
		}
		top = step * TICKS;
	}
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
	axes(o, t, top);
	for (i = 0; i < n; i++) {
		const char *c = palette[i % ARRAY_SIZE(palette)];

		muppy__out_str(o, "<g><title>");
		out_xml(o, rows[i]->name, strlen(rows[i]->name));
		muppy__out_printf(o, "</title><polyline fill=\"none\" "
				  "stroke=\"%s\" stroke-width=\"%s\" "
				  "points=\"", c, rows[i]->rank ? "2.5" : "1.5");
		for (j = 0; j < t->n; j++)
			muppy__out_printf(o, "%s%.1f,%.1f", j ? " " : "",
					  x_of(t, j), y_of(rows[i]->bytes[j], top));
		muppy__out_str(o, "\"/></g>\n");
		if (40 + 20 * i > H - 20)
			continue; /* no room left in the legend */
		muppy__out_printf(o, "<rect x=\"%d\" y=\"%zu\" width=\"12\" "
				  "height=\"12\" fill=\"%s\"/>\n<text x=\"%d\" "
				  "y=\"%zu\">%s", LEGEND_X, 40 + 20 * i, c,
				  LEGEND_X + 18, 50 + 20 * i,
				  rows[i]->rank ? "suspect: " : "");
		out_xml_name(o, rows[i]->name);
		muppy__out_str(o, "</text>\n");
	}
	muppy__out_str(o, "</svg>\n");
	free(rows);
}
