/* SPDX-License-Identifier: MIT */
/*
 * Finds the process's own CPython C API.  Debian's python3 exports it from
 * the executable, pyenv's builds from libpython3.X.so; either way it is
 * found with dlsym(RTLD_DEFAULT).  Where an embedding program loaded
 * libpython with RTLD_LOCAL, the object that defines PyGILState_Ensure is
 * looked up among the loaded objects instead.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"

#define MAX_CANDIDATES 8

struct find_ctx {
	char names[MAX_CANDIDATES][256]; /* loaded objects named libpython* */
	int n;
	uintptr_t addr;                  /* with find_code: an address */
	uintptr_t lo, hi;                /* its executable segment */
	uintptr_t img_lo, img_hi;        /* all of its object's segments */
};

/*
 * dl_iterate_phdr callbacks run with the loader's write lock held: they
 * only look.  Calling dlopen or dlclose in here would take the loader's
 * other lock in the order opposite to a concurrent dlopen's.
 */
static int find_libpython(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_ctx *ctx = arg;

	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libpython") &&
	    ctx->n < MAX_CANDIDATES && strlen(info->dlpi_name) < 256)
		strcpy(ctx->names[ctx->n++], info->dlpi_name);
	return 0;
}

static int find_code(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_ctx *ctx = arg;
	uintptr_t img_lo = UINTPTR_MAX, img_hi = 0;
	bool hit = false;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (lo < img_lo)
			img_lo = lo;
		if (lo + ph->p_memsz > img_hi)
			img_hi = lo + ph->p_memsz;
		if ((ph->p_flags & PF_X) && ctx->addr >= lo &&
		    ctx->addr < lo + ph->p_memsz) {
			ctx->lo = lo;
			ctx->hi = lo + ph->p_memsz;
			hit = true;
		}
	}
	if (hit) {
		ctx->img_lo = img_lo;
		ctx->img_hi = img_hi;
	}
	return hit;
}

/* The handle of a loaded libpython with the C API, or NULL. */
static void *libpython_handle(void)
{
	struct find_ctx ctx = { .n = 0 };

	dl_iterate_phdr(find_libpython, &ctx);
	for (int i = 0; i < ctx.n; i++) {
		void *h = dlopen(ctx.names[i], RTLD_LAZY | RTLD_NOLOAD);

		if (h && dlsym(h, "PyGILState_Ensure"))
			return h;
		if (h)
			dlclose(h);
	}
	return NULL;
}

#define GET(field, name) (*(void **)&api->field = dlsym(h, name))

bool pyapi_resolve(struct pyapi *api, char *why, size_t whylen)
{
	struct find_ctx code = { .n = 0 };
	void *h = RTLD_DEFAULT;

	memset(api, 0, sizeof(*api));
	if (!dlsym(RTLD_DEFAULT, "PyGILState_Ensure")) {
		h = libpython_handle();
		if (!h) {
			snprintf(why, whylen, "no CPython C API in the process");
			return false;
		}
	}
	GET(Py_IsInitialized, "Py_IsInitialized");
	if (!GET(Py_IsFinalizing, "Py_IsFinalizing"))
		GET(Py_IsFinalizing, "_Py_IsFinalizing");
	GET(Py_Finalizing, "_Py_Finalizing");
	GET(PyEval_ThreadsInitialized, "PyEval_ThreadsInitialized");
	GET(PyEval_InitThreads, "PyEval_InitThreads");
	GET(PyEval_SaveThread, "PyEval_SaveThread");
	GET(PyEval_RestoreThread, "PyEval_RestoreThread");
	GET(PyGILState_GetThisThreadState, "PyGILState_GetThisThreadState");
	if (!GET(PyThreadState_UncheckedGet, "PyThreadState_GetUnchecked"))
		GET(PyThreadState_UncheckedGet, "_PyThreadState_UncheckedGet");
	GET(PyGILState_Ensure, "PyGILState_Ensure");
	GET(PyGILState_Release, "PyGILState_Release");
	GET(PyImport_ImportModule, "PyImport_ImportModule");
	GET(PyObject_GetAttrString, "PyObject_GetAttrString");
	GET(PyObject_Call, "PyObject_Call");
	GET(PyTuple_New, "PyTuple_New");
	GET(PyTuple_GetItem, "PyTuple_GetItem");
	GET(PyList_New, "PyList_New");
	GET(PyList_Append, "PyList_Append");
	GET(PyList_GetItem, "PyList_GetItem");
	GET(PyLong_FromLong, "PyLong_FromLong");
	GET(PyUnicode_FromString, "PyUnicode_FromString");
	GET(PyType_GetSlot, "PyType_GetSlot");
	GET(PyType_GetFlags, "PyType_GetFlags");
	GET(PyInterpreterState_Head, "PyInterpreterState_Head");
	GET(PyInterpreterState_Next, "PyInterpreterState_Next");
	GET(PyLong_AsSsize_t, "PyLong_AsSsize_t");
	GET(PyErr_Clear, "PyErr_Clear");
	GET(Py_IncRef, "Py_IncRef");
	GET(Py_DecRef, "Py_DecRef");
	GET(PySys_GetSizeOf, "_PySys_GetSizeOf");
	GET(PyType_Lookup, "_PyType_Lookup");
	GET(PyType_IsSubtype, "PyType_IsSubtype");
	GET(PyUnicode_InternFromString, "PyUnicode_InternFromString");
	GET(PyUnicode_AsEncodedString, "PyUnicode_AsEncodedString");
	GET(PyBytes_AsStringAndSize, "PyBytes_AsStringAndSize");
	GET(PyDict_GetItemString, "PyDict_GetItemString");
	GET(Py_GetVersion, "Py_GetVersion");
	GET(PyType_Type, "PyType_Type");
	GET(PyBaseObject_Type, "PyBaseObject_Type");
	GET(PyLong_Type, "PyLong_Type");
	GET(True, "_Py_TrueStruct");
	GET(PyList_Type, "PyList_Type");
	GET(PyTuple_Type, "PyTuple_Type");
	GET(PyUnicode_Type, "PyUnicode_Type");
	GET(PyMethodDescr_Type, "PyMethodDescr_Type");
	GET(PyWrapperDescr_Type, "PyWrapperDescr_Type");
	GET(PyDict_Next, "PyDict_Next");
	GET(PyModule_GetDict, "PyModule_GetDict");
	GET(PyImport_GetModuleDict, "PyImport_GetModuleDict");
	GET(PyObject_GetDictPtr, "_PyObject_GetDictPtr");
	GET(PyDict_Type, "PyDict_Type");
	GET(PySet_Type, "PySet_Type");
	GET(PyFrozenSet_Type, "PyFrozenSet_Type");
	GET(PyCell_Type, "PyCell_Type");
	GET(PyModule_Type, "PyModule_Type");
	GET(PyMemberDescr_Type, "PyMemberDescr_Type");
	GET(PyInterpreterState_Main, "PyInterpreterState_Main");
	GET(PyInterpreterState_ThreadHead, "PyInterpreterState_ThreadHead");
	GET(PyThreadState_Next, "PyThreadState_Next");
	GET(PyCode_Addr2Line, "PyCode_Addr2Line");
	GET(PyFrame_GetLineNumber, "PyFrame_GetLineNumber");
	GET(PyLong_AsUnsignedLong, "PyLong_AsUnsignedLong");
	GET(PyCode_Type, "PyCode_Type");
	GET(PyFrame_Type, "PyFrame_Type");
	GET(PyFunction_Type, "PyFunction_Type");
	GET(PyBytes_Type, "PyBytes_Type");
	GET(PyFunction_GetCode, "PyFunction_GetCode");
	GET(PyFunction_GetClosure, "PyFunction_GetClosure");
	GET(PyFunction_GetModule, "PyFunction_GetModule");
	GET(PyRuntime, "_PyRuntime");
	/* Only free-threaded builds (3.13t) have the shared refcount API. */
	api->free_threaded = dlsym(h, "_Py_DecRefShared") != NULL;
	if (h != RTLD_DEFAULT)
		dlclose(h);
	/* The interpreter's own code: C methods in there run no Python. */
	code.addr = (uintptr_t)api->PyGILState_Ensure;
	if (code.addr && dl_iterate_phdr(find_code, &code)) {
		api->core_lo = code.lo;
		api->core_hi = code.hi;
		api->img_lo = code.img_lo;
		api->img_hi = code.img_hi;
	}

	if (!api->Py_IsInitialized || !api->PyGILState_Ensure ||
	    !api->PyGILState_Release || !api->PyImport_ImportModule ||
	    !api->PyObject_GetAttrString || !api->PyObject_Call ||
	    !api->PyTuple_New || !api->PyTuple_GetItem || !api->PyList_New ||
	    !api->PyList_Append || !api->PyList_GetItem ||
	    !api->PyLong_FromLong || !api->PyUnicode_FromString ||
	    !api->PyType_GetSlot || !api->PyType_GetFlags ||
	    !api->PyTuple_Type || !api->img_hi ||
	    !api->PyLong_AsSsize_t || !api->PyErr_Clear || !api->Py_IncRef ||
	    !api->Py_DecRef || !api->PySys_GetSizeOf || !api->PyType_Lookup ||
	    !api->PyType_IsSubtype || !api->PyBaseObject_Type ||
	    !api->PyLong_Type || !api->True ||
	    !api->PyUnicode_InternFromString ||
	    !api->PyUnicode_AsEncodedString || !api->PyBytes_AsStringAndSize ||
	    !api->Py_GetVersion || !api->PyType_Type || !api->PyList_Type ||
	    !api->PyUnicode_Type || !api->PyMethodDescr_Type) {
		snprintf(why, whylen, "the CPython C API in the process is "
			 "incomplete (Python 3.6 or later needed)");
		return false;
	}
	return true;
}

Py_ssize_t pyapi_take_int(const struct pyapi *api, PyObject *v)
{
	Py_ssize_t n = -1;

	if (v && Py_TYPE(v) == api->PyLong_Type)
		n = api->PyLong_AsSsize_t(v);
	if (v)
		api->Py_DecRef(v);
	api->PyErr_Clear();
	return n;
}

int pyapi_version(const char *v, int *micro)
{
	int major = 0, minor = 0;

	*micro = 0;
	if (sscanf(v, "%d.%d.%d", &major, &minor, micro) < 2 || major != 3)
		return 0;
	return minor;
}

/*
 * Calls gc.FUNC() with no arguments; a new reference or NULL.  The
 * arguments are the (shared) empty tuple, as for a call from Python: with
 * none at all, Argument Clinic's slow path would create the keyword tuple
 * ("generation",) for good, which a later snapshot would see vanish.
 */
PyObject *pyapi_gc_call(const struct pyapi *api, const char *func)
{
	PyObject *gc = api->PyImport_ImportModule("gc");
	PyObject *fn = gc ? api->PyObject_GetAttrString(gc, func) : NULL;
	PyObject *none = api->PyTuple_New(0);
	PyObject *v = fn && none ? api->PyObject_Call(fn, none, NULL) : NULL;

	api->PyErr_Clear();
	if (none)
		api->Py_DecRef(none);
	if (fn)
		api->Py_DecRef(fn);
	if (gc)
		api->Py_DecRef(gc);
	return v;
}
