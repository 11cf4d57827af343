// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_mmu_notifier.c - interval notifiers (mm/mmu_notifier.c):
 * the mm's sequence parity, the read_begin/read_retry protocol, which
 * intervals an invalidation calls, inserts and removes while an
 * invalidation runs (deferred, and remove waiting for its end), the
 * non-blocking start, and the RELEASE pass of exit.
 *
 * A recording notifier (struct rec) logs every invalidate() call: event,
 * range, cur_seq, owner, whether it was blockable, and the mm's VMA count
 * at the time (to see that RELEASE comes before the unmap).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define REC_MAX 16

struct rec_call {
	enum zd_mmu_notifier_event event;
	unsigned long start, end, cur_seq;
	void *owner;
	bool blockable;
	unsigned long nr_vmas;
};

struct rec {
	struct zd_mmu_interval_notifier sub;	/* first: container-of by cast */
	struct zd_mutex *lock;			/* the "driver lock" */
	bool refuse_nonblock;			/* return false for non-blockable ranges */
	int nr;
	struct rec_call c[REC_MAX];
};

static bool rec_invalidate(struct zd_mmu_interval_notifier *sub,
			   const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct rec *r = (struct rec *)sub;

	if (!zd_mmu_notifier_range_blockable(range) && r->refuse_nonblock)
		return false;
	zd_mutex_lock(r->lock);
	zd_mmu_interval_set_seq(sub, cur_seq);
	if (r->nr < REC_MAX)
		r->c[r->nr] = (struct rec_call){
			.event = range->event, .start = range->start, .end = range->end,
			.cur_seq = cur_seq, .owner = range->owner,
			.blockable = zd_mmu_notifier_range_blockable(range),
			.nr_vmas = zd_mm_nr_vmas(range->mm),
		};
	r->nr++;
	zd_mutex_unlock(r->lock);
	return true;
}

static const struct zd_mmu_interval_notifier_ops rec_ops = { .invalidate = rec_invalidate };

static void rec_insert(struct rec *r, struct zd_mm *mm, unsigned long start, unsigned long len)
{
	memset(r, 0, sizeof(*r));
	r->lock = zd_mutex_create();
	ZT_TRUE(r->lock);
	ZT_EQ(zd_mmu_interval_notifier_insert(&r->sub, mm, start, len, &rec_ops), 0);
}

static void rec_remove(struct rec *r)
{
	zd_mmu_interval_notifier_remove(&r->sub);
	zd_mutex_destroy(r->lock);
}

static unsigned long mm_seq(struct zd_mm *mm)
{
	return zd_atomic_load_relaxed(&mm->notifier_subscriptions->invalidate_seq);
}

static void range_start(struct zd_mmu_notifier_range *r, struct zd_mm *mm,
			enum zd_mmu_notifier_event ev, unsigned long start, unsigned long end)
{
	zd_mmu_notifier_range_init(r, ev, 0, mm, start, end);
	zd_mmu_notifier_invalidate_range_start(r);
}

/* ---- sequence numbers ---- */

/*
 * Even while idle; odd (and given to invalidate() as cur_seq) from the
 * start of an invalidation that hits an interval to its end; an
 * invalidation that hits none leaves it even. Nested ranges keep it odd
 * until the last one ends.
 */
static void test_seq_parity(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r1, r2, miss;
	struct rec a;
	unsigned long s0, seq;

	rec_insert(&a, fx->mm, 0x100000, 4 * PG);
	s0 = mm_seq(fx->mm);
	ZT_EQ(s0 & 1, 0);
	seq = zd_mmu_interval_read_begin(&a.sub);
	ZT_EQ(seq & 1, 1);
	ZT_NE(seq, s0);

	range_start(&miss, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x200000, 0x201000);
	ZT_EQU(mm_seq(fx->mm), s0);
	ZT_EQ(a.nr, 0);
	zd_mmu_notifier_invalidate_range_end(&miss);
	ZT_EQU(mm_seq(fx->mm), s0);

	range_start(&r1, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x100000, 0x101000);
	ZT_EQU(mm_seq(fx->mm), s0 | 1);
	ZT_EQ(a.nr, 1);
	ZT_EQU(a.c[0].cur_seq, s0 | 1);
	ZT_TRUE(a.c[0].blockable);
	range_start(&r2, fx->mm, ZD_MMU_NOTIFY_UNMAP, 0x102000, 0x103000);
	ZT_EQ(a.nr, 2);
	ZT_EQU(a.c[1].cur_seq, s0 | 1);		/* same round */
	zd_mmu_notifier_invalidate_range_end(&r1);
	ZT_EQU(mm_seq(fx->mm), s0 | 1);		/* r2 still active */
	zd_mmu_notifier_invalidate_range_end(&r2);
	ZT_EQU(mm_seq(fx->mm), s0 + 2);

	/* The next round hands out the next odd number. */
	range_start(&r1, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0, ULONG_MAX);
	ZT_EQU(a.c[2].cur_seq, s0 + 3);
	zd_mmu_notifier_invalidate_range_end(&r1);
	ZT_EQU(mm_seq(fx->mm), s0 + 4);
	rec_remove(&a);
}

/* ---- read_begin / read_retry ---- */

static void test_read_begin_retry(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r;
	struct rec a;
	unsigned long seq, seq2;

	rec_insert(&a, fx->mm, 0x100000, 16 * PG);
	seq = zd_mmu_interval_read_begin(&a.sub);
	ZT_TRUE(!zd_mmu_interval_read_retry(&a.sub, seq));
	ZT_TRUE(!zd_mmu_interval_check_retry(&a.sub, seq));

	/* An invalidation of another interval does not disturb this one. */
	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x110000, 0x120000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_TRUE(!zd_mmu_interval_read_retry(&a.sub, seq));

	/* One of this interval: the read must be retried, from its start on. */
	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x10f000, 0x110000);
	ZT_TRUE(zd_mmu_interval_read_retry(&a.sub, seq));
	ZT_TRUE(zd_mmu_interval_check_retry(&a.sub, seq));
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_TRUE(zd_mmu_interval_read_retry(&a.sub, seq));

	seq2 = zd_mmu_interval_read_begin(&a.sub);
	ZT_NE(seq2, seq);
	ZT_TRUE(!zd_mmu_interval_read_retry(&a.sub, seq2));
	ZT_EQ(a.nr, 1);
	ZT_EQ(a.c[0].event, ZD_MMU_NOTIFY_CLEAR);
	ZT_EQU(a.c[0].start, 0x10f000);
	ZT_EQU(a.c[0].end, 0x110000);
	rec_remove(&a);
}

/* A reader on another thread: read_begin, then tell the main thread. */
struct reader {
	struct zd_mmu_interval_notifier *sub;
	_Atomic int done;
	unsigned long seq;
};

static void *reader_fn(void *arg)
{
	struct reader *rd = arg;

	rd->seq = zd_mmu_interval_read_begin(rd->sub);
	zd_atomic_store_release(&rd->done, 1);
	return NULL;
}

/*
 * read_begin on @sub from another thread (@rd): still waiting after 50 ms
 * while @r runs; @r ended, the thread joined.
 */
static void read_begin_waits_for(struct reader *rd, struct zd_mmu_interval_notifier *sub,
				 struct zd_mmu_notifier_range *r)
{
	struct zd_thread *t;

	*rd = (struct reader){ .sub = sub };
	ZT_EQ(zd_thread_create(&t, reader_fn, rd), 0);
	zt_sleep_ms(50);
	ZT_EQ(zd_atomic_load_acquire(&rd->done), 0);
	zd_mmu_notifier_invalidate_range_end(r);
	zd_thread_join(t);
}

/*
 * read_begin sleeps while an invalidation that called this interval's
 * invalidate() is running (its page-table change may not be done yet),
 * and returns once it ends; the sequence it returns is then current.
 */
static void test_read_begin_waits(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r, other;
	struct reader rd = { 0 };
	struct zd_thread *t;
	struct rec a, b;

	rec_insert(&a, fx->mm, 0x100000, 16 * PG);
	rec_insert(&b, fx->mm, 0x400000, 16 * PG);
	range_start(&r, fx->mm, ZD_MMU_NOTIFY_UNMAP, 0x100000, 0x110000);

	/* b was not invalidated: its reader does not wait, though the mm seq is odd. */
	rd.sub = &b.sub;
	ZT_EQ(zd_thread_create(&t, reader_fn, &rd), 0);
	zd_thread_join(t);
	ZT_EQ(zd_atomic_load_acquire(&rd.done), 1);

	rd = (struct reader){ .sub = &a.sub };
	ZT_EQ(zd_thread_create(&t, reader_fn, &rd), 0);
	zt_sleep_ms(50);
	ZT_EQ(zd_atomic_load_acquire(&rd.done), 0);
	/* Another range ending does not end the round. */
	range_start(&other, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x500000, 0x501000);
	zd_mmu_notifier_invalidate_range_end(&other);
	zt_sleep_ms(20);
	ZT_EQ(zd_atomic_load_acquire(&rd.done), 0);
	zd_mmu_notifier_invalidate_range_end(&r);
	zd_thread_join(t);
	ZT_EQ(zd_atomic_load_acquire(&rd.done), 1);
	ZT_TRUE(!zd_mmu_interval_read_retry(&a.sub, rd.seq));
	rec_remove(&a);
	rec_remove(&b);
}

/* ---- which intervals are called ---- */

/*
 *   a [0x100000, 0x102000)   b [0x102000, 0x104000)   c [0x200000, 0x300000)
 * Ranges are half-open: one ending at b's start does not touch b.
 */
static void test_overlap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r;
	struct rec a, b, c;
	int owner;

	/* inserted out of order: the list keeps them sorted */
	rec_insert(&c, fx->mm, 0x200000, 0x100000);
	rec_insert(&b, fx->mm, 0x102000, 2 * PG);
	rec_insert(&a, fx->mm, 0x100000, 2 * PG);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x101000, 0x102000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr, 1);
	ZT_EQ(b.nr, 0);
	ZT_EQ(c.nr, 0);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_PROTECTION_VMA, 0x101000, 0x103000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr, 2);
	ZT_EQ(b.nr, 1);
	ZT_EQ(c.nr, 0);
	ZT_EQ(b.c[0].event, ZD_MMU_NOTIFY_PROTECTION_VMA);
	ZT_EQU(b.c[0].start, 0x101000);
	ZT_EQU(b.c[0].end, 0x103000);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x104000, 0x200000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr + b.nr + c.nr, 3);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x2ff000, 0x400000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(c.nr, 1);

	/* The owner reaches the callback (MIGRATE, EXCLUSIVE). */
	zd_mmu_notifier_range_init_owner(&r, ZD_MMU_NOTIFY_MIGRATE, 0, fx->mm, 0, 0x300000, &owner);
	zd_mmu_notifier_invalidate_range_start(&r);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr, 3);
	ZT_EQ(b.nr, 2);
	ZT_EQ(c.nr, 2);
	ZT_PTR_EQ(a.c[2].owner, &owner);
	ZT_EQ(c.c[1].event, ZD_MMU_NOTIFY_MIGRATE);
	ZT_PTR_EQ(a.c[0].owner, NULL);
	rec_remove(&a);
	rec_remove(&b);
	rec_remove(&c);
}

static void test_insert_errors(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_interval_notifier sub;

	ZT_EQ(zd_mmu_interval_notifier_insert(&sub, fx->mm, 0x1000, 0, &rec_ops), -EOVERFLOW);
	ZT_EQ(zd_mmu_interval_notifier_insert(&sub, fx->mm, ULONG_MAX - PG + 1, 2 * PG, &rec_ops),
	      -EOVERFLOW);
	/* up to the last address is fine */
	ZT_EQ(zd_mmu_interval_notifier_insert(&sub, fx->mm, ULONG_MAX - PG + 1, PG, &rec_ops), 0);
	ZT_EQU(sub.last, ULONG_MAX);
	zd_mmu_interval_notifier_remove(&sub);
}

/* ---- insert and remove while an invalidation runs ---- */

/*
 * An interval inserted while an invalidation that hit another runs is
 * deferred: this round does not call it, read_begin waits for the round
 * to end (the round may have missed it), and the next round calls it.
 */
static void test_insert_during_invalidation(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r;
	struct reader rd = { 0 };
	struct rec a, b;

	rec_insert(&a, fx->mm, 0x100000, 16 * PG);
	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0, ULONG_MAX);
	ZT_EQ(a.nr, 1);
	rec_insert(&b, fx->mm, 0x100000, 16 * PG);
	ZT_TRUE(!b.sub.in_itree);
	ZT_EQU(zd_atomic_load_relaxed(&b.sub.invalidate_seq), mm_seq(fx->mm));

	read_begin_waits_for(&rd, &b.sub, &r);
	ZT_EQ(zd_atomic_load_acquire(&rd.done), 1);
	ZT_TRUE(b.sub.in_itree);
	ZT_EQ(b.nr, 0);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x100000, 0x101000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr, 2);
	ZT_EQ(b.nr, 1);
	ZT_TRUE(zd_mmu_interval_read_retry(&b.sub, rd.seq));
	rec_remove(&a);
	rec_remove(&b);
}

/*
 * Inserted while only invalidations that hit nothing run: it goes on the
 * list at once, but the mm's sequence turns odd and the new interval's
 * read_begin waits until they end (they ran without telling it).
 */
static void test_insert_during_miss(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r;
	struct reader rd = { 0 };
	struct rec b;
	unsigned long s0 = mm_seq(fx->mm);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x100000, 0x101000);
	ZT_EQU(mm_seq(fx->mm), s0);
	rec_insert(&b, fx->mm, 0x100000, PG);
	ZT_TRUE(b.sub.in_itree);
	ZT_EQU(mm_seq(fx->mm), s0 | 1);
	read_begin_waits_for(&rd, &b.sub, &r);
	ZT_EQU(mm_seq(fx->mm), s0 + 2);
	ZT_EQ(b.nr, 0);
	rec_remove(&b);
}

struct remover {
	struct zd_mmu_interval_notifier *sub;
	_Atomic int done;
};

static void *remover_fn(void *arg)
{
	struct remover *rm = arg;

	zd_mmu_interval_notifier_remove(rm->sub);
	zd_atomic_store_release(&rm->done, 1);
	return NULL;
}

/*
 * remove during an invalidation waits for it to end (the callback may be
 * running on another thread), and the interval is gone afterwards. A
 * deferred insert removed before the round ends is simply dropped.
 */
static void test_remove_during_invalidation(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r;
	struct remover rm = { 0 };
	struct zd_thread *t;
	struct rec a, b, keep;

	rec_insert(&a, fx->mm, 0x100000, 16 * PG);
	rec_insert(&keep, fx->mm, 0x100000, 16 * PG);
	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0, ULONG_MAX);
	ZT_EQ(a.nr, 1);

	rm.sub = &a.sub;
	ZT_EQ(zd_thread_create(&t, remover_fn, &rm), 0);
	zt_sleep_ms(50);
	ZT_EQ(zd_atomic_load_acquire(&rm.done), 0);

	/* deferred insert, removed before the round ends: no wait */
	rec_insert(&b, fx->mm, 0x100000, PG);
	ZT_TRUE(b.sub.deferred);
	rec_remove(&b);

	zd_mmu_notifier_invalidate_range_end(&r);
	zd_thread_join(t);
	ZT_EQ(zd_atomic_load_acquire(&rm.done), 1);
	zd_mutex_destroy(a.lock);

	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0, ULONG_MAX);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr, 1);
	ZT_EQ(b.nr, 0);
	ZT_EQ(keep.nr, 2);
	ZT_TRUE(zd_list_empty(&fx->mm->notifier_subscriptions->deferred_list));
	rec_remove(&keep);
	ZT_TRUE(zd_list_empty(&fx->mm->notifier_subscriptions->itree));
}

/* ---- non-blocking ranges ---- */

/*
 * A non-blocking start (the OOM reaper's) gives a non-blockable range; an
 * interval may refuse it: -EAGAIN, and the round is over (no _end).
 */
static void test_nonblock(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_mmu_notifier_range r;
	struct rec a;
	unsigned long s0;

	rec_insert(&a, fx->mm, 0x100000, PG);
	s0 = mm_seq(fx->mm);
	zd_mmu_notifier_range_init(&r, ZD_MMU_NOTIFY_UNMAP, ZD_MMU_NOTIFIER_RANGE_BLOCKABLE,
				   fx->mm, 0, ULONG_MAX);
	ZT_EQ(zd_mmu_notifier_invalidate_range_start_nonblock(&r), 0);
	ZT_TRUE(!a.c[0].blockable);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQU(mm_seq(fx->mm), s0 + 2);

	a.refuse_nonblock = true;
	ZT_EQ(zd_mmu_notifier_invalidate_range_start_nonblock(&r), -EAGAIN);
	ZT_EQU(mm_seq(fx->mm), s0 + 4);
	ZT_EQ(fx->mm->notifier_subscriptions->active_invalidate_ranges, 0);
	ZT_EQ(a.nr, 1);
	rec_remove(&a);
}

static bool refuse_invalidate(struct zd_mmu_interval_notifier *sub,
			      const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	(void)range;
	zd_mmu_interval_set_seq(sub, cur_seq);
	return false;
}

/*
 * false from a blockable range is a driver bug (the kernel WARNs): it is
 * reported, and the invalidation goes on to the other intervals.
 */
static void test_refused_blockable_reported(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	static const struct zd_mmu_interval_notifier_ops refuse_ops = {
		.invalidate = refuse_invalidate,
	};
	struct zd_mmu_interval_notifier bad;
	struct zd_mmu_notifier_range r;
	struct rec a;

	ZT_EQ(zd_mmu_interval_notifier_insert(&bad, fx->mm, 0x100000, PG, &refuse_ops), 0);
	rec_insert(&a, fx->mm, 0x100000, PG);
	range_start(&r, fx->mm, ZD_MMU_NOTIFY_CLEAR, 0x100000, 0x101000);
	zd_mmu_notifier_invalidate_range_end(&r);
	ZT_EQ(a.nr, 1);
	ZT_EQ(zt_reports_count(&fx->log, ZD_MISUSE_BAD_STATE), 1);
	zt_reports_clear(&fx->log);
	zd_mmu_interval_notifier_remove(&bad);
	rec_remove(&a);
}

/* ---- exit ---- */

/*
 * Exit calls every interval once with RELEASE over the whole address
 * space, before any VMA is unmapped; the intervals stay until their
 * drivers remove them, which is allowed after the mm is gone (the
 * mm_struct lives until the last remove).
 */
static void test_release_at_exit(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct rec a, b;
	unsigned long addr = zt_map_anon(fx->mm, 4 * PG);
	int i;

	ZT_EQ(zd_cpu_write(fx->mm, addr, "x", 1), 0);
	rec_insert(&a, fx->mm, addr, 4 * PG);
	rec_insert(&b, fx->mm, 0x7f0000000000ul, PG);	/* nothing mapped there */
	zt_mm_exit(fx);
	for (i = 0; i < a.nr && a.c[i].event != ZD_MMU_NOTIFY_RELEASE; i++)
		;
	ZT_EQ(i, 0);		/* the first call */
	ZT_EQU(a.c[0].start, 0);
	ZT_EQU(a.c[0].end, ULONG_MAX);
	ZT_TRUE(a.c[0].blockable);
	ZT_EQU(a.c[0].nr_vmas, 1);	/* before the unmap */
	ZT_EQ(b.nr >= 1, 1);
	ZT_EQ(b.c[0].event, ZD_MMU_NOTIFY_RELEASE);
	for (i = 1; i < a.nr; i++)
		ZT_NE(a.c[i].event, ZD_MMU_NOTIFY_RELEASE);
	rec_remove(&a);
	rec_remove(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_seq_parity),
		ZT_MM_TEST(test_read_begin_retry),
		ZT_MM_TEST(test_read_begin_waits),
		ZT_MM_TEST(test_overlap),
		ZT_MM_TEST(test_insert_errors),
		ZT_MM_TEST(test_insert_during_invalidation),
		ZT_MM_TEST(test_insert_during_miss),
		ZT_MM_TEST(test_remove_during_invalidation),
		ZT_MM_TEST(test_nonblock),
		ZT_MM_TEST(test_refused_blockable_reported),
		ZT_MM_TEST(test_release_at_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
