/* SPDX-License-Identifier: MIT */
/*
 * zonedev/gup.h - get_user_pages and pin_user_pages, slow and fast.
 *
 * Models the GUP interface of include/linux/mm.h and mm/gup.c (semantics
 * §4): FOLL_* flags, get/pin with and without the mmap lock, the lockless
 * fast path, unpin, and folio_is_longterm_pinnable.
 *
 * A GET takes plain references (released with zd_put_page); a PIN takes
 * references that mark the folio "maybe DMA-pinned" (released only with
 * the zd_unpin_* calls): small folios gain ZD_GUP_PIN_COUNTING_BIAS per pin
 * in their refcount, large folios one reference plus one _pincount per pin.
 * The shared zero page is never pinned: it may be returned by a PIN, and
 * unpinning it does nothing (as in Linux).
 *
 * Where the kernel takes current->mm, every call here takes the mm.
 * Argument orders and count types are the kernel's (see "Signatures").
 */
#ifndef ZONEDEV_GUP_H
#define ZONEDEV_GUP_H

#include <limits.h>
#include <stdbool.h>
#include <zonedev/mm.h>

/*
 * FOLL_* flags, with the newest kernel's values (include/linux/mm_types.h
 * enum; the internal ones of mm/internal.h from bit 16).
 */
#define ZD_FOLL_WRITE		(1u << 0)	/* check the PTE is writable (break COW) */
#define ZD_FOLL_GET		(1u << 1)	/* take a reference on each page */
#define ZD_FOLL_DUMP		(1u << 2)	/* core dump: -EFAULT on holes and special pages */
#define ZD_FOLL_FORCE		(1u << 3)	/* ptrace: ignore VM_READ/VM_WRITE in COW mappings */
#define ZD_FOLL_NOWAIT		(1u << 4)	/* not modelled: -EOPNOTSUPP */
#define ZD_FOLL_NOFAULT		(1u << 5)	/* never fault: -EFAULT instead */
#define ZD_FOLL_HWPOISON	(1u << 6)	/* -EHWPOISON instead of -EFAULT for poison */
#define ZD_FOLL_ANON		(1u << 7)	/* anonymous VMAs only */
#define ZD_FOLL_LONGTERM	(1u << 8)	/* pin for an indefinite time (needs PIN) */
#define ZD_FOLL_SPLIT_PMD	(1u << 9)	/* split a PMD leaf, follow the PTE (slow path only) */
#define ZD_FOLL_PCI_P2PDMA	(1u << 10)	/* the caller accepts p2pdma pages */
#define ZD_FOLL_INTERRUPTIBLE	(1u << 11)	/* accepted; the model has no signals */
#define ZD_FOLL_HONOR_NUMA_FAULT (1u << 12)	/* fault on PROT_NONE entries of accessible VMAs */
/* Internal in Linux; here the slow entries accept PIN and TOUCH, never REMOTE. */
#define ZD_FOLL_TOUCH		(1u << 16)	/* mark the page accessed (and dirty for WRITE) */
#define ZD_FOLL_TRIED		(1u << 17)
#define ZD_FOLL_REMOTE		(1u << 18)	/* on behalf of another mm: FAULT_FLAG_REMOTE */
#define ZD_FOLL_PIN		(1u << 19)	/* pin: see the file comment */
#define ZD_FOLL_FAST_ONLY	(1u << 20)	/* fast path only, no fallback */
#define ZD_FOLL_UNLOCKABLE	(1u << 21)

/*
 * A grab that would take a folio's refcount above this fails (slow path:
 * -ENOMEM, like try_grab_folio's refusal; fast path: falls back to the
 * slow path, which then refuses). Linux only catches a count that has
 * already wrapped negative; the model refuses before the wrap, leaving
 * headroom for 64 pins racing with the check.
 */
#define ZD_GUP_REFCOUNT_LIMIT	(INT_MAX - 64 * ZD_GUP_PIN_COUNTING_BIAS)

/*
 * Signatures follow include/linux/mm.h: the locked calls take
 * (start, nr_pages, gup_flags, pages), the _unlocked ones (start, nr_pages,
 * pages, gup_flags); page counts are unsigned long on the slow path and int
 * on the fast one. There is no `current`: the local calls (get_user_pages,
 * pin_user_pages, the _unlocked and _fast ones) take the mm they work on
 * first, and act as the task owning it would (no FOLL_REMOTE); the
 * _remote calls act on another process's mm (FOLL_REMOTE: their faults
 * carry ZD_FAULT_FLAG_REMOTE).
 */

/* ---- slow path: the caller holds mmap_lock for read ---- */

/*
 * zd_get_user_pages - take references on the pages mapping [start, start +
 * nr_pages * 4 KiB) of @mm, the caller's own address space
 * (get_user_pages on current->mm; FOLL_TOUCH is added). For each address,
 * pages[i] receives the page (the subpage of a large folio) that a CPU
 * access would reach at that moment: missing entries, write access to a
 * read-only entry (COW break), device-private and migration entries are
 * faulted first (zd_handle_mm_fault; a device-private page is migrated
 * back to RAM, bug B21). With @pages and without ZD_FOLL_PIN, ZD_FOLL_GET
 * is implied; with ZD_FOLL_PIN this is pin_user_pages (the model lets the
 * general entry take PIN; Linux keeps it internal). @pages may be NULL
 * only without GET/PIN: the range is then faulted in (populated) only.
 *
 * Returns the number of pages taken (fewer than @nr_pages when an error
 * stopped the walk after some pages; the caller releases those), or a
 * negative errno when none was: -EINVAL (bad flags, R4.1: GET with PIN,
 * LONGTERM without PIN, GET/PIN without @pages, LONGTERM with PCI_P2PDMA;
 * unknown flags, FOLL_REMOTE), -EOPNOTSUPP (an unmodelled flag; LONGTERM
 * on an fs-dax VMA, R4.7), -EFAULT (no VMA, no permission, R4.8/R4.9; a
 * hole with FOLL_DUMP or FOLL_NOFAULT; a fault that fails), -ENOMEM (out
 * of memory, refcount limit), -EREMOTEIO (a p2pdma page without
 * FOLL_PCI_P2PDMA), -EEXIST (a pfn mapping without struct pages), -EBUSY
 * (a LONGTERM pin of a device-coherent page could not migrate it; all
 * pins dropped).
 * Context: mmap_lock held for read; may sleep (faults).
 */
long zd_get_user_pages(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
		       unsigned int gup_flags, struct zd_page **pages);

/*
 * zd_pin_user_pages - zd_get_user_pages with ZD_FOLL_PIN (pin_user_pages:
 * PIN is added, TOUCH is not): release with zd_unpin_user_page(s). With
 * ZD_FOLL_LONGTERM, folios that may not stay pinned (device coherent:
 * migrated to RAM first; fs-dax: -EOPNOTSUPP) are dealt with before it
 * returns (R4.10). Returns as zd_get_user_pages (Linux's pin_user_pages*
 * return 0 for bad arguments; the model returns -EINVAL).
 * Context: mmap_lock held for read.
 */
long zd_pin_user_pages(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
		       unsigned int gup_flags, struct zd_page **pages);

/*
 * zd_get_user_pages_remote / zd_pin_user_pages_remote - the same on
 * another process's address space (get_user_pages_remote and
 * pin_user_pages_remote: FOLL_TOUCH | FOLL_REMOTE, and FOLL_PIN for the
 * pin): faults are remote (ZD_FAULT_FLAG_REMOTE). @locked is NULL or
 * points to 1 (anything else: -EINVAL); the model's faults never drop
 * mmap_lock, so it still reads 1 on return. Returns as zd_get_user_pages.
 * Context: @mm's mmap_lock held for read.
 */
long zd_get_user_pages_remote(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			      unsigned int gup_flags, struct zd_page **pages, int *locked);
long zd_pin_user_pages_remote(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
			      unsigned int gup_flags, struct zd_page **pages, int *locked);

/*
 * zd_get_user_pages_unlocked / zd_pin_user_pages_unlocked - the local
 * calls, taking and dropping mmap_lock themselves (get_user_pages_unlocked,
 * pin_user_pages_unlocked: FOLL_TOUCH is added; argument order as in
 * Linux). Context: mmap_lock not held.
 */
long zd_get_user_pages_unlocked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
				struct zd_page **pages, unsigned int gup_flags);
long zd_pin_user_pages_unlocked(struct zd_mm *mm, unsigned long start, unsigned long nr_pages,
				struct zd_page **pages, unsigned int gup_flags);

/* ---- fast path: no mmap_lock ---- */

/*
 * zd_get_user_pages_fast - GUP without the mmap lock (get_user_pages_fast):
 * walk the page table under RCU, take each page with a try-get, re-check
 * that neither the PTE nor the PMD changed meanwhile (R4.12, R4.13), and
 * stop at the first entry that is missing, PROT_NONE, not writable for
 * ZD_FOLL_WRITE, special, or otherwise needs the slow path; the rest of the
 * range then goes through the slow path under mmap_lock. Flags allowed:
 * WRITE, LONGTERM, FORCE, PIN, GET, FAST_ONLY, NOFAULT, PCI_P2PDMA,
 * HONOR_NUMA_FAULT. Returns the number of pages taken (possibly fewer than
 * @nr_pages), 0 for @nr_pages <= 0, or a negative errno if none was:
 * those of zd_get_user_pages, -EOVERFLOW (the range wraps), -EFAULT (above
 * the user address space). Context: mmap_lock not held; may sleep in the
 * fallback.
 */
int zd_get_user_pages_fast(struct zd_mm *mm, unsigned long start, int nr_pages,
			   unsigned int gup_flags, struct zd_page **pages);

/* zd_pin_user_pages_fast - zd_get_user_pages_fast with ZD_FOLL_PIN (pin_user_pages_fast). */
int zd_pin_user_pages_fast(struct zd_mm *mm, unsigned long start, int nr_pages,
			   unsigned int gup_flags, struct zd_page **pages);

/*
 * zd_get_user_pages_fast_only - the lockless walk only, never the slow
 * path (get_user_pages_fast_only): returns how many leading pages it got,
 * possibly 0. Context: any; never sleeps on mm locks.
 */
int zd_get_user_pages_fast_only(struct zd_mm *mm, unsigned long start, int nr_pages,
				unsigned int gup_flags, struct zd_page **pages);

/* ---- unpin ---- */

/*
 * zd_unpin_user_page - drop one pin taken by a zd_pin_* call
 * (unpin_user_page). The zero page is a no-op. Dropping a pin the folio
 * does not have (pincount, or for a small folio a refcount below the
 * bias) is reported as misuse and changes nothing. The last reference
 * frees the folio as any put does (device folios: folio_free, §3.4).
 * Context: any.
 */
void zd_unpin_user_page(struct zd_page *page);

/*
 * zd_unpin_user_pages - unpin each of @pages[0..npages) (unpin_user_pages);
 * NULL entries are skipped, consecutive pages of one folio are released
 * in one batch. An @npages that is really a negative errno (a caller
 * passing GUP's error return) is ignored, as Linux's WARN does.
 */
void zd_unpin_user_pages(struct zd_page **pages, unsigned long npages);

/*
 * zd_unpin_user_pages_dirty_lock - unpin, first marking each folio dirty
 * under its folio lock when @make_dirty and it is not dirty yet
 * (unpin_user_pages_dirty_lock). Context: may sleep (folio lock).
 */
void zd_unpin_user_pages_dirty_lock(struct zd_page **pages, unsigned long npages,
				    bool make_dirty);

/* unpin_user_page_range_dirty_lock: @npages consecutive pages from @page. */
void zd_unpin_user_page_range_dirty_lock(struct zd_page *page, unsigned long npages,
					 bool make_dirty);

/* unpin_folio / unpin_user_folio: drop one / @npages pins of @folio. */
void zd_unpin_folio(struct zd_folio *folio);
void zd_unpin_user_folio(struct zd_folio *folio, unsigned long npages);
/* unpin_folios: each entry once; runs of the same folio in one batch; NULLs skipped. */
void zd_unpin_folios(struct zd_folio **folios, unsigned long nfolios);

/*
 * zd_folio_add_pin - one more pin on a folio the caller has pinned already
 * (folio_add_pin, R4.5); an unpinned folio is reported as misuse and not
 * pinned. No-op on the zero page.
 */
void zd_folio_add_pin(struct zd_folio *folio);

/* ---- predicates ---- */

/*
 * zd_folio_is_longterm_pinnable - may @folio stay pinned indefinitely
 * (folio_is_longterm_pinnable, §4.4)? False for device-coherent and fs-dax
 * folios; true for RAM (the model has no CMA or ZONE_MOVABLE), the zero
 * page, device-DAX (GENERIC), p2pdma and device-private folios (the last
 * are never returned by GUP). Context: the caller holds a reference.
 */
bool zd_folio_is_longterm_pinnable(const struct zd_folio *folio);

#endif /* ZONEDEV_GUP_H */
