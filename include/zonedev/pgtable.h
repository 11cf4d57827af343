/* SPDX-License-Identifier: MIT */
/*
 * zonedev/pgtable.h - page-table entries.
 *
 * Models arch/x86/include/asm/pgtable_types.h, include/linux/pgtable.h and
 * include/linux/swapops.h (softleaf entries). Four levels of 512 entries
 * (PGD, PUD, PMD, PTE), 48-bit addresses. An entry is 64 bits:
 *
 *   present:     pfn << 12 | PRESENT [| WRITE | YOUNG | DIRTY | SPECIAL | DEVMAP]
 *                at PMD/PUD level a leaf also has HUGE; otherwise the entry
 *                points to the next table (its address | PRESENT).
 *   PROT_NONE:   like present but PROTNONE instead of PRESENT (mapped,
 *                inaccessible; pte_present() is still true, as on x86).
 *   non-present: type << 1 (type != 0) | offset << 12: device-private
 *                read/write, device-exclusive, migration read/read-
 *                exclusive/write. 0 is "none".
 *
 * Device pages are found through vm_normal_page. Only the legacy scheme's
 * device DAX (6.14 and older) maps with DEVMAP: a pfn entry with a struct
 * page that holds no reference and no mapcount, for which vm_normal_page
 * returns NULL and GUP takes a pgmap reference (semantics L6, L7). x86 also
 * sets SPECIAL in a devmap PTE; the model keeps the two bits apart.
 */
#ifndef ZONEDEV_PGTABLE_H
#define ZONEDEV_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t zd_pte_t;	/* the value of an entry at any level */

#define ZD_PTRS_PER_TABLE	512
#define ZD_PMD_SHIFT		21
#define ZD_PUD_SHIFT		30
#define ZD_PGD_SHIFT		39
#define ZD_PMD_SIZE		(1ul << ZD_PMD_SHIFT)
#define ZD_PUD_SIZE		(1ul << ZD_PUD_SHIFT)
#define ZD_TASK_SIZE		(1ul << 47)

#define ZD_PTE_PRESENT		(1ull << 0)
#define ZD_PTE_WRITE		(1ull << 1)
#define ZD_PTE_YOUNG		(1ull << 5)
#define ZD_PTE_DIRTY		(1ull << 6)
#define ZD_PTE_HUGE		(1ull << 7)	/* leaf at PMD/PUD level */
#define ZD_PTE_SPECIAL		(1ull << 9)	/* no struct page behind it (pfnmap, zero page) */
#define ZD_PTE_PROTNONE		(1ull << 10)
#define ZD_PTE_DEVMAP		(1ull << 11)	/* legacy scheme: devmap pfn entry */
#define ZD_PTE_PFN_MASK		0x000ffffffffff000ull

/* Non-present entry types (bits 1..5 of a non-present entry). */
enum zd_swp_type {
	ZD_SWP_NONE = 0,
	ZD_SWP_DEVICE_PRIVATE_READ,
	ZD_SWP_DEVICE_PRIVATE_WRITE,
	ZD_SWP_DEVICE_EXCLUSIVE,
	ZD_SWP_MIGRATION_READ,
	ZD_SWP_MIGRATION_READ_EXCLUSIVE,
	ZD_SWP_MIGRATION_WRITE,
};
#define ZD_SWP_TYPE_SHIFT	1
#define ZD_SWP_TYPE_MASK	(0x1full << ZD_SWP_TYPE_SHIFT)

static inline bool zd_pte_none(zd_pte_t e) { return e == 0; }
static inline bool zd_pte_present(zd_pte_t e) { return e & (ZD_PTE_PRESENT | ZD_PTE_PROTNONE); }
static inline bool zd_pte_protnone(zd_pte_t e) { return (e & (ZD_PTE_PRESENT | ZD_PTE_PROTNONE)) == ZD_PTE_PROTNONE; }
static inline bool zd_pte_write(zd_pte_t e) { return e & ZD_PTE_WRITE; }
static inline bool zd_pte_dirty(zd_pte_t e) { return e & ZD_PTE_DIRTY; }
static inline bool zd_pte_young(zd_pte_t e) { return e & ZD_PTE_YOUNG; }
static inline bool zd_pte_special(zd_pte_t e) { return e & ZD_PTE_SPECIAL; }
static inline bool zd_pte_devmap(zd_pte_t e) { return zd_pte_present(e) && (e & ZD_PTE_DEVMAP); }
static inline bool zd_pte_huge(zd_pte_t e) { return zd_pte_present(e) && (e & ZD_PTE_HUGE); }
static inline unsigned long zd_pte_pfn(zd_pte_t e) { return (unsigned long)((e & ZD_PTE_PFN_MASK) >> 12); }
static inline zd_pte_t zd_pfn_pte(unsigned long pfn, zd_pte_t bits)
{
	return ((zd_pte_t)pfn << 12) | bits;
}
static inline zd_pte_t zd_pte_mkwrite(zd_pte_t e) { return e | ZD_PTE_WRITE; }
static inline zd_pte_t zd_pte_wrprotect(zd_pte_t e) { return e & ~ZD_PTE_WRITE; }
static inline zd_pte_t zd_pte_mkdirty(zd_pte_t e) { return e | ZD_PTE_DIRTY; }
static inline zd_pte_t zd_pte_mkclean(zd_pte_t e) { return e & ~ZD_PTE_DIRTY; }
static inline zd_pte_t zd_pte_mkyoung(zd_pte_t e) { return e | ZD_PTE_YOUNG; }
static inline zd_pte_t zd_pte_mkold(zd_pte_t e) { return e & ~ZD_PTE_YOUNG; }

/* ---- non-present (swap-format) entries ---- */

static inline enum zd_swp_type zd_swp_type(zd_pte_t e)
{
	return zd_pte_present(e) ? ZD_SWP_NONE :
	       (enum zd_swp_type)((e & ZD_SWP_TYPE_MASK) >> ZD_SWP_TYPE_SHIFT);
}
static inline unsigned long zd_swp_offset(zd_pte_t e) { return zd_pte_pfn(e); }
static inline zd_pte_t zd_swp_entry(enum zd_swp_type type, unsigned long pfn)
{
	return ((zd_pte_t)pfn << 12) | ((zd_pte_t)type << ZD_SWP_TYPE_SHIFT);
}
static inline bool zd_is_device_private_entry(zd_pte_t e)
{
	enum zd_swp_type t = zd_swp_type(e);

	return t == ZD_SWP_DEVICE_PRIVATE_READ || t == ZD_SWP_DEVICE_PRIVATE_WRITE;
}
static inline bool zd_is_writable_device_private_entry(zd_pte_t e)
{
	return zd_swp_type(e) == ZD_SWP_DEVICE_PRIVATE_WRITE;
}
static inline bool zd_is_device_exclusive_entry(zd_pte_t e)
{
	return zd_swp_type(e) == ZD_SWP_DEVICE_EXCLUSIVE;
}
static inline bool zd_is_migration_entry(zd_pte_t e)
{
	enum zd_swp_type t = zd_swp_type(e);

	return t >= ZD_SWP_MIGRATION_READ && t <= ZD_SWP_MIGRATION_WRITE;
}
static inline bool zd_is_writable_migration_entry(zd_pte_t e)
{
	return zd_swp_type(e) == ZD_SWP_MIGRATION_WRITE;
}

#endif /* ZONEDEV_PGTABLE_H */
