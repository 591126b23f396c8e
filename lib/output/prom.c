/* SPDX-License-Identifier: MIT */
/*
 * OpenMetrics text exposition of one snapshot, for Prometheus through
 * node_exporter's textfile collector.  The number of series is capped:
 * the limit largest types by bytes get their own, the rest are summed
 * under type="(other)".  Label values are escaped as OpenMetrics asks
 * (backslash, double quote, newline) on top of muppy's own escaping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define OTHER "(other)"

/* A label value: \ " and newline escaped; muppy names have no newline,
 * but the writer does not rely on it. */
static void out_label(struct muppy__out *o, const char *s)
{
	const char *run = s;

	muppy__out_str(o, "\"");
	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
				  *s == '\n' ? "\\n" : NULL;

		if (!rep)
			continue;
		muppy__out_write(o, run, (size_t)(s - run));
		muppy__out_str(o, rep);
		run = s + 1;
	}
	muppy__out_str(o, run);
	muppy__out_str(o, "\"");
}

static void family(struct muppy__out *o, const char *name, const char *unit,
		   const char *help)
{
	muppy__out_printf(o, "# TYPE %s gauge\n", name);
	if (unit)
		muppy__out_printf(o, "# UNIT %s %s\n", name, unit);
	muppy__out_printf(o, "# HELP %s %s\n", name, help);
}

static int cmp_bytes(const void *a, const void *b)
{
	const struct muppy_type_stat *x = *(const struct muppy_type_stat *const *)a;
	const struct muppy_type_stat *y = *(const struct muppy_type_stat *const *)b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void per_type(struct muppy__out *o, const struct muppy_snapshot *s,
		     const struct muppy_type_stat *const *rows, size_t shown,
		     bool bytes)
{
	uint64_t rest = 0;
	size_t i;

	for (i = 0; i < s->ntypes; i++) {
		uint64_t v = bytes ? rows[i]->bytes : rows[i]->count;

		if (i >= shown) {
			rest += v;
			continue;
		}
		muppy__out_printf(o, "muppy_type_%s{pid=\"%" PRId64 "\",type=",
				  bytes ? "bytes" : "objects", s->pid);
		out_label(o, rows[i]->name);
		muppy__out_printf(o, "} %" PRIu64 "\n", v);
	}
	if (shown < s->ntypes)
		muppy__out_printf(o, "muppy_type_%s{pid=\"%" PRId64 "\",type=\""
				  OTHER "\"} %" PRIu64 "\n",
				  bytes ? "bytes" : "objects", s->pid, rest);
}

static void gauge(struct muppy__out *o, const struct muppy_snapshot *s,
		  const char *name, const char *unit, const char *help,
		  const char *value)
{
	family(o, name, unit, help);
	muppy__out_printf(o, "%s{pid=\"%" PRId64 "\"} %s\n", name, s->pid,
			  value);
}

int muppy_prom_print(FILE *f, const struct muppy_snapshot *s, size_t limit)
{
	const struct muppy_type_stat **rows;
	struct muppy__out o;
	size_t shown, i;
	char v[64];

	for (i = 0; i < s->ntypes; i++)
		if (!s->types[i].name)
			return -EINVAL;
	rows = calloc(s->ntypes ? s->ntypes : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < s->ntypes; i++)
		rows[i] = &s->types[i];
	if (s->ntypes > 1)
		qsort(rows, s->ntypes, sizeof(*rows), cmp_bytes);
	shown = limit && limit < s->ntypes ? limit : s->ntypes;

	muppy__out_init(&o, f);
	family(&o, "muppy_type_objects", NULL,
	       "Live objects of one type in a CPython process.");
	per_type(&o, s, rows, shown, false);
	family(&o, "muppy_type_bytes", "bytes",
	       "Bytes (sys.getsizeof) of the live objects of one type.");
	per_type(&o, s, rows, shown, true);
	snprintf(v, sizeof(v), "%" PRIu64, s->objects);
	gauge(&o, s, "muppy_objects", NULL, "Live objects in all.", v);
	snprintf(v, sizeof(v), "%" PRIu64, s->bytes);
	gauge(&o, s, "muppy_bytes", "bytes", "Bytes of all live objects.", v);
	snprintf(v, sizeof(v), "%zu", s->ntypes);
	gauge(&o, s, "muppy_types", NULL, "Types with live objects.", v);
	if (s->frozen_known) {
		snprintf(v, sizeof(v), "%" PRIu64, s->frozen);
		gauge(&o, s, "muppy_frozen_objects", NULL,
		      "Objects gc.freeze() moved to the permanent generation "
		      "(gc.get_freeze_count()).", v);
	}
	snprintf(v, sizeof(v), "%" PRIu64, s->rss);
	gauge(&o, s, "muppy_rss_bytes", "bytes",
	      "Resident set size of the process.", v);
	snprintf(v, sizeof(v), "%" PRIu64 ".%06" PRIu64, s->hold_us / 1000000,
		 s->hold_us % 1000000);
	gauge(&o, s, "muppy_walk_seconds", "seconds",
	      "Time the snapshot held the interpreter (collection and walk).",
	      v);
	snprintf(v, sizeof(v), "%" PRId64 ".%03d", s->time_ms / 1000,
		 (int)(s->time_ms % 1000));
	gauge(&o, s, "muppy_snapshot_timestamp_seconds", "seconds",
	      "When the snapshot was taken, seconds since the Unix epoch.", v);
	/* A gauge of 1, not an OpenMetrics info family, which the text
	 * format of node_exporter's textfile collector does not know. */
	family(&o, "muppy_python_info", NULL,
	       "The interpreter of the process, in its labels (always 1).");
	muppy__out_printf(&o, "muppy_python_info{pid=\"%" PRId64
			  "\",implementation=", s->pid);
	out_label(&o, s->implementation ? s->implementation : "");
	muppy__out_str(&o, ",version=");
	out_label(&o, s->python ? s->python : "");
	muppy__out_str(&o, ",executable=");
	out_label(&o, s->executable ? s->executable : "");
	muppy__out_str(&o, "} 1\n# EOF\n");
	free(rows);
	return muppy__out_finish(&o);
}
