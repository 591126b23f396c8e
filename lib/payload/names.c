/* SPDX-License-Identifier: MIT */
/*
 * Names from the target's own data, as raw bytes: types as the rows name
 * them (module.qualname), str objects as UTF-8.  What is read is asked of
 * the interpreter's C code (a getter of `type`, the codec): no Python
 * code of the process runs; the temporary objects are gone on return.
 */
#include <string.h>

#include "payload.h"

bool sbuf_put(struct sbuf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + len)
			cap *= 2;
		p = pmem_realloc(b->v, b->cap, cap);
		if (!p)
			return false;
		b->v = p;
		b->cap = cap;
	}
	memcpy(b->v + b->len, data, len);
	b->len += len;
	return true;
}

bool sbuf_puts(struct sbuf *b, const char *s)
{
	return sbuf_put(b, s, strlen(s));
}

void sbuf_free(struct sbuf *b)
{
	pmem_free(b->v, b->cap);
	memset(b, 0, sizeof(*b));
}

/* type.__dict__[attr].__get__(t): C getters only, never a metaclass's. */
static PyObject *type_attr(const struct pyapi *api, PyTypeObject *t,
			   const char *attr)
{
	PyObject *key = api->PyUnicode_InternFromString(attr);
	PyObject *descr, *v = NULL;

	if (!key) {
		api->PyErr_Clear();
		return NULL;
	}
	descr = api->PyType_Lookup(api->PyType_Type, key);
	if (descr && Py_TYPE(descr)->tp_descr_get)
		v = Py_TYPE(descr)->tp_descr_get(descr, (PyObject *)t,
						 (PyObject *)Py_TYPE(t));
	if (!v)
		api->PyErr_Clear();
	api->Py_DecRef(key);
	return v;
}

bool names_str(const struct pyapi *api, struct sbuf *b, PyObject *s)
{
	PyObject *bytes;
	char *p;
	Py_ssize_t n;
	bool ok = false;

	if (!s || !(Py_TYPE(s)->tp_flags & Py_TPFLAGS_UNICODE_SUBCLASS))
		return false;
	bytes = api->PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
	if (bytes && api->PyBytes_AsStringAndSize(bytes, &p, &n) == 0)
		ok = sbuf_put(b, p, (size_t)n);
	api->PyErr_Clear();
	if (bytes)
		api->Py_DecRef(bytes);
	return ok;
}

bool names_type(const struct pyapi *api, struct sbuf *b, PyTypeObject *t)
{
	PyObject *mod = type_attr(api, t, "__module__");
	PyObject *qual = type_attr(api, t, "__qualname__");
	size_t start = b->len;
	bool ok = false;

	if (qual && (Py_TYPE(qual)->tp_flags & Py_TPFLAGS_UNICODE_SUBCLASS)) {
		if (mod && (Py_TYPE(mod)->tp_flags &
			    Py_TPFLAGS_UNICODE_SUBCLASS)) {
			ok = names_str(api, b, mod);
			if (ok && b->len - start == 8 &&
			    memcmp(b->v + start, "builtins", 8) == 0)
				b->len = start;
			else if (ok)
				ok = sbuf_put(b, ".", 1);
			if (!ok)
				b->len = start;
		}
		ok = names_str(api, b, qual);
	}
	if (!ok) { /* no usable __qualname__: tp_name as it is */
		b->len = start;
		ok = t->tp_name ? sbuf_puts(b, t->tp_name) : true;
	}
	if (mod)
		api->Py_DecRef(mod);
	if (qual)
		api->Py_DecRef(qual);
	return ok;
}
