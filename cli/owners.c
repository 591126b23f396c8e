/* SPDX-License-Identifier: MIT */
/*
 * --owners: the types named on the command line, or with auto the
 * largest types the program defines (not built in, not of the standard
 * library), as the rows of a snapshot name them.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "snapcli.h"

/* sys.stdlib_module_names of CPython 3.11 and 3.15, and the modules
 * that 3.6 to 3.12 had and later ones dropped; sorted (bsearch). */
static const char *const stdlib[] = {
	"__future__", "_abc", "_aix_support", "_android_support",
	"_apple_support", "_ast", "_ast_unparse", "_asyncio", "_bisect",
	"_blake2", "_bootsubprocess", "_bz2", "_codecs", "_codecs_cn",
	"_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr",
	"_codecs_tw", "_collections", "_collections_abc", "_colorize",
	"_compat_pickle", "_compression", "_contextvars", "_crypt", "_csv",
	"_ctypes", "_curses", "_curses_panel", "_datetime", "_dbm",
	"_decimal", "_dummy_thread", "_elementtree", "_frozen_importlib",
	"_frozen_importlib_external", "_functools", "_gdbm", "_hashlib",
	"_heapq", "_hmac", "_imp", "_interpchannels", "_interpqueues",
	"_interpreters", "_io", "_ios_support", "_json", "_locale",
	"_lsprof", "_lzma", "_markupbase", "_math_integer", "_md5", "_msi",
	"_multibytecodec", "_multiprocessing", "_opcode", "_opcode_metadata",
	"_operator", "_osx_support", "_overlapped", "_pickle", "_posixshmem",
	"_posixsubprocess", "_py_abc", "_py_warnings", "_pydatetime",
	"_pydecimal", "_pyio", "_pylong", "_pyrepl", "_queue", "_random",
	"_remote_debugging", "_scproxy", "_sha1", "_sha2", "_sha256",
	"_sha3", "_sha512", "_signal", "_sitebuiltins", "_socket",
	"_sqlite3", "_sre", "_ssl", "_stat", "_statistics", "_string",
	"_strptime", "_struct", "_suggestions", "_symtable", "_sysconfig",
	"_thread", "_threading_local", "_tkinter", "_tokenize",
	"_tracemalloc", "_types", "_typing", "_uuid", "_warnings",
	"_weakref", "_weakrefset", "_winapi", "_wmi", "_zoneinfo", "_zstd",
	"abc", "aifc", "annotationlib", "antigravity", "argparse", "array",
	"ast", "asynchat", "asyncio", "asyncore", "atexit", "audioop",
	"base64", "bdb", "binascii", "binhex", "bisect", "builtins", "bz2",
	"cProfile", "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd",
	"code", "codecs", "codeop", "collections", "colorsys", "compileall",
	"compression", "concurrent", "configparser", "contextlib",
	"contextvars", "copy", "copyreg", "crypt", "csv", "ctypes", "curses",
	"dataclasses", "datetime", "dbm", "decimal", "difflib", "dis",
	"distutils", "doctest", "dummy_threading", "email", "encodings",
	"ensurepip", "enum", "errno", "faulthandler", "fcntl", "filecmp",
	"fileinput", "fnmatch", "formatter", "fractions", "ftplib",
	"functools", "gc", "genericpath", "getopt", "getpass", "gettext",
	"glob", "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac",
	"html", "http", "idlelib", "imaplib", "imghdr", "imp", "importlib",
	"inspect", "io", "ipaddress", "itertools", "json", "keyword",
	"lib2to3", "linecache", "locale", "logging", "lzma", "macpath",
	"mailbox", "mailcap", "marshal", "math", "mimetypes", "mmap",
	"modulefinder", "msilib", "msvcrt", "multiprocessing", "netrc",
	"nis", "nntplib", "nt", "ntpath", "nturl2path", "numbers", "opcode",
	"operator", "optparse", "os", "ossaudiodev", "parser", "pathlib",
	"pdb", "pickle", "pickletools", "pipes", "pkgutil", "platform",
	"plistlib", "poplib", "posix", "posixpath", "pprint", "profile",
	"profiling", "pstats", "pty", "pwd", "py_compile", "pyclbr", "pydoc",
	"pydoc_data", "pyexpat", "queue", "quopri", "random", "re",
	"readline", "reprlib", "resource", "rlcompleter", "runpy", "sched",
	"secrets", "select", "selectors", "shelve", "shlex", "shutil",
	"signal", "site", "smtpd", "smtplib", "sndhdr", "socket",
	"socketserver", "spwd", "sqlite3", "sre_compile", "sre_constants",
	"sre_parse", "ssl", "stat", "statistics", "string", "stringprep",
	"struct", "subprocess", "sunau", "symbol", "symtable", "sys",
	"sysconfig", "syslog", "tabnanny", "tarfile", "telnetlib",
	"tempfile", "termios", "textwrap", "this", "threading", "time",
	"timeit", "tkinter", "token", "tokenize", "tomllib", "trace",
	"traceback", "tracemalloc", "tty", "turtle", "turtledemo", "types",
	"typing", "unicodedata", "unittest", "urllib", "uu", "uuid", "venv",
	"warnings", "wave", "weakref", "webbrowser", "winreg", "winsound",
	"wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp", "zipfile",
	"zipimport", "zlib", "zoneinfo",
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool cli_stdlib_type(const char *name)
{
	const char *dot = strchr(name, '.');
	char top[64];
	size_t len;

	if (!dot)
		return true; /* built in: dict, str, ... */
	len = (size_t)(dot - name);
	if (len >= sizeof(top))
		return false;
	memcpy(top, name, len);
	top[len] = '\0';
	return bsearch(top, stdlib, sizeof(stdlib) / sizeof(stdlib[0]),
		       sizeof(stdlib[0]), cmp_name) != NULL;
}

int cli_parse_owners(char *arg, struct cli_owners *o)
{
	if (strcmp(arg, "auto") == 0) {
		o->automatic = true;
		return 0;
	}
	/* not strtok: "a,,b" names an empty type, never two */
	for (char *t = arg, *comma; t; t = comma) {
		comma = strchr(t, ',');
		if (comma)
			*comma++ = '\0';
		if (!*t || o->n == MUPPY_OWNERS_MAX)
			return -1;
		o->names[o->n++] = t;
	}
	return 0;
}

size_t cli_owners_pick(const struct muppy_snapshot *s, char **names,
		       size_t max)
{
	size_t n = 0;

	/* the rows are in canonical order: bytes descending */
	for (size_t i = 0; i < s->ntypes && n < max; i++) {
		if (cli_stdlib_type(s->types[i].name))
			continue;
		names[n] = strdup(s->types[i].name);
		if (names[n])
			n++;
	}
	return n;
}
