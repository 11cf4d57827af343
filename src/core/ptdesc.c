// SPDX-License-Identifier: MIT
/*
 * src/core/ptdesc.c - page-table pages and their descriptors.
 *
 * Models pagetable_alloc() and pagetable_free() of include/linux/mm.h and
 * struct ptdesc of include/linux/mm_types.h. A page-table page is exactly
 * 4 KiB of entries; its lock, RCU head, level and deposit link live in a
 * separate descriptor, as the kernel keeps them in the page's struct page
 * (virt_to_ptdesc). The kernel takes the page from the buddy allocator; the
 * model keeps page tables out of the system's RAM (data=none has no page
 * frames, and tests count free RAM), in chunks of its own: a 2 MiB-aligned
 * chunk whose first pages are the descriptors of the chunk's pages, like a
 * memory section and its memmap. Nothing is touched before it is used, so
 * a chunk costs its used pages and their descriptors, and a descriptor is
 * found from any address inside its table by masking and one shift.
 * Freed pages go back to a free list for the system's lifetime.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define ZD_PT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZD_PT_ASAN 1
#endif
#endif
#ifdef ZD_PT_ASAN
#include <sanitizer/asan_interface.h>
/* A free page-table page is poisoned, so a use after free is reported as with free(). */
#define pt_poison(p)	ASAN_POISON_MEMORY_REGION((p), ZD_PAGE_SIZE)
#define pt_unpoison(p)	ASAN_UNPOISON_MEMORY_REGION((p), ZD_PAGE_SIZE)
#else
#define pt_poison(p)	((void)(p))
#define pt_unpoison(p)	((void)(p))
#endif

/* The chunk's own bookkeeping, in the slot of descriptor 0 (page 0 holds descriptors). */
struct pt_chunk {
	struct pt_chunk *next;
	struct zd_system *sys;
};
_Static_assert(sizeof(struct pt_chunk) <= sizeof(struct zd_ptdesc),
	       "the chunk header fits in descriptor 0");

static struct zd_ptdesc *chunk_descs(struct pt_chunk *c)
{
	return (struct zd_ptdesc *)(void *)c;
}

static struct pt_chunk *chunk_new(struct zd_system *sys)
{
	size_t len = ZD_PT_CHUNK_SIZE;
	unsigned char *map, *base;

	/* Twice the size, then trimmed to an aligned chunk. */
	map = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	base = (unsigned char *)(((uintptr_t)map + len - 1) & ~(uintptr_t)(len - 1));
	if (base > map)
		munmap(map, (size_t)(base - map));
	if (base + len < map + 2 * len)
		munmap(base + len, (size_t)(map + 2 * len - (base + len)));
	/* One transparent huge page would make the whole chunk resident at once. */
	madvise(base, len, MADV_NOHUGEPAGE);
	((struct pt_chunk *)(void *)base)->next = sys->pt_chunks;
	((struct pt_chunk *)(void *)base)->sys = sys;
	sys->pt_chunks = (struct pt_chunk *)(void *)base;
	sys->pt_next = ZD_PT_CHUNK_DESC_PAGES;
	return sys->pt_chunks;
}

void *_zd_pagetable_alloc(struct zd_system *sys)
{
	struct zd_ptdesc *d;
	void *table;

	zd_spin_lock(&sys->pt_lock);
	d = sys->pt_free;
	if (d) {
		sys->pt_free = d->pt_free_next;
	} else {
		if ((!sys->pt_chunks || sys->pt_next == ZD_PT_CHUNK_PAGES) && !chunk_new(sys)) {
			zd_spin_unlock(&sys->pt_lock);
			return NULL;
		}
		d = &chunk_descs(sys->pt_chunks)[sys->pt_next++];
	}
	zd_spin_unlock(&sys->pt_lock);
	table = _zd_ptdesc_address(d);
	pt_unpoison(table);
	return table;
}

void _zd_pagetable_free(void *table)
{
	struct zd_ptdesc *d = _zd_virt_to_ptdesc(table);
	struct pt_chunk *c = (struct pt_chunk *)((uintptr_t)table & ~(uintptr_t)(ZD_PT_CHUNK_SIZE - 1));
	struct zd_system *sys = c->sys;

	pt_poison(table);
	zd_spin_lock(&sys->pt_lock);
	d->pt_free_next = sys->pt_free;
	sys->pt_free = d;
	zd_spin_unlock(&sys->pt_lock);
}

void _zd_pagetables_exit(struct zd_system *sys)
{
	while (sys->pt_chunks) {
		struct pt_chunk *c = sys->pt_chunks;

		sys->pt_chunks = c->next;
#ifdef ZD_PT_ASAN
		ASAN_UNPOISON_MEMORY_REGION(c, ZD_PT_CHUNK_SIZE);
#endif
		munmap(c, ZD_PT_CHUNK_SIZE);
	}
	sys->pt_free = NULL;
}
