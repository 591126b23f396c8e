/* SPDX-License-Identifier: MIT */
/*
 * The local variables of the functions the threads are running, as
 * holders (--owners; muppy-snap(1), OWNERS, rule 9): a target in a fast
 * local, cell or free variable slot of a frame a thread owns is in the
 * group "thread 'NAME' FUNC() local 'VAR' (FILE:LINE)", and that
 * reference no longer counts as one from outside the object graph.
 *
 * Frames are found from the thread states of the main interpreter
 * (PyInterpreterState_ThreadHead, PyThreadState_Next), innermost first:
 *   3.6-3.10  PyFrameObjects: PyThreadState.frame, f_back, f_code and
 *             f_localsplus (the last word of PyFrame_Type's basicsize);
 *             the code's fields from PyCode_Type's member table.  A frame
 *             the walk reached (3.6: every one; later one a traceback
 *             holds) is an object of the graph whose edges are counted
 *             already: owners.c names its edges to locals through
 *             own_frame_edge() instead of "frame (C)", unless it is a
 *             generator's (f_gen).
 *   3.11-3.12 _PyInterpreterFrame, offsets keyed by version (checked
 *             against each version's pycore_frame.h and the interpreters);
 *   3.13-3.15 the _Py_DebugOffsets at the start of _PyRuntime (cookie
 *             "xdebugpy", version, not free-threaded), whose own layout
 *             is keyed by version; 3.14 tags the executable and the
 *             locals (_PyStackRef): the low two bits are cleared, and a
 *             local with a tag bit set holds no reference of its own.
 * Only frames owned by the thread (owner 0) are named: a generator's or
 * coroutine's frame belongs to that object, already in the graph.
 *
 * Everything is proven before use: the thread id of the payload's own
 * thread state is pthread_self() and that state is in the list; each
 * code object is exactly PyCode_Type, its first code unit where
 * PyCode_Type's basicsize says (3.11+), its names an exact tuple of the
 * local count; names are exact strs.  A slot's value is only compared
 * with the targets the walk found (never dereferenced).  On any failed
 * check nothing more is done: such references stay "outside".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "owners.h"

#define DEPTH_MAX 100000        /* frames of one thread */
#define LOCALS_MAX 65536        /* slots of one frame */
#define SLOTS_KEPT (1u << 20)   /* locals remembered, of all frames */

struct flayout {
	bool objects;           /* PyFrameObjects (3.7-3.10) */
	size_t ts_tid;          /* PyThreadState.thread_id */
	size_t ts_frame;        /* .frame (3.7-3.10), .current_frame (3.13+) */
	size_t ts_cframe, cf_cur; /* 3.11, 3.12: ->cframe->current_frame */
	size_t f_prev, f_code, f_instr, f_owner, f_locals;
	uintptr_t tag;          /* _PyStackRef tag bits (3.14+) */
	size_t co_nlp;          /* co_nlocalsplus (int), 3.11, 3.12 */
	size_t co_names, co_name, co_qual, co_file, co_code;
	size_t co_nlocals, co_varnames, co_cellvars, co_freevars; /* <3.11 */
	size_t f_gen;           /* <3.11 */
};

/* A running frame of a thread that is an object of the graph (3.6-3.10). */
struct frun {
	void *f;
	unsigned long tid;
};

/* A local of a frame the thread owns that holds c (own_frame_root). */
struct fslot {
	PyObject *c;
	void *f;
	PyObject *code, *var;
	unsigned long tid;
};

struct fctx {
	struct owners *own;
	struct flayout L;
	PyObject *active;       /* threading._active, or NULL */
	unsigned long tid;      /* of the thread being read */
	PyObject *want;         /* naming an edge to it (own_frame_edge) */
	bool named;
	struct frun *run;       /* sorted by f */
	size_t nrun, run_cap;
	struct fslot *slots;    /* sorted by c, stably */
	size_t nslots, slots_cap;
};

/* PyMemberDef, the same in 3.3 and later. */
struct fmember {
	const char *name;
	int type;
	Py_ssize_t offset;
	int flags;
	const char *doc;
};

/* The offset of member NAME of static type t (of type TYPE), or 0. */
static size_t member_at(PyTypeObject *t, const char *name, int type)
{
	const struct fmember *m = (const struct fmember *)t->tp_members;

	for (int i = 0; m && m[i].name && i < 64; i++)
		if (strcmp(m[i].name, name) == 0)
			return m[i].type == type && m[i].offset > 0 ?
			       (size_t)m[i].offset : 0;
	return 0;
}

#define T_INT_ 1
#define T_OBJECT_ 6

/* _Py_DebugOffsets as words: where, in 3.13, 3.14 and 3.15, each struct
 * starts, and (3.15) where its thread_id is (checked on the interpreters
 * of Debian sid: 3.13.18, 3.14.10, 3.15.2, and pyenv's 3.13.0). */
static const struct {
	int ts, tid, fr, co;
} dbg_at[] = {
	[13] = { 19, 5, 28, 34 },
	[14] = { 22, 5, 31, 39 },
	[15] = { 22, 8, 39, 47 },
};

static bool from_debug_offsets(const struct owners *own, struct flayout *L)
{
	const struct pyapi *api = own->api;
	const uint64_t *w = (const uint64_t *)api->PyRuntime;
	int m = own->minor, ts, fr, co;

	if (!w || memcmp(w, "xdebugpy", 8) != 0 ||
	    (w[1] >> 16) != (0x0300u | (unsigned)m) || w[2] != 0)
		return false;
	ts = dbg_at[m].ts;
	fr = dbg_at[m].fr;
	co = dbg_at[m].co;
	/* every offset inside its struct's size, which is plausible */
	for (int i = ts + 1; i <= ts + dbg_at[m].tid; i++)
		if (w[i] >= w[ts] || w[ts] > 4096)
			return false;
	for (int i = fr + 1; i <= fr + 5; i++)
		if (w[i] >= w[fr] || w[fr] > 256)
			return false;
	for (int i = co + 1; i <= co + 9; i++)
		if (w[i] >= w[co] || w[co] > 512)
			return false;
	L->ts_frame = w[ts + 4];
	L->ts_tid = w[ts + dbg_at[m].tid];
	L->f_prev = w[fr + 1];
	L->f_code = w[fr + 2];
	L->f_instr = w[fr + 3];
	L->f_locals = w[fr + 4];
	L->f_owner = w[fr + 5];
	L->co_file = w[co + 1];
	L->co_name = w[co + 2];
	L->co_qual = w[co + 3];
	L->co_names = w[co + 7];
	L->co_code = w[co + 9];
	L->tag = m >= 14 ? 3 : 0;
	return true;
}

static bool layout_of(const struct owners *own, struct flayout *L)
{
	const struct pyapi *api = own->api;
	PyTypeObject *code = api->PyCode_Type;
	int m = own->minor;

	memset(L, 0, sizeof(*L));
	if (!code || !api->PyInterpreterState_ThreadHead ||
	    !api->PyThreadState_Next || !api->PyThreadState_UncheckedGet ||
	    api->free_threaded || m < 6 || m > 15 || layout_forced("frames"))
		return false;
	if (m <= 10) {
		PyTypeObject *ft = api->PyFrame_Type;
		static const Py_ssize_t fsize[] = { [6] = 384, [7] = 368,
						    [8] = 368, [9] = 368,
						    [10] = 360 };
		static const size_t gen_at[] = { [6] = 112, [7] = 96,
						 [8] = 96, [9] = 96,
						 [10] = 88 };

		if (!ft || !api->PyFrame_GetLineNumber ||
		    ft->tp_basicsize != fsize[m] ||
		    member_at(ft, "f_code", T_OBJECT_) != 32)
			return false;
		*L = (struct flayout){
			.objects = true, .ts_tid = m == 6 ? 152 : 176,
			.ts_frame = 24, .f_prev = 24, .f_code = 32,
			.f_gen = gen_at[m],
			.f_locals = (size_t)ft->tp_basicsize - 8,
			.co_nlocals = member_at(code, "co_nlocals", T_INT_),
			.co_varnames = member_at(code, "co_varnames",
						 T_OBJECT_),
			.co_cellvars = member_at(code, "co_cellvars",
						 T_OBJECT_),
			.co_freevars = member_at(code, "co_freevars",
						 T_OBJECT_),
		};
	} else if (m == 11) {
		*L = (struct flayout){
			.ts_tid = 152, .ts_cframe = 56, .cf_cur = 8,
			.f_code = 32, .f_prev = 48, .f_instr = 56,
			.f_owner = 69, .f_locals = 72,
			.co_nlp = 76, .co_names = 96, .co_code = 184,
		};
	} else if (m == 12) {
		*L = (struct flayout){
			.ts_tid = 136, .ts_cframe = 56, .cf_cur = 0,
			.f_code = 0, .f_prev = 8, .f_instr = 56,
			.f_owner = 70, .f_locals = 72,
			.co_nlp = 72, .co_names = 96, .co_code = 192,
		};
	} else if (!from_debug_offsets(own, L)) {
		return false;
	}
	if (m <= 12) { /* the code's names from its member table */
		L->co_name = member_at(code, "co_name", T_OBJECT_);
		L->co_file = member_at(code, "co_filename", T_OBJECT_);
		L->co_qual = m >= 11 ? member_at(code, "co_qualname",
						 T_OBJECT_) : 0;
	} else if (member_at(code, "co_name", T_OBJECT_) != L->co_name ||
		   member_at(code, "co_filename", T_OBJECT_) != L->co_file ||
		   member_at(code, "co_qualname", T_OBJECT_) != L->co_qual) {
		return false;
	}
	if (!L->co_name || !L->co_file || (m >= 11 && !L->co_qual))
		return false;
	if (L->objects)
		return L->co_nlocals && L->co_varnames && L->co_cellvars &&
		       L->co_freevars;
	/* the first code unit right after the fixed part */
	return api->PyCode_Addr2Line &&
	       (size_t)code->tp_basicsize == L->co_code;
}

static void *word(const void *p, size_t off)
{
	return *(void *const *)((const char *)p + off);
}

/* The innermost frame of thread state ts. */
static void *top_frame(const struct flayout *L, void *ts)
{
	if (L->ts_cframe) {
		void *cf = word(ts, L->ts_cframe);

		return cf ? word(cf, L->cf_cur) : NULL;
	}
	return word(ts, L->ts_frame);
}

/* --- the thread's name ------------------------------------------------ */

static PyObject *threading_active(struct owners *own)
{
	const struct pyapi *api = own->api;
	PyObject *mods = api->PyImport_GetModuleDict(), *m, *d, *a = NULL;

	m = mods ? api->PyDict_GetItemString(mods, "threading") : NULL;
	if (m && Py_TYPE(m) == api->PyModule_Type &&
	    (d = api->PyModule_GetDict(m)))
		a = api->PyDict_GetItemString(d, "_active");
	api->PyErr_Clear();
	return a && Py_TYPE(a) == api->PyDict_Type ? a : NULL;
}

/* "thread 'NAME'" from threading._active, else "thread ID". */
static void put_thread(struct fctx *x)
{
	struct owners *own = x->own;
	const struct pyapi *api = own->api;
	PyObject *k, *v, *name = NULL;
	Py_ssize_t pos = 0;
	char buf[40];

	while (x->active && api->PyLong_AsUnsignedLong && !name &&
	       api->PyDict_Next(x->active, &pos, &k, &v)) {
		if (Py_TYPE(k) != api->PyLong_Type ||
		    api->PyLong_AsUnsignedLong(k) != x->tid)
			continue;
		if (Py_TYPE(v)->tp_flags & Py_TPFLAGS_HEAPTYPE)
			name = own_attr_str(own, v, "_name");
		break;
	}
	api->PyErr_Clear();
	if (name) {
		own_put(own, "thread '");
		own_put_str(own, name);
		own_put(own, "'");
	} else {
		snprintf(buf, sizeof(buf), "thread %lu", x->tid);
		own_put(own, buf);
	}
}

/* --- one frame ----------------------------------------------------------- */

static bool is_str(const struct owners *own, PyObject *s)
{
	return own_is_str(own, s);
}

static bool is_tuple(const struct owners *own, PyObject *t)
{
	return t && Py_TYPE(t) == own->api->PyTuple_Type &&
	       Py_SIZE(t) >= 0 && Py_SIZE(t) <= LOCALS_MAX;
}

/* c is one of the targets the walk found (own->found sorted). */
static bool found(const struct owners *own, uintptr_t c)
{
	size_t i = pfind_by_addr(own->found, own->nfound,
				 sizeof(*own->found), c);

	return i < own->nfound && (uintptr_t)own->found[i].o == c;
}

/* "thread 'NAME' FUNC() local 'VAR' (FILE:LINE)" into own->nb. */
static void put_holder(struct fctx *x, PyObject *code, PyObject *var,
		       int line)
{
	struct owners *own = x->own;
	PyObject *func = word(code, x->L.co_qual ? x->L.co_qual :
				    x->L.co_name);
	PyObject *file = word(code, x->L.co_file);
	size_t at;
	char buf[24];

	put_thread(x);
	own_put(own, " ");
	if (is_str(own, func))
		own_put_str(own, func);
	else
		own_put(own, "?");
	own_put(own, "() local '");
	own_put_str(own, var);
	own_put(own, "' (");
	at = own->nb.len;
	if (is_str(own, file) && names_str(own->api, &own->nb, file)) {
		const char *slash = memrchr(own->nb.v + at, '/',
					    own->nb.len - at);

		if (slash) { /* its basename */
			size_t skip = (size_t)(slash + 1 - (own->nb.v + at));

			memmove(own->nb.v + at, slash + 1,
				own->nb.len - at - skip);
			own->nb.len -= skip;
		}
	} else {
		own_put(own, "?");
	}
	if (line > 0)
		snprintf(buf, sizeof(buf), ":%d)", line);
	else
		snprintf(buf, sizeof(buf), ":?)");
	own_put(own, buf);
}

/* The index of t among the types asked for, or -1. */
static int target_of(const struct owners *own, PyTypeObject *t)
{
	for (int i = 0; i < own->ntargets; i++)
		if (own->tg[i].type == t)
			return i;
	return -1;
}

/* Appends target c, of kind k, held by the name in own->nb. */
static void hold(struct owners *own, PyObject *c, int k, bool strong)
{
	if (own->nfh == own->fh_cap) {
		size_t cap = own->fh_cap ? own->fh_cap * 2 : 64;
		struct fhold *v = pmem_realloc(own->fh,
					       own->fh_cap * sizeof(*v),
					       cap * sizeof(*v));

		if (!v) {
			own->failed = true;
			return;
		}
		own->fh = v;
		own->fh_cap = cap;
	}
	if (own->failed || own->fnames.len + own->nb.len > UINT32_MAX ||
	    !sbuf_put(&own->fnames, own->nb.v, own->nb.len)) {
		own->failed = true;
		return;
	}
	own->fh[own->nfh++] = (struct fhold){
		.c = c, .k = (uint32_t)k, .strong = strong,
		.off = (uint32_t)(own->fnames.len - own->nb.len),
		.len = (uint32_t)own->nb.len,
	};
}

/* The line frame is at, running code. */
static int frame_line(struct fctx *x, PyObject *code, void *frame)
{
	intptr_t off;

	if (x->L.objects)
		return x->own->api->PyFrame_GetLineNumber(frame);
	off = (intptr_t)word(frame, x->L.f_instr) -
	      (intptr_t)((char *)code + x->L.co_code);
	return off >= 0 && off < Py_SIZE(code) * 2 ?
	       x->own->api->PyCode_Addr2Line(code, (int)off) : -1;
}

/* Remembers that the local var of frame holds c (at most SLOTS_KEPT). */
static void keep_slot(struct fctx *x, PyObject *c, void *frame,
		      PyObject *code, PyObject *var)
{
	if (x->nslots == x->slots_cap) {
		size_t cap = x->slots_cap ? x->slots_cap * 2 : 256;
		struct fslot *v;

		if (cap > SLOTS_KEPT)
			return;
		v = pmem_realloc(x->slots, x->slots_cap * sizeof(*v),
				 cap * sizeof(*v));
		if (!v)
			return; /* then such a root is named "outside" */
		x->slots = v;
		x->slots_cap = cap;
	}
	x->slots[x->nslots++] = (struct fslot){ c, frame, code, var, x->tid };
}

/* A slot of a frame holding raw (tag bits and all): remembered, and a
 * target?  Or, naming one reference, the target asked for (x->want)? */
static void slot(struct fctx *x, PyObject *code, PyObject *var,
		 uintptr_t raw, int *line, void *frame)
{
	struct owners *own = x->own;
	uintptr_t c = raw & ~x->L.tag;
	int k;

	if (!c || !is_str(own, var))
		return;
	if (x->want) {
		if ((PyObject *)c != x->want || x->named)
			return;
		put_holder(x, code, var, frame_line(x, code, frame));
		x->named = true;
		return;
	}
	keep_slot(x, (PyObject *)c, frame, code, var);
	if (!found(own, c) ||
	    (k = target_of(own, Py_TYPE((PyObject *)c))) < 0)
		return;
	if (*line == 0)
		*line = frame_line(x, code, frame);
	own->nb.len = 0;
	put_holder(x, code, var, *line);
	/* (3.14+: a tag bit set, a borrowed or immortal reference) */
	hold(own, (PyObject *)c, k, !(raw & x->L.tag));
}

/* A PyFrameObject (3.7-3.10): locals, cells, free variables. */
static void frame_object(struct fctx *x, void *f)
{
	struct owners *own = x->own;
	const struct flayout *L = &x->L;
	PyObject *code = word(f, L->f_code), *names[3];
	int line = 0;
	Py_ssize_t at = 0, nl;

	if (!code || Py_TYPE(code) != own->api->PyCode_Type)
		return;
	nl = *(const int *)((const char *)code + L->co_nlocals);
	names[0] = word(code, L->co_varnames);
	names[1] = word(code, L->co_cellvars);
	names[2] = word(code, L->co_freevars);
	for (int j = 0; j < 3; j++)
		if (!is_tuple(own, names[j]))
			return;
	if (Py_SIZE(names[0]) != nl)
		return;
	for (int j = 0; j < 3 && !own->failed; j++)
		for (Py_ssize_t i = 0; i < Py_SIZE(names[j]); i++, at++)
			slot(x, code, own->api->PyTuple_GetItem(names[j], i),
			     ((const uintptr_t *)((const char *)f +
						  L->f_locals))[at],
			     &line, f);
	own->api->PyErr_Clear();
}

/* A _PyInterpreterFrame (3.11+) the thread owns. */
static void interp_frame(struct fctx *x, void *f, PyObject *code)
{
	struct owners *own = x->own;
	const struct flayout *L = &x->L;
	PyObject *names = word(code, L->co_names);
	int line = 0;

	if (!is_tuple(own, names) ||
	    (L->co_nlp && *(const int *)((const char *)code + L->co_nlp) !=
	     Py_SIZE(names)))
		return;
	for (Py_ssize_t i = 0; i < Py_SIZE(names) && !own->failed; i++)
		slot(x, code, own->api->PyTuple_GetItem(names, i),
		     ((const uintptr_t *)((const char *)f + L->f_locals))[i],
		     &line, f);
	own->api->PyErr_Clear();
}

static void add_run(struct fctx *x, void *f)
{
	if (x->nrun == x->run_cap) {
		size_t cap = x->run_cap ? x->run_cap * 2 : 64;
		struct frun *v = pmem_realloc(x->run,
					      x->run_cap * sizeof(*v),
					      cap * sizeof(*v));

		if (!v) {
			x->own->failed = true;
			return;
		}
		x->run = v;
		x->run_cap = cap;
	}
	x->run[x->nrun++] = (struct frun){ f, x->tid };
}

static void thread_frames(struct fctx *x, void *ts)
{
	struct owners *own = x->own;
	const struct flayout *L = &x->L;
	void *f = top_frame(L, ts);

	x->tid = *(const unsigned long *)((const char *)ts + L->ts_tid);
	for (int depth = 0; f && depth < DEPTH_MAX && !own->failed &&
	     !((uintptr_t)f & 7); depth++) {
		if (L->objects) {
			if (Py_TYPE((PyObject *)f) != own->api->PyFrame_Type)
				return;
			/* its references are edges: named by own_frame_edge()
			 * unless a generator's */
			if (!own->view->seen(own->view->w, f))
				frame_object(x, f);
			else if (!word(f, L->f_gen))
				add_run(x, f);
		} else {
			uintptr_t exe = (uintptr_t)word(f, L->f_code);
			PyObject *code = (PyObject *)(exe & ~L->tag);

			/* (3.14+: low bits 3 would be a tagged int) */
			if (*((const char *)f + L->f_owner) == 0 && code &&
			    !(L->tag && (exe & 3) == 3) &&
			    Py_TYPE(code) == own->api->PyCode_Type)
				interp_frame(x, f, code);
		}
		f = word(f, L->f_prev);
	}
}

/*
 * The payload's own thread state, made by PyGILState_Ensure(), proves
 * the fields read: its interpreter (interp at 16 in every version), its
 * thread id, and no frame (running no Python code) but, in 3.15, its
 * base frame inside itself; in 3.11 and 3.12 its cframe points into
 * itself (&tstate->root_cframe).
 */
static bool own_state_ok(const struct flayout *L, void *mine, void *interp,
			 bool here)
{
	uintptr_t top;

	if (word(mine, 16) != interp ||
	    *(const unsigned long *)((const char *)mine + L->ts_tid) !=
	    (unsigned long)pthread_self())
		return false;
	/* on a thread of the process, its frames are real ones: each is
	 * checked as any other thread's (its code object) */
	if (here)
		return true;
	if (L->ts_cframe) {
		uintptr_t cf = (uintptr_t)word(mine, L->ts_cframe);

		if (cf <= (uintptr_t)mine || cf >= (uintptr_t)mine + 4096)
			return false;
	}
	top = (uintptr_t)top_frame(L, mine);
	return !top || (top > (uintptr_t)mine && top < (uintptr_t)mine + 4096);
}

static void *main_interp(const struct pyapi *api, void *mine)
{
	void *p, *last = NULL;

	if (api->PyInterpreterState_Main)
		return api->PyInterpreterState_Main();
	/* 3.7: the first one made, the last of the list; ours as well */
	for (p = api->PyInterpreterState_Head ? api->PyInterpreterState_Head()
					      : NULL;
	     p && api->PyInterpreterState_Next; p = api->PyInterpreterState_Next(p))
		last = p;
	return last == word(mine, 16) ? last : NULL;
}

void own_frames(struct owners *own)
{
	const struct pyapi *api = own->api;
	struct fctx *x;
	void *mine, *interp, *ts;
	bool listed = false;
	int n = 0;

	x = pmem_alloc(sizeof(*x));
	if (!x) {
		own->failed = true;
		return;
	}
	memset(x, 0, sizeof(*x));
	x->own = own;
	own->frames = x;
	if (!layout_of(own, &x->L) || !own->nfound)
		return;
	mine = api->PyThreadState_UncheckedGet();
	interp = mine ? main_interp(api, mine) : NULL;
	if (!interp || !own_state_ok(&x->L, mine, interp, own->here))
		return;
	for (ts = api->PyInterpreterState_ThreadHead(interp);
	     ts && n < 100000; ts = api->PyThreadState_Next(ts), n++)
		listed |= ts == mine;
	if (!listed)
		return;
	x->active = threading_active(own);
	for (ts = api->PyInterpreterState_ThreadHead(interp);
	     ts && !own->failed; ts = api->PyThreadState_Next(ts))
		if (ts != mine || own->here)
			thread_frames(x, ts);
	if (x->nrun)
		psort_by_addr(x->run, x->nrun, sizeof(*x->run), 0);
	if (x->nslots)
		psort_by_addr(x->slots, x->nslots, sizeof(*x->slots), 0);
}

bool own_frame_edge(struct owners *own, PyObject *p, PyObject *c)
{
	struct fctx *x = own->frames;
	size_t lo = x ? pfind_by_addr(x->run, x->nrun, sizeof(*x->run),
				      (uintptr_t)p) : 0;

	if (!x || lo == x->nrun || x->run[lo].f != (void *)p)
		return false;
	x->tid = x->run[lo].tid;
	x->want = c;
	x->named = false;
	frame_object(x, p);
	x->want = NULL;
	return x->named;
}

size_t own_frame_nslots(const struct owners *own)
{
	return own->frames ? own->frames->nslots : 0;
}

PyObject *own_frame_slot(const struct owners *own, size_t i)
{
	return own->frames->slots[i].c;
}

bool own_frame_running(const struct owners *own, PyObject *p)
{
	const struct fctx *x = own->frames;
	size_t lo = x ? pfind_by_addr(x->run, x->nrun, sizeof(*x->run),
				      (uintptr_t)p) : 0;

	return x && lo < x->nrun && x->run[lo].f == (void *)p;
}

bool own_frame_root(struct owners *own, PyObject *c)
{
	struct fctx *x = own->frames;
	size_t i = x ? pfind_by_addr(x->slots, x->nslots, sizeof(*x->slots),
				     (uintptr_t)c) : 0;
	const struct fslot *s;

	if (!x || i == x->nslots || x->slots[i].c != c)
		return false;
	s = &x->slots[i];
	x->tid = s->tid;
	put_holder(x, s->code, s->var, frame_line(x, s->code, s->f));
	return true;
}

void own_frames_free(struct owners *own)
{
	struct fctx *x = own->frames;

	if (!x)
		return;
	pmem_free(x->run, x->run_cap * sizeof(*x->run));
	pmem_free(x->slots, x->slots_cap * sizeof(*x->slots));
	pmem_free(x, sizeof(*x));
	own->frames = NULL;
}
