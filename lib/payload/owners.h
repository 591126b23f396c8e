/* SPDX-License-Identifier: MIT */
/*
 * Inside owners.c (what is collected and counted) and ownname.c (how a
 * reference is named); see owners.c.
 */
#ifndef MUPPY_OWNERS_H
#define MUPPY_OWNERS_H

#include "payload.h"
#include "protocol.h"

#define NONE UINT32_MAX
#define SLOTS_MAX 32            /* object slots remembered a type */
#define SLOT_CACHE 64
#define KIND_CACHE 256
#define TNAME_CACHE 512

enum kind {
	K_OTHER, K_DICT, K_LIST, K_TUPLE, K_SET, K_DEQUE, K_CELL, K_MODULE,
	K_TYPE, K_INSTANCE,
};

/* A reference from the object at BFS index holder to c. */
struct edge {
	PyObject *c;
	uint32_t holder;
	uint32_t k;             /* which type asked for */
};

/* An object of a type asked for, and its size (UINT64_MAX until
 * owners_later()). */
struct tobj {
	PyObject *o;
	uint64_t size;
};

/* c belongs to group gid. */
struct member {
	PyObject *c;
	uint32_t gid;
} __attribute__((packed));

struct group {
	uint32_t k;
	uint32_t off, len;      /* of its name in own->gnames */
	uint64_t count, bytes;
};

/* What a container that holds targets is: whose __dict__ it is, and the
 * one reference into it (refs 1), as the walk's bits and order tell or,
 * where they cannot, one more pass over the objects finds. */
struct hinfo {
	PyObject *p;
	uint32_t refs;          /* 0, 1, 2 for more */
	uint32_t ref;           /* index of the referrer when refs is 1 */
	PyObject *ns;           /* module, class or instance, or NULL */
};

/* A path to draw: from the object at BFS index idx (and then leaf, an
 * object that refers to nothing, when not NULL); deep: from a second
 * root, not a module. */
struct sample {
	uint32_t idx;
	bool deep;
	PyObject *leaf;
};

struct target {
	PyTypeObject *type;
	const char *name;       /* raw, from the request */
	size_t len;
	const char *last;       /* after its last dot */
	uint64_t count, bytes, shared, unreachable;
	uint32_t nsamples, npaths;
	struct sample samples[MUPPY_OWNERS_PATHS_MAX];
	struct sbuf paths;      /* records, as sent */
};

struct slotinfo {
	PyTypeObject *t;
	uint32_t n;
	struct { Py_ssize_t off; const char *name; } s[SLOTS_MAX];
};

struct kcache {
	PyTypeObject *t;
	enum kind kind;
};

struct tname {
	PyTypeObject *t;
	uint32_t off, len;      /* in own->tnames */
};

/* Target c in a frame local: the holder's name is fnames[off, off+len). */
struct fhold {
	PyObject *c;
	uint32_t k;
	uint32_t off, len;
	bool strong;            /* the slot holds a reference of its own */
};

/* An object the search from the second roots got to. */
struct dnode {
	PyObject *o;
	uint32_t parent;        /* index in own->dn, NONE for a root */
} __attribute__((packed));

struct moddict {
	PyObject *dict, *mod;
};

struct owners {
	const struct pyapi *api;
	int minor;
	int ntargets;
	struct target tg[MUPPY_OWNERS_TYPES_MAX];
	uint32_t want_paths;
	PyObject **mods;
	size_t nmods, mods_cap;
	struct moddict *moddicts; /* sorted by dict */
	PyTypeObject *deque;
	struct edge *edges;
	size_t nedges, edges_cap;
	struct tobj *found;     /* every object of the types asked for */
	size_t nfound, found_cap;
	struct dnode *dn;       /* the search from the second roots */
	size_t ndn, dn_cap;
	bool deep_ok;           /* the walk's references can be counted */
	struct member *mem;
	size_t nmem, mem_cap;
	struct group *groups;
	size_t ngroups, groups_cap;
	uint32_t *gindex;       /* open addressing: gid + 1 */
	size_t gindex_cap;
	struct sbuf gnames;
	struct sbuf nb;         /* the name being made */
	struct sbuf tnames;
	struct hinfo *hold;     /* open addressing by p */
	size_t hold_cap, nhold;
	PyObject **chain;       /* a path being named */
	size_t steps;           /* in the paths so far */
	struct slotinfo slots[SLOT_CACHE];
	struct kcache kinds[KIND_CACHE];
	struct tname tname[TNAME_CACHE];
	int inline_state;       /* 0 not tried, 1 proven, -1 off */
	bool here;              /* on a thread of the process (owners_open) */
	struct fctx *frames;    /* ownframes.c's */
	struct fhold *fh;       /* frame locals holding targets */
	size_t nfh, fh_cap;
	struct sbuf fnames;     /* their holders' names */
	PyObject **frefs;       /* targets in frame locals, one per strong
				   reference, sorted by address */
	size_t nfrefs, frefs_cap;
	/* the walk's, during owners_analyze() */
	const struct walk_view *view;
	PyObject *const *objs;
	const uint32_t *par;
	size_t n, nmod;
	bool failed;
	/* own_frame_edge(), for ownname.c (on which ownframes.c builds) */
	bool (*frame_edge)(struct owners *own, PyObject *p, PyObject *c);
};

static inline size_t owners_hash(uintptr_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v;
}

/* ownframes.c: the targets in the local variables of the threads'
 * running functions, into own->fh and own->fnames (own->failed on
 * ENOMEM); sorts own->found by address. */
HIDDEN void own_frames(struct owners *own);
/* After own_frames(): p, a running frame of a thread that is an object
 * of the graph (3.6-3.10), holds c in a local: its name into own->nb. */
HIDDEN bool own_frame_edge(struct owners *own, PyObject *p, PyObject *c);
/* After own_frames(): p is a running frame of a thread that is an object
 * of the graph, whose edges own_frame_edge() names. */
HIDDEN bool own_frame_running(const struct owners *own, PyObject *p);
/* After own_frames(): the first local variable of a thread's running
 * frame (threads in their list's order, innermost frame first) that
 * holds c, named into own->nb; false when none does. */
HIDDEN bool own_frame_root(struct owners *own, PyObject *c);
/* After own_frames(): the values of the locals of the threads' running
 * frames, by address. */
HIDDEN size_t own_frame_nslots(const struct owners *own);
HIDDEN PyObject *own_frame_slot(const struct owners *own, size_t i);
/* After own_frames(): " 'VAR' of function M.FUNC" into own->nb when
 * cell is a cell of the closure tuple of function fn; else false. */
HIDDEN bool own_closure_name(struct owners *own, PyObject *fn,
			     PyObject *tuple, PyObject *cell);
HIDDEN void own_frames_free(struct owners *own);

/* ownname.c */
HIDDEN enum kind own_kind(struct owners *own, PyObject *o);
HIDDEN bool own_is_str(const struct owners *own, PyObject *o);
/* The __dict__ of o if it has one now (never made), or NULL. */
HIDDEN PyObject *own_dict_of(const struct owners *own, PyObject *o);
/* The module whose __dict__ d is, from sys.modules, or NULL. */
HIDDEN PyObject *own_module_of(const struct owners *own, PyObject *d);
/* Whose __dict__ the object at index i is, through the object that
 * reached it first: module, class, instance, or NULL. */
HIDDEN PyObject *own_ns_by_parent(struct owners *own, uint32_t i);
/* Appending to own->nb (own->failed on ENOMEM). */
HIDDEN void own_put(struct owners *own, const char *s);
HIDDEN void own_put_type(struct owners *own, PyTypeObject *t);
HIDDEN void own_put_str(struct owners *own, PyObject *s);
/* The attribute NAME of instance x, from its __dict__ or its inline
 * values, if it is an exact str (borrowed), else NULL. */
HIDDEN PyObject *own_attr_str(struct owners *own, PyObject *x,
			      const char *name);
/* "M.", "class K." or "T." for namespace owner ns. */
HIDDEN void own_put_ns(struct owners *own, PyObject *ns);
/* "T.attr" for x's slot or inline value c; false when it is neither. */
HIDDEN bool own_put_attr(struct owners *own, PyObject *x, PyObject *c);
/* The short name of the one reference from the object at index q to p
 * (rules 1-4 and 8, or 5-7 without their "of" part). */
HIDDEN void own_put_up(struct owners *own, uint32_t q, PyObject *p);
/* The step in own->nb ends: appended as a record to b, *nsteps counted,
 * own->nb emptied (own->failed on ENOMEM). */
HIDDEN void own_step_end(struct owners *own, struct sbuf *b,
			 uint32_t *nsteps);
/* The steps of a path through chain[0..n), the root first, appended as
 * records to b, and how many (own->failed on ENOMEM). */
HIDDEN uint32_t own_put_path(struct owners *own, PyObject *const *chain,
			     size_t n, struct sbuf *b);

#endif
