// SPDX-License-Identifier: MIT
/*
 * tests/kselftest/gup_test.c - the kernel's gup_test program as
 * run_vmtests.sh runs it: the three default runs (-u, -a, and the page
 * dump -ct -F 0x1 0 19 0x1000) and run_gup_matrix, ported to the model.
 *
 * Counterparts: tools/testing/selftests/mm/gup_test.c (the getopt
 * program: map a file, fault every page in from "user space", one ioctl
 * per thread), run_gup_matrix of tools/testing/selftests/mm/run_vmtests.sh
 * ({-t, -T, -H} x {-u, -U, -a, -b, -L} x {-w, -W} x {-S, private} x
 * {-n 1, 512, 123, -1}), and the ioctls of mm/gup_test.c
 * (gup_test_dev.c). Each run is one TAP test named as run_vmtests.sh
 * names it ("gup_test -t -u -w -S -n 1") and passes when its ioctl returns
 * 0, as in the kernel. The mapping is of /dev/zero: MAP_PRIVATE makes it
 * anonymous, MAP_SHARED shared anonymous (shmem). -H (hugetlb) is skipped:
 * the model has no hugetlbfs. One thread per run (the matrix's default).
 *
 * Beyond the kernel's check, the port fails a run whose ioctl stopped
 * short of the whole range (the program only prints "truncated"; every
 * page was faulted in first, so Linux takes them all) or whose pins the
 * ioctl's own verification found not dma-pinned or not long-term
 * pinnable (a kernel WARN).
 *
 * The size is the kernel's default, 128 MiB (GUP_TEST_MB in the
 * environment changes it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gup_test_dev.h"
#include "ksft.h"
#include "vm_util.h"

#define MB (1ul << 20)
#define FOLL_WRITE 0x01	/* as the kernel's program: copied from mm.h */

/* Known differences from the kernel being fixed: reported XFAIL until then. */
static const struct ksft_pending pending[] = {
	{ NULL, NULL, NULL },	/* none */
};

static unsigned long size = 128 * MB;

struct run {
	unsigned int cmd;
	int thp;		/* -t: 1, -T: 0, none: -1 */
	bool hugetlb;		/* -H */
	bool shared;		/* -S */
	bool write;		/* -w (default) / -W */
	long nr_pages;		/* -n; -1: the whole range in one call */
	unsigned int gup_flags;	/* -F */
	unsigned int test_flags;
	uint32_t which_pages[GUP_TEST_MAX_PAGES_TO_DUMP];
};

static const char *cmd_to_str(unsigned long cmd)
{
	switch (cmd) {
	case GUP_FAST_BENCHMARK:
		return "GUP_FAST_BENCHMARK";
	case PIN_FAST_BENCHMARK:
		return "PIN_FAST_BENCHMARK";
	case PIN_LONGTERM_BENCHMARK:
		return "PIN_LONGTERM_BENCHMARK";
	case GUP_BASIC_TEST:
		return "GUP_BASIC_TEST";
	case PIN_BASIC_TEST:
		return "PIN_BASIC_TEST";
	case DUMP_USER_PAGES_TEST:
		return "DUMP_USER_PAGES_TEST";
	}
	return "Unknown command";
}

/* One gup_test invocation: main() then gup_thread(), on a fresh machine. */
static void run_gup_test(const struct run *r, const char *args)
{
	struct gup_test gup = { 0 };
	struct gup_test_file *gup_fd;
	unsigned long p, addr;
	int status;

	log_test_start("gup_test %s", args);
	if (r->hugetlb) {
		/* mmap(MAP_HUGETLB) fails: no free huge page without hugetlbfs. */
		ksft_print_msg("mmap: Cannot allocate memory: the model has no hugetlbfs\n");
		log_test_result(KSFT_SKIP);
		goto out;
	}
	gup.nr_pages_per_call = (uint32_t)(r->nr_pages < 0 ? (long)(size / ZD_PAGE_SIZE) :
					   r->nr_pages);
	gup.gup_flags = r->gup_flags | (r->write ? FOLL_WRITE : 0);
	gup.test_flags = r->test_flags;
	memcpy(gup.which_pages, r->which_pages, sizeof(gup.which_pages));

	/* mmap of /dev/zero: private is anonymous memory, shared is shmem. */
	addr = ksft_mmap(ksft_mm, size, ZD_PROT_READ | ZD_PROT_WRITE,
			 (r->shared ? ZD_MAP_SHARED : ZD_MAP_PRIVATE) | ZD_MAP_ANONYMOUS, NULL);
	if (addr == MAP_FAILED_ADDR) {
		ksft_print_msg("mmap: failed\n");
		log_test_result(KSFT_FAIL);
		goto out;
	}
	gup.addr = addr;
	if (r->thp == 1)
		zd_madvise(ksft_mm, addr, size, ZD_MADV_HUGEPAGE);
	else if (r->thp == 0)
		zd_madvise(ksft_mm, addr, size, ZD_MADV_NOHUGEPAGE);
	/* Fault them in here, from user space. */
	for (p = addr; p < addr + size; p += ZD_PAGE_SIZE) {
		char zero = 0;

		if (zd_cpu_write(ksft_mm, p, &zero, 1)) {
			ksft_print_msg("fault-in at %#lx failed\n", p);
			log_test_result(KSFT_FAIL);
			goto unmap;
		}
	}

	gup_fd = gup_test_open();
	gup.size = size;
	status = (int)gup_test_ioctl(gup_fd, ksft_mm, r->cmd, &gup);
	if (!status) {
		if (r->cmd == PIN_FAST_BENCHMARK || r->cmd == GUP_FAST_BENCHMARK ||
		    r->cmd == PIN_LONGTERM_BENCHMARK)
			ksft_print_msg("%s: Time: get:%llu put:%llu us%s\n", cmd_to_str(r->cmd),
				       (unsigned long long)gup.get_delta_usec,
				       (unsigned long long)gup.put_delta_usec,
				       gup.size != size ? ", truncated" : "");
		else
			ksft_print_msg("%s: done\n", cmd_to_str(r->cmd));
		if (gup.size != size)
			ksft_model_fail("truncated (size: %llu of %lu): every page was faulted "
					"in, Linux takes them all\n",
					(unsigned long long)gup.size, size);
	}
	if (gup_test_warnings(gup_fd))
		ksft_model_fail("the ioctl's verification warned\n");
	gup_test_release(gup_fd);
	if (status)
		ksft_print_msg("ioctl status %d\n", status);
	log_test_result(status ? KSFT_FAIL : KSFT_PASS);
unmap:
	zd_munmap(ksft_mm, addr, size);
out:
	ksft_test_end();
}

int main(void)
{
	static const struct { const char *opt; unsigned int cmd; } cmds[] = {
		{ "-u", GUP_FAST_BENCHMARK }, { "-U", GUP_BASIC_TEST },
		{ "-a", PIN_FAST_BENCHMARK }, { "-b", PIN_BASIC_TEST },
		{ "-L", PIN_LONGTERM_BENCHMARK },
	};
	static const long nums[] = { 1, 512, 123, -1 };
	const char *env = getenv("GUP_TEST_MB");
	unsigned int plan;
	char args[128];

	if (env && atol(env) > 0)
		size = (unsigned long)atol(env) * MB;
	/* The mapping, its THPs' alignment slack and the pinned copies. */
	ksft_ram = ((2 * size + 32 * MB) + (4 * MB - 1)) & ~(4 * MB - 1);

	ksft_print_header();
	ksft_set_pending(pending, ARRAY_SIZE(pending));
	plan = 3 + 3 * ARRAY_SIZE(cmds) * 2 * 2 * ARRAY_SIZE(nums);
	ksft_set_plan(plan);
	ksft_print_msg("[INFO] gup_test with -m %lu (MiB)\n", size / MB);

	/* run_vmtests.sh: the get_user_pages_fast() and pin_user_pages_fast() benchmarks. */
	run_gup_test(&(struct run){ .cmd = GUP_FAST_BENCHMARK, .thp = -1, .write = true,
				    .nr_pages = 1 }, "-u");
	run_gup_test(&(struct run){ .cmd = PIN_FAST_BENCHMARK, .thp = -1, .write = true,
				    .nr_pages = 1 }, "-a");
	/* Dump pages 0, 19 and 4096 (1-based 1, 20, 4097), with get_user_pages. */
	run_gup_test(&(struct run){ .cmd = DUMP_USER_PAGES_TEST, .thp = 1, .write = true,
				    .nr_pages = 1, .gup_flags = 0x1,
				    .which_pages = { 1, 20, 0x1000 + 1 } },
		     "-ct -F 0x1 0 19 0x1000");

	/* run_gup_matrix */
	for (int huge = 0; huge < 3; huge++) {
		for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
			for (int write = 1; write >= 0; write--) {
				for (int share = 1; share >= 0; share--) {
					for (size_t n = 0; n < ARRAY_SIZE(nums); n++) {
						struct run r = {
							.cmd = cmds[c].cmd,
							.thp = huge == 0 ? 1 : huge == 1 ? 0 : -1,
							.hugetlb = huge == 2,
							.shared = share,
							.write = write,
							.nr_pages = nums[n],
						};

						snprintf(args, sizeof(args), "%s%s %s %s%s-n %ld",
							 huge == 0 ? "-t" : huge == 1 ? "-T" : "-H",
							 huge == 2 ? " -m 256" : "", cmds[c].opt,
							 write ? "-w" : "-W", share ? " -S " : " ",
							 nums[n]);
						run_gup_test(&r, args);
					}
				}
			}
		}
	}
	return ksft_finished();
}
