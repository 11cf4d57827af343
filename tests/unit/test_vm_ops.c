// SPDX-License-Identifier: MIT
/*
 * test_vm_ops - a driver or file system outside the library: its own
 * vm_operations and address_space (mm/memory.c do_page_mkwrite,
 * do_shared_fault, wp_page_shared; include/linux/fs.h address_space), and
 * the local and remote GUP entries (mm/gup.c get_user_pages vs
 * get_user_pages_remote, FOLL_REMOTE -> FAULT_FLAG_REMOTE).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define PG ZD_PAGE_SIZE
#define NPAGES 4

/* A driver file: ->fault hands out its own pages; what it saw is recorded. */
struct drv_file {
	struct zd_file file;
	struct zd_system *sys;
	struct zd_address_space *mapping;	/* NULL: pages without ->mapping */
	struct zd_folio *pages[NPAGES];
	unsigned int faults, mkwrites;
	unsigned int last_fault_flags;
};

static struct drv_file *drv(struct zd_vm_area_struct *vma)
{
	return vma->vm_file->private_data;
}

static zd_vm_fault_t drv_fault(struct zd_vm_fault *vmf)
{
	struct drv_file *d = drv(vmf->vma);
	struct zd_folio *folio;

	d->faults++;
	d->last_fault_flags = vmf->flags;
	if (vmf->pgoff >= NPAGES)
		return ZD_VM_FAULT_SIGBUS;
	folio = d->pages[vmf->pgoff];
	if (!folio) {
		folio = zd_folio_alloc(d->sys, ZD_GFP_ZERO, 0);
		if (!folio)
			return ZD_VM_FAULT_OOM;
		if (d->mapping) {
			folio->page.mapping = d->mapping;
			folio->page.index = vmf->pgoff;
		}
		d->pages[vmf->pgoff] = folio;
	}
	zd_folio_get(folio);
	vmf->page = &folio->page;
	return 0;
}

/* "Go ahead": dirty nothing, return 0. */
static zd_vm_fault_t drv_page_mkwrite(struct zd_vm_fault *vmf)
{
	drv(vmf->vma)->mkwrites++;
	return 0;
}

static const struct zd_vm_operations_struct drv_vm_ops = {
	.fault = drv_fault,
	.page_mkwrite = drv_page_mkwrite,
	.name = "drv",
};

static int drv_mmap(struct zd_file *file, struct zd_vm_area_struct *vma)
{
	(void)file;
	vma->vm_ops = &drv_vm_ops;
	return 0;
}

static const struct zd_file_operations drv_fops = { .mmap = drv_mmap, .name = "drv" };

static void drv_init(struct drv_file *d, struct zd_system *sys, bool with_mapping)
{
	memset(d, 0, sizeof(*d));
	d->sys = sys;
	if (with_mapping)
		ZT_EQ(zd_address_space_alloc(sys, 0, &d->mapping), 0);
	d->file.f_op = &drv_fops;
	d->file.f_mapping = d->mapping;
	d->file.private_data = d;
	d->file.f_count = 1;
}

/* After the last mapping went: the driver's own references and the mapping. */
static void drv_fini(struct drv_file *d)
{
	ZT_EQ(d->file.f_count, 1);
	for (int i = 0; i < NPAGES; i++) {
		if (!d->pages[i])
			continue;
		d->pages[i]->page.mapping = NULL;
		d->pages[i]->page.index = 0;
		zd_folio_put(d->pages[i]);
	}
	zd_address_space_free(d->mapping);
}

struct fx {
	struct zd_system *sys;
	struct zt_reports log;
	struct zd_mm *mm;
	struct drv_file d;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	fx->sys = zt_system_create(&fx->log, ZD_SCHEME_ZERO, ZD_CHECK_FULL, 0);
	ZT_EQ(zd_mm_create(fx->sys, &fx->mm), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	zd_mm_destroy(fx->mm);
	drv_fini(&fx->d);
	zt_system_destroy_clean(fx->sys, &fx->log);
	free(fx);
	return 0;
}

static unsigned long map_drv(struct fx *fx, bool with_mapping)
{
	unsigned long a;

	drv_init(&fx->d, fx->sys, with_mapping);
	ZT_EQ(zd_mmap(fx->mm, 0, NPAGES * PG, ZD_PROT_READ | ZD_PROT_WRITE, ZD_MAP_SHARED,
		      &fx->d.file, 0, 0, &a), 0);
	return a;
}

/* zd_cpu_write on another thread, with a deadline: a hang fails the test. */
struct writer {
	struct zd_mm *mm;
	unsigned long addr;
	_Atomic int done;
	int ret;
};

static void *writer_fn(void *arg)
{
	struct writer *w = arg;

	w->ret = zd_cpu_write(w->mm, w->addr, "x", 1);
	zd_atomic_store_release(&w->done, 1);
	return NULL;
}

static int write_with_deadline(struct zd_mm *mm, unsigned long addr)
{
	struct writer w = { .mm = mm, .addr = addr };
	struct zd_thread *t;

	ZT_EQ(zd_thread_create(&t, writer_fn, &w), 0);
	for (int ms = 0; !zd_atomic_load_acquire(&w.done); ms++) {
		if (ms > 20000) {
			print_message("zd_cpu_write still retrying after 20 s\n");
			exit(1);	/* the thread cannot be stopped: fail the whole binary */
		}
		zt_sleep_ms(1);
	}
	zd_thread_join(t);
	return w.ret;
}

/*
 * do_page_mkwrite: ->page_mkwrite returned 0 for a page without ->mapping.
 * Linux takes it for truncated and refaults for ever; the model reports
 * it and the write fails (SIGBUS) instead of hanging.
 */
static void test_do_page_mkwrite_no_mapping(void **state)
{
	struct fx *fx = *state;
	unsigned long a = map_drv(fx, false);

	ZT_EQ(write_with_deadline(fx->mm, a), -EIO);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQ(fx->log.r[0].kind, ZD_MISUSE_BAD_STATE);
	ZT_TRUE(strstr(fx->log.r[0].what, "page_mkwrite") != NULL);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_munmap(fx->mm, a, NPAGES * PG), 0);
}

/* wp_page_shared: the same through a read-only mapped page. */
static void test_do_page_mkwrite_wp_no_mapping(void **state)
{
	struct fx *fx = *state;
	unsigned long a = map_drv(fx, false);
	char c;

	ZT_EQ(zd_cpu_read(fx->mm, a, &c, 1), 0);
	ZT_EQ(write_with_deadline(fx->mm, a), -EIO);
	ZT_EQ(fx->log.nr, 1);
	ZT_EQ(fx->log.r[0].kind, ZD_MISUSE_BAD_STATE);
	zt_reports_clear(&fx->log);
	ZT_EQ(zd_munmap(fx->mm, a, NPAGES * PG), 0);
}

/*
 * A page-cache page (->mapping set): page_mkwrite returning 0 means "go
 * ahead": one call, the entry becomes writable and dirty, the data lands.
 */
static void test_do_page_mkwrite_page_cache(void **state)
{
	struct fx *fx = *state;
	unsigned long a = map_drv(fx, true);
	zd_pte_t e;
	int lvl;
	char c;

	/* do_shared_fault: a write fault on an empty entry. */
	ZT_EQ(write_with_deadline(fx->mm, a), 0);
	ZT_EQ(fx->d.mkwrites, 1);
	ZT_EQ(zd_follow_entry(fx->mm, a, &e, &lvl), 1);
	ZT_TRUE(zd_pte_write(e) && zd_pte_dirty(e));
	ZT_EQ(*(char *)zd_page_address(&fx->d.pages[0]->page), 'x');
	ZT_EQ(zd_folio_mapcount(fx->d.pages[0]), 1);
	ZT_EQ(zd_folio_ref_count(fx->d.pages[0]), 2);	/* the driver's + the mapping's */

	/* wp_page_shared: read first (mapped read-only), then write. */
	ZT_EQ(zd_cpu_read(fx->mm, a + PG, &c, 1), 0);
	ZT_EQ(zd_follow_entry(fx->mm, a + PG, &e, &lvl), 1);
	ZT_TRUE(!zd_pte_write(e));
	ZT_EQ(fx->d.mkwrites, 1);
	ZT_EQ(write_with_deadline(fx->mm, a + PG), 0);
	ZT_EQ(fx->d.mkwrites, 2);
	ZT_EQ(zd_follow_entry(fx->mm, a + PG, &e, &lvl), 1);
	ZT_TRUE(zd_pte_write(e) && zd_pte_dirty(e));
	ZT_EQ(zd_folio_ref_count(fx->d.pages[1]), 2);
	ZT_TRUE(!zd_folio_test_locked(fx->d.pages[1]));
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_munmap(fx->mm, a, NPAGES * PG), 0);
	ZT_EQ(zd_folio_ref_count(fx->d.pages[0]), 1);
}

/* The public address_space: bad flags, and freed while still mapped. */
static void test_zd_address_space_alloc(void **state)
{
	struct fx *fx = *state;
	struct zd_address_space *as = NULL;
	unsigned long a;

	ZT_EQ(zd_address_space_alloc(fx->sys, ZD_AS_SHMEM, &as), -EINVAL);
	ZT_EQ(zd_address_space_alloc(fx->sys, ZD_AS_FSDAX, &as), -EINVAL);
	ZT_EQ(zd_address_space_alloc(NULL, 0, &as), -EINVAL);
	ZT_EQ(zd_address_space_alloc(fx->sys, 0, NULL), -EINVAL);
	ZT_EQ(zd_address_space_alloc(fx->sys, ZD_AS_DAX, &as), 0);
	zd_address_space_free(as);
	zd_address_space_free(NULL);

	a = map_drv(fx, true);
	ZT_EQ(zd_cpu_write(fx->mm, a, "y", 1), 0);
	zd_address_space_free(fx->d.mapping);		/* still mapped: refused */
	ZT_EQ(fx->log.nr, 1);
	ZT_EQ(fx->log.r[0].kind, ZD_MISUSE_BAD_STATE);
	zt_reports_clear(&fx->log);
	/* The rmap still works through it: unmap_mapping_range zaps the mapping. */
	zd_unmap_mapping_range(fx->d.mapping, 0, 0);
	ZT_EQ(zd_folio_mapcount(fx->d.pages[0]), 0);
	ZT_EQ(zd_munmap(fx->mm, a, NPAGES * PG), 0);
}

/*
 * get_user_pages / pin_user_pages act on the caller's own mm: no
 * FOLL_REMOTE, faults without FAULT_FLAG_REMOTE; the _remote variants set
 * it. GUP-fast's fallback is local too.
 */
static void test_get_user_pages_remote(void **state)
{
	struct fx *fx = *state;
	unsigned long a = map_drv(fx, true);
	struct zd_page *pages[NPAGES];
	int locked = 1;

	zd_mmap_read_lock(fx->mm);
	ZT_EQ(zd_get_user_pages(fx->mm, a, 1, 0, pages), 1);
	ZT_EQ(fx->d.faults, 1);
	ZT_EQ(fx->d.last_fault_flags & ZD_FAULT_FLAG_REMOTE, 0);
	zd_put_page(pages[0]);

	ZT_EQ(zd_get_user_pages_remote(fx->mm, a + PG, 1, 0, pages, &locked), 1);
	ZT_EQ(locked, 1);
	ZT_EQ(fx->d.faults, 2);
	ZT_EQ(fx->d.last_fault_flags & ZD_FAULT_FLAG_REMOTE, ZD_FAULT_FLAG_REMOTE);
	zd_put_page(pages[0]);

	ZT_EQ(zd_pin_user_pages(fx->mm, a + 2 * PG, 1, 0, pages), 1);
	ZT_EQ(fx->d.last_fault_flags & ZD_FAULT_FLAG_REMOTE, 0);
	zd_unpin_user_pages(pages, 1);
	ZT_EQ(zd_pin_user_pages_remote(fx->mm, a + 3 * PG, 1, 0, pages, NULL), 1);
	ZT_EQ(fx->d.last_fault_flags & ZD_FAULT_FLAG_REMOTE, ZD_FAULT_FLAG_REMOTE);
	zd_unpin_user_pages(pages, 1);

	/* The caller cannot ask for FOLL_REMOTE itself; *locked must be 1. */
	ZT_EQ(zd_get_user_pages(fx->mm, a, 1, ZD_FOLL_REMOTE, pages), -EINVAL);
	locked = 0;
	ZT_EQ(zd_get_user_pages_remote(fx->mm, a, 1, 0, pages, &locked), -EINVAL);
	ZT_EQ(zd_pin_user_pages_remote(fx->mm, a, 1, 0, pages, &locked), -EINVAL);
	zd_mmap_read_unlock(fx->mm);

	/* GUP-fast falls back to the local slow path: a fresh mapping faults. */
	ZT_EQ(zd_munmap(fx->mm, a, NPAGES * PG), 0);
	ZT_EQ(zd_mmap(fx->mm, a, NPAGES * PG, ZD_PROT_READ | ZD_PROT_WRITE,
		      ZD_MAP_SHARED | ZD_MAP_FIXED, &fx->d.file, 0, 0, NULL), 0);
	fx->d.last_fault_flags = ~0u;
	ZT_EQ(zd_get_user_pages_fast(fx->mm, a, 1, 0, pages), 1);
	ZT_EQ(fx->d.last_fault_flags & ZD_FAULT_FLAG_REMOTE, 0);
	zd_put_page(pages[0]);
	zt_expect_no_reports(&fx->log);
	ZT_EQ(zd_munmap(fx->mm, a, NPAGES * PG), 0);
}

/*
 * handle_mm_fault does not check the VMA's permissions (access_error is
 * the CPU's): a local FOLL_FORCE write to a read-only private mapping (a
 * debugger's poke) breaks COW into a read-only copy; the CPU's own write
 * is still refused.
 */
static void test_handle_mm_fault_foll_force(void **state)
{
	struct fx *fx = *state;
	struct zd_page *page;
	unsigned long a;
	zd_pte_t e;
	int lvl;

	drv_init(&fx->d, fx->sys, true);
	ZT_EQ(zd_mmap(fx->mm, 0, PG, ZD_PROT_READ, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL, 0,
		      0, &a), 0);
	ZT_EQ(zd_cpu_write(fx->mm, a, "z", 1), -EFAULT);
	zd_mmap_read_lock(fx->mm);
	ZT_EQ(zd_get_user_pages(fx->mm, a, 1, ZD_FOLL_WRITE, &page), -EFAULT);
	ZT_EQ(zd_get_user_pages(fx->mm, a, 1, ZD_FOLL_WRITE | ZD_FOLL_FORCE, &page), 1);
	zd_mmap_read_unlock(fx->mm);
	ZT_TRUE(zd_folio_test_anon(zd_page_folio(page)));
	ZT_EQ(zd_follow_entry(fx->mm, a, &e, &lvl), 1);
	ZT_TRUE(!zd_pte_write(e));
	zd_put_page(page);
	ZT_EQ(zd_cpu_write(fx->mm, a, "z", 1), -EFAULT);
	ZT_EQ(zd_munmap(fx->mm, a, PG), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_do_page_mkwrite_no_mapping),
		T(test_do_page_mkwrite_wp_no_mapping),
		T(test_do_page_mkwrite_page_cache),
		T(test_zd_address_space_alloc),
		T(test_get_user_pages_remote),
		T(test_handle_mm_fault_foll_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
