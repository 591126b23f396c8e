/* SPDX-License-Identifier: MIT */
/*
 * The walk's roots: every object the garbage collector tracks, i.e. what
 * gc.get_objects() returns, without building that list when possible.
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
 *   gc_next (the header's first word in 3.6 to 3.13) is that list's head,
 *   and the head's gc_prev (second word, low two bits flags in 3.8+) must
 *   be t's header;
 * - heads are the first member of struct gc_generation { PyGC_Head head;
 *   int threshold; int count; }, an array of three (3.6 to 3.13): the
 *   layout is accepted only if, at one stride (G + 8, or that rounded to
 *   16 for the 16-aligned header of 3.6 and 3.7), the three thresholds
 *   read are gc.get_threshold() and each head's list is consistent.
 * Anything else falls back to gc.get_objects().
 *
 * Automatic collection is off while the walk runs (gc.disable(), then
 * gc.enable() if it was on): a collection would move objects between the
 * lists, could free what the walk holds borrowed, and runs gc.callbacks
 * (Python code).  No Python code of the process runs in between: the
 * payload holds the interpreter throughout.
 */
#include <stdio.h>
#include <string.h>

#include "payload.h"

static void gc_do(const struct pyapi *api, const char *func)
{
	PyObject *v = gc_call(api, func);

	if (v)
		api->Py_DecRef(v);
}

static uintptr_t word(uintptr_t addr, size_t off)
{
	uintptr_t v;

	memcpy(&v, (const void *)(addr + off), sizeof(v));
	return v;
}

/* gc.get_threshold() into th[3]; false if it is not three ints. */
static bool thresholds(const struct pyapi *api, Py_ssize_t th[3])
{
	PyObject *t = gc_call(api, "get_threshold");
	bool ok;

	if (!t)
		return false;
	ok = (Py_TYPE(t)->tp_flags & Py_TPFLAGS_TUPLE_SUBCLASS) &&
	     Py_SIZE(t) == 3;
	for (int k = 0; ok && k < 3; k++) {
		th[k] = api->PyLong_AsSsize_t(((PyTupleObject *)t)->ob_item[k]);
		ok = th[k] >= 0;
	}
	api->PyErr_Clear();
	api->Py_DecRef(t);
	return ok;
}

/* A list head: its neighbours point back at it. */
static bool head_ok(uintptr_t head)
{
	uintptr_t next = word(head, 0) & ~(uintptr_t)7;
	uintptr_t prev = word(head, 8) & ~(uintptr_t)7;

	return next && prev && (word(next, 8) & ~(uintptr_t)7) == head &&
	       (word(prev, 0) & ~(uintptr_t)7) == head;
}

static bool find_lists(const struct pyapi *api, struct gc_roots *r)
{
	PyObject *t = api->PyTuple_New(1);
	Py_ssize_t th[3];
	uintptr_t g, head0;
	size_t hdr, sz;
	bool ok = false;

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
	head0 = word(g, 0) & ~(uintptr_t)7;
	if (!head0 || (word(head0, 8) & ~(uintptr_t)7) != g ||
	    !thresholds(api, th))
		goto out;
	for (size_t stride = hdr + 8; stride <= ((hdr + 8 + 15) & ~15u);
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
	}
out:
	api->Py_DecRef(t); /* untracks it: the lists are as they were */
	return ok;
}

int gcroots_open(const struct pyapi *api, struct gc_roots *r)
{
	PyObject *on = gc_call(api, "isenabled");

	memset(r, 0, sizeof(*r));
	r->gc_was_enabled = on && on == api->True;
	if (on)
		api->Py_DecRef(on);
	if (r->gc_was_enabled)
		gc_do(api, "disable");
	if (find_lists(api, r))
		return 0;
#ifdef MUPPY_PAYLOAD_CHECK /* a test build: say when the lists were not found */
	fprintf(stderr, "muppy payload check: gc lists not found\n");
#endif
	r->list = gc_call(api, "get_objects");
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
