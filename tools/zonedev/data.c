// SPDX-License-Identifier: MIT
/*
 * data.c - the bytes a scenario's DATA names: "text", byte=0xAB len=SIZE
 * (SIZE copies of one byte) or pattern=SEED len=SIZE (the 32-bit
 * little-endian word at byte offset o holds SEED + o/4, the last word
 * possibly cut short), so integrity over megabytes is one line.
 */
#include <string.h>

#include "runner.h"

void zr_data_fill(const struct zr_data *d, unsigned char *buf)
{
	switch (d->kind) {
	case ZR_DATA_TEXT:
		memcpy(buf, d->text, d->len);
		break;
	case ZR_DATA_BYTE:
		memset(buf, d->byte, d->len);
		break;
	case ZR_DATA_PATTERN:
		for (uint64_t o = 0; o < d->len; o++) {
			uint32_t w = d->seed + (uint32_t)(o / 4);

			buf[o] = (unsigned char)(w >> (8 * (o % 4)));
		}
		break;
	case ZR_DATA_NONE:
	default:
		memset(buf, 0, d->len);
		break;
	}
}
