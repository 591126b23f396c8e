/* SPDX-License-Identifier: MIT */
/*
 * Printing one snapshot: a table for people, tsv and json for programs,
 * and the snapshot file format itself.  Rows are shown in the order asked
 * for without touching the snapshot; the output helpers, name shortening
 * and JSON strings are lib/output/'s (stream.c, cells.c, json.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

/* The command line and executable are shortened to this in tables. */
#define HEADER_TEXT_MAX 200
#define CELL MUPPY__CELL

/* --- order of rows -------------------------------------------------------- */

/* Larger first. */
static int cmp_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

/* Last resort: position in the snapshot, so every order is total. */
static int cmp_tail(const struct muppy_type_stat *x,
		    const struct muppy_type_stat *y)
{
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

static int cmp_size(const void *a, const void *b)
{
	const struct muppy_type_stat *x = *(const struct muppy_type_stat *const *)a;
	const struct muppy_type_stat *y = *(const struct muppy_type_stat *const *)b;
	int c = cmp_desc(x->bytes, y->bytes);

	if (!c)
		c = cmp_desc(x->count, y->count);
	return c ? c : cmp_tail(x, y);
}

static int cmp_count(const void *a, const void *b)
{
	const struct muppy_type_stat *x = *(const struct muppy_type_stat *const *)a;
	const struct muppy_type_stat *y = *(const struct muppy_type_stat *const *)b;
	int c = cmp_desc(x->count, y->count);

	if (!c)
		c = cmp_desc(x->bytes, y->bytes);
	return c ? c : cmp_tail(x, y);
}

static int cmp_name(const void *a, const void *b)
{
	return cmp_tail(*(const struct muppy_type_stat *const *)a,
			*(const struct muppy_type_stat *const *)b);
}

/* The rows of s in the order by, as pointers into s; NULL when no memory. */
static const struct muppy_type_stat **rows_sorted(
	const struct muppy_snapshot *s, enum muppy_sort by)
{
	int (*cmp)(const void *, const void *);
	const struct muppy_type_stat **rows;
	size_t i;

	switch (by) {
	case MUPPY_SORT_COUNT:
		cmp = cmp_count;
		break;
	case MUPPY_SORT_NAME:
		cmp = cmp_name;
		break;
	case MUPPY_SORT_SIZE:
	default:
		cmp = cmp_size;
		break;
	}
	rows = calloc(s->ntypes ? s->ntypes : 1, sizeof(*rows));
	if (!rows)
		return NULL;
	for (i = 0; i < s->ntypes; i++)
		rows[i] = &s->types[i];
	if (s->ntypes > 1)
		qsort(rows, s->ntypes, sizeof(*rows), cmp);
	return rows;
}

static size_t rows_shown(const struct muppy_snapshot *s,
			 const struct muppy_print_opts *o)
{
	return o->limit && o->limit < s->ntypes ? o->limit : s->ntypes;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* --- table ---------------------------------------------------------------- */

/* Escaped text from the target, shortened on an escape boundary. */
static void out_cut(struct muppy__out *o, const char *s, size_t max)
{
	size_t len = strlen(s), keep = muppy__escaped_cut(s, len, max);

	muppy__out_write(o, s, keep);
	if (keep < len)
		muppy__out_str(o, "...");
}

/* A header field that was never set reads as empty. */
static const char *str(const char *s)
{
	return s ? s : "";
}

/* "CPython" for "cpython"; other implementations as they call themselves. */
static const char *impl_name(const char *impl)
{
	if (!strcmp(impl, "cpython"))
		return "CPython";
	return *impl ? impl : "Python";
}

/* One line per fact that changes how the counts read. */
static void table_notes(struct muppy__out *o, const struct muppy_snapshot *s)
{
	if (s->frozen_missed && s->frozen == 1)
		muppy__out_str(o, "note: 1 object frozen by gc.freeze() was not "
			       "walked: it is counted only if reachable from "
			       "other objects (a limit of muppy-snap, nothing "
			       "to fix)\n");
	else if (s->frozen_missed)
		muppy__out_printf(o, "note: %" PRIu64 " objects frozen by "
				  "gc.freeze() were not walked: only those "
				  "reachable from other objects are counted (a "
				  "limit of muppy-snap, nothing to fix)\n",
				  s->frozen);
	if (s->layout == MUPPY_LAYOUT_GENERIC) {
		muppy__out_printf(o, "note: %s",
				  impl_name(str(s->implementation)));
		if (*str(s->python))
			muppy__out_printf(o, " %s", s->python);
		muppy__out_str(o, " is newer than the versions muppy-snap was "
			       "verified on: only what run-time checks proved "
			       "was used, without fast sizing");
		if (*str(s->checks_failed)) {
			muppy__out_str(o, " (checks failed: ");
			out_cut(o, s->checks_failed, HEADER_TEXT_MAX);
			muppy__out_str(o, ")");
		}
		muppy__out_str(o, "\n");
	}
	if (s->interpreters > 1)
		muppy__out_printf(o, "note: the process runs %" PRIu64
				  " interpreters; only the main interpreter's "
				  "objects are counted\n", s->interpreters);
}

/*
 * pid 4242  python3 app.py --port 8080
 * CPython 3.11.2  /usr/bin/python3.11  2026-11-25T12:52:54.123Z
 * 120345 objects  9.4 MiB in 412 types  (RSS 100.0 MiB; 12345 frozen;
 * gc freed 17 objects; interpreter held 183.0 ms)	[one line]
 * note: ...					[each unusual fact]
 */
static void table_header(struct muppy__out *o, const struct muppy_snapshot *s)
{
	char when[CELL], bytes[CELL], rss[CELL];
	uint64_t tenths = s->hold_us / 100 + (s->hold_us % 100 >= 50);

	muppy__out_printf(o, "pid %" PRId64, s->pid);
	if (*str(s->cmdline)) {
		muppy__out_str(o, "  ");
		out_cut(o, s->cmdline, HEADER_TEXT_MAX);
	}
	muppy__out_printf(o, "\n%s", impl_name(str(s->implementation)));
	if (*str(s->python))
		muppy__out_printf(o, " %s", s->python);
	if (*str(s->executable)) {
		muppy__out_str(o, "  ");
		out_cut(o, s->executable, HEADER_TEXT_MAX);
	}
	muppy_time_format(when, sizeof(when), s->time_ms);
	muppy__out_printf(o, "  %s\n", when);

	muppy_human_bytes(bytes, sizeof(bytes), s->bytes);
	muppy_human_bytes(rss, sizeof(rss), s->rss);
	muppy__out_printf(o, "%" PRIu64 " object%s  %s in %zu type%s  (RSS %s; ",
			  s->objects, plural(s->objects), bytes, s->ntypes,
			  plural(s->ntypes), rss);
	if (s->frozen > 0)
		muppy__out_printf(o, "%" PRIu64 " frozen; ", s->frozen);
	if (s->gc)
		muppy__out_printf(o, "gc freed %" PRIu64 " object%s",
				  s->gc_freed, plural(s->gc_freed));
	else
		muppy__out_str(o, "no gc");
	muppy__out_printf(o, "; interpreter held %" PRIu64 ".%u ms)\n",
			  tenths / 10, (unsigned)(tenths % 10));
	table_notes(o, s);
	muppy__out_str(o, "\n");
}

enum { COL_COUNT, COL_BYTES, NCOLS };

static const char *const col_titles[NCOLS] = { "objects", "bytes" };

static void cells_fill(char cell[NCOLS][CELL], uint64_t count, uint64_t bytes)
{
	snprintf(cell[COL_COUNT], CELL, "%" PRIu64, count);
	muppy_human_bytes(cell[COL_BYTES], CELL, bytes);
}


static void print_table(struct muppy__out *o, const struct muppy_snapshot *s,
			const struct muppy_type_stat *const *rows,
			size_t shown)
{
	size_t hidden = s->ntypes - shown, width[NCOLS], i;
	char cell[NCOLS][CELL];

	table_header(o, s);
	for (i = 0; i < NCOLS; i++)
		width[i] = muppy__text_width(col_titles[i]);
	for (i = 0; i < shown; i++) {
		cells_fill(cell, rows[i]->count, rows[i]->bytes);
		muppy__cells_widen(width, cell, NCOLS);
	}
	cells_fill(cell, s->objects, s->bytes);
	muppy__cells_widen(width, cell, NCOLS);

	muppy__cells_titles(o, width, col_titles, NCOLS, NCOLS);
	for (i = 0; i < shown; i++) {
		cells_fill(cell, rows[i]->count, rows[i]->bytes);
		muppy__cells_row(o, width, cell, NCOLS, rows[i]->name);
	}
	if (hidden)
		muppy__out_printf(o, "... %zu more type%s (--limit=0 shows all)\n",
				  hidden, plural(hidden));
	muppy__cells_rule(o, width, NCOLS);
	cells_fill(cell, s->objects, s->bytes);
	muppy__cells_row(o, width, cell, NCOLS, "total");
}

/* --- tsv and json ------------------------------------------------------ */

/* TSV: exact integers, one header line, no totals. */
static void print_tsv(struct muppy__out *o,
		      const struct muppy_type_stat *const *rows, size_t shown)
{
	size_t i;

	muppy__out_str(o, "count\tbytes\ttype\n");
	for (i = 0; i < shown; i++) {
		muppy__out_printf(o, "%" PRIu64 "\t%" PRIu64 "\t",
				  rows[i]->count, rows[i]->bytes);
		muppy__out_str(o, rows[i]->name);
		muppy__out_str(o, "\n");
	}
}

static void json_field(struct muppy__out *o, const char *key, const char *s)
{
	muppy__out_printf(o, "  \"%s\": ", key);
	muppy__json_string(o, s);
	muppy__out_str(o, ",\n");
}

/* The facts of format 1.1; null where the snapshot does not know them. */
static void json_walk_facts(struct muppy__out *o,
			    const struct muppy_snapshot *s)
{
	static const char *const layouts[] = {
		[MUPPY_LAYOUT_VERIFIED] = "verified",
		[MUPPY_LAYOUT_GENERIC] = "generic",
	};
	const char *layout = (unsigned)s->layout < ARRAY_SIZE(layouts) ?
			     layouts[s->layout] : NULL;

	if (s->frozen_known)
		muppy__out_printf(o, "  \"frozen\": %" PRIu64 ",\n"
				  "  \"frozen_walked\": %s,\n", s->frozen,
				  s->frozen_missed ? "false" : "true");
	else
		muppy__out_str(o, "  \"frozen\": null,\n"
			       "  \"frozen_walked\": null,\n");
	json_field(o, "layout", layout);
	/* No checks are known to have run when the layout is not known. */
	json_field(o, "checks_failed", *str(s->checks_failed) || layout ?
		   str(s->checks_failed) : NULL);
	if (s->interpreters > 0)
		muppy__out_printf(o, "  \"interpreters\": %" PRIu64 ",\n",
				  s->interpreters);
	else
		muppy__out_str(o, "  \"interpreters\": null,\n");
}

/* JSON, schema "muppy-snapshot/1": one member a line, one type a line. */
static void print_json(struct muppy__out *o, const struct muppy_snapshot *s,
		       const struct muppy_type_stat *const *rows,
		       size_t shown)
{
	char when[CELL];
	size_t i;

	muppy_time_format(when, sizeof(when), s->time_ms);
	muppy__out_printf(o, "{\n  \"schema\": \"muppy-snapshot/1\",\n"
			  "  \"pid\": %" PRId64 ",\n", s->pid);
	json_field(o, "cmdline", s->cmdline);
	json_field(o, "time", when);
	json_field(o, "python", s->python);
	json_field(o, "implementation", s->implementation);
	json_field(o, "executable", s->executable);
	muppy__out_printf(o, "  \"rss\": %" PRIu64 ",\n  \"gc\": %s,\n"
			  "  \"gc_freed\": %" PRIu64 ",\n"
			  "  \"hold_us\": %" PRIu64 ",\n", s->rss,
			  s->gc ? "true" : "false", s->gc_freed, s->hold_us);
	json_walk_facts(o, s);
	muppy__out_printf(o, "  \"objects\": %" PRIu64 ",\n"
			  "  \"bytes\": %" PRIu64 ",\n  \"types\": [",
			  s->objects, s->bytes);
	for (i = 0; i < shown; i++) {
		muppy__out_str(o, i ? ",\n    {\"type\": " : "\n    {\"type\": ");
		muppy__json_string(o, rows[i]->name);
		muppy__out_printf(o, ", \"count\": %" PRIu64 ", \"bytes\": %"
				  PRIu64 "}", rows[i]->count, rows[i]->bytes);
	}
	muppy__out_printf(o, "%s],\n  \"hidden\": %zu",
			  shown ? "\n  " : "", s->ntypes - shown);
}

/* --- entry point ------------------------------------------------------- */

static int print_snap(FILE *f, const struct muppy_snapshot *s)
{
	struct muppy__out o;
	int rc;

	muppy__out_init(&o, f);
	rc = muppy_snapshot_write(f, s);
	if (rc)
		o.err = rc;
	return muppy__out_finish(&o);
}

int muppy_snapshot_print(FILE *f, const struct muppy_snapshot *s,
			 const struct muppy_print_opts *opts,
			 enum muppy_sort by)
{
	const struct muppy_type_stat **rows;
	struct muppy__out o;
	size_t shown;
	int rc;

	switch (opts->format) {
	case MUPPY_FORMAT_SNAP:
		return print_snap(f, s);
	case MUPPY_FORMAT_TABLE:
	case MUPPY_FORMAT_TSV:
	case MUPPY_FORMAT_JSON:
		break;
	default:
		return -EINVAL;
	}
	for (shown = 0; shown < s->ntypes; shown++)
		if (!s->types[shown].name)
			return -EINVAL;
	rows = rows_sorted(s, by);
	if (!rows)
		return -ENOMEM;
	shown = rows_shown(s, opts);
	muppy__out_init(&o, f);
	switch (opts->format) {
	case MUPPY_FORMAT_TABLE:
		print_table(&o, s, rows, shown);
		break;
	case MUPPY_FORMAT_TSV:
		print_tsv(&o, rows, shown);
		break;
	default:
		print_json(&o, s, rows, shown);
		break;
	}
	free(rows);
	/* Below the rows: who holds the types asked for (all holders). */
	rc = muppy__owners_print(&o, s, opts->format);
	if (opts->format == MUPPY_FORMAT_JSON)
		muppy__out_str(&o, "\n}\n");
	rc = muppy__out_finish(&o) ?: rc;
	return rc;
}
