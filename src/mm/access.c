// SPDX-License-Identifier: MIT
/*
 * src/mm/access.c - the CPU's view of an address space: the MMU.
 *
 * Models what the hardware page walker and the arch fault entry
 * (arch/x86/mm/fault.c: access_error, handle_mm_fault, the retry loop) do
 * for a load, a store or an atomic: walk the page table, and on a missing
 * or forbidden entry take a fault and try again.
 *
 * The hardware walker takes no lock of the kernel's: not mmap_lock, which
 * only the fault handler takes. The model's first attempt at each page
 * does the same (try_access_fast): it walks from the PGD under the RCU
 * read side, as GUP-fast does (page-table pages are freed after a grace
 * period, and khugepaged's collapse waits for one before it reuses a
 * table), reading each level once; at the PTE level it takes the PTE
 * lock, re-checks that the PMD still points to this table
 * (pte_offset_map_lock()'s re-check) and that the entry still allows the
 * access, sets the accessed and dirty bits, copies and unlocks. So a
 * mapped page that allows the access is read or written while another
 * thread holds mmap_lock for write, as on hardware. Everything else - no
 * entry, a forbidden one, a non-present one, a PROT_NONE, special or
 * devmap entry, a PMD or PUD leaf, a PMD that changed - goes to the locked
 * path: mmap_lock for read, the VMA check, the walk, the fault, the retry.
 *
 * The bytes are always copied with the entry's lock held (the PTE lock,
 * page_table_lock for a huge leaf), so an unmap, which takes the same lock
 * to clear the entry before it frees the page, cannot free the page in the
 * middle of the copy. That is the model's stand-in for the TLB shootdown,
 * which the hardware needs instead: there is no TLB and no cached
 * translation.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

enum access_op { OP_READ, OP_WRITE, OP_TOUCH_READ, OP_TOUCH_WRITE, OP_ATOMIC_ADD };

struct access {
	enum access_op op;
	void *buf;
	const void *src;
	size_t len;
	uint64_t val, old;
};

static bool op_writes(enum access_op op)
{
	return op == OP_WRITE || op == OP_TOUCH_WRITE || op == OP_ATOMIC_ADD;
}

/* The access itself on the frame's bytes @data. Context: the entry's lock held. */
static void copy_at(unsigned char *data, struct access *a)
{
	switch (a->op) {
	case OP_READ:
		memcpy(a->buf, data, a->len);
		break;
	case OP_WRITE:
		memcpy(data, a->src, a->len);
		break;
	case OP_ATOMIC_ADD:
		a->old = zd_atomic_fetch_add_acq_rel((_Atomic uint64_t *)(void *)data, a->val);
		break;
	default:
		break;
	}
}

static bool op_touches(enum access_op op)
{
	return op == OP_TOUCH_READ || op == OP_TOUCH_WRITE;
}

/* Do the access on the page frame @pfn at @offset. Context: the entry's lock held. */
static int do_copy(struct zd_mm *mm, unsigned long pfn, size_t offset, struct access *a)
{
	struct zd_page *page;
	unsigned char *data;

	if (op_touches(a->op))
		return 0;
	page = zd_pfn_to_page(mm->sys, pfn);
	if (!page)
		return -EFAULT;
	data = zd_page_address(page);
	if (!data)
		return -EOPNOTSUPP;	/* data=none */
	copy_at(data + offset, a);
	return 0;
}

/* A leaf that allows this access. */
static bool leaf_allows(zd_pte_t e, bool write)
{
	return (e & ZD_PTE_PRESENT) && (!write || zd_pte_write(e));
}

/* The MMU sets the accessed (and dirty) bit of the leaf it used, where not set yet. */
static void touch_leaf(_Atomic zd_pte_t *slot, zd_pte_t e, bool write)
{
	zd_pte_t t = write ? zd_pte_mkdirty(zd_pte_mkyoung(e)) : zd_pte_mkyoung(e);

	if (t != e)
		_zd_set_entry(slot, t);
}

/* 1: done, 0: needs a fault, <0: error. Context: mmap_lock held for read. */
static int try_access(struct zd_mm *mm, unsigned long addr, struct access *a)
{
	bool write = op_writes(a->op);
	_Atomic zd_pte_t *slot;
	zd_pte_t e;
	int ret;

	/* One walk from the PGD down, as the MMU's: each level read once. */
	slot = &mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)];
	for (enum zd_pt_level l = ZD_LVL_PGD; l >= ZD_LVL_PMD; l--) {
		unsigned long size = 1ul << (12 + 9 * (l - 1));

		e = _zd_read_entry(slot);
		if (l == ZD_LVL_PGD || !zd_pte_huge(e)) {
			/* Empty, or not a table: nothing mapped below. */
			if (!(e & ZD_PTE_PRESENT) || (e & ZD_PTE_HUGE))
				return 0;
			slot = &_zd_entry_table(e)->ent[_zd_level_index(addr, l - 1)];
			continue;
		}
		zd_spin_lock(&mm->page_table_lock);
		e = _zd_read_entry(slot);
		if (!zd_pte_huge(e) || !leaf_allows(e, write)) {
			zd_spin_unlock(&mm->page_table_lock);
			return 0;
		}
		ret = do_copy(mm, zd_pte_pfn(e) + ((addr & (size - 1)) >> ZD_PAGE_SHIFT),
			      addr & (ZD_PAGE_SIZE - 1), a);
		touch_leaf(slot, e, write);
		zd_spin_unlock(&mm->page_table_lock);
		return ret ? ret : 1;
	}
	/* A lockless look first: an entry that cannot serve us means a fault anyway. */
	if (!leaf_allows(_zd_read_entry(slot), write))
		return 0;
	zd_spin_lock(_zd_pte_lockptr(slot));
	e = _zd_read_entry(slot);
	if (!leaf_allows(e, write)) {
		zd_spin_unlock(_zd_pte_lockptr(slot));
		return 0;
	}
	ret = do_copy(mm, zd_pte_pfn(e), addr & (ZD_PAGE_SIZE - 1), a);
	touch_leaf(slot, e, write);
	zd_spin_unlock(_zd_pte_lockptr(slot));
	return ret ? ret : 1;
}

/* An entry the lockless first attempt may use: the locked path's test, and nothing special. */
static bool fast_allows(zd_pte_t e, bool write)
{
	return leaf_allows(e, write) && !(e & (ZD_PTE_SPECIAL | ZD_PTE_DEVMAP | ZD_PTE_HUGE));
}

/*
 * The MMU's walk with no mmap_lock: 1 if the access is done, 0 if the
 * locked path must do it (nothing has changed then). Only a PTE that
 * allows the access and has a page with data is used here.
 */
static int try_access_fast(struct zd_mm *mm, unsigned long addr, struct access *a)
{
	bool write = op_writes(a->op);
	_Atomic zd_pte_t *slot, *pmdp = NULL;
	struct zd_spinlock *ptl;
	zd_pte_t e, pmd = 0;
	int ret = 0;

	/* The tables read below are freed only after a grace period. */
	zd_rcu_read_lock();
	slot = &mm->pgd->ent[_zd_level_index(addr, ZD_LVL_PGD)];
	for (enum zd_pt_level l = ZD_LVL_PGD; l >= ZD_LVL_PMD; l--) {
		e = _zd_read_entry(slot);
		/* Empty, non-present, or a huge leaf: the locked path. */
		if (!(e & ZD_PTE_PRESENT) || (e & ZD_PTE_HUGE))
			goto out;
		pmdp = slot;
		pmd = e;
		slot = &_zd_entry_table(e)->ent[_zd_level_index(addr, l - 1)];
	}
	if (!fast_allows(_zd_read_entry(slot), write))
		goto out;
	/* pte_offset_map_lock(): the lock, then the PMD still points to this table. */
	ptl = _zd_pte_lockptr(slot);
	zd_spin_lock(ptl);
	e = _zd_read_entry(slot);
	if (_zd_read_entry(pmdp) == pmd && fast_allows(e, write)) {
		struct zd_page *page = NULL;
		unsigned char *data = NULL;

		if (!op_touches(a->op)) {
			page = zd_pfn_to_page(mm->sys, zd_pte_pfn(e));
			data = page ? zd_page_address(page) : NULL;
		}
		/* No page or no data: the locked path gives the error. */
		if (op_touches(a->op) || data) {
			if (data)
				copy_at(data + (addr & (ZD_PAGE_SIZE - 1)), a);
			touch_leaf(slot, e, write);
			ret = 1;
		}
	}
	zd_spin_unlock(ptl);
out:
	zd_rcu_read_unlock();
	return ret;
}

/*
 * Faults in a row that leave the entry unusable before the access gives
 * up. Linux retries for ever (the task is killable); with real threads
 * changing the entry this many misses in a row do not happen.
 */
#define ACCESS_MAX_FAULTS 100000u

/* One access within one page: walk, fault, retry. */
static int access_one(struct zd_mm *mm, unsigned long addr, struct access *a)
{
	bool write = op_writes(a->op);

	for (unsigned tries = 0;; tries++) {
		struct zd_vm_area_struct *vma = zd_vma_lookup(mm, addr);
		zd_vm_fault_t ret;
		int r;

		if (!vma || !_zd_vma_access_ok(vma, write))
			return -EFAULT;		/* SIGSEGV */
		r = try_access(mm, addr, a);
		if (r)
			return r < 0 ? r : 0;
		ret = zd_handle_mm_fault(vma, addr, write ? ZD_FAULT_FLAG_WRITE : 0);
		if (ret & ZD_VM_FAULT_ERROR)
			return _zd_fault_errno(ret);
		if (tries >= ACCESS_MAX_FAULTS) {
			zd_pte_t e = 0;
			int lvl = 0;

			zd_follow_entry(mm, addr, &e, &lvl);
			_zd_report_page(mm->sys, ZD_MISUSE_BAD_STATE, "", NULL,
					"CPU %s at %#lx: %u faults in a row left the entry "
					"unusable (level %d: %#llx); a ->fault or ->page_mkwrite "
					"that keeps asking for a retry", write ? "write" : "read",
					addr, tries, lvl, (unsigned long long)e);
			return -EFAULT;
		}
		if (tries > 64)
			zd_cpu_relax();		/* another thread keeps changing the entry */
	}
}

static int access_range(struct zd_mm *mm, unsigned long addr, size_t len, struct access *a)
{
	unsigned char *buf = a->buf;
	const unsigned char *src = a->src;
	bool locked = false;
	int ret = 0;

	if (addr + len < addr || addr + len > ZD_TASK_SIZE)
		return -EFAULT;
	while (len) {
		size_t chunk = ZD_PAGE_SIZE - (addr & (ZD_PAGE_SIZE - 1));

		if (chunk > len)
			chunk = len;
		a->len = chunk;
		a->buf = buf;
		a->src = src;
		/*
		 * Once a page needed the locked path, the rest of the range
		 * takes it too, mmap_lock held as before.
		 */
		if (locked || !try_access_fast(mm, addr, a)) {
			if (!locked) {
				zd_mmap_read_lock(mm);
				locked = true;
			}
			ret = access_one(mm, addr, a);
			if (ret)
				break;
		}
		addr += chunk;
		len -= chunk;
		if (buf)
			buf += chunk;
		if (src)
			src += chunk;
	}
	if (locked)
		zd_mmap_read_unlock(mm);
	return ret;
}

int zd_cpu_read(struct zd_mm *mm, unsigned long addr, void *buf, size_t len)
{
	struct access a = { .op = OP_READ, .buf = buf };

	return access_range(mm, addr, len, &a);
}

int zd_cpu_write(struct zd_mm *mm, unsigned long addr, const void *buf, size_t len)
{
	struct access a = { .op = OP_WRITE, .src = buf };

	return access_range(mm, addr, len, &a);
}

int zd_cpu_touch(struct zd_mm *mm, unsigned long addr, size_t len, bool write)
{
	struct access a = { .op = write ? OP_TOUCH_WRITE : OP_TOUCH_READ };
	unsigned long start = addr & ~(ZD_PAGE_SIZE - 1);

	if (len > SIZE_MAX - (addr - start))
		return -EFAULT;		/* the range wraps */
	return access_range(mm, start, len + (addr - start), &a);
}

int zd_cpu_atomic_add(struct zd_mm *mm, unsigned long addr, uint64_t val, uint64_t *old)
{
	struct access a = { .op = OP_ATOMIC_ADD, .val = val };
	int ret;

	if (addr & 7)
		return -EINVAL;
	ret = access_range(mm, addr, 8, &a);
	if (!ret && old)
		*old = a.old;
	return ret;
}
