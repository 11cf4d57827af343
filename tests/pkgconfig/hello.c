// SPDX-License-Identifier: MIT
/* A program built against the build tree through zonedev-uninstalled.pc. */
#include <stdio.h>
#include <zonedev/zonedev.h>

int main(void)
{
	struct zd_system_options o;
	struct zd_system *sys;
	struct zd_mm *mm;
	unsigned long a;
	char buf[6] = "";

	zd_system_options_init(&o);
	if (zd_system_create(&o, &sys) || zd_mm_create(sys, &mm))
		return 1;
	if (zd_mmap(mm, 0, 4096, ZD_PROT_READ | ZD_PROT_WRITE, ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS,
		    NULL, 0, 0, &a) || zd_cpu_write(mm, a, "hello", 6) || zd_cpu_read(mm, a, buf, 6))
		return 1;
	puts(buf);
	zd_mm_destroy(mm);
	zd_system_destroy(sys);
	return 0;
}
