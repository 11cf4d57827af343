/* SPDX-License-Identifier: MIT */
/*
 * zonedev/driver.h - what a device driver uses from the core beyond
 * <zonedev/memremap.h>.
 *
 * Models the few core services the kernel's ZONE_DEVICE drivers call
 * besides memremap.h: wake_up_var/wait_var_event (include/linux/wait_bit.h)
 * on the machine's wait table, a wait for a folio's refcount to reach a
 * value (fs/dax.c's wait_page_idle, ___wait_var_event on _refcount), and
 * the pgmap's counters a driver reports. A driver (src/drivers/) builds on
 * the public headers, this one and the sync layer (src/sync/sync.h:
 * locks, atomics, waits, time), never on a layer's internal.h; should_fail
 * is in <zonedev/fault_inject.h>, the vmf_insert_* helpers and
 * zd_linear_page_index in <zonedev/mm.h>.
 */
#ifndef ZONEDEV_DRIVER_H
#define ZONEDEV_DRIVER_H

#include <stdint.h>
#include <zonedev/memremap.h>
#include <zonedev/page.h>
#include <zonedev/system.h>

struct zd_wait_table;

/*
 * zd_system_wait_table - the machine's table of wait queues hashed by
 * address (the kernel's bit_wait_table behind wake_up_var), for
 * zd_wait_var_event and zd_wake_up_var (src/sync/sync.h) on a driver's
 * own variables. Context: any; the table lives as long as the system.
 * Returns it, never NULL.
 */
struct zd_wait_table *zd_system_wait_table(struct zd_system *sys);

/*
 * zd_wait_folio_refcount - sleep until @folio's refcount reads @count
 * (an acquire load: what the last put released is visible), or until
 * @timeout_ns has passed (0: no limit). Only the transitions that call
 * wake_up_var on the folio wake the waiter: an fs-dax folio going idle
 * (free_zone_device_folio); a driver waiting for any other refcount
 * change sleeps in slices and looks again. Context: may sleep; no lock
 * held that the put path takes. Returns 0 once the count is reached,
 * -ETIMEDOUT.
 */
int zd_wait_folio_refcount(struct zd_folio *folio, int count, uint64_t timeout_ns);

/*
 * zd_pgmap_nr_folio_free - how many times the core has called @pgmap's
 * folio_free/page_free since zd_memremap_pages. zd_pgmap_nr_wakeups - how
 * many fs-dax idle wake-ups its folios have had. Context: any (relaxed
 * reads: a snapshot). Return the counts.
 */
unsigned long zd_pgmap_nr_folio_free(const struct zd_dev_pagemap *pgmap);
unsigned long zd_pgmap_nr_wakeups(const struct zd_dev_pagemap *pgmap);

#endif /* ZONEDEV_DRIVER_H */
