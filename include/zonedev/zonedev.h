/* SPDX-License-Identifier: MIT */
/* zonedev/zonedev.h - the whole public API. */
#ifndef ZONEDEV_ZONEDEV_H
#define ZONEDEV_ZONEDEV_H

#include <zonedev/system.h>
#include <zonedev/page.h>
#include <zonedev/page_alloc.h>
#include <zonedev/memremap.h>
#include <zonedev/check.h>
#include <zonedev/devmem_pool.h>
#include <zonedev/pgtable.h>
#include <zonedev/mm.h>
#include <zonedev/gup.h>
#include <zonedev/tmpfs.h>
#include <zonedev/devdax.h>
#include <zonedev/mm_walkers.h>
#include <zonedev/sync/thread.h>

#endif /* ZONEDEV_ZONEDEV_H */
