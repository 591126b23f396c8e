/* SPDX-License-Identifier: MIT */
/*
 * The heap walk: every object the garbage collector tracks, plus everything
 * reachable from them through tp_traverse, each counted once.
 *
 * "Seen" is one bit per 16-byte granule of address space: every object is
 * at least 16 bytes (refcount and type), so no two objects start in the
 * same granule.  Bits live in 8 KiB bitmaps, one per 1 MiB of address
 * space that holds objects, found through a small open-addressing table
 * with the last hit cached.
 *
 * Sizes are sys.getsizeof's, mostly without calling it (sizeof.c).  Where
 * a type's __sizeof__ is written in Python, calling it could run arbitrary
 * code in the middle of the walk, so such objects are held (a strong
 * reference) and sized after the walk.
 *
 * Per type, a row of the result and what the walk needs to know about
 * its objects (struct tinfo, in a parallel array) are found through a
 * small direct-mapped cache in front of an open-addressing table.
 *
 * With owners asked for (owners.c), the walk is breadth-first from the
 * modules of sys.modules, then from the collector's objects: every object
 * that can refer to others stays in the queue with the index of the one
 * that reached it first (the others are counted when first reached),
 * every reference to an object of a type asked for is reported, and
 * two more bits a granule tell objects referred to once from the rest.
 */
#include <errno.h>
#include <string.h>

#include "payload.h"
#include "sizeof.h"

#define CHUNK_SHIFT 20                       /* 1 MiB of address space */
#define GRANULE_SHIFT 4                      /* 16 bytes */
#define BITMAP_BYTES ((1u << (CHUNK_SHIFT - GRANULE_SHIFT)) / 8)
#define SLAB_BITMAPS 64
#define TCACHE 256                           /* type cache entries */

/*
 * Per chunk, the seen bits, a byte for 8 granules.  In owners mode each
 * such byte is followed by three more: "once" and "more", the references
 * into the object seen: none without either bit (a root), one with once,
 * more with both; and "lost", set for an object no module reaches,
 * cleared by owners.c's search from the second roots as it gets there.
 */
struct chunk {
	uintptr_t key; /* address >> CHUNK_SHIFT, plus one; 0 = empty */
	uint8_t *bits;
};

struct ptr_stack {
	PyObject **v;
	size_t n, cap;
};

/* Per type, beside its row in the result. */
struct tinfo {
	struct type_size size;
	traverseproc trav;   /* NULL: its objects are never traversed */
	inquiry is_gc;       /* tp_is_gc, asked per object when set */
};

struct tcache {
	PyTypeObject *type;
	size_t row;
};

struct walk {
	const struct pyapi *api;
	struct chunk *chunks;
	size_t nchunks, chunk_cap;  /* cap is a power of two */
	struct chunk *last;
	uint8_t **slabs;            /* bitmap slabs, for freeing */
	size_t nslabs, slab_cap, slab_used;
	struct ptr_stack todo;      /* seen, not yet traversed */
	struct ptr_stack later;     /* held until they can be sized, each
				       followed by its row */
	size_t *type_index;         /* open addressing: type -> stats + 1 */
	size_t type_cap;
	struct tinfo *info;         /* beside res->stats */
	size_t info_cap;
	struct tcache tcache[TCACHE];
	struct sizer sizer;
	struct walk_result *res;
	bool failed;
	/* owners mode: todo is a queue that keeps everything */
	struct owners *own;
	uint32_t *par;              /* beside todo.v: who reached it */
	size_t par_cap;
	size_t head;                /* next in todo to walk */
	uint32_t cur;               /* index of the object walked now */
	bool from_modules;          /* walking what modules reach */
	bool (*stop)(void);         /* asked every 65536 objects walked */
	uint64_t walked;
	unsigned stride;            /* bytes of bits a byte of seen bits */
};

#define NO_PARENT UINT32_MAX

static size_t hash_ptr(uintptr_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v;
}

static int push(struct ptr_stack *s, PyObject *o)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		PyObject **v = pmem_realloc(s->v, s->cap * sizeof(*v),
					    cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = o;
	pmem_ahead(s->v, s->n * sizeof(*s->v), sizeof(*s->v),
		   s->cap * sizeof(*s->v));
	return 0;
}

static uint8_t *new_bitmap(struct walk *w)
{
	if (w->nslabs == 0 || w->slab_used == SLAB_BITMAPS) {
		uint8_t *slab;

		if (w->nslabs == w->slab_cap) {
			size_t cap = w->slab_cap ? w->slab_cap * 2 : 64;
			uint8_t **v = pmem_realloc(w->slabs,
						   w->slab_cap * sizeof(*v),
						   cap * sizeof(*v));
			if (!v)
				return NULL;
			w->slabs = v;
			w->slab_cap = cap;
		}
		/* past the first slabs the heap is large: filled at once */
		slab = w->nslabs >= 4 ?
		       pmem_alloc_filled((size_t)SLAB_BITMAPS * BITMAP_BYTES *
					 w->stride) :
		       pmem_alloc((size_t)SLAB_BITMAPS * BITMAP_BYTES *
				  w->stride);
		if (!slab)
			return NULL;
		w->slabs[w->nslabs++] = slab;
		w->slab_used = 0;
	}
	return w->slabs[w->nslabs - 1] +
	       (size_t)BITMAP_BYTES * w->stride * w->slab_used++;
}

static int grow_chunks(struct walk *w)
{
	size_t cap = w->chunk_cap ? w->chunk_cap * 2 : 1024;
	struct chunk *t = pmem_alloc(cap * sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < w->chunk_cap; i++) {
		struct chunk *c = &w->chunks[i];
		size_t j;

		if (!c->key)
			continue;
		for (j = hash_ptr(c->key) & (cap - 1); t[j].key;
		     j = (j + 1) & (cap - 1))
			;
		t[j] = *c;
	}
	pmem_free(w->chunks, w->chunk_cap * sizeof(*t));
	w->chunks = t;
	w->chunk_cap = cap;
	w->last = NULL;
	return 0;
}

/* The chunk of key if the walk has one (the views ask of any address:
 * none is made for them). */
static struct chunk *chunk_of(struct walk *w, uintptr_t key)
{
	if (w->last && w->last->key == key)
		return w->last;
	for (size_t j = hash_ptr(key) & (w->chunk_cap - 1);
	     w->chunk_cap && w->chunks[j].key; j = (j + 1) & (w->chunk_cap - 1))
		if (w->chunks[j].key == key)
			return w->last = &w->chunks[j];
	return NULL;
}

static struct chunk *find_chunk(struct walk *w, uintptr_t key)
{
	size_t j;

	if (w->last && w->last->key == key)
		return w->last;
	if ((w->nchunks + 1) * 2 > w->chunk_cap && grow_chunks(w) < 0)
		return NULL;
	for (j = hash_ptr(key) & (w->chunk_cap - 1); w->chunks[j].key;
	     j = (j + 1) & (w->chunk_cap - 1))
		if (w->chunks[j].key == key)
			return w->last = &w->chunks[j];
	w->chunks[j].bits = new_bitmap(w);
	if (!w->chunks[j].bits)
		return NULL;
	w->chunks[j].key = key;
	w->nchunks++;
	return w->last = &w->chunks[j];
}

/* Marks o as seen; 1 if it was new, 0 if seen before, -ENOMEM. */
static int mark(struct walk *w, PyObject *o)
{
	uintptr_t a = (uintptr_t)o;
	struct chunk *c = find_chunk(w, (a >> CHUNK_SHIFT) + 1);
	size_t bit = (a & ((1u << CHUNK_SHIFT) - 1)) >> GRANULE_SHIFT;
	uint8_t m = (uint8_t)(1u << (bit & 7));

	if (!c)
		return -ENOMEM;
	if (c->bits[(bit >> 3) * w->stride] & m)
		return 0;
	c->bits[(bit >> 3) * w->stride] |= m;
	if (w->own && !w->from_modules)
		c->bits[(bit >> 3) * w->stride + 3] |= m;
	return 1;
}

static size_t row_of(struct walk *w, PyTypeObject *t);

/* owners mode: o, new, joins the queue as reached from parent. */
static int enqueue(struct walk *w, PyObject *o, uint32_t parent)
{
	if (w->todo.n >= NO_PARENT)
		return -ENOMEM; /* indexes are 32 bits */
	if (w->todo.n == w->par_cap) {
		size_t cap = w->par_cap ? w->par_cap * 2 : 4096;
		uint32_t *v = pmem_realloc(w->par, w->par_cap * sizeof(*v),
					   cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->par = v;
		w->par_cap = cap;
	}
	w->par[w->todo.n] = parent;
	pmem_ahead(w->par, (w->todo.n + 1) * sizeof(*w->par), sizeof(*w->par),
		   w->par_cap * sizeof(*w->par));
	return push(&w->todo, o);
}

/* owners mode: marks o as seen through one more reference. */
static int mark_ref(struct walk *w, PyObject *o)
{
	uintptr_t a = (uintptr_t)o;
	struct chunk *c = find_chunk(w, (a >> CHUNK_SHIFT) + 1);
	size_t bit = (a & ((1u << CHUNK_SHIFT) - 1)) >> GRANULE_SHIFT;
	uint8_t m = (uint8_t)(1u << (bit & 7));
	uint8_t *b;

	if (!c)
		return -ENOMEM;
	b = c->bits + (bit >> 3) * 4; /* seen, once, more, lost */
	b[1 + !!(b[1] & m)] |= m;
	if (b[0] & m)
		return 0;
	b[0] |= m;
	if (!w->from_modules)
		b[3] |= m;
	return 1;
}

static int walk_leaf(struct walk *w, PyObject *o, size_t row);

static inline bool traversable(const struct tinfo *ti, PyObject *o)
{
	return ti->trav && (!ti->is_gc || ti->is_gc(o));
}

static int visit_owned(PyObject *o, void *arg)
{
	struct walk *w = arg;
	int r, k;

	if (!o || w->failed)
		return 0;
	r = mark_ref(w, o);
	if (r > 0) {
		/* its type known before any reference to it is judged */
		size_t row = row_of(w, Py_TYPE(o));

		if (row == SIZE_MAX)
			r = -ENOMEM;
		else if (traversable(&w->info[row], o))
			r = enqueue(w, o, w->cur);
		else
			r = walk_leaf(w, o, row);
	}
	if (r >= 0 && (k = owners_target(w->own, Py_TYPE(o))) >= 0)
		r = owners_edge(w->own, w->cur, o, k);
	if (r < 0)
		w->failed = true;
	return 0;
}

static int visit(PyObject *o, void *arg)
{
	struct walk *w = arg;
	int r;

	if (!o || w->failed)
		return 0;
	r = mark(w, o);
	if (r > 0) {
		/* Its header is read when it is popped: start loading it. */
		__builtin_prefetch(o);
		r = push(&w->todo, o);
	}
	if (r < 0)
		w->failed = true;
	return 0;
}

static int grow_types(struct walk *w)
{
	struct walk_result *res = w->res;
	size_t cap = w->type_cap ? w->type_cap * 2 : 1024;
	size_t *t = pmem_alloc(cap * sizeof(*t));
	struct type_stat *s;
	struct tinfo *info;

	if (!t)
		return -ENOMEM;
	s = pmem_realloc(res->stats, res->stats_cap * sizeof(*s),
			 cap / 2 * sizeof(*s));
	if (s) {
		res->stats = s;
		res->stats_cap = cap / 2;
	}
	info = s ? pmem_realloc(w->info, w->info_cap * sizeof(*info),
				cap / 2 * sizeof(*info)) : NULL;
	if (!info) {
		pmem_free(t, cap * sizeof(*t));
		return -ENOMEM;
	}
	w->info = info;
	w->info_cap = cap / 2;
	for (size_t i = 0; i < res->nstats; i++) {
		size_t j = hash_ptr((uintptr_t)s[i].type) & (cap - 1);

		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = i + 1;
	}
	pmem_free(w->type_index, w->type_cap * sizeof(*t));
	w->type_index = t;
	w->type_cap = cap;
	return 0;
}

/* The slot of type t in the index: its row, or the empty slot for it. */
static size_t *type_slot(struct walk *w, PyTypeObject *t)
{
	size_t j;

	for (j = hash_ptr((uintptr_t)t) & (w->type_cap - 1); w->type_index[j];
	     j = (j + 1) & (w->type_cap - 1))
		if (w->res->stats[w->type_index[j] - 1].type == t)
			break;
	return &w->type_index[j];
}

/* A new row for type t, with how to size and traverse its objects. */
static size_t add_type(struct walk *w, PyTypeObject *t, size_t *slot)
{
	struct walk_result *res = w->res;
	struct tinfo *ti;

	if ((res->nstats + 1) * 2 > w->type_cap) {
		if (grow_types(w) < 0)
			return SIZE_MAX;
		slot = type_slot(w, t);
	}
	res->stats[res->nstats] = (struct type_stat){ .type = t };
	/* Held until the names are read: size_later() runs Python code,
	 * during which another thread could free a type no longer used. */
	w->api->Py_IncRef((PyObject *)t);
	ti = &w->info[res->nstats];
	sizer_classify(&w->sizer, t, &ti->size);
	if (w->own)
		owners_classify(w->own, t);
	ti->trav = NULL;
	ti->is_gc = NULL;
	/* Traversed only if a GC object: see PITFALLS on static types. */
	if (t->tp_flags & Py_TPFLAGS_HAVE_GC) {
		ti->trav = t->tp_traverse;
		ti->is_gc = t->tp_is_gc;
	}
	*slot = ++res->nstats;
	return res->nstats - 1;
}

/* The row of type t, added if new; SIZE_MAX on ENOMEM. */
static size_t row_of(struct walk *w, PyTypeObject *t)
{
	struct tcache *c = &w->tcache[((uintptr_t)t >> 5 ^ (uintptr_t)t >> 13) &
				      (TCACHE - 1)];
	size_t *slot;

	if (c->type == t)
		return c->row;
	slot = type_slot(w, t);
	c->row = *slot ? *slot - 1 : add_type(w, t, slot);
	c->type = c->row == SIZE_MAX ? NULL : t;
	return c->row;
}

/* Counts and sizes o, of the given row; owners mode: tells owners.c
 * about an object of a type asked for, parent being the index of what
 * reached it (itself, if it is in the queue). */
static int count(struct walk *w, PyObject *o, size_t row, uint32_t parent,
		 bool leaf)
{
	struct tinfo *ti = &w->info[row];
	uint64_t size = UINT64_MAX;
	int k;

	w->res->stats[row].count++;
	if (ti->size.kind == SK_LATER) {
		/* Python code may run to size it: hold it until then. */
		w->api->Py_IncRef(o);
		if (push(&w->later, o) < 0 ||
		    push(&w->later, (PyObject *)(uintptr_t)row) < 0) {
			w->api->Py_DecRef(o);
			return -ENOMEM;
		}
	} else {
		size = sizer_size(&w->sizer, &ti->size, o);
		w->res->stats[row].bytes += size;
	}
	if (w->own && (k = owners_target(w->own, w->res->stats[row].type)) >= 0)
		return owners_object(w->own, o, k, size, parent, leaf,
				     w->from_modules);
	return 0;
}

/* owners mode: an object that refers to nothing, when first reached. */
static int walk_leaf(struct walk *w, PyObject *o, size_t row)
{
	return count(w, o, row, w->cur, true);
}

static int walk_one(struct walk *w, PyObject *o)
{
	PyTypeObject *t = Py_TYPE(o);
	size_t row = row_of(w, t);
	struct tinfo *ti;

	if (row == SIZE_MAX || count(w, o, row, w->cur, false) < 0)
		return -ENOMEM;
	if ((++w->walked & 0xffff) == 0 && w->stop && w->stop())
		return -ETIMEDOUT;
	ti = &w->info[row];
	if (traversable(ti, o)) {
		ti->trav(o, w->own ? visit_owned : visit, w);
		if (w->failed)
			return -ENOMEM;
	}
	return 0;
}

/* Objects whose __sizeof__ is Python code, now that the walk is done. */
static void size_later(struct walk *w)
{
	/* The row was pushed with it: Python code may change o's type. */
	for (size_t i = 0; i + 1 < w->later.n; i += 2) {
		PyObject *o = w->later.v[i];
		size_t row = (size_t)(uintptr_t)w->later.v[i + 1];

		uint64_t size = sizer_slow(&w->sizer, o);

		w->res->stats[row].bytes += size;
		if (w->own && owners_target(w->own, w->res->stats[row].type) >= 0)
			owners_later(w->own, o, size);
		w->api->Py_DecRef(o);
	}
	if (w->later.n & 1) /* pushing its row failed */
		w->api->Py_DecRef(w->later.v[w->later.n - 1]);
	w->later.n = 0;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->nslabs; i++)
		pmem_free(w->slabs[i], (size_t)SLAB_BITMAPS * BITMAP_BYTES *
			  w->stride);
	pmem_free(w->slabs, w->slab_cap * sizeof(*w->slabs));
	pmem_free(w->chunks, w->chunk_cap * sizeof(*w->chunks));
	pmem_free(w->todo.v, w->todo.cap * sizeof(PyObject *));
	pmem_free(w->later.v, w->later.cap * sizeof(PyObject *));
	pmem_free(w->type_index, w->type_cap * sizeof(size_t));
	pmem_free(w->info, w->info_cap * sizeof(*w->info));
	pmem_free(w->par, w->par_cap * sizeof(*w->par));
}

/* owners mode: walks the queue, breadth first, until it is empty. */
static int drain(struct walk *w)
{
	int r = 0;

	while (r >= 0 && w->head < w->todo.n) {
		/* reached long ago: its header is no longer in the cache */
		if (w->head + 8 < w->todo.n)
			__builtin_prefetch(w->todo.v[w->head + 8]);
		w->cur = (uint32_t)w->head;
		r = walk_one(w, w->todo.v[w->head++]);
	}
	return r;
}

/* A root and everything reachable from it that is new. */
static int walk_root(struct walk *w, PyObject *o)
{
	int r = mark(w, o);

	if (r <= 0)
		return r;
	if (w->own) {
		size_t row = row_of(w, Py_TYPE(o));

		if (row == SIZE_MAX)
			return -ENOMEM;
		if (!traversable(&w->info[row], o))
			return count(w, o, row, NO_PARENT, true);
		r = enqueue(w, o, NO_PARENT);
		return r < 0 ? r : drain(w);
	}
	r = walk_one(w, o);
	while (r >= 0 && w->todo.n)
		r = walk_one(w, w->todo.v[--w->todo.n]);
	return r;
}

/* owners mode: the modules first, all of them roots at once. */
static int walk_modules(struct walk *w)
{
	PyObject **mods;
	size_t n = owners_modules(w->own, &mods);
	int r = 0;

	w->from_modules = true;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = mark(w, mods[i]);
		if (r > 0)
			r = row_of(w, Py_TYPE(mods[i])) == SIZE_MAX ? -ENOMEM :
			    enqueue(w, mods[i], NO_PARENT);
	}
	if (r >= 0)
		r = drain(w);
	w->from_modules = false;
	return r < 0 ? r : 0;
}

static uintptr_t gc_next(uintptr_t g)
{
	return GC_PTR(*(const uintptr_t *)g);
}

/*
 * The roots, in gc.get_objects()'s order.  Neither the list nor the
 * collector's lists change meanwhile: no Python code runs until
 * size_later(), automatic collection is off, and what sizing allocates
 * is gone again before the next root is read.
 */
static int walk_roots(struct walk *w, const struct gc_roots *roots)
{
	PyObject *list = roots->list;
	int r = 0;

	if (list) { /* its items through the API: no layout assumed */
		r = mark(w, list); /* not counted */
		for (Py_ssize_t i = 0; r >= 0 && i < Py_SIZE(list); i++) {
			PyObject *o = w->api->PyList_GetItem(list, i);

			r = o ? walk_root(w, o) : -EFAULT;
		}
		return r < 0 ? r : 0;
	}
	for (int k = 0; k < roots->nheads; k++) {
		uintptr_t head = roots->heads[k];

		for (uintptr_t g = gc_next(head); g != head; g = gc_next(g)) {
			__builtin_prefetch((void *)gc_next(g));
			r = walk_root(w, (PyObject *)(g + roots->hdr));
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The views of the walk that owners.c needs. */
static void view_traverse(void *arg, PyObject *o, visitproc fn, void *fnarg)
{
	struct walk *w = arg;
	size_t row = row_of(w, Py_TYPE(o));

	if (row != SIZE_MAX && traversable(&w->info[row], o))
		w->info[row].trav(o, fn, fnarg);
}

/* The walk holds a reference to o: a type with a row, or an object to
 * be sized after the walk. */
static bool view_counted(void *arg, PyObject *o)
{
	struct walk *w = arg;
	size_t row = row_of(w, Py_TYPE(o));

	if (row != SIZE_MAX && w->info[row].size.kind == SK_LATER)
		return true;
	return (Py_TYPE(o)->tp_flags & Py_TPFLAGS_TYPE_SUBCLASS) &&
	       *type_slot(w, (PyTypeObject *)o) != 0;
}

/* References into o, an object of the walk: 0, 1, or 2 for more. */
static int view_refs(void *arg, PyObject *o)
{
	struct walk *w = arg;
	uintptr_t a = (uintptr_t)o;
	struct chunk *c = chunk_of(w, (a >> CHUNK_SHIFT) + 1);
	size_t bit = (a & ((1u << CHUNK_SHIFT) - 1)) >> GRANULE_SHIFT;
	uint8_t m = (uint8_t)(1u << (bit & 7));
	const uint8_t *b;

	if (!c)
		return 0;
	b = c->bits + (bit >> 3) * 4;
	return !(b[1] & m) ? 0 : b[2] & m ? 2 : 1;
}

/* o is an object of the walk that no module reaches, not yet taken:
 * taken now. */
static bool view_take_lost(void *arg, PyObject *o)
{
	struct walk *w = arg;
	uintptr_t a = (uintptr_t)o;
	struct chunk *c = chunk_of(w, (a >> CHUNK_SHIFT) + 1);
	size_t bit = (a & ((1u << CHUNK_SHIFT) - 1)) >> GRANULE_SHIFT;
	uint8_t m = (uint8_t)(1u << (bit & 7)), *b;

	if (!c)
		return false;
	b = c->bits + (bit >> 3) * 4 + 3;
	if (!(*b & m))
		return false;
	*b &= (uint8_t)~m;
	return true;
}

/* o is an object of the walk (owners mode). */
static bool view_seen(void *arg, PyObject *o)
{
	struct walk *w = arg;
	uintptr_t a = (uintptr_t)o;
	struct chunk *c = chunk_of(w, (a >> CHUNK_SHIFT) + 1);
	size_t bit = (a & ((1u << CHUNK_SHIFT) - 1)) >> GRANULE_SHIFT;

	return c && (c->bits[(bit >> 3) * 4] & (1u << (bit & 7)));
}

int walk_heap(const struct pyapi *api, const struct layout *lay,
	      const struct gc_roots *roots, struct owners *own,
	      bool (*stop)(void), struct walk_result *res)
{
	struct walk w = { .api = api, .res = res, .own = own,
			  .stride = own ? 4 : 1, .stop = stop };
	struct walk_view view = {
		.w = &w, .traverse = view_traverse, .counted = view_counted,
		.refs = view_refs, .seen = view_seen, .stop = stop,
		.take_lost = view_take_lost,
	};
	size_t nmod;
	int r = -ENOMEM;

	memset(res, 0, sizeof(*res));
	res->api = api;
	if (sizer_init(&w.sizer, api, lay) < 0)
		return -ENOMEM;
	if (grow_types(&w) < 0)
		goto out;
	r = own ? walk_modules(&w) : 0;
	nmod = w.todo.n;
	if (r == 0)
		r = walk_roots(&w, roots);
	if (r == 0 && own)
		r = owners_analyze(own, &view, w.todo.v, w.par, w.todo.n,
				   nmod, roots->list != NULL);
out:
	size_later(&w); /* also drops the references after a failure */
	sizer_fini(&w.sizer);
	for (size_t i = 0; i < res->nstats; i++) {
		res->objects += res->stats[i].count;
		res->bytes += res->stats[i].bytes;
	}
	res->mem_peak = pmem_peak();
	walk_free(&w);
	if (r < 0)
		walk_result_free(res);
	return r;
}

void walk_result_free(struct walk_result *res)
{
	for (size_t i = 0; i < res->nstats; i++)
		res->api->Py_DecRef((PyObject *)res->stats[i].type);
	pmem_free(res->stats, res->stats_cap * sizeof(*res->stats));
	res->stats = NULL;
	res->nstats = res->stats_cap = 0;
}
