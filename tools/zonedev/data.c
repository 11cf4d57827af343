// SPDX-License-Identifier: MIT
/*
 * data.c - the bytes a scenario's DATA names: "text", byte=0xAB len=SIZE
 * (SIZE copies of one byte) or pattern=SEED len=SIZE (the 32-bit
 * little-endian word at byte offset o holds SEED + o/4, the last word
 * possibly cut short), so integrity over megabytes is one line.
 */
#include <string.h>

#include "exec.h"

void zr_data_fill_range(const struct zr_data *d, uint64_t off, unsigned char *buf, size_t n)
{
	switch (d->kind) {
	case ZR_DATA_TEXT:
		memcpy(buf, d->text + off, n);
		break;
	case ZR_DATA_BYTE:
		memset(buf, d->byte, n);
		break;
	case ZR_DATA_PATTERN:
		for (size_t i = 0; i < n; i++) {
			uint64_t o = off + i;
			uint32_t w = d->seed + (uint32_t)(o / 4);

			buf[i] = (unsigned char)(w >> (8 * (o % 4)));
		}
		break;
	case ZR_DATA_NONE:
	default:
		memset(buf, 0, n);
		break;
	}
}
