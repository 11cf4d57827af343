/* SPDX-License-Identifier: MIT */
/*
 * zonedev/mm.h - address spaces: mm, VMAs, faults, CPU access.
 *
 * Models include/linux/mm_types.h (mm_struct, vm_area_struct),
 * include/linux/mm.h (vm_operations_struct, vm_fault, VM_* flags,
 * vm_normal_page, follow_pte, the vmf_insert_* helpers) and the syscalls
 * of mm/mmap.c, mm/mprotect.c, mm/mremap.c, mm/madvise.c and mm/mlock.c.
 *
 * Locking, as in Linux: mmap_lock (an rwsem per mm) is held for read by
 * faults, CPU accesses and GUP, for write by mmap/munmap/mprotect/mremap/
 * fork; PTE tables have their own lock (split PTLs); PMD and PUD entries
 * change under the mm's page_table_lock. Page-table pages are freed after
 * an RCU grace period, so GUP-fast may walk them locklessly.
 */
#ifndef ZONEDEV_MM_H
#define ZONEDEV_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zonedev/page.h>
#include <zonedev/pgtable.h>
#include <zonedev/huge_mm.h>	/* as linux/mm.h includes linux/huge_mm.h */

struct zd_mm;
struct zd_vm_area_struct;
struct zd_file;
struct zd_address_space;
struct zd_anon_vma;

/* ---- vm_flags (include/linux/mm.h) ---- */
#define ZD_VM_NONE		0x00000000ul
#define ZD_VM_READ		0x00000001ul
#define ZD_VM_WRITE		0x00000002ul
#define ZD_VM_EXEC		0x00000004ul
#define ZD_VM_SHARED		0x00000008ul
#define ZD_VM_MAYREAD		0x00000010ul
#define ZD_VM_MAYWRITE		0x00000020ul
#define ZD_VM_MAYEXEC		0x00000040ul
#define ZD_VM_MAYSHARE		0x00000080ul
#define ZD_VM_PFNMAP		0x00000400ul
#define ZD_VM_LOCKED		0x00002000ul
#define ZD_VM_IO		0x00004000ul
#define ZD_VM_DONTCOPY		0x00020000ul
#define ZD_VM_DONTEXPAND	0x00040000ul
#define ZD_VM_WIPEONFORK	0x02000000ul	/* the child gets it empty (MADV_WIPEONFORK) */
#define ZD_VM_MIXEDMAP		0x10000000ul
#define ZD_VM_HUGEPAGE		0x20000000ul
#define ZD_VM_NOHUGEPAGE	0x40000000ul
#define ZD_VM_MERGEABLE		0x80000000ul

/* ---- mmap/mprotect/mremap/madvise arguments (uapi) ---- */
#define ZD_PROT_NONE		0x0
#define ZD_PROT_READ		0x1
#define ZD_PROT_WRITE		0x2
#define ZD_PROT_EXEC		0x4

#define ZD_MAP_SHARED		0x01
#define ZD_MAP_PRIVATE		0x02
#define ZD_MAP_FIXED		0x10
#define ZD_MAP_ANONYMOUS	0x20
#define ZD_MAP_POPULATE		0x8000

#define ZD_MREMAP_MAYMOVE	1
#define ZD_MREMAP_FIXED		2
#define ZD_MREMAP_DONTUNMAP	4

enum zd_madvise {
	ZD_MADV_DONTNEED = 4,
	ZD_MADV_FREE = 8,
	ZD_MADV_DONTFORK = 10,
	ZD_MADV_DOFORK = 11,
	ZD_MADV_MERGEABLE = 12,
	ZD_MADV_HUGEPAGE = 14,
	ZD_MADV_NOHUGEPAGE = 15,
	ZD_MADV_WIPEONFORK = 18,
	ZD_MADV_KEEPONFORK = 19,
	ZD_MADV_COLD = 20,
	ZD_MADV_PAGEOUT = 21,
	ZD_MADV_COLLAPSE = 25,
};

/* ---- faults (include/linux/mm_types.h vm_fault_t) ---- */
typedef unsigned int zd_vm_fault_t;
#define ZD_VM_FAULT_OOM		0x000001u
#define ZD_VM_FAULT_SIGBUS	0x000002u
#define ZD_VM_FAULT_MAJOR	0x000004u
#define ZD_VM_FAULT_HWPOISON	0x000010u
#define ZD_VM_FAULT_SIGSEGV	0x000040u
#define ZD_VM_FAULT_NOPAGE	0x000100u
#define ZD_VM_FAULT_LOCKED	0x000200u
#define ZD_VM_FAULT_RETRY	0x000400u
#define ZD_VM_FAULT_FALLBACK	0x000800u
#define ZD_VM_FAULT_DONE_COW	0x001000u
#define ZD_VM_FAULT_COMPLETED	0x004000u
#define ZD_VM_FAULT_ERROR	(ZD_VM_FAULT_OOM | ZD_VM_FAULT_SIGBUS | ZD_VM_FAULT_SIGSEGV | \
				 ZD_VM_FAULT_HWPOISON)

/* enum fault_flag */
#define ZD_FAULT_FLAG_WRITE		0x01u
#define ZD_FAULT_FLAG_REMOTE		0x80u	/* on behalf of GUP or a device */
#define ZD_FAULT_FLAG_UNSHARE		0x400u
#define ZD_FAULT_FLAG_ORIG_PTE_VALID	0x800u

/*
 * struct zd_vm_fault - one fault being handled (struct vm_fault).
 * @pmd/@pte point at the entries for @address once they exist; @orig_pte
 * is the PTE value the fault started from.
 */
struct zd_vm_fault {
	struct zd_vm_area_struct *vma;
	unsigned long address;		/* page aligned */
	unsigned long real_address;
	unsigned long pgoff;		/* in the VMA's file (or anon index) */
	unsigned int flags;		/* ZD_FAULT_FLAG_* */
	_Atomic zd_pte_t *pud;
	_Atomic zd_pte_t *pmd;
	_Atomic zd_pte_t *pte;
	zd_pte_t orig_pte;
	struct zd_page *page;		/* the page a ->fault returns, or device-private page */
	struct zd_folio *cow_folio;
	void *ptl;			/* the lock held on @pte (internal) */
};

/*
 * struct zd_vm_operations_struct - a driver's or file system's mapping
 * callbacks. Every callback is optional.
 * @fault: PTE-level fault; return a page in vmf->page with a reference
 *	(the core maps it) or map it yourself and return ZD_VM_FAULT_NOPAGE.
 * @huge_fault: fault of order ZD_PMD_ORDER or ZD_PUD_ORDER; FALLBACK to
 *	try smaller.
 * @page_mkwrite: a write fault on a shared page that was mapped read-only
 *	(or is being mapped for a write), called unlocked with vmf->page
 *	referenced. Return 0 to let the core lock the folio and make the
 *	entry writable, ZD_VM_FAULT_LOCKED with the folio locked, NOPAGE
 *	(truncated: the access refaults) or an error. As in Linux, a folio
 *	whose ->mapping is NULL after a 0 return is taken for truncated: a
 *	file's pages must carry their mapping (see zd_address_space_alloc);
 *	a page that never had one is reported and the fault is SIGBUS.
 * @pfn_mkwrite: the same for a special (pfn) mapping.
 * @may_split: refuse a split at @addr (-EINVAL).
 * @pagesize: the mapping's page size (the device-DAX alignment).
 */
struct zd_vm_operations_struct {
	void (*open)(struct zd_vm_area_struct *vma);
	void (*close)(struct zd_vm_area_struct *vma);
	zd_vm_fault_t (*fault)(struct zd_vm_fault *vmf);
	zd_vm_fault_t (*huge_fault)(struct zd_vm_fault *vmf, unsigned int order);
	zd_vm_fault_t (*page_mkwrite)(struct zd_vm_fault *vmf);
	zd_vm_fault_t (*pfn_mkwrite)(struct zd_vm_fault *vmf);
	int (*may_split)(struct zd_vm_area_struct *vma, unsigned long addr);
	unsigned long (*pagesize)(struct zd_vm_area_struct *vma);
	const char *name;
};

/* struct vm_area_struct: [vm_start, vm_end). */
struct zd_vm_area_struct {
	struct zd_mm *vm_mm;
	unsigned long vm_start, vm_end;
	unsigned long vm_flags;
	unsigned long vm_pgoff;		/* file offset in pages; anon: vm_start >> 12 at creation */
	struct zd_file *vm_file;
	const struct zd_vm_operations_struct *vm_ops;
	void *vm_private_data;
	struct zd_anon_vma *_Atomic anon_vma;	/* set once, by the first anon fault */
	/* core-private */
	struct zd_vm_area_struct *anon_next;	/* anon_vma's list */
	struct zd_vm_area_struct *file_next;	/* address_space i_mmap list */
};

/*
 * zd_linear_page_index - the file page offset @addr maps in @vma
 * (linear_page_index of include/linux/pagemap.h), for a driver's fault
 * handler. Context: mmap_lock held (the VMA must not move). Returns it.
 */
static inline unsigned long zd_linear_page_index(const struct zd_vm_area_struct *vma,
						 unsigned long addr)
{
	return ((addr - vma->vm_start) >> ZD_PAGE_SHIFT) + vma->vm_pgoff;
}

/* ---- files (struct file / address_space) ---- */

/* mmap of a file: set vm_ops (and flags); 0 or -errno (include/linux/fs.h). */
struct zd_file_operations {
	int (*mmap)(struct zd_file *file, struct zd_vm_area_struct *vma);
	unsigned long (*get_unmapped_area_align)(struct zd_file *file);
	const char *name;
};

#define ZD_AS_DAX	(1u << 0)	/* IS_DAX(inode) */
#define ZD_AS_SHMEM	(1u << 1)	/* tmpfs / shared anonymous memory */
#define ZD_AS_FSDAX	(1u << 2)	/* with ZD_AS_DAX: a DAX file system's file */

struct zd_file {
	const struct zd_file_operations *f_op;
	struct zd_address_space *f_mapping;
	void *private_data;
	_Atomic long f_count;
	void (*release)(struct zd_file *file);	/* at the last fput */
};

/*
 * zd_address_space_alloc - the address_space of a new inode of a file
 * system or driver outside the library (what inode_init_always and
 * address_space_init_once set up for an inode's i_data): an empty i_mmap
 * (the rmap of the file's shared and private mappings, used by
 * zd_unmap_mapping_range and rmap walks) and no page cache of its own.
 * Point every struct zd_file of the inode at it (file->f_mapping).
 * @flags: 0 for an ordinary file system that writes back dirty pages
 * (GUP then refuses long-term writable pins of shared mappings, R4.8), or
 * ZD_AS_DAX (ZD_AS_DAX | ZD_AS_FSDAX for a DAX file system's file).
 * ZD_AS_SHMEM is refused: shmem mappings come from tmpfs.
 *
 * Page-cache folios the file system hands out from ->fault carry the
 * page-cache identity, as filemap_add_folio gives them: folio->page.mapping
 * is this address_space and folio->page.index the file page offset, set
 * before the folio is first mapped. The fault path and do_page_mkwrite
 * take a folio whose mapping is NULL for one truncated meanwhile. Clear
 * both (under the folio lock) before the file system's last reference to
 * a folio is dropped.
 *
 * Returns 0 and sets *out, -EINVAL (NULL argument, bad flags), -ENOMEM.
 * Context: any.
 */
int zd_address_space_alloc(struct zd_system *sys, unsigned int flags,
			   struct zd_address_space **out);
/*
 * zd_address_space_free - free an address_space from
 * zd_address_space_alloc (the inode's eviction). Every mapping of the
 * file must be gone: one still mapped is reported (ZD_MISUSE_BAD_STATE)
 * and the address_space is then not freed. NULL is a no-op.
 */
void zd_address_space_free(struct zd_address_space *as);

/* zd_get_file/zd_fput - file references (mappings hold one each). */
void zd_get_file(struct zd_file *file);
void zd_fput(struct zd_file *file);

/* ---- mm lifecycle ---- */

/*
 * zd_mm_create - a new, empty address space (mm_alloc). 0 or -ENOMEM.
 * zd_mm_destroy - exit_mmap: unmap every VMA (dropping exactly the
 * references and mapcounts the mappings took), free the page tables after
 * an RCU grace period, free the mm. Context: no other user of @mm.
 */
int zd_mm_create(struct zd_system *sys, struct zd_mm **out);
void zd_mm_destroy(struct zd_mm *mm);
struct zd_system *zd_mm_system(const struct zd_mm *mm);

/*
 * zd_fork - dup_mm: a child with a copy of every VMA (VM_DONTCOPY ones
 * left out) and the kernel's page-table copy rules: anonymous COW
 * (both sides write-protected); in an mm where a FOLL_PIN GUP ever ran,
 * exclusive anonymous pages that may be DMA-pinned copied eagerly (a
 * PMD-mapped THP split first, its pages copied one by one); page tables
 * of VM_PFNMAP/VM_MIXEDMAP mappings copied, other shared mappings left to
 * refault; device-private and migration entries made read-only on both
 * sides (R6.4); device-exclusive entries made present again first (R6.5).
 * 0 or -ENOMEM (whatever failed, as dup_mm; also when a device-exclusive
 * entry's folio is locked). Context: takes @parent's mmap_lock for write.
 */
int zd_fork(struct zd_mm *parent, struct zd_mm **child);

void zd_mmap_read_lock(struct zd_mm *mm);
void zd_mmap_read_unlock(struct zd_mm *mm);
void zd_mmap_write_lock(struct zd_mm *mm);
void zd_mmap_write_unlock(struct zd_mm *mm);

/* ---- the mapping syscalls (kernel errors) ---- */

/*
 * zd_mmap - do_mmap: map [addr, addr + len) (len rounded up to pages).
 * Without ZD_MAP_FIXED @addr is a hint and the result goes to *out.
 * @align (0 or a power of two >= 4 KiB) aligns the chosen address, as the
 * THP and DAX get_unmapped_area do. ZD_MAP_SHARED|ZD_MAP_ANONYMOUS maps
 * shmem; with @file the file's ->mmap decides. Errors: -EINVAL (len 0,
 * unaligned FIXED addr, neither SHARED nor PRIVATE, bad align), -ENOMEM
 * (no room; len above the task size; a FIXED range ending past it),
 * -EPERM (FIXED below mmap_min_addr), -EOVERFLOW (@pgoff + pages wraps),
 * -EACCES, what ->mmap returns. Context: takes mmap_lock.
 */
int zd_mmap(struct zd_mm *mm, unsigned long addr, unsigned long len, int prot, int flags,
	    struct zd_file *file, unsigned long pgoff, unsigned long align, unsigned long *out);

/*
 * munmap: 0 (also for an unmapped range), -EINVAL (unaligned, len 0, or a
 * range past the task size: checked before len is rounded up).
 */
int zd_munmap(struct zd_mm *mm, unsigned long addr, unsigned long len);

/*
 * mprotect: 0 for len 0; -EINVAL (unaligned), -ENOMEM (a hole in the
 * range, or a range that wraps past 2^64), -EACCES (write on a mapping
 * that may not be written).
 */
int zd_mprotect(struct zd_mm *mm, unsigned long addr, unsigned long len, int prot);

/*
 * mremap: move or resize [old, old + old_len) to new_len. MAYMOVE,
 * FIXED (at @new_addr), DONTUNMAP (old range left mapped, empty; anonymous
 * private only). The result goes to *out. -EINVAL (new_len 0 or above
 * the task size, a FIXED range ending past it or overlapping the old one,
 * old_len 0 of a private mapping, the file offset wrapping), -EPERM (FIXED
 * below mmap_min_addr), -ENOMEM (cannot grow in place without MAYMOVE, no
 * room), -EFAULT (not mapped, or a moved range running past its VMA). A
 * shrink in place unmaps the tail as munmap does, across VMAs.
 */
int zd_mremap(struct zd_mm *mm, unsigned long old, unsigned long old_len,
	      unsigned long new_len, int flags, unsigned long new_addr, unsigned long *out);

/*
 * madvise: -EINVAL (bad advice, unaligned, a range that wraps; DOFORK on a
 * VM_IO mapping, WIPEONFORK on anything but private anonymous memory: the
 * VMAs before the refused one keep the advice), -ENOMEM (a hole).
 * DONTFORK/DOFORK set/clear VM_DONTCOPY (the child does not get the VMA),
 * WIPEONFORK/KEEPONFORK VM_WIPEONFORK (the child gets it empty).
 */
int zd_madvise(struct zd_mm *mm, unsigned long addr, unsigned long len, int advice);

/*
 * zd_mlock - mlock(2): set VM_LOCKED on the VMAs of [addr, addr + len)
 * (the range is widened to whole pages; VMAs are split and merged), fault
 * every page of the range in (writing private writable VMAs, as
 * populate_vma_page_range does), then mlock each RAM folio mapped in the
 * locked VMAs: PG_unevictable (standing for PG_mlocked too) is set and
 * the folio is taken off the active/inactive lists, as mlock_folio moves
 * it to the unevictable list. The model has no unevictable list, so an
 * mlocked folio is on no LRU (PG_lru clear). ZONE_DEVICE folios are never
 * touched (mlock_pte_range skips them); DAX and VM_SPECIAL VMAs are not
 * marked VM_LOCKED at all (mlock_fixup), though their range is faulted
 * in. A new anonymous folio faulted into a VM_LOCKED VMA later is
 * mlocked as it is mapped (mlock_new_folio in folio_add_lru_vma). Not
 * modelled: a page-cache folio mapped there later is not mlocked
 * (mlock_vma_folio), and unmapping does not munlock (a folio still
 * mapped elsewhere stays unevictable until it is freed or munlocked
 * there). Returns 0; -EINVAL (overflow); -ENOMEM (a
 * hole: nothing is changed, or the fault-in hit an unmapped range);
 * -EAGAIN (out of memory while faulting in). Context: takes mmap_lock
 * (write, then read for the fault-in, then write).
 */
int zd_mlock(struct zd_mm *mm, unsigned long addr, size_t len);

/*
 * zd_munlock - munlock(2): clear VM_LOCKED on the VMAs of the range, and
 * give each mlocked RAM folio mapped there back to the inactive or active
 * list unless another VM_LOCKED VMA still maps it (found through rmap,
 * as the pre-5.16 munlock_vma_page did; Linux now keeps an mlock_count).
 * ZONE_DEVICE folios are skipped. Returns 0, -EINVAL, -ENOMEM (a hole:
 * nothing changed). Context: takes mmap_lock for write; may sleep on a
 * folio lock.
 */
int zd_munlock(struct zd_mm *mm, unsigned long addr, size_t len);

/* ---- VMAs ---- */

/* find_vma: the first VMA ending above @addr, or NULL. Context: mmap_lock held. */
struct zd_vm_area_struct *zd_find_vma(struct zd_mm *mm, unsigned long addr);
/* vma_lookup: the VMA containing @addr, or NULL. Context: mmap_lock held. */
struct zd_vm_area_struct *zd_vma_lookup(struct zd_mm *mm, unsigned long addr);
/* Number of VMAs, for tests. Context: mmap_lock held. */
unsigned long zd_mm_nr_vmas(struct zd_mm *mm);
/* vma_is_anonymous(): no file, no vm_ops. */
static inline bool zd_vma_is_anonymous(const struct zd_vm_area_struct *vma)
{
	return !vma->vm_ops && !vma->vm_file;
}
bool zd_vma_is_dax(const struct zd_vm_area_struct *vma);
bool zd_vma_is_fsdax(const struct zd_vm_area_struct *vma);

/* ---- faults and CPU access ---- */

/*
 * zd_handle_mm_fault - resolve a fault at @address (handle_mm_fault):
 * anonymous read -> the shared zero page; anonymous write -> a new zeroed
 * page (a huge one in a VM_HUGEPAGE region when it fits); a write on a
 * read-only anonymous page -> COW, reusing an exclusive page; file and
 * driver mappings through vm_ops; device-private entries through
 * migrate_to_ram. As in Linux it does not check the access against the VMA's permissions
 * (access_error: the caller's job; the CPU path and GUP do it), only what
 * sanitize_fault_flags refuses: a write to a VMA without VM_MAYWRITE, or
 * without VM_WRITE to one that is not a private COW mapping (SIGSEGV).
 * ZD_FAULT_FLAG_REMOTE marks a fault on behalf of another process
 * (get_user_pages_remote).
 * Returns 0 or ZD_VM_FAULT_* bits. Context: mmap_lock held for read.
 */
zd_vm_fault_t zd_handle_mm_fault(struct zd_vm_area_struct *vma, unsigned long address,
				 unsigned int flags);

/*
 * zd_cpu_read / zd_cpu_write - the MMU: walk the page table, fault as
 * needed, copy under the page-table lock. 0, -EFAULT (no mapping or no
 * permission: SIGSEGV; also, reported, when faults keep leaving the entry
 * unusable, where Linux would refault for ever), -EIO (SIGBUS), -ENOMEM
 * (OOM), -EOPNOTSUPP (data=none). Context: takes mmap_lock for read.
 */
int zd_cpu_read(struct zd_mm *mm, unsigned long addr, void *buf, size_t len);
int zd_cpu_write(struct zd_mm *mm, unsigned long addr, const void *buf, size_t len);
/* touch: fault every page of the range in (a read, or a write of nothing). */
int zd_cpu_touch(struct zd_mm *mm, unsigned long addr, size_t len, bool write);
/* An atomic add on a naturally aligned 64-bit word; returns the old value in *old. */
int zd_cpu_atomic_add(struct zd_mm *mm, unsigned long addr, uint64_t val, uint64_t *old);

/*
 * zd_follow_entry - read the entry mapping @addr without faulting: its value
 * and level (1 PTE, 2 PMD, 3 PUD); 0 if nothing is mapped there (nothing
 * is, at or above ZD_TASK_SIZE).
 * Context: mmap_lock held or not (reads under RCU).
 */
int zd_follow_entry(struct zd_mm *mm, unsigned long addr, zd_pte_t *entry, int *level);

/*
 * zd_vm_normal_page - the page behind a present entry, or NULL for
 * special entries (pfn maps, the zero page) and devmap entries (the legacy
 * scheme's device DAX, L6) (vm_normal_page). Device coherent, fs-dax,
 * device-DAX and p2pdma pages mapped with a reference are returned (R5.1).
 */
struct zd_page *zd_vm_normal_page(struct zd_vm_area_struct *vma, unsigned long addr, zd_pte_t pte);

/* ---- inserting pages from a driver's fault handler ---- */

/*
 * vmf_insert_page_mkwrite: map @page at vmf->address with a reference
 * and a file mapcount (one of each per mapping, R9.4). An entry already
 * there: without @write ZD_VM_FAULT_NOPAGE (nothing changes); with @write
 * it must be the same pfn and becomes young, dirty and writable.
 * ZD_VM_FAULT_SIGBUS for a page at refcount 0 or an address outside the
 * VMA. Context: from ->fault, mmap_lock held.
 */
zd_vm_fault_t zd_vmf_insert_page_mkwrite(struct zd_vm_fault *vmf, struct zd_page *page, bool write);
/*
 * vmf_insert_pfn: map @pfn in a VM_PFNMAP or VM_MIXEDMAP VMA with a
 * special entry: no reference, no mapcount; vm_normal_page() returns NULL
 * for it. An entry already there is left (or made writable when @write
 * and it is the same pfn). ZD_VM_FAULT_NOPAGE, or SIGBUS for another VMA
 * kind, an address outside the VMA or a pfn without a memmap.
 */
zd_vm_fault_t zd_vmf_insert_pfn(struct zd_vm_fault *vmf, unsigned long pfn, bool write);
/* vmf_insert_folio_pmd / _pud: the folio must be exactly PMD / PUD order. */
zd_vm_fault_t zd_vmf_insert_folio_pmd(struct zd_vm_fault *vmf, struct zd_folio *folio, bool write);
zd_vm_fault_t zd_vmf_insert_folio_pud(struct zd_vm_fault *vmf, struct zd_folio *folio, bool write);

/*
 * The pfn_t flags of 6.14 and older: a pfn with both ZD_PFN_DEV and
 * ZD_PFN_MAP is "devmap" (pfn_t_devmap): ZONE_DEVICE memory with a struct
 * page, mapped without a reference (legacy scheme, L6).
 */
#define ZD_PFN_DEV	(1ul << 0)
#define ZD_PFN_MAP	(1ul << 1)

/*
 * vmf_insert_mixed (6.14): map @pfn at vmf->address from vm_page_prot,
 * never dirtied here. A devmap pfn (@pfn_flags ZD_PFN_DEV | ZD_PFN_MAP)
 * gets a devmap entry in any VMA; anything else needs VM_MIXEDMAP (or the
 * zero pfn) and gets a special entry. Neither takes a reference, a mapcount
 * or an RSS count. An entry already there is left alone. Returns
 * ZD_VM_FAULT_NOPAGE, SIGBUS (VMA kind, address outside the VMA, no
 * memmap) or OOM. Context: from ->fault, mmap_lock held.
 */
zd_vm_fault_t zd_vmf_insert_mixed(struct zd_vm_fault *vmf, unsigned long pfn,
				  unsigned long pfn_flags);
/*
 * vmf_insert_pfn_pmd / _pud (6.14): a PMD / PUD leaf for @pfn (aligned to
 * the leaf size) at vmf->address's leaf, devmap for a devmap pfn, else
 * special (the VMA must then be VM_PFNMAP or VM_MIXEDMAP); no reference,
 * mapcount or RSS count. With @write young, dirty and writable; else from
 * vm_page_prot. An entry already there: with @write and the same pfn it
 * is made young, dirty and writable; otherwise left. Returns
 * ZD_VM_FAULT_NOPAGE, SIGBUS (leaf not inside the VMA, unaligned pfn,
 * VMA kind) or FALLBACK (a page table is there).
 */
zd_vm_fault_t zd_vmf_insert_pfn_pmd(struct zd_vm_fault *vmf, unsigned long pfn,
				    unsigned long pfn_flags, bool write);
zd_vm_fault_t zd_vmf_insert_pfn_pud(struct zd_vm_fault *vmf, unsigned long pfn,
				    unsigned long pfn_flags, bool write);

/* ---- mapcounts ---- */

/* folio_mapcount(): every mapping of any part of the folio. */
int zd_folio_mapcount(const struct zd_folio *folio);
/* folio_entire_mapcount(): PMD/PUD mappings of the whole folio. */
int zd_folio_entire_mapcount(const struct zd_folio *folio);
static inline bool zd_folio_test_anon(const struct zd_folio *folio)
{
	return (uintptr_t)folio->page.mapping & 1u;
}

/*
 * zd_unmap_mapping_range - zap every user mapping of [start, start + len)
 * of @mapping's file offsets (unmap_mapping_range); len 0 means to the
 * end. Context: may sleep; takes each mm's page-table locks.
 */
void zd_unmap_mapping_range(struct zd_address_space *mapping, uint64_t start, uint64_t len);

/*
 * zd_try_to_unmap - remove every mapping of @folio through rmap
 * (try_to_unmap); true if none is left. Context: folio locked.
 */
bool zd_try_to_unmap(struct zd_folio *folio);

/*
 * zd_try_to_migrate - replace every mapping of @folio (present PTEs and
 * device-private entries, in every mm, through rmap) by a migration entry
 * (try_to_migrate): each mapping's mapcount and reference go, the RSS
 * stays. A PMD-mapped anonymous THP is split first. true if no mapping is
 * left. Context: @folio locked and referenced by the caller; mmap_lock
 * not needed.
 */
bool zd_try_to_migrate(struct zd_folio *folio);

/*
 * zd_remove_migration_ptes - map @dst wherever a migration entry for
 * @src stands (remove_migration_ptes): each takes a reference and a
 * mapcount on @dst, write permission as the entry said; @dst == @src
 * undoes a migration. @dst must already carry @src's mapping and index.
 * Context: @src locked.
 */
void zd_remove_migration_ptes(struct zd_folio *src, struct zd_folio *dst);

/* Per-mm counters (RSS by kind), for tests. */
struct zd_mm_stats {
	long rss_anon, rss_file, rss_shmem;	/* pages mapped (MM_ANONPAGES, ...) */
	unsigned long nr_vmas, nr_pgtables;
};
void zd_mm_get_stats(struct zd_mm *mm, struct zd_mm_stats *st);

#endif /* ZONEDEV_MM_H */
