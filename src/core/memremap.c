// SPDX-License-Identifier: MIT
/*
 * src/core/memremap.c - dev_pagemap registration, lookup and teardown.
 *
 * Models mm/memremap.c (memremap_pages, pagemap_range, memunmap_pages,
 * get_dev_pagemap), the pgmap's percpu_ref (one atomic counter with a
 * "dead" bit: live gets fail once killed), memmap_init_zone_device of
 * mm/mm_init.c, and request_free_mem_region of kernel/resource.c.
 * Simplified: no altmap, no memory hotplug or direct map; each range gets
 * a memmap of its own and, with data=real, bytes of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"


const char *zd_memory_type_name(int type)
{
	switch (type) {
	case 0: return "ram";
	case ZD_MEMORY_DEVICE_PRIVATE: return "private";
	case ZD_MEMORY_DEVICE_COHERENT: return "coherent";
	case ZD_MEMORY_DEVICE_FS_DAX: return "fsdax";
	case ZD_MEMORY_DEVICE_GENERIC: return "generic";
	case ZD_MEMORY_DEVICE_PCI_P2PDMA: return "p2pdma";
	default: return "unknown";
	}
}

int zd_pgmap_free_refcount(const struct zd_dev_pagemap *pgmap)
{
	if (pgmap->sys->opts.scheme == ZD_SCHEME_ONE)
		return 1;
	return pgmap->type == ZD_MEMORY_DEVICE_GENERIC ? 1 : 0;
}

/* Types whose pages are allocated by a driver and carry pgmap refs per allocation. */
static bool pgmap_refs_per_alloc(const struct zd_dev_pagemap *pgmap)
{
	return pgmap->sys->opts.scheme == ZD_SCHEME_ZERO &&
	       (pgmap->type == ZD_MEMORY_DEVICE_PRIVATE || pgmap->type == ZD_MEMORY_DEVICE_COHERENT);
}

/* ---- the percpu_ref model ---- */

bool _zd_pgmap_tryget_live(struct zd_dev_pagemap *pgmap, long n)
{
	long v = zd_atomic_load_relaxed(&pgmap->ref);

	do {
		if (v & ZD_PGMAP_REF_DEAD)
			return false;
	} while (!zd_atomic_cmpxchg_acq_rel(&pgmap->ref, &v, v + n));
	return true;
}

/*
 * percpu_ref_tryget_many() after the ref went atomic: add @n unless the
 * count already reached zero. The DEAD mark is ignored, so a killed pgmap
 * still hands out references while other pages keep it alive (R3.4).
 */
bool _zd_pgmap_tryget_many(struct zd_dev_pagemap *pgmap, long n)
{
	long v = zd_atomic_load_relaxed(&pgmap->ref);

	do {
		if (!(v & ~ZD_PGMAP_REF_DEAD))
			return false;
	} while (!zd_atomic_cmpxchg_acq_rel(&pgmap->ref, &v, v + n));
	return true;
}

void _zd_pgmap_put_refs(struct zd_dev_pagemap *pgmap, long refs)
{
	/* acq_rel: the last put orders every holder's work before teardown resumes. */
	long old = zd_atomic_fetch_sub_acq_rel(&pgmap->ref, refs);
	long count = old & ~ZD_PGMAP_REF_DEAD;

	if (count < refs) {
		zd_atomic_fetch_add_relaxed(&pgmap->ref, refs);
		_zd_report_page(pgmap->sys, ZD_MISUSE_BAD_STATE, "R12.4",
				zd_pfn_to_page(pgmap->sys, zd_pgmap_range_pfn(pgmap, 0)),
				"pgmap reference underflow: put %ld of %ld", refs, count);
		return;
	}
	if (count == refs)
		zd_complete_all(pgmap->done);
}

long zd_pgmap_ref_count(const struct zd_dev_pagemap *pgmap)
{
	return zd_atomic_load_relaxed(&((struct zd_dev_pagemap *)pgmap)->ref) & ~ZD_PGMAP_REF_DEAD;
}

/* ---- physical address space for device ranges ---- */

int zd_request_free_mem_region(struct zd_system *sys, uint64_t size, uint64_t align,
			       uint64_t *start)
{
	uint64_t base = sys->ram_pages << ZD_PAGE_SHIFT, limit = ZD_PFN_LIMIT << ZD_PAGE_SHIFT;
	struct _zd_mem_region *r, **pp, *n;

	if (!size || align < ZD_SUBSECTION_SIZE || (align & (align - 1)) ||
	    size % ZD_SUBSECTION_SIZE)
		return -EINVAL;
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	zd_spin_lock(&sys->pgmap_lock);
	/* First fit in the sorted list of busy regions. */
	base = (base + align - 1) & ~(align - 1);
	for (pp = &sys->regions; (r = *pp); pp = &r->next) {
		if (base + size <= r->start)
			break;
		if (r->start + r->size > base)
			base = (r->start + r->size + align - 1) & ~(align - 1);
	}
	if (base + size > limit) {
		zd_spin_unlock(&sys->pgmap_lock);
		free(n);
		return -ENOSPC;
	}
	n->start = base;
	n->size = size;
	n->next = *pp;
	*pp = n;
	zd_spin_unlock(&sys->pgmap_lock);
	*start = base;
	return 0;
}

void zd_release_mem_region(struct zd_system *sys, uint64_t start, uint64_t size)
{
	struct _zd_mem_region *r, **pp;

	zd_spin_lock(&sys->pgmap_lock);
	for (pp = &sys->regions; (r = *pp); pp = &r->next) {
		if (r->start == start && r->size == size) {
			*pp = r->next;
			free(r);
			break;
		}
	}
	zd_spin_unlock(&sys->pgmap_lock);
}

void _zd_regions_free(struct zd_system *sys)
{
	while (sys->regions) {
		struct _zd_mem_region *r = sys->regions;

		sys->regions = r->next;
		free(r);
	}
}

/* ---- registration ---- */

static int validate(struct zd_system *sys, struct zd_dev_pagemap *pgmap)
{
	const struct zd_dev_pagemap_ops *ops = pgmap->ops;
	uint64_t align = ZD_SUBSECTION_SIZE, fsize = ZD_PAGE_SIZE << pgmap->vmemmap_shift;

	if (!sys || pgmap->nr_range <= 0 || pgmap->nr_range > ZD_PGMAP_MAX_RANGES)
		return -EINVAL;					/* R1.1 */
	if (pgmap->vmemmap_shift > ZD_MAX_FOLIO_ORDER)
		return -EINVAL;					/* R1.2 */
	if (pgmap->flags & ZD_PGMAP_ALTMAP_VALID)
		return -EOPNOTSUPP;				/* altmap: not modelled */
	switch (pgmap->type) {
	case ZD_MEMORY_DEVICE_PRIVATE:				/* R1.3 */
		if (!ops || !(ops->folio_free || ops->page_free) || !ops->migrate_to_ram ||
		    !pgmap->owner)
			return -EINVAL;
		break;
	case ZD_MEMORY_DEVICE_COHERENT:				/* R1.4 */
		if (!ops || !(ops->folio_free || ops->page_free) || !pgmap->owner)
			return -EINVAL;
		break;
	case ZD_MEMORY_DEVICE_PCI_P2PDMA:
		/* p2pdma supplies its own folio_free (R1.5); the model's driver must too. */
		if (!ops || !(ops->folio_free || ops->page_free))
			return -EINVAL;
		break;
	case ZD_MEMORY_DEVICE_FS_DAX:
	case ZD_MEMORY_DEVICE_GENERIC:
		break;
	default:
		/* Linux warns and carries on (R1.6); with no free path to model we refuse. */
		return -EINVAL;
	}
	if (fsize > align)
		align = fsize;
	for (int i = 0; i < pgmap->nr_range; i++) {
		const struct zd_range *r = &pgmap->ranges[i];

		if (r->end < r->start || r->start % align || (r->end + 1) % align)
			return -EINVAL;
	}
	return 0;
}

static bool ranges_overlap(const struct zd_range *a, const struct zd_range *b)
{
	return a->start <= b->end && b->start <= a->end;
}

/* pagemap_range()'s refusals: "conflicting mapping" (-ENOMEM), System RAM (-ENXIO). */
static int check_conflicts(struct zd_system *sys, struct zd_dev_pagemap *pgmap)
{
	for (int i = 0; i < pgmap->nr_range; i++) {
		const struct zd_range *r = &pgmap->ranges[i];

		if ((r->start >> ZD_PAGE_SHIFT) < sys->ram_pages)
			return -ENXIO;
		if (((r->end + 1) >> ZD_PAGE_SHIFT) > ZD_PFN_LIMIT)
			return -EINVAL;
		for (int j = 0; j < i; j++)
			if (ranges_overlap(r, &pgmap->ranges[j]))
				return -ENOMEM;
		for (struct zd_dev_pagemap *o = sys->pgmaps; o; o = o->next)
			for (int j = 0; j < o->nr_range; j++)
				if (ranges_overlap(r, &o->ranges[j]))
					return -ENOMEM;
	}
	return 0;
}

static void init_device_page(struct zd_page *p, struct zd_dev_pagemap *pgmap)
{
	zd_atomic_init(&p->flags, ZD_PG_BIT(ZD_PG_zone_device) | ZD_PG_BIT(ZD_PG_reserved));
	p->pgmap = pgmap;
	p->zone_device_data = NULL;
	p->mapping = NULL;
	p->index = 0;
	p->private = 0;
	zd_atomic_init(&p->_refcount, 0);
	zd_atomic_init(&p->_mapcount, -1);
	zd_atomic_init(&p->_pincount, 0);
	zd_atomic_init(&p->_entire_mapcount, -1);
}

/* memmap_init_zone_device(): free pages, compound if vmemmap_shift > 0 (R3.1, R3.2). */
static void memmap_init_range(struct _zd_pgmap_range *rs)
{
	struct zd_dev_pagemap *pgmap = rs->pgmap;
	unsigned long nr = zd_pgmap_vmemmap_nr(pgmap);
	int free_ref = zd_pgmap_free_refcount(pgmap);
	bool driver_owned = pgmap->type != ZD_MEMORY_DEVICE_FS_DAX &&
			    pgmap->type != ZD_MEMORY_DEVICE_GENERIC;

	for (unsigned long i = 0; i < rs->nr_pages; i += nr) {
		struct zd_page *head = &rs->memmap[i];

		init_device_page(head, pgmap);
		if (driver_owned)
			zd_atomic_init(&head->flags, zd_atomic_load_relaxed(&head->flags) |
				       ZD_PG_BIT(ZD_PG_dev_free));
		for (unsigned long t = 1; t < nr; t++) {
			init_device_page(head + t, pgmap);
			_zd_page_set_compound_head(&head[t], (unsigned long)head | 1ul);
		}
		/* prep_compound_head() only: a static compound page is not large_rmappable. */
		if (nr > 1)
			zd_atomic_init(&head->flags, zd_atomic_load_relaxed(&head->flags) |
				       ZD_PG_BIT(ZD_PG_head) |
				       ((unsigned long)pgmap->vmemmap_shift << ZD_PG_ORDER_SHIFT));
		zd_atomic_init(&head->_refcount, free_ref);
		if (rs->shadow)
			zd_atomic_init(&rs->shadow[i], free_ref);
	}
}

static void range_free(struct _zd_pgmap_range *rs)
{
	if (!rs)
		return;
	if (rs->data)
		munmap(rs->data, rs->nr_pages << ZD_PAGE_SHIFT);
	free((void *)rs->shadow);
	free(rs->memmap);
	free(rs);
}

static struct _zd_pgmap_range *range_alloc(struct zd_system *sys, struct zd_dev_pagemap *pgmap,
					   const struct zd_range *r)
{
	struct _zd_pgmap_range *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->pgmap = pgmap;
	rs->pfn_start = r->start >> ZD_PAGE_SHIFT;
	rs->nr_pages = (r->end + 1 - r->start) >> ZD_PAGE_SHIFT;
	rs->memmap = calloc(rs->nr_pages, sizeof(struct zd_page));
	if (!rs->memmap)
		goto fail;
	if (_zd_check_full(sys)) {
		rs->shadow = calloc(rs->nr_pages, sizeof(*rs->shadow));
		if (!rs->shadow)
			goto fail;
	}
	if (sys->opts.data == ZD_DATA_REAL) {
		rs->data = mmap(NULL, rs->nr_pages << ZD_PAGE_SHIFT, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (rs->data == MAP_FAILED) {
			rs->data = NULL;
			goto fail;
		}
	}
	memmap_init_range(rs);
	return rs;
fail:
	range_free(rs);
	return NULL;
}

static unsigned long pgmap_nr_folios(const struct zd_dev_pagemap *pgmap)
{
	return zd_pgmap_nr_pages(pgmap) >> pgmap->vmemmap_shift;
}

static bool pgmap_is_managed(const struct zd_dev_pagemap *pgmap)
{
	return pgmap->type != ZD_MEMORY_DEVICE_GENERIC;
}

int zd_memremap_pages(struct zd_system *sys, struct zd_dev_pagemap *pgmap)
{
	struct zd_completion *done;
	long refs = 1;		/* the base reference, dropped by the kill */
	int err, i;

	if (pgmap->registered)
		return -EBUSY;
	/* Known from the first call on: a later misuse is reported to this system. */
	pgmap->sys = sys;
	err = validate(sys, pgmap);
	if (err)
		return err;
	if (_zd_should_fail(sys, ZD_FAULT_PGMAP_SETUP))
		return -ENOMEM;
	done = malloc(sizeof(*done));
	if (!done)
		return -ENOMEM;
	zd_init_completion(done);
	pgmap->sys = sys;
	pgmap->done = done;
	pgmap->killed = false;
	pgmap->next = NULL;
	zd_atomic_init(&pgmap->nr_folio_free, 0ul);
	zd_atomic_init(&pgmap->nr_inits, 0ul);
	zd_atomic_init(&pgmap->nr_wakeups, 0ul);
	for (i = 0; i < ZD_PGMAP_MAX_RANGES; i++)
		pgmap->rs[i] = NULL;

	for (i = 0; i < pgmap->nr_range; i++) {
		pgmap->rs[i] = range_alloc(sys, pgmap, &pgmap->ranges[i]);
		if (!pgmap->rs[i]) {
			err = -ENOMEM;
			goto fail;
		}
	}
	/* R1.8: every type but PRIVATE/COHERENT holds a reference per folio; legacy L1 all. */
	if (!pgmap_refs_per_alloc(pgmap))
		refs += (long)pgmap_nr_folios(pgmap);
	zd_atomic_init(&pgmap->ref, refs);

	zd_spin_lock(&sys->pgmap_lock);
	err = check_conflicts(sys, pgmap);
	for (i = 0; !err && i < pgmap->nr_range; i++) {
		err = _zd_section_install(sys, pgmap->rs[i]);
		if (err)
			while (--i >= 0)
				_zd_section_clear(sys, pgmap->rs[i]);
	}
	if (!err) {
		pgmap->next = sys->pgmaps;
		sys->pgmaps = pgmap;
		pgmap->registered = true;
		pgmap->managed = sys->opts.scheme == ZD_SCHEME_ONE && pgmap_is_managed(pgmap);
		if (pgmap->managed)
			zd_atomic_fetch_add_relaxed(&sys->devmap_managed_key, 1);
	}
	zd_spin_unlock(&sys->pgmap_lock);
	if (err)
		goto fail;
	_zd_emit_pgmap(sys, ZD_EV_PGMAP_REGISTER, pgmap);
	return 0;
fail:
	zd_synchronize_rcu();
	for (i = 0; i < pgmap->nr_range; i++) {
		range_free(pgmap->rs[i]);
		pgmap->rs[i] = NULL;
	}
	zd_destroy_completion(done);
	free(done);
	pgmap->done = NULL;
	return err;
}

/* ---- teardown ---- */

static void pgmap_kill(struct zd_dev_pagemap *pgmap)
{
	struct zd_system *sys = pgmap->sys;

	pgmap->killed = true;
	zd_atomic_fetch_or_acq_rel(&pgmap->ref, ZD_PGMAP_REF_DEAD);
	_zd_emit_pgmap(sys, ZD_EV_PGMAP_KILL, pgmap);
	if (sys->opts.scheme == ZD_SCHEME_ONE) {
		/* L1: put every folio's base reference; idle ones reach 0 and release. */
		for (int i = 0; i < pgmap->nr_range; i++) {
			struct _zd_pgmap_range *rs = pgmap->rs[i];
			unsigned long nr = zd_pgmap_vmemmap_nr(pgmap);

			for (unsigned long p = 0; p < rs->nr_pages; p += nr)
				zd_folio_put((struct zd_folio *)&rs->memmap[p]);
		}
	} else if (!pgmap_refs_per_alloc(pgmap)) {
		_zd_pgmap_put_refs(pgmap, (long)pgmap_nr_folios(pgmap));
	}
	_zd_pgmap_put_refs(pgmap, 1);
}

/*
 * R1.13: for FS_DAX and GENERIC the zero scheme's memunmap_pages does not
 * wait for pages to be idle, and Linux then frees the memmap under any page
 * still held (a device-DAX pin at unbind: a known hazard). The model
 * reports each such folio and keeps its ranges alive as an orphan: the pfns
 * have no pgmap any more (pfn_to_page and get_dev_pagemap find nothing),
 * while the holder's struct pages stay valid and point to a copy of the
 * pgmap marked gone, so a late put is reported instead of corrupting
 * memory. Orphans are freed with the system.
 */
static bool pgmap_orphan_if_held(struct zd_dev_pagemap *pgmap)
{
	struct zd_system *sys = pgmap->sys;
	unsigned long nr = zd_pgmap_vmemmap_nr(pgmap);
	int idle = zd_pgmap_free_refcount(pgmap);
	struct zd_dev_pagemap *ghost;
	bool held = false;

	if (sys->opts.scheme != ZD_SCHEME_ZERO ||
	    (pgmap->type != ZD_MEMORY_DEVICE_GENERIC && pgmap->type != ZD_MEMORY_DEVICE_FS_DAX))
		return false;
	for (int i = 0; i < pgmap->nr_range; i++) {
		struct _zd_pgmap_range *rs = pgmap->rs[i];

		for (unsigned long p = 0; p < rs->nr_pages; p += nr) {
			int ref = zd_page_ref_count(&rs->memmap[p]);

			if (ref == idle)
				continue;
			held = true;
			_zd_report_page(sys, ZD_MISUSE_HAZARD, "R1.13", &rs->memmap[p],
					"memunmap_pages did not wait for this %s folio (refcount %d): "
					"Linux frees its memmap under the holder",
					zd_memory_type_name((int)pgmap->type), ref);
		}
	}
	if (!held)
		return false;
	ghost = malloc(sizeof(*ghost));
	if (!ghost)
		return false;	/* cannot keep them: freed as Linux would */
	*ghost = *pgmap;
	ghost->ops = NULL;
	ghost->owner = NULL;
	ghost->done = NULL;
	ghost->gone = true;
	ghost->registered = false;
	zd_atomic_init(&ghost->ref, ZD_PGMAP_REF_DEAD);
	for (int i = 0; i < pgmap->nr_range; i++) {
		struct _zd_pgmap_range *rs = pgmap->rs[i];

		rs->pgmap = ghost;
		/*
		 * Only folio heads carry the pgmap word; a tail's holds its
		 * compound head and must keep it. Holders read the word
		 * locklessly, hence the atomic store.
		 */
		for (unsigned long p = 0; p < rs->nr_pages; p += nr)
			_zd_page_set_compound_head(&rs->memmap[p], (unsigned long)ghost);
		pgmap->rs[i] = NULL;
	}
	zd_spin_lock(&sys->pgmap_lock);
	ghost->next = sys->orphans;
	sys->orphans = ghost;
	zd_spin_unlock(&sys->pgmap_lock);
	return true;
}

void _zd_pgmap_orphans_free(struct zd_system *sys)
{
	while (sys->orphans) {
		struct zd_dev_pagemap *ghost = sys->orphans;

		sys->orphans = ghost->next;
		for (int i = 0; i < ghost->nr_range; i++)
			range_free(ghost->rs[i]);
		free(ghost);
	}
}

static void pgmap_release(struct zd_dev_pagemap *pgmap, bool force)
{
	struct zd_system *sys = pgmap->sys;
	struct zd_dev_pagemap **pp;

	zd_spin_lock(&sys->pgmap_lock);
	for (pp = &sys->pgmaps; *pp; pp = &(*pp)->next) {
		if (*pp == pgmap) {
			*pp = pgmap->next;
			break;
		}
	}
	for (int i = 0; i < pgmap->nr_range; i++)
		_zd_section_clear(sys, pgmap->rs[i]);
	if (pgmap->managed)
		zd_atomic_fetch_sub_relaxed(&sys->devmap_managed_key, 1);
	zd_spin_unlock(&sys->pgmap_lock);
	/* Lookups that found the ranges under RCU are done once the grace period ends. */
	zd_synchronize_rcu();
	if (!force)
		pgmap_orphan_if_held(pgmap);
	for (int i = 0; i < pgmap->nr_range; i++) {
		range_free(pgmap->rs[i]);
		pgmap->rs[i] = NULL;
	}
	pgmap->registered = false;
	_zd_emit_pgmap(sys, ZD_EV_PGMAP_UNREGISTER, pgmap);
	zd_destroy_completion(pgmap->done);
	free(pgmap->done);
	pgmap->done = NULL;
}

int zd_memunmap_pages_timeout(struct zd_dev_pagemap *pgmap, uint64_t timeout_ns)
{
	if (!pgmap->registered) {
		/*
		 * Twice, or never registered: Linux would kill a dead (or never
		 * initialised) percpu_ref and WARN. A pgmap that never reached
		 * zd_memremap_pages has no system to report to: the report
		 * then goes to stderr and aborts, as with no report callback.
		 */
		_zd_report_page(pgmap->sys, ZD_MISUSE_BAD_STATE, "R1.7", NULL,
				"memunmap_pages of a pgmap that is not registered (%s)",
				pgmap->sys ? "already unmapped, or its memremap_pages failed" :
				"never passed to memremap_pages");
		return -EINVAL;
	}
	if (!pgmap->killed)
		pgmap_kill(pgmap);
	if (timeout_ns) {
		if (zd_wait_for_completion_timeout(pgmap->done, timeout_ns))
			return -ETIMEDOUT;
	} else {
		zd_wait_for_completion(pgmap->done);
	}
	pgmap_release(pgmap, false);
	return 0;
}

void zd_memunmap_pages(struct zd_dev_pagemap *pgmap)
{
	zd_memunmap_pages_timeout(pgmap, 0);
}

/* At destroy: whatever is still registered is reported, then torn down unwaited. */
void _zd_pgmaps_force_teardown(struct zd_system *sys)
{
	while (sys->pgmaps) {
		struct zd_dev_pagemap *pgmap = sys->pgmaps;

		if (!pgmap->killed) {
			pgmap->killed = true;
			zd_atomic_fetch_or_acq_rel(&pgmap->ref, ZD_PGMAP_REF_DEAD);
		}
		zd_complete_all(pgmap->done);
		pgmap_release(pgmap, true);
	}
}

/* ---- lookup ---- */

struct zd_dev_pagemap *zd_get_dev_pagemap(struct zd_system *sys, unsigned long pfn)
{
	struct zd_dev_pagemap *pgmap = NULL;
	struct _zd_pgmap_range *rs;

	zd_rcu_read_lock();
	rs = _zd_pfn_range(sys, pfn);
	if (rs && pfn >= rs->pfn_start && pfn < rs->pfn_start + rs->nr_pages &&
	    _zd_pgmap_tryget_live(rs->pgmap, 1))
		pgmap = rs->pgmap;
	zd_rcu_read_unlock();
	return pgmap;
}

void zd_put_dev_pagemap(struct zd_dev_pagemap *pgmap)
{
	if (pgmap)
		_zd_pgmap_put_refs(pgmap, 1);
}

void zd_put_dev_pagemap_many(struct zd_dev_pagemap *pgmap, unsigned long nr)
{
	if (pgmap && nr)
		_zd_pgmap_put_refs(pgmap, (long)nr);
}

bool zd_pgmap_pfn_valid(const struct zd_dev_pagemap *pgmap, unsigned long pfn)
{
	for (int i = 0; i < pgmap->nr_range; i++) {
		if (pfn >= (pgmap->ranges[i].start >> ZD_PAGE_SHIFT) &&
		    pfn <= (pgmap->ranges[i].end >> ZD_PAGE_SHIFT))
			return true;
	}
	return false;
}

unsigned long zd_pgmap_nr_folio_free(const struct zd_dev_pagemap *pgmap)
{
	return zd_atomic_load_relaxed(&((struct zd_dev_pagemap *)pgmap)->nr_folio_free);
}

unsigned long zd_pgmap_nr_wakeups(const struct zd_dev_pagemap *pgmap)
{
	return zd_atomic_load_relaxed(&((struct zd_dev_pagemap *)pgmap)->nr_wakeups);
}

unsigned long zd_pgmap_nr_pages(const struct zd_dev_pagemap *pgmap)
{
	unsigned long n = 0;

	for (int i = 0; i < pgmap->nr_range; i++)
		n += (pgmap->ranges[i].end + 1 - pgmap->ranges[i].start) >> ZD_PAGE_SHIFT;
	return n;
}

unsigned long zd_pgmap_range_pfn(const struct zd_dev_pagemap *pgmap, int i)
{
	return pgmap->ranges[i].start >> ZD_PAGE_SHIFT;
}
