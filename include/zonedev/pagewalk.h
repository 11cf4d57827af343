/* SPDX-License-Identifier: MIT */
/*
 * zonedev/pagewalk.h - looking up the folio mapped at one address.
 *
 * Models include/linux/pagewalk.h (struct folio_walk, folio_walk_start,
 * folio_walk_end; mm/pagewalk.c) and 6.0's follow_page(FOLL_LRU) of
 * include/linux/mm.h (mm/gup.c), which shares its flags here. Both look
 * at one address without faulting; the walkers that expect LRU pages
 * (khugepaged.h, ksm.h, mempolicy.h, migrate.h, huge_mm.h, mlock) use
 * them and skip ZONE_DEVICE folios (semantics §5, R5.4).
 */
#ifndef ZONEDEV_PAGEWALK_H
#define ZONEDEV_PAGEWALK_H

#include <zonedev/mm.h>

struct zd_spinlock;

#define ZD_FW_MIGRATION	(1u << 0)	/* also return the folio of a migration entry */
#define ZD_FW_ZEROPAGE	(1u << 1)	/* also return the shared zero page */
/* zd_follow_page() only: */
#define ZD_FW_GET	(1u << 8)	/* take a reference (FOLL_GET) */
#define ZD_FW_LRU	(1u << 9)	/* only folios that may sit on an LRU (6.0's FOLL_LRU) */

/*
 * struct zd_folio_walk - what zd_folio_walk_start found (struct folio_walk).
 * @page: the page mapped at the address (NULL for a migration entry);
 * @level: 1 PTE, 2 PMD, 3 PUD; @slot and @entry: the entry and its value;
 * @ptl: the lock held until zd_folio_walk_end.
 */
struct zd_folio_walk {
	struct zd_page *page;
	int level;
	_Atomic zd_pte_t *slot;
	zd_pte_t entry;
	struct zd_vm_area_struct *vma;
	struct zd_spinlock *ptl;
};

/*
 * zd_folio_walk_start - look up the folio mapped at @addr of @vma without
 * faulting (folio_walk_start): a present PTE or PMD/PUD leaf whose page is
 * "normal" (zd_vm_normal_page), the zero page with ZD_FW_ZEROPAGE, a
 * migration entry's folio with ZD_FW_MIGRATION. No reference is taken:
 * the entry's lock, held on return, keeps the mapping (and so the folio)
 * alive until zd_folio_walk_end(). As in Linux since the pXX_devmap
 * removal, ZONE_DEVICE folios (coherent, fs-dax, device-DAX, p2pdma) are
 * returned: each caller filters (R5.4). Device-private entries are not
 * present and never returned. Returns the folio, or NULL (lock not held)
 * if nothing suitable is mapped or @addr lies outside @vma.
 * Context: mmap_lock held (read or write); takes a page-table lock.
 */
struct zd_folio *zd_folio_walk_start(struct zd_folio_walk *fw, struct zd_vm_area_struct *vma,
				     unsigned long addr, unsigned int flags);
/* zd_folio_walk_end - drop the lock zd_folio_walk_start returned with. */
void zd_folio_walk_end(struct zd_folio_walk *fw);

/*
 * zd_follow_page - the page mapped at @addr, as 6.0's follow_page() gave
 * it to KSM, migration and the debugfs split: with ZD_FW_GET a reference
 * is taken under the entry's lock (the caller puts it); ZD_FW_ZEROPAGE as
 * above. With ZD_FW_LRU a ZONE_DEVICE folio is refused with -EEXIST (as
 * FOLL_LRU did) and the reference taken for it is given back first, so a
 * skip path never leaks one (bug B16). Returns 0 and *@pagep; -ENOENT if
 * no suitable page is mapped; -EEXIST (refused device folio); -EFAULT if
 * @addr lies outside @vma. Context: mmap_lock held; takes and drops the
 * page-table lock; the final put of a refused device folio may call its
 * driver's folio_free.
 */
int zd_follow_page(struct zd_vm_area_struct *vma, unsigned long addr, unsigned int flags,
		   struct zd_page **pagep);

#endif /* ZONEDEV_PAGEWALK_H */
