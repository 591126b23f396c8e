/* SPDX-License-Identifier: MIT */
/* Internals shared between library files; not installed, not for cli/. */
#ifndef MUPPY_INT_H
#define MUPPY_INT_H

#include "muppy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* format.c: output that remembers its first write error. */
struct muppy__out {
	FILE *f;
	int err; /* first write error as -errno, or 0 */
};

void muppy__out_init(struct muppy__out *o, FILE *f);
void muppy__out_write(struct muppy__out *o, const char *s, size_t len);
void muppy__out_str(struct muppy__out *o, const char *s);
void muppy__out_printf(struct muppy__out *o, const char *fmt, ...)
	MUPPY_PRINTF(2, 3);
/* Writes s in width columns, right-aligned unless left. */
void muppy__out_cell(struct muppy__out *o, const char *s, size_t width,
		     bool left);
/* Flushes; returns the first write error or 0. */
int muppy__out_finish(struct muppy__out *o) MUPPY_MUST_CHECK;

/* format.c: table helpers. */
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
/* Table rows: cells of numbers, right-aligned, two spaces apart. */
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
void muppy__cells_rule(struct muppy__out *o, const size_t *width, size_t n);
/* The cells, then the type name (shortened as above) and a newline. */
void muppy__cells_row(struct muppy__out *o, const size_t *width,
		      const muppy__cell *cell, size_t n, const char *name);
/* "+12", "-3", "0" (buf >= 24). */
void muppy__format_signed(char *buf, size_t size, int64_t v);

/* json.c: JSON output. */
/* Writes s as a JSON string ("null" for NULL); s must be valid UTF-8. */
void muppy__json_string(struct muppy__out *o, const char *s);

/* escape.c: length of the longest prefix of s that is in escaped form
 * (escaped up to the step that goes wrong). */
size_t muppy__escaped_len(const char *s, size_t len);
/*
 * The same for text of older writers, which left invisible characters
 * raw that are escaped now (zero-width characters, variation selectors,
 * ...; the bidi controls they escaped already): both forms pass.
 */
size_t muppy__escaped_len_compat(const char *s, size_t len);
/* Such text in today's escaped form: a new string, or NULL when it is not
 * in either form or memory is short. */
char *muppy__escape_upgrade(const char *s, size_t len);
/*
 * A message for a terminal: src copied to dst (size bytes, always
 * NUL-terminated) with every byte that muppy_escape() escapes written
 * escaped, but backslashes kept, so that text escaped already passes
 * unchanged; cut at a character or escape when it does not fit.
 */
void muppy__escape_message(char *dst, size_t size, const char *src);

/* snapshot.c: rows whose name is already in escaped form (the parser). */
/* Appends a copy of the len bytes at name; they must be escaped. */
int muppy__snapshot_add_escaped(struct muppy_snapshot *s, const char *name,
				size_t len, uint64_t count, uint64_t bytes)
	MUPPY_MUST_CHECK;

/* trend.c */
/* Median of the pairwise slopes of y over t (scratch: n*(n-1)/2 doubles,
 * at most 20000); 0 when no two t differ. */
double muppy__theil_sen(const double *t, const uint64_t *y, size_t n,
			double *scratch);
/* Intervals that must show growth, of this many, for a suspect. */
size_t muppy__trend_needed(size_t intervals);

/* trendprint.c: a sparkline of v (at most 24 points, each 3 bytes of
 * UTF-8), scaled from the smallest value to the largest. */
void muppy__sparkline(char *buf, size_t size, const uint64_t *v, size_t n);
/* trendsvg.c: an SVG chart of the bytes of the top limit types (0: all),
 * suspects first. */
void muppy__trend_svg(struct muppy__out *o, const struct muppy_trend *t,
		      size_t limit);

/* time.c: the range muppy_time_parse() accepts (years 0000 to 9999). */
#define MUPPY__TIME_MIN_MS INT64_C(-62167219200000)
#define MUPPY__TIME_MAX_MS INT64_C(253402300799999)

#endif
