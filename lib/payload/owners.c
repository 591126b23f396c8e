/* SPDX-License-Identifier: MIT */
/*
 * Who holds the objects of the types muppy-snap asked for (--owners; the
 * rules are in muppy-snap(1), OWNERS).
 *
 * The walk (walk.c) goes breadth first from the modules of sys.modules
 * and keeps every object with the index of the one that reached it
 * first, and reports every reference to an object of a type asked for
 * (an edge: holder index, target).  Here, still holding the interpreter
 * and before anything can run Python code:
 *   1. one more pass over the objects counts, for the containers that hold
 *      targets, the references into them and the first referrer, and
 *      finds the module, class or instance whose __dict__ they are;
 *   2. each run of edges from one holder becomes memberships of named
 *      groups (a dict is read entry by entry);
 *   3. a target referred to more often than the edges into it say is also
 *      held from outside the object graph;
 *   4. the first targets the walk reached from a module get their path.
 * Memberships are sorted by target, so a target counts once per group,
 * and the sizes of targets with a Python __sizeof__ come in after the
 * walk (owners_later).  Nothing here creates an object that stays: only
 * the temporary names and bytes of names.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "protocol.h"

#define NONE UINT32_MAX
#define KEY_MAX 40              /* str keys shown in paths, bytes */
#define SLOTS_MAX 32            /* object slots remembered a type */
#define SLOT_CACHE 64
#define KIND_CACHE 256

enum kind {
	K_OTHER, K_DICT, K_LIST, K_TUPLE, K_SET, K_DEQUE, K_CELL, K_MODULE,
	K_TYPE, K_INSTANCE,
};

struct edge {
	PyObject *c;
	uint32_t holder;        /* index in the walk's order */
	uint32_t k;             /* which type asked for */
};

struct member {
	PyObject *c;
	uint64_t size;          /* UINT64_MAX until owners_later() */
	uint32_t gid;
	uint32_t k;
};

struct group {
	uint32_t k;
	uint32_t off, len;      /* of its name in own->gnames */
	uint64_t count, bytes;
};

/* A container that holds targets, as the extra pass found it. */
struct hinfo {
	PyObject *p;
	uint32_t nin;           /* references into it */
	uint32_t ref;           /* index of its first referrer */
	uint32_t ns;            /* index of the module, class or instance
				   whose __dict__ it is, or NONE */
};

struct target {
	PyTypeObject *type;
	const char *name;       /* raw, from the request */
	size_t len;
	const char *last;       /* after its last dot */
	uint64_t count, bytes, shared, unreachable;
	uint32_t npaths;
	struct sbuf paths;      /* records, as sent */
};

struct slotinfo {
	PyTypeObject *t;
	uint32_t n;
	struct { Py_ssize_t off; const char *name; } s[SLOTS_MAX];
};

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

struct kcache {
	PyTypeObject *t;
	enum kind kind;
};

struct owners {
	const struct pyapi *api;
	int minor;
	int ntargets;
	struct target tg[MUPPY_OWNERS_TYPES_MAX];
	uint32_t want_paths;
	PyObject **mods;
	size_t nmods, mods_cap;
	PyTypeObject *deque;
	struct edge *edges;
	size_t nedges, edges_cap;
	struct member *mem;
	size_t nmem, mem_cap;
	struct group *groups;
	size_t ngroups, groups_cap;
	uint32_t *gindex;       /* open addressing: gid + 1 */
	size_t gindex_cap;
	struct sbuf gnames;
	struct sbuf nb;         /* the name being made */
	PyObject **chain;       /* a path being named */
	struct hinfo *hold;     /* open addressing by p */
	size_t hold_cap, nhold;
	struct slotinfo slots[SLOT_CACHE];
	int inline_state;       /* 0 not tried, 1 proven, -1 off */
	struct kcache kinds[KIND_CACHE];
	/* the walk's order, during owners_analyze() */
	const struct walk_view *view;
	PyObject *const *objs;
	const uint32_t *par;
	size_t n;
	bool failed;
};

static size_t hash_ptr(uintptr_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v;
}

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *p;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 1024;
	p = pmem_realloc(*v, *cap * size, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* --- opening: the types asked for, the modules ------------------------ */

static PyObject *module_dict_item(const struct pyapi *api, PyObject *mods,
				  const char *mod, const char *name)
{
	PyObject *m = api->PyDict_GetItemString(mods, mod);
	PyObject *d = m && api->PyModule_Type &&
		      api->PyType_IsSubtype(Py_TYPE(m), api->PyModule_Type) ?
		      api->PyModule_GetDict(m) : NULL;
	PyObject *v = d ? api->PyDict_GetItemString(d, name) : NULL;

	api->PyErr_Clear();
	return v;
}

struct owners *owners_open(const struct pyapi *api, const struct layout *lay,
			   const struct muppy_owners_req *req, bool *nomem)
{
	struct owners *own;
	PyObject *mods, *k, *v;
	Py_ssize_t pos = 0;
	size_t off = 0;

	*nomem = false;
	if (!req->ntypes || !api->PyDict_Next || !api->PyModule_GetDict ||
	    !api->PyImport_GetModuleDict || !api->PyDict_Type ||
	    !api->PySet_Type || !api->PyFrozenSet_Type || !api->PyCell_Type ||
	    !api->PyModule_Type || !api->PyMemberDescr_Type)
		return NULL;
	own = pmem_alloc(sizeof(*own));
	if (!own) {
		*nomem = true;
		return NULL;
	}
	memset(own, 0, sizeof(*own));
	own->api = api;
	own->minor = lay->minor;
	own->want_paths = req->paths > MUPPY_OWNERS_PATHS_MAX ?
			  MUPPY_OWNERS_PATHS_MAX : req->paths;
	for (uint32_t i = 0; i < req->ntypes && i < MUPPY_OWNERS_TYPES_MAX;
	     i++) {
		struct target *t = &own->tg[own->ntargets];
		const char *name = req->names + off;
		size_t len = strnlen(name, sizeof(req->names) - off);
		const char *dot;

		if (off + len >= sizeof(req->names))
			break; /* not NUL-terminated: the rest is lost */
		t->name = name;
		t->len = len;
		dot = memrchr(name, '.', len);
		t->last = dot ? dot + 1 : name;
		own->ntargets++;
		off += len + 1;
	}
	mods = api->PyImport_GetModuleDict();
	while (mods && api->PyDict_Next(mods, &pos, &k, &v)) {
		if (!api->PyType_IsSubtype(Py_TYPE(v), api->PyModule_Type))
			continue;
		if (!grow((void **)&own->mods, &own->mods_cap, own->nmods,
			  sizeof(*own->mods))) {
			*nomem = true;
			owners_close(own);
			return NULL;
		}
		own->mods[own->nmods++] = v;
	}
	v = mods ? module_dict_item(api, mods, "_collections", "deque") : NULL;
	if (v && (Py_TYPE(v)->tp_flags & Py_TPFLAGS_TYPE_SUBCLASS))
		own->deque = (PyTypeObject *)v;
	return own;
}

void owners_close(struct owners *own)
{
	if (!own)
		return;
	for (int i = 0; i < own->ntargets; i++)
		sbuf_free(&own->tg[i].paths);
	pmem_free(own->mods, own->mods_cap * sizeof(*own->mods));
	pmem_free(own->edges, own->edges_cap * sizeof(*own->edges));
	pmem_free(own->mem, own->mem_cap * sizeof(*own->mem));
	pmem_free(own->groups, own->groups_cap * sizeof(*own->groups));
	pmem_free(own->gindex, own->gindex_cap * sizeof(*own->gindex));
	pmem_free(own->hold, own->hold_cap * sizeof(*own->hold));
	sbuf_free(&own->gnames);
	sbuf_free(&own->nb);
	pmem_free(own->chain, MUPPY_OWNERS_STEPS_MAX * sizeof(*own->chain));
	pmem_free(own, sizeof(*own));
}

size_t owners_modules(const struct owners *own, PyObject ***mods)
{
	*mods = own->mods;
	return own->nmods;
}

void owners_classify(struct owners *own, PyTypeObject *t)
{
	const char *tn = t->tp_name ? t->tp_name : "";
	const char *dot = strrchr(tn, '.');

	tn = dot ? dot + 1 : tn;
	for (int i = 0; i < own->ntargets; i++) {
		struct target *g = &own->tg[i];

		if (g->type || strcmp(tn, g->last) != 0)
			continue;
		own->nb.len = 0;
		if (names_type(own->api, &own->nb, t) && own->nb.len == g->len &&
		    memcmp(own->nb.v, g->name, g->len) == 0)
			g->type = t;
	}
}

int owners_target(const struct owners *own, PyTypeObject *t)
{
	for (int i = 0; i < own->ntargets; i++)
		if (own->tg[i].type == t)
			return i;
	return -1;
}

int owners_edge(struct owners *own, uint32_t holder, PyObject *c, int k)
{
	if (!grow((void **)&own->edges, &own->edges_cap, own->nedges,
		  sizeof(*own->edges)))
		return -ENOMEM;
	own->edges[own->nedges++] = (struct edge){ c, holder, (uint32_t)k };
	return 0;
}

/* --- what an object is --------------------------------------------------- */

static enum kind kind_of(struct owners *own, PyObject *o)
{
	const struct pyapi *api = own->api;
	PyTypeObject *t = Py_TYPE(o);
	struct kcache *c = &own->kinds[hash_ptr((uintptr_t)t) % KIND_CACHE];
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

static bool is_str(const struct owners *own, PyObject *o)
{
	return o && Py_TYPE(o) == own->api->PyUnicode_Type;
}

/* Reference count, as sys.getrefcount() has it but for its argument. */
static uint64_t refcount(const struct owners *own, PyObject *o)
{
	int64_t v;

	memcpy(&v, o, sizeof(v));
	if (own->minor >= 12) { /* low 32 bits; negative: immortal */
		int32_t lo = (int32_t)(uint32_t)v;

		return lo < 0 ? UINT64_MAX : (uint64_t)lo;
	}
	return v < 0 ? 0 : (uint64_t)v;
}

/*
 * The __dict__ of o, if it has one now (never made here).  3.11 added
 * dicts managed by the interpreter (Py_TPFLAGS_MANAGED_DICT, bit 4): the
 * pointer is three words before the object (3.12 tags it with bit 0
 * while the attributes are still inline).  Otherwise tp_dictoffset, as
 * _PyObject_GetDictPtr() has it, which is called only up to 3.10: from
 * 3.11 it makes the dict of an object with a managed one.
 */
static PyObject *dict_of(const struct owners *own, PyObject *o)
{
	PyTypeObject *t = Py_TYPE(o);
	PyObject **p = NULL, *d;

	if (own->minor >= 11 && (t->tp_flags & (1UL << 4))) {
		uintptr_t v = ((const uintptr_t *)o)[-3];

		if (own->minor == 12 && (v & 1))
			return NULL;
		d = (PyObject *)v;
	} else if (t->tp_dictoffset > 0) {
		p = (PyObject **)((char *)o + t->tp_dictoffset);
		d = *p;
	} else if (t->tp_dictoffset < 0 && own->minor <= 10 &&
		   own->api->PyObject_GetDictPtr) {
		p = own->api->PyObject_GetDictPtr(o);
		d = p ? *p : NULL;
	} else {
		return NULL;
	}
	return d && (Py_TYPE(d)->tp_flags & Py_TPFLAGS_DICT_SUBCLASS) ? d : NULL;
}

/* The object slots of t and its bases (member descriptors). */
static const struct slotinfo *slots_of(struct owners *own, PyTypeObject *t)
{
	const struct pyapi *api = own->api;
	struct slotinfo *si = &own->slots[hash_ptr((uintptr_t)t) % SLOT_CACHE];
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
			    m->offset >= (Py_ssize_t)sizeof(PyObject))
				si->s[si->n++] = (typeof(si->s[0])){ m->offset,
								     m->name };
		}
	}
	api->PyErr_Clear();
	return si;
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
 * ht_cached_keys follows ht_name, ht_slots and ht_qualname: proven once on a heap
 * type before any of it is used (both exact str, and tp_name pointing
 * into ht_name's ASCII data, as type_new() sets it), and each keys
 * object is checked (kind, sizes) before its entries are read.
 */
static const int cached_keys_at[] = { [11] = 872, [12] = 880, [13] = 880,
				      [14] = 880, [15] = 888 };

static bool heap_names_ok(const struct owners *own, PyTypeObject *t)
{
	size_t at = (size_t)cached_keys_at[own->minor];
	PyObject *name = *(PyObject **)((char *)t + at - 24);
	PyObject *qual = *(PyObject **)((char *)t + at - 8);
	size_t ascii = own->minor >= 12 ? 40 : 48;

	return is_str(own, name) && is_str(own, qual) &&
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

/* The key (an exact str) of x's inline value c, or NULL. */
static PyObject *inline_key(struct owners *own, PyObject *x, PyObject *c)
{
	PyTypeObject *t = Py_TYPE(x);
	const uint8_t *k;
	PyObject **vals = NULL;
	int64_t nent, usable;
	size_t n = 0;

	if (!inline_usable(own, t))
		return NULL;
	k = *(const uint8_t **)((char *)t + cached_keys_at[own->minor]);
	if (!k || k[10] != 2 || k[8] > 30 || k[9] < k[8] || k[9] > k[8] + 3)
		return NULL;
	memcpy(&usable, k + 16, 8);
	memcpy(&nent, k + 24, 8);
	if (nent <= 0 || usable < 0 || nent + usable > ((int64_t)1 << k[8]))
		return NULL;
	if (own->minor == 11) {
		vals = ((PyObject ***)x)[-4];
		n = (size_t)nent;
	} else if (own->minor == 12) {
		uintptr_t w = ((const uintptr_t *)x)[-3];

		if (w & 1) {
			vals = (PyObject **)(w + 1);
			n = (size_t)nent;
		}
	} else if (t->tp_flags & (1UL << 2)) {
		const uint8_t *v = (const uint8_t *)x + t->tp_basicsize;

		if (v[3]) {
			vals = (PyObject **)(v + 8);
			n = v[0] < nent ? v[0] : (size_t)nent;
		}
	}
	for (size_t i = 0; vals && i < n; i++) {
		PyObject *key;

		if (vals[i] != c)
			continue;
		key = *(PyObject **)(k + 32 + ((size_t)1 << k[9]) + 16 * i);
		return is_str(own, key) ? key : NULL;
	}
	return NULL;
}

/* The name of the slot of x that holds c, or NULL. */
static const char *slot_holding(struct owners *own, PyObject *x, PyObject *c)
{
	const struct slotinfo *si = slots_of(own, Py_TYPE(x));

	for (uint32_t i = 0; i < si->n; i++)
		if (si->s[i].off + (Py_ssize_t)sizeof(PyObject *) <=
		    Py_TYPE(x)->tp_basicsize &&
		    *(PyObject **)((char *)x + si->s[i].off) == c)
			return si->s[i].name;
	return NULL;
}

/* --- names ------------------------------------------------------------ */

static void put(struct owners *own, const char *s)
{
	if (!sbuf_puts(&own->nb, s))
		own->failed = true;
}

static void put_type(struct owners *own, PyTypeObject *t)
{
	if (!names_type(own->api, &own->nb, t))
		own->failed = true;
}

static void put_str(struct owners *own, PyObject *s)
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
	if (is_str(own, name))
		put_str(own, name);
	else
		put(own, "?");
}

/* The key under which v is in dict d (a value), or NULL. */
static PyObject *key_of(const struct owners *own, PyObject *d, PyObject *v,
			bool *as_key)
{
	PyObject *k, *x;
	Py_ssize_t pos = 0;

	*as_key = false;
	while (own->api->PyDict_Next(d, &pos, &k, &x)) {
		if (x == v)
			return k;
	}
	pos = 0;
	while (own->api->PyDict_Next(d, &pos, &k, &x))
		if (k == v) {
			*as_key = true;
			return k;
		}
	return NULL;
}

/* Index of the object at BFS index i's __dict__ owner: module, class or
 * instance, found through its first referrer; NONE when it is not one. */
static uint32_t ns_by_parent(struct owners *own, uint32_t i)
{
	uint32_t p = own->par[i];
	PyObject *d = own->objs[i], *o;

	if (p == NONE)
		return NONE;
	o = own->objs[p];
	switch (kind_of(own, o)) {
	case K_MODULE:
		return own->api->PyModule_GetDict(o) == d ? p : NONE;
	case K_TYPE:
		return ((PyTypeObject *)o)->tp_dict == d ? p : NONE;
	default:
		return dict_of(own, o) == d ? p : NONE;
	}
}

/* "M.", "class K." or "T." for the namespace at index ns. */
static void put_ns(struct owners *own, uint32_t ns)
{
	PyObject *o = own->objs[ns];

	switch (kind_of(own, o)) {
	case K_MODULE:
		put_module(own, o);
		break;
	case K_TYPE:
		put(own, "class ");
		put_type(own, (PyTypeObject *)o);
		break;
	default:
		put_type(own, Py_TYPE(o));
	}
	put(own, ".");
}

/* The attribute of instance x that holds c: a slot or an inline value.
 * False when none is found. */
static bool put_attr(struct owners *own, PyObject *x, PyObject *c)
{
	const char *slot = slot_holding(own, x, c);
	PyObject *key = slot ? NULL : inline_key(own, x, c);

	if (!slot && !key)
		return false;
	put_type(own, Py_TYPE(x));
	put(own, ".");
	if (slot)
		put(own, slot);
	else
		put_str(own, key);
	return true;
}

static struct hinfo *hold_find(const struct owners *own, PyObject *p)
{
	if (!own->hold_cap)
		return NULL;
	for (size_t j = hash_ptr((uintptr_t)p) & (own->hold_cap - 1);
	     own->hold[j].p; j = (j + 1) & (own->hold_cap - 1))
		if (own->hold[j].p == p)
			return &own->hold[j];
	return NULL;
}

/*
 * The short name of the one reference from the object at index q to p:
 * rules 1-4 and 8, or 5-7 without their "of" part (one step up only).
 */
static void put_up(struct owners *own, uint32_t q, PyObject *p)
{
	PyObject *o = own->objs[q], *key;
	enum kind kq = kind_of(own, o);
	bool as_key;
	uint32_t ns;

	switch (kq) {
	case K_DICT:
		key = key_of(own, o, p, &as_key);
		ns = ns_by_parent(own, q);
		if (key && !as_key && ns != NONE && is_str(own, key)) {
			put_ns(own, ns);
			put_str(own, key);
			return;
		}
		put_type(own, Py_TYPE(o));
		put(own, as_key ? " keys" : " values");
		return;
	case K_LIST: case K_TUPLE: case K_SET: case K_DEQUE:
		put_type(own, Py_TYPE(o));
		put(own, " items");
		return;
	case K_CELL:
		put(own, "cell");
		return;
	case K_INSTANCE:
		if (put_attr(own, o, p))
			return;
		/* fall through */
	default:
		put_type(own, Py_TYPE(o));
		put(own, " (C)");
	}
}

/* " of U" for holder p, when exactly one reference leads to it. */
static void put_of(struct owners *own, PyObject *p)
{
	const struct hinfo *h = hold_find(own, p);

	if (h && h->nin == 1 && h->ref != NONE) {
		put(own, " of ");
		put_up(own, h->ref, p);
	}
}

/* --- groups and memberships ----------------------------------------------- */

static uint32_t hash_name(uint32_t k, const char *s, size_t len)
{
	uint32_t h = 2166136261u ^ k;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The group named own->nb for target kind k; NONE on ENOMEM. */
static uint32_t group_id(struct owners *own, uint32_t k)
{
	const char *name = own->nb.v;
	size_t len = own->nb.len, j;

	if (own->failed)
		return NONE;
	if ((own->ngroups + 1) * 2 > own->gindex_cap) {
		size_t cap = own->gindex_cap ? own->gindex_cap * 2 : 256;
		uint32_t *t = pmem_alloc(cap * sizeof(*t));

		if (!t)
			return NONE;
		memset(t, 0, cap * sizeof(*t));
		for (size_t g = 0; g < own->ngroups; g++) {
			const struct group *gr = &own->groups[g];

			j = hash_name(gr->k, own->gnames.v + gr->off, gr->len) &
			    (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = (uint32_t)g + 1;
		}
		pmem_free(own->gindex, own->gindex_cap * sizeof(*t));
		own->gindex = t;
		own->gindex_cap = cap;
	}
	for (j = hash_name(k, name, len) & (own->gindex_cap - 1);
	     own->gindex[j]; j = (j + 1) & (own->gindex_cap - 1)) {
		const struct group *gr = &own->groups[own->gindex[j] - 1];

		if (gr->k == k && gr->len == len &&
		    memcmp(own->gnames.v + gr->off, name, len) == 0)
			return own->gindex[j] - 1;
	}
	if (!grow((void **)&own->groups, &own->groups_cap, own->ngroups,
		  sizeof(*own->groups)))
		return NONE;
	own->groups[own->ngroups] = (struct group){
		.k = k, .off = (uint32_t)own->gnames.len, .len = (uint32_t)len,
	};
	if (own->gnames.len + len > UINT32_MAX ||
	    !sbuf_put(&own->gnames, name, len))
		return NONE;
	own->gindex[j] = (uint32_t)own->ngroups + 1;
	return (uint32_t)own->ngroups++;
}

static void member(struct owners *own, PyObject *c, uint32_t k, uint32_t gid)
{
	if (gid == NONE || !grow((void **)&own->mem, &own->mem_cap, own->nmem,
				 sizeof(*own->mem))) {
		own->failed = true;
		return;
	}
	own->mem[own->nmem++] = (struct member){
		.c = c, .size = own->view->size(own->view->w, c), .gid = gid,
		.k = k,
	};
}

static void join(struct owners *own, PyObject *c, uint32_t k)
{
	member(own, c, k, group_id(own, k));
}

/* Which of kinds k targets c is, or -1. */
static int target_kind(const struct owners *own, PyObject *c)
{
	return c ? owners_target(own, Py_TYPE(c)) : -1;
}

/* A dict holder: its entries, one group per key in a namespace. */
static void name_dict(struct owners *own, PyObject *p)
{
	const struct hinfo *hi = hold_find(own, p);
	uint32_t ns = hi ? hi->ns : NONE;
	PyObject *k, *v;
	Py_ssize_t pos = 0;
	int tk;

	while (!own->failed && own->api->PyDict_Next(p, &pos, &k, &v)) {
		if ((tk = target_kind(own, v)) >= 0) {
			own->nb.len = 0;
			if (ns != NONE && is_str(own, k)) {
				put_ns(own, ns);
				put_str(own, k);
			} else {
				put_type(own, Py_TYPE(p));
				put(own, " values");
				put_of(own, p);
			}
			join(own, v, (uint32_t)tk);
		}
		if ((tk = target_kind(own, k)) >= 0) {
			own->nb.len = 0;
			put_type(own, Py_TYPE(p));
			put(own, " keys");
			put_of(own, p);
			join(own, k, (uint32_t)tk);
		}
	}
}

/* The edges e[0..n) all come from the object at index h. */
static void name_run(struct owners *own, const struct edge *e, size_t n)
{
	uint32_t h = e[0].holder;
	PyObject *p = own->objs[h];
	enum kind kp = kind_of(own, p);
	bool heap = Py_TYPE(p)->tp_flags & Py_TPFLAGS_HEAPTYPE;

	if (kp == K_DICT) {
		/* a dict subclass's own attributes first */
		for (size_t i = 0; heap && i < n && !own->failed; i++) {
			own->nb.len = 0;
			if (put_attr(own, p, e[i].c))
				join(own, e[i].c, e[i].k);
		}
		name_dict(own, p);
		return;
	}
	for (size_t i = 0; i < n && !own->failed; i++) {
		PyObject *c = e[i].c;

		own->nb.len = 0;
		if (heap && put_attr(own, p, c)) {
			join(own, c, e[i].k);
			continue;
		}
		own->nb.len = 0;
		switch (kp) {
		case K_LIST: case K_TUPLE: case K_SET: case K_DEQUE:
			put_type(own, Py_TYPE(p));
			put(own, " items");
			put_of(own, p);
			break;
		case K_CELL:
			put(own, "cell");
			put_of(own, p);
			break;
		default:
			put_type(own, Py_TYPE(p));
			put(own, " (C)");
		}
		join(own, c, e[i].k);
	}
}

/* --- the extra pass: references into the containers that hold targets --- */

static bool needs_up(struct owners *own, PyObject *p)
{
	switch (kind_of(own, p)) {
	case K_DICT: case K_LIST: case K_TUPLE: case K_SET: case K_DEQUE:
	case K_CELL:
		return true;
	default:
		return false;
	}
}

static int hold_add(struct owners *own, PyObject *p)
{
	size_t j;

	if ((own->nhold + 1) * 2 > own->hold_cap) {
		size_t cap = own->hold_cap ? own->hold_cap * 2 : 1024;
		struct hinfo *t = pmem_alloc(cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t, 0, cap * sizeof(*t));
		for (size_t i = 0; i < own->hold_cap; i++) {
			if (!own->hold[i].p)
				continue;
			for (j = hash_ptr((uintptr_t)own->hold[i].p) & (cap - 1);
			     t[j].p; j = (j + 1) & (cap - 1))
				;
			t[j] = own->hold[i];
		}
		pmem_free(own->hold, own->hold_cap * sizeof(*t));
		own->hold = t;
		own->hold_cap = cap;
	}
	for (j = hash_ptr((uintptr_t)p) & (own->hold_cap - 1); own->hold[j].p;
	     j = (j + 1) & (own->hold_cap - 1))
		if (own->hold[j].p == p)
			return 0;
	own->hold[j] = (struct hinfo){ p, 0, NONE, NONE };
	own->nhold++;
	return 0;
}

struct pass_ctx {
	struct owners *own;
	uint32_t q;             /* index of the object traversed */
	PyObject *qdict;        /* its own __dict__, if any */
};

static int pass_visit(PyObject *o, void *arg)
{
	struct pass_ctx *x = arg;
	struct hinfo *h = o ? hold_find(x->own, o) : NULL;

	if (!h)
		return 0;
	if (h->nin++ == 0)
		h->ref = x->q;
	if (o == x->qdict)
		h->ns = x->q;
	return 0;
}

static int extra_pass(struct owners *own)
{
	struct pass_ctx x = { .own = own };

	for (size_t i = 0; i < own->nedges; i++) {
		PyObject *p = own->objs[own->edges[i].holder];

		if ((i == 0 || own->edges[i - 1].holder != own->edges[i].holder)
		    && needs_up(own, p) && hold_add(own, p) < 0)
			return -ENOMEM;
	}
	if (!own->nhold)
		return 0;
	for (size_t i = 0; i < own->n; i++) {
		PyObject *q = own->objs[i];

		x.q = (uint32_t)i;
		switch (kind_of(own, q)) {
		case K_MODULE:
			x.qdict = own->api->PyModule_GetDict(q);
			break;
		case K_TYPE:
			x.qdict = ((PyTypeObject *)q)->tp_dict;
			break;
		case K_INSTANCE: case K_DICT: case K_LIST: case K_TUPLE:
		case K_SET: case K_DEQUE: case K_OTHER:
			x.qdict = dict_of(own, q);
			break;
		default:
			x.qdict = NULL;
		}
		own->view->traverse(own->view->w, q, pass_visit, &x);
	}
	return 0;
}

/* --- held from outside the graph ------------------------------------- */

static int cmp_edge_c(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct edge *)a)->c;
	uintptr_t y = (uintptr_t)((const struct edge *)b)->c;

	return x < y ? -1 : x > y;
}

/* Edges into c, the edges sorted by target. */
static uint64_t edges_into(const struct owners *own, PyObject *c)
{
	size_t lo = 0, hi = own->nedges, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)own->edges[mid].c < (uintptr_t)c)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < own->nedges && own->edges[lo].c == c)
		lo++;
	return lo - first;
}

/* --- paths ----------------------------------------------------------------- */

static bool rec_put(struct sbuf *b, const void *v, size_t len)
{
	return sbuf_put(b, v, len);
}

/* Ends the step being made in own->nb: appends it to b. */
static void step_end(struct owners *own, struct sbuf *b, uint32_t *nsteps)
{
	uint32_t len = (uint32_t)own->nb.len;

	if (own->failed || !rec_put(b, &len, 4) ||
	    !rec_put(b, own->nb.v, own->nb.len))
		own->failed = true;
	(*nsteps)++;
	own->nb.len = 0;
}

/* "['key']", "[<type>]" or " key" for y in dict x. */
static void put_subscript(struct owners *own, PyObject *x, PyObject *y)
{
	bool as_key;
	PyObject *key = key_of(own, x, y, &as_key);
	size_t at = own->nb.len;

	if (as_key) {
		put(own, " key");
		return;
	}
	if (is_str(own, key)) {
		put(own, "['");
		put_str(own, key);
		if (own->nb.len - at - 2 <= KEY_MAX) {
			put(own, "']");
			return;
		}
		own->nb.len = at;
	}
	put(own, "[<");
	if (key)
		put_type(own, Py_TYPE(key));
	put(own, ">]");
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
			put(own, buf);
			return;
		}
	}
	own->api->PyErr_Clear();
	put(own, " item");
}

/*
 * The step at chain[i] (objects from the root), and how many objects it
 * stands for: a module, class or instance followed by its __dict__ and
 * what that holds is one step, "module M . name", "class K.name",
 * "T.name".
 */
static size_t put_step(struct owners *own, PyObject *const *chain, size_t i,
		       size_t n)
{
	PyObject *x = chain[i], *y = chain[i + 1];
	PyObject *z = i + 2 < n ? chain[i + 2] : NULL;
	enum kind kx = kind_of(own, x);
	bool as_key;
	PyObject *key;

	if (kx == K_MODULE) {
		put(own, "module ");
		put_module(own, x);
		if (z && y == own->api->PyModule_GetDict(x)) {
			key = key_of(own, y, z, &as_key);
			put(own, " . ");
			if (is_str(own, key) && !as_key)
				put_str(own, key);
			else
				put(own, "?");
			return 2;
		}
		return 1;
	}
	if (z && ((kx == K_TYPE && ((PyTypeObject *)x)->tp_dict == y) ||
		  (kx != K_TYPE && dict_of(own, x) == y))) {
		key = key_of(own, y, z, &as_key);
		if (is_str(own, key) && !as_key) {
			if (kx == K_TYPE) {
				put(own, "class ");
				put_type(own, (PyTypeObject *)x);
			} else {
				put_type(own, Py_TYPE(x));
			}
			put(own, ".");
			put_str(own, key);
			return 2;
		}
	}
	switch (kx) {
	case K_DICT:
		put_type(own, Py_TYPE(x));
		put_subscript(own, x, y);
		break;
	case K_LIST: case K_TUPLE:
		put_type(own, Py_TYPE(x));
		put_index(own, x, y, kx);
		break;
	case K_SET: case K_DEQUE:
		put_type(own, Py_TYPE(x));
		put(own, " item");
		break;
	case K_CELL:
		put(own, "cell");
		break;
	case K_TYPE:
		put(own, "class ");
		put_type(own, (PyTypeObject *)x);
		put(own, " (C)");
		break;
	case K_INSTANCE:
		if (put_attr(own, x, y))
			break;
		/* fall through */
	default:
		put_type(own, Py_TYPE(x));
		put(own, " (C)");
	}
	return 1;
}

static void add_path(struct owners *own, struct target *t, uint32_t i)
{
	PyObject **chain = own->chain;
	size_t n = 0, at = t->paths.len;
	uint32_t nsteps = 0;
	uint64_t id = (uint64_t)(uintptr_t)own->objs[i];

	if (!chain) {
		chain = own->chain = pmem_alloc(MUPPY_OWNERS_STEPS_MAX *
						sizeof(*chain));
		if (!chain) {
			own->failed = true;
			return;
		}
	}
	for (uint32_t j = i; j != NONE && n < MUPPY_OWNERS_STEPS_MAX;
	     j = own->par[j])
		chain[n++] = own->objs[j];
	if (n == MUPPY_OWNERS_STEPS_MAX)
		return; /* not from a module after all */
	for (size_t a = 0, b = n - 1; a < b; a++, b--) {
		PyObject *o = chain[a];

		chain[a] = chain[b];
		chain[b] = o;
	}
	if (!rec_put(&t->paths, &id, 8) || !rec_put(&t->paths, &nsteps, 4)) {
		own->failed = true;
		return;
	}
	own->nb.len = 0;
	for (size_t s = 0; s + 1 < n && !own->failed;) {
		s += put_step(own, chain, s, n);
		step_end(own, &t->paths, &nsteps);
	}
	put_type(own, Py_TYPE(chain[n - 1]));
	step_end(own, &t->paths, &nsteps);
	memcpy(t->paths.v + at + 8, &nsteps, 4);
	t->npaths++;
}

/* --- the analysis ------------------------------------------------------ */

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->c != y->c)
		return (uintptr_t)x->c < (uintptr_t)y->c ? -1 : 1;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

int owners_analyze(struct owners *own, const struct walk_view *v,
		   PyObject *const *objs, const uint32_t *par, size_t n,
		   size_t nmod, bool roots_list)
{
	uint32_t outside[MUPPY_OWNERS_TYPES_MAX];
	size_t i, j, m;
	int r;

	own->view = v;
	own->objs = objs;
	own->par = par;
	own->n = n;
	r = extra_pass(own);
	if (r < 0)
		return r;
	for (i = 0; i < own->nedges && !own->failed; i = j) {
		for (j = i + 1; j < own->nedges &&
		     own->edges[j].holder == own->edges[i].holder; j++)
			;
		name_run(own, own->edges + i, j - i);
	}
	for (int k = 0; k < own->ntargets; k++) {
		own->nb.len = 0;
		put(own, "outside the object graph");
		outside[k] = group_id(own, (uint32_t)k);
	}
	if (own->failed)
		return -ENOMEM;
	qsort(own->edges, own->nedges, sizeof(*own->edges), cmp_edge_c);
	for (i = 0; i < n && !own->failed; i++) {
		PyObject *c = objs[i];
		int k = owners_target(own, Py_TYPE(c));
		struct target *t;
		uint64_t size, refs;

		if (k < 0)
			continue;
		t = &own->tg[k];
		size = v->size(v->w, c);
		t->count++;
		t->bytes += size == UINT64_MAX ? 0 : size;
		if (i >= nmod)
			t->unreachable++;
		else if (t->npaths < own->want_paths)
			add_path(own, t, (uint32_t)i);
		refs = refcount(own, c);
		if (refs != UINT64_MAX && v->counted(v->w, c))
			refs--;
		if (!roots_list && refs > edges_into(own, c))
			member(own, c, (uint32_t)k, outside[k]);
	}
	if (own->failed)
		return -ENOMEM;
	/* a target once per group; shared: in two or more */
	qsort(own->mem, own->nmem, sizeof(*own->mem), cmp_member);
	for (i = m = 0; i < own->nmem; i++) {
		if (m && own->mem[m - 1].c == own->mem[i].c &&
		    own->mem[m - 1].gid == own->mem[i].gid)
			continue;
		if (m && own->mem[m - 1].c == own->mem[i].c &&
		    (m < 2 || own->mem[m - 2].c != own->mem[i].c))
			own->tg[own->mem[i].k].shared++;
		own->mem[m++] = own->mem[i];
	}
	own->nmem = m;
	pmem_free(own->edges, own->edges_cap * sizeof(*own->edges));
	own->edges = NULL;
	own->nedges = own->edges_cap = 0;
	own->objs = NULL;
	own->par = NULL;
	return 0;
}

void owners_later(struct owners *own, PyObject *o, uint64_t size)
{
	size_t lo = 0, hi = own->nmem;
	int k = owners_target(own, Py_TYPE(o));

	if (k >= 0)
		own->tg[k].bytes += size;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)own->mem[mid].c < (uintptr_t)o)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < own->nmem && own->mem[lo].c == o; lo++)
		own->mem[lo].size = size;
}

static const struct owners *sort_own;

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = &sort_own->groups[*(const uint32_t *)a];
	const struct group *y = &sort_own->groups[*(const uint32_t *)b];
	int c;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(sort_own->gnames.v + x->off, sort_own->gnames.v + y->off,
		   x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

int owners_put(struct owners *own, struct sbuf *out)
{
	uint32_t *order;
	size_t norder = 0;
	bool ok = true;

	for (size_t i = 0; i < own->nmem; i++) {
		struct group *g = &own->groups[own->mem[i].gid];

		g->count++;
		if (own->mem[i].size != UINT64_MAX)
			g->bytes += own->mem[i].size;
	}
	order = pmem_alloc((own->ngroups + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (int k = 0; ok && k < own->ntargets; k++) {
		struct target *t = &own->tg[k];
		struct muppy_owners_rec rec = {
			.count = t->count, .bytes = t->bytes,
			.shared = t->shared, .unreachable = t->unreachable,
			.npaths = t->npaths,
		};

		norder = 0;
		for (size_t g = 0; g < own->ngroups; g++)
			if (own->groups[g].k == (uint32_t)k &&
			    own->groups[g].count &&
			    norder < MUPPY_OWNERS_HOLDERS_MAX)
				order[norder++] = (uint32_t)g;
		sort_own = own;
		qsort(order, norder, sizeof(*order), cmp_group);
		rec.nholders = (uint32_t)norder;
		ok = sbuf_put(out, &rec, sizeof(rec));
		for (size_t i = 0; ok && i < norder; i++) {
			const struct group *g = &own->groups[order[i]];

			ok = sbuf_put(out, &g->count, 8) &&
			     sbuf_put(out, &g->bytes, 8) &&
			     sbuf_put(out, &g->len, 4) &&
			     sbuf_put(out, own->gnames.v + g->off, g->len);
		}
		if (ok)
			ok = sbuf_put(out, t->paths.v, t->paths.len);
	}
	pmem_free(order, (own->ngroups + 1) * sizeof(*order));
	return ok ? own->ntargets : -ENOMEM;
}
