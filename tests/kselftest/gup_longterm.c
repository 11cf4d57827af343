// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/gup_longterm.c - the kernel's GUP long-term pinning
 * selftest, ported to the model.
 *
 * Counterpart: tools/testing/selftests/mm/gup_longterm.c (newest kernel:
 * the log_test_start/log_test_result form). Same cases, names and TAP
 * output, against the zd_ API (see cow.c for how the syscalls map):
 *  - R/O and R/W long-term pins go through the gup_test file
 *    (PIN_LONGTERM_TEST_START/STOP, gup_test_dev.c);
 *  - an io_uring fixed buffer is a long-term R/W pin
 *    (pin_user_pages_fast with FOLL_WRITE | FOLL_LONGTERM), whose failure
 *    io_uring reports as EFAULT;
 *  - memfd is a shmem file (tmpfs: R/W long-term pins of shared mappings
 *    work); tmpfile() and the file in the test's directory are diskfs
 *    files (vm_util.h), an ext4 stand-in: they must be refused.
 * Memory the model lacks: hugetlbfs (skipped with the kernel's message, as
 * without free huge pages). One memory type the kernel's test does not
 * have is added: device DAX (a shared mapping of /dev/daxX.Y; it needs no
 * dirty tracking, so every long-term pin of it works, and it refuses
 * private mappings, which are skipped).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gup_test_dev.h"
#include "ksft.h"
#include "vm_util.h"

/* Known differences from the kernel being fixed: reported XFAIL until then. */
static const struct ksft_pending pending[] = {
	{ NULL, NULL, NULL },	/* none */
};

#define DEVDAX_MAGIC 0xda7	/* the model's own: device DAX is not a file system */

static size_t pagesize;
static int nr_hugetlbsizes;
static size_t hugetlbsizes[10];
static struct gup_test_file *gup_fd;

#define mm ksft_mm

/* fstatfs() of the file: tmpfs, ext4 (diskfs), or device DAX. */
static unsigned long get_fs_type(struct zd_file *file)
{
	unsigned long type = ksft_fs_type(file);

	if (!type && file->f_op && file->f_op->name && !strcmp(file->f_op->name, "dax"))
		return DEVDAX_MAGIC;
	return type;
}

static bool fs_is_unknown(unsigned long fs_type)
{
	/* Only file systems whose R/W long-term pinning support is known. */
	switch (fs_type) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:
	case DEVDAX_MAGIC:
		return false;
	default:
		return true;
	}
}

static bool fs_supports_writable_longterm_pinning(unsigned long fs_type)
{
	switch (fs_type) {
	case TMPFS_MAGIC:
	case DEVDAX_MAGIC:
		return true;
	default:
		return false;
	}
}

enum test_type {
	TEST_TYPE_RO,
	TEST_TYPE_RO_FAST,
	TEST_TYPE_RW,
	TEST_TYPE_RW_FAST,
	TEST_TYPE_IOURING,
};

/*
 * What was pinned (the kernel's test cannot look): in a private mapping an
 * anonymous page (FOLL_WRITE breaks COW; a R/O long-term pin unshares the
 * page-cache page, gup_must_unshare), in a shared one the file's own page.
 */
static void check_pinned(struct zd_file *file, struct zd_page *page, bool shared)
{
	struct zd_folio *folio = page ? zd_page_folio(page) : NULL;

	if (!folio)
		ksft_model_fail("no pinned page\n");
	else if (!shared && !zd_folio_test_anon(folio))
		ksft_model_fail("the pin of a private file mapping holds the file's page, not "
				"an anonymous copy\n");
	else if (shared && folio->page.mapping != (void *)file->f_mapping)
		ksft_model_fail("the pin of a shared file mapping holds a page that is not "
				"the file's\n");
}

static void do_test(struct zd_file *file, size_t size, enum test_type type, bool shared)
{
	unsigned long fs_type = get_fs_type(file), mem;
	int result = KSFT_PASS;
	bool should_work;
	long ret;

	/* ftruncate() + fallocate(): a shmem file gets its pages now. */
	if (zd_file_is_shmem(file)) {
		void *zero = calloc(1, size);

		ret = zd_tmpfs_truncate(file, size);
		if (!ret && zd_tmpfs_write(file, 0, zero, size) != (ssize_t)size)
			ret = -ENOMEM;
		free(zero);
		if (ret) {
			ksft_print_msg("fallocate() failed (%s)\n", strerror((int)-ret));
			log_test_result(KSFT_FAIL);
			return;
		}
	}
	ret = zd_mmap(mm, 0, size, ZD_PROT_READ | ZD_PROT_WRITE,
		      shared ? ZD_MAP_SHARED : ZD_MAP_PRIVATE, file, 0, 0, &mem);
	if (ret) {
		if (fs_type == DEVDAX_MAGIC && !shared) {
			/* check_vma(): device DAX refuses private mappings. */
			ksft_print_msg("mmap() failed (%s): device DAX is MAP_SHARED only\n",
				       strerror((int)-ret));
			log_test_result(KSFT_SKIP);
		} else {
			ksft_print_msg("mmap() failed (%s)\n", strerror((int)-ret));
			log_test_result(KSFT_FAIL);
		}
		return;
	}
	/* Fault in the page such that GUP-fast can pin it directly. */
	ksft_memset(mm, mem, 0, size);

	switch (type) {
	case TEST_TYPE_RO:
	case TEST_TYPE_RO_FAST:
		/* Cover more unsharing decisions: map the page R/O. */
		ret = zd_mprotect(mm, mem, size, ZD_PROT_READ);
		if (ret) {
			ksft_print_msg("mprotect() failed (%s)\n", strerror((int)-ret));
			result = KSFT_FAIL;
			goto munmap;
		}
		/* fall through */
	case TEST_TYPE_RW:
	case TEST_TYPE_RW_FAST: {
		const bool fast = type == TEST_TYPE_RO_FAST || type == TEST_TYPE_RW_FAST;
		const bool rw = type == TEST_TYPE_RW || type == TEST_TYPE_RW_FAST;
		struct pin_longterm_test args;

		if (rw && shared && fs_is_unknown(fs_type)) {
			ksft_print_msg("Unknown filesystem\n");
			result = KSFT_SKIP;
			goto munmap;
		}
		/* R/O pins and pins of private mappings always work; R/W shared ones on some. */
		should_work = !shared || !rw || fs_supports_writable_longterm_pinning(fs_type);

		args.addr = mem;
		args.size = size;
		args.flags = fast ? PIN_LONGTERM_TEST_FLAG_USE_FAST : 0;
		args.flags |= rw ? PIN_LONGTERM_TEST_FLAG_USE_WRITE : 0;
		ret = gup_test_ioctl(gup_fd, mm, PIN_LONGTERM_TEST_START, &args);
		if (ret == -EINVAL) {
			ksft_print_msg("PIN_LONGTERM_TEST_START failed (EINVAL)n");
			result = KSFT_SKIP;
			break;
		} else if (ret == -EFAULT) {
			if (should_work)
				ksft_print_msg("Should have worked\n");
			result = should_work ? KSFT_FAIL : KSFT_PASS;
			break;
		} else if (ret) {
			ksft_print_msg("PIN_LONGTERM_TEST_START failed (%s)\n", strerror((int)-ret));
			result = KSFT_FAIL;
			break;
		}
		check_pinned(file, gup_test_longterm_page(gup_fd, 0), shared);
		if (gup_test_ioctl(gup_fd, mm, PIN_LONGTERM_TEST_STOP, NULL))
			ksft_print_msg("[INFO] PIN_LONGTERM_TEST_STOP failed\n");
		if (!should_work)
			ksft_print_msg("Should have failed\n");
		result = should_work ? KSFT_PASS : KSFT_FAIL;
		break;
	}
	case TEST_TYPE_IOURING: {
		unsigned long nr = size / pagesize;
		struct zd_page **pages = calloc(nr, sizeof(*pages));
		int got;

		/* io_uring always pins pages writable. */
		if (shared && fs_is_unknown(fs_type)) {
			ksft_print_msg("Unknown filesystem\n");
			result = KSFT_SKIP;
			free(pages);
			goto munmap;
		}
		should_work = !shared || fs_supports_writable_longterm_pinning(fs_type);
		/* io_uring_register_buffers(): FOLL_WRITE | FOLL_PIN | FOLL_LONGTERM. */
		got = zd_pin_user_pages_fast(mm, mem, (int)nr, ZD_FOLL_WRITE | ZD_FOLL_LONGTERM,
					     pages);
		if (got > 0 && got != (int)nr) {
			zd_unpin_user_pages(pages, (unsigned long)got);
			got = -EFAULT;
		}
		if (got == -EFAULT || got == -EOPNOTSUPP || got == -ENOSPC) {
			if (should_work)
				ksft_print_msg("Should have failed (%s)\n", strerror(-got));
			result = should_work ? KSFT_FAIL : KSFT_PASS;
		} else if (got < 0) {
			ksft_print_msg("io_uring_register_buffers() failed (%s)\n", strerror(-got));
			result = KSFT_SKIP;
		} else {
			if (!should_work)
				ksft_print_msg("Should have worked\n");
			result = should_work ? KSFT_PASS : KSFT_FAIL;
			check_pinned(file, pages[0], shared);
			zd_unpin_user_pages(pages, nr);
		}
		free(pages);
		break;
	}
	}
munmap:
	zd_munmap(mm, mem, size);
	log_test_result(result);
}

typedef void (*test_fn)(struct zd_file *file, size_t size);

static void run_with_memfd(test_fn fn, const char *desc)
{
	struct zd_file *file = NULL;

	log_test_start("%s ... with memfd", desc);
	if (zd_shmem_file_setup(ksft_sys, 0, &file)) {
		ksft_print_msg("memfd_create() failed\n");
		log_test_result(KSFT_SKIP);
	} else {
		fn(file, pagesize);
		zd_fput(file);
	}
	ksft_test_end();
}

static void run_with_tmpfile(test_fn fn, const char *desc)
{
	struct zd_file *file;

	log_test_start("%s ... with tmpfile", desc);
	file = ksft_diskfs_file(ksft_sys, pagesize);
	if (!file) {
		ksft_print_msg("tmpfile() failed\n");
		log_test_result(KSFT_FAIL);
	} else {
		fn(file, pagesize);
		zd_fput(file);
	}
	ksft_test_end();
}

static void run_with_local_tmpfile(test_fn fn, const char *desc)
{
	struct zd_file *file;

	log_test_start("%s ... with local tmpfile", desc);
	/* mkstemp() + unlink() next to the test: the same disk file system. */
	file = ksft_diskfs_file(ksft_sys, pagesize);
	if (!file) {
		ksft_print_msg("mkstemp() failed\n");
		log_test_result(KSFT_FAIL);
	} else {
		fn(file, pagesize);
		zd_fput(file);
	}
	ksft_test_end();
}

static void run_with_memfd_hugetlb(test_fn fn, const char *desc, size_t hugetlbsize)
{
	(void)fn;
	log_test_start("%s ... with memfd hugetlb (%zu kB)", desc, hugetlbsize / 1024);
	/* memfd_create(MFD_HUGETLB) and ftruncate work; fallocate finds no free huge page. */
	ksft_print_msg("need more free huge pages\n");
	log_test_result(KSFT_SKIP);
	ksft_test_end();
}

/* Not in the kernel's test: a shared mapping of a device-DAX device. */
static void run_with_devdax(test_fn fn, const char *desc)
{
	struct zd_devdax *dd;
	int ret;

	log_test_start("%s ... with device DAX", desc);
	ret = zd_devdax_create(ksft_sys, 2ul << 20, ZD_PAGE_SIZE, &dd);
	if (ret) {
		ksft_print_msg("device DAX setup failed (%s)\n", strerror(-ret));
		log_test_result(KSFT_FAIL);
	} else {
		fn(zd_devdax_file(dd), pagesize);
		zd_devdax_destroy(dd);
	}
	ksft_test_end();
}

struct test_case {
	const char *desc;
	test_fn fn;
};

static void test_shared_rw_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RW, true);
}

static void test_shared_rw_fast_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RW_FAST, true);
}

static void test_shared_ro_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RO, true);
}

static void test_shared_ro_fast_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RO_FAST, true);
}

static void test_private_rw_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RW, false);
}

static void test_private_rw_fast_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RW_FAST, false);
}

static void test_private_ro_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RO, false);
}

static void test_private_ro_fast_pin(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_RO_FAST, false);
}

static void test_shared_iouring(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_IOURING, true);
}

static void test_private_iouring(struct zd_file *f, size_t size)
{
	do_test(f, size, TEST_TYPE_IOURING, false);
}

static const struct test_case test_cases[] = {
	{ "R/W longterm GUP pin in MAP_SHARED file mapping", test_shared_rw_pin },
	{ "R/W longterm GUP-fast pin in MAP_SHARED file mapping", test_shared_rw_fast_pin },
	{ "R/O longterm GUP pin in MAP_SHARED file mapping", test_shared_ro_pin },
	{ "R/O longterm GUP-fast pin in MAP_SHARED file mapping", test_shared_ro_fast_pin },
	{ "R/W longterm GUP pin in MAP_PRIVATE file mapping", test_private_rw_pin },
	{ "R/W longterm GUP-fast pin in MAP_PRIVATE file mapping", test_private_rw_fast_pin },
	{ "R/O longterm GUP pin in MAP_PRIVATE file mapping", test_private_ro_pin },
	{ "R/O longterm GUP-fast pin in MAP_PRIVATE file mapping", test_private_ro_fast_pin },
	{ "io_uring fixed buffer with MAP_SHARED file mapping", test_shared_iouring },
	{ "io_uring fixed buffer with MAP_PRIVATE file mapping", test_private_iouring },
};

static void run_test_case(struct test_case const *test_case)
{
	run_with_memfd(test_case->fn, test_case->desc);
	run_with_tmpfile(test_case->fn, test_case->desc);
	run_with_local_tmpfile(test_case->fn, test_case->desc);
	for (int i = 0; i < nr_hugetlbsizes; i++)
		run_with_memfd_hugetlb(test_case->fn, test_case->desc, hugetlbsizes[i]);
	run_with_devdax(test_case->fn, test_case->desc);
}

static int tests_per_test_case(void)
{
	return 3 + nr_hugetlbsizes + 1;
}

int main(void)
{
	pagesize = ZD_PAGE_SIZE;
	/* x86-64's hugetlb sizes; the model has none free (no hugetlbfs). */
	hugetlbsizes[nr_hugetlbsizes++] = 2ul << 20;
	hugetlbsizes[nr_hugetlbsizes++] = 1ul << 30;

	ksft_print_header();
	ksft_set_pending(pending, ARRAY_SIZE(pending));
	ksft_set_plan((unsigned int)(ARRAY_SIZE(test_cases) * tests_per_test_case()));
	gup_fd = gup_test_open();
	for (size_t i = 0; i < ARRAY_SIZE(test_cases); i++)
		run_test_case(&test_cases[i]);
	gup_test_release(gup_fd);
	return ksft_finished();
}
