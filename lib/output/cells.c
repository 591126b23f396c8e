/* SPDX-License-Identifier: MIT */
/* Table rows of number cells, right-aligned, two spaces apart, the type
 * name last: the table printers' common shape. */
#include <string.h>

#include "output/output.h"

void muppy__cells_widen(size_t *width, const muppy__cell *cell, size_t n)
{
	for (size_t c = 0; c < n; c++) {
		size_t w = muppy__text_width(cell[c]);

		if (w > width[c])
			width[c] = w;
	}
}

void muppy__cells_print(struct muppy__out *o, const size_t *width,
			const muppy__cell *cell, size_t n, size_t left)
{
	for (size_t c = 0; c < n; c++) {
		muppy__out_cell(o, cell[c], width[c], c == left);
		muppy__out_str(o, "  ");
	}
}

void muppy__cells_titles_as(struct muppy__out *o, const size_t *width,
			    const char *const *titles, size_t n, size_t left,
			    const char *last)
{
	for (size_t c = 0; c < n; c++) {
		muppy__out_cell(o, titles[c], width[c], c == left);
		muppy__out_str(o, "  ");
	}
	muppy__out_str(o, last);
	muppy__out_str(o, "\n");
}

void muppy__cells_titles(struct muppy__out *o, const size_t *width,
			 const char *const *titles, size_t n, size_t left)
{
	muppy__cells_titles_as(o, width, titles, n, left, "type");
}

void muppy__cells_rule(struct muppy__out *o, const size_t *width, size_t n)
{
	size_t rule = strlen("total");

	for (size_t c = 0; c < n; c++)
		rule += width[c] + 2;
	while (rule--)
		muppy__out_str(o, "-");
	muppy__out_str(o, "\n");
}

void muppy__cells_row(struct muppy__out *o, const size_t *width,
		      const muppy__cell *cell, size_t n, const char *name)
{
	muppy__cells_print(o, width, cell, n, n);
	muppy__out_name(o, name);
	muppy__out_str(o, "\n");
}
