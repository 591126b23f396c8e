/* SPDX-License-Identifier: MIT */
/* The diff of two snapshots in its three formats: table, tsv, json; and
 * below its rows, the change per holder of the types both have owners of. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

/* The two file names in escaped form (they come from the command line). */
struct names {
	char *old, *new;
};

static int names_init(struct names *n, const struct muppy_print_opts *o)
{
	n->old = n->new = NULL;
	if (o->old_name && !(n->old = muppy_escape(o->old_name,
						     strlen(o->old_name))))
		return -ENOMEM;
	if (o->new_name && !(n->new = muppy_escape(o->new_name,
						     strlen(o->new_name)))) {
		free(n->old);
		return -ENOMEM;
	}
	return 0;
}

static void names_fini(struct names *n)
{
	free(n->old);
	free(n->new);
}

static size_t rows_shown(const struct muppy_diff *d,
			 const struct muppy_print_opts *o)
{
	return o->limit && o->limit < d->nrows ? o->limit : d->nrows;
}

static const char *sort_name(enum muppy_sort s)
{
	switch (s) {
	case MUPPY_SORT_COUNT:
		return "count";
	case MUPPY_SORT_NAME:
		return "name";
	case MUPPY_SORT_SIZE:
	default:
		return "size";
	}
}

/* Table: two header lines, then one line per type, the type last. */
enum { COL_DCOUNT, COL_DBYTES, COL_COUNT, COL_BYTES, NCOLS };
#define CELL MUPPY__CELL

static const char *const col_titles[NCOLS] = {
	"\xce\x94 objects", "\xce\x94 bytes", "objects", "bytes",
};

static void cells_fill(char cell[NCOLS][CELL], int64_t d_count,
		       int64_t d_bytes, uint64_t count, uint64_t bytes)
{
	muppy__format_signed(cell[COL_DCOUNT], CELL, d_count);
	muppy_human_delta(cell[COL_DBYTES], CELL, d_bytes);
	snprintf(cell[COL_COUNT], CELL, "%" PRIu64, count);
	muppy_human_bytes(cell[COL_BYTES], CELL, bytes);
}

/* "old: FILE  pid N  TIME  N objects  SIZE", fields aligned across both. */
static void table_header(struct muppy__out *o, const struct muppy_diff *d,
			 const struct names *n)
{
	const struct muppy_snapshot *snap[2] = { d->old, d->new };
	const char *label[2] = { "old:", "new:" };
	const char *file[2] = { n->old, n->new };
	char pid[2][CELL], when[2][CELL], objects[2][CELL], bytes[2][CELL];
	size_t wfile = 0, wpid = 0, wobj = 0, wbytes = 0;
	int i;

	for (i = 0; i < 2; i++) {
		if (!file[i])
			file[i] = "(unnamed)";
		snprintf(pid[i], CELL, "%" PRId64, snap[i]->pid);
		muppy_time_format(when[i], CELL, snap[i]->time_ms);
		snprintf(objects[i], CELL, "%" PRIu64, snap[i]->objects);
		muppy_human_bytes(bytes[i], CELL, snap[i]->bytes);
		if (muppy__text_width(file[i]) > wfile)
			wfile = muppy__text_width(file[i]);
		if (strlen(pid[i]) > wpid)
			wpid = strlen(pid[i]);
		if (strlen(objects[i]) > wobj)
			wobj = strlen(objects[i]);
		if (muppy__text_width(bytes[i]) > wbytes)
			wbytes = muppy__text_width(bytes[i]);
	}
	for (i = 0; i < 2; i++) {
		muppy__out_printf(o, "%s ", label[i]);
		muppy__out_cell(o, file[i], wfile, true);
		muppy__out_str(o, "  pid ");
		muppy__out_cell(o, pid[i], wpid, false);
		muppy__out_printf(o, "  %s  ", when[i]);
		muppy__out_cell(o, objects[i], wobj, false);
		muppy__out_str(o, " objects  ");
		muppy__out_cell(o, bytes[i], wbytes, false);
		muppy__out_str(o, "\n");
	}
	muppy__out_str(o, "\n");
}

static void print_table(struct muppy__out *o, const struct muppy_diff *d,
			const struct muppy_print_opts *opts,
			const struct names *n)
{
	size_t shown = rows_shown(d, opts), hidden = d->nrows - shown;
	size_t width[NCOLS], i;
	char cell[NCOLS][CELL];

	table_header(o, d, n);
	if (!d->nrows) {
		muppy__out_str(o, "no change\n");
		return;
	}
	for (i = 0; i < NCOLS; i++)
		width[i] = muppy__text_width(col_titles[i]);
	for (i = 0; i < shown; i++) {
		const struct muppy_diff_row *r = &d->rows[i];

		cells_fill(cell, r->d_count, r->d_bytes, r->new_count,
			   r->new_bytes);
		muppy__cells_widen(width, cell, NCOLS);
	}
	cells_fill(cell, d->d_objects, d->d_bytes, d->new->objects,
		   d->new->bytes);
	muppy__cells_widen(width, cell, NCOLS);

	muppy__cells_titles(o, width, col_titles, NCOLS, NCOLS);
	for (i = 0; i < shown; i++) {
		const struct muppy_diff_row *r = &d->rows[i];

		cells_fill(cell, r->d_count, r->d_bytes, r->new_count,
			   r->new_bytes);
		muppy__cells_row(o, width, cell, NCOLS, r->name);
	}
	if (hidden)
		muppy__out_printf(o,
			"... %zu more type%s changed (--limit=0 shows all)\n",
			hidden, hidden == 1 ? "" : "s");
	muppy__cells_rule(o, width, NCOLS);
	cells_fill(cell, d->d_objects, d->d_bytes, d->new->objects,
		   d->new->bytes);
	muppy__cells_row(o, width, cell, NCOLS, "total");
}

/* The six numbers of a row and its name, tab-separated, a line. */
static void tsv_row(struct muppy__out *o, const struct muppy_diff_row *r)
{
	muppy__out_printf(o, "%" PRId64 "\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64
			  "\t%" PRIu64 "\t%" PRIu64 "\t", r->d_count,
			  r->d_bytes, r->old_count, r->old_bytes, r->new_count,
			  r->new_bytes);
	muppy__out_str(o, r->name);
	muppy__out_str(o, "\n");
}

/* TSV: exact integers, one header line, no totals. */
static void print_tsv(struct muppy__out *o, const struct muppy_diff *d,
		      const struct muppy_print_opts *opts)
{
	size_t shown = rows_shown(d, opts), i;

	muppy__out_str(o, "d_count\td_bytes\told_count\told_bytes\t"
			  "new_count\tnew_bytes\ttype\n");
	for (i = 0; i < shown; i++)
		tsv_row(o, &d->rows[i]);
}

/* JSON, schema "muppy-diff/1" (see muppy-diff(1)). */
static void json_snapshot(struct muppy__out *o, const char *key,
			  const struct muppy_snapshot *s, const char *file)
{
	char when[CELL];

	muppy_time_format(when, sizeof(when), s->time_ms);
	muppy__out_printf(o, "  \"%s\": {\"file\": ", key);
	muppy__json_string(o, file);
	muppy__out_printf(o, ", \"pid\": %" PRId64 ", \"time\": ", s->pid);
	muppy__json_string(o, when);
	muppy__out_str(o, ", \"python\": ");
	muppy__json_string(o, s->python);
	muppy__out_str(o, ", \"executable\": ");
	muppy__json_string(o, s->executable);
	muppy__out_printf(o, ", \"rss\": %" PRIu64 ", \"objects\": %" PRIu64
			  ", \"bytes\": %" PRIu64 "},\n", s->rss, s->objects,
			  s->bytes);
}

static void json_counts(struct muppy__out *o, int64_t d_count,
			int64_t d_bytes, uint64_t old_count,
			uint64_t old_bytes, uint64_t new_count,
			uint64_t new_bytes)
{
	muppy__out_printf(o, "\"d_count\": %" PRId64 ", \"d_bytes\": %" PRId64
			  ", \"old_count\": %" PRIu64 ", \"old_bytes\": %"
			  PRIu64 ", \"new_count\": %" PRIu64
			  ", \"new_bytes\": %" PRIu64 "}",
			  d_count, d_bytes, old_count, old_bytes, new_count,
			  new_bytes);
}

/* --- who holds a type, in both (muppy-snap --owners) ---------------------- */

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void diff_cells(char cell[NCOLS][CELL], const struct muppy_diff_row *r)
{
	cells_fill(cell, r->d_count, r->d_bytes, r->new_count, r->new_bytes);
}

/*
 * Held by, for app.T (old 3 objects, 150 B; new 5 objects, 250 B):
 * Δ objects  Δ bytes  objects  bytes  holder
 *        +2   +100 B        4  200 B  dict values of app.S
 */
static void diff_table(struct muppy__out *o, const struct muppy_owners_diff *od)
{
	size_t width[NCOLS], i;
	char cell[NCOLS][CELL], ob[CELL], nb[CELL];

	muppy_human_bytes(ob, sizeof(ob), od->old->bytes);
	muppy_human_bytes(nb, sizeof(nb), od->new->bytes);
	muppy__out_str(o, "\nHeld by, for ");
	muppy__out_name(o, od->new->type);
	muppy__out_printf(o, " (old %" PRIu64 " object%s, %s; new %" PRIu64
			  " object%s, %s):\n", od->old->count,
			  plural(od->old->count), ob, od->new->count,
			  plural(od->new->count), nb);
	if (!od->nrows) {
		muppy__out_str(o, "no holder changed\n");
		return;
	}
	for (i = 0; i < NCOLS; i++)
		width[i] = muppy__text_width(col_titles[i]);
	for (i = 0; i < od->nrows; i++) {
		diff_cells(cell, &od->rows[i]);
		muppy__cells_widen(width, (const muppy__cell *)cell, NCOLS);
	}
	muppy__cells_titles_as(o, width, col_titles, NCOLS, NCOLS,
			       "holder");
	for (i = 0; i < od->nrows; i++) {
		diff_cells(cell, &od->rows[i]);
		muppy__cells_row(o, width, (const muppy__cell *)cell, NCOLS,
				 od->rows[i].name);
	}
}

/* held<TAB>TYPE<TAB>D_COUNT<TAB>D_BYTES<TAB>OLD_COUNT<TAB>OLD_BYTES
 * <TAB>NEW_COUNT<TAB>NEW_BYTES<TAB>HOLDER */
static void diff_tsv(struct muppy__out *o, const struct muppy_owners_diff *od)
{
	size_t i;

	for (i = 0; i < od->nrows; i++) {
		muppy__out_str(o, "held\t");
		muppy__out_str(o, od->new->type);
		muppy__out_str(o, "\t");
		tsv_row(o, &od->rows[i]);
	}
}

static void diff_json(struct muppy__out *o, const struct muppy_owners_diff *od)
{
	size_t i;

	muppy__out_str(o, "{\"type\": ");
	muppy__json_string(o, od->new->type);
	muppy__out_printf(o, ", \"old_count\": %" PRIu64 ", \"old_bytes\": %"
			  PRIu64 ", \"new_count\": %" PRIu64
			  ", \"new_bytes\": %" PRIu64 ",\n     \"held_by\": [",
			  od->old->count, od->old->bytes, od->new->count,
			  od->new->bytes);
	for (i = 0; i < od->nrows; i++) {
		const struct muppy_diff_row *r = &od->rows[i];

		muppy__out_str(o, i ? ",\n      {\"holder\": " :
				      "\n      {\"holder\": ");
		muppy__json_string(o, r->name);
		muppy__out_printf(o, ", \"d_count\": %" PRId64 ", \"d_bytes\": %"
				  PRId64 ", \"old_count\": %" PRIu64
				  ", \"old_bytes\": %" PRIu64 ", \"new_count\": %"
				  PRIu64 ", \"new_bytes\": %" PRIu64 "}",
				  r->d_count, r->d_bytes, r->old_count,
				  r->old_bytes, r->new_count, r->new_bytes);
	}
	muppy__out_str(o, "]}");
}

/* Below the rows: the change per holder of each type both have owners
 * of (every holder that changed; --limit cuts types only). */
static void print_owners(struct muppy__out *o, const struct muppy_diff *d,
			 enum muppy_format format)
{
	size_t i;

	if (format == MUPPY_FORMAT_JSON && d->nowners)
		muppy__out_str(o, ",\n  \"owners\": [");
	for (i = 0; i < d->nowners; i++) {
		switch (format) {
		case MUPPY_FORMAT_TABLE:
			diff_table(o, &d->owners[i]);
			break;
		case MUPPY_FORMAT_TSV:
			diff_tsv(o, &d->owners[i]);
			break;
		default:
			muppy__out_str(o, i ? ",\n    " : "\n    ");
			diff_json(o, &d->owners[i]);
			break;
		}
	}
	if (format == MUPPY_FORMAT_JSON && d->nowners)
		muppy__out_str(o, "\n  ]");
}

static void print_json(struct muppy__out *o, const struct muppy_diff *d,
		       const struct muppy_print_opts *opts,
		       const struct names *n)
{
	size_t shown = rows_shown(d, opts), i;

	muppy__out_str(o, "{\n  \"schema\": \"muppy-diff/1\",\n");
	json_snapshot(o, "old", d->old, n->old);
	json_snapshot(o, "new", d->new, n->new);
	muppy__out_printf(o, "  \"sort\": \"%s\",\n  \"types\": [",
			  sort_name(d->sort));
	for (i = 0; i < shown; i++) {
		const struct muppy_diff_row *r = &d->rows[i];

		muppy__out_str(o, i ? ",\n    {\"type\": " : "\n    {\"type\": ");
		muppy__json_string(o, r->name);
		muppy__out_str(o, ", ");
		json_counts(o, r->d_count, r->d_bytes, r->old_count,
			    r->old_bytes, r->new_count, r->new_bytes);
	}
	muppy__out_printf(o, "%s],\n  \"hidden\": %zu,\n  \"total\": {",
			  shown ? "\n  " : "", d->nrows - shown);
	json_counts(o, d->d_objects, d->d_bytes, d->old->objects,
		    d->old->bytes, d->new->objects, d->new->bytes);
	print_owners(o, d, MUPPY_FORMAT_JSON);
	muppy__out_str(o, "\n}\n");
}

int muppy_diff_print(FILE *f, const struct muppy_diff *d,
		     const struct muppy_print_opts *opts)
{
	struct muppy__out o;
	struct names n;
	int rc;

	if (opts->format != MUPPY_FORMAT_TABLE &&
	    opts->format != MUPPY_FORMAT_TSV &&
	    opts->format != MUPPY_FORMAT_JSON)
		return -EINVAL;
	rc = names_init(&n, opts);
	if (rc)
		return rc;
	muppy__out_init(&o, f);
	switch (opts->format) {
	case MUPPY_FORMAT_TABLE:
		print_table(&o, d, opts, &n);
		print_owners(&o, d, MUPPY_FORMAT_TABLE);
		break;
	case MUPPY_FORMAT_TSV:
		print_tsv(&o, d, opts);
		print_owners(&o, d, MUPPY_FORMAT_TSV);
		break;
	default:
		print_json(&o, d, opts, &n);
		break;
	}
	names_fini(&n);
	return muppy__out_finish(&o);
}
