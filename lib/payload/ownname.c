/* SPDX-License-Identifier: MIT */
/*
 * How owners.c names a reference from one object to another, from the
 * target's own data: type names (as the rows have them), attribute and
 * slot names, str keys, indexes.  See the OWNERS section of
 * muppy-snap(1) for the rules.  Nothing here runs Python code: the
 * interpreter's C functions that are called (PyDict_Next, PyTuple_GetItem,
 * PyList_GetItem, PyType_IsSubtype, the getters of names.c) only read.
 */
#include <stdio.h>
#include <string.h>

#include "owners.h"

#define KEY_MAX 40              /* str keys shown in paths, bytes */

/* PyMemberDef and PyMemberDescrObject, the same in 3.3 and later. */
struct member_def {
	const char *name;
	int type;
	Py_ssize_t offset;
	int flags;
	const char *doc;
};

struct member_descr {
	PyObject_HEAD
	PyTypeObject *d_type;
	PyObject *d_name;
	PyObject *d_qualname;
	struct member_def *d_member;
};

enum kind own_kind(struct owners *own, PyObject *o)
{
	const struct pyapi *api = own->api;
	PyTypeObject *t = Py_TYPE(o);
	struct kcache *c = &own->kinds[owners_hash((uintptr_t)t) % KIND_CACHE];
	unsigned long f = t->tp_flags;
	enum kind k = K_OTHER;

	if (c->t == t)
		return c->kind;
	if (f & Py_TPFLAGS_DICT_SUBCLASS)
		k = K_DICT;
	else if (f & Py_TPFLAGS_LIST_SUBCLASS)
		k = K_LIST;
	else if (f & Py_TPFLAGS_TUPLE_SUBCLASS)
		k = K_TUPLE;
	else if (f & Py_TPFLAGS_TYPE_SUBCLASS)
		k = K_TYPE;
	else if (api->PyType_IsSubtype(t, api->PySet_Type) ||
		 api->PyType_IsSubtype(t, api->PyFrozenSet_Type))
		k = K_SET;
	else if (own->deque && api->PyType_IsSubtype(t, own->deque))
		k = K_DEQUE;
	else if (t == api->PyCell_Type)
		k = K_CELL;
	else if (api->PyType_IsSubtype(t, api->PyModule_Type))
		k = K_MODULE;
	else if (f & Py_TPFLAGS_HEAPTYPE)
		k = K_INSTANCE;
	c->t = t;
	c->kind = k;
	return k;
}

bool own_is_str(const struct owners *own, PyObject *o)
{
	return o && Py_TYPE(o) == own->api->PyUnicode_Type;
}

/*
 * 3.11 added dicts managed by the interpreter (Py_TPFLAGS_MANAGED_DICT,
 * bit 4): the pointer is three words before the object (3.12 tags it
 * with bit 0 while the attributes are still inline).  Otherwise
 * tp_dictoffset, as _PyObject_GetDictPtr() has it, which is called only
 * up to 3.10: from 3.11 it makes the dict of an object with a managed
 * one.
 */
PyObject *own_dict_of(const struct owners *own, PyObject *o)
{
	PyTypeObject *t = Py_TYPE(o);
	PyObject **p, *d;

	if (own->minor >= 11 && (t->tp_flags & (1UL << 4))) {
		uintptr_t v = ((const uintptr_t *)o)[-3];

		if (own->minor == 12 && (v & 1))
			return NULL;
		d = (PyObject *)v;
	} else if (t->tp_dictoffset > 0) {
		d = *(PyObject **)((char *)o + t->tp_dictoffset);
	} else if (t->tp_dictoffset < 0 && own->minor <= 10 &&
		   own->api->PyObject_GetDictPtr) {
		p = own->api->PyObject_GetDictPtr(o);
		d = p ? *p : NULL;
	} else {
		return NULL;
	}
	return d && (Py_TYPE(d)->tp_flags & Py_TPFLAGS_DICT_SUBCLASS) ? d : NULL;
}

PyObject *own_module_of(const struct owners *own, PyObject *d)
{
	size_t lo = pfind_by_addr(own->moddicts, own->nmods,
				  sizeof(*own->moddicts), (uintptr_t)d);

	return lo < own->nmods && own->moddicts[lo].dict == d ?
	       own->moddicts[lo].mod : NULL;
}

PyObject *own_ns_by_parent(struct owners *own, uint32_t i)
{
	uint32_t p = own->par[i];
	PyObject *d = own->objs[i], *o, *m = own_module_of(own, d);

	if (m)
		return m;
	if (p == NONE)
		return NULL;
	o = own->objs[p];
	switch (own_kind(own, o)) {
	case K_MODULE:
		return own->api->PyModule_GetDict(o) == d ? o : NULL;
	case K_TYPE:
		return ((PyTypeObject *)o)->tp_dict == d ? o : NULL;
	default:
		return own_dict_of(own, o) == d ? o : NULL;
	}
}

/* --- attributes: slots and inline values --------------------------------- */

/* The object slots of t and its bases (member descriptors). */
static const struct slotinfo *slots_of(struct owners *own, PyTypeObject *t)
{
	const struct pyapi *api = own->api;
	struct slotinfo *si = &own->slots[owners_hash((uintptr_t)t) %
					  SLOT_CACHE];
	PyObject *mro = t->tp_mro;

	if (si->t == t)
		return si;
	si->t = t;
	si->n = 0;
	if (!mro || !(Py_TYPE(mro)->tp_flags & Py_TPFLAGS_TUPLE_SUBCLASS))
		return si;
	for (Py_ssize_t i = 0; i < Py_SIZE(mro); i++) {
		PyObject *b = api->PyTuple_GetItem(mro, i), *k, *v;
		PyObject *d = b ? ((PyTypeObject *)b)->tp_dict : NULL;
		Py_ssize_t pos = 0;

		if (!d || !(Py_TYPE(d)->tp_flags & Py_TPFLAGS_DICT_SUBCLASS))
			continue;
		while (api->PyDict_Next(d, &pos, &k, &v)) {
			const struct member_def *m;

			if (Py_TYPE(v) != api->PyMemberDescr_Type ||
			    si->n == SLOTS_MAX)
				continue;
			m = ((const struct member_descr *)v)->d_member;
			/* T_OBJECT and T_OBJECT_EX, in every version */
			if (m && m->name && (m->type == 6 || m->type == 16) &&
			    m->offset >= (Py_ssize_t)sizeof(PyObject) &&
			    m->offset + (Py_ssize_t)sizeof(PyObject *) <=
			    t->tp_basicsize) {
				si->s[si->n].off = m->offset;
				si->s[si->n].name = m->name;
				si->n++;
			}
		}
	}
	api->PyErr_Clear();
	return si;
}

/* The name of the slot of x that holds c, or NULL. */
static const char *slot_holding(struct owners *own, PyObject *x, PyObject *c)
{
	const struct slotinfo *si = slots_of(own, Py_TYPE(x));

	for (uint32_t i = 0; i < si->n; i++)
		if (*(PyObject **)((char *)x + si->s[i].off) == c)
			return si->s[i].name;
	return NULL;
}

/*
 * Instance attributes kept inline (3.11+: no __dict__ made yet).  The
 * values are an array beside the object: at obj[-4] (3.11), tagged at
 * obj[-3] (3.12: bit 0 set, the array one byte on), or right after the
 * object (3.13+, Py_TPFLAGS_INLINE_VALUES, bit 2: capacity, size,
 * embedded and valid bytes, then the array).  Value i belongs to the
 * key of entry i of the type's shared keys (ht_cached_keys of its
 * PyHeapTypeObject; a split table, kind 2: 16-byte entries after
 * 1 << dk_log2_index_bytes bytes of indices at byte 32).
 *
 * ht_cached_keys follows ht_name, ht_slots and ht_qualname: proven once
 * on a heap type before any of it is used (both names exact str, and
 * tp_name pointing into ht_name's ASCII data, as type_new() sets it),
 * and each keys object is checked (kind, sizes) before its entries are
 * read.  Free-threaded builds are refused before any of this.
 */
static const int cached_keys_at[] = { [11] = 872, [12] = 880, [13] = 880,
				      [14] = 880, [15] = 888 };

static bool heap_names_ok(const struct owners *own, PyTypeObject *t)
{
	size_t at = (size_t)cached_keys_at[own->minor];
	PyObject *name = *(PyObject **)((char *)t + at - 24);
	PyObject *qual = *(PyObject **)((char *)t + at - 8);
	size_t ascii = own->minor >= 12 ? 40 : 48;

	return own_is_str(own, name) && own_is_str(own, qual) &&
	       t->tp_name == (const char *)name + ascii;
}

static bool inline_usable(struct owners *own, PyTypeObject *t)
{
	if (own->minor < 11 || own->minor > 15 || own->api->free_threaded ||
	    !(t->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
	    !(t->tp_flags & (1UL << 4)))
		return false;
	if (own->inline_state == 0 && heap_names_ok(own, t))
		own->inline_state = 1;
	return own->inline_state == 1;
}

/* x's inline values vals[0..n), value i that of the str key of the
 * shared keys' entry at ents + 16 * i; false when it has none. */
static bool inline_vals(struct owners *own, PyObject *x, PyObject ***vals,
			size_t *n, const char **ents)
{
	PyTypeObject *t = Py_TYPE(x);
	const uint8_t *k;
	int64_t nent, usable;

	*vals = NULL;
	*n = 0;
	if (!inline_usable(own, t))
		return false;
	k = *(const uint8_t **)((char *)t + cached_keys_at[own->minor]);
	if (!k || k[10] != 2 || k[8] > 30 || k[9] < k[8] || k[9] > k[8] + 3)
		return false;
	memcpy(&usable, k + 16, 8);
	memcpy(&nent, k + 24, 8);
	if (nent <= 0 || usable < 0 || nent + usable > ((int64_t)1 << k[8]))
		return false;
	if (own->minor == 11) {
		*vals = ((PyObject ***)x)[-4];
		*n = (size_t)nent;
	} else if (own->minor == 12) {
		uintptr_t w = ((const uintptr_t *)x)[-3];

		if (w & 1) {
			*vals = (PyObject **)(w + 1);
			*n = (size_t)nent;
		}
	} else if (t->tp_flags & (1UL << 2)) {
		const uint8_t *v = (const uint8_t *)x + t->tp_basicsize;

		if (v[3]) {
			*vals = (PyObject **)(v + 8);
			*n = v[0] < nent ? v[0] : (size_t)nent;
		}
	}
	*ents = (const char *)k + 32 + ((size_t)1 << k[9]);
	return *vals != NULL;
}

/* The key (an exact str) of x's inline value c, or NULL. */
static PyObject *inline_key(struct owners *own, PyObject *x, PyObject *c)
{
	PyObject **vals, *key;
	const char *ents;
	size_t n;

	if (!inline_vals(own, x, &vals, &n, &ents))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (vals[i] != c)
			continue;
		key = *(PyObject *const *)(ents + 16 * i);
		return own_is_str(own, key) ? key : NULL;
	}
	return NULL;
}

/* s is an exact str equal to the ASCII name. */
static bool str_is(struct owners *own, PyObject *s, const char *name)
{
	size_t at = own->nb.len, len = strlen(name);
	bool eq;

	if (!own_is_str(own, s) || !names_str(own->api, &own->nb, s))
		return false;
	eq = own->nb.len - at == len && memcmp(own->nb.v + at, name, len) == 0;
	own->nb.len = at;
	return eq;
}

PyObject *own_attr_str(struct owners *own, PyObject *x, const char *name)
{
	PyObject *d = own_dict_of(own, x), **vals, *v = NULL;
	const char *ents;
	size_t n;

	if (d) {
		v = own->api->PyDict_GetItemString(d, name);
		own->api->PyErr_Clear();
	} else if (inline_vals(own, x, &vals, &n, &ents)) {
		for (size_t i = 0; i < n && !v; i++)
			if (vals[i] && str_is(own, *(PyObject *const *)
					      (ents + 16 * i), name))
				v = vals[i];
	}
	return own_is_str(own, v) ? v : NULL;
}

/* --- names ------------------------------------------------------------ */

void own_put(struct owners *own, const char *s)
{
	if (!sbuf_puts(&own->nb, s))
		own->failed = true;
}

/* Type names come through getters that make temporary strs: once a
 * type, then from a cache. */
void own_put_type(struct owners *own, PyTypeObject *t)
{
	struct tname *c = &own->tname[owners_hash((uintptr_t)t) % TNAME_CACHE];
	size_t at = own->tnames.len;

	if (c->t != t) {
		if (!names_type(own->api, &own->tnames, t) ||
		    own->tnames.len > UINT32_MAX) {
			own->failed = true;
			return;
		}
		c->t = t;
		c->off = (uint32_t)at;
		c->len = (uint32_t)(own->tnames.len - at);
	}
	if (!sbuf_put(&own->nb, own->tnames.v + c->off, c->len))
		own->failed = true;
}

void own_put_str(struct owners *own, PyObject *s)
{
	if (!names_str(own->api, &own->nb, s))
		own->failed = true;
}

/* The module's __name__ (from its dict), or "?". */
static void put_module(struct owners *own, PyObject *m)
{
	PyObject *d = own->api->PyModule_GetDict(m);
	PyObject *name = d ? own->api->PyDict_GetItemString(d, "__name__")
			   : NULL;

	own->api->PyErr_Clear();
	if (own_is_str(own, name))
		own_put_str(own, name);
	else
		own_put(own, "?");
}

/* The key under which v is in dict d (as a value; else as a key, then
 * *as_key), or NULL. */
static PyObject *key_of(const struct owners *own, PyObject *d, PyObject *v,
			bool *as_key)
{
	PyObject *k, *x;
	Py_ssize_t pos = 0;

	*as_key = false;
	while (own->api->PyDict_Next(d, &pos, &k, &x))
		if (x == v)
			return k;
	pos = 0;
	while (own->api->PyDict_Next(d, &pos, &k, &x))
		if (k == v) {
			*as_key = true;
			return k;
		}
	return NULL;
}

void own_put_ns(struct owners *own, PyObject *ns)
{
	switch (own_kind(own, ns)) {
	case K_MODULE:
		put_module(own, ns);
		break;
	case K_TYPE:
		own_put(own, "class ");
		own_put_type(own, (PyTypeObject *)ns);
		break;
	default:
		own_put_type(own, Py_TYPE(ns));
	}
	own_put(own, ".");
}

bool own_put_attr(struct owners *own, PyObject *x, PyObject *c)
{
	const char *slot = slot_holding(own, x, c);
	PyObject *key = slot ? NULL : inline_key(own, x, c);

	if (!slot && !key)
		return false;
	own_put_type(own, Py_TYPE(x));
	own_put(own, ".");
	if (slot)
		own_put(own, slot);
	else
		own_put_str(own, key);
	return true;
}

void own_put_up(struct owners *own, uint32_t q, PyObject *p)
{
	PyObject *o = own->objs[q], *key, *ns;
	bool as_key;

	switch (own_kind(own, o)) {
	case K_DICT:
		key = key_of(own, o, p, &as_key);
		ns = own_ns_by_parent(own, q);
		if (key && !as_key && ns && own_is_str(own, key)) {
			own_put_ns(own, ns);
			own_put_str(own, key);
			return;
		}
		own_put_type(own, Py_TYPE(o));
		own_put(own, as_key ? " keys" : " values");
		return;
	case K_LIST: case K_TUPLE: case K_SET: case K_DEQUE:
		own_put_type(own, Py_TYPE(o));
		own_put(own, " items");
		return;
	case K_CELL:
		own_put(own, "cell");
		return;
	case K_INSTANCE:
		if (own_put_attr(own, o, p))
			return;
		/* fall through */
	default:
		/* a thread's running frame (3.6-3.10) */
		if (own_kind(own, o) == K_OTHER && own->frame_edge(own, o, p))
			return;
		own_put_type(own, Py_TYPE(o));
		own_put(own, " (C)");
	}
}

/* --- paths ----------------------------------------------------------------- */

/* "['key']", "[<type>]" or " key" for y in dict x. */
static void put_subscript(struct owners *own, PyObject *x, PyObject *y)
{
	bool as_key;
	PyObject *key = key_of(own, x, y, &as_key);
	size_t at = own->nb.len;

	if (as_key) {
		own_put(own, " key");
		return;
	}
	if (own_is_str(own, key)) {
		own_put(own, "['");
		own_put_str(own, key);
		if (own->nb.len - at - 2 <= KEY_MAX) {
			own_put(own, "']");
			return;
		}
		own->nb.len = at;
	}
	own_put(own, "[<");
	if (key)
		own_put_type(own, Py_TYPE(key));
	own_put(own, ">]");
}

static void put_index(struct owners *own, PyObject *x, PyObject *y,
		      enum kind kx)
{
	char buf[32];

	for (Py_ssize_t i = 0; i < Py_SIZE(x); i++) {
		PyObject *v = kx == K_LIST ? own->api->PyList_GetItem(x, i)
					   : own->api->PyTuple_GetItem(x, i);

		if (v == y) {
			snprintf(buf, sizeof(buf), "[%zd]", i);
			own_put(own, buf);
			return;
		}
	}
	own->api->PyErr_Clear();
	own_put(own, " item");
}

/* "[i]" for y in deque x, through its C iterator (a temporary object);
 * " item" for a subclass, whose __iter__ could be Python code. */
static void put_deque_index(struct owners *own, PyObject *x, PyObject *y)
{
	PyTypeObject *t = Py_TYPE(x);
	PyObject *it = t == own->deque && t->tp_iter ? t->tp_iter(x) : NULL;
	PyObject *v;
	char buf[32];
	Py_ssize_t i = 0;
	bool found = false;

	while (it && !found && Py_TYPE(it)->tp_iternext &&
	       (v = Py_TYPE(it)->tp_iternext(it))) {
		found = v == y;
		own->api->Py_DecRef(v);
		i++;
	}
	if (it)
		own->api->Py_DecRef(it);
	own->api->PyErr_Clear();
	if (found) {
		snprintf(buf, sizeof(buf), "[%zd]", i - 1);
		own_put(own, buf);
	} else {
		own_put(own, " item");
	}
}

/*
 * The step at chain[i], and how many objects it stands for: a module,
 * class or instance followed by its __dict__ and what that holds is one
 * step, "module M . name", "class K.name", "T.name".
 */
static size_t put_step(struct owners *own, PyObject *const *chain, size_t i,
		       size_t n)
{
	PyObject *x = chain[i], *y = chain[i + 1];
	PyObject *z = i + 2 < n ? chain[i + 2] : NULL;
	enum kind kx = own_kind(own, x);
	bool as_key;
	PyObject *key;

	if (kx == K_MODULE) {
		own_put(own, "module ");
		put_module(own, x);
		if (z && y == own->api->PyModule_GetDict(x)) {
			key = key_of(own, y, z, &as_key);
			own_put(own, " . ");
			if (own_is_str(own, key) && !as_key)
				own_put_str(own, key);
			else
				own_put(own, "?");
			return 2;
		}
		return 1;
	}
	if (z && ((kx == K_TYPE && ((PyTypeObject *)x)->tp_dict == y) ||
		  (kx != K_TYPE && own_dict_of(own, x) == y))) {
		key = key_of(own, y, z, &as_key);
		if (own_is_str(own, key) && !as_key) {
			if (kx == K_TYPE) {
				own_put(own, "class ");
				own_put_type(own, (PyTypeObject *)x);
			} else {
				own_put_type(own, Py_TYPE(x));
			}
			own_put(own, ".");
			own_put_str(own, key);
			return 2;
		}
	}
	switch (kx) {
	case K_DICT:
		own_put_type(own, Py_TYPE(x));
		put_subscript(own, x, y);
		break;
	case K_LIST: case K_TUPLE:
		own_put_type(own, Py_TYPE(x));
		put_index(own, x, y, kx);
		break;
	case K_DEQUE:
		own_put_type(own, Py_TYPE(x));
		put_deque_index(own, x, y);
		break;
	case K_SET:
		own_put_type(own, Py_TYPE(x));
		own_put(own, " item");
		break;
	case K_CELL:
		own_put(own, "cell");
		break;
	case K_TYPE:
		own_put(own, "class ");
		own_put_type(own, (PyTypeObject *)x);
		own_put(own, " (C)");
		break;
	case K_INSTANCE:
		if (own_put_attr(own, x, y))
			break;
		/* fall through */
	default:
		/* a thread's running frame (3.6-3.10) */
		if (kx == K_OTHER && own->frame_edge(own, x, y))
			break;
		own_put_type(own, Py_TYPE(x));
		own_put(own, " (C)");
	}
	return 1;
}

/* Ends the step being made in own->nb: appends it to b. */
void own_step_end(struct owners *own, struct sbuf *b, uint32_t *nsteps)
{
	uint32_t len = (uint32_t)own->nb.len;

	if (own->failed || !sbuf_put(b, &len, 4) ||
	    !sbuf_put(b, own->nb.v, own->nb.len))
		own->failed = true;
	(*nsteps)++;
	own->nb.len = 0;
}

uint32_t own_put_path(struct owners *own, PyObject *const *chain, size_t n,
		      struct sbuf *b)
{
	uint32_t nsteps = 0;

	for (size_t s = 0; s + 1 < n && !own->failed;) {
		s += put_step(own, chain, s, n);
		own_step_end(own, b, &nsteps);
	}
	own_put_type(own, Py_TYPE(chain[n - 1]));
	own_step_end(own, b, &nsteps);
	return nsteps;
}
