/* SPDX-License-Identifier: MIT */
/* Symbols of a library loaded in the target, read from its dynamic
 * section in the target's memory (GNU or SysV hash), each hash chain
 * within MUPPY__SYM_CHAIN_MAX steps and the library's mapping. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "inject/inject_int.h"

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0, g;

	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/*
 * Everything read here is the target's: every address must lie in the
 * library's own mappings [lo, hi), and a hash chain is followed for at
 * most MUPPY__SYM_CHAIN_MAX symbols (a leftover's library may be forged
 * by the target, its chain made endless).
 */
struct dyn {
	pid_t pid;
	uint64_t base, lo, hi, symtab, strtab, gnuhash, hash;
};

static bool in_obj(const struct dyn *d, uint64_t addr, uint64_t len)
{
	return addr >= d->lo && addr <= d->hi && len <= d->hi - addr;
}

static int obj_read(const struct dyn *d, uint64_t addr, void *buf,
		    uint64_t len)
{
	if (!in_obj(d, addr, len))
		return -EFAULT;
	return muppy__mem_read(d->pid, addr, buf, (size_t)len);
}

static int check_sym(const struct dyn *d, uint32_t i, const char *name,
		     uint64_t *addr)
{
	Elf64_Sym s;
	char buf[256];
	size_t room;

	if (obj_read(d, d->symtab + (uint64_t)i * sizeof(s), &s, sizeof(s)))
		return -EIO;
	if (s.st_shndx == SHN_UNDEF || s.st_name == 0 ||
	    !in_obj(d, d->strtab + s.st_name, 1))
		return -ENOENT;
	room = d->hi - (d->strtab + s.st_name);
	if (muppy__mem_read_str(d->pid, d->strtab + s.st_name, buf,
				room < sizeof(buf) ? room : sizeof(buf)) ||
	    strcmp(buf, name))
		return -ENOENT;
	*addr = d->base + s.st_value;
	return 0;
}

static int lookup_gnu(const struct dyn *d, const char *name, uint64_t *addr)
{
	uint32_t h = gnu_hash(name), hdr[4], b, c[64];
	uint64_t buckets, chains, i, at;

	if (obj_read(d, d->gnuhash, hdr, sizeof(hdr)) || !hdr[0])
		return -EIO;
	buckets = d->gnuhash + 16 + (uint64_t)hdr[2] * 8;
	chains = buckets + (uint64_t)hdr[0] * 4;
	if (!in_obj(d, buckets, (uint64_t)hdr[0] * 4) ||
	    obj_read(d, buckets + (uint64_t)(h % hdr[0]) * 4, &b, 4))
		return -EIO;
	if (b < hdr[1])
		return -ENOENT;
	for (i = 0; i < MUPPY__SYM_CHAIN_MAX; i++) {
		uint64_t k = i % ARRAY_SIZE(c), n;

		if (k == 0) { /* the next words of the chain, in one read */
			at = chains + ((uint64_t)b - hdr[1] + i) * 4;
			n = at < d->hi ? (d->hi - at) / 4 : 0;
			if (n == 0 || obj_read(d, at, c, 4 * (n < ARRAY_SIZE(c) ?
							      n : ARRAY_SIZE(c))))
				return -EIO;
			if (n < ARRAY_SIZE(c))
				c[n] = 1; /* the mapping ends: so does the chain */
		}
		if ((c[k] | 1) == (h | 1) && !check_sym(d, (uint32_t)(b + i), name, addr))
			return 0;
		if (c[k] & 1)
			return -ENOENT;
	}
	return -ELOOP;
}

static int lookup_sysv(const struct dyn *d, const char *name, uint64_t *addr)
{
	uint32_t hdr[2], i;
	uint64_t n;

	if (obj_read(d, d->hash, hdr, sizeof(hdr)) || !hdr[0])
		return -EIO;
	if (obj_read(d, d->hash + 8 + (uint64_t)(sysv_hash(name) % hdr[0]) * 4, &i, 4))
		return -EIO;
	for (n = 0; i && i < hdr[1]; n++) {
		if (n == MUPPY__SYM_CHAIN_MAX)
			return -ELOOP;
		if (!check_sym(d, i, name, addr))
			return 0;
		if (obj_read(d, d->hash + 8 + ((uint64_t)hdr[0] + i) * 4, &i, 4))
			return -EIO;
	}
	return -ENOENT;
}

/* The mappings of the library at base, [*lo, *hi); false if none. */
static bool lib_bounds(struct muppy__target *t, uint64_t base, uint64_t *lo,
		       uint64_t *hi)
{
	const struct muppy__map *m = muppy__maps_find(&t->maps, base);
	struct muppy__maps now;

	if (!m || !m->inode) { /* loaded since the mappings were read */
		if (muppy__maps_read(t->pid, &now, NULL))
			return false;
		muppy__maps_free(&t->maps);
		t->maps = now;
		m = muppy__maps_find(&t->maps, base);
	}
	m = m ? muppy__maps_object(&t->maps, m) : NULL;
	if (!m)
		return false;
	*lo = m->start;
	*hi = muppy__maps_object_end(&t->maps, m);
	return true;
}

int muppy__target_sym(struct muppy__target *t, const struct muppy__lib *lib,
		      const char *name, uint64_t *addr,
		      struct muppy_error *err)
{
	struct dyn d = { t->pid, lib->base, 0, 0, 0, 0, 0, 0 };
	Elf64_Dyn e[64];
	uint64_t ld, lm;
	char q[128];
	int i, k, ret;

	ret = muppy__link_map_find(t, NULL, lib->handle, &lm, NULL, err);
	if (ret || muppy__mem_read(t->pid, lm + LM_LD, &ld, sizeof(ld)) ||
	    !lib_bounds(t, lib->base, &d.lo, &d.hi)) {
		muppy_error_set(err, "library %s is not loaded in process %d",
				muppy__shown(lib->name, q, sizeof(q)), (int)t->pid);
		return -ENOENT;
	}
	for (i = 0; i < 1024; i += (int)ARRAY_SIZE(e)) {
		uint64_t at = ld + (uint64_t)i * sizeof(*e);
		uint64_t n = in_obj(&d, at, sizeof(*e)) ?
			     (d.hi - at) / sizeof(*e) : 0;

		if (n > ARRAY_SIZE(e))
			n = ARRAY_SIZE(e);
		if (n == 0 || obj_read(&d, at, e, n * sizeof(*e)))
			break;
		for (k = 0; k < (int)n && e[k].d_tag != DT_NULL; k++) {
			/* glibc relocates these in place unless .dynamic is
			 * read-only */
			if (e[k].d_un.d_ptr < d.base)
				e[k].d_un.d_ptr += d.base;
			switch (e[k].d_tag) {
			case DT_SYMTAB: d.symtab = e[k].d_un.d_ptr; break;
			case DT_STRTAB: d.strtab = e[k].d_un.d_ptr; break;
			case DT_GNU_HASH: d.gnuhash = e[k].d_un.d_ptr; break;
			case DT_HASH: d.hash = e[k].d_un.d_ptr; break;
			}
		}
		if (k < (int)n)
			break;
	}
	ret = -ENOENT;
	if (d.symtab && d.strtab && d.gnuhash)
		ret = lookup_gnu(&d, name, addr);
	else if (d.symtab && d.strtab && d.hash)
		ret = lookup_sysv(&d, name, addr);
	if (ret == -ELOOP)
		muppy_error_set(err, "library %s in process %d: its hash chain is over %u symbols long (a forged library)",
				muppy__shown(lib->name, q, sizeof(q)), (int)t->pid,
				MUPPY__SYM_CHAIN_MAX);
	else if (ret)
		muppy_error_set(err, "no symbol %s in the injected library", name);
	return ret ? -ENOENT : 0;
}
