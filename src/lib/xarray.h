/* SPDX-License-Identifier: MIT */
/*
 * src/lib/xarray.h - a sparse array of pointers indexed by unsigned long.
 *
 * Models include/linux/xarray.h as the page cache uses it (xa_load,
 * xa_insert, xa_erase, xa_find), reduced to a plain radix tree of 64-slot
 * nodes. Simplified: no marks, no multi-index entries, no value entries,
 * no internal lock and no RCU-safe readers: the owner serialises every
 * call with its own lock (the page cache's xa_lock).
 */
#ifndef ZD_LIB_XARRAY_H
#define ZD_LIB_XARRAY_H

#include <stdbool.h>

#define ZD_XA_CHUNK_SHIFT	6
#define ZD_XA_CHUNK_SIZE	(1u << ZD_XA_CHUNK_SHIFT)
/* Indices must stay below 2^60 (ten levels), so no index arithmetic overflows. */
#define ZD_XA_MAX_INDEX		((1ul << 60) - 1)

struct _zd_xa_node;

struct zd_xarray {
	struct _zd_xa_node *head;	/* NULL when empty */
	unsigned long nr;		/* entries stored */
};

static inline void _zd_xa_init(struct zd_xarray *xa)
{
	xa->head = NULL;
	xa->nr = 0;
}

static inline bool _zd_xa_empty(const struct zd_xarray *xa)
{
	return xa->nr == 0;
}

/* xa_load(): the entry at @index, or NULL. */
void *_zd_xa_load(struct zd_xarray *xa, unsigned long index);

/*
 * xa_insert(): store @entry (not NULL) at @index if the slot is empty.
 * 0, -EBUSY (occupied), -EINVAL (index above ZD_XA_MAX_INDEX or NULL
 * entry), -ENOMEM (a node could not be allocated; nothing changed).
 */
int _zd_xa_insert(struct zd_xarray *xa, unsigned long index, void *entry);

/* xa_erase(): remove and return the entry at @index (NULL if none). Frees empty nodes. */
void *_zd_xa_erase(struct zd_xarray *xa, unsigned long index);

/*
 * xa_find(): the first entry at an index in [*indexp, max]; sets *indexp
 * to its index. NULL (and *indexp unchanged) if there is none.
 */
void *_zd_xa_find(struct zd_xarray *xa, unsigned long *indexp, unsigned long max);

/* xa_destroy(): free every node; the entries themselves are the caller's. */
void _zd_xa_destroy(struct zd_xarray *xa);

#endif /* ZD_LIB_XARRAY_H */
