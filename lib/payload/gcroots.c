/* SPDX-License-Identifier: MIT */
/*
 * The walk's roots: every object the garbage collector tracks, i.e. what
 * gc.get_objects() returns, and the objects gc.freeze() put out of its
 * reach, without building that list when possible.
 *
 * gc.get_objects() costs 8 bytes per tracked object, allocated by the
 * payload thread: its first malloc gives it a glibc arena of its own,
 * which keeps what it grew to when the process's malloc thresholds are
 * high.  Instead the walk follows the collector's own lists, the three
 * generations gc.get_objects() reads.  Their heads are found and checked
 * at run time, never assumed from one version's headers:
 *
 * - the GC header size G is sys.getsizeof(t) - tp_basicsize - tp_itemsize
 *   of a new 1-tuple t (tuples have neither a __sizeof__ of their own nor
 *   a pre-header);
 * - t was just tracked, so it is the last of the youngest generation: its
 *   gc_next (the header's first word in 3.6 to 3.15) is that list's head,
 *   and the head's gc_prev (second word, low two bits flags in 3.8+) must
 *   be t's header;
 * - heads are the first member of struct gc_generation { PyGC_Head head;
 *   int threshold; int count; }, an array of three (3.6 to 3.15): the
 *   layout is accepted only if, at one stride (G + 8, or that rounded to
 *   16 for the 16-aligned header of 3.6 and 3.7), the three thresholds
 *   read are gc.get_threshold() and each head's list is consistent.
 * Only versions layout.c verified look for them (not 3.14.0 to 3.14.4,
 * whose incremental collector has young and old spaces instead).
 * Anything else falls back to gc.get_objects().
 *
 * The permanent generation (gc.freeze(), 3.7+) follows the three: in 3.7
 * to 3.13 after a pointer to the first head (checked; each member at its
 * own alignment), in 3.14 and 3.15 right after them.  It is walked only if its list is consistent and as
 * long as gc.get_freeze_count() says; otherwise the snapshot says that
 * frozen objects were not walked (gc.get_objects() never returns them).
 *
 * Automatic collection is off while the walk runs (gc.disable(), then
 * gc.enable() if it was on): a collection would move objects between the
 * lists, could free what the walk holds borrowed, and runs gc.callbacks
 * (Python code).  No Python code of the process runs in between: the
 * payload holds the interpreter throughout.
 */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "payload.h"

static void gc_do(const struct pyapi *api, const char *func)
{
	PyObject *v = pyapi_gc_call(api, func);

	if (v)
		api->Py_DecRef(v);
}

static uintptr_t word(uintptr_t addr, size_t off)
{
	uintptr_t v;

	memcpy(&v, (const void *)(addr + off), sizeof(v));
	return v;
}

/* A word that may not be mapped: read as another process would. */
static bool safe_word(uintptr_t addr, uintptr_t *v)
{
	struct iovec local = { v, sizeof(*v) };
	struct iovec remote = { (void *)addr, sizeof(*v) };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	       (ssize_t)sizeof(*v);
}

/* An int returned by gc.FUNC(), or -1. */
static Py_ssize_t gc_int(const struct pyapi *api, const char *func)
{
	return pyapi_take_int(api, pyapi_gc_call(api, func));
}

/* gc.get_threshold() into th[3]; false if it is not three ints. */
static bool thresholds(const struct pyapi *api, Py_ssize_t th[3])
{
	PyObject *t = pyapi_gc_call(api, "get_threshold");
	bool ok;

	if (!t)
		return false;
	ok = Py_TYPE(t) == api->PyTuple_Type && Py_SIZE(t) == 3;
	for (int k = 0; ok && k < 3; k++) {
		PyObject *v = api->PyTuple_GetItem(t, k);

		ok = v && Py_TYPE(v) == api->PyLong_Type;
		th[k] = ok ? api->PyLong_AsSsize_t(v) : -1;
		ok = ok && th[k] >= 0;
	}
	api->PyErr_Clear();
	api->Py_DecRef(t);
	return ok;
}

/* A list head: its neighbours point back at it. */
static bool head_ok(uintptr_t head)
{
	uintptr_t next = GC_PTR(word(head, 0));
	uintptr_t prev = GC_PTR(word(head, 8));

	return next && prev && GC_PTR(word(next, 8)) == head &&
	       GC_PTR(word(prev, 0)) == head;
}

/*
 * The permanent generation at p: a consistent list exactly as long as
 * gc.get_freeze_count().  Its first links are read as if unmapped: p was
 * placed by version, not yet proven.
 */
static bool permanent_ok(uintptr_t p, uint64_t frozen)
{
	uintptr_t next, prev, back, g;
	uint64_t n = 0;

	if (!safe_word(p, &next) || !safe_word(p + 8, &prev))
		return false;
	next = GC_PTR(next);
	prev = GC_PTR(prev);
	if (frozen == 0)
		return next == p && prev == p;
	if (next == p || !next || !safe_word(next + 8, &back) ||
	    GC_PTR(back) != p || !safe_word(prev, &back) || GC_PTR(back) != p)
		return false;
	for (g = next; g != p && n <= frozen; g = GC_PTR(word(g, 0))) {
		if (!g)
			return false;
		n++;
	}
	return g == p && n == frozen;
}

static void find_permanent(const struct pyapi *api, const struct layout *lay,
			   struct gc_roots *r, size_t stride)
{
	uintptr_t p = r->heads[2] + stride;
	Py_ssize_t frozen = lay->minor >= 7 ? gc_int(api, "get_freeze_count")
					    : 0;

	r->frozen = frozen > 0 ? (uint64_t)frozen : 0;
	if (lay->minor < 7 || frozen < 0 || layout_forced("permanent"))
		return;
	if (lay->minor <= 13) { /* PyGC_Head *generation0 comes first */
		p = (p + 7) & ~(uintptr_t)7;
		if (word(p, 0) != r->heads[0])
			return;
		p += 8;
		if (r->hdr == 32) /* 3.7: a 16-aligned union */
			p = (p + 15) & ~(uintptr_t)15;
	}
	if (!permanent_ok(p, r->frozen))
		return;
	r->heads[r->nheads++] = p;
	r->frozen_walked = true;
}

static bool find_lists(const struct pyapi *api, const struct layout *lay,
		       struct gc_roots *r)
{
	Py_ssize_t th[3];
	uintptr_t g, head0;
	size_t hdr, sz, stride;
	bool ok = false;
	PyObject *t;

	if (!lay->gc_lists || layout_forced("gc-lists"))
		return false;
	t = api->PyTuple_New(1);
	if (!t) {
		api->PyErr_Clear();
		return false;
	}
	sz = api->PySys_GetSizeOf(t);
	hdr = sz - (size_t)Py_TYPE(t)->tp_basicsize -
	      (size_t)Py_TYPE(t)->tp_itemsize;
	if (sz == (size_t)-1 || (hdr != 16 && hdr != 32)) {
		api->PyErr_Clear();
		goto out;
	}
	g = (uintptr_t)t - hdr;
	head0 = GC_PTR(word(g, 0));
	if (!head0 || GC_PTR(word(head0, 8)) != g ||
	    !thresholds(api, th))
		goto out;
	for (stride = hdr + 8; stride <= ((hdr + 8 + 15) & ~15u);
	     stride += 8) {
		ok = true;
		for (int k = 0; ok && k < 3; k++) {
			uintptr_t head = head0 + k * stride;
			int v;

			memcpy(&v, (const void *)(head + hdr), sizeof(v));
			ok = v == th[k];
			r->heads[k] = head;
		}
		if (ok)
			break;
	}
	for (int k = 0; ok && k < 3; k++)
		ok = head_ok(r->heads[k]);
	if (ok) {
		r->hdr = hdr;
		r->nheads = 3;
		find_permanent(api, lay, r, stride);
	}
out:
	api->Py_DecRef(t); /* untracks it: the lists are as they were */
	return ok;
}

int gcroots_open(const struct pyapi *api, const struct layout *lay,
		 struct gc_roots *r)
{
	PyObject *on = pyapi_gc_call(api, "isenabled");

	memset(r, 0, sizeof(*r));
	r->gc_was_enabled = on && on == api->True;
	if (on)
		api->Py_DecRef(on);
	if (r->gc_was_enabled)
		gc_do(api, "disable");
	if (find_lists(api, lay, r))
		return 0;
	if (lay->minor >= 7) {
		Py_ssize_t frozen = gc_int(api, "get_freeze_count");

		r->frozen = frozen > 0 ? (uint64_t)frozen : 0;
	}
#ifdef MUPPY_PAYLOAD_CHECK /* a test build: say when the lists were not found */
	fprintf(stderr, "muppy payload check: gc lists not found\n");
#endif
	r->list = pyapi_gc_call(api, "get_objects");
	if (r->list && Py_TYPE(r->list) == api->PyList_Type)
		return 0;
	gcroots_close(api, r);
	return -1;
}

void gcroots_close(const struct pyapi *api, struct gc_roots *r)
{
	if (r->list)
		api->Py_DecRef(r->list);
	r->list = NULL;
	if (r->gc_was_enabled)
		gc_do(api, "enable");
	r->gc_was_enabled = false;
}
