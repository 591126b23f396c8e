/* SPDX-License-Identifier: MIT */
/*
 * Printing owners (format 1.2, muppy-snap --owners): who holds the
 * objects of a type and the paths to some of them, below a snapshot's
 * rows.  Every text is escaped already (it comes from
 * the target); holders are always shown largest first, and all of them:
 * --limit cuts rows of types, not holders.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define CELL MUPPY__CELL

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* --- a snapshot's owners ------------------------------------------------ */

enum { H_COUNT, H_BYTES, H_NCOLS };

static const char *const holder_titles[H_NCOLS] = { "objects", "bytes" };

static void holder_cells(char cell[H_NCOLS][CELL], const struct muppy_holder *h)
{
	snprintf(cell[H_COUNT], CELL, "%" PRIu64, h->count);
	muppy_human_bytes(cell[H_BYTES], CELL, h->bytes);
}

/* "  0x7f...  module app . X → dict['k'] → app.T" */
static void table_path(struct muppy__out *o, const struct muppy_path *p)
{
	size_t i;

	muppy__out_printf(o, "  0x%" PRIx64 " ", p->id);
	for (i = 0; i < p->nsteps; i++) {
		muppy__out_str(o, i ? MUPPY__ARROW : " ");
		muppy__out_name(o, p->steps[i]);
	}
	muppy__out_str(o, "\n");
}

/*
 * Held by, for app.T (3 objects, 150 B; 1 shared, 0 unreachable):
 * objects  bytes  holder
 *       2  100 B  dict values of app.S
 * Paths:
 *   0x7f...  module app . S → dict['k'] → app.T
 */
static void table_owners(struct muppy__out *o, const struct muppy_owners *ow,
			 const struct muppy_holder **h)
{
	size_t width[H_NCOLS], i;
	char cell[H_NCOLS][CELL], bytes[CELL];

	muppy__out_str(o, "\nHeld by, for ");
	muppy__out_name(o, ow->type);
	if (!ow->count) {
		muppy__out_str(o, ": no objects of this type\n");
		return;
	}
	muppy_human_bytes(bytes, sizeof(bytes), ow->bytes);
	muppy__out_printf(o, " (%" PRIu64 " object%s, %s; %" PRIu64
			  " shared, %" PRIu64 " unreachable):\n", ow->count,
			  plural(ow->count), bytes, ow->shared,
			  ow->unreachable);
	if (!ow->nholders) {
		muppy__out_str(o, "no holder recorded\n");
	} else {
		for (i = 0; i < H_NCOLS; i++)
			width[i] = muppy__text_width(holder_titles[i]);
		for (i = 0; i < ow->nholders; i++) {
			holder_cells(cell, h[i]);
			muppy__cells_widen(width, (const muppy__cell *)cell,
					   H_NCOLS);
		}
		muppy__cells_titles_as(o, width, holder_titles, H_NCOLS,
				       H_NCOLS, "holder");
		for (i = 0; i < ow->nholders; i++) {
			holder_cells(cell, h[i]);
			muppy__cells_row(o, width, (const muppy__cell *)cell,
					 H_NCOLS, h[i]->name);
		}
	}
	if (ow->npaths) {
		muppy__out_str(o, "Paths:\n");
		for (i = 0; i < ow->npaths; i++)
			table_path(o, &ow->paths[i]);
	}
}

/* owners<TAB>TYPE<TAB>COUNT<TAB>BYTES<TAB>SHARED<TAB>UNREACHABLE,
 * held<TAB>TYPE<TAB>COUNT<TAB>BYTES<TAB>HOLDER,
 * path<TAB>TYPE<TAB>ID<TAB>STEP<TAB>STEP... */
static void tsv_owners(struct muppy__out *o, const struct muppy_owners *ow,
		       const struct muppy_holder **h)
{
	size_t i, j;

	muppy__out_str(o, "owners\t");
	muppy__out_str(o, ow->type);
	muppy__out_printf(o, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%"
			  PRIu64 "\n", ow->count, ow->bytes, ow->shared,
			  ow->unreachable);
	for (i = 0; i < ow->nholders; i++) {
		muppy__out_str(o, "held\t");
		muppy__out_str(o, ow->type);
		muppy__out_printf(o, "\t%" PRIu64 "\t%" PRIu64 "\t",
				  h[i]->count, h[i]->bytes);
		muppy__out_str(o, h[i]->name);
		muppy__out_str(o, "\n");
	}
	for (i = 0; i < ow->npaths; i++) {
		muppy__out_str(o, "path\t");
		muppy__out_str(o, ow->type);
		muppy__out_printf(o, "\t%" PRIu64, ow->paths[i].id);
		for (j = 0; j < ow->paths[i].nsteps; j++) {
			muppy__out_str(o, "\t");
			muppy__out_str(o, ow->paths[i].steps[j]);
		}
		muppy__out_str(o, "\n");
	}
}

void muppy__json_held_by(struct muppy__out *o, const struct muppy_holder **h,
			 size_t n)
{
	muppy__out_str(o, ",\n     \"held_by\": [");
	for (size_t i = 0; i < n; i++) {
		muppy__out_str(o, i ? ",\n      {\"holder\": " :
				      "\n      {\"holder\": ");
		muppy__json_string(o, h[i]->name);
		muppy__out_printf(o, ", \"count\": %" PRIu64 ", \"bytes\": %"
				  PRIu64 "}", h[i]->count, h[i]->bytes);
	}
	muppy__out_str(o, "]");
}

/* One member of "owners": the type, then one holder and one path a line. */
static void json_owners(struct muppy__out *o, const struct muppy_owners *ow,
			const struct muppy_holder **h)
{
	size_t i, j;

	muppy__out_str(o, "{\"type\": ");
	muppy__json_string(o, ow->type);
	muppy__out_printf(o, ", \"count\": %" PRIu64 ", \"bytes\": %" PRIu64
			  ", \"shared\": %" PRIu64 ", \"unreachable\": %"
			  PRIu64, ow->count, ow->bytes, ow->shared,
			  ow->unreachable);
	muppy__json_held_by(o, h, ow->nholders);
	muppy__out_str(o, ",\n     \"paths\": [");
	for (i = 0; i < ow->npaths; i++) {
		muppy__out_printf(o, "%s{\"id\": %" PRIu64 ", \"steps\": [",
				  i ? ",\n      " : "\n      ", ow->paths[i].id);
		for (j = 0; j < ow->paths[i].nsteps; j++) {
			muppy__out_str(o, j ? ", " : "");
			muppy__json_string(o, ow->paths[i].steps[j]);
		}
		muppy__out_str(o, "]}");
	}
	muppy__out_str(o, "]}");
}

int muppy__owners_print(struct muppy__out *o, const struct muppy_snapshot *s,
			enum muppy_format format)
{
	size_t i;

	if (format == MUPPY_FORMAT_JSON && s->nowners)
		muppy__out_str(o, ",\n  \"owners\": [");
	for (i = 0; i < s->nowners; i++) {
		const struct muppy_owners *ow = &s->owners[i];
		const struct muppy_holder **h = muppy__holders_sorted(ow);

		if (!h)
			return -ENOMEM;
		switch (format) {
		case MUPPY_FORMAT_TABLE:
			table_owners(o, ow, h);
			break;
		case MUPPY_FORMAT_TSV:
			tsv_owners(o, ow, h);
			break;
		default:
			muppy__out_str(o, i ? ",\n    " : "\n    ");
			json_owners(o, ow, h);
			break;
		}
		free(h);
	}
	if (format == MUPPY_FORMAT_JSON && s->nowners)
		muppy__out_str(o, "\n  ]");
	return 0;
}
