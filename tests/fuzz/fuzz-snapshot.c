/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the snapshot parser and writer.
 *
 * For every input x that parses: w1 = write(parse(x)) must parse again to
 * the same snapshot and write(parse(w1)) must equal w1 byte for byte.
 * Every string the parser returns must be in escaped form, and unescaping
 * and re-escaping each must give it back.  The streaming reader must agree
 * with the buffer parser, down to the error message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muppy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n",       \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

static char *write_mem(const struct muppy_snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	CHECK(f != NULL);
	CHECK(muppy_snapshot_write(f, s) == 0);
	CHECK(fclose(f) == 0);
	return buf;
}

static void check_escaped(const char *s)
{
	char *raw, *again;
	size_t len;

	CHECK(muppy_is_escaped(s, strlen(s)));
	CHECK(muppy_unescape(s, &raw, &len) == 0);
	again = muppy_escape(raw, len);
	CHECK(again != NULL);
	CHECK(strcmp(again, s) == 0);
	free(again);
	free(raw);
}

static void check_equal(const struct muppy_snapshot *a,
			const struct muppy_snapshot *b)
{
	size_t i;

	CHECK(a->pid == b->pid);
	CHECK(strcmp(a->cmdline, b->cmdline) == 0);
	CHECK(a->time_ms == b->time_ms);
	CHECK(strcmp(a->python, b->python) == 0);
	CHECK(strcmp(a->implementation, b->implementation) == 0);
	CHECK(strcmp(a->executable, b->executable) == 0);
	CHECK(a->rss == b->rss);
	CHECK(a->gc == b->gc);
	CHECK(a->gc_freed == b->gc_freed);
	CHECK(a->hold_us == b->hold_us);
	CHECK(a->frozen_known == b->frozen_known);
	CHECK(a->frozen == b->frozen);
	CHECK(a->frozen_missed == b->frozen_missed);
	CHECK(a->layout == b->layout);
	CHECK(strcmp(a->checks_failed, b->checks_failed) == 0);
	CHECK(a->interpreters == b->interpreters);
	CHECK(a->objects == b->objects);
	CHECK(a->bytes == b->bytes);
	CHECK(a->ntypes == b->ntypes);
	for (i = 0; i < a->ntypes; i++) {
		CHECK(strcmp(a->types[i].name, b->types[i].name) == 0);
		CHECK(a->types[i].count == b->types[i].count);
		CHECK(a->types[i].bytes == b->types[i].bytes);
	}
	CHECK(a->nowners == b->nowners);
	for (i = 0; i < a->nowners; i++) {
		const struct muppy_owners *x = &a->owners[i], *y = &b->owners[i];
		size_t j, k;

		CHECK(strcmp(x->type, y->type) == 0);
		CHECK(x->count == y->count && x->bytes == y->bytes);
		CHECK(x->shared == y->shared);
		CHECK(x->unreachable == y->unreachable);
		CHECK(x->nholders == y->nholders && x->npaths == y->npaths);
		for (j = 0; j < x->nholders; j++) {
			CHECK(strcmp(x->holders[j].name, y->holders[j].name) == 0);
			CHECK(x->holders[j].count == y->holders[j].count);
			CHECK(x->holders[j].bytes == y->holders[j].bytes);
		}
		for (j = 0; j < x->npaths; j++) {
			CHECK(x->paths[j].id == y->paths[j].id);
			CHECK(x->paths[j].nsteps == y->paths[j].nsteps);
			for (k = 0; k < x->paths[j].nsteps; k++)
				CHECK(strcmp(x->paths[j].steps[k],
					     y->paths[j].steps[k]) == 0);
		}
	}
}

/*
 * The input as raw bytes escapes to something canonical that decodes
 * back; the input as text is canonical exactly when it survives
 * unescape-then-escape.
 */
static void check_escape_bytes(const uint8_t *data, size_t size)
{
	char *e, *raw, *text;
	size_t len;
	bool canonical;

	e = muppy_escape(data, size);
	CHECK(e != NULL);
	CHECK(muppy_is_escaped(e, strlen(e)));
	CHECK(muppy_unescape(e, &raw, &len) == 0);
	CHECK(len == size && memcmp(raw, data, size) == 0);
	free(raw);
	free(e);

	if (memchr(data, '\0', size))
		return;
	text = strndup((const char *)data, size);
	CHECK(text != NULL);
	canonical = muppy_is_escaped(text, size);
	CHECK(muppy__escaped_len(text, size) <= size);
	CHECK(canonical == (muppy__escaped_len(text, size) == size));
	if (muppy_unescape(text, &raw, &len) == 0) {
		CHECK(canonical);
		e = muppy_escape(raw, len);
		CHECK(e != NULL && strcmp(e, text) == 0);
		free(e);
		free(raw);
	} else {
		CHECK(!canonical);
	}
	free(text);
}

/* Reading the same bytes from a stream gives the same result. */
static void check_read(const uint8_t *data, size_t size, int rc,
		       const struct muppy_error *err,
		       const struct muppy_snapshot *s)
{
	struct muppy_snapshot *s3 = NULL;
	struct muppy_error err3;
	FILE *f;

	if (size == 0)
		return; /* fmemopen() may refuse an empty buffer */
	f = fmemopen((void *)data, size, "r");
	CHECK(f != NULL);
	muppy_error_clear(&err3);
	CHECK(muppy_snapshot_read(f, "fuzz", &s3, &err3) == rc);
	CHECK(strcmp(err->msg, err3.msg) == 0);
	if (rc == 0) {
		check_equal(s, s3);
		CHECK(s3->minor == s->minor);
	}
	muppy_snapshot_free(s3);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct muppy_snapshot *s = NULL, *s2 = NULL;
	struct muppy_error err;
	char *w1, *w2;
	size_t l1, l2, i;
	int rc;

	check_escape_bytes(data, size);
	muppy_error_clear(&err);
	rc = muppy_snapshot_parse((const char *)data, size, "fuzz", &s, &err);
	check_read(data, size, rc, &err, s);
	if (rc != 0) {
		/* Every failure explains itself with "fuzz:LINE: ...". */
		CHECK(rc == -EINVAL);
		CHECK(strncmp(err.msg, "fuzz:", 5) == 0);
		return 0;
	}
	CHECK(err.msg[0] == '\0');
	check_escaped(s->cmdline);
	check_escaped(s->python);
	check_escaped(s->implementation);
	check_escaped(s->executable);
	check_escaped(s->checks_failed);
	for (i = 0; i < s->ntypes; i++)
		check_escaped(s->types[i].name);
	CHECK(s->nowners <= MUPPY_OWNERS_MAX);
	for (i = 0; i < s->nowners; i++) {
		const struct muppy_owners *o = &s->owners[i];
		size_t j, k;

		check_escaped(o->type);
		CHECK(o->npaths <= MUPPY_PATHS_MAX);
		for (j = 0; j < o->nholders; j++) {
			check_escaped(o->holders[j].name);
			CHECK(o->holders[j].count <= o->count);
			CHECK(j == 0 || muppy__holder_cmp(&o->holders[j - 1],
							  &o->holders[j]) < 0);
		}
		for (j = 0; j < o->npaths; j++) {
			CHECK(o->paths[j].nsteps >= 2);
			for (k = 0; k < o->paths[j].nsteps; k++)
				check_escaped(o->paths[j].steps[k]);
		}
	}

	w1 = write_mem(s, &l1);
	CHECK(muppy_snapshot_parse(w1, l1, "w1", &s2, &err) == 0);
	check_equal(s, s2);
	CHECK(s2->minor == (s->nowners ? 2 : 1));
	w2 = write_mem(s2, &l2);
	CHECK(l1 == l2 && memcmp(w1, w2, l1) == 0);

	muppy_snapshot_free(s2);
	muppy_snapshot_free(s);
	free(w2);
	free(w1);
	return 0;
}
