// SPDX-License-Identifier: MIT
/*
 * src/check/invariants.c - invariants checked at quiescent points.
 *
 * Models the checks of mm/debug_vm_pgtable.c and the bad-page tests of
 * mm/page_alloc.c, applied to the semantics document's §12.1: refcount vs
 * mapcount and pins (R12.1), free states (R12.2), pgmap reference balance
 * (R12.4), no device folio on an LRU (R12.5), buddy and LRU bookkeeping,
 * and at the full level the shadow refcount of every page. Mapcounts are
 * the folio's total (folio_mapcount: PMD/PUD mappings and the PTE mappings
 * of every page), and a large folio's total must equal its parts. At the
 * full level every mm's page tables are walked and each folio's mapcount
 * compared with the entries that map it.
 */
#include <stdlib.h>
#include <zonedev/check.h>
#include <zonedev/mm.h>

#include "mm/internal.h"

struct ctx {
	struct zd_system *sys;
	int found;
};

#define FAIL(c, page, rule, ...) do { \
	(c)->found++; \
	_zd_report_page((c)->sys, ZD_MISUSE_INVARIANT, rule, page, __VA_ARGS__); \
} while (0)

static int pin_weight(struct zd_folio *folio)
{
	return zd_folio_test_large(folio) ? zd_folio_pincount(folio) : 0;
}

/*
 * A large folio's total mapcount (the kernel's _large_mapcount) must be its
 * entire mapcount plus every page's PTE mapcount; returns the total. Not
 * verified on a free device folio: its pages may be in other folios (B9).
 */
static int folio_total_mapcount(struct ctx *c, struct zd_folio *folio, bool verify)
{
	int total = zd_folio_mapcount(folio), sum;
	unsigned long nr = zd_folio_nr_pages(folio);

	if (!verify || !zd_folio_test_large(folio))
		return total;
	sum = zd_folio_entire_mapcount(folio);
	for (unsigned long i = 0; i < nr; i++)
		sum += zd_page_mapcount(zd_folio_page(folio, i));
	if (sum != total)
		FAIL(c, &folio->page, "R12.1", "folio mapcount %d, but its mappings add up to %d",
		     total, sum);
	return total;
}

static void check_shadow(struct ctx *c, struct zd_page *head)
{
	_Atomic int *s = _zd_shadow_slot(head);
	int want = zd_page_ref_count(head);

	if (s && zd_atomic_load_relaxed(s) != want)
		FAIL(c, head, "R12.1", "shadow refcount %d differs from refcount %d "
		     "(a reference changed outside the folio API)", zd_atomic_load_relaxed(s), want);
}

static void check_ram(struct ctx *c)
{
	struct zd_system *sys = c->sys;
	unsigned long free = 0, on_lru = 0;

	for (unsigned long pfn = 0; pfn < sys->ram_pages;) {
		struct zd_page *p = &sys->ram_memmap[pfn];
		struct zd_folio *folio = (struct zd_folio *)p;
		unsigned long nr;

		if (zd_page_test_flag(p, ZD_PG_buddy)) {
			nr = 1ul << p->private;
			free += nr;
			if (zd_page_ref_count(p) || zd_page_test_flag(p, ZD_PG_lru))
				FAIL(c, p, "R12.2", "free RAM page with refcount %d or on an LRU",
				     zd_page_ref_count(p));
			pfn += nr;
			continue;
		}
		if (zd_page_is_tail(p)) {
			FAIL(c, p, "R12.1", "tail page outside any folio");
			pfn++;
			continue;
		}
		nr = zd_folio_nr_pages(folio);
		if (zd_folio_ref_count(folio) <= 0)
			FAIL(c, p, "R12.1", "allocated RAM folio with refcount %d",
			     zd_folio_ref_count(folio));
		else if (zd_folio_ref_count(folio) <
			 folio_total_mapcount(c, folio, true) + pin_weight(folio))
			FAIL(c, p, "R12.1", "refcount below mapcount + pins");
		if (zd_folio_test_flag(folio, ZD_PG_lru))
			on_lru += 1;
		for (unsigned long i = 1; i < nr; i++)
			if (zd_page_ref_count(p + i) || zd_page_folio(p + i) != folio)
				FAIL(c, p + i, "R12.1", "bad tail page");
		check_shadow(c, p);
		pfn += nr;
	}
	zd_spin_lock(&sys->zone_lock);
	if (free != sys->free_pages)
		FAIL(c, NULL, "", "buddy lists hold %lu pages, counter says %lu", free,
		     sys->free_pages);
	zd_spin_unlock(&sys->zone_lock);
	zd_spin_lock(&sys->lru_lock);
	if (on_lru != sys->lru_count[0] + sys->lru_count[1])
		FAIL(c, NULL, "R12.5", "%lu folios flagged PG_lru, LRU lists hold %lu", on_lru,
		     sys->lru_count[0] + sys->lru_count[1]);
	zd_spin_unlock(&sys->lru_lock);
}

static void check_pgmap(struct ctx *c, struct zd_dev_pagemap *pgmap)
{
	int free_ref = zd_pgmap_free_refcount(pgmap);
	bool legacy = c->sys->opts.scheme == ZD_SCHEME_ONE;
	long busy_pages = 0, busy_folios = 0, folios = 0, want;

	for (int i = 0; i < pgmap->nr_range; i++) {
		struct _zd_pgmap_range *rs = pgmap->rs[i];

		for (unsigned long idx = 0; idx < rs->nr_pages;) {
			struct zd_page *p = &rs->memmap[idx];
			struct zd_folio *folio = (struct zd_folio *)p;
			unsigned long nr;
			int ref, mapcount;

			if (zd_page_is_tail(p)) {	/* left over from a freed large folio */
				if (zd_page_ref_count(p))
					FAIL(c, p, "R12.13", "device tail page with refcount %d",
					     zd_page_ref_count(p));
				idx++;
				continue;
			}
			/*
			 * Step one page at a time: a freed large folio keeps its
			 * order while its pages may be handed out again (B9).
			 */
			nr = zd_folio_nr_pages(folio);
			ref = zd_folio_ref_count(folio);
			mapcount = folio_total_mapcount(c, folio, ref > free_ref);
			folios++;
			if (zd_folio_test_flag(folio, ZD_PG_lru))
				FAIL(c, p, "R12.5", "device folio on an LRU");
			if (zd_folio_pgmap(folio) != pgmap)
				FAIL(c, p, "R12.13", "device page with a foreign pgmap");
			if (ref < 0 || ref < free_ref)
				FAIL(c, p, "R12.1", "device folio below its free refcount %d", free_ref);
			else if (ref == free_ref) {
				if (mapcount || pin_weight(folio) ||
				    zd_folio_test_locked(folio) ||
				    (pgmap->type != ZD_MEMORY_DEVICE_FS_DAX &&
				     pgmap->type != ZD_MEMORY_DEVICE_GENERIC && p->mapping) ||
				    zd_folio_test_flag(folio, ZD_PG_anon_exclusive))
					FAIL(c, p, "R12.2", "free device folio not in the free state");
			} else {
				busy_pages += (long)nr;
				busy_folios++;
				if (ref - free_ref < mapcount + pin_weight(folio))
					FAIL(c, p, "R12.1", "refcount below mapcount + pins");
			}
			check_shadow(c, p);
			idx++;
		}
	}
	/* R12.4: outstanding pgmap references, beyond the base one. */
	if (pgmap->killed)
		return;
	if (legacy)
		want = folios;
	else if (pgmap->type == ZD_MEMORY_DEVICE_PRIVATE || pgmap->type == ZD_MEMORY_DEVICE_COHERENT)
		want = busy_pages;
	else if (pgmap->type == ZD_MEMORY_DEVICE_PCI_P2PDMA)
		want = folios + busy_pages;
	else
		want = folios;
	if (zd_pgmap_ref_count(pgmap) - 1 != want)
		FAIL(c, pgmap->rs[0]->memmap, "R12.4",
		     "%s pgmap holds %ld references, expected %ld (%ld busy folios)",
		     zd_memory_type_name((int)pgmap->type), zd_pgmap_ref_count(pgmap) - 1, want,
		     busy_folios);
}

/*
 * R1.13: a page still held after its pgmap was torn down (a device-DAX pin
 * across unbind) is the known hazard, not a state the kernel can recover.
 */
static void check_orphans(struct ctx *c)
{
	for (struct zd_dev_pagemap *ghost = c->sys->orphans; ghost; ghost = ghost->next) {
		unsigned long nr = zd_pgmap_vmemmap_nr(ghost);

		for (int i = 0; i < ghost->nr_range; i++) {
			struct _zd_pgmap_range *rs = ghost->rs[i];

			for (unsigned long p = 0; p < rs->nr_pages; p += nr) {
				struct zd_page *page = &rs->memmap[p];
				int ref = zd_page_ref_count(page);

				if (ref == zd_pgmap_free_refcount(ghost))
					continue;
				c->found++;
				_zd_report_page(c->sys, ZD_MISUSE_HAZARD, "R1.13", page,
						"pfn %#lx has no pgmap but its %s folio is still held "
						"(refcount %d): unbind did not wait for it",
						rs->pfn_start + p, zd_memory_type_name((int)ghost->type),
						ref);
			}
		}
	}
}

/* ---- mapcounts against the page tables (full level) ---- */

/* Entries found mapping each folio, by head pfn: RAM, then every device range. */
struct map_counts {
	struct zd_system *sys;
	struct zd_mm *mm;		/* the one count_table() is walking */
	long deposits;			/* its PMD leaves that carry a deposited table */
	int *ram;
	int nr_dev;
	struct dev_counts {
		unsigned long pfn, nr;
		int *cnt;
	} *dev;
};

static int *count_slot(struct map_counts *m, unsigned long pfn)
{
	if (pfn < m->sys->ram_pages)
		return &m->ram[pfn];
	for (int i = 0; i < m->nr_dev; i++)
		if (pfn >= m->dev[i].pfn && pfn - m->dev[i].pfn < m->dev[i].nr)
			return &m->dev[i].cnt[pfn - m->dev[i].pfn];
	return NULL;
}

/*
 * One mapping per entry that holds a mapcount: a present entry with a
 * struct page that is neither special nor devmap (vm_normal_page), or a
 * device-private or device-exclusive entry. Migration entries hold none.
 */
static void count_table(struct map_counts *m, struct zd_pgtable *t, enum zd_pt_level lvl)
{
	for (unsigned int i = 0; i < ZD_PTRS_PER_TABLE; i++) {
		zd_pte_t e = _zd_read_entry(&t->ent[i]);
		struct zd_page *page;
		unsigned long pfn;
		int *slot;

		if (zd_pte_none(e))
			continue;
		if (lvl > ZD_LVL_PTE && (e & ZD_PTE_PRESENT) && !(e & ZD_PTE_HUGE)) {
			count_table(m, _zd_entry_table(e), lvl - 1);
			continue;
		}
		if (lvl == ZD_LVL_PMD && zd_pte_present(e) && _zd_is_huge_zero_pmd(m->mm, e))
			m->deposits++;
		if (zd_pte_present(e) && !zd_pte_special(e) && !zd_pte_devmap(e))
			pfn = zd_pte_pfn(e);
		else if (zd_is_device_private_entry(e) || zd_is_device_exclusive_entry(e))
			pfn = zd_swp_offset(e);
		else
			continue;
		page = zd_pfn_to_page(m->sys, pfn);
		if (!page)
			continue;
		slot = count_slot(m, zd_folio_pfn(zd_page_folio(page)));
		if (slot)
			(*slot)++;
		if (lvl == ZD_LVL_PMD && zd_pte_present(e) && zd_folio_test_anon(zd_page_folio(page)))
			m->deposits++;
	}
}

static void compare_mapcount(struct ctx *c, struct map_counts *m, struct zd_folio *folio)
{
	int *slot = count_slot(m, zd_folio_pfn(folio));
	int mapcount = zd_folio_mapcount(folio);

	if (slot && *slot != mapcount && folio != zd_zero_folio(c->sys))
		FAIL(c, &folio->page, "R12.1", "folio mapcount %d, but %d page-table entries map it",
		     mapcount, *slot);
}

static void check_mappings(struct ctx *c)
{
	struct zd_system *sys = c->sys;
	struct map_counts m = { .sys = sys };
	struct zd_dev_pagemap *pgmap;
	int n = 0;

	zd_spin_lock(&sys->pgmap_lock);
	for (pgmap = sys->pgmaps; pgmap; pgmap = pgmap->next)
		n += pgmap->nr_range;
	m.ram = calloc(sys->ram_pages ? sys->ram_pages : 1, sizeof(*m.ram));
	m.dev = calloc(n ? (size_t)n : 1, sizeof(*m.dev));
	for (pgmap = sys->pgmaps; pgmap && m.dev; pgmap = pgmap->next) {
		for (int i = 0; i < pgmap->nr_range; i++) {
			struct dev_counts *d = &m.dev[m.nr_dev++];

			d->pfn = pgmap->rs[i]->pfn_start;
			d->nr = pgmap->rs[i]->nr_pages;
			d->cnt = calloc(d->nr, sizeof(*d->cnt));
			if (!d->cnt)
				goto out;
		}
	}
	if (!m.ram || !m.dev)
		goto out;

	zd_spin_lock(&sys->mmlist_lock);
	for (struct zd_list_head *l = sys->mmlist.next; l != &sys->mmlist; l = l->next) {
		m.mm = zd_container_of(l, struct zd_mm, mmlist);
		m.deposits = 0;
		count_table(&m, m.mm->pgd, ZD_LVL_PGD);
		/* pgtable_trans_huge_deposit(): one PTE table per anonymous PMD leaf. */
		if (m.deposits != m.mm->nr_deposited)
			FAIL(c, NULL, "R12.1", "mm has %ld deposited PTE tables for %ld anonymous PMD leaves",
			     m.mm->nr_deposited, m.deposits);
	}
	zd_spin_unlock(&sys->mmlist_lock);

	for (unsigned long pfn = 0; pfn < sys->ram_pages;) {
		struct zd_page *p = &sys->ram_memmap[pfn];

		if (zd_page_test_flag(p, ZD_PG_buddy)) {
			pfn += 1ul << p->private;
			continue;
		}
		if (zd_page_is_tail(p)) {
			pfn++;
			continue;
		}
		compare_mapcount(c, &m, (struct zd_folio *)p);
		pfn += zd_folio_nr_pages((struct zd_folio *)p);
	}
	for (pgmap = sys->pgmaps; pgmap; pgmap = pgmap->next) {
		for (int i = 0; i < pgmap->nr_range; i++) {
			struct _zd_pgmap_range *rs = pgmap->rs[i];

			for (unsigned long idx = 0; idx < rs->nr_pages; idx++)
				if (!zd_page_is_tail(&rs->memmap[idx]))
					compare_mapcount(c, &m, (struct zd_folio *)&rs->memmap[idx]);
		}
	}
out:
	zd_spin_unlock(&sys->pgmap_lock);
	for (int i = 0; i < m.nr_dev; i++)
		free(m.dev[i].cnt);
	free(m.dev);
	free(m.ram);
}

int zd_check_invariants(struct zd_system *sys)
{
	struct ctx c = { .sys = sys, .found = 0 };

	if (sys->opts.check == ZD_CHECK_OFF)
		return 0;
	check_ram(&c);
	zd_spin_lock(&sys->pgmap_lock);
	for (struct zd_dev_pagemap *pgmap = sys->pgmaps; pgmap; pgmap = pgmap->next)
		check_pgmap(&c, pgmap);
	check_orphans(&c);
	zd_spin_unlock(&sys->pgmap_lock);
	if (_zd_check_full(sys))
		check_mappings(&c);
	return c.found;
}

int zd_shadow_refcount(struct zd_folio *folio)
{
	_Atomic int *s = _zd_shadow_slot(&folio->page);

	return s ? zd_atomic_load_relaxed(s) : -1;
}
