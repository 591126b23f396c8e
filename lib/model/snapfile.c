/* SPDX-License-Identifier: MIT */
/*
 * The snapshot file format, version 1.x; see muppy-snapshot(5).
 *
 * The parser is line-oriented: muppy_snapshot_parse() splits a buffer and
 * muppy_snapshot_read() streams lines with getline(); both feed the same
 * state machine, which never looks outside the line it was given.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#define FORMAT_MAJOR 1
/* The newest minor version this build reads in full; it writes
 * PLAIN_MINOR unless the snapshot has owners, which came with 1.2. */
#define FORMAT_MINOR 2
#define PLAIN_MINOR 1
#define OWNERS_SINCE 2
/* Bytes of an offending value quoted in a message. */
#define SHOW_MAX 48

enum field {
	F_PID, F_CMDLINE, F_TIME, F_PYTHON, F_IMPLEMENTATION, F_EXECUTABLE,
	F_RSS, F_GC, F_GC_FREED, F_HOLD_US, F_FROZEN, F_FROZEN_WALKED,
	F_LAYOUT, F_CHECKS_FAILED, F_INTERPRETERS, F_OBJECTS, F_BYTES,
	F_TYPES, NFIELDS
};

/* In the order the writer writes them. */
static const char *const field_names[NFIELDS] = {
	[F_PID] = "pid",
	[F_CMDLINE] = "cmdline",
	[F_TIME] = "time",
	[F_PYTHON] = "python",
	[F_IMPLEMENTATION] = "implementation",
	[F_EXECUTABLE] = "executable",
	[F_RSS] = "rss",
	[F_GC] = "gc",
	[F_GC_FREED] = "gc_freed",
	[F_HOLD_US] = "hold_us",
	[F_FROZEN] = "frozen",
	[F_FROZEN_WALKED] = "frozen_walked",
	[F_LAYOUT] = "layout",
	[F_CHECKS_FAILED] = "checks_failed",
	[F_INTERPRETERS] = "interpreters",
	[F_OBJECTS] = "objects",
	[F_BYTES] = "bytes",
	[F_TYPES] = "types",
};

/*
 * The minor version that added a field: a field of 1.0 is required, a
 * later one optional, and unknown in files of an older minor version.
 */
static const unsigned field_since[NFIELDS] = {
	[F_FROZEN] = 1,
	[F_FROZEN_WALKED] = 1,
	[F_LAYOUT] = 1,
	[F_CHECKS_FAILED] = 1,
	[F_INTERPRETERS] = 1,
};

static const char *const layout_names[] = {
	[MUPPY_LAYOUT_VERIFIED] = "verified",
	[MUPPY_LAYOUT_GENERIC] = "generic",
};

struct parser {
	const char *name; /* as shown: escaped if need be */
	char *name_buf;
	struct muppy_error *err;
	struct muppy_snapshot *s;
	size_t lineno;
	bool in_rows;
	size_t field_line[NFIELDS]; /* 0 until the field is seen */
	uint64_t hdr_types;
	uint64_t sum_count, sum_bytes;
	size_t *row_line; /* line of each row, for duplicate messages */
	size_t row_line_cap;
	/* Owners (1.2): the line of each section's owners line; of the
	 * current section, the line of each held and path line; the path
	 * whose step lines may follow (NULL after any other line). */
	size_t owners_line[MUPPY_OWNERS_MAX];
	size_t *held_line, held_cap;
	size_t path_line[MUPPY_PATHS_MAX];
	struct muppy_path *open_path;
	bool owners_closed; /* the last section was checked */
};

/* Quotes untrusted text for a message: shortened, and always escaped. */
static const char *show(char *buf, size_t size, const char *s, size_t len)
{
	size_t n = len > SHOW_MAX ? SHOW_MAX : len;
	char *e;

	if (muppy_is_escaped(s, len)) {
		/* Cut between escapes and characters (at most 4 tries). */
		while (n > 0 && !muppy_is_escaped(s, n))
			n--;
		snprintf(buf, size, "%.*s%s", (int)n, s, len > n ? "..." : "");
		return buf;
	}
	e = muppy_escape(s, n);
	snprintf(buf, size, "%s%s", e ? e : "?", len > n ? "..." : "");
	free(e);
	return buf;
}

/*
 * A file name as shown in messages: unchanged when it is in escaped form
 * already (as any ordinary name is), escaped otherwise.  *buf is what
 * to free.
 */
static const char *shown_name(const char *name, char **buf)
{
	*buf = NULL;
	if (muppy_is_escaped(name, strlen(name)))
		return name;
	*buf = muppy_escape(name, strlen(name));
	return *buf ? *buf : "?";
}

static int fail(struct parser *p, size_t line, const char *fmt, ...)
	MUPPY_PRINTF(3, 4);
static int fail(struct parser *p, size_t line, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	muppy_error_set(p->err, "%s:%zu: %s", p->name, line, msg);
	return -EINVAL;
}

static int oom(struct parser *p)
{
	muppy_error_set(p->err, "%s: out of memory", p->name);
	return -ENOMEM;
}

/* Decimal without sign or leading zeros, at most MUPPY_MAX_VALUE. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > ((uint64_t)MUPPY_MAX_VALUE - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int parse_magic(struct parser *p, const char *line, size_t len)
{
	static const char magic[] = "# muppy-snapshot ";
	const size_t mlen = sizeof(magic) - 1;
	const char *v = line + mlen, *dot;
	uint64_t major, minor;
	size_t vlen;
	char q[256];

	if (len < mlen || memcmp(line, magic, mlen) != 0)
		return fail(p, p->lineno, "not a muppy snapshot (the first "
			    "line is not '# muppy-snapshot %d.%d')",
			    FORMAT_MAJOR, PLAIN_MINOR);
	vlen = len - mlen;
	dot = memchr(v, '.', vlen);
	if (!dot || !parse_u64(v, (size_t)(dot - v), &major) ||
	    !parse_u64(dot + 1, vlen - (size_t)(dot - v) - 1, &minor) ||
	    major > UINT32_MAX || minor > UINT32_MAX)
		return fail(p, p->lineno, "bad format version '%s'",
			    show(q, sizeof(q), v, vlen));
	if (major != FORMAT_MAJOR)
		return fail(p, p->lineno, "unsupported format version %s "
			    "(this muppy reads %d.x)",
			    show(q, sizeof(q), v, vlen), FORMAT_MAJOR);
	p->s->minor = (unsigned)minor;
	return 0;
}

/*
 * Fails unless text (len bytes at column col, counted from 0) is in
 * escaped form; quotes it from the first byte that is not.  Text as
 * older writers wrote it, with invisible characters raw that are
 * escaped today, passes too: *upgraded (when not NULL) is then a new
 * string, its escaped form today, to use instead; else NULL.
 */
static int check_escaped(struct parser *p, const char *what,
			 const char *text, size_t len, size_t col,
			 char **upgraded)
{
	size_t ok = muppy__escaped_len_compat(text, len);
	char q[256];

	if (upgraded)
		*upgraded = NULL;
	if (ok != len)
		return fail(p, p->lineno, "%s not in escaped form at column "
			    "%zu: '%s'", what, col + ok + 1,
			    show(q, sizeof(q), text + ok, len - ok));
	if (!upgraded || muppy__escaped_len(text, len) == len)
		return 0;
	*upgraded = muppy__escape_upgrade(text, len);
	return *upgraded ? 0 : oom(p);
}

/* Stores a copy of v, or up (then owned) when it is not NULL. */
static int set_string(struct parser *p, char **field, const char *v,
		      size_t len, char *up)
{
	char *copy = up ? up : strndup(v, len);

	if (!copy)
		return oom(p);
	free(*field);
	*field = copy;
	return 0;
}

static bool is_word(const char *v, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(v, word, len) == 0;
}

/* "yes" or "no" into *out; false for anything else. */
static bool parse_yes_no(const char *v, size_t len, bool *out)
{
	if (is_word(v, len, "yes"))
		*out = true;
	else if (is_word(v, len, "no"))
		*out = false;
	else
		return false;
	return true;
}

/* Stores the value of a known header field; false when it is malformed. */
static int set_field(struct parser *p, enum field f, const char *line,
		     const char *v, size_t len, bool *ok)
{
	struct muppy_snapshot *s = p->s;
	uint64_t u = 0;
	char tbuf[64], *up;
	bool walked = true;
	size_t i;
	int rc;

	*ok = true;
	switch (f) {
	case F_CMDLINE:
	case F_PYTHON:
	case F_IMPLEMENTATION:
	case F_EXECUTABLE:
	case F_CHECKS_FAILED:
		rc = check_escaped(p, field_names[f], v, len,
				   (size_t)(v - line), &up);
		if (rc < 0)
			return rc;
		/* Written only when some check failed. */
		if (f == F_CHECKS_FAILED && len == 0) {
			*ok = false;
			return 0;
		}
		return set_string(p, f == F_CMDLINE ? &s->cmdline :
				  f == F_PYTHON ? &s->python :
				  f == F_IMPLEMENTATION ? &s->implementation :
				  f == F_EXECUTABLE ? &s->executable :
				  &s->checks_failed, v, len, up);
	case F_TIME:
		if (len >= sizeof(tbuf)) {
			*ok = false;
			return 0;
		}
		memcpy(tbuf, v, len);
		tbuf[len] = '\0';
		*ok = muppy_time_parse(tbuf, &s->time_ms) == 0;
		return 0;
	case F_GC:
		*ok = parse_yes_no(v, len, &s->gc);
		return 0;
	case F_FROZEN_WALKED:
		*ok = parse_yes_no(v, len, &walked);
		s->frozen_missed = *ok && !walked;
		return 0;
	case F_LAYOUT:
		*ok = false;
		for (i = 0; i < ARRAY_SIZE(layout_names); i++) {
			if (layout_names[i] && is_word(v, len,
						       layout_names[i])) {
				s->layout = (enum muppy_layout)i;
				*ok = true;
			}
		}
		return 0;
	default:
		break;
	}
	/* pid 0 is no process; interpreters 0 (unknown) is not written. */
	if (!parse_u64(v, len, &u) ||
	    ((f == F_PID || f == F_INTERPRETERS) && u == 0)) {
		*ok = false;
		return 0;
	}
	switch (f) {
	case F_PID: s->pid = (int64_t)u; break;
	case F_RSS: s->rss = u; break;
	case F_GC_FREED: s->gc_freed = u; break;
	case F_HOLD_US: s->hold_us = u; break;
	case F_FROZEN: s->frozen = u; s->frozen_known = true; break;
	case F_INTERPRETERS: s->interpreters = u; break;
	case F_OBJECTS: s->objects = u; break;
	case F_BYTES: s->bytes = u; break;
	case F_TYPES: p->hdr_types = u; break;
	default: break;
	}
	return 0;
}

/* --- owners (1.2) ------------------------------------------------------- */

/* Fails unless text is in escaped form exactly as written today (these
 * lines are newer than every writer of the older forms). */
static int check_strict(struct parser *p, const char *what,
			const char *text, size_t len, size_t col)
{
	size_t ok = muppy__escaped_len(text, len);
	char q[256];

	if (ok == len)
		return 0;
	return fail(p, p->lineno, "%s not in escaped form at column %zu: '%s'",
		    what, col + ok + 1, show(q, sizeof(q), text + ok, len - ok));
}

/*
 * n space-separated numbers at the start of v, then the text to the end
 * of the line in *text; false when malformed.  *bad is the number that
 * was not one (or NULL when a separator is missing).
 */
static bool split_numbers(const char *v, size_t len, size_t n, uint64_t *num,
			  const char **text, const char **bad, size_t *badlen)
{
	const char *end = v + len, *sp;
	size_t i;

	*bad = NULL;
	for (i = 0; i < n; i++) {
		sp = memchr(v, ' ', (size_t)(end - v));
		if (!sp)
			return false;
		if (!parse_u64(v, (size_t)(sp - v), &num[i])) {
			*bad = v;
			*badlen = (size_t)(sp - v);
			return false;
		}
		v = sp + 1;
	}
	*text = v;
	return true;
}

/* The path that step lines extend ends: it needs a root and its object. */
static int close_path(struct parser *p)
{
	struct muppy_path *path = p->open_path;
	const struct muppy_owners *o;

	if (!path)
		return 0;
	p->open_path = NULL;
	if (path->nsteps >= 2)
		return 0;
	o = &p->s->owners[p->s->nowners - 1];
	return fail(p, p->path_line[(size_t)(path - o->paths)],
		    "path with %zu step%s (at least 2: a root and the object)",
		    path->nsteps, path->nsteps == 1 ? "" : "s");
}

struct line_ref {
	const char *name;
	uint64_t id;
	size_t line;
};

static int by_name_then_line(const void *a, const void *b)
{
	const struct line_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int by_id_then_line(const void *a, const void *b)
{
	const struct line_ref *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * The first line (in file order) of n refs that repeats an earlier one's
 * key, and that earlier line; false when none does.
 */
static bool first_repeat(struct line_ref *ref, size_t n,
			 int (*cmp)(const void *, const void *), size_t *dup,
			 size_t *first)
{
	size_t i, idx = SIZE_MAX;

	qsort(ref, n, sizeof(*ref), cmp);
	for (i = 1; i < n; i++) {
		bool same = cmp == by_name_then_line ?
			    !strcmp(ref[i].name, ref[i - 1].name) :
			    ref[i].id == ref[i - 1].id;

		if (same && ref[i].line < *dup) {
			*dup = ref[i].line;
			*first = ref[i - 1].line;
			idx = i;
		}
	}
	return idx != SIZE_MAX;
}

/* The last section is complete: no holder and no path id twice. */
static int close_owners(struct parser *p)
{
	const struct muppy_owners *o;
	struct line_ref *ref;
	size_t i, n, dup = SIZE_MAX, first = 0;
	char q[256];
	int rc = close_path(p);

	if (rc < 0 || p->owners_closed || !p->s->nowners)
		return rc;
	p->owners_closed = true;
	o = &p->s->owners[p->s->nowners - 1];
	n = o->nholders > o->npaths ? o->nholders : o->npaths;
	ref = calloc(n ? n : 1, sizeof(*ref));
	if (!ref)
		return oom(p);
	for (i = 0; i < o->nholders; i++) {
		ref[i].name = o->holders[i].name;
		ref[i].line = p->held_line[i];
	}
	if (first_repeat(ref, o->nholders, by_name_then_line, &dup, &first)) {
		for (i = 0; i < o->nholders && p->held_line[i] != dup; i++)
			;
		rc = fail(p, dup, "duplicate holder '%s' (first on line %zu)",
			  show(q, sizeof(q), o->holders[i].name,
			       strlen(o->holders[i].name)), first);
		goto out;
	}
	for (i = 0; i < o->npaths; i++) {
		ref[i].id = o->paths[i].id;
		ref[i].line = p->path_line[i];
	}
	if (first_repeat(ref, o->npaths, by_id_then_line, &dup, &first)) {
		for (i = 0; i < o->npaths && p->path_line[i] != dup; i++)
			;
		rc = fail(p, dup, "duplicate path id %" PRIu64 " (first on "
			  "line %zu)", o->paths[i].id, first);
	}
out:
	free(ref);
	return rc;
}

/* A number of a held or owners line that cannot be more than the type's. */
static int check_at_most(struct parser *p, const char *what, uint64_t v,
			 const char *of, uint64_t max)
{
	if (v <= max)
		return 0;
	return fail(p, p->lineno, "%s %" PRIu64 " exceeds %s %" PRIu64, what,
		    v, of, max);
}

static int owners_line(struct parser *p, const char *line, const char *v,
		       size_t vlen)
{
	static const char usage[] = "bad owners line, expected '# owners "
				    "COUNT BYTES SHARED UNREACHABLE TYPE'";
	const char *text, *bad;
	uint64_t num[4];
	size_t badlen = 0, len, i;
	char q[256], *type;
	int rc;

	if (!split_numbers(v, vlen, 4, num, &text, &bad, &badlen))
		return bad ? fail(p, p->lineno, "bad number '%s' in owners line",
				  show(q, sizeof(q), bad, badlen)) :
			     fail(p, p->lineno, "%s", usage);
	len = vlen - (size_t)(text - v);
	rc = check_strict(p, "type name", text, len, (size_t)(text - line));
	if (rc < 0)
		return rc;
	rc = check_at_most(p, "shared", num[2], "count", num[0]);
	if (rc == 0)
		rc = check_at_most(p, "unreachable", num[3], "count", num[0]);
	if (rc < 0)
		return rc;
	if (p->s->nowners == MUPPY_OWNERS_MAX)
		return fail(p, p->lineno, "more than %d owners sections",
			    MUPPY_OWNERS_MAX);
	for (i = 0; i < p->s->nowners; i++)
		if (strlen(p->s->owners[i].type) == len &&
		    !memcmp(p->s->owners[i].type, text, len))
			return fail(p, p->lineno, "duplicate owners section "
				    "for '%s' (first on line %zu)",
				    show(q, sizeof(q), text, len),
				    p->owners_line[i]);
	type = strndup(text, len);
	if (!type)
		return oom(p);
	rc = muppy__owners_add_owned(p->s, type, num[0], num[1], num[2],
				     num[3], NULL);
	if (rc < 0)
		return oom(p);
	p->owners_line[p->s->nowners - 1] = p->lineno;
	p->owners_closed = false;
	return 0;
}

static int held_line(struct parser *p, struct muppy_owners *o,
		     const char *line, const char *v, size_t vlen)
{
	const char *text, *bad;
	uint64_t num[2];
	size_t badlen = 0, len;
	char q[256], *name;
	int rc;

	if (!split_numbers(v, vlen, 2, num, &text, &bad, &badlen))
		return bad ? fail(p, p->lineno, "bad number '%s' in held line",
				  show(q, sizeof(q), bad, badlen)) :
			     fail(p, p->lineno, "bad held line, expected "
				  "'# held COUNT BYTES HOLDER'");
	len = vlen - (size_t)(text - v);
	rc = check_strict(p, "holder", text, len, (size_t)(text - line));
	if (rc == 0)
		rc = check_at_most(p, "held count", num[0],
				   "the type's count", o->count);
	if (rc == 0)
		rc = check_at_most(p, "held bytes", num[1],
				   "the type's bytes", o->bytes);
	if (rc < 0)
		return rc;
	if (o->nholders == p->held_cap) {
		size_t cap = p->held_cap ? p->held_cap * 2 : 16;
		size_t *lines = cap > SIZE_MAX / sizeof(*lines) ? NULL :
				realloc(p->held_line, cap * sizeof(*lines));

		if (!lines)
			return oom(p);
		p->held_line = lines;
		p->held_cap = cap;
	}
	name = strndup(text, len);
	if (!name || muppy__holder_add_owned(o, name, num[0], num[1]) < 0)
		return oom(p);
	p->held_line[o->nholders - 1] = p->lineno;
	return 0;
}

static int path_line(struct parser *p, struct muppy_owners *o,
		     const char *v, size_t vlen)
{
	struct muppy_path *path;
	uint64_t id;
	char q[256];
	int rc;

	if (!parse_u64(v, vlen, &id) || id == 0)
		return fail(p, p->lineno, "bad path id '%s'",
			    show(q, sizeof(q), v, vlen));
	rc = muppy__path_add(o, id, &path);
	if (rc == -E2BIG)
		return fail(p, p->lineno, "more than %d paths for '%s'",
			    MUPPY_PATHS_MAX, show(q, sizeof(q), o->type,
						  strlen(o->type)));
	if (rc < 0)
		return oom(p);
	p->path_line[o->npaths - 1] = p->lineno;
	p->open_path = path;
	return 0;
}

static int step_line(struct parser *p, const char *line, const char *v,
		     size_t vlen)
{
	char *step;
	int rc;

	if (!p->open_path)
		return fail(p, p->lineno, "step line outside a path (after "
			    "its path line and its other steps only)");
	rc = check_strict(p, "step", v, vlen, (size_t)(v - line));
	if (rc < 0)
		return rc;
	step = strndup(v, vlen);
	if (!step || muppy__step_add_owned(p->open_path, step) < 0)
		return oom(p);
	return 0;
}

/*
 * An owners, held, path or step line of format 1.2 (key is klen bytes);
 * 1 when the line is none of them.
 */
static int parse_owners(struct parser *p, const char *line, const char *key,
			size_t klen, const char *v, size_t vlen)
{
	struct muppy_owners *o;
	int rc;

	if (is_word(key, klen, "step"))
		return step_line(p, line, v, vlen);
	if (!is_word(key, klen, "owners") && !is_word(key, klen, "held") &&
	    !is_word(key, klen, "path"))
		return 1;
	rc = is_word(key, klen, "owners") ? close_owners(p) : close_path(p);
	if (rc < 0)
		return rc;
	if (is_word(key, klen, "owners"))
		return owners_line(p, line, v, vlen);
	if (!p->s->nowners)
		return fail(p, p->lineno, "%.*s line before any owners line",
			    (int)klen, key);
	o = &p->s->owners[p->s->nowners - 1];
	if (is_word(key, klen, "held"))
		return held_line(p, o, line, v, vlen);
	return path_line(p, o, v, vlen);
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int parse_header(struct parser *p, const char *line, size_t len)
{
	const char *key = line + 2, *sp, *v;
	size_t klen, vlen, i;
	char q[256];
	bool ok;
	int f, rc;

	if (p->in_rows)
		return fail(p, p->lineno, "header line after the first row");
	sp = len > 2 && line[1] == ' ' ? memchr(key, ' ', len - 2) : NULL;
	if (!sp || sp == key)
		return fail(p, p->lineno,
			    "bad header line, expected '# KEY VALUE'");
	klen = (size_t)(sp - key);
	for (i = 0; i < klen; i++)
		if (!is_key_char(key[i]))
			return fail(p, p->lineno,
				    "bad header line, expected '# KEY VALUE'");
	v = sp + 1;
	vlen = len - klen - 3;

	if (p->s->minor >= OWNERS_SINCE) {
		rc = parse_owners(p, line, key, klen, v, vlen);
		if (rc != 1)
			return rc;
	}
	for (f = 0; f < NFIELDS; f++)
		if (field_since[f] <= p->s->minor &&
		    is_word(key, klen, field_names[f]))
			break;
	if (f == NFIELDS) {
		if (p->s->minor <= FORMAT_MINOR)
			return fail(p, p->lineno,
				    "unknown header field '%.*s'", (int)klen,
				    key);
		/* A newer minor version: skip the field, keep the rules. */
		return check_escaped(p, "value", v, vlen, (size_t)(v - line),
				     NULL);
	}
	rc = close_path(p);
	if (rc < 0)
		return rc;
	if (p->field_line[f])
		return fail(p, p->lineno,
			    "duplicate header field '%s' (first on line %zu)",
			    field_names[f], p->field_line[f]);
	p->field_line[f] = p->lineno;
	rc = set_field(p, (enum field)f, line, v, vlen, &ok);
	if (rc < 0)
		return rc;
	if (!ok)
		return fail(p, p->lineno, "bad value for %s: '%s'",
			    field_names[f], show(q, sizeof(q), v, vlen));
	return 0;
}

/*
 * Every required field must be there when the rows (or the end) begin;
 * frozen_walked goes with frozen objects, and only with them.
 */
static int check_fields(struct parser *p, size_t line)
{
	const struct muppy_snapshot *s = p->s;
	int f;

	for (f = 0; f < NFIELDS; f++)
		if (!p->field_line[f] && field_since[f] == 0)
			return fail(p, line, "missing header field '%s'",
				    field_names[f]);
	if (s->frozen > 0 && !p->field_line[F_FROZEN_WALKED])
		return fail(p, line, "missing header field 'frozen_walked' "
			    "(frozen is %" PRIu64 ")", s->frozen);
	if (s->frozen == 0 && p->field_line[F_FROZEN_WALKED])
		return fail(p, p->field_line[F_FROZEN_WALKED],
			    "frozen_walked without frozen objects (%s)",
			    s->frozen_known ? "frozen is 0" : "no frozen field");
	return 0;
}

static int parse_row(struct parser *p, const char *line, size_t len)
{
	static const char bad_row[] =
		"bad row, expected COUNT<TAB>BYTES<TAB>NAME: '%s'";
	const char *end = line + len, *t1, *t2;
	uint64_t count, bytes;
	size_t *lines;
	char q[256], *up;
	int rc;

	if (!p->in_rows) {
		p->in_rows = true;
		rc = check_fields(p, p->lineno);
		if (rc == 0)
			rc = close_owners(p);
		if (rc < 0)
			return rc;
	}
	t1 = memchr(line, '\t', len);
	t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
	if (!t2)
		return fail(p, p->lineno, bad_row, show(q, sizeof(q), line, len));
	if (!parse_u64(line, (size_t)(t1 - line), &count))
		return fail(p, p->lineno, "bad count '%s'",
			    show(q, sizeof(q), line, (size_t)(t1 - line)));
	if (!parse_u64(t1 + 1, (size_t)(t2 - t1 - 1), &bytes))
		return fail(p, p->lineno, "bad byte count '%s'",
			    show(q, sizeof(q), t1 + 1, (size_t)(t2 - t1 - 1)));
	rc = check_escaped(p, "type name", t2 + 1, (size_t)(end - t2 - 1),
			   (size_t)(t2 + 1 - line), &up);
	if (rc < 0)
		return rc;
	if (count > (uint64_t)MUPPY_MAX_VALUE - p->sum_count) {
		rc = fail(p, p->lineno, "total count exceeds %" PRId64,
			  MUPPY_MAX_VALUE);
		goto out_free;
	}
	if (bytes > (uint64_t)MUPPY_MAX_VALUE - p->sum_bytes) {
		rc = fail(p, p->lineno, "total bytes exceed %" PRId64,
			  MUPPY_MAX_VALUE);
		goto out_free;
	}
	p->sum_count += count;
	p->sum_bytes += bytes;

	if (p->s->ntypes == p->row_line_cap) {
		size_t cap = p->row_line_cap ? p->row_line_cap * 2 : 64;

		lines = cap > SIZE_MAX / sizeof(*lines) ? NULL :
			realloc(p->row_line, cap * sizeof(*lines));
		if (!lines) {
			rc = oom(p);
			goto out_free;
		}
		p->row_line = lines;
		p->row_line_cap = cap;
	}
	p->row_line[p->s->ntypes] = p->lineno;
	rc = muppy__snapshot_add_escaped(p->s, up ? up : t2 + 1,
					 up ? strlen(up) :
					 (size_t)(end - t2 - 1), count, bytes);
	if (rc < 0)
		rc = oom(p);
out_free:
	free(up);
	return rc;
}

/* One line without its '\n'. */
static int feed_line(struct parser *p, const char *line, size_t len)
{
	p->lineno++;
	if (memchr(line, '\0', len))
		return fail(p, p->lineno, "NUL byte in line");
	if (memchr(line, '\r', len))
		return fail(p, p->lineno, "carriage return in line");
	if (p->lineno == 1)
		return parse_magic(p, line, len);
	if (len == 0)
		return fail(p, p->lineno, "empty line");
	if (line[0] == '#')
		return parse_header(p, line, len);
	return parse_row(p, line, len);
}

struct row_ref {
	const char *name;
	size_t idx;
};

static int by_name_then_index(const void *a, const void *b)
{
	const struct row_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The first row (in file order) that repeats an earlier row's name. */
static int check_duplicates(struct parser *p)
{
	const struct muppy_snapshot *s = p->s;
	size_t i, dup = SIZE_MAX, first = 0;
	struct row_ref *ref;
	char q[256];

	if (s->ntypes < 2)
		return 0;
	ref = malloc(s->ntypes * sizeof(*ref));
	if (!ref)
		return oom(p);
	for (i = 0; i < s->ntypes; i++) {
		ref[i].name = s->types[i].name;
		ref[i].idx = i;
	}
	qsort(ref, s->ntypes, sizeof(*ref), by_name_then_index);
	/* Within a run of equal names the first is the original. */
	for (i = 1; i < s->ntypes; i++) {
		if (strcmp(ref[i].name, ref[i - 1].name) == 0 &&
		    ref[i].idx < dup) {
			dup = ref[i].idx;
			first = ref[i - 1].idx;
		}
	}
	free(ref);
	if (dup == SIZE_MAX)
		return 0;
	return fail(p, p->row_line[dup],
		    "duplicate type name '%s' (first on line %zu)",
		    show(q, sizeof(q), s->types[dup].name,
			 strlen(s->types[dup].name)),
		    p->row_line[first]);
}

/* Each owners section counts at most what its type's row does (less
 * when two types have that name: the owners are of the first), and 0 0
 * without a row. */
static int check_owners_rows(struct parser *p)
{
	const struct muppy_snapshot *s = p->s;
	char q[256];

	for (size_t i = 0; i < s->nowners; i++) {
		const struct muppy_owners *o = &s->owners[i];
		uint64_t count = 0, bytes = 0;

		for (size_t t = 0; t < s->ntypes; t++)
			if (strcmp(s->types[t].name, o->type) == 0) {
				count = s->types[t].count;
				bytes = s->types[t].bytes;
				break;
			}
		if (o->count > count || o->bytes > bytes)
			return fail(p, p->owners_line[i],
				    "owners of '%s': %" PRIu64 " objects of %"
				    PRIu64 " bytes, more than its row's %"
				    PRIu64 " and %" PRIu64,
				    show(q, sizeof(q), o->type,
					 strlen(o->type)),
				    o->count, o->bytes, count, bytes);
	}
	return 0;
}

static int parse_end(struct parser *p)
{
	const struct muppy_snapshot *s = p->s;
	int rc;

	if (p->lineno == 0)
		return fail(p, 1, "empty file");
	if (!p->in_rows) {
		rc = check_fields(p, p->lineno + 1);
		if (rc == 0)
			rc = close_owners(p);
		if (rc < 0)
			return rc;
	}
	rc = check_duplicates(p);
	if (rc == 0)
		rc = check_owners_rows(p);
	if (rc < 0)
		return rc;
	if (s->objects != p->sum_count)
		return fail(p, p->field_line[F_OBJECTS],
			    "objects is %" PRIu64 " but the rows sum to %" PRIu64,
			    s->objects, p->sum_count);
	if (s->bytes != p->sum_bytes)
		return fail(p, p->field_line[F_BYTES],
			    "bytes is %" PRIu64 " but the rows sum to %" PRIu64,
			    s->bytes, p->sum_bytes);
	if (p->hdr_types != s->ntypes)
		return fail(p, p->field_line[F_TYPES],
			    "types is %" PRIu64 " but there are %zu rows",
			    p->hdr_types, s->ntypes);
	rc = muppy_snapshot_finish(p->s);
	if (rc < 0)
		return fail(p, p->lineno, "%s", strerror(-rc));
	return 0;
}

static int parser_init(struct parser *p, const char *name,
		       struct muppy_error *err)
{
	memset(p, 0, sizeof(*p));
	p->name = shown_name(name, &p->name_buf);
	p->err = err;
	p->s = muppy_snapshot_new();
	if (!p->s) {
		oom(p);
		free(p->name_buf);
		return -ENOMEM;
	}
	return 0;
}

/* Hands the snapshot to *out on success; frees everything else. */
static int parser_done(struct parser *p, int rc, struct muppy_snapshot **out)
{
	if (rc == 0)
		rc = parse_end(p);
	free(p->row_line);
	free(p->held_line);
	free(p->name_buf);
	if (rc < 0) {
		muppy_snapshot_free(p->s);
		return rc;
	}
	*out = p->s;
	return 0;
}

int muppy_snapshot_parse(const char *buf, size_t len, const char *name,
			 struct muppy_snapshot **out, struct muppy_error *err)
{
	struct parser p;
	size_t pos = 0, n;
	const char *nl;
	int rc;

	rc = parser_init(&p, name, err);
	if (rc < 0)
		return rc;
	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		rc = feed_line(&p, buf + pos, n);
		if (rc < 0)
			break;
		pos += n + (nl != NULL);
	}
	return parser_done(&p, rc, out);
}

int muppy_snapshot_read(FILE *f, const char *name,
			struct muppy_snapshot **out, struct muppy_error *err)
{
	struct parser p;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc;

	rc = parser_init(&p, name, err);
	if (rc < 0)
		return rc;
	for (;;) {
		errno = 0;
		n = getline(&line, &cap, f);
		if (n < 0)
			break;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		rc = feed_line(&p, line, (size_t)n);
		if (rc < 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		muppy__error_errno(err, errno ? errno : EIO, "%s: read error", p.name);
		rc = -EIO;
	} else if (rc == 0 && !feof(f)) {
		/* getline() itself failed, most likely out of memory. */
		rc = oom(&p);
	}
	free(line);
	return parser_done(&p, rc, out);
}

int muppy_snapshot_load(const char *path, struct muppy_snapshot **out,
			struct muppy_error *err)
{
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0)
		return muppy_snapshot_read(stdin, "(standard input)", out, err);
	f = fopen(path, "re");
	if (!f) {
		char *buf;

		rc = -errno;
		muppy__error_errno(err, -rc, "%s", shown_name(path, &buf));
		free(buf);
		return rc;
	}
	rc = muppy_snapshot_read(f, path, out, err);
	fclose(f);
	return rc;
}

/* --- writing ---------------------------------------------------------- */

static int by_name_ptr(const void *a, const void *b)
{
	const struct muppy_type_stat *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static bool has_duplicates(const struct muppy_snapshot *s, int *rc)
{
	const struct muppy_type_stat **v;
	bool dup = false;
	size_t i;

	*rc = 0;
	if (s->ntypes < 2)
		return false;
	v = malloc(s->ntypes * sizeof(*v));
	if (!v) {
		*rc = -ENOMEM;
		return false;
	}
	for (i = 0; i < s->ntypes; i++)
		v[i] = &s->types[i];
	qsort(v, s->ntypes, sizeof(*v), by_name_ptr);
	for (i = 1; i < s->ntypes && !dup; i++)
		dup = strcmp(v[i - 1]->name, v[i]->name) == 0;
	free(v);
	return dup;
}

static bool escaped_str(const char *s)
{
	return s && muppy_is_escaped(s, strlen(s));
}

static int holder_by_name(const void *a, const void *b)
{
	const struct muppy_holder *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* No holder name and no path id twice in o. */
static int owners_repeat(const struct muppy_owners *o)
{
	const struct muppy_holder **h;
	uint64_t *ids;
	bool dup = false;
	size_t i;

	h = calloc(o->nholders ? o->nholders : 1, sizeof(*h));
	ids = calloc(o->npaths ? o->npaths : 1, sizeof(*ids));
	if (!h || !ids) {
		free(h);
		free(ids);
		return -ENOMEM;
	}
	for (i = 0; i < o->nholders; i++)
		h[i] = &o->holders[i];
	if (o->nholders > 1)
		qsort(h, o->nholders, sizeof(*h), holder_by_name);
	for (i = 1; i < o->nholders && !dup; i++)
		dup = !strcmp(h[i - 1]->name, h[i]->name);
	for (i = 0; i < o->npaths; i++)
		ids[i] = o->paths[i].id;
	if (o->npaths > 1)
		qsort(ids, o->npaths, sizeof(*ids), cmp_u64);
	for (i = 1; i < o->npaths && !dup; i++)
		dup = ids[i - 1] == ids[i];
	free(h);
	free(ids);
	return dup ? -EINVAL : 0;
}

/* Owners the parser would take back (see muppy_snapshot_write()). */
static int check_owners(const struct muppy_snapshot *s)
{
	const uint64_t max = MUPPY_MAX_VALUE;
	size_t i, j, k;
	int rc;

	if (s->nowners > MUPPY_OWNERS_MAX || (s->nowners && !s->owners))
		return -EINVAL;
	for (i = 0; i < s->nowners; i++) {
		const struct muppy_owners *o = &s->owners[i];

		if (!escaped_str(o->type) || o->count > max || o->bytes > max ||
		    o->shared > o->count || o->unreachable > o->count ||
		    o->npaths > MUPPY_PATHS_MAX ||
		    (o->nholders && !o->holders) || (o->npaths && !o->paths))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(s->owners[j].type, o->type))
				return -EINVAL;
		for (j = 0; j < o->nholders; j++)
			if (!escaped_str(o->holders[j].name) ||
			    o->holders[j].count > o->count ||
			    o->holders[j].bytes > o->bytes)
				return -EINVAL;
		for (j = 0; j < o->npaths; j++) {
			const struct muppy_path *pa = &o->paths[j];

			if (pa->id == 0 || pa->id > max || pa->nsteps < 2 ||
			    !pa->steps)
				return -EINVAL;
			for (k = 0; k < pa->nsteps; k++)
				if (!escaped_str(pa->steps[k]))
					return -EINVAL;
		}
		rc = owners_repeat(o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Only what the parser accepts may be written. */
static int check_writable(const struct muppy_snapshot *s)
{
	const uint64_t max = MUPPY_MAX_VALUE;
	uint64_t count = 0, bytes = 0;
	size_t i;
	int rc;

	if (s->pid <= 0 || s->time_ms < MUPPY__TIME_MIN_MS ||
	    s->time_ms > MUPPY__TIME_MAX_MS || !escaped_str(s->cmdline) ||
	    !escaped_str(s->python) || !escaped_str(s->implementation) ||
	    !escaped_str(s->executable) || s->rss > max ||
	    s->gc_freed > max || s->hold_us > max)
		return -EINVAL;
	if (s->frozen > max || s->interpreters > max ||
	    (unsigned)s->layout >= ARRAY_SIZE(layout_names) ||
	    (s->checks_failed && !escaped_str(s->checks_failed)) ||
	    (!s->frozen_known && (s->frozen || s->frozen_missed)) ||
	    (s->frozen_missed && s->frozen == 0))
		return -EINVAL;
	for (i = 0; i < s->ntypes; i++) {
		const struct muppy_type_stat *t = &s->types[i];

		if (!escaped_str(t->name) || t->count > max - count ||
		    t->bytes > max - bytes)
			return -EINVAL;
		count += t->count;
		bytes += t->bytes;
	}
	if (count != s->objects || bytes != s->bytes)
		return -EINVAL;
	if (has_duplicates(s, &rc))
		return -EINVAL;
	if (rc < 0)
		return rc;
	return check_owners(s);
}

/* The sections of format 1.2, holders in canonical order; true on an
 * error (*rc -ENOMEM when memory ran out). */
static bool write_owners(FILE *f, const struct muppy_snapshot *s, int *rc)
{
	bool bad = false;
	size_t i, j, k;

	*rc = 0;
	for (i = 0; i < s->nowners && !bad; i++) {
		const struct muppy_owners *o = &s->owners[i];
		const struct muppy_holder **h = muppy__holders_sorted(o);

		if (!h) {
			*rc = -ENOMEM;
			return true;
		}
		bad |= fprintf(f, "# owners %" PRIu64 " %" PRIu64 " %" PRIu64
			       " %" PRIu64 " %s\n", o->count, o->bytes,
			       o->shared, o->unreachable, o->type) < 0;
		for (j = 0; j < o->nholders && !bad; j++)
			bad |= fprintf(f, "# held %" PRIu64 " %" PRIu64 " %s\n",
				       h[j]->count, h[j]->bytes,
				       h[j]->name) < 0;
		free(h);
		for (j = 0; j < o->npaths && !bad; j++) {
			bad |= fprintf(f, "# path %" PRIu64 "\n",
				       o->paths[j].id) < 0;
			for (k = 0; k < o->paths[j].nsteps && !bad; k++)
				bad |= fprintf(f, "# step %s\n",
					       o->paths[j].steps[k]) < 0;
		}
	}
	return bad;
}

/* The optional fields of 1.1, each only when known; true on an error. */
static bool write_walk_facts(FILE *f, const struct muppy_snapshot *s)
{
	bool bad = false;

	if (s->frozen_known)
		bad |= fprintf(f, "# frozen %" PRIu64 "\n", s->frozen) < 0;
	if (s->frozen > 0)
		bad |= fprintf(f, "# frozen_walked %s\n",
			       s->frozen_missed ? "no" : "yes") < 0;
	if (s->layout != MUPPY_LAYOUT_UNKNOWN)
		bad |= fprintf(f, "# layout %s\n", layout_names[s->layout]) < 0;
	if (s->checks_failed && *s->checks_failed)
		bad |= fprintf(f, "# checks_failed %s\n",
			       s->checks_failed) < 0;
	if (s->interpreters > 0)
		bad |= fprintf(f, "# interpreters %" PRIu64 "\n",
			       s->interpreters) < 0;
	return bad;
}

int muppy_snapshot_write(FILE *f, const struct muppy_snapshot *s)
{
	char when[32];
	int rc, bad = 0;
	size_t i;

	rc = check_writable(s);
	if (rc < 0)
		return rc;
	muppy_time_format(when, sizeof(when), s->time_ms);
	errno = 0;
	bad |= fprintf(f, "# muppy-snapshot %d.%d\n", FORMAT_MAJOR,
		       s->nowners ? OWNERS_SINCE : PLAIN_MINOR) < 0;
	bad |= fprintf(f, "# pid %" PRId64 "\n# cmdline %s\n# time %s\n"
		       "# python %s\n# implementation %s\n# executable %s\n",
		       s->pid, s->cmdline, when, s->python, s->implementation,
		       s->executable) < 0;
	bad |= fprintf(f, "# rss %" PRIu64 "\n# gc %s\n# gc_freed %" PRIu64
		       "\n# hold_us %" PRIu64 "\n", s->rss,
		       s->gc ? "yes" : "no", s->gc_freed, s->hold_us) < 0;
	bad |= write_walk_facts(f, s);
	if (!bad && write_owners(f, s, &rc)) {
		if (rc < 0)
			return rc;
		bad = 1;
	}
	bad |= fprintf(f, "# objects %" PRIu64 "\n# bytes %" PRIu64
		       "\n# types %zu\n", s->objects, s->bytes, s->ntypes) < 0;
	for (i = 0; i < s->ntypes && !bad; i++)
		bad |= fprintf(f, "%" PRIu64 "\t%" PRIu64 "\t%s\n",
			       s->types[i].count, s->types[i].bytes,
			       s->types[i].name) < 0;
	if (bad || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
