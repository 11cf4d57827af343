// SPDX-License-Identifier: MIT
/*
 * src/mm/khugepaged.c - collapsing small pages into a huge page.
 *
 * Models mm/khugepaged.c (madvise_collapse, hpage_collapse_scan_pmd).
 * Not modelled yet: MADV_COLLAPSE answers -EINVAL, as a kernel built
 * without transparent huge pages does.
 */
#include "internal.h"

int _zd_madvise_collapse(struct zd_mm *mm, unsigned long start, unsigned long len)
{
	(void)mm;
	(void)start;
	(void)len;
	return -EINVAL;
}
