/* SPDX-License-Identifier: MIT */
/*
 * Who holds the objects of the types muppy-snap asked for (--owners; the
 * rules are in the OWNERS section of muppy-snap(1)).
 *
 * The walk (walk.c) goes breadth first from the modules of sys.modules,
 * keeps every object that can refer to others with the index of the one
 * that reached it first, tells whether each object is referred to once
 * or more, and reports here every object of a type asked for (a target)
 * and every reference to one (an edge: holder index, target).  Then,
 * still holding the interpreter and before anything can run Python code:
 *   1. each holder that is a container is placed: whose __dict__ it is,
 *      and its one referrer if it has one (from the walk's bits and
 *      order; one more pass over the objects for those they cannot
 *      tell);
 *   2. each run of edges from one holder makes memberships of named
 *      groups (a dict is read entry by entry; ownname.c names);
 *   3. a target referred to more often than the edges into it say is
 *      also held from outside the object graph;
 *   4. the first targets the walk reached from a module get a path.
 * Memberships are sorted by target, so that a target counts once per
 * group; the sizes of targets with a Python __sizeof__ come after the
 * walk (owners_later).  The bookkeeping is mmap-backed (pmem); the only
 * objects made are the temporary ones of names.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "owners.h"

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
	PyObject *d = m && api->PyType_IsSubtype(Py_TYPE(m),
						 api->PyModule_Type) ?
		      api->PyModule_GetDict(m) : NULL;
	PyObject *v = d ? api->PyDict_GetItemString(d, name) : NULL;

	api->PyErr_Clear();
	return v;
}

static void parse_names(struct owners *own, const struct muppy_owners_req *req)
{
	size_t off = 0;

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
}

/* The modules of sys.modules, and their dicts sorted for lookups. */
static int find_modules(struct owners *own)
{
	const struct pyapi *api = own->api;
	PyObject *mods = api->PyImport_GetModuleDict(), *k, *v;
	Py_ssize_t pos = 0;

	while (mods && api->PyDict_Next(mods, &pos, &k, &v)) {
		if (!api->PyType_IsSubtype(Py_TYPE(v), api->PyModule_Type))
			continue;
		if (!grow((void **)&own->mods, &own->mods_cap, own->nmods,
			  sizeof(*own->mods)))
			return -ENOMEM;
		own->mods[own->nmods++] = v;
	}
	own->moddicts = pmem_alloc((own->nmods + 1) * sizeof(*own->moddicts));
	if (!own->moddicts)
		return -ENOMEM;
	for (size_t i = 0; i < own->nmods; i++) {
		own->moddicts[i].mod = own->mods[i];
		own->moddicts[i].dict = api->PyModule_GetDict(own->mods[i]);
	}
	api->PyErr_Clear();
	psort_by_addr(own->moddicts, own->nmods, sizeof(*own->moddicts),
		      offsetof(struct moddict, dict));
	v = mods ? module_dict_item(api, mods, "_collections", "deque") : NULL;
	if (v && (Py_TYPE(v)->tp_flags & Py_TPFLAGS_TYPE_SUBCLASS))
		own->deque = (PyTypeObject *)v;
	return 0;
}

struct owners *owners_open(const struct pyapi *api, const struct layout *lay,
			   const struct muppy_owners_req *req, bool here,
			   bool *nomem)
{
	struct owners *own;

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
	own->frame_edge = own_frame_edge;
	own->minor = lay->minor;
	own->here = here;
	own->want_paths = req->paths > MUPPY_OWNERS_PATHS_MAX ?
			  MUPPY_OWNERS_PATHS_MAX : req->paths;
	parse_names(own, req);
	if (find_modules(own) < 0) {
		*nomem = true;
		owners_close(own);
		return NULL;
	}
	return own;
}

void owners_close(struct owners *own)
{
	if (!own)
		return;
	for (int i = 0; i < own->ntargets; i++)
		sbuf_free(&own->tg[i].paths);
	pmem_free(own->mods, own->mods_cap * sizeof(*own->mods));
	pmem_free(own->moddicts, (own->nmods + 1) * sizeof(*own->moddicts));
	pmem_free(own->edges, own->edges_cap * sizeof(*own->edges));
	pmem_free(own->found, own->found_cap * sizeof(*own->found));
	pmem_free(own->dn, own->dn_cap * sizeof(*own->dn));
	pmem_free(own->mem, own->mem_cap * sizeof(*own->mem));
	pmem_free(own->groups, own->groups_cap * sizeof(*own->groups));
	pmem_free(own->gindex, own->gindex_cap * sizeof(*own->gindex));
	pmem_free(own->hold, own->hold_cap * sizeof(*own->hold));
	pmem_free(own->frefs, own->frefs_cap * sizeof(*own->frefs));
	pmem_free(own->fh, own->fh_cap * sizeof(*own->fh));
	own_frames_free(own);
	sbuf_free(&own->fnames);
	pmem_free(own->chain, MUPPY_OWNERS_STEPS_MAX * sizeof(*own->chain));
	sbuf_free(&own->gnames);
	sbuf_free(&own->nb);
	sbuf_free(&own->tnames);
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
	pmem_ahead(own->edges, own->nedges * sizeof(*own->edges),
		   sizeof(*own->edges), own->edges_cap * sizeof(*own->edges));
	return 0;
}

int owners_object(struct owners *own, PyObject *o, int k, uint64_t size,
		  uint32_t index, bool leaf, bool from_modules)
{
	struct target *t = &own->tg[k];

	if (!grow((void **)&own->found, &own->found_cap, own->nfound,
		  sizeof(*own->found)))
		return -ENOMEM;
	own->found[own->nfound++] = (struct tobj){ o, size };
	pmem_ahead(own->found, own->nfound * sizeof(*own->found),
		   sizeof(*own->found), own->found_cap * sizeof(*own->found));
	t->count++;
	if (size != UINT64_MAX)
		t->bytes += size;
	if (!from_modules) {
		t->unreachable++;
		return 0;
	}
	if (t->nsamples < own->want_paths && index != NONE)
		t->samples[t->nsamples++] = (struct sample){
			.idx = index, .leaf = leaf ? o : NULL };
	return 0;
}

/* --- groups and memberships ----------------------------------------------- */

static uint32_t hash_name(uint32_t k, const char *s, size_t len)
{
	uint32_t h = 2166136261u ^ k;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static bool grow_gindex(struct owners *own)
{
	size_t cap = own->gindex_cap ? own->gindex_cap * 2 : 256, j;
	uint32_t *t = pmem_alloc(cap * sizeof(*t));

	if (!t)
		return false;
	memset(t, 0, cap * sizeof(*t));
	for (size_t g = 0; g < own->ngroups; g++) {
		const struct group *gr = &own->groups[g];

		for (j = hash_name(gr->k, own->gnames.v + gr->off, gr->len) &
			 (cap - 1); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = (uint32_t)g + 1;
	}
	pmem_free(own->gindex, own->gindex_cap * sizeof(*t));
	own->gindex = t;
	own->gindex_cap = cap;
	return true;
}

/* The group named own->nb for targets of kind k; NONE on ENOMEM. */
static uint32_t group_id(struct owners *own, uint32_t k)
{
	const char *name = own->nb.v;
	size_t len = own->nb.len, j;

	if (own->failed)
		return NONE;
	if ((own->ngroups + 1) * 2 > own->gindex_cap && !grow_gindex(own))
		return NONE;
	for (j = hash_name(k, name, len) & (own->gindex_cap - 1);
	     own->gindex[j]; j = (j + 1) & (own->gindex_cap - 1)) {
		const struct group *gr = &own->groups[own->gindex[j] - 1];

		if (gr->k == k && gr->len == len &&
		    memcmp(own->gnames.v + gr->off, name, len) == 0)
			return own->gindex[j] - 1;
	}
	if (!grow((void **)&own->groups, &own->groups_cap, own->ngroups,
		  sizeof(*own->groups)) ||
	    own->gnames.len + len > UINT32_MAX)
		return NONE;
	own->groups[own->ngroups] = (struct group){
		.k = k, .off = (uint32_t)own->gnames.len, .len = (uint32_t)len,
	};
	if (!sbuf_put(&own->gnames, name, len))
		return NONE;
	own->gindex[j] = (uint32_t)own->ngroups + 1;
	return (uint32_t)own->ngroups++;
}

static void member(struct owners *own, PyObject *c, uint32_t gid)
{
	if (gid == NONE || !grow((void **)&own->mem, &own->mem_cap, own->nmem,
				 sizeof(*own->mem))) {
		own->failed = true;
		return;
	}
	own->mem[own->nmem].c = c;
	own->mem[own->nmem].gid = gid;
	own->nmem++;
	pmem_ahead(own->mem, own->nmem * sizeof(*own->mem),
		   sizeof(*own->mem), own->mem_cap * sizeof(*own->mem));
}

static int target_kind(const struct owners *own, PyObject *c)
{
	return c ? owners_target(own, Py_TYPE(c)) : -1;
}

/* --- placing the holders ---------------------------------------------------- */

static struct hinfo *hold_find(const struct owners *own, PyObject *p)
{
	if (!own->hold_cap)
		return NULL;
	for (size_t j = owners_hash((uintptr_t)p) & (own->hold_cap - 1);
	     own->hold[j].p; j = (j + 1) & (own->hold_cap - 1))
		if (own->hold[j].p == p)
			return &own->hold[j];
	return NULL;
}

static int hold_add(struct owners *own, PyObject *p)
{
	size_t j;

	if ((own->nhold + 1) * 2 > own->hold_cap) {
		size_t cap = own->hold_cap ? own->hold_cap * 2 : 256;
		struct hinfo *t = pmem_alloc(cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t, 0, cap * sizeof(*t));
		for (size_t i = 0; i < own->hold_cap; i++) {
			if (!own->hold[i].p)
				continue;
			for (j = owners_hash((uintptr_t)own->hold[i].p) &
				 (cap - 1); t[j].p; j = (j + 1) & (cap - 1))
				;
			t[j] = own->hold[i];
		}
		pmem_free(own->hold, own->hold_cap * sizeof(*t));
		own->hold = t;
		own->hold_cap = cap;
	}
	for (j = owners_hash((uintptr_t)p) & (own->hold_cap - 1);
	     own->hold[j].p; j = (j + 1) & (own->hold_cap - 1))
		if (own->hold[j].p == p)
			return 0;
	own->hold[j] = (struct hinfo){ p, 0, NONE, NULL };
	own->nhold++;
	return 0;
}

static bool names_holder(struct owners *own, PyObject *p)
{
	switch (own_kind(own, p)) {
	case K_DICT: case K_LIST: case K_TUPLE: case K_SET: case K_DEQUE:
	case K_CELL:
		return true;
	default:
		return false;
	}
}

/*
 * The holder at index h, placed from what the walk knows: its referrer
 * when exactly one reference leads to it and the walk came that way,
 * whose __dict__ it is from sys.modules and from what reached it.  False
 * when only a pass over all the objects can tell: a root referred to
 * once, or a dict with several referrers that none of those owns.
 */
static bool place(struct owners *own, uint32_t h, struct hinfo *hi)
{
	PyObject *p = own->objs[h];
	int refs = own->view->refs(own->view->w, p);

	hi->p = p;
	hi->refs = (uint32_t)refs;
	hi->ref = refs == 1 ? own->par[h] : NONE;
	hi->ns = own_kind(own, p) == K_DICT ? own_ns_by_parent(own, h) : NULL;
	if (refs == 1 && hi->ref == NONE)
		return false;
	return !(refs > 1 && !hi->ns && own_kind(own, p) == K_DICT);
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
	if (h->refs++ == 0)
		h->ref = x->q;
	if (o == x->qdict)
		h->ns = x->own->objs[x->q];
	return 0;
}

/* For the holders place() cannot tell: every reference into them. */
static int place_by_pass(struct owners *own)
{
	struct pass_ctx x = { .own = own };
	struct hinfo hi;

	for (size_t i = 0; i < own->nedges; i++) {
		uint32_t h = own->edges[i].holder;

		if ((i == 0 || own->edges[i - 1].holder != h) &&
		    names_holder(own, own->objs[h]) && !place(own, h, &hi) &&
		    hold_add(own, own->objs[h]) < 0)
			return -ENOMEM;
	}
	if (!own->nhold)
		return 0;
	for (size_t i = 0; i < own->n; i++) {
		PyObject *q = own->objs[i];

		x.q = (uint32_t)i;
		switch (own_kind(own, q)) {
		case K_MODULE:
			x.qdict = own->api->PyModule_GetDict(q);
			break;
		case K_TYPE:
			x.qdict = ((PyTypeObject *)q)->tp_dict;
			break;
		case K_CELL:
			x.qdict = NULL;
			break;
		default:
			x.qdict = own_dict_of(own, q);
		}
		own->view->traverse(own->view->w, q, pass_visit, &x);
	}
	own->api->PyErr_Clear();
	return 0;
}

static void holder_info(struct owners *own, uint32_t h, struct hinfo *hi)
{
	const struct hinfo *found = hold_find(own, own->objs[h]);

	if (found)
		*hi = *found;
	else
		place(own, h, hi);
}

static uint64_t refcount(const struct owners *own, PyObject *o);

/* " of U" for a holder placed in hi: when one reference leads to it,
 * from an object of the graph or from a local of a thread's frame. */
static void put_of(struct owners *own, const struct hinfo *hi)
{
	size_t at = own->nb.len;

	if (hi->refs == 1 && hi->ref != NONE) {
		own_put(own, " of ");
		own_put_up(own, hi->ref, hi->p);
	} else if (hi->refs == 0 &&
		   refcount(own, hi->p) ==
		   (own->view->counted(own->view->w, hi->p) ? 2u : 1u)) {
		own_put(own, " of ");
		if (!own_frame_root(own, hi->p))
			own->nb.len = at;
	}
}

/* " 'VAR' of function F" for a cell placed in hi, when its one
 * reference is from a closure tuple that a function alone holds. */
static bool closure_of(struct owners *own, const struct hinfo *hi)
{
	uint32_t q = hi->ref;
	PyObject *tuple;

	if (hi->refs != 1 || q == NONE)
		return false;
	tuple = own->objs[q];
	if (own_kind(own, tuple) != K_TUPLE ||
	    own->view->refs(own->view->w, tuple) != 1 || own->par[q] == NONE)
		return false;
	return own_closure_name(own, own->objs[own->par[q]], tuple, hi->p);
}

/* --- naming the edges --------------------------------------------------- */

/* A dict holder: its entries, one group per key in a namespace. */
static void name_dict(struct owners *own, const struct hinfo *hi)
{
	PyObject *p = hi->p, *k, *v;
	uint32_t gv[MUPPY_OWNERS_TYPES_MAX], gk[MUPPY_OWNERS_TYPES_MAX];
	Py_ssize_t pos = 0;
	int tk;

	for (int i = 0; i < own->ntargets; i++)
		gv[i] = gk[i] = NONE;
	while (!own->failed && own->api->PyDict_Next(p, &pos, &k, &v)) {
		if ((tk = target_kind(own, v)) >= 0) {
			own->nb.len = 0;
			if (hi->ns && own_is_str(own, k)) {
				own_put_ns(own, hi->ns);
				own_put_str(own, k);
				member(own, v, group_id(own, (uint32_t)tk));
			} else {
				if (gv[tk] == NONE) {
					own_put_type(own, Py_TYPE(p));
					own_put(own, " values");
					put_of(own, hi);
					gv[tk] = group_id(own, (uint32_t)tk);
				}
				member(own, v, gv[tk]);
			}
		}
		if ((tk = target_kind(own, k)) >= 0) {
			if (gk[tk] == NONE) {
				own->nb.len = 0;
				own_put_type(own, Py_TYPE(p));
				own_put(own, " keys");
				put_of(own, hi);
				gk[tk] = group_id(own, (uint32_t)tk);
			}
			member(own, k, gk[tk]);
		}
	}
}

/* The edges e[0..n) all come from the object at index h. */
static void name_run(struct owners *own, const struct edge *e, size_t n)
{
	uint32_t h = e[0].holder, same[MUPPY_OWNERS_TYPES_MAX];
	PyObject *p = own->objs[h];
	enum kind kp = own_kind(own, p);
	bool heap = Py_TYPE(p)->tp_flags & Py_TPFLAGS_HEAPTYPE;
	struct hinfo hi = { .p = p, .ref = NONE };

	if (names_holder(own, p))
		holder_info(own, h, &hi);
	for (int i = 0; i < own->ntargets; i++)
		same[i] = NONE;
	/* an instance's own attributes first (also of dict subclasses) */
	for (size_t i = 0; i < n && !own->failed; i++) {
		PyObject *c = e[i].c;

		own->nb.len = 0;
		if (heap && own_put_attr(own, p, c)) {
			member(own, c, group_id(own, e[i].k));
			continue;
		}
		if (kp == K_OTHER && own_frame_edge(own, p, c)) {
			member(own, c, group_id(own, e[i].k));
			continue;
		}
		if (kp == K_DICT)
			continue;
		if (same[e[i].k] == NONE) {
			own->nb.len = 0;
			switch (kp) {
			case K_LIST: case K_TUPLE: case K_SET: case K_DEQUE:
				own_put_type(own, Py_TYPE(p));
				own_put(own, " items");
				put_of(own, &hi);
				break;
			case K_CELL:
				own_put(own, "cell");
				if (!closure_of(own, &hi))
					put_of(own, &hi);
				break;
			default:
				own_put_type(own, Py_TYPE(p));
				own_put(own, " (C)");
			}
			same[e[i].k] = group_id(own, e[i].k);
		}
		member(own, c, same[e[i].k]);
	}
	if (kp == K_DICT)
		name_dict(own, &hi);
}

/* --- the analysis ------------------------------------------------------ */

/* Reference count, as sys.getrefcount() has it but for its argument;
 * UINT64_MAX for an immortal object (3.12+). */
static uint64_t refcount(const struct owners *own, PyObject *o)
{
	int64_t v;

	memcpy(&v, o, sizeof(v));
	if (own->minor >= 12) { /* the low 32 bits; negative: immortal */
		int32_t lo = (int32_t)(uint32_t)v;

		return lo < 0 ? UINT64_MAX : (uint64_t)lo;
	}
	return v < 0 ? 0 : (uint64_t)v;
}

/* Edges into c, the edges sorted by target. */
static uint64_t edges_into(const struct owners *own, PyObject *c)
{
	size_t first = pfind_by_addr(own->edges, own->nedges,
				     sizeof(*own->edges), (uintptr_t)c), i;

	for (i = first; i < own->nedges && own->edges[i].c == c; i++)
		;
	return i - first;
}

/* Rule 9: the targets in the threads' frame locals (ownframes.c), and
 * the references of their own (own->frefs, sorted by address). */
static void frame_holders(struct owners *own)
{
	for (size_t i = 0; i < own->nfh && !own->failed; i++) {
		const struct fhold *h = &own->fh[i];

		own->nb.len = 0;
		if (!sbuf_put(&own->nb, own->fnames.v + h->off, h->len)) {
			own->failed = true;
			break;
		}
		member(own, h->c, group_id(own, h->k));
		if (!h->strong)
			continue;
		if (!grow((void **)&own->frefs, &own->frefs_cap, own->nfrefs,
			  sizeof(*own->frefs)))
			own->failed = true;
		else
			own->frefs[own->nfrefs++] = h->c;
	}
	if (own->nfrefs)
		psort_by_addr(own->frefs, own->nfrefs, sizeof(*own->frefs), 0);
}

/* Frame references into c, own->frefs sorted by address. */
static uint64_t frefs_into(const struct owners *own, PyObject *c)
{
	size_t lo = 0, hi = own->nfrefs, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)own->frefs[mid] < (uintptr_t)c)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (first = lo; lo < own->nfrefs && own->frefs[lo] == c; lo++)
		;
	return lo - first;
}

/*
 * Rule 10: targets referred to more often than by edges and by the local
 * variables of running functions (ownframes.c).  The walk's bits count
 * up to two references, which settles reference counts of 1 and 2
 * (every edge holds a reference); only above that are the edges into a
 * target counted, sorted by target the first time.
 */
static void outside(struct owners *own, bool roots_list)
{
	uint32_t gid[MUPPY_OWNERS_TYPES_MAX];
	bool sorted = false;

	for (int k = 0; k < own->ntargets; k++) {
		own->nb.len = 0;
		own_put(own, "outside the object graph");
		gid[k] = group_id(own, (uint32_t)k);
	}
	/* with gc.get_objects()'s list, everything tracked has one more */
	for (size_t i = 0; i < own->nfound && !roots_list; i++) {
		PyObject *c = own->found[i].o;
		uint64_t refs = refcount(own, c), in, fr;

		if (refs == UINT64_MAX) /* immortal: nobody holds it */
			continue;
		if (own->view->counted(own->view->w, c))
			refs--;
		in = (uint64_t)own->view->refs(own->view->w, c);
		fr = own->nfrefs ? frefs_into(own, c) : 0;
		if (refs > 2 + fr && in == 2) {
			if (!sorted)
				psort_by_addr(own->edges, own->nedges,
					      sizeof(*own->edges),
					      offsetof(struct edge, c));
			sorted = true;
			in = edges_into(own, c);
		}
		if (refs > in + fr)
			member(own, c, gid[owners_target(own, Py_TYPE(c))]);
	}
}

/* --- the second roots ---------------------------------------------------- */

/*
 * When a type has fewer paths than asked for and objects that no module
 * reaches: a breadth-first search over the objects no module reaches
 * (the walk's "lost" bits, cleared here as the search gets to them),
 * first from the values of the threads' locals (ownframes.c), then, for
 * what those do not reach, from the objects referred to more often than
 * the objects of the graph do (held by C code or the C stack) or
 * immortal.  It stops once every type has its paths, on the walk's
 * deadline, or when its memory (12 bytes an object it got to that can
 * refer to others or is a target) cannot be had: then there are only
 * the paths found.
 */

struct deep {
	struct owners *own;
	uint32_t cur;
	uint64_t visits;
	bool full;              /* out of memory or time */
};

/* Samples still wanted, of all types. */
static uint32_t deep_wanted(const struct owners *own)
{
	uint32_t n = 0;

	for (int k = 0; k < own->ntargets; k++)
		if (own->tg[k].unreachable &&
		    own->tg[k].nsamples < own->want_paths)
			n += own->want_paths - own->tg[k].nsamples;
	return n;
}

/* o, just taken, joins the search from node parent; 1 once no more
 * samples are wanted (which stops a traversal). */
static int deep_add(struct deep *d, PyObject *o, uint32_t parent)
{
	struct owners *own = d->own;
	int k = owners_target(own, Py_TYPE(o));
	struct target *t;

	if (!grow((void **)&own->dn, &own->dn_cap, own->ndn,
		  sizeof(*own->dn)) || own->ndn >= NONE) {
		d->full = true;
		return 1;
	}
	own->dn[own->ndn] = (struct dnode){ o, parent };
	if (k >= 0 && (t = &own->tg[k])->nsamples < own->want_paths)
		t->samples[t->nsamples++] = (struct sample){
			.idx = (uint32_t)own->ndn, .deep = true };
	own->ndn++;
	return deep_wanted(own) ? 0 : 1;
}

static int deep_visit(PyObject *o, void *arg)
{
	struct deep *d = arg;

	/* an object that refers to nothing leads nowhere: only a target
	 * is worth a node */
	if (!o || (!(Py_TYPE(o)->tp_flags & Py_TPFLAGS_HAVE_GC) &&
		   owners_target(d->own, Py_TYPE(o)) < 0) ||
	    !d->own->view->take_lost(d->own->view->w, o))
		return 0;
	return deep_add(d, o, d->cur);
}

/* Goes on breadth first from node *at. */
static void deep_bfs(struct deep *d, size_t *at)
{
	struct owners *own = d->own;

	for (; *at < own->ndn && !d->full && deep_wanted(own); (*at)++) {
		if ((++d->visits & 0xffff) == 0 && own->view->stop &&
		    own->view->stop()) {
			d->full = true;
			break;
		}
		d->cur = (uint32_t)*at;
		own->view->traverse(own->view->w, own->dn[*at].o, deep_visit,
				    d);
	}
}

/* Held from outside the graph: a reference count above the references
 * from objects of the graph (the walk's bits: none, one, or more, then
 * counted by a pass; out of memory, "more" are not roots). */
static bool held_outside(struct owners *own, PyObject *o)
{
	uint64_t refs = refcount(own, o);
	int in;

	if (refs == UINT64_MAX)
		return true;
	if (own->view->counted(own->view->w, o))
		refs--;
	in = own->view->refs(own->view->w, o);
	return in < 2 ? refs > (uint64_t)in : false;
}

static void deep_paths(struct owners *own)
{
	struct deep d = { .own = own };
	size_t at = 0;

	if (!own->deep_ok || !deep_wanted(own))
		return;
	/* the threads' locals */
	for (size_t i = 0; !d.full && i < own_frame_nslots(own); i++) {
		PyObject *o = own_frame_slot(own, i);

		if (own->view->take_lost(own->view->w, o) &&
		    deep_add(&d, o, NONE))
			break;
	}
	deep_bfs(&d, &at);
	/* then from all that is held from outside at once: the objects of
	 * the queue, and the targets that are in none */
	for (size_t i = own->nmod; i < own->n && !d.full && deep_wanted(own);
	     i++) {
		PyObject *o = own->objs[i];

		if (held_outside(own, o) &&
		    own->view->take_lost(own->view->w, o))
			deep_add(&d, o, NONE);
	}
	for (size_t i = 0; i < own->nfound && !d.full && deep_wanted(own);
	     i++) {
		PyObject *o = own->found[i].o;

		if (held_outside(own, o) &&
		    own->view->take_lost(own->view->w, o))
			deep_add(&d, o, NONE);
	}
	deep_bfs(&d, &at);
	own->api->PyErr_Clear();
}

/* The first step of a path from a second root: the thread's local or
 * "outside the object graph"; none for a running frame of the graph
 * (3.6-3.10), whose edge to the next names the local. */
static void root_step(struct owners *own, PyObject *const *chain, size_t n,
		      struct sbuf *b, uint32_t *nsteps)
{
	if (n > 1 && own_frame_running(own, chain[0]))
		return;
	if (!own_frame_root(own, chain[0])) {
		own->nb.len = 0;
		own_put(own, "outside the object graph");
	}
	own_step_end(own, b, nsteps);
}

static void paths(struct owners *own)
{
	if (!own->chain) {
		own->chain = pmem_alloc(MUPPY_OWNERS_STEPS_MAX *
					sizeof(*own->chain));
		if (!own->chain) {
			own->failed = true;
			return;
		}
	}
	for (int k = 0; k < own->ntargets && !own->failed; k++) {
		struct target *t = &own->tg[k];

		for (uint32_t s = 0; s < t->nsamples && !own->failed; s++) {
			PyObject **chain = own->chain;
			size_t n = 0, at = t->paths.len;
			uint64_t id;
			uint32_t nsteps = 0;

			if (t->samples[s].leaf)
				chain[n++] = t->samples[s].leaf;
			for (uint32_t j = t->samples[s].idx;
			     j != NONE && n < MUPPY_OWNERS_STEPS_MAX;
			     j = t->samples[s].deep ? own->dn[j].parent :
						      own->par[j])
				chain[n++] = t->samples[s].deep ?
					     own->dn[j].o : own->objs[j];
			if (n < (t->samples[s].deep ? 1u : 2u) ||
			    n == MUPPY_OWNERS_STEPS_MAX ||
			    own->steps + n + 1 > MUPPY_OWNERS_ALL_STEPS_MAX)
				continue;
			for (size_t a = 0, b = n - 1; a < b; a++, b--) {
				PyObject *o = chain[a];

				chain[a] = chain[b];
				chain[b] = o;
			}
			id = (uint64_t)(uintptr_t)chain[n - 1];
			if (!sbuf_put(&t->paths, &id, 8) ||
			    !sbuf_put(&t->paths, &nsteps, 4)) {
				own->failed = true;
				break;
			}
			own->nb.len = 0;
			if (t->samples[s].deep)
				root_step(own, chain, n, &t->paths, &nsteps);
			nsteps += own_put_path(own, chain, n, &t->paths);
			memcpy(t->paths.v + at + 8, &nsteps, 4);
			own->steps += nsteps;
			t->npaths++;
		}
	}
}

int owners_analyze(struct owners *own, const struct walk_view *v,
		   PyObject *const *objs, const uint32_t *par, size_t n,
		   size_t nmod,
		   bool roots_list)
{
	size_t i, j, m;

	own->view = v;
	own->objs = objs;
	own->par = par;
	own->n = n;
	own->nmod = nmod;
	if (place_by_pass(own) < 0)
		return -ENOMEM;
	own->deep_ok = !roots_list;
	/* by address: for the frames, owners_later() and the sums */
	psort_by_addr(own->found, own->nfound, sizeof(*own->found),
		      offsetof(struct tobj, o));
	own_frames(own);
	for (i = 0; i < own->nedges && !own->failed; i = j) {
		for (j = i + 1; j < own->nedges &&
		     own->edges[j].holder == own->edges[i].holder; j++)
			;
		name_run(own, own->edges + i, j - i);
	}
	deep_paths(own);
	paths(own);
	if (!own->failed)
		frame_holders(own);
	if (!own->failed)
		outside(own, roots_list);
	if (own->failed)
		return -ENOMEM;
	/* a target once per group; shared: in two or more */
	psort_by_addr(own->mem, own->nmem, sizeof(*own->mem),
		      offsetof(struct member, c));
	for (i = m = 0; i < own->nmem; i = j) {
		size_t first = m;

		for (j = i; j < own->nmem && own->mem[j].c == own->mem[i].c;
		     j++) {
			size_t d;

			for (d = first; d < m &&
			     own->mem[d].gid != own->mem[j].gid; d++)
				;
			if (d == m)
				own->mem[m++] = own->mem[j];
		}
		if (m - first > 1)
			own->tg[own->groups[own->mem[first].gid].k].shared++;
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
	int k = owners_target(own, Py_TYPE(o));
	size_t lo;

	if (k < 0)
		return;
	lo = pfind_by_addr(own->found, own->nfound, sizeof(*own->found),
			   (uintptr_t)o); /* sorted by owners_analyze() */
	if (lo < own->nfound && own->found[lo].o == o &&
	    own->found[lo].size == UINT64_MAX) {
		own->found[lo].size = size;
		own->tg[k].bytes += size;
	}
}

/* --- the reply --------------------------------------------------------- */

static int cmp_group(const void *a, const void *b, void *ctx)
{
	const struct owners *sort_own = ctx;
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

/* Memberships and objects are both sorted by address. */
static void sum_groups(struct owners *own)
{
	size_t t = 0;

	for (size_t i = 0; i < own->nmem; i++) {
		struct group *g = &own->groups[own->mem[i].gid];
		PyObject *c = own->mem[i].c;

		while (t < own->nfound &&
		       (uintptr_t)own->found[t].o < (uintptr_t)c)
			t++;
		g->count++;
		if (t < own->nfound && own->found[t].o == c &&
		    own->found[t].size != UINT64_MAX)
			g->bytes += own->found[t].size;
	}
}

static bool put_section(struct owners *own, int k, uint32_t *order,
			struct sbuf *out)
{
	struct target *t = &own->tg[k];
	struct muppy_owners_rec rec = {
		.count = t->count, .bytes = t->bytes, .shared = t->shared,
		.unreachable = t->unreachable, .npaths = t->npaths,
	};
	size_t norder = 0;
	bool ok;

	for (size_t g = 0; g < own->ngroups; g++)
		if (own->groups[g].k == (uint32_t)k && own->groups[g].count &&
		    norder < MUPPY_OWNERS_HOLDERS_MAX)
			order[norder++] = (uint32_t)g;
	psort(order, norder, sizeof(*order), cmp_group, own);
	rec.nholders = (uint32_t)norder;
	ok = sbuf_put(out, &rec, sizeof(rec));
	for (size_t i = 0; ok && i < norder; i++) {
		const struct group *g = &own->groups[order[i]];

		ok = sbuf_put(out, &g->count, 8) &&
		     sbuf_put(out, &g->bytes, 8) &&
		     sbuf_put(out, &g->len, 4) &&
		     sbuf_put(out, own->gnames.v + g->off, g->len);
	}
	return ok && sbuf_put(out, t->paths.v, t->paths.len);
}

int owners_put(struct owners *own, struct sbuf *out)
{
	uint32_t *order = pmem_alloc((own->ngroups + 1) * sizeof(*order));
	bool ok = order != NULL;

	sum_groups(own);
	for (int k = 0; ok && k < own->ntargets; k++)
		ok = put_section(own, k, order, out);
	pmem_free(order, (own->ngroups + 1) * sizeof(*order));
	return ok ? own->ntargets : -ENOMEM;
}
