// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/gup_test_dev.c - the gup_test debugfs file's logic
 * (mm/gup_test.c) over the zd_ GUP API. See gup_test_dev.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gup_test_dev.h"
#include "ksft.h"

struct gup_test_file {
	/* The long-term pin session (global in Linux, behind a mutex). */
	struct zd_page **lt_pages;
	unsigned long lt_nr_pages;
	unsigned int warnings;
};

struct gup_test_file *gup_test_open(void)
{
	return calloc(1, sizeof(struct gup_test_file));
}

unsigned int gup_test_warnings(const struct gup_test_file *f)
{
	return f->warnings;
}

struct zd_page *gup_test_longterm_page(const struct gup_test_file *f, unsigned long i)
{
	return f->lt_pages && i < f->lt_nr_pages ? f->lt_pages[i] : NULL;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void put_back_pages(unsigned int cmd, struct zd_page **pages, unsigned long nr_pages,
			   unsigned int test_flags)
{
	switch (cmd) {
	case GUP_FAST_BENCHMARK:
	case GUP_BASIC_TEST:
		for (unsigned long i = 0; i < nr_pages; i++)
			zd_put_page(pages[i]);
		break;
	case PIN_FAST_BENCHMARK:
	case PIN_BASIC_TEST:
	case PIN_LONGTERM_BENCHMARK:
		zd_unpin_user_pages(pages, nr_pages);
		break;
	case DUMP_USER_PAGES_TEST:
		if (test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN) {
			zd_unpin_user_pages(pages, nr_pages);
		} else {
			for (unsigned long i = 0; i < nr_pages; i++)
				zd_put_page(pages[i]);
		}
		break;
	}
}

static void warn_page(struct gup_test_file *f, const char *what, unsigned long i,
		      struct zd_page *page)
{
	char buf[512];

	zd_dump_page(page, buf, sizeof(buf));
	ksft_print_msg("WARNING: pages[%lu] is %s\n", i, what);
	ksft_print_msg("gup_test failure: %s\n", buf);
	f->warnings++;
}

static void verify_dma_pinned(struct gup_test_file *f, unsigned int cmd, struct zd_page **pages,
			      unsigned long nr_pages)
{
	if (cmd != PIN_FAST_BENCHMARK && cmd != PIN_BASIC_TEST && cmd != PIN_LONGTERM_BENCHMARK)
		return;
	for (unsigned long i = 0; i < nr_pages; i++) {
		struct zd_folio *folio = zd_page_folio(pages[i]);

		if (!zd_folio_maybe_dma_pinned(folio)) {
			warn_page(f, "NOT dma-pinned", i, pages[i]);
			break;
		}
		if (cmd == PIN_LONGTERM_BENCHMARK && !zd_folio_is_longterm_pinnable(folio)) {
			warn_page(f, "NOT pinnable but pinned", i, pages[i]);
			break;
		}
	}
}

static void dump_pages_test(struct gup_test *gup, struct zd_page **pages, unsigned long nr_pages)
{
	char buf[512];

	/* Zero out any out-of-range index; which_pages[] is 1-based. */
	for (unsigned int i = 0; i < GUP_TEST_MAX_PAGES_TO_DUMP; i++) {
		if (gup->which_pages[i] > nr_pages) {
			ksft_print_msg("ZEROING due to out of range: .which_pages[%u]: %u\n", i,
				       gup->which_pages[i]);
			gup->which_pages[i] = 0;
		}
	}
	for (unsigned int i = 0; i < GUP_TEST_MAX_PAGES_TO_DUMP; i++) {
		unsigned int index = gup->which_pages[i];

		if (!index)
			continue;
		index--;
		ksft_print_msg("---- page #%u, starting from user virt addr: 0x%llx\n", index,
			       (unsigned long long)gup->addr);
		zd_dump_page(pages[index], buf, sizeof(buf));
		ksft_print_msg("gup_test: dump_pages() test: %s\n", buf);
	}
}

static long __gup_test_ioctl(struct gup_test_file *f, struct zd_mm *mm, unsigned int cmd,
			     struct gup_test *gup)
{
	bool needs_mmap_lock = cmd != GUP_FAST_BENCHMARK && cmd != PIN_FAST_BENCHMARK;
	unsigned long i, nr_pages, addr, next, end;
	struct zd_page **pages;
	uint64_t start_time;
	long nr;
	long ret = 0;

	if (gup->addr > ULONG_MAX || gup->size > ULONG_MAX)
		return -EINVAL;
	if (__builtin_add_overflow((unsigned long)gup->addr, (unsigned long)gup->size, &end))
		return -EINVAL;
	nr_pages = gup->size / ZD_PAGE_SIZE;
	pages = calloc(nr_pages ? nr_pages : 1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	if (needs_mmap_lock)
		zd_mmap_read_lock(mm);

	i = 0;
	nr = gup->nr_pages_per_call;
	start_time = now_usec();
	for (addr = gup->addr; addr < end; addr = next) {
		if (nr != gup->nr_pages_per_call)
			break;
		next = addr + (unsigned long)nr * ZD_PAGE_SIZE;
		if (next > end) {
			next = end;
			nr = (long)((next - addr) / ZD_PAGE_SIZE);
		}
		switch (cmd) {
		case GUP_FAST_BENCHMARK:
			nr = zd_get_user_pages_fast(mm, addr, (int)nr, gup->gup_flags, pages + i);
			break;
		case GUP_BASIC_TEST:
			nr = zd_get_user_pages(mm, addr, (unsigned long)nr, gup->gup_flags, pages + i);
			break;
		case PIN_FAST_BENCHMARK:
			nr = zd_pin_user_pages_fast(mm, addr, (int)nr, gup->gup_flags, pages + i);
			break;
		case PIN_BASIC_TEST:
			nr = zd_pin_user_pages(mm, addr, (unsigned long)nr, gup->gup_flags, pages + i);
			break;
		case PIN_LONGTERM_BENCHMARK:
			nr = zd_pin_user_pages(mm, addr, (unsigned long)nr,
					       gup->gup_flags | ZD_FOLL_LONGTERM, pages + i);
			break;
		case DUMP_USER_PAGES_TEST:
			if (gup->test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN)
				nr = zd_pin_user_pages(mm, addr, (unsigned long)nr, gup->gup_flags,
						       pages + i);
			else
				nr = zd_get_user_pages(mm, addr, (unsigned long)nr, gup->gup_flags,
						       pages + i);
			break;
		default:
			ret = -EINVAL;
			goto unlock;
		}
		if (nr <= 0)
			break;
		i += (unsigned long)nr;
	}
	gup->get_delta_usec = now_usec() - start_time;
	/* From here nr_pages is the number actually taken. */
	nr_pages = i;
	gup->size = addr - gup->addr;

	verify_dma_pinned(f, cmd, pages, nr_pages);
	if (cmd == DUMP_USER_PAGES_TEST)
		dump_pages_test(gup, pages, nr_pages);

	start_time = now_usec();
	put_back_pages(cmd, pages, nr_pages, gup->test_flags);
	gup->put_delta_usec = now_usec() - start_time;
unlock:
	if (needs_mmap_lock)
		zd_mmap_read_unlock(mm);
	free(pages);
	return ret;
}

static void pin_longterm_test_stop(struct gup_test_file *f)
{
	if (f->lt_pages) {
		if (f->lt_nr_pages)
			zd_unpin_user_pages(f->lt_pages, f->lt_nr_pages);
		free(f->lt_pages);
		f->lt_pages = NULL;
		f->lt_nr_pages = 0;
	}
}

static long pin_longterm_test_start(struct gup_test_file *f, struct zd_mm *mm,
				    const struct pin_longterm_test *args)
{
	unsigned int gup_flags = ZD_FOLL_LONGTERM;
	long nr_pages, cur_pages, ret = 0;
	struct zd_page **pages;
	bool fast;

	if (f->lt_pages)
		return -EINVAL;
	if (args->flags & ~(PIN_LONGTERM_TEST_FLAG_USE_WRITE | PIN_LONGTERM_TEST_FLAG_USE_FAST))
		return -EINVAL;
	if ((args->addr | args->size) & (ZD_PAGE_SIZE - 1))
		return -EINVAL;
	if (args->size > LONG_MAX)
		return -EINVAL;
	nr_pages = (long)(args->size / ZD_PAGE_SIZE);
	if (!nr_pages)
		return -EINVAL;
	pages = calloc((size_t)nr_pages, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	if (args->flags & PIN_LONGTERM_TEST_FLAG_USE_WRITE)
		gup_flags |= ZD_FOLL_WRITE;
	fast = args->flags & PIN_LONGTERM_TEST_FLAG_USE_FAST;

	if (!fast)
		zd_mmap_read_lock(mm);
	f->lt_pages = pages;
	f->lt_nr_pages = 0;
	while (nr_pages - (long)f->lt_nr_pages) {
		long remaining = nr_pages - (long)f->lt_nr_pages;
		unsigned long addr = args->addr + f->lt_nr_pages * ZD_PAGE_SIZE;

		if (fast)
			cur_pages = zd_pin_user_pages_fast(mm, addr, (int)remaining, gup_flags,
							   pages);
		else
			cur_pages = zd_pin_user_pages(mm, addr, (unsigned long)remaining,
						      gup_flags, pages);
		if (cur_pages < 0) {
			pin_longterm_test_stop(f);
			ret = cur_pages;
			break;
		}
		if (!cur_pages) {
			/* Linux would loop here for ever; the model's GUP never returns 0. */
			pin_longterm_test_stop(f);
			ret = -EFAULT;
			break;
		}
		f->lt_nr_pages += (unsigned long)cur_pages;
		pages += cur_pages;
	}
	if (!fast)
		zd_mmap_read_unlock(mm);
	return ret;
}

/* kmap_local_page + copy_to_user of each pinned page: what DMA would read. */
static long pin_longterm_test_read(struct gup_test_file *f, const uint64_t *user_addr)
{
	unsigned char *dst = (unsigned char *)(uintptr_t)*user_addr;

	if (!f->lt_pages)
		return -EINVAL;
	for (unsigned long i = 0; i < f->lt_nr_pages; i++) {
		const void *src = zd_page_address(f->lt_pages[i]);

		if (!src)
			return -EFAULT;
		memcpy(dst, src, ZD_PAGE_SIZE);
		dst += ZD_PAGE_SIZE;
	}
	return 0;
}

long gup_test_ioctl(struct gup_test_file *f, struct zd_mm *mm, unsigned int cmd, void *arg)
{
	switch (cmd) {
	case GUP_FAST_BENCHMARK:
	case PIN_FAST_BENCHMARK:
	case PIN_LONGTERM_BENCHMARK:
	case GUP_BASIC_TEST:
	case PIN_BASIC_TEST:
	case DUMP_USER_PAGES_TEST:
		return __gup_test_ioctl(f, mm, cmd, arg);
	case PIN_LONGTERM_TEST_START:
		return pin_longterm_test_start(f, mm, arg);
	case PIN_LONGTERM_TEST_STOP:
		pin_longterm_test_stop(f);
		return 0;
	case PIN_LONGTERM_TEST_READ:
		return pin_longterm_test_read(f, arg);
	default:
		return -EINVAL;
	}
}

void gup_test_release(struct gup_test_file *f)
{
	if (!f)
		return;
	pin_longterm_test_stop(f);
	free(f);
}
