/* SPDX-License-Identifier: MIT */
/*
 * Internals of the payload that runs inside the target Python process.
 *
 * The payload is built with one CPython version's headers but runs in all
 * of 3.6 to 3.15: it uses the headers only for the object layout fields
 * that are the same in all of them and that layout.c proves in the process
 * before they are used (ob_type, ob_size, a few PyTypeObject slots, and
 * the fields the sizing rules read), never their inline functions or
 * macros that changed (Py_INCREF knows immortal objects since 3.12).  The
 * C API is called through pointers found in the process (struct pyapi).
 */
#ifndef MUPPY_PAYLOAD_H
#define MUPPY_PAYLOAD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIDDEN __attribute__((visibility("hidden")))

/* The process's own C API; NULL where this version lacks a function. */
struct pyapi {
	int (*Py_IsInitialized)(void);
	int (*Py_IsFinalizing)(void);    /* 3.13; _Py_IsFinalizing 3.7-3.12 */
	void **Py_Finalizing;            /* 3.6: _Py_Finalizing variable */
	int (*PyEval_ThreadsInitialized)(void);
	void (*PyEval_InitThreads)(void);
	void *(*PyEval_SaveThread)(void);
	void (*PyEval_RestoreThread)(void *);
	void *(*PyGILState_GetThisThreadState)(void);
	void *(*PyThreadState_UncheckedGet)(void); /* 3.13: GetUnchecked */
	int (*PyGILState_Ensure)(void);
	void (*PyGILState_Release)(int);
	PyObject *(*PyImport_ImportModule)(const char *);
	PyObject *(*PyObject_GetAttrString)(PyObject *, const char *);
	PyObject *(*PyObject_Call)(PyObject *, PyObject *, PyObject *);
	PyObject *(*PyTuple_New)(Py_ssize_t);
	PyObject *(*PyTuple_GetItem)(PyObject *, Py_ssize_t);
	PyObject *(*PyList_New)(Py_ssize_t);
	int (*PyList_Append)(PyObject *, PyObject *);
	PyObject *(*PyList_GetItem)(PyObject *, Py_ssize_t);
	PyObject *(*PyLong_FromLong)(long);
	PyObject *(*PyUnicode_FromString)(const char *);
	void *(*PyType_GetSlot)(PyTypeObject *, int);
	void *(*PyInterpreterState_Head)(void);
	void *(*PyInterpreterState_Next)(void *);
	unsigned long (*PyType_GetFlags)(PyTypeObject *);
	Py_ssize_t (*PyLong_AsSsize_t)(PyObject *);
	void (*PyErr_Clear)(void);
	void (*Py_IncRef)(PyObject *);
	void (*Py_DecRef)(PyObject *);
	size_t (*PySys_GetSizeOf)(PyObject *);
	PyObject *(*PyType_Lookup)(PyTypeObject *, PyObject *);
	int (*PyType_IsSubtype)(PyTypeObject *, PyTypeObject *);
	PyObject *(*PyUnicode_InternFromString)(const char *);
	PyObject *(*PyUnicode_AsEncodedString)(PyObject *, const char *,
					       const char *);
	int (*PyBytes_AsStringAndSize)(PyObject *, char **, Py_ssize_t *);
	PyObject *(*PyDict_GetItemString)(PyObject *, const char *);
	const char *(*Py_GetVersion)(void);
	PyTypeObject *PyType_Type;
	PyTypeObject *PyBaseObject_Type;
	PyTypeObject *PyLong_Type;
	PyObject *True;            /* _Py_TrueStruct */
	PyTypeObject *PyList_Type;
	PyTypeObject *PyTuple_Type;
	PyTypeObject *PyUnicode_Type;
	PyTypeObject *PyMethodDescr_Type;
	PyTypeObject *PyWrapperDescr_Type;
	/* for owners.c only; NULL where missing (then no owners) */
	int (*PyDict_Next)(PyObject *, Py_ssize_t *, PyObject **, PyObject **);
	PyObject *(*PyModule_GetDict)(PyObject *);
	PyObject *(*PyImport_GetModuleDict)(void);
	PyObject **(*PyObject_GetDictPtr)(PyObject *);
	PyTypeObject *PyDict_Type;
	PyTypeObject *PySet_Type;
	PyTypeObject *PyFrozenSet_Type;
	PyTypeObject *PyCell_Type;
	PyTypeObject *PyModule_Type;
	PyTypeObject *PyMemberDescr_Type;
	/* for ownframes.c only; NULL where missing (then no frame locals) */
	void *(*PyInterpreterState_Main)(void);          /* 3.8+ */
	void *(*PyInterpreterState_ThreadHead)(void *);
	void *(*PyThreadState_Next)(void *);
	int (*PyCode_Addr2Line)(PyObject *, int);
	int (*PyFrame_GetLineNumber)(PyObject *);
	unsigned long (*PyLong_AsUnsignedLong)(PyObject *);
	PyTypeObject *PyCode_Type;
	PyTypeObject *PyFrame_Type;
	const char *PyRuntime;           /* _PyRuntime: _Py_DebugOffsets first */
	bool free_threaded;              /* Py_GIL_DISABLED build */
	uintptr_t core_lo, core_hi;      /* the interpreter's own code */
	uintptr_t img_lo, img_hi;        /* and all of its object file */
};

/* Fills api from the process; false (with a reason) if it is not usable. */
HIDDEN bool pyapi_resolve(struct pyapi *api, char *why, size_t whylen);

/* The value of an int object v (a new reference, or NULL), which is
 * then released; -1 when v is not an int.  Clears any error. */
HIDDEN Py_ssize_t pyapi_take_int(const struct pyapi *api, PyObject *v);

/* The minor of a "3.minor.micro ..." version string (micro into *micro),
 * or 0 when it is not a 3.x version. */
HIDDEN int pyapi_version(const char *v, int *micro);

/* gc.FUNC() called as Python calls it; a new reference or NULL. */
HIDDEN PyObject *pyapi_gc_call(const struct pyapi *api, const char *func);


/* What layout.c proved about this process's objects. */
struct layout {
	int minor, micro;        /* of 3.minor.micro */
	bool verified;           /* a version whose layouts were checked */
	bool descr;              /* method descriptors: C __sizeof__ found */
	bool list, str, int_digits; /* sizing rules of sizeof.c */
	bool gc_lists;           /* gcroots.c may look for the lists */
	char failed[96];         /* names of the checks that failed */
};

/*
 * With the GIL: proves the fields the walk reads; false (with a reason)
 * when the walk cannot be done safely.  sizeof_name is "__sizeof__".
 */
HIDDEN bool layout_prove(const struct pyapi *api, PyObject *sizeof_name,
			 struct layout *lay, char *why, size_t whylen);
/* The check build: the test asks that this check fail. */
HIDDEN bool layout_forced(const char *check);

struct owners; /* owners.c */

/* Per-type totals found by the walk. */
struct type_stat {
	PyTypeObject *type;
	uint64_t count;
	uint64_t bytes;
};

struct walk_result {
	const struct pyapi *api;
	struct type_stat *stats; /* one per distinct type object, held */
	size_t nstats, stats_cap;
	uint64_t objects, bytes;
	size_t mem_peak;         /* bookkeeping bytes in use at most */
};

/*
 * The objects the garbage collector tracks (gcroots.c): its generation
 * lists when they are found and check out, else gc.get_objects().
 */
struct gc_roots {
	PyObject *list;          /* gc.get_objects(), or NULL */
	uintptr_t heads[4];      /* else the PyGC_Head of each generation, */
	int nheads;              /* and of the permanent one when found */
	size_t hdr;              /* sizeof(PyGC_Head) */
	uint64_t frozen;         /* gc.get_freeze_count() */
	bool frozen_walked;      /* the permanent generation is in heads */
	bool gc_was_enabled;     /* automatic collection, off meanwhile */
};

/*
 * A gc_next or gc_prev word as a pointer: the low two bits are flags
 * (3.8+).  No more: list heads inside the interpreter's state may be only
 * 4-aligned (Debian's 3.13.18, where PyGC_Head is Py_ALIGNED(4)).
 */
#define GC_PTR(v) ((uintptr_t)(v) & ~(uintptr_t)3)

/* With the GIL: 0, or -1 when neither way works. */
HIDDEN int gcroots_open(const struct pyapi *api, const struct layout *lay,
			struct gc_roots *r);
HIDDEN void gcroots_close(const struct pyapi *api, struct gc_roots *r);

/*
 * Walks every GC-tracked object and everything reachable from them through
 * tp_traverse, once each (not the roots list itself).  Called with the GIL
 * held, between gcroots_open() and gcroots_close().  Returns 0, -ENOMEM,
 * -EFAULT when the roots list cannot be read, or -ETIMEDOUT when stop(),
 * asked every 65536 objects, says to.
 */
HIDDEN int walk_heap(const struct pyapi *api, const struct layout *lay,
		     const struct gc_roots *roots, struct owners *own,
		     bool (*stop)(void), struct walk_result *res);
HIDDEN void walk_result_free(struct walk_result *res);

/* A growable byte buffer in bookkeeping memory (names.c). */
struct sbuf {
	char *v;
	size_t len, cap;
};
HIDDEN bool sbuf_put(struct sbuf *b, const void *data, size_t len);
HIDDEN bool sbuf_puts(struct sbuf *b, const char *s);
HIDDEN void sbuf_free(struct sbuf *b);
/* Appends the UTF-8 of str s (false, nothing appended, if not a str). */
HIDDEN bool names_str(const struct pyapi *api, struct sbuf *b, PyObject *s);
/* Appends t's name as the rows show it: module.qualname, bare for
 * builtins, tp_name when it has no usable __qualname__. */
HIDDEN bool names_type(const struct pyapi *api, struct sbuf *b,
		       PyTypeObject *t);

/*
 * Who holds the objects of some types (owners.c): the walk reports what
 * it finds to these hooks, then owners_analyze() names the holders and
 * the paths, owners_put() writes the sections of the reply.
 */
struct muppy_owners_req;
struct walk_view;
/* How the walk sizes and traverses objects, for owners.c. */
struct walk_view {
	void *w;
	void (*traverse)(void *w, PyObject *o, visitproc visit, void *arg);
	bool (*counted)(void *w, PyObject *o);   /* an object the walk holds a
						    reference to */
	int (*refs)(void *w, PyObject *o);       /* references into o from
						    objects of the walk: 0, 1,
						    2 for more */
	bool (*seen)(void *w, PyObject *o);      /* an object of the walk */
	bool (*stop)(void);                      /* time to stop, or NULL */
	bool (*take_lost)(void *w, PyObject *o); /* an object no module
						    reaches, not yet taken:
						    taken now */
};
/* With the GIL, before the walk: NULL when none are asked for or on
 * ENOMEM (*nomem set).  here: the walk runs on a Python thread that held
 * the GIL (muppy_payload_here), whose own frames are the process's. */
HIDDEN struct owners *owners_open(const struct pyapi *api,
				  const struct layout *lay,
				  const struct muppy_owners_req *req,
				  bool here, bool *nomem);
HIDDEN void owners_close(struct owners *own);
/* The module objects of sys.modules, the roots of the paths. */
HIDDEN size_t owners_modules(const struct owners *own, PyObject ***mods);
/* A type seen for the first time: is it one asked for? */
HIDDEN void owners_classify(struct owners *own, PyTypeObject *t);
/* The index of t among those asked for, or -1. */
HIDDEN int owners_target(const struct owners *own, PyTypeObject *t);
/* Edge from the object at BFS index holder to c, a target of kind k. */
HIDDEN int owners_edge(struct owners *own, uint32_t holder, PyObject *c,
		       int k);
/* An object o of kind k, counted: its size (UINT64_MAX until
 * owners_later()), the BFS index of the object that reached it (leaf) or
 * its own, and whether the walk came to it from a module. */
HIDDEN int owners_object(struct owners *own, PyObject *o, int k,
			 uint64_t size, uint32_t index, bool leaf,
			 bool from_modules);
/* After the walk, before anything runs Python code: objs[0..n) the
 * objects that can refer to others, in BFS order, the first nmod of them
 * reached from the modules; par[i] the index of the object that reached
 * objs[i] first (UINT32_MAX for a root). */
HIDDEN int owners_analyze(struct owners *own, const struct walk_view *v,
			  PyObject *const *objs, const uint32_t *par, size_t n,
			  size_t nmod, bool roots_list);
/* The size of a target found only after the walk (a Python __sizeof__). */
HIDDEN void owners_later(struct owners *own, PyObject *o, uint64_t size);
/* Appends the sections: how many, or -ENOMEM. */
HIDDEN int owners_put(struct owners *own, struct sbuf *out);

/* sort.c: sorting without malloc().  psort() is a heapsort in place (size
 * at most 64); psort_by_addr() a stable radix sort by the address at byte
 * off of each element. */
HIDDEN void psort(void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *, void *), void *ctx);
HIDDEN void psort_by_addr(void *base, size_t n, size_t size, size_t off);
/* In n elements sorted by the address they start with, the first whose
 * address is at least key (n if none). */
HIDDEN size_t pfind_by_addr(const void *base, size_t n, size_t size,
			    uintptr_t key);

/* Bookkeeping memory: mmap-backed, all of it returned by pmem_release. */
HIDDEN void *pmem_alloc(size_t size);
/* The same, its pages all there (it will be written through). */
HIDDEN void *pmem_alloc_filled(size_t size);
/* An array of elements of elem bytes filled from the front, used of
 * capacity bytes: from 4 MiB on, at each 2 MiB boundary the next 2 MiB
 * come in at once, not a page fault each. */
HIDDEN void pmem_ahead(void *base, size_t used, size_t elem,
		       size_t capacity);
HIDDEN void *pmem_realloc(void *p, size_t old, size_t size);
HIDDEN void pmem_free(void *p, size_t size);
HIDDEN size_t pmem_peak(void);
/* Caps it all at a quarter of the memory available now (at least 64 MiB). */
HIDDEN void pmem_limit(void);

#endif
