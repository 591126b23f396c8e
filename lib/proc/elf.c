/* SPDX-License-Identifier: MIT */
/*
 * Dynamic symbols of the target's own files (never ours: the target may
 * run another libc, in another mount namespace).
 *
 * One rule for opening a file the target names (inject.h, "Hostile
 * targets"): first as an O_PATH descriptor, which opens nothing (a FIFO
 * does not block, a device is not touched), either through
 * /proc/PID/map_files/START-END (the very file mapped; needs CAP_SYS_ADMIN
 * or CAP_CHECKPOINT_RESTORE) or by openat2() of the path from its maps
 * under a dirfd of /proc/PID/root with RESOLVE_IN_ROOT and
 * RESOLVE_NO_MAGICLINKS, and O_NOFOLLOW; never the same path in our own
 * namespace, never a name ending in " (deleted)" (the file is gone; what
 * has that name now is another).  Only a regular file whose device and
 * inode are the mapping's, and not over MUPPY__ELF_FILE_MAX, is then
 * opened for reading, through that descriptor, with O_NONBLOCK|O_NOCTTY.
 *
 * Its ELF is read within the file's real size and fixed caps (no more
 * than MUPPY__ELF_SECTIONS sections, MUPPY__ELF_TABLE_MAX bytes of
 * symbols, versions or names), so that a sparse file claiming gigabytes
 * of symbols costs nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "proc/proc.h"

/* The files of a target are read only when they are of the machine
 * muppy-snap is built for (lib/inject/arch/ has one file for each). */
#if defined(__x86_64__)
#define OUR_ELF_MACHINE EM_X86_64
#define OUR_ELF_CLASS ELFCLASS64
#else
#error "lib/inject/arch/ has no file for this architecture"
#endif

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct muppy__elf {
	int fd;
	Elf *elf;
	Elf_Data *syms, *vers;
	size_t nsyms, strndx;
	uint64_t bias;
	struct muppy__map map; /* copy of the first mapping */
};

static bool same_inode(const struct stat *st, const struct muppy__map *m)
{
	return st->st_ino == m->inode && major(st->st_dev) == m->dev_major &&
	       minor(st->st_dev) == m->dev_minor;
}

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), k = strlen(end);

	return n >= k && !strcmp(s + n - k, end);
}

/* An O_PATH descriptor of the file mapped at m, or -errno. */
static int path_mapped(pid_t pid, const struct muppy__map *m)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[96];
	int fd, root, ret;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (m->path[0] != '/' || ends_with(m->path, " (deleted)"))
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, m->path, &how, sizeof(how));
	ret = fd < 0 ? -errno : fd;
	close(root);
	return ret;
}

/* The file mapped at m, open for reading, checked as above; -errno. */
static int open_mapped(pid_t pid, const struct muppy__map *m,
		       struct stat *st)
{
	char self[64];
	struct stat again;
	int pfd, fd;

	pfd = path_mapped(pid, m);
	if (pfd < 0)
		return pfd;
	fd = -ENOENT;
	if (fstat(pfd, st) < 0 || !S_ISREG(st->st_mode) || !same_inode(st, m))
		goto out;
	fd = -EFBIG;
	if (st->st_size < 0 || (uint64_t)st->st_size > MUPPY__ELF_FILE_MAX)
		goto out;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		goto out;
	}
	if (fstat(fd, &again) < 0 || again.st_ino != st->st_ino ||
	    again.st_dev != st->st_dev || !S_ISREG(again.st_mode)) {
		close(fd);
		fd = -ENOENT;
	}
out:
	close(pfd);
	return fd;
}

/*
 * The ELF header's counts of sections and program headers, read before
 * libelf does (it allocates for every section): within caps, and their
 * tables within the file.
 */
static bool elf_sane(int fd, uint64_t size)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh0;
	uint64_t shnum, phnum;

	if (size < sizeof(eh) || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return false;
	shnum = eh.e_shnum;
	phnum = eh.e_phnum;
	if (eh.e_shoff && (shnum == 0 || phnum == PN_XNUM)) {
		/* the extended counts are in section header 0 */
		if (eh.e_shoff > size - sizeof(sh0) ||
		    pread(fd, &sh0, sizeof(sh0), (off_t)eh.e_shoff) != sizeof(sh0))
			return false;
		if (shnum == 0)
			shnum = sh0.sh_size;
		if (phnum == PN_XNUM)
			phnum = sh0.sh_info;
	}
	if (shnum > MUPPY__ELF_SECTIONS || phnum > MUPPY__ELF_SECTIONS)
		return false;
	if (shnum && (eh.e_shentsize != sizeof(Elf64_Shdr) ||
		      eh.e_shoff > size || shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff))
		return false;
	if (phnum && (eh.e_phentsize != sizeof(Elf64_Phdr) ||
		      eh.e_phoff > size || phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff))
		return false;
	return true;
}

/* A table of the file: in it, and within MUPPY__ELF_TABLE_MAX. */
static bool table_sane(const GElf_Shdr *sh, uint64_t size)
{
	return sh->sh_type == SHT_NOBITS ? false :
	       sh->sh_size <= MUPPY__ELF_TABLE_MAX && sh->sh_offset <= size &&
	       sh->sh_size <= size - sh->sh_offset;
}

/* The string table of the symbols: sane, and ending in a NUL (libelf
 * otherwise searches for the end of every name it is asked for). */
static bool strtab_sane(Elf *elf, size_t ndx, uint64_t size)
{
	Elf_Scn *scn = elf_getscn(elf, ndx);
	Elf_Data *d;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB ||
	    !table_sane(&sh, size) || sh.sh_size == 0)
		return false;
	d = elf_getdata(scn, NULL);
	return d && d->d_buf && d->d_size == sh.sh_size &&
	       ((const char *)d->d_buf)[d->d_size - 1] == '\0';
}

int muppy__elf_open(pid_t pid, const struct muppy__maps *maps,
		    const struct muppy__map *obj, struct muppy__elf **out,
		    struct muppy_error *err)
{
	struct muppy__elf *e;
	struct stat st;
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	size_t i, nph;
	uint64_t size;
	char q[512];
	int ret = -ENOEXEC;

	(void)maps;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->map = *obj;
	e->map.path = strdup(obj->path);
	if (!e->map.path) {
		free(e);
		return -ENOMEM;
	}
	muppy__shown(obj->path, q, sizeof(q));
	e->fd = open_mapped(pid, obj, &st);
	if (e->fd < 0) {
		ret = e->fd;
		if (ret == -EFBIG)
			muppy_error_set(err, "%s of process %d is over the %llu GiB muppy-snap reads",
					q, (int)pid,
					(unsigned long long)(MUPPY__ELF_FILE_MAX >> 30));
		else
			muppy__error_errno(err, -ret, "cannot open %s of process %d (not through /proc/%d/map_files nor /proc/%d/root, as a regular file)",
					   q, (int)pid, (int)pid, (int)pid);
		goto out_free;
	}
	size = (uint64_t)st.st_size;
	if (!elf_sane(e->fd, size)) {
		muppy_error_set(err, "%s: not an ELF file muppy-snap reads (over %u sections, or tables outside the file)",
				q, MUPPY__ELF_SECTIONS);
		goto out_close;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || !gelf_getehdr(e->elf, &eh)) {
		muppy_error_set(err, "%s: not an ELF file", q);
		goto out_close;
	}
	if (eh.e_machine != OUR_ELF_MACHINE ||
	    eh.e_ident[EI_CLASS] != OUR_ELF_CLASS) {
		muppy_error_set(err, "%s in process %d is not for this architecture (ELF machine %u); only x86-64 processes are supported",
				q, (int)pid, eh.e_machine);
		goto out_close;
	}
	if (elf_getphdrnum(e->elf, &nph) || nph > MUPPY__ELF_SECTIONS)
		goto out_bad;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e->elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    ph.p_offset < 4096) {
			e->bias = obj->start - (ph.p_vaddr & ~UINT64_C(4095));
			break;
		}
	}
	if (i == nph)
		goto out_bad;
	for (i = 0; (scn = elf_nextscn(e->elf, scn)) && i < MUPPY__ELF_SECTIONS; i++) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM && !e->syms) {
			if (!table_sane(&sh, size) ||
			    sh.sh_entsize != sizeof(Elf64_Sym) ||
			    !strtab_sane(e->elf, sh.sh_link, size)) {
				muppy_error_set(err, "%s in process %d: its symbol table is over %u MiB, outside the file or broken",
						q, (int)pid, MUPPY__ELF_TABLE_MAX >> 20);
				goto out_close;
			}
			e->syms = elf_getdata(scn, NULL);
			e->strndx = sh.sh_link;
			e->nsyms = sh.sh_size / sh.sh_entsize;
			if (e->syms && e->syms->d_size < e->nsyms * sizeof(Elf64_Sym))
				e->syms = NULL;
		} else if (sh.sh_type == SHT_GNU_versym && table_sane(&sh, size)) {
			e->vers = elf_getdata(scn, NULL);
		}
	}
	if (!e->syms)
		goto out_bad;
	*out = e;
	return 0;

out_bad:
	muppy_error_set(err, "%s in process %d: no dynamic symbol table",
			q, (int)pid);
out_close:
	if (e->elf)
		elf_end(e->elf);
	close(e->fd);
out_free:
	free(e->map.path);
	free(e);
	return ret;
}

void muppy__elf_close(struct muppy__elf *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	close(e->fd);
	free(e->map.path);
	free(e);
}

uint64_t muppy__elf_bias(const struct muppy__elf *e)
{
	return e->bias;
}

const struct muppy__map *muppy__elf_map(const struct muppy__elf *e)
{
	return &e->map;
}

static bool is_default_version(const struct muppy__elf *e, size_t i)
{
	GElf_Versym v;

	if (!e->vers || !gelf_getversym(e->vers, (int)i, &v))
		return true;
	return !(v & 0x8000);
}

static int find(const struct muppy__elf *e, const char *name, bool tls,
		uint64_t *val)
{
	bool found = false;
	size_t i;

	for (i = 1; i < e->nsyms; i++) {
		GElf_Sym s;
		const char *n;
		int type;

		if (!gelf_getsym(e->syms, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (tls != (type == STT_TLS))
			continue;
		n = elf_strptr(e->elf, e->strndx, s.st_name);
		if (!n || strcmp(n, name))
			continue;
		if (type == STT_GNU_IFUNC)
			return -ENOEXEC; /* would need its resolver run */
		*val = s.st_value;
		found = true;
		if (is_default_version(e, i))
			break;
	}
	return found ? 0 : -ENOENT;
}

int muppy__elf_sym(const struct muppy__elf *e, const char *name,
		   uint64_t *addr)
{
	uint64_t v;
	int ret = find(e, name, false, &v);

	if (!ret)
		*addr = e->bias + v;
	return ret;
}

int muppy__elf_tls_sym(const struct muppy__elf *e, const char *name,
		       uint64_t *off)
{
	return find(e, name, true, off);
}

int muppy__elf_names_at(const struct muppy__elf *e, uint64_t addr,
			int (*fn)(const char *name, void *arg), void *arg)
{
	uint64_t off = addr - e->bias;
	size_t i;
	int ret;

	for (i = 1; i < e->nsyms; i++) {
		GElf_Sym s;
		const char *n;

		if (!gelf_getsym(e->syms, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC)
			continue;
		if (off < s.st_value || off >= s.st_value + s.st_size)
			continue;
		n = elf_strptr(e->elf, e->strndx, s.st_name);
		if (n && (ret = fn(n, arg)))
			return ret;
	}
	return 0;
}
