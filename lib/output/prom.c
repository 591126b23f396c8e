/* SPDX-License-Identifier: MIT */
/*
 * OpenMetrics text exposition of one snapshot, for Prometheus through
 * node_exporter's textfile collector.  The number of series is capped:
 * the limit largest types by bytes get their own, the rest are summed
 * under type="(other)".  Every series carries the labels of its
 * process: pid, program, then the user's (--label).  Label values are
 * escaped as OpenMetrics asks (backslash, double quote, newline), on top
 * of muppy's own escaping for the text that comes from the target.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define OTHER "(other)"

/* A label value: \ " and newline escaped; muppy names have no newline,
 * but the writer does not rely on it. */
static const char *label_rep(char c)
{
	return c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
}

static void out_label_n(struct muppy__out *o, const char *s, size_t len)
{
	muppy__out_str(o, "\"");
	muppy__out_replaced(o, s, len, label_rep);
	muppy__out_str(o, "\"");
}

static void out_label(struct muppy__out *o, const char *s)
{
	out_label_n(o, s, strlen(s));
}

/* Labels that muppy_prom_print() writes itself. */
static const char *const own_labels[] = {
	"pid", "program", "type", "implementation", "version", "executable",
};

/* Well-formed UTF-8 (Unicode table 3-7). */
static bool utf8_ok(const unsigned char *p)
{
	while (*p) {
		unsigned char b = *p++, lo = 0x80, hi = 0xbf;
		int n;

		if (b < 0x80)
			continue;
		if (b >= 0xc2 && b <= 0xdf)
			n = 1;
		else if (b >= 0xe0 && b <= 0xef)
			n = 2, lo = b == 0xe0 ? 0xa0 : 0x80,
			hi = b == 0xed ? 0x9f : 0xbf;
		else if (b >= 0xf0 && b <= 0xf4)
			n = 3, lo = b == 0xf0 ? 0x90 : 0x80,
			hi = b == 0xf4 ? 0x8f : 0xbf;
		else
			return false;
		if (*p < lo || *p > hi)
			return false;
		for (p++; --n > 0; p++)
			if (*p < 0x80 || *p > 0xbf)
				return false;
	}
	return true;
}

bool muppy_prom_label_ok(const char *name, const char *value)
{
	size_t i;

	if (!name || !value || !utf8_ok((const unsigned char *)value))
		return false;
	if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
	      *name == '_') || !strncmp(name, "__", 2))
		return false;
	for (i = 1; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	for (i = 0; i < sizeof(own_labels) / sizeof(own_labels[0]); i++)
		if (!strcmp(name, own_labels[i]))
			return false;
	return true;
}

/* What every series of the process carries. */
struct ident {
	int64_t pid;
	const char *program;
	size_t program_len;
	const struct muppy_label *labels;
	size_t nlabels;
};

/* pid="42",program="app.py",job="web" (no braces). */
static void out_ident(struct muppy__out *o, const struct ident *id)
{
	muppy__out_printf(o, "pid=\"%" PRId64 "\",program=", id->pid);
	out_label_n(o, id->program, id->program_len);
	for (size_t i = 0; i < id->nlabels; i++) {
		muppy__out_printf(o, ",%s=", id->labels[i].name);
		out_label(o, id->labels[i].value);
	}
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
		     const struct ident *id,
		     const struct muppy_type_stat *const *rows, size_t shown,
		     bool bytes)
{
	const char *name = bytes ? "muppy_type_bytes" : "muppy_type_objects";
	uint64_t rest = 0;
	size_t i;

	for (i = 0; i < s->ntypes; i++) {
		uint64_t v = bytes ? rows[i]->bytes : rows[i]->count;

		if (i >= shown) {
			rest += v;
			continue;
		}
		muppy__out_printf(o, "%s{", name);
		out_ident(o, id);
		muppy__out_str(o, ",type=");
		out_label(o, rows[i]->name);
		muppy__out_printf(o, "} %" PRIu64 "\n", v);
	}
	if (shown < s->ntypes) {
		muppy__out_printf(o, "%s{", name);
		out_ident(o, id);
		muppy__out_printf(o, ",type=\"" OTHER "\"} %" PRIu64 "\n",
				  rest);
	}
}

static void gauge(struct muppy__out *o, const struct ident *id,
		  const char *name, const char *unit, const char *help,
		  const char *value)
{
	family(o, name, unit, help);
	muppy__out_printf(o, "%s{", name);
	out_ident(o, id);
	muppy__out_printf(o, "} %s\n", value);
}

int muppy_prom_print(FILE *f, const struct muppy_snapshot *s,
		     const struct muppy_print_opts *po)
{
	struct ident id = { .pid = s->pid, .labels = po->labels,
			    .nlabels = po->nlabels };
	const struct muppy_type_stat **rows;
	size_t shown, i, limit = po->limit;
	struct muppy__out o;
	char v[64];

	for (i = 0; i < s->ntypes; i++)
		if (!s->types[i].name)
			return -EINVAL;
	for (i = 0; i < po->nlabels; i++)
		if (!muppy_prom_label_ok(po->labels[i].name,
					 po->labels[i].value))
			return -EINVAL;
	id.program = muppy_cmdline_program(s->cmdline, &id.program_len);
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
	per_type(&o, s, &id, rows, shown, false);
	family(&o, "muppy_type_bytes", "bytes",
	       "Bytes (sys.getsizeof) of the live objects of one type.");
	per_type(&o, s, &id, rows, shown, true);
	snprintf(v, sizeof(v), "%" PRIu64, s->objects);
	gauge(&o, &id, "muppy_objects", NULL, "Live objects in all.", v);
	snprintf(v, sizeof(v), "%" PRIu64, s->bytes);
	gauge(&o, &id, "muppy_bytes", "bytes", "Bytes of all live objects.", v);
	snprintf(v, sizeof(v), "%zu", s->ntypes);
	gauge(&o, &id, "muppy_types", NULL, "Types with live objects.", v);
	if (s->frozen_known) {
		snprintf(v, sizeof(v), "%" PRIu64, s->frozen);
		gauge(&o, &id, "muppy_frozen_objects", NULL,
		      "Objects gc.freeze() moved to the permanent generation "
		      "(gc.get_freeze_count()).", v);
	}
	snprintf(v, sizeof(v), "%" PRIu64, s->rss);
	gauge(&o, &id, "muppy_rss_bytes", "bytes",
	      "Resident set size of the process.", v);
	snprintf(v, sizeof(v), "%" PRIu64 ".%06" PRIu64, s->hold_us / 1000000,
		 s->hold_us % 1000000);
	gauge(&o, &id, "muppy_walk_seconds", "seconds",
	      "Time the snapshot held the interpreter (collection and walk).",
	      v);
	snprintf(v, sizeof(v), "%" PRId64 ".%03d", s->time_ms / 1000,
		 (int)(s->time_ms % 1000));
	gauge(&o, &id, "muppy_snapshot_timestamp_seconds", "seconds",
	      "When the snapshot was taken, seconds since the Unix epoch.", v);
	/* A gauge of 1, not an OpenMetrics info family, which the text
	 * format of node_exporter's textfile collector does not know. */
	family(&o, "muppy_python_info", NULL,
	       "The interpreter of the process, in its labels (always 1).");
	muppy__out_str(&o, "muppy_python_info{");
	out_ident(&o, &id);
	muppy__out_str(&o, ",implementation=");
	out_label(&o, s->implementation ? s->implementation : "");
	muppy__out_str(&o, ",version=");
	out_label(&o, s->python ? s->python : "");
	muppy__out_str(&o, ",executable=");
	out_label(&o, s->executable ? s->executable : "");
	muppy__out_str(&o, "} 1\n# EOF\n");
	free(rows);
	return muppy__out_finish(&o);
}
