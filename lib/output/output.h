/* SPDX-License-Identifier: MIT */
/*
 * lib/output/: writing results -- the output stream and table cells
 * (stream.c), JSON strings (json.c), and one printer per result: a diff
 * (diffprint.c), a snapshot (snapprint.c), a trend (trendprint.c,
 * trendsvg.c), Prometheus metrics (prom.c).  Uses the layers below:
 * analysis/, model/, base/.
 */
#ifndef MUPPY_OUTPUT_H
#define MUPPY_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis/analysis.h"

/* stream.c: output that remembers its first write error. */
struct muppy__out {
	FILE *f;
	int err; /* first write error as -errno, or 0 */
};

void muppy__out_init(struct muppy__out *o, FILE *f);
void muppy__out_write(struct muppy__out *o, const char *s, size_t len);
void muppy__out_str(struct muppy__out *o, const char *s);
/* len bytes of s, each byte for which rep() gives a string written as
 * that string instead. */
void muppy__out_replaced(struct muppy__out *o, const char *s, size_t len,
			 const char *(*rep)(char c));
void muppy__out_printf(struct muppy__out *o, const char *fmt, ...)
	MUPPY_PRINTF(2, 3);
/* Writes s in width columns, right-aligned unless left. */
void muppy__out_cell(struct muppy__out *o, const char *s, size_t width,
		     bool left);
/* Flushes; returns the first write error or 0. */
int muppy__out_finish(struct muppy__out *o) MUPPY_MUST_CHECK;

/* stream.c: text in tables. */
/* Type names longer than this are shortened in tables (not in tsv/json). */
#define MUPPY__TABLE_NAME_MAX 120
/*
 * How many leading bytes of the escaped string s (len bytes) fit in max
 * bytes without cutting a UTF-8 sequence or an escape such as \xHH.
 */
size_t muppy__escaped_cut(const char *s, size_t len, size_t max);
/* Writes an escaped type name, shortened to the limit above plus "...". */
void muppy__out_name(struct muppy__out *o, const char *name);
/* Terminal columns of UTF-8 text, counted as one per character. */
size_t muppy__text_width(const char *s);
/* cells.c: table rows, cells of numbers, right-aligned, two spaces apart. */
#define MUPPY__CELL 64
typedef char muppy__cell[MUPPY__CELL];
/* Widens width[0..n) to fit the n cells. */
void muppy__cells_widen(size_t *width, const muppy__cell *cell, size_t n);
/* Writes the n cells, each followed by two spaces; column left (or n for
 * none) is left-aligned. */
void muppy__cells_print(struct muppy__out *o, const size_t *width,
			const muppy__cell *cell, size_t n, size_t left);
/* The column titles (column left, or n for none, left-aligned) and
 * "type"; the dashed rule as wide as that line, before the total row. */
void muppy__cells_titles(struct muppy__out *o, const size_t *width,
			 const char *const *titles, size_t n, size_t left);
/* The same with another last title than "type". */
void muppy__cells_titles_as(struct muppy__out *o, const size_t *width,
			    const char *const *titles, size_t n, size_t left,
			    const char *last);
void muppy__cells_rule(struct muppy__out *o, const size_t *width, size_t n);
/* The cells, then the type name (shortened as above) and a newline. */
void muppy__cells_row(struct muppy__out *o, const size_t *width,
		      const muppy__cell *cell, size_t n, const char *name);
/* "+12", "-3", "0" (buf >= 24). */
void muppy__format_signed(char *buf, size_t size, int64_t v);

/* ownerprint.c: owners (muppy-snap --owners) below the rows, in format
 * table, tsv or json (there as members after "hidden"); -ENOMEM. */
int muppy__owners_print(struct muppy__out *o, const struct muppy_snapshot *s,
			enum muppy_format format) MUPPY_MUST_CHECK;
/* ,\n "held_by": [...] of n holders, one a line. */
void muppy__json_held_by(struct muppy__out *o, const struct muppy_holder **h,
			 size_t n);
/* Between the steps of a path in tables (UTF-8, as the table's Δ is). */
#define MUPPY__ARROW " \xe2\x86\x92 "

/* json.c: JSON output. */
/* Writes s as a JSON string ("null" for NULL); s must be valid UTF-8. */
void muppy__json_string(struct muppy__out *o, const char *s);

/* trendprint.c: a sparkline of v (at most 24 points, each 3 bytes of
 * UTF-8), scaled from the smallest value to the largest. */
void muppy__sparkline(char *buf, size_t size, const uint64_t *v, size_t n);
/* trendsvg.c: an SVG chart of the bytes of the top limit types (0: all),
 * suspects first. */
void muppy__trend_svg(struct muppy__out *o, const struct muppy_trend *t,
		      size_t limit);

#endif
