// SPDX-License-Identifier: MIT
/*
 * src/lib/xarray.c - the radix tree behind the page cache.
 *
 * Models lib/xarray.c: a tree of 64-slot nodes; a node of shift s holds
 * entries (s == 0) or children covering 2^s indices each. The head grows
 * upwards when an index does not fit and shrinks back when only its first
 * slot is left; empty nodes are freed at once. Simplified as the header
 * says: the caller locks, readers are not RCU-safe.
 */
#include <errno.h>
#include <stdlib.h>

#include "xarray.h"

struct _zd_xa_node {
	unsigned char shift;		/* of the indices one slot covers */
	unsigned char offset;		/* in the parent */
	unsigned short count;		/* slots in use */
	struct _zd_xa_node *parent;
	void *slots[ZD_XA_CHUNK_SIZE];
};

static struct _zd_xa_node *node_alloc(unsigned int shift, struct _zd_xa_node *parent,
				      unsigned int offset)
{
	struct _zd_xa_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->shift = (unsigned char)shift;
	n->parent = parent;
	n->offset = (unsigned char)offset;
	return n;
}

static inline unsigned int node_offset(const struct _zd_xa_node *n, unsigned long index)
{
	return (unsigned int)(index >> n->shift) & (ZD_XA_CHUNK_SIZE - 1);
}

/* Does the tree under @head cover @index? (head->shift <= 54, so no overflow) */
static inline bool head_covers(const struct _zd_xa_node *head, unsigned long index)
{
	return (index >> (head->shift + ZD_XA_CHUNK_SHIFT)) == 0;
}

/*
 * Free @n and its now-empty ancestors; then shrink the head while it has
 * only slot 0 in use (xas_shrink).
 */
static void delete_empty(struct zd_xarray *xa, struct _zd_xa_node *n)
{
	while (n && n->count == 0) {
		struct _zd_xa_node *parent = n->parent;

		if (parent) {
			parent->slots[n->offset] = NULL;
			parent->count--;
		} else {
			xa->head = NULL;
		}
		free(n);
		n = parent;
	}
	while (xa->head && xa->head->shift && xa->head->count == 1 && xa->head->slots[0]) {
		struct _zd_xa_node *old = xa->head;

		xa->head = old->slots[0];
		xa->head->parent = NULL;
		xa->head->offset = 0;
		free(old);
	}
}

void *_zd_xa_load(struct zd_xarray *xa, unsigned long index)
{
	struct _zd_xa_node *n = xa->head;

	if (!n || !head_covers(n, index))
		return NULL;
	while (n->shift) {
		n = n->slots[node_offset(n, index)];
		if (!n)
			return NULL;
	}
	return n->slots[node_offset(n, index)];
}

int _zd_xa_insert(struct zd_xarray *xa, unsigned long index, void *entry)
{
	struct _zd_xa_node *n;
	unsigned int off;

	if (!entry || index > ZD_XA_MAX_INDEX)
		return -EINVAL;
	if (!xa->head) {
		xa->head = node_alloc(0, NULL, 0);
		if (!xa->head)
			return -ENOMEM;
	}
	/* xas_expand(): a new head above the old one until @index fits. */
	while (!head_covers(xa->head, index)) {
		struct _zd_xa_node *old = xa->head;
		struct _zd_xa_node *head;

		if (!old->count) {		/* an empty head just grows */
			old->shift += ZD_XA_CHUNK_SHIFT;
			continue;
		}
		head = node_alloc(old->shift + ZD_XA_CHUNK_SHIFT, NULL, 0);
		if (!head) {
			delete_empty(xa, old);
			return -ENOMEM;
		}
		head->slots[0] = old;
		head->count = 1;
		old->parent = head;
		xa->head = head;
	}
	/* xas_create(): children on the way down. */
	n = xa->head;
	while (n->shift) {
		struct _zd_xa_node *child;

		off = node_offset(n, index);
		child = n->slots[off];
		if (!child) {
			child = node_alloc(n->shift - ZD_XA_CHUNK_SHIFT, n, off);
			if (!child) {
				delete_empty(xa, n);
				return -ENOMEM;
			}
			n->slots[off] = child;
			n->count++;
		}
		n = child;
	}
	off = node_offset(n, index);
	if (n->slots[off])
		return -EBUSY;		/* the path existed: nothing was allocated */
	n->slots[off] = entry;
	n->count++;
	xa->nr++;
	return 0;
}

void *_zd_xa_erase(struct zd_xarray *xa, unsigned long index)
{
	struct _zd_xa_node *n = xa->head;
	unsigned int off;
	void *entry;

	if (!n || !head_covers(n, index))
		return NULL;
	while (n->shift) {
		n = n->slots[node_offset(n, index)];
		if (!n)
			return NULL;
	}
	off = node_offset(n, index);
	entry = n->slots[off];
	if (!entry)
		return NULL;
	n->slots[off] = NULL;
	n->count--;
	xa->nr--;
	delete_empty(xa, n);
	return entry;
}

/* The first entry in [*indexp, max] under @n, which covers indices from @base. */
static void *find_in(const struct _zd_xa_node *n, unsigned long base, unsigned long *indexp,
		     unsigned long max)
{
	unsigned int off = 0;

	if (*indexp > base)
		off = (unsigned int)((*indexp - base) >> n->shift);
	for (; off < ZD_XA_CHUNK_SIZE; off++) {
		unsigned long first = base + ((unsigned long)off << n->shift);
		unsigned long from;
		void *slot = n->slots[off];

		if (first > max)
			break;
		if (!slot)
			continue;
		if (!n->shift) {
			*indexp = first;
			return slot;
		}
		from = first > *indexp ? first : *indexp;
		slot = find_in(slot, first, &from, max);
		if (slot) {
			*indexp = from;
			return slot;
		}
	}
	return NULL;
}

void *_zd_xa_find(struct zd_xarray *xa, unsigned long *indexp, unsigned long max)
{
	unsigned long index = *indexp;
	void *entry;

	if (!xa->head || index > max || !head_covers(xa->head, index))
		return NULL;
	entry = find_in(xa->head, 0, &index, max);
	if (entry)
		*indexp = index;
	return entry;
}

static void destroy_node(struct _zd_xa_node *n)
{
	if (n->shift)
		for (unsigned int i = 0; i < ZD_XA_CHUNK_SIZE; i++)
			if (n->slots[i])
				destroy_node(n->slots[i]);
	free(n);
}

void _zd_xa_destroy(struct zd_xarray *xa)
{
	if (xa->head)
		destroy_node(xa->head);
	_zd_xa_init(xa);
}
