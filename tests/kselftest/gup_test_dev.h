/* SPDX-License-Identifier: MIT */
/*
 * tests/kselftest/gup_test_dev.h - the gup_test debugfs file, as a test
 * helper over the zd_ GUP API.
 *
 * Models mm/gup_test.c and its uapi mm/gup_test.h (newest kernel): the
 * commands and argument records keep the kernel's names and layout. The
 * ioctl runs on behalf of the process given as @mm (the kernel uses
 * current->mm). Where the kernel copies to a user buffer
 * (PIN_LONGTERM_TEST_READ), the buffer here is the test program's own
 * memory: the model's user memory lives in zd_mm address spaces, and the
 * kernel test only compares the bytes.
 */
#ifndef ZD_GUP_TEST_DEV_H
#define ZD_GUP_TEST_DEV_H

#include <stdint.h>
#include <zonedev/zonedev.h>

#define GUP_FAST_BENCHMARK	1
#define PIN_FAST_BENCHMARK	2
#define PIN_LONGTERM_BENCHMARK	3
#define GUP_BASIC_TEST		4
#define PIN_BASIC_TEST		5
#define DUMP_USER_PAGES_TEST	6
#define PIN_LONGTERM_TEST_START	7
#define PIN_LONGTERM_TEST_STOP	8
#define PIN_LONGTERM_TEST_READ	9

#define GUP_TEST_MAX_PAGES_TO_DUMP		8
#define GUP_TEST_FLAG_DUMP_PAGES_USE_PIN	0x1

struct gup_test {
	uint64_t get_delta_usec;
	uint64_t put_delta_usec;
	uint64_t addr;
	uint64_t size;
	uint32_t nr_pages_per_call;
	uint32_t gup_flags;
	uint32_t test_flags;
	/* 1-based page indices to dump; 0 means unused. */
	uint32_t which_pages[GUP_TEST_MAX_PAGES_TO_DUMP];
};

#define PIN_LONGTERM_TEST_FLAG_USE_WRITE	1
#define PIN_LONGTERM_TEST_FLAG_USE_FAST		2

struct pin_longterm_test {
	uint64_t addr;
	uint64_t size;
	uint32_t flags;
};

/* An open /sys/kernel/debug/gup_test. */
struct gup_test_file;

struct gup_test_file *gup_test_open(void);
/* release(): stops a long-term pin session still running, frees @f. */
void gup_test_release(struct gup_test_file *f);

/*
 * gup_test_ioctl - the file's unlocked_ioctl for process @mm: 0 or a
 * negative errno, as the kernel's gup_test_ioctl. For the benchmark and
 * test commands @arg is a struct gup_test (size rewritten to the length
 * processed, timings filled in); PIN_LONGTERM_TEST_START takes a struct
 * pin_longterm_test, _READ a uint64_t holding the address of a buffer of
 * the pinned size, _STOP nothing.
 */
long gup_test_ioctl(struct gup_test_file *f, struct zd_mm *mm, unsigned int cmd, void *arg);

/*
 * The kernel's WARNs (a PIN that is not dma-pinned, a long-term pin of a
 * folio that is not long-term pinnable) print the page and count here; a
 * test fails on any.
 */
unsigned int gup_test_warnings(const struct gup_test_file *f);

/*
 * The @i-th page a running PIN_LONGTERM_TEST session holds, or NULL: a
 * test may look at what was pinned (the kernel's test cannot).
 */
struct zd_page *gup_test_longterm_page(const struct gup_test_file *f, unsigned long i);

#endif /* ZD_GUP_TEST_DEV_H */
