/* SPDX-License-Identifier: MIT */
/*
 * zonedev/zonedev.h - the whole public API, layer by layer from the bottom
 * (docs/architecture.md, "Layers").
 */
#ifndef ZONEDEV_ZONEDEV_H
#define ZONEDEV_ZONEDEV_H

/* sync */
#include <zonedev/sync/atomic.h>
#include <zonedev/sync/thread.h>
/* core */
#include <zonedev/system.h>
#include <zonedev/fault_inject.h>
#include <zonedev/events.h>
#include <zonedev/debug.h>
#include <zonedev/page.h>
#include <zonedev/page_alloc.h>
#include <zonedev/memremap.h>
#include <zonedev/driver.h>
/* mm */
#include <zonedev/pgtable.h>
#include <zonedev/huge_mm.h>
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>
#include <zonedev/pagewalk.h>
#include <zonedev/khugepaged.h>
#include <zonedev/ksm.h>
#include <zonedev/mempolicy.h>
#include <zonedev/migrate.h>
#include <zonedev/tmpfs.h>
/* gup */
#include <zonedev/gup.h>
#include <zonedev/hmm.h>
/* drivers */
#include <zonedev/devmem_pool.h>
#include <zonedev/devdax.h>
#include <zonedev/dmirror.h>
/* check */
#include <zonedev/trace.h>
#include <zonedev/check.h>

#endif /* ZONEDEV_ZONEDEV_H */
