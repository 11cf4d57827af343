// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/cow.c - the kernel's COW selftest, ported to the model.
 *
 * Counterpart: tools/testing/selftests/mm/cow.c (newest kernel: the
 * log_test_start/log_test_result form). Same cases in the same order,
 * same test names and TAP output; rewritten against the zd_ API:
 *  - a process is a zd_mm; fork() is zd_fork, the child's exit
 *    zd_mm_destroy. The parent/child pipes only order the two sides, so
 *    each side's steps run here in the order the pipes force.
 *  - loads and stores are zd_cpu_read / zd_cpu_write (the MMU: faults,
 *    COW); mmap, mprotect, mremap, madvise are the zd_ calls.
 *  - vmsplice() is a R/O GUP get: the pipe takes references with
 *    get_user_pages_fast(gup_flags = 0) on at most PIPE_DEF_BUFFERS pages,
 *    and reading the pipe reads those pages' bytes.
 *  - an io_uring fixed buffer is a long-term R/W pin
 *    (pin_user_pages_fast with FOLL_WRITE | FOLL_LONGTERM), and
 *    write_fixed reads the pinned pages' bytes.
 *  - the R/O pin tests use the gup_test file (gup_test_dev.c, the
 *    kernel's mm/gup_test.c): PIN_LONGTERM_TEST_START/READ/STOP.
 *  - pagemap "populated" is zd_follow_entry; "swapped" is never true.
 *  - memfd is a shmem file, tmpfile() a diskfs file (vm_util.h).
 * The model has no swap and no hugetlbfs: those cases are reported
 * skipped with the kernel's own messages, as on a kernel without swap
 * space and without free huge pages. THP: the model's only THP size is
 * the PMD size, as a kernel without mTHP sizes enabled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gup_test_dev.h"
#include "ksft.h"
#include "vm_util.h"

/*
 * Known differences from the kernel, being fixed: tests matching a row
 * report XFAIL until then (and XPASS, which fails the run, once fixed).
 */
static const struct ksft_pending pending[] = {
	{ NULL, NULL, NULL },	/* none */
};

#define MADV_DONTFORK	ZD_MADV_DONTFORK
#define MADV_DOFORK	ZD_MADV_DOFORK
/* fs/pipe.c: a pipe holds this many pages by default. */
#define PIPE_DEF_BUFFERS 16

static size_t pagesize;
static size_t pmdsize;
static int nr_thpsizes;
static size_t thpsizes[20];
static int nr_hugetlbsizes;
static size_t hugetlbsizes[10];
static struct gup_test_file *gup_fd;
static bool has_huge_zeropage;

#define mm ksft_mm

static int detect_thp_sizes(size_t sizes[], int max)
{
	int count = 0;

	/* The model's only THP order is the PMD order. */
	if (!pmdsize || max < 1)
		return 0;
	sizes[count++] = pmdsize;
	ksft_print_msg("[INFO] detected THP size: %zu KiB\n", pmdsize / 1024);
	return count;
}

static bool range_is_swapped(unsigned long addr, size_t size)
{
	for (; size; addr += pagesize, size -= pagesize)
		if (!pagemap_is_swapped(mm, addr))
			return false;
	return true;
}

/* Read @size bytes of @addr in @m into a new buffer (NULL on a fault). */
static char *snapshot(struct zd_mm *m, unsigned long addr, size_t size)
{
	char *buf = malloc(size);

	if (buf && ksft_load(m, addr, buf, size)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Does @m still read @old at @addr? 0 if so (memcmp). */
static int memcmp_mm(struct zd_mm *m, unsigned long addr, const char *old, size_t size)
{
	char *now = snapshot(m, addr, size);
	int ret = now ? memcmp(old, now, size) != 0 : -1;

	free(now);
	return ret;
}

/* ---- vmsplice(): a pipe holding R/O GUP references ---- */

struct pipe {
	struct zd_page *pages[PIPE_DEF_BUFFERS];
	int nr;
};

/* vmsplice(fds[1], {mem, size}): bytes transferred, or -errno. */
static long vmsplice(struct zd_mm *m, struct pipe *p, unsigned long mem, size_t size)
{
	int n = (int)(size / pagesize);

	if (n > PIPE_DEF_BUFFERS)
		n = PIPE_DEF_BUFFERS;
	p->nr = zd_get_user_pages_fast(m, mem, n, 0, p->pages);
	if (p->nr < 0) {
		long err = p->nr;

		p->nr = 0;
		return err;
	}
	return (long)p->nr * (long)pagesize;
}

/* read() of the whole pipe: the bytes the referenced pages hold now. */
static void pipe_read(struct pipe *p, char *buf)
{
	for (int i = 0; i < p->nr; i++)
		memcpy(buf + (size_t)i * pagesize, zd_page_address(p->pages[i]), pagesize);
}

static void pipe_close(struct pipe *p)
{
	for (int i = 0; i < p->nr; i++)
		zd_put_page(p->pages[i]);
	p->nr = 0;
}

/* ---- anonymous memory ---- */

enum child_fn { CHILD_MEMCMP, CHILD_VMSPLICE_MEMCMP };

static void do_test_cow_in_parent(unsigned long mem, size_t size, bool do_mprotect,
				  enum child_fn fn, bool xfail)
{
	struct pipe pipe = { .nr = 0 };
	long transferred = 0;
	struct zd_mm *child;
	char *old, *new = NULL;
	int ret;

	child = ksft_fork(mm);
	if (!child) {
		ksft_print_msg("fork() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	/* Child: backup the original content. */
	old = snapshot(child, mem, size);
	if (!old) {
		ret = 1;
		goto child_exit;
	}
	if (fn == CHILD_VMSPLICE_MEMCMP) {
		/* Trigger a read-only pin, then unmap it from our page tables. */
		transferred = vmsplice(child, &pipe, mem, size);
		if (transferred <= 0 || zd_munmap(child, mem, size)) {
			ret = 1;
			goto child_exit;
		}
	}
	/* Child ready; parent: */
	if (do_mprotect) {
		/* mprotect() optimizations might try avoiding write faults. */
		ret = zd_mprotect(mm, mem, size, ZD_PROT_READ);
		if (!ret)
			ret = zd_mprotect(mm, mem, size, ZD_PROT_READ | ZD_PROT_WRITE);
		if (ret) {
			ksft_print_msg("mprotect() failed\n");
			log_test_result(KSFT_FAIL);
			goto child_exit;
		}
	}
	/* Modify the page. */
	ksft_memset(mm, mem, 0xff, size);
	/* Child: see if we still read the old values (via the pipe). */
	if (fn == CHILD_VMSPLICE_MEMCMP) {
		new = malloc((size_t)transferred);
		pipe_read(&pipe, new);
		ret = memcmp(old, new, (size_t)transferred) != 0;
	} else {
		ret = memcmp_mm(child, mem, old, size);
	}
child_exit:
	pipe_close(&pipe);
	ksft_exit_mm(child);
	free(old);
	free(new);
	if (!ret) {
		log_test_result(KSFT_PASS);
	} else if (xfail) {
		ksft_print_msg("Leak from parent into child\n");
		log_test_result(KSFT_XFAIL);
	} else {
		ksft_print_msg("Leak from parent into child\n");
		log_test_result(KSFT_FAIL);
	}
}

static void test_cow_in_parent(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_cow_in_parent(mem, size, false, CHILD_MEMCMP, false);
}

static void test_cow_in_parent_mprotect(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_cow_in_parent(mem, size, true, CHILD_MEMCMP, false);
}

static void test_vmsplice_in_child(unsigned long mem, size_t size, bool is_hugetlb)
{
	do_test_cow_in_parent(mem, size, false, CHILD_VMSPLICE_MEMCMP, is_hugetlb);
}

static void test_vmsplice_in_child_mprotect(unsigned long mem, size_t size, bool is_hugetlb)
{
	do_test_cow_in_parent(mem, size, true, CHILD_VMSPLICE_MEMCMP, is_hugetlb);
}

static void do_test_vmsplice_in_parent(unsigned long mem, size_t size, bool before_fork,
				       bool xfail)
{
	struct pipe pipe = { .nr = 0 };
	long transferred = 0;
	struct zd_mm *child;
	char *old, *new = NULL;

	old = snapshot(mm, mem, size);
	if (before_fork) {
		transferred = vmsplice(mm, &pipe, mem, size);
		if (transferred <= 0) {
			ksft_print_msg("vmsplice() failed\n");
			log_test_result(KSFT_FAIL);
			goto free;
		}
	}
	child = ksft_fork(mm);
	if (!child) {
		ksft_print_msg("fork() failed\n");
		log_test_result(KSFT_FAIL);
		goto close_pipe;
	}
	if (!before_fork) {
		transferred = vmsplice(mm, &pipe, mem, size);
		if (transferred <= 0) {
			ksft_print_msg("vmsplice() failed\n");
			log_test_result(KSFT_FAIL);
			ksft_exit_mm(child);
			goto close_pipe;
		}
	}
	if (zd_munmap(mm, mem, size)) {
		ksft_print_msg("munmap() failed\n");
		log_test_result(KSFT_FAIL);
		ksft_exit_mm(child);
		goto close_pipe;
	}
	/* Child: modify page content, exit. */
	ksft_memset(child, mem, 0xff, size);
	ksft_exit_mm(child);

	/* See if we still read the old values. */
	new = malloc((size_t)transferred);
	pipe_read(&pipe, new);
	if (!memcmp(old, new, (size_t)transferred)) {
		log_test_result(KSFT_PASS);
	} else if (xfail) {
		ksft_print_msg("Leak from child into parent\n");
		log_test_result(KSFT_XFAIL);
	} else {
		ksft_print_msg("Leak from child into parent\n");
		log_test_result(KSFT_FAIL);
	}
close_pipe:
	pipe_close(&pipe);
free:
	free(old);
	free(new);
}

static void test_vmsplice_before_fork(unsigned long mem, size_t size, bool is_hugetlb)
{
	do_test_vmsplice_in_parent(mem, size, true, is_hugetlb);
}

static void test_vmsplice_after_fork(unsigned long mem, size_t size, bool is_hugetlb)
{
	do_test_vmsplice_in_parent(mem, size, false, is_hugetlb);
}

/*
 * io_uring_register_buffers(): io_pin_pages pins the range with
 * FOLL_WRITE | FOLL_LONGTERM; write_fixed then copies what the pinned
 * pages hold.
 */
static void do_test_iouring(unsigned long mem, size_t size, bool use_fork)
{
	unsigned long nr = size / pagesize;
	struct zd_page **pages = calloc(nr, sizeof(*pages));
	char *tmp = malloc(size), *now = NULL;
	struct zd_mm *child = NULL;
	int ret;

	if (!tmp || !pages) {
		ksft_print_msg("malloc() failed\n");
		log_test_result(KSFT_FAIL);
		goto free_tmp;
	}
	ret = zd_pin_user_pages_fast(mm, mem, (int)nr, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM, pages);
	if (ret != (int)nr) {
		if (ret > 0)
			zd_unpin_user_pages(pages, (unsigned long)ret);
		ksft_print_msg("io_uring_register_buffers() failed\n");
		log_test_result(KSFT_SKIP);
		goto free_tmp;
	}
	if (use_fork) {
		/* fork() and keep the child alive: the pinned page must not be shared. */
		int level = ksft_entry_level(mm, mem, NULL);
		unsigned long ppfn = 0, cpfn = 0;

		child = ksft_fork(mm);
		if (!child) {
			ksft_print_msg("fork() failed\n");
			log_test_result(KSFT_FAIL);
			goto unregister_buffers;
		}
		/*
		 * copy_huge_pmd() of a maybe-pinned THP returns -EAGAIN: the
		 * PMD is split and the child gets copies of the pinned pages.
		 */
		if (level == 2 && (ksft_entry_level(mm, mem, &ppfn) != 1 ||
				   ksft_entry_level(child, mem, &cpfn) != 1 || ppfn == cpfn))
			ksft_model_fail("fork() copied the pinned PMD-mapped THP whole; Linux "
					"splits it and copies the pinned pages\n");
	} else {
		/*
		 * Map the page R/O into the page table (the model has no
		 * soft-dirty tracking; its mprotect never maps writable early).
		 */
		ret = zd_mprotect(mm, mem, size, ZD_PROT_READ);
		if (!ret)
			ret = zd_mprotect(mm, mem, size, ZD_PROT_READ | ZD_PROT_WRITE);
		if (ret) {
			ksft_print_msg("mprotect() failed\n");
			log_test_result(KSFT_FAIL);
			goto unregister_buffers;
		}
	}
	/* Modify the page and write what the fixed buffer pin observes to the "file". */
	ksft_memset(mm, mem, 0xff, size);
	for (unsigned long i = 0; i < nr; i++)
		memcpy(tmp + i * pagesize, zd_page_address(pages[i]), pagesize);
	now = snapshot(mm, mem, size);
	if (now && !memcmp(now, tmp, size)) {
		log_test_result(KSFT_PASS);
	} else {
		ksft_print_msg("Longterm R/W pin is not reliable\n");
		log_test_result(KSFT_FAIL);
	}
	if (child)
		ksft_exit_mm(child);
unregister_buffers:
	zd_unpin_user_pages(pages, nr);
free_tmp:
	free(now);
	free(tmp);
	free(pages);
}

static void test_iouring_ro(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_iouring(mem, size, false);
}

static void test_iouring_fork(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_iouring(mem, size, true);
}

enum ro_pin_test {
	RO_PIN_TEST,
	RO_PIN_TEST_SHARED,
	RO_PIN_TEST_PREVIOUSLY_SHARED,
	RO_PIN_TEST_RO_EXCLUSIVE,
};

static void do_test_ro_pin(unsigned long mem, size_t size, enum ro_pin_test test, bool fast)
{
	unsigned long before_pfn = 0, after_pfn = 0;
	int before_level, after_level;
	struct pin_longterm_test args;
	struct zd_mm *child = NULL;
	char *tmp, *now;
	uint64_t tmp_val;
	long ret;

	tmp = malloc(size);
	if (!tmp) {
		ksft_print_msg("malloc() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	switch (test) {
	case RO_PIN_TEST:
		break;
	case RO_PIN_TEST_SHARED:
	case RO_PIN_TEST_PREVIOUSLY_SHARED:
		/* Share the pages with our child. As they are not pinned, this just works. */
		child = ksft_fork(mm);
		if (!child) {
			ksft_print_msg("fork() failed\n");
			log_test_result(KSFT_FAIL);
			goto free_tmp;
		}
		if (test == RO_PIN_TEST_PREVIOUSLY_SHARED) {
			/* The child quits: our pages stay mapped R/O but are no longer shared. */
			ksft_exit_mm(child);
			child = NULL;
		}
		break;
	case RO_PIN_TEST_RO_EXCLUSIVE:
		/* Map the page R/O into the page table (no soft-dirty in the model). */
		ret = zd_mprotect(mm, mem, size, ZD_PROT_READ);
		if (!ret)
			ret = zd_mprotect(mm, mem, size, ZD_PROT_READ | ZD_PROT_WRITE);
		if (ret) {
			ksft_print_msg("mprotect() failed\n");
			log_test_result(KSFT_FAIL);
			goto free_tmp;
		}
		break;
	}

	before_level = ksft_entry_level(mm, mem, &before_pfn);
	/* Take a R/O pin. This should trigger unsharing. */
	args.addr = mem;
	args.size = size;
	args.flags = fast ? PIN_LONGTERM_TEST_FLAG_USE_FAST : 0;
	ret = gup_test_ioctl(gup_fd, mm, PIN_LONGTERM_TEST_START, &args);
	if (ret) {
		ksft_print_msg("PIN_LONGTERM_TEST_START failed: %s (%ld)\n", strerror((int)-ret),
			       -ret);
		log_test_result(ret == -EINVAL ? KSFT_SKIP : KSFT_FAIL);
		goto wait;
	}
	/*
	 * A PMD-mapped THP that is no longer shared (refcount back to 1) is
	 * reused in place by the unshare fault (do_huge_pmd_wp_page).
	 */
	after_level = ksft_entry_level(mm, mem, &after_pfn);
	if (test == RO_PIN_TEST_PREVIOUSLY_SHARED && before_level == 2 &&
	    (after_level != 2 || after_pfn != before_pfn))
		ksft_model_fail("the R/O pin of a previously-shared PMD-mapped THP %s; Linux "
				"reuses it in place\n", after_level == 2 ? "replaced it" :
				"split the PMD and copied a page");
	/* Modify the page. */
	ksft_memset(mm, mem, 0xff, size);
	/* Read back the content via the pin and test if we observed the modification. */
	tmp_val = (uint64_t)(uintptr_t)tmp;
	ret = gup_test_ioctl(gup_fd, mm, PIN_LONGTERM_TEST_READ, &tmp_val);
	if (ret) {
		ksft_print_msg("PIN_LONGTERM_TEST_READ failed\n");
		log_test_result(KSFT_FAIL);
	} else {
		now = snapshot(mm, mem, size);
		if (now && !memcmp(now, tmp, size)) {
			log_test_result(KSFT_PASS);
		} else {
			ksft_print_msg("Longterm R/O pin is not reliable\n");
			log_test_result(KSFT_FAIL);
		}
		free(now);
	}
	if (gup_test_ioctl(gup_fd, mm, PIN_LONGTERM_TEST_STOP, NULL))
		ksft_print_msg("PIN_LONGTERM_TEST_STOP failed\n");
wait:
	if (child)
		ksft_exit_mm(child);
free_tmp:
	free(tmp);
}

static void test_ro_pin_on_shared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_ro_pin(mem, size, RO_PIN_TEST_SHARED, false);
}

static void test_ro_fast_pin_on_shared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_ro_pin(mem, size, RO_PIN_TEST_SHARED, true);
}

static void test_ro_pin_on_ro_previously_shared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_ro_pin(mem, size, RO_PIN_TEST_PREVIOUSLY_SHARED, false);
}

static void test_ro_fast_pin_on_ro_previously_shared(unsigned long mem, size_t size,
						     bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_ro_pin(mem, size, RO_PIN_TEST_PREVIOUSLY_SHARED, true);
}

static void test_ro_pin_on_ro_exclusive(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_ro_pin(mem, size, RO_PIN_TEST_RO_EXCLUSIVE, false);
}

static void test_ro_fast_pin_on_ro_exclusive(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_ro_pin(mem, size, RO_PIN_TEST_RO_EXCLUSIVE, true);
}

typedef void (*test_fn)(unsigned long mem, size_t size, bool hugetlb);

static void do_run_with_base_page(test_fn fn, bool swapout)
{
	unsigned long mem;
	int ret;

	mem = ksft_mmap(mm, pagesize, ZD_PROT_READ | ZD_PROT_WRITE,
			ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL);
	if (mem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	ret = zd_madvise(mm, mem, pagesize, ZD_MADV_NOHUGEPAGE);
	/* Ignore if not around on a kernel. */
	if (ret && ret != -EINVAL) {
		ksft_print_msg("MADV_NOHUGEPAGE failed\n");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	/* Populate a base page. */
	ksft_memset(mm, mem, 1, pagesize);
	if (swapout) {
		zd_madvise(mm, mem, pagesize, ZD_MADV_PAGEOUT);
		if (!pagemap_is_swapped(mm, mem)) {
			ksft_print_msg("MADV_PAGEOUT did not work, is swap enabled?\n");
			log_test_result(KSFT_SKIP);
			goto munmap;
		}
	}
	fn(mem, pagesize, false);
munmap:
	zd_munmap(mm, mem, pagesize);
}

static void run_with_base_page(test_fn fn, const char *desc)
{
	log_test_start("%s ... with base page", desc);
	do_run_with_base_page(fn, false);
	ksft_test_end();
}

static void run_with_base_page_swap(test_fn fn, const char *desc)
{
	log_test_start("%s ... with swapped out base page", desc);
	do_run_with_base_page(fn, true);
	ksft_test_end();
}

enum thp_run {
	THP_RUN_PMD,
	THP_RUN_PMD_SWAPOUT,
	THP_RUN_PTE,
	THP_RUN_PTE_SWAPOUT,
	THP_RUN_SINGLE_PTE,
	THP_RUN_SINGLE_PTE_SWAPOUT,
	THP_RUN_PARTIAL_MREMAP,
	THP_RUN_PARTIAL_SHARED,
};

static void do_run_with_thp(test_fn fn, enum thp_run thp_run, size_t thpsize)
{
	unsigned long mem, mmap_mem, tmp, mremap_mem = MAP_FAILED_ADDR;
	size_t size, mmap_size, mremap_size = 0;
	struct zd_mm *child;
	char one = 1;
	int ret;

	/* For alignment purposes, we need twice the thp size. */
	mmap_size = 2 * thpsize;
	mmap_mem = ksft_mmap(mm, mmap_size, ZD_PROT_READ | ZD_PROT_WRITE,
			     ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL);
	if (mmap_mem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	/* We need a THP-aligned memory area. */
	mem = (mmap_mem + thpsize) & ~(thpsize - 1);
	ret = zd_madvise(mm, mem, thpsize, ZD_MADV_HUGEPAGE);
	if (ret) {
		ksft_print_msg("MADV_HUGEPAGE failed\n");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	/* Try to populate a THP: touch the first sub-page, look at the last. */
	zd_cpu_write(mm, mem, &one, 1);
	if (!pagemap_is_populated(mm, mem + thpsize - pagesize)) {
		ksft_print_msg("Did not get a THP populated\n");
		log_test_result(KSFT_SKIP);
		goto munmap;
	}
	ksft_memset(mm, mem, 1, thpsize);

	size = thpsize;
	switch (thp_run) {
	case THP_RUN_PMD:
	case THP_RUN_PMD_SWAPOUT:
		break;
	case THP_RUN_PTE:
	case THP_RUN_PTE_SWAPOUT:
		/* PTE-map the THP by temporarily mapping a single subpage R/O. */
		ret = zd_mprotect(mm, mem + pagesize, pagesize, ZD_PROT_READ);
		if (!ret)
			ret = zd_mprotect(mm, mem + pagesize, pagesize,
					  ZD_PROT_READ | ZD_PROT_WRITE);
		if (ret) {
			ksft_print_msg("mprotect() failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		if (ksft_entry_level(mm, mem, NULL) != 1)
			ksft_model_fail("the THP is still PMD-mapped after mprotect() of one "
					"subpage; Linux splits the PMD at the VMA boundary\n");
		break;
	case THP_RUN_SINGLE_PTE:
	case THP_RUN_SINGLE_PTE_SWAPOUT:
		/* Discard all but a single subpage of that PTE-mapped THP. */
		ret = zd_madvise(mm, mem + pagesize, thpsize - pagesize, ZD_MADV_DONTNEED);
		if (ret) {
			ksft_print_msg("MADV_DONTNEED failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		size = pagesize;
		break;
	case THP_RUN_PARTIAL_MREMAP:
		/* Remap half of the THP somewhere new. */
		mremap_size = thpsize / 2;
		mremap_mem = ksft_mmap(mm, mremap_size, ZD_PROT_NONE,
				       ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL);
		if (mremap_mem == MAP_FAILED_ADDR) {
			ksft_print_msg("mmap() failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		ret = zd_mremap(mm, mem + mremap_size, mremap_size, mremap_size,
				ZD_MREMAP_MAYMOVE | ZD_MREMAP_FIXED, mremap_mem, &tmp);
		if (ret || tmp != mremap_mem) {
			ksft_print_msg("mremap() failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		size = mremap_size;
		if (ksft_entry_level(mm, mem, NULL) != 1 ||
		    ksft_entry_level(mm, mremap_mem, NULL) != 1)
			ksft_model_fail("a half-mremap()ed THP is still PMD-mapped; Linux splits "
					"the PMD (both halves PTE-mapped)\n");
		break;
	case THP_RUN_PARTIAL_SHARED:
		/* Share the first page with a child that quits at once. */
		ret = zd_madvise(mm, mem + pagesize, thpsize - pagesize, MADV_DONTFORK);
		if (ret) {
			ksft_print_msg("MADV_DONTFORK failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		child = ksft_fork(mm);
		if (!child) {
			ksft_print_msg("fork() failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		ksft_exit_mm(child);
		/* Allow for sharing all pages again. */
		ret = zd_madvise(mm, mem + pagesize, thpsize - pagesize, MADV_DOFORK);
		if (ret) {
			ksft_print_msg("MADV_DOFORK failed\n");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		break;
	}

	switch (thp_run) {
	case THP_RUN_PMD_SWAPOUT:
	case THP_RUN_PTE_SWAPOUT:
	case THP_RUN_SINGLE_PTE_SWAPOUT:
		zd_madvise(mm, mem, size, ZD_MADV_PAGEOUT);
		if (!range_is_swapped(mem, size)) {
			ksft_print_msg("MADV_PAGEOUT did not work, is swap enabled?\n");
			log_test_result(KSFT_SKIP);
			goto munmap;
		}
		break;
	default:
		break;
	}
	fn(mem, size, false);
munmap:
	zd_munmap(mm, mmap_mem, mmap_size);
	if (mremap_mem != MAP_FAILED_ADDR)
		zd_munmap(mm, mremap_mem, mremap_size);
}

static void run_with_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PMD, size);
	ksft_test_end();
}

static void run_with_thp_swap(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with swapped-out THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PMD_SWAPOUT, size);
	ksft_test_end();
}

static void run_with_pte_mapped_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with PTE-mapped THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PTE, size);
	ksft_test_end();
}

static void run_with_pte_mapped_thp_swap(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with swapped-out, PTE-mapped THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PTE_SWAPOUT, size);
	ksft_test_end();
}

static void run_with_single_pte_of_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with single PTE of THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_SINGLE_PTE, size);
	ksft_test_end();
}

static void run_with_single_pte_of_thp_swap(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with single PTE of swapped-out THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_SINGLE_PTE_SWAPOUT, size);
	ksft_test_end();
}

static void run_with_partial_mremap_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with partially mremap()'ed THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PARTIAL_MREMAP, size);
	ksft_test_end();
}

static void run_with_partial_shared_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with partially shared THP (%zu kB)", desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PARTIAL_SHARED, size);
	ksft_test_end();
}

static void run_with_hugetlb(test_fn fn, const char *desc, size_t hugetlbsize)
{
	(void)fn;
	log_test_start("%s ... with hugetlb (%zu kB)", desc, hugetlbsize / 1024);
	/* mmap(MAP_HUGETLB) fails: the model has no hugetlbfs, so no free huge page. */
	ksft_print_msg("need more free huge pages: Cannot allocate memory (12)\n");
	log_test_result(KSFT_SKIP);
	ksft_test_end();
}

struct test_case {
	const char *desc;
	test_fn fn;
};

/* Pages in private mappings that may get shared via COW during fork(). */
static const struct test_case anon_test_cases[] = {
	{ "Basic COW after fork()", test_cow_in_parent },
	{ "Basic COW after fork() with mprotect() optimization", test_cow_in_parent_mprotect },
	/* CVE-2020-29374 */
	{ "vmsplice() + unmap in child", test_vmsplice_in_child },
	{ "vmsplice() + unmap in child with mprotect() optimization",
	  test_vmsplice_in_child_mprotect },
	{ "vmsplice() before fork(), unmap in parent after fork()", test_vmsplice_before_fork },
	{ "vmsplice() + unmap in parent after fork()", test_vmsplice_after_fork },
	{ "R/O-mapping a page registered as iouring fixed buffer", test_iouring_ro },
	{ "fork() with an iouring fixed buffer", test_iouring_fork },
	{ "R/O GUP pin on R/O-mapped shared page", test_ro_pin_on_shared },
	{ "R/O GUP-fast pin on R/O-mapped shared page", test_ro_fast_pin_on_shared },
	{ "R/O GUP pin on R/O-mapped previously-shared page", test_ro_pin_on_ro_previously_shared },
	{ "R/O GUP-fast pin on R/O-mapped previously-shared page",
	  test_ro_fast_pin_on_ro_previously_shared },
	{ "R/O GUP pin on R/O-mapped exclusive page", test_ro_pin_on_ro_exclusive },
	{ "R/O GUP-fast pin on R/O-mapped exclusive page", test_ro_fast_pin_on_ro_exclusive },
};

static void run_anon_test_case(struct test_case const *test_case)
{
	run_with_base_page(test_case->fn, test_case->desc);
	run_with_base_page_swap(test_case->fn, test_case->desc);
	for (int i = 0; i < nr_thpsizes; i++) {
		size_t size = thpsizes[i];

		if (size == pmdsize) {
			run_with_thp(test_case->fn, test_case->desc, size);
			run_with_thp_swap(test_case->fn, test_case->desc, size);
		}
		run_with_pte_mapped_thp(test_case->fn, test_case->desc, size);
		run_with_pte_mapped_thp_swap(test_case->fn, test_case->desc, size);
		run_with_single_pte_of_thp(test_case->fn, test_case->desc, size);
		run_with_single_pte_of_thp_swap(test_case->fn, test_case->desc, size);
		run_with_partial_mremap_thp(test_case->fn, test_case->desc, size);
		run_with_partial_shared_thp(test_case->fn, test_case->desc, size);
	}
	for (int i = 0; i < nr_hugetlbsizes; i++)
		run_with_hugetlb(test_case->fn, test_case->desc, hugetlbsizes[i]);
}

static void run_anon_test_cases(void)
{
	ksft_print_msg("[INFO] Anonymous memory tests in private mappings\n");
	for (size_t i = 0; i < ARRAY_SIZE(anon_test_cases); i++)
		run_anon_test_case(&anon_test_cases[i]);
}

static int tests_per_anon_test_case(void)
{
	int tests = 2 + nr_hugetlbsizes;

	tests += 6 * nr_thpsizes;
	if (pmdsize)
		tests += 2;
	return tests;
}

enum anon_thp_collapse_test {
	ANON_THP_COLLAPSE_UNSHARED,
	ANON_THP_COLLAPSE_FULLY_SHARED,
	ANON_THP_COLLAPSE_LOWER_SHARED,
	ANON_THP_COLLAPSE_UPPER_SHARED,
};

static void do_test_anon_thp_collapse(unsigned long mem, size_t size,
				      enum anon_thp_collapse_test test)
{
	unsigned long cmp = mem;
	size_t cmp_size = size;
	struct zd_mm *child;
	char *old = NULL;
	int ret;

	/* PTE-map the THP by temporarily mapping a single subpage R/O. */
	ret = zd_mprotect(mm, mem + pagesize, pagesize, ZD_PROT_READ);
	if (!ret)
		ret = zd_mprotect(mm, mem + pagesize, pagesize, ZD_PROT_READ | ZD_PROT_WRITE);
	if (ret) {
		ksft_print_msg("mprotect() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	switch (test) {
	case ANON_THP_COLLAPSE_UNSHARED:
		/* Collapse before actually COW-sharing the page. */
		ret = zd_madvise(mm, mem, size, ZD_MADV_COLLAPSE);
		if (ret) {
			ksft_print_msg("MADV_COLLAPSE failed: %s (%d)\n", strerror(-ret), -ret);
			log_test_result(KSFT_SKIP);
			return;
		}
		break;
	case ANON_THP_COLLAPSE_FULLY_SHARED:
		break;
	case ANON_THP_COLLAPSE_LOWER_SHARED:
		/* Don't COW-share the upper part of the THP. */
		ret = zd_madvise(mm, mem + size / 2, size / 2, MADV_DONTFORK);
		if (ret) {
			ksft_print_msg("MADV_DONTFORK failed\n");
			log_test_result(KSFT_FAIL);
			return;
		}
		cmp_size = size / 2;
		break;
	case ANON_THP_COLLAPSE_UPPER_SHARED:
		/* Don't COW-share the lower part of the THP. */
		ret = zd_madvise(mm, mem, size / 2, MADV_DONTFORK);
		if (ret) {
			ksft_print_msg("MADV_DONTFORK failed\n");
			log_test_result(KSFT_FAIL);
			return;
		}
		cmp = mem + size / 2;
		cmp_size = size / 2;
		break;
	}

	child = ksft_fork(mm);
	if (!child) {
		ksft_print_msg("fork() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	/* Child: backup the original content, wait. */
	old = snapshot(child, cmp, cmp_size);

	switch (test) {
	case ANON_THP_COLLAPSE_UNSHARED:
		break;
	case ANON_THP_COLLAPSE_UPPER_SHARED:
	case ANON_THP_COLLAPSE_LOWER_SHARED:
		/* Revert MADV_DONTFORK so the VMAs merge and we can collapse. */
		ret = zd_madvise(mm, mem, size, MADV_DOFORK);
		if (ret) {
			ksft_print_msg("MADV_DOFORK failed\n");
			log_test_result(KSFT_FAIL);
			goto out;
		}
		/* fall through */
	case ANON_THP_COLLAPSE_FULLY_SHARED:
		/* Collapse before anyone modified the COW-shared page. */
		ret = zd_madvise(mm, mem, size, ZD_MADV_COLLAPSE);
		if (ret) {
			ksft_print_msg("MADV_COLLAPSE failed: %s (%d)\n", strerror(-ret), -ret);
			log_test_result(KSFT_SKIP);
			goto out;
		}
		break;
	}
	/* Modify the page; the child then compares. */
	ksft_memset(mm, mem, 0xff, size);
	ret = old ? memcmp_mm(child, cmp, old, cmp_size) : 1;
	if (!ret) {
		log_test_result(KSFT_PASS);
	} else {
		ksft_print_msg("Leak from parent into child\n");
		log_test_result(KSFT_FAIL);
	}
out:
	ksft_exit_mm(child);
	free(old);
}

static void test_anon_thp_collapse_unshared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_UNSHARED);
}

static void test_anon_thp_collapse_fully_shared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_FULLY_SHARED);
}

static void test_anon_thp_collapse_lower_shared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_LOWER_SHARED);
}

static void test_anon_thp_collapse_upper_shared(unsigned long mem, size_t size, bool is_hugetlb)
{
	(void)is_hugetlb;
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_UPPER_SHARED);
}

/* Anonymous THP in private mappings that may get shared via COW during fork(). */
static const struct test_case anon_thp_test_cases[] = {
	{ "Basic COW after fork() when collapsing before fork()", test_anon_thp_collapse_unshared },
	{ "Basic COW after fork() when collapsing after fork() (fully shared)",
	  test_anon_thp_collapse_fully_shared },
	{ "Basic COW after fork() when collapsing after fork() (lower shared)",
	  test_anon_thp_collapse_lower_shared },
	{ "Basic COW after fork() when collapsing after fork() (upper shared)",
	  test_anon_thp_collapse_upper_shared },
};

static void run_anon_thp_test_cases(void)
{
	if (!pmdsize)
		return;
	ksft_print_msg("[INFO] Anonymous THP tests\n");
	for (size_t i = 0; i < ARRAY_SIZE(anon_thp_test_cases); i++) {
		const struct test_case *test_case = &anon_thp_test_cases[i];

		log_test_start("%s", test_case->desc);
		do_run_with_thp(test_case->fn, THP_RUN_PMD, pmdsize);
		ksft_test_end();
	}
}

static int tests_per_anon_thp_test_case(void)
{
	return pmdsize ? 1 : 0;
}

typedef void (*non_anon_test_fn)(unsigned long mem, unsigned long smem, size_t size);

static void test_cow(unsigned long mem, unsigned long smem, size_t size)
{
	char *old = snapshot(mm, smem, size);

	/* Modify the page; see if we still read the old values via the other mapping. */
	ksft_memset(mm, mem, 0xff, size);
	if (old && !memcmp_mm(mm, smem, old, size)) {
		log_test_result(KSFT_PASS);
	} else {
		ksft_print_msg("Other mapping modified\n");
		log_test_result(KSFT_FAIL);
	}
	free(old);
}

static void test_ro_pin(unsigned long mem, unsigned long smem, size_t size)
{
	(void)smem;
	do_test_ro_pin(mem, size, RO_PIN_TEST, false);
}

static void test_ro_fast_pin(unsigned long mem, unsigned long smem, size_t size)
{
	(void)smem;
	do_test_ro_pin(mem, size, RO_PIN_TEST, true);
}

static void run_with_zeropage(non_anon_test_fn fn, const char *desc)
{
	unsigned long mem, smem;

	log_test_start("%s ... with shared zeropage", desc);
	mem = ksft_mmap(mm, pagesize, ZD_PROT_READ | ZD_PROT_WRITE,
			ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL);
	if (mem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		goto out;
	}
	smem = ksft_mmap(mm, pagesize, ZD_PROT_READ, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL);
	if (smem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	/* Read from the page to populate the shared zeropage. */
	ksft_force_read(mm, mem);
	ksft_force_read(mm, smem);
	fn(mem, smem, pagesize);
munmap:
	zd_munmap(mm, mem, pagesize);
	if (smem != MAP_FAILED_ADDR)
		zd_munmap(mm, smem, pagesize);
out:
	ksft_test_end();
}

static void run_with_huge_zeropage(non_anon_test_fn fn, const char *desc)
{
	unsigned long mem, smem, mmap_mem, mmap_smem = MAP_FAILED_ADDR;
	size_t mmap_size;
	int ret;

	log_test_start("%s ... with huge zeropage", desc);
	if (!has_huge_zeropage) {
		ksft_print_msg("Huge zeropage not enabled\n");
		log_test_result(KSFT_SKIP);
		goto out;
	}
	/* For alignment purposes, we need twice the thp size. */
	mmap_size = 2 * pmdsize;
	mmap_mem = ksft_mmap(mm, mmap_size, ZD_PROT_READ | ZD_PROT_WRITE,
			     ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS, NULL);
	if (mmap_mem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		goto out;
	}
	mmap_smem = ksft_mmap(mm, mmap_size, ZD_PROT_READ, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS,
			      NULL);
	if (mmap_smem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	/* We need a THP-aligned memory area. */
	mem = (mmap_mem + pmdsize) & ~(pmdsize - 1);
	smem = (mmap_smem + pmdsize) & ~(pmdsize - 1);
	ret = zd_madvise(mm, mem, pmdsize, ZD_MADV_HUGEPAGE);
	if (!ret)
		ret = zd_madvise(mm, smem, pmdsize, ZD_MADV_HUGEPAGE);
	if (ret) {
		ksft_print_msg("madvise(): %s (%d)\n", strerror(-ret), -ret);
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	/* Read to populate the huge shared zeropage; another sub-page must be populated. */
	ksft_force_read(mm, mem);
	ksft_force_read(mm, smem);
	if (!pagemap_is_populated(mm, mem + pagesize) ||
	    !pagemap_is_populated(mm, smem + pagesize)) {
		ksft_print_msg("Did not get THPs populated\n");
		log_test_result(KSFT_SKIP);
		goto munmap;
	}
	/* The kernel's test cannot see which folio a read fault mapped; the model can. */
	for (int i = 0; i < 2; i++) {
		unsigned long a = i ? smem : mem;
		struct zd_folio *folio = ksft_mapped_folio(mm, a);

		if (ksft_entry_level(mm, a, NULL) != 2 || !folio || zd_folio_test_anon(folio))
			ksft_model_fail("a read fault at %#lx mapped %s, not the huge zero folio\n",
					a, folio && zd_folio_test_anon(folio) ?
					"a new anonymous THP" : "something else");
	}
	fn(mem, smem, pmdsize);
munmap:
	zd_munmap(mm, mmap_mem, mmap_size);
	if (mmap_smem != MAP_FAILED_ADDR)
		zd_munmap(mm, mmap_smem, mmap_size);
out:
	ksft_test_end();
}

/* A private and a shared mapping of one page of @file, both faulted in. */
static void run_with_file(non_anon_test_fn fn, struct zd_file *file)
{
	unsigned long mem, smem;

	/* Create a private mapping of the file. */
	mem = ksft_mmap(mm, pagesize, ZD_PROT_READ | ZD_PROT_WRITE, ZD_MAP_PRIVATE, file);
	if (mem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}
	smem = ksft_mmap(mm, pagesize, ZD_PROT_READ, ZD_MAP_SHARED, file);
	if (smem == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap() failed\n");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	/* Fault the page in. */
	ksft_force_read(mm, mem);
	ksft_force_read(mm, smem);
	fn(mem, smem, pagesize);
munmap:
	zd_munmap(mm, mem, pagesize);
	if (smem != MAP_FAILED_ADDR)
		zd_munmap(mm, smem, pagesize);
}

static void run_with_memfd(non_anon_test_fn fn, const char *desc)
{
	struct zd_file *file;

	log_test_start("%s ... with memfd", desc);
	/* File consists of a single page filled with zeroes. */
	file = ksft_memfd(ksft_sys, pagesize);
	if (!file) {
		ksft_print_msg("memfd_create() failed\n");
		log_test_result(KSFT_FAIL);
	} else {
		run_with_file(fn, file);
		zd_fput(file);
	}
	ksft_test_end();
}

static void run_with_tmpfile(non_anon_test_fn fn, const char *desc)
{
	struct zd_file *file;

	log_test_start("%s ... with tmpfile", desc);
	file = ksft_diskfs_file(ksft_sys, pagesize);
	if (!file) {
		ksft_print_msg("tmpfile() failed\n");
		log_test_result(KSFT_FAIL);
	} else {
		run_with_file(fn, file);
		zd_fput(file);
	}
	ksft_test_end();
}

static void run_with_memfd_hugetlb(non_anon_test_fn fn, const char *desc, size_t hugetlbsize)
{
	(void)fn;
	log_test_start("%s ... with memfd hugetlb (%zu kB)", desc, hugetlbsize / 1024);
	/* memfd_create(MFD_HUGETLB) succeeds in Linux; the free huge pages are missing. */
	ksft_print_msg("need more free huge pages: No space left on device (28)\n");
	log_test_result(KSFT_SKIP);
	ksft_test_end();
}

struct non_anon_test_case {
	const char *desc;
	non_anon_test_fn fn;
};

/* Pages in private mappings that are not anonymous: the zero page(s), page cache. */
static const struct non_anon_test_case non_anon_test_cases[] = {
	{ "Basic COW", test_cow },
	{ "R/O longterm GUP pin", test_ro_pin },
	{ "R/O longterm GUP-fast pin", test_ro_fast_pin },
};

static void run_non_anon_test_case(struct non_anon_test_case const *test_case)
{
	run_with_zeropage(test_case->fn, test_case->desc);
	run_with_memfd(test_case->fn, test_case->desc);
	run_with_tmpfile(test_case->fn, test_case->desc);
	if (pmdsize)
		run_with_huge_zeropage(test_case->fn, test_case->desc);
	for (int i = 0; i < nr_hugetlbsizes; i++)
		run_with_memfd_hugetlb(test_case->fn, test_case->desc, hugetlbsizes[i]);
}

static void run_non_anon_test_cases(void)
{
	ksft_print_msg("[RUN] Non-anonymous memory tests in private mappings\n");
	for (size_t i = 0; i < ARRAY_SIZE(non_anon_test_cases); i++)
		run_non_anon_test_case(&non_anon_test_cases[i]);
}

static int tests_per_non_anon_test_case(void)
{
	int tests = 3 + nr_hugetlbsizes;

	if (pmdsize)
		tests += 1;
	return tests;
}

int main(void)
{
	ksft_print_header();
	ksft_set_pending(pending, ARRAY_SIZE(pending));

	pagesize = ZD_PAGE_SIZE;
	pmdsize = read_pmd_pagesize();
	ksft_print_msg("[INFO] detected PMD size: %zu KiB\n", pmdsize / 1024);
	nr_thpsizes = detect_thp_sizes(thpsizes, ARRAY_SIZE(thpsizes));
	/* x86-64's hugetlb sizes; the model has none free (no hugetlbfs). */
	hugetlbsizes[nr_hugetlbsizes++] = 2ul << 20;
	hugetlbsizes[nr_hugetlbsizes++] = 1ul << 30;
	/* /sys/kernel/mm/transparent_hugepage/use_zero_page defaults to 1. */
	has_huge_zeropage = true;
	ksft_print_msg("[INFO] huge zeropage is enabled\n");

	ksft_set_plan((unsigned int)(ARRAY_SIZE(anon_test_cases) * tests_per_anon_test_case() +
		      ARRAY_SIZE(anon_thp_test_cases) * tests_per_anon_thp_test_case() +
		      ARRAY_SIZE(non_anon_test_cases) * tests_per_non_anon_test_case()));
	gup_fd = gup_test_open();

	run_anon_test_cases();
	run_anon_thp_test_cases();
	run_non_anon_test_cases();

	gup_test_release(gup_fd);
	return ksft_finished();
}
