/* SPDX-License-Identifier: MIT */
/*
 * What the walk reads straight from objects, proven in this process before
 * anything relies on it.
 *
 * The payload is built with one CPython's headers and runs in 3.6 to
 * 3.15.  Every field it reads without a function call was compared with
 * offsetof() in the headers of each of those versions (3.6.15 to 3.13.0,
 * Debian's 3.11.2 and 3.11d, 3.13.18, 3.14.10, 3.14d, 3.15.2): they are the
 * same in all of them but PyTupleObject.ob_item (3.14 put ob_hash before
 * it: tuples are read through PyTuple_GetItem() only).  That table is
 * `verified` below.  On top of it each field is checked here, on objects
 * made for the purpose or on the interpreter's own static types, against
 * what the interpreter itself says through its exported functions:
 *
 *   object   ob_type, ob_size           Py_TYPE/Py_SIZE of new lists, tuples
 *   type     tp_name, tp_basicsize,     __name__, __basicsize__,
 *            tp_itemsize, tp_flags      __itemsize__, PyType_GetFlags()
 *   slots    tp_traverse, tp_is_gc,     PyType_GetSlot() (3.10+; before,
 *            tp_descr_get               the table and the code range), and
 *                                       list's tp_traverse visits its items
 *   descr    method descriptors'        list.__sizeof__: d_type is list,
 *            d_type, d_method           d_method inside the interpreter's
 *                                       image, named __sizeof__, METH_NOARGS
 *   list     PyListObject.allocated     new lists of known sizes
 *   str      PyASCIIObject length,      new ASCII and non-ASCII strs
 *            state (and wstr to 3.11)
 *   int      digits in ob_size/lv_tag   new ints of one and two digits
 *
 * object, type and slots are what the walk cannot do without: if one
 * fails, the snapshot is refused.  Without descr every type is sized
 * through sys.getsizeof after the walk (as a Python __sizeof__ is); without
 * list, str or int that sizing rule is off.  A version outside the table
 * (newer than 3.15) is `generic`: no rule, no collector lists (gcroots.c),
 * only what the checks prove and exported functions.  3.14.0 to 3.14.4
 * shipped an incremental collector: their lists are never looked for.
 *
 * The check build (-DMUPPY_PAYLOAD_CHECK) fails the checks named in the
 * target's environment variable MUPPY_PAYLOAD_FAIL (comma-separated;
 * `version` makes the version unknown, `gc-lists` and `permanent` are
 * gcroots.c's), and takes MUPPY_PAYLOAD_VERSION (e.g. 3.14.2) for the
 * interpreter's version, so that tests can prove each fallback safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

#define NEWEST_MINOR 15 /* newest 3.x in the table above */

/* The slot numbers of typeslots.h: part of the stable ABI. */
enum { SLOT_DESCR_GET = 54, SLOT_IS_GC = 61, SLOT_TRAVERSE = 71 };

bool layout_forced(const char *check)
{
#ifdef MUPPY_PAYLOAD_CHECK
	const char *v = getenv("MUPPY_PAYLOAD_FAIL");
	size_t n = strlen(check);

	while (v && *v) {
		size_t len = strcspn(v, ",");

		if (len == n && memcmp(v, check, n) == 0)
			return true;
		v += len + (v[len] == ',');
	}
#else
	(void)check;
#endif
	return false;
}

static int64_t word_at(const void *o, size_t off)
{
	int64_t v;

	memcpy(&v, (const char *)o + off, sizeof(v));
	return v;
}

/* An int attribute of a builtin type, or -1. */
static Py_ssize_t int_attr(const struct pyapi *api, PyTypeObject *t,
			   const char *name)
{
	return pyapi_take_int(api,
			      api->PyObject_GetAttrString((PyObject *)t, name));
}

/* Releases the objects a check made (either may be NULL); true if ok. */
static bool drop2(const struct pyapi *api, PyObject *a, PyObject *b, bool ok)
{
	if (a)
		api->Py_DecRef(a);
	if (b)
		api->Py_DecRef(b);
	api->PyErr_Clear();
	return ok;
}

static bool check_object(const struct pyapi *api)
{
	PyObject *l = api->PyList_New(3), *t = api->PyTuple_New(2);
	bool ok = l && t && Py_TYPE(l) == api->PyList_Type &&
		  Py_SIZE(l) == 3 && Py_TYPE(t) == api->PyTuple_Type &&
		  Py_SIZE(t) == 2;

	return drop2(api, l, t, ok);
}

/* tp_flags, tp_basicsize, tp_itemsize first: tp_name is read only once
 * the fields around it are known to be where they should be. */
static bool check_type(const struct pyapi *api)
{
	static const struct {
		size_t off;
		const char *name;
	} types[] = {
		{ offsetof(struct pyapi, PyType_Type), "type" },
		{ offsetof(struct pyapi, PyBaseObject_Type), "object" },
		{ offsetof(struct pyapi, PyList_Type), "list" },
		{ offsetof(struct pyapi, PyTuple_Type), "tuple" },
		{ offsetof(struct pyapi, PyLong_Type), "int" },
		{ offsetof(struct pyapi, PyUnicode_Type), "str" },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		PyTypeObject *t;

		memcpy(&t, (const char *)api + types[i].off, sizeof(t));
		if (t->tp_flags != api->PyType_GetFlags(t) ||
		    t->tp_basicsize != int_attr(api, t, "__basicsize__") ||
		    t->tp_itemsize != int_attr(api, t, "__itemsize__") ||
		    (uintptr_t)t->tp_name < api->img_lo ||
		    (uintptr_t)t->tp_name >= api->img_hi ||
		    strcmp(t->tp_name, types[i].name) != 0)
			return false;
	}
	return true;
}

struct seen2 {
	PyObject *want[2];
	int hits, others;
};

static int visit_count(PyObject *o, void *arg)
{
	struct seen2 *s = arg;

	if (o == s->want[0] || o == s->want[1])
		s->hits++;
	else
		s->others++;
	return 0;
}

static bool in_code(const struct pyapi *api, const void *f)
{
	return (uintptr_t)f >= api->core_lo && (uintptr_t)f < api->core_hi;
}

static bool check_slots(const struct pyapi *api, int minor)
{
	PyTypeObject *types[] = { api->PyType_Type, api->PyList_Type,
				  api->PyLong_Type, api->PyMethodDescr_Type,
				  api->PyTuple_Type };
	struct seen2 s = { { (PyObject *)api->PyList_Type,
			     (PyObject *)api->PyLong_Type } };
	PyObject *l;
	bool ok;

	if (minor >= 10) { /* PyType_GetSlot() takes static types */
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			PyTypeObject *t = types[i];

			if ((void *)t->tp_traverse !=
				    api->PyType_GetSlot(t, SLOT_TRAVERSE) ||
			    (void *)t->tp_is_gc !=
				    api->PyType_GetSlot(t, SLOT_IS_GC) ||
			    (void *)t->tp_descr_get !=
				    api->PyType_GetSlot(t, SLOT_DESCR_GET)) {
				api->PyErr_Clear();
				return false;
			}
		}
	}
	if (!in_code(api, api->PyList_Type->tp_traverse) ||
	    api->PyList_Type->tp_is_gc || api->PyLong_Type->tp_traverse ||
	    !in_code(api, api->PyType_Type->tp_is_gc) ||
	    !in_code(api, api->PyMethodDescr_Type->tp_descr_get) ||
	    api->PyType_Type->tp_is_gc((PyObject *)api->PyList_Type))
		return false;
	/* And list's tp_traverse visits what a list holds, nothing else. */
	l = api->PyList_New(0);
	ok = l && api->PyList_Append(l, s.want[0]) == 0 &&
	     api->PyList_Append(l, s.want[1]) == 0;
	if (ok) {
		api->PyList_Type->tp_traverse(l, visit_count, &s);
		ok = s.hits == 2 && s.others == 0;
	}
	if (l)
		api->Py_DecRef(l);
	api->PyErr_Clear();
	return ok;
}

static bool check_descr(const struct pyapi *api, PyObject *name)
{
	PyObject *d = api->PyType_Lookup(api->PyList_Type, name);
	PyMethodDef *md;

	if (!d || Py_TYPE(d) != api->PyMethodDescr_Type ||
	    ((PyDescrObject *)d)->d_type != api->PyList_Type)
		return false;
	md = ((PyMethodDescrObject *)d)->d_method;
	if ((uintptr_t)md < api->img_lo ||
	    (uintptr_t)md + sizeof(*md) > api->img_hi ||
	    (uintptr_t)md->ml_name < api->img_lo ||
	    (uintptr_t)md->ml_name >= api->img_hi)
		return false;
	return strncmp(md->ml_name, "__sizeof__", 11) == 0 &&
	       (md->ml_flags & ~METH_COEXIST) == METH_NOARGS &&
	       in_code(api, (void *)md->ml_meth);
}

static bool check_list(const struct pyapi *api)
{
	PyObject *a = api->PyList_New(5), *b = api->PyList_New(7);
	bool ok = a && b && word_at(a, 32) == 5 && word_at(b, 32) == 7;

	return drop2(api, a, b, ok);
}

static bool check_str(const struct pyapi *api, int minor)
{
	PyObject *a = api->PyUnicode_FromString("muppy-snap");
	PyObject *u = api->PyUnicode_FromString("\xc3\xa9t\xc3\xa9");
	uint32_t sa = 0, su = 0;
	bool ok = a && u;

	if (ok) {
		memcpy(&sa, (char *)a + 32, sizeof(sa));
		memcpy(&su, (char *)u + 32, sizeof(su));
		ok = (sa & 0x60) == 0x60 && word_at(a, 16) == 10 &&
		     (su & 0x60) == 0x20 && word_at(u, 16) == 3 &&
		     (minor > 11 || word_at(a, 40) == 0);
	}
	return drop2(api, a, u, ok);
}

/* What x_of() in sizeof.c reads: the digit count, signed to 3.11,
 * lv_tag = digits << 3 | sign (0 positive, 2 negative) from 3.12. */
static bool check_int(const struct pyapi *api, int minor)
{
	static const struct {
		long v;
		int64_t old, tag;
	} ints[] = { { 12345, 1, 8 }, { -12345, -1, 10 },
		     { 1L << 40, 2, 16 } };
	bool ok = true;

	for (size_t i = 0; ok && i < sizeof(ints) / sizeof(ints[0]); i++) {
		PyObject *o = api->PyLong_FromLong(ints[i].v);

		ok = o && Py_TYPE(o) == api->PyLong_Type &&
		     word_at(o, 16) == (minor <= 11 ? ints[i].old : ints[i].tag);
		if (o)
			api->Py_DecRef(o);
	}
	api->PyErr_Clear();
	return ok;
}

#define CHECK(name, expr) \
	(layout_forced(name) || !(expr) ? (note_failed(lay, name), false) : true)

static void note_failed(struct layout *lay, const char *name)
{
	size_t n = strlen(lay->failed);

	snprintf(lay->failed + n, sizeof(lay->failed) - n, "%s%s",
		 n ? "," : "", name);
}

bool layout_prove(const struct pyapi *api, PyObject *sizeof_name,
		  struct layout *lay, char *why, size_t whylen)
{
	const char *version = api->Py_GetVersion();

#ifdef MUPPY_PAYLOAD_CHECK
	const char *fake = getenv("MUPPY_PAYLOAD_VERSION");

	if (fake && *fake)
		version = fake;
#endif
	memset(lay, 0, sizeof(*lay));
	lay->minor = pyapi_version(version, &lay->micro);
	lay->verified = lay->minor >= 6 && lay->minor <= NEWEST_MINOR &&
			!layout_forced("version");
	if (!CHECK("object", check_object(api)) ||
	    !CHECK("type", check_type(api)) ||
	    !CHECK("slots", check_slots(api, lay->minor))) {
		snprintf(why, whylen, "CPython %d.%d.%d: its objects are not "
			 "laid out as in the versions muppy-snap verified "
			 "(check '%s' failed; 3.6 to 3.%d are supported)", 3,
			 lay->minor, lay->micro, lay->failed, NEWEST_MINOR);
		return false;
	}
	lay->descr = CHECK("descr", check_descr(api, sizeof_name));
	if (lay->verified) {
		lay->list = CHECK("list", check_list(api));
		lay->str = CHECK("str", check_str(api, lay->minor));
		lay->int_digits = CHECK("int", check_int(api, lay->minor));
		/* 3.14.0-3.14.4: young and old spaces, not generations */
		lay->gc_lists = lay->minor != 14 || lay->micro >= 5;
	}
	return true;
}
