// SPDX-License-Identifier: MIT
/*
 * src/core/memmap.c - the memmap: pfn <-> page <-> bytes.
 *
 * Models mm/sparse.c and include/linux/mmzone.h (mem_section, pfn_to_page,
 * page_to_pfn) and the pgmap xarray lookup of mm/memremap.c. RAM is pfn
 * [0, N) with one memmap; each device range has its own memmap, found
 * from a pfn through a two-level table of 2 MiB subsections whose slots
 * are published and cleared under RCU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

_Static_assert(sizeof(struct zd_page) <= 64, "struct zd_page must stay within 64 bytes");
_Static_assert(sizeof(struct _zd_memmap_hdr) == sizeof(struct zd_page),
	       "the RAM memmap header takes one page slot");

/*
 * The RAM memmap lives right after a header aligned to ZD_MEMMAP_ALIGN,
 * so zd_page_system() needs no global table: reserve twice the span,
 * keep the aligned part.
 */
int _zd_memmap_ram_init(struct zd_system *sys)
{
	unsigned long nr = sys->ram_pages;
	size_t need = (nr + 1) * sizeof(struct zd_page);
	size_t psz = 4096, len = (need + psz - 1) & ~(psz - 1);
	unsigned char *map, *base;

	if (need > ZD_MEMMAP_ALIGN)
		return -EINVAL;
	map = mmap(NULL, len + ZD_MEMMAP_ALIGN, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	base = (unsigned char *)(((uintptr_t)map + ZD_MEMMAP_ALIGN - 1) & ~(ZD_MEMMAP_ALIGN - 1));
	if (base > map)
		munmap(map, (size_t)(base - map));
	if (map + len + ZD_MEMMAP_ALIGN > base + len)
		munmap(base + len, (size_t)(map + len + ZD_MEMMAP_ALIGN - (base + len)));
	if (mprotect(base, len, PROT_READ | PROT_WRITE)) {
		munmap(base, len);
		return -ENOMEM;
	}
	sys->ram_hdr = (struct _zd_memmap_hdr *)base;
	sys->ram_map_len = len;
	sys->ram_hdr->sys = sys;
	sys->ram_memmap = (struct zd_page *)(base + sizeof(struct zd_page));
	sys->ram_hdr->memmap = sys->ram_memmap;
	sys->ram_hdr->nr_pages = nr;
	for (unsigned long i = 0; i < nr; i++) {
		struct zd_page *p = &sys->ram_memmap[i];

		zd_atomic_init(&p->flags, 0ul);
		zd_atomic_init(&p->_refcount, 0);
		zd_atomic_init(&p->_mapcount, -1);
		zd_atomic_init(&p->_pincount, 0);
		zd_atomic_init(&p->_entire_mapcount, -1);
	}
	if (sys->opts.data == ZD_DATA_REAL) {
		sys->ram_data = mmap(NULL, nr << ZD_PAGE_SHIFT, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (sys->ram_data == MAP_FAILED) {
			sys->ram_data = NULL;
			munmap(base, len);
			return -ENOMEM;
		}
	}
	if (_zd_check_full(sys)) {
		sys->ram_shadow = calloc(nr, sizeof(*sys->ram_shadow));
		if (!sys->ram_shadow) {
			_zd_memmap_ram_exit(sys);
			return -ENOMEM;
		}
	}
	_zd_update_slow(sys);
	return 0;
}

void _zd_memmap_ram_exit(struct zd_system *sys)
{
	if (sys->ram_data)
		munmap(sys->ram_data, sys->ram_pages << ZD_PAGE_SHIFT);
	free((void *)sys->ram_shadow);
	if (sys->ram_hdr)
		munmap(sys->ram_hdr, sys->ram_map_len);
	sys->ram_data = NULL;
	sys->ram_shadow = NULL;
	sys->ram_hdr = NULL;
}

/* RAM gets/puts leave the inline path while anything watches them. */
void _zd_update_slow(struct zd_system *sys)
{
	int slow = _zd_tracing(sys) || _zd_check_full(sys);

	zd_atomic_store_relaxed(&sys->ram_hdr->slow, slow);
}

/* ---- device pfn space ---- */

static struct _zd_section_leaf *leaf_of(struct zd_system *sys, unsigned long si)
{
	return zd_rcu_dereference(sys->sections[si >> ZD_SECTION_LEAF_BITS]);
}

/* The range covering a device pfn. Context: RCU read side or a pgmap reference. */
struct _zd_pgmap_range *_zd_pfn_range(struct zd_system *sys, unsigned long pfn)
{
	unsigned long si = pfn >> ZD_SUBSECTION_SHIFT;
	struct _zd_section_leaf *leaf;

	if (pfn >= ZD_PFN_LIMIT)
		return NULL;
	leaf = leaf_of(sys, si);
	if (!leaf)
		return NULL;
	return zd_rcu_dereference(leaf->slot[si & ((1u << ZD_SECTION_LEAF_BITS) - 1)]);
}

/* Publish @rs in every subsection it spans. Context: pgmap_lock held. */
int _zd_section_install(struct zd_system *sys, struct _zd_pgmap_range *rs)
{
	unsigned long first = rs->pfn_start >> ZD_SUBSECTION_SHIFT;
	unsigned long last = (rs->pfn_start + rs->nr_pages - 1) >> ZD_SUBSECTION_SHIFT;

	if (rs->pfn_start + rs->nr_pages > ZD_PFN_LIMIT)
		return -EINVAL;
	for (unsigned long si = first; si <= last; si++) {
		unsigned long top = si >> ZD_SECTION_LEAF_BITS;
		struct _zd_section_leaf *leaf = zd_atomic_load_relaxed(&sys->sections[top]);

		if (!leaf) {
			leaf = calloc(1, sizeof(*leaf));
			if (!leaf) {
				/* unwind what was published; leaves stay until destroy */
				for (unsigned long s = first; s < si; s++)
					zd_rcu_assign_pointer(leaf_of(sys, s)->slot[s & ((1u << ZD_SECTION_LEAF_BITS) - 1)],
							      (struct _zd_pgmap_range *)NULL);
				return -ENOMEM;
			}
			zd_rcu_assign_pointer(sys->sections[top], leaf);
		}
		/* Release pairs with the acquire in _zd_pfn_range(): the memmap is initialised. */
		zd_rcu_assign_pointer(leaf->slot[si & ((1u << ZD_SECTION_LEAF_BITS) - 1)], rs);
	}
	return 0;
}

/* Unpublish @rs; the caller waits a grace period before freeing it. */
void _zd_section_clear(struct zd_system *sys, struct _zd_pgmap_range *rs)
{
	unsigned long first = rs->pfn_start >> ZD_SUBSECTION_SHIFT;
	unsigned long last = (rs->pfn_start + rs->nr_pages - 1) >> ZD_SUBSECTION_SHIFT;

	for (unsigned long si = first; si <= last; si++) {
		struct _zd_section_leaf *leaf = zd_atomic_load_relaxed(&sys->sections[si >> ZD_SECTION_LEAF_BITS]);

		if (leaf)
			zd_rcu_assign_pointer(leaf->slot[si & ((1u << ZD_SECTION_LEAF_BITS) - 1)],
					      (struct _zd_pgmap_range *)NULL);
	}
}

void _zd_sections_free(struct zd_system *sys)
{
	for (unsigned i = 0; i < (1u << ZD_SECTION_TOP_BITS); i++)
		free(zd_atomic_load_relaxed(&sys->sections[i]));
}

/* ---- page <-> pfn ---- */

/* The device range whose memmap holds @page. */
struct _zd_pgmap_range *_zd_page_range(const struct zd_page *page)
{
	struct zd_dev_pagemap *pgmap = zd_page_folio(page)->page.pgmap;

	for (int i = 0; pgmap && i < pgmap->nr_range; i++) {
		struct _zd_pgmap_range *rs = pgmap->rs[i];

		if (rs && page >= rs->memmap && page < rs->memmap + rs->nr_pages)
			return rs;
	}
	return NULL;
}

struct zd_system *zd_page_system(const struct zd_page *page)
{
	if (zd_is_zone_device_page(page))
		return zd_page_folio(page)->page.pgmap->sys;
	return _zd_ram_hdr(page)->sys;
}

unsigned long zd_page_to_pfn(const struct zd_page *page)
{
	struct _zd_pgmap_range *rs;

	if (!zd_is_zone_device_page(page))
		return (unsigned long)(page - _zd_ram_hdr(page)->memmap);
	rs = _zd_page_range(page);
	return rs ? rs->pfn_start + (unsigned long)(page - rs->memmap) : ~0ul;
}

struct zd_page *zd_pfn_to_page(struct zd_system *sys, unsigned long pfn)
{
	struct _zd_pgmap_range *rs;

	if (pfn < sys->ram_pages)
		return &sys->ram_memmap[pfn];
	rs = _zd_pfn_range(sys, pfn);
	if (!rs || pfn < rs->pfn_start || pfn >= rs->pfn_start + rs->nr_pages)
		return NULL;
	return &rs->memmap[pfn - rs->pfn_start];
}

void *zd_page_address(const struct zd_page *page)
{
	struct _zd_pgmap_range *rs;

	if (!zd_is_zone_device_page(page)) {
		struct _zd_memmap_hdr *hdr = _zd_ram_hdr(page);

		if (!hdr->sys->ram_data)
			return NULL;
		return hdr->sys->ram_data + ((size_t)(page - hdr->memmap) << ZD_PAGE_SHIFT);
	}
	rs = _zd_page_range(page);
	if (!rs || !rs->data)
		return NULL;
	return rs->data + ((size_t)(page - rs->memmap) << ZD_PAGE_SHIFT);
}

_Atomic int *_zd_shadow_slot(const struct zd_page *page)
{
	struct _zd_pgmap_range *rs;

	if (!zd_is_zone_device_page(page)) {
		struct _zd_memmap_hdr *hdr = _zd_ram_hdr(page);

		return hdr->sys->ram_shadow ? &hdr->sys->ram_shadow[page - hdr->memmap] : NULL;
	}
	rs = _zd_page_range(page);
	return rs && rs->shadow ? &rs->shadow[page - rs->memmap] : NULL;
}
