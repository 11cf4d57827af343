/* SPDX-License-Identifier: MIT */
/*
 * src/mm/internal.h - what the mm files share, and what gup/ and check/ use of mm.
 *
 * Models mm/internal.h: struct mm_struct internals, page-table pages and
 * their locks, anon_vma and address_space, rmap and RSS helpers, the zap
 * and walk primitives.
 */
#ifndef ZD_MM_INTERNAL_H
#define ZD_MM_INTERNAL_H

#include <errno.h>
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>
#include "core/internal.h"

/* ---- page-table pages ---- */

enum zd_pt_level {
	ZD_LVL_PTE = 1,
	ZD_LVL_PMD = 2,
	ZD_LVL_PUD = 3,
	ZD_LVL_PGD = 4,
};

/*
 * A page-table page: 512 entries, exactly 4 KiB and 4 KiB aligned, so an
 * entry slot finds its table by masking. Its lock (split PTLs, for PTE
 * tables), RCU head (freed after a grace period: GUP-fast walks without
 * locks), level and deposit link are in its descriptor, struct zd_ptdesc
 * (_zd_pgtable_desc), as the kernel keeps them in struct ptdesc.
 */
struct zd_pgtable {
	_Atomic zd_pte_t ent[ZD_PTRS_PER_TABLE];
};
_Static_assert(sizeof(struct zd_pgtable) == ZD_PAGE_SIZE, "a page table is one page");

/* virt_to_ptdesc() for a table, or for any entry slot inside it. */
static inline struct zd_ptdesc *_zd_pgtable_desc(const void *table_or_slot)
{
	return _zd_virt_to_ptdesc(table_or_slot);
}

static inline enum zd_pt_level _zd_pgtable_level(const struct zd_pgtable *t)
{
	return (enum zd_pt_level)_zd_pgtable_desc(t)->pt_level;
}

static inline struct zd_pgtable *_zd_slot_table(_Atomic zd_pte_t *slot)
{
	return (struct zd_pgtable *)((uintptr_t)slot & ~(uintptr_t)4095);
}

/* The table an upper-level entry points to (the entry is present, not huge). */
static inline struct zd_pgtable *_zd_entry_table(zd_pte_t e)
{
	return (struct zd_pgtable *)(uintptr_t)(e & ZD_PTE_PFN_MASK);
}

static inline unsigned int _zd_level_index(unsigned long addr, enum zd_pt_level lvl)
{
	return (unsigned int)(addr >> (12 + 9 * (lvl - 1))) & (ZD_PTRS_PER_TABLE - 1);
}

static inline zd_pte_t _zd_read_entry(_Atomic zd_pte_t *slot)
{
	/* Acquire: a table pointer read here sees the table's initialised entries. */
	return zd_atomic_load_acquire(slot);
}

static inline void _zd_set_entry(_Atomic zd_pte_t *slot, zd_pte_t e)
{
	zd_atomic_store_release(slot, e);
}

/* ---- struct mm_struct ---- */

struct zd_mm {
	struct zd_system *sys;
	struct zd_rwsem mmap_lock;
	struct zd_spinlock page_table_lock;	/* PUD/PMD entries, table installs */
	struct zd_pgtable *pgd;
	/* VMAs sorted by address; changed under mmap_lock for write */
	struct zd_vm_area_struct **vmas;
	size_t nr_vmas, cap_vmas;
	_Atomic long rss[3];			/* ZD_MM_ANONPAGES, FILEPAGES, SHMEMPAGES */
	/*
	 * Odd while fork write-protects and copies; a FOLL_PIN GUP-fast that
	 * saw it odd or changed gives its pins back (mm->write_protect_seq).
	 */
	_Atomic unsigned int write_protect_seq;
	_Atomic long nr_pgtables;		/* deposited PTE tables included */
	/*
	 * pmd_huge_pte: the PTE tables deposited for anonymous PMD leaves (one
	 * per leaf, the huge zero folio's too), under page_table_lock. Like
	 * Linux without split PMD locks, the list is the mm's, not the PMD's.
	 */
	struct zd_pgtable *pmd_huge_pte;
	long nr_deposited;
	struct zd_list_head mmlist;		/* on sys->mmlist while alive */
	_Atomic int huge_zero;			/* MMF_HUGE_ZERO_FOLIO: holds the huge zero folio */
	_Atomic unsigned long flags;		/* ZD_MMF_* (mm->flags) */
	/*
	 * mm_count: references on the struct itself (mmgrab/mmdrop), one for
	 * its users (dropped by zd_mm_destroy) and one per interval notifier.
	 */
	_Atomic long mm_count;
	struct zd_mmu_notifier_subscriptions *notifier_subscriptions;
};

/*
 * struct mmu_notifier_subscriptions: the mm's interval notifiers (a list
 * sorted by start, where the kernel keeps an interval tree) and the
 * sequence that is odd while an invalidation that hit one runs. The list
 * changes only under @lock and only while the sequence is even; with it
 * odd, inserts and removes wait on @deferred_list for the last
 * invalidation to end, and invalidations walk the list without the lock.
 */
struct zd_mmu_notifier_subscriptions {
	struct zd_spinlock lock;
	_Atomic unsigned long invalidate_seq;	/* written under @lock, read in waits */
	unsigned long active_invalidate_ranges;
	struct zd_list_head itree;
	struct zd_list_head deferred_list;
	bool released;				/* the RELEASE pass ran: inserts refused */
};

/*
 * The part of [addr, addr + nr pages) inside @vma, as a notifier range of
 * an rmap walk's one VMA (try_to_unmap_one: address .. vma_address_end).
 */
static inline void _zd_mmu_notifier_range_init_vma(struct zd_mmu_notifier_range *r,
						   enum zd_mmu_notifier_event ev,
						   struct zd_vm_area_struct *vma,
						   unsigned long addr, unsigned long nr)
{
	unsigned long s = addr < vma->vm_start ? vma->vm_start : addr;
	unsigned long e = addr + (nr << ZD_PAGE_SHIFT);

	zd_mmu_notifier_range_init(r, ev, 0, vma->vm_mm, s, e > vma->vm_end ? vma->vm_end : e);
}

/* mm/mmu_notifier.c: set up and free the subscriptions (mm_alloc, __mmdrop). */
int _zd_mmu_notifier_subscriptions_init(struct zd_mm *mm);
void _zd_mmu_notifier_subscriptions_destroy(struct zd_mm *mm);
/* __mmu_notifier_release: the RELEASE pass of exit, before any VMA is unmapped. */
void _zd_mmu_notifier_release(struct zd_mm *mm);
/* mmgrab / mmdrop: the last mmdrop frees the struct (its users are gone by then). */
void _zd_mmgrab(struct zd_mm *mm);
void _zd_mmdrop(struct zd_mm *mm);

/*
 * MMF_HAS_PINNED: a FOLL_PIN GUP (slow or fast) ran on this mm once. Only
 * then does fork copy anonymous pages that look pinned (1024 plain
 * references do too); never cleared, not inherited.
 */
#define ZD_MMF_HAS_PINNED	(1ul << 0)

/* mm_set_has_pinned_flag(): set before the pins are taken. */
static inline void _zd_mm_set_has_pinned_flag(struct zd_mm *mm)
{
	if (!(zd_atomic_load_relaxed(&mm->flags) & ZD_MMF_HAS_PINNED))
		zd_atomic_fetch_or_acq_rel(&mm->flags, ZD_MMF_HAS_PINNED);
}

enum { ZD_MM_ANONPAGES, ZD_MM_FILEPAGES, ZD_MM_SHMEMPAGES };

/* ---- anon_vma and address_space ---- */

/*
 * One anon_vma per fork tree of an anonymous VMA (Linux chains one per
 * process; one shared object finds the same VMAs). Its list of VMAs is
 * what rmap walks.
 */
struct zd_anon_vma {
	_Atomic long refcount;
	struct zd_rwsem lock;
	struct zd_vm_area_struct *vmas;
};

#define ZD_PAGE_MAPPING_ANON 1ul

/*
 * struct address_space: the file's mappings (i_mmap, for rmap and
 * unmap_mapping_range) and whatever its file system keeps (page cache,
 * DAX entries) behind @private_data.
 */
struct zd_address_space {
	struct zd_system *sys;
	unsigned int flags;			/* ZD_AS_* */
	struct zd_rwsem i_mmap_rwsem;
	struct zd_vm_area_struct *i_mmap;
	void *private_data;
	/* file system hook: the page for @index is being unmapped, etc. (unused yet) */
};

/* Initialise / tear down an address_space embedded in a file system's inode. */
void zd_address_space_init(struct zd_address_space *as, struct zd_system *sys, unsigned int flags);
void zd_address_space_destroy(struct zd_address_space *as);

/* ---- page tables (pgtable.c) ---- */

/*
 * pud_offset() / pmd_offset() / pte_offset_map(), from the PGD down: the
 * slot for @addr at @lvl, found without allocating. NULL if a table on the
 * way is missing, or a higher-level entry is a huge leaf or not a table.
 * Context: mmap_lock held, or the RCU read side (tables are RCU-freed).
 */
_Atomic zd_pte_t *_zd_pxx_offset(struct zd_mm *mm, unsigned long addr, enum zd_pt_level lvl);
/*
 * pud_alloc() / pmd_alloc() / pte_alloc(): the slot for @addr at @lvl,
 * allocating the missing tables above it (installed under
 * page_table_lock). NULL if an allocation failed or a higher-level entry
 * is a huge leaf or not a table. Context: mmap_lock held.
 */
_Atomic zd_pte_t *_zd_pxx_alloc(struct zd_mm *mm, unsigned long addr, enum zd_pt_level lvl);
/*
 * pmd_alloc(mm, pud, addr) / pte_alloc() + pte_offset_map(): the same one
 * level down from the upper entry @upper (at @lvl + 1) already found, so a
 * fault walks the table once, not once per level from the PGD.
 */
_Atomic zd_pte_t *_zd_pxx_alloc_below(struct zd_mm *mm, _Atomic zd_pte_t *upper,
				      unsigned long addr, enum zd_pt_level lvl);
/* pte_lockptr(): the lock of the PTE table holding @pte. */
static inline struct zd_spinlock *_zd_pte_lockptr(_Atomic zd_pte_t *pte)
{
	return &_zd_pgtable_desc(pte)->ptl;
}
/* pmd_lockptr()/pud_lockptr(): one lock per mm for the upper levels. */
static inline struct zd_spinlock *_zd_huge_lockptr(struct zd_mm *mm)
{
	return &mm->page_table_lock;
}
int _zd_pgd_alloc(struct zd_mm *mm);
/* Free every page table below the PGD (exit). Context: no other user. */
void _zd_free_all_pgtables(struct zd_mm *mm);
/*
 * free_pgtables(): free empty tables inside [start, end) whose span meets
 * no VMA, after an RCU grace period. Context: mmap_lock held for write.
 */
void _zd_free_pgtables(struct zd_mm *mm, unsigned long start, unsigned long end);
/*
 * pte_alloc_one(): a PTE table for a deposit, counted in nr_pgtables;
 * NULL on -ENOMEM. _zd_pte_free() frees one never deposited.
 */
struct zd_pgtable *_zd_pte_alloc_one(struct zd_mm *mm);
void _zd_pte_free(struct zd_mm *mm, struct zd_pgtable *t);
/*
 * pgtable_trans_huge_deposit()/withdraw(): an anonymous PMD leaf (a THP
 * or the huge zero folio) carries a PTE table from the moment it is
 * installed, so its split needs no allocation. zap_deposited_table()
 * frees the one of a leaf that is zapped. Context: page_table_lock held.
 */
void _zd_pgtable_trans_huge_deposit(struct zd_mm *mm, struct zd_pgtable *t);
struct zd_pgtable *_zd_pgtable_trans_huge_withdraw(struct zd_mm *mm);
void _zd_zap_deposited_table(struct zd_mm *mm);

/* ---- walking a range (pagewalk.c) ---- */

/*
 * walk_page_range(), reduced to one callback for every leaf: call @fn for
 * every non-empty leaf entry (a PTE, or a PMD/PUD leaf or non-present
 * entry) whose address lies in [start, end), with the entry's lock held
 * (PTE table lock, or page_table_lock). A huge leaf is passed with its
 * aligned address even if @start lies inside it. @fn may change the entry
 * but not free tables. Context: mmap_lock held.
 */
typedef void (*_zd_leaf_fn)(_Atomic zd_pte_t *slot, unsigned long addr, enum zd_pt_level lvl,
			    void *arg);
void _zd_walk_page_range(struct zd_mm *mm, unsigned long start, unsigned long end, _zd_leaf_fn fn,
			 void *arg);

/* ---- VMAs (vma.c) ---- */

struct zd_vm_area_struct *_zd_vma_alloc(struct zd_mm *mm);
void _zd_vma_free(struct zd_vm_area_struct *vma);
int _zd_vma_insert(struct zd_mm *mm, struct zd_vm_area_struct *vma);
void _zd_vma_remove(struct zd_mm *mm, struct zd_vm_area_struct *vma);
/*
 * A copy of @src in @mm covering [start, end) at file offset @pgoff, with
 * its own anon_vma and file references, inserted, linked for rmap and
 * opened (->open). NULL on -ENOMEM. Context: @mm's mmap_lock for write.
 */
struct zd_vm_area_struct *_zd_vma_copy(struct zd_vm_area_struct *src, struct zd_mm *mm,
				       unsigned long start, unsigned long end, unsigned long pgoff);
/* Unlink, zap, remove, close and free @vma (remove_vma). Context: mmap_lock for write. */
void _zd_remove_vma(struct zd_mm *mm, struct zd_vm_area_struct *vma);
/* Split @vma at @addr; the new VMA is the upper part. 0, -ENOMEM, -EINVAL (may_split). */
int _zd_split_vma(struct zd_vm_area_struct *vma, unsigned long addr);
/* Merge @vma with compatible neighbours where possible. */
void _zd_vma_merge(struct zd_mm *mm, struct zd_vm_area_struct *vma);
/* Link into / out of the anon_vma and address_space rmap lists. */
void _zd_vma_link_rmap(struct zd_vm_area_struct *vma);
void _zd_vma_unlink_rmap(struct zd_vm_area_struct *vma);
/* anon_vma_prepare(): give an anonymous or private VMA its anon_vma. */
int _zd_anon_vma_prepare(struct zd_vm_area_struct *vma);
void _zd_anon_vma_put(struct zd_anon_vma *av);
/* The linear index of @addr in @vma (linear_page_index). */
static inline unsigned long _zd_linear_index(const struct zd_vm_area_struct *vma, unsigned long addr)
{
	return ((addr - vma->vm_start) >> ZD_PAGE_SHIFT) + vma->vm_pgoff;
}
/* vma_address(): where @index is mapped in @vma, or ~0ul if outside. */
unsigned long _zd_vma_address(const struct zd_vm_area_struct *vma, unsigned long index);

/* ---- rmap and counters (rmap.c) ---- */

/* A new anonymous folio mapped at @addr: exclusive, mapcount 1 (PTE or PMD). */
void _zd_folio_add_new_anon_rmap(struct zd_folio *folio, struct zd_vm_area_struct *vma,
				 unsigned long addr, enum zd_pt_level lvl);
/* One more PTE / PMD / PUD mapping of an existing anon or file folio. */
void _zd_folio_add_rmap(struct zd_folio *folio, struct zd_page *page, enum zd_pt_level lvl);
/* One mapping fewer; the caller drops the reference. */
void _zd_folio_remove_rmap(struct zd_folio *folio, struct zd_page *page, enum zd_pt_level lvl);
/* Set file rmap identity (mapping, index) when a file folio is first mapped. */
void _zd_folio_set_file_rmap(struct zd_folio *folio, struct zd_address_space *mapping,
			     unsigned long index);
/* Which RSS counter a folio mapped in @vma counts against. */
int _zd_mm_counter(const struct zd_vm_area_struct *vma, const struct zd_folio *folio);
void _zd_add_mm_counter(struct zd_mm *mm, int counter, long nr);

/*
 * rmap_walk: call @fn for every (vma, address) that may map @folio; stop
 * when @fn returns false. Context: folio locked (or otherwise stable).
 */
void _zd_rmap_walk(struct zd_folio *folio,
		   bool (*fn)(struct zd_folio *folio, struct zd_vm_area_struct *vma,
			      unsigned long addr, void *arg),
		   void *arg);

/* ---- zap (zap.c) ---- */

/*
 * unmap_page_range(): clear every entry of @vma in [start, end), dropping
 * the references, mapcounts and RSS the mappings held; huge leaves that
 * the range only partly covers are split first. Context: mmap_lock held.
 */
void _zd_zap_range(struct zd_vm_area_struct *vma, unsigned long start, unsigned long end);

/* ---- transparent huge pages and huge leaves (huge_memory.c) ---- */

/*
 * mm_get_huge_zero_folio(): the huge zero folio, allocated if no mm holds
 * it; @mm holds it from now until it exits. NULL if it cannot be
 * allocated. Context: mmap_lock held.
 */
struct zd_folio *_zd_mm_get_huge_zero_folio(struct zd_mm *mm);
/* mm_put_huge_zero_folio(): at exit; the last holder frees it. */
void _zd_mm_put_huge_zero_folio(struct zd_mm *mm);
/* is_huge_zero_pmd(): a PMD leaf of the huge zero folio. */
bool _zd_is_huge_zero_pmd(struct zd_mm *mm, zd_pte_t e);
/* is_huge_zero_folio(). Context: @folio held or mapped. */
bool _zd_is_huge_zero_folio(const struct zd_folio *folio);
/*
 * do_huge_pmd_anonymous_page(): a fault on an empty PMD of an anonymous
 * THP VMA maps a new zeroed THP (or, for a read, the huge zero folio)
 * with a PMD leaf and its deposited PTE table. FALLBACK when no folio can
 * be had: the caller faults at PTE level. Context: mmap_lock held.
 */
zd_vm_fault_t _zd_do_huge_pmd_anonymous_page(struct zd_vm_fault *vmf);
/*
 * do_huge_pmd_wp_page(): a write or unshare fault on the read-only
 * anonymous PMD leaf @e at vmf->pmd: reuse, copy the huge zero folio, or
 * split and return FALLBACK. Context: mmap_lock held.
 */
zd_vm_fault_t _zd_do_huge_pmd_wp_page(struct zd_vm_fault *vmf, zd_pte_t e);
/* Does this PMD leaf carry a deposited table? (the huge zero folio or an anonymous folio) */
bool _zd_pmd_has_deposit(struct zd_vm_area_struct *vma, unsigned long haddr, zd_pte_t e);
/*
 * __split_huge_pmd(): in an anonymous VMA, replace a PMD leaf by its
 * deposited PTE table mapping the same pages; in any other VMA remove the
 * leaf (the next access refaults). Cannot fail. Context: mmap_lock held.
 */
void _zd_split_huge_pmd(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pmd, unsigned long addr);
/*
 * split_folio(): split the locked anonymous large @folio into small
 * folios; @expected references must be all that is left once it is
 * unmapped. @unmapped: it is mapped only by migration entries already;
 * see huge_memory.c. 0, -EBUSY or -EAGAIN (nothing changed).
 */
int _zd_split_folio(struct zd_folio *folio, int expected, bool unmapped);
/* __split_huge_pud(): remove a PUD leaf (none is anonymous). Context: mmap_lock held. */
void _zd_split_huge_pud(struct zd_vm_area_struct *vma, _Atomic zd_pte_t *pud, unsigned long addr);
/*
 * thp_vma_suitable_order(): does the @size-aligned block around @addr lie
 * inside @vma?
 */
static inline bool _zd_thp_vma_suitable(const struct zd_vm_area_struct *vma, unsigned long addr,
					unsigned long size)
{
	unsigned long h = addr & ~(size - 1);

	return h >= vma->vm_start && h + size <= vma->vm_end;
}
/* pfn_t_devmap(): PFN_DEV | PFN_MAP, the legacy scheme's devmap pfn flags. */
static inline bool _zd_pfn_devmap(unsigned long pfn_flags)
{
	return (pfn_flags & (ZD_PFN_DEV | ZD_PFN_MAP)) == (ZD_PFN_DEV | ZD_PFN_MAP);
}

/* ---- faults (memory.c) ---- */

/* The zero page's pfn, special-mapped without a reference. */
unsigned long _zd_zero_pfn(struct zd_mm *mm);
/* vm_fault_t to the CPU's outcome: 0, -EFAULT (SIGSEGV), -EIO (SIGBUS), -ENOMEM. */
int _zd_fault_errno(zd_vm_fault_t ret);
/*
 * restore_exclusive_pte(): replace the device-exclusive entry at @pte by a
 * present, old PTE for @page, writable (and dirty if @folio is) where
 * can_change_pte_writable allows. Context: @folio locked, @pte's lock held.
 */
void _zd_restore_exclusive_pte(struct zd_vm_area_struct *vma, struct zd_folio *folio,
			       struct zd_page *page, unsigned long addr, _Atomic zd_pte_t *pte);
/*
 * can_change_pte_writable(): may the present @pte of @vma (VM_WRITE) be
 * made writable without a write fault? Private: only an exclusive
 * anonymous page; shared: only a dirty PTE (no write-notify owed).
 */
bool _zd_can_change_pte_writable(struct zd_vm_area_struct *vma, unsigned long addr, zd_pte_t pte);
/*
 * Is vma->vm_page_prot writable? A shared writable mapping that needs no
 * write notification (no page_mkwrite, no dirty tracking) maps writable
 * from the first fault; private mappings never do (COW).
 */
bool _zd_vma_page_prot_write(const struct zd_vm_area_struct *vma);
/*
 * A private mapping's vm_page_prot as entry bits: present and young (x86's
 * protections carry ACCESSED), or PROT_NONE; never writable.
 */
zd_pte_t _zd_vma_page_prot_ro(const struct zd_vm_area_struct *vma);
/* Does @vma allow this access? (the arch access_error) */
bool _zd_vma_access_ok(const struct zd_vm_area_struct *vma, bool write);
/* The lowest address a mapping may take (mmap_min_addr); lower is -EPERM. */
#define ZD_MMAP_MIN	(1ul << 16)
/* get_unmapped_area(): @hint if free, else the first @align-aligned gap; 0 if none. */
unsigned long _zd_get_unmapped_area(struct zd_mm *mm, unsigned long hint, unsigned long len,
				    unsigned long align);
/* MADV_COLLAPSE over a checked, page-aligned, non-empty [start, end) (khugepaged.c). */
int _zd_madvise_collapse(struct zd_mm *mm, unsigned long start, unsigned long end);
/* shmem_file_setup(): an unlinked tmpfs file for shared anonymous memory (shmem.c). */
int zd_shmem_file_setup(struct zd_system *sys, uint64_t size, struct zd_file **out);

/* ---- page-table freeing, mlock and the LRU ---- */

/*
 * tlb_remove_table() / pte_free_defer(): free a page-table page already
 * unlinked from its parent after an RCU grace period (pgtable_rcu.c).
 */
void _zd_pgtable_free_deferred(struct zd_mm *mm, struct zd_pgtable *t);
/*
 * mlock_folio(): a RAM folio mapped in a VM_LOCKED VMA becomes unevictable
 * and leaves the LRU lists; device folios are ignored (mlock.c).
 */
void _zd_mlock_folio(struct zd_folio *folio);
/*
 * mlock_new_folio(): a new RAM folio about to be mapped in a VM_LOCKED VMA
 * becomes unevictable instead of going on the LRU. False for a folio that
 * is never mlocked (a device folio, the zero page): the caller treats it
 * as for any VMA (mlock.c).
 */
bool _zd_mlock_new_folio(struct zd_folio *folio);
/*
 * folio_add_lru_vma(): a new RAM folio mapped in @vma is mlocked if @vma is
 * VM_LOCKED (mlock_new_folio), otherwise put on the LRU; a device folio is
 * left alone (swap.c).
 */
void _zd_folio_add_lru_vma(struct zd_folio *folio, struct zd_vm_area_struct *vma);

#endif /* ZD_MM_INTERNAL_H */
