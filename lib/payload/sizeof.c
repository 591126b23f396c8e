/* SPDX-License-Identifier: MIT */
/*
 * sys.getsizeof without a method call per object.
 *
 * _PySys_GetSizeOf(o) looks up __sizeof__ on the type, binds it (a new
 * method object), calls it, converts the int it returns and adds the
 * object's GC header (3.12+: also the pre-header of managed dicts and
 * weak references).  Per object that is most of the walk's time.  Here,
 * per type:
 *
 * - A __sizeof__ written in Python, or in C outside the interpreter's own
 *   code (an extension's, which may call back into Python): SK_LATER,
 *   sized after the walk by the caller.  A type object (the one type with tp_is_gc, whose header
 *   depends on the object): SK_SLOW, _PySys_GetSizeOf() each time.
 * - A C __sizeof__ (a method descriptor, METH_NOARGS, defined by a base
 *   of the type, so the call would pass its type check): SK_CCALL calls
 *   the C function directly.  The header is a constant of the type (the
 *   GC flag and pre-header flags are the type's); it is learned as
 *   _PySys_GetSizeOf() minus the C result on the first objects, and
 *   checked on CCALL_CHECKS of them before it is trusted.
 * - The C __sizeof__ of object, list, str and int are known (identical in
 *   3.6 to 3.15; each rule only where layout.c proved its field): their result depends on the type and one field x only,
 *   linearly (tp_basicsize + x * tp_itemsize; basicsize + 8 * allocated;
 *   sizeof(PyASCIIObject) + length + 1 for a compact ASCII str without
 *   a wchar_t copy; offsetof(ob_digit) + 4 * digits for a non-zero int).
 *   sizer_size() returns _PySys_GetSizeOf()'s own result for the first
 *   objects with up to SIZE_POINTS distinct values of x and reuses it for
 *   later objects with the same x; once SIZE_POINTS of them lie on one
 *   line, it computes c + m * x.  No constant of any version is written
 *   here, so a header or struct size that differs between versions is
 *   learned, not assumed; points that disagree with a line send the type
 *   to SK_CCALL.  Objects outside a rule's condition (a non-compact str,
 *   the int 0) take the C call.
 *
 * The fields read are the same in every CPython here (layout.c): ob_size,
 * PyListObject.allocated at 32, PyASCIIObject.length at 16, its state
 * bit-field at 32 (compact 0x20, ascii 0x40) and, up to 3.11, wstr at 40;
 * PyLongObject's ob_size (up to 3.11) or lv_tag (3.12+, digits << 3) at
 * 16; PyMethodDescrObject.d_method at 40, PyDescrObject.d_type at 16.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sizeof.h"

#define CCALL_CHECKS 3

int sizer_init(struct sizer *s, const struct pyapi *api,
	       const struct layout *lay)
{
	memset(s, 0, sizeof(*s));
	s->api = api;
	s->lay = lay;
	s->minor = lay->minor;
	s->name = api->PyUnicode_InternFromString("__sizeof__");
	if (!s->name) {
		api->PyErr_Clear();
		return -ENOMEM;
	}
	/* Borrowed: static types keep their methods for good. */
	s->d_object = api->PyType_Lookup(api->PyBaseObject_Type, s->name);
	s->d_list = api->PyType_Lookup(api->PyList_Type, s->name);
	s->d_str = api->PyType_Lookup(api->PyUnicode_Type, s->name);
	s->d_int = api->PyType_Lookup(api->PyLong_Type, s->name);
	return 0;
}

void sizer_fini(struct sizer *s)
{
	if (s->name)
		s->api->Py_DecRef(s->name);
	s->name = NULL;
}

void sizer_classify(struct sizer *s, PyTypeObject *t, struct type_size *ts)
{
	const struct pyapi *api = s->api;
	PyObject *d = api->PyType_Lookup(t, s->name);
	PyMethodDef *md;

	memset(ts, 0, sizeof(*ts));
	/* Unless descriptors are proven readable, Python code may run. */
	if (!d || Py_TYPE(d) != api->PyMethodDescr_Type || !s->lay->descr) {
		ts->kind = SK_LATER;
		return;
	}
	md = ((PyMethodDescrObject *)d)->d_method;
	/*
	 * A C method of an extension (Cython's `def __sizeof__`, say) may
	 * run Python code and release the GIL: only the interpreter's own
	 * are called during the walk.
	 */
	if (!md || (uintptr_t)md->ml_meth < api->core_lo ||
	    (uintptr_t)md->ml_meth >= api->core_hi) {
		ts->kind = SK_LATER;
		return;
	}
	ts->kind = SK_SLOW;
	if (t->tp_is_gc || !md->ml_meth ||
	    (md->ml_flags & ~METH_COEXIST) != METH_NOARGS ||
	    !api->PyType_IsSubtype(t, ((PyDescrObject *)d)->d_type))
		return;
	ts->meth = md->ml_meth;
	if (d == s->d_object && s->lay->verified)
		ts->kind = SK_OBJECT;
	else if (d == s->d_list && s->lay->list)
		ts->kind = SK_LIST;
	else if (d == s->d_str && s->lay->str)
		ts->kind = SK_STR;
	else if (d == s->d_int && s->lay->int_digits)
		ts->kind = SK_INT;
	else
		ts->kind = SK_CCALL;
}

uint64_t sizer_slow(struct sizer *s, PyObject *o)
{
	size_t v = s->api->PySys_GetSizeOf(o);

	s->slow_calls++;
	if (v == (size_t)-1) {
		s->api->PyErr_Clear();
		return 0;
	}
	return v;
}

static int64_t field(PyObject *o, size_t off)
{
	int64_t v;

	memcpy(&v, (char *)o + off, sizeof(v));
	return v;
}

/* The rule's x for o; false when o is outside the rule. */
static bool x_of(const struct sizer *s, int kind, PyObject *o, int64_t *x)
{
	uint32_t state;

	switch (kind) {
	case SK_OBJECT:
		*x = Py_TYPE(o)->tp_itemsize > 0 ? field(o, 16) : 0;
		return true;
	case SK_LIST:
		*x = field(o, 32);
		return true;
	case SK_STR:
		memcpy(&state, (char *)o + 32, sizeof(state));
		if ((state & 0x60) != 0x60 || (s->minor <= 11 && field(o, 40)))
			return false;
		*x = field(o, 16);
		return true;
	case SK_INT:
		*x = field(o, 16);
		if (s->minor <= 11)
			*x = *x < 0 ? -*x : *x;
		else
			*x = (int64_t)((uint64_t)*x >> 3);
		return *x > 0;
	}
	return false;
}

/* The C __sizeof__'s result, or -1 where it fails or is odd. */
static int64_t call_meth(struct sizer *s, struct type_size *ts, PyObject *o)
{
	const struct pyapi *api = s->api;
	PyObject *v = ts->meth(o, NULL);
	Py_ssize_t n;

	if (!v) {
		api->PyErr_Clear();
		return -1;
	}
	if (Py_TYPE(v) != api->PyLong_Type) {
		api->Py_DecRef(v);
		return -1;
	}
	n = api->PyLong_AsSsize_t(v);
	api->Py_DecRef(v);
	if (n < 0) {
		api->PyErr_Clear();
		return -1;
	}
	return n;
}

static uint64_t ccall(struct sizer *s, struct type_size *ts, PyObject *o)
{
	int64_t r = ts->meth ? call_meth(s, ts, o) : -1;
	uint64_t v;

	if (r < 0)
		return sizer_slow(s, o);
	if (ts->ccall_checks >= CCALL_CHECKS)
		return (uint64_t)(r + ts->header);
	v = sizer_slow(s, o);
	if (ts->ccall_checks == 0) {
		ts->header = (int64_t)v - r;
	} else if ((int64_t)v != r + ts->header) {
		ts->meth = NULL; /* never again for this type */
		return v;
	}
	ts->ccall_checks++;
	return v;
}

/* A third distinct point: on the line of the first two, or no rule. */
static void fit(struct type_size *ts)
{
	int64_t dx = ts->x[1] - ts->x[0], ds = ts->s[1] - ts->s[0];

	if (ds % dx == 0 &&
	    ts->s[2] - ts->s[0] == ds / dx * (ts->x[2] - ts->x[0])) {
		ts->m = ds / dx;
		ts->c = ts->s[0] - ts->m * ts->x[0];
		ts->linear = true;
	} else {
		ts->kind = SK_CCALL;
	}
}

static uint64_t fast_size(struct sizer *s, struct type_size *ts, PyObject *o)
{
	int64_t x;
	uint64_t v;

	switch (ts->kind) {
	case SK_SLOW:
	case SK_LATER:
		return sizer_slow(s, o);
	case SK_CCALL:
		return ccall(s, ts, o);
	}
	if (!x_of(s, ts->kind, o, &x))
		return ccall(s, ts, o);
	if (ts->linear)
		return (uint64_t)(ts->c + ts->m * x);
	for (int i = 0; i < ts->npoints; i++)
		if (ts->x[i] == x)
			return (uint64_t)ts->s[i];
	v = sizer_slow(s, o);
	if (v == 0 || v > INT64_MAX / 2)
		return v; /* it raised: learn nothing */
	ts->x[ts->npoints] = x;
	ts->s[ts->npoints++] = (int64_t)v;
	if (ts->npoints == SIZE_POINTS)
		fit(ts);
	return v;
}

/*
 * Built with -DMUPPY_PAYLOAD_CHECK (a test build, never shipped), every
 * result is compared with _PySys_GetSizeOf()'s and any difference aborts
 * the process: the fast ways must be exact, not close.  So that a test
 * can tell this build ran, it says on the target's stderr, when it is
 * unloaded, how many sizes it compared; with
 * MUPPY_PAYLOAD_CHECK_FORCE_MISMATCH=1 in the target's environment it
 * takes every size to be one byte off, to show that a difference aborts.
 */
#ifdef MUPPY_PAYLOAD_CHECK
static uint64_t checked;

__attribute__((destructor)) static void report_checked(void)
{
	fprintf(stderr, "muppy payload check: %llu sizes checked\n",
		(unsigned long long)checked);
}
#endif

uint64_t sizer_size(struct sizer *s, struct type_size *ts, PyObject *o)
{
#ifdef MUPPY_PAYLOAD_CHECK
	static int force = -1;
	uint64_t v = fast_size(s, ts, o);
	uint64_t want = sizer_slow(s, o);

	if (force < 0) {
		const char *e = getenv("MUPPY_PAYLOAD_CHECK_FORCE_MISMATCH");

		force = e && strcmp(e, "1") == 0;
	}
	if (force)
		v++;
	checked++;
	if (v != want) {
		fprintf(stderr, "muppy size check: %s kind %d: %llu, not %llu\n",
			Py_TYPE(o)->tp_name, ts->kind, (unsigned long long)v,
			(unsigned long long)want);
		abort();
	}
	return v;
#else
	return fast_size(s, ts, o);
#endif
}
