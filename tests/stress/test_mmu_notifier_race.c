// SPDX-License-Identifier: MIT
/*
 * test_mmu_notifier_race - the interval notifier's read_begin/read_retry
 * protocol (R7.6, R7.9) against invalidations on other threads.
 *
 * An invalidator zaps the page of a real mapping (MADV_DONTNEED between
 * invalidate_range_start and _end) and writes it again, over and over;
 * every change of the PTE bumps a generation counter, also inside the
 * start/end pair. Readers loop the driver's fault path: read_begin, read
 * the PTE and the generation, take the driver lock, and if read_retry is
 * false, "program the device": record that mapping. Under the driver lock
 * the mapping a reader programs must still be the CPU's: the generation
 * it read is the current one (no invalidation completed against it), and
 * the invalidate callback, which clears the device mapping under the same
 * lock, must find it matching the PTE it is about to lose.
 *
 *   invalidator: start(CLEAR) -> [invalidate(): lock, set_seq, drop dev] ->
 *                zap, gen++ -> end; write (refault), gen++ inside start/end
 *   reader:      seq = read_begin; pte, gen = read; lock;
 *                retry? unlock, again : dev = (pte, gen), check gen == now; unlock
 *
 * test_read_retry_vs_syscalls does the same through the syscalls alone
 * (their own invalidations), see there.
 *
 * Loop sizes: 4000 and 6000 rounds plain, divided by 10 under ASan and TSan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include <zonedev/mm.h>
#include <zonedev/mmu_notifier.h>
#include "mm/internal.h"

#define PG ZD_PAGE_SIZE
#define NR_READERS 2

struct race {
	struct zd_mmu_interval_notifier sub;	/* first: container-of by cast */
	struct zd_mm *mm;
	unsigned long addr;
	unsigned long rounds;
	struct zd_mutex *lock;			/* the driver lock */
	/* the device's mapping, under @lock */
	bool dev_valid;
	zd_pte_t dev_pte;
	unsigned long dev_gen;
	_Atomic unsigned long gen;		/* changes only inside start/end */
	_Atomic int stop;
	_Atomic long errors, programmed, retries, invalidations;
	struct zt_barrier start;
	char what[160];
};

static void race_fail(struct race *r, const char *what, unsigned long a, unsigned long b)
{
	if (zd_atomic_fetch_add_relaxed(&r->errors, 1) == 0)
		snprintf(r->what, sizeof(r->what), "%s (%#lx vs %#lx)", what, a, b);
}

static bool race_invalidate(struct zd_mmu_interval_notifier *sub,
			    const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct race *r = (struct race *)sub;

	(void)range;
	zd_mutex_lock(r->lock);
	zd_mmu_interval_set_seq(sub, cur_seq);
	/* The CPU mapping has not changed yet: a device mapping still matches it. */
	if (r->dev_valid && r->dev_gen != zd_atomic_load_relaxed(&r->gen))
		race_fail(r, "device mapping older than the CPU's at invalidate",
			  r->dev_gen, zd_atomic_load_relaxed(&r->gen));
	if (r->dev_valid && r->dev_pte != zt_entry_at(r->mm, r->addr, NULL))
		race_fail(r, "device PTE differs from the CPU's at invalidate",
			  r->dev_pte, zt_entry_at(r->mm, r->addr, NULL));
	r->dev_valid = false;
	zd_atomic_fetch_add_relaxed(&r->invalidations, 1);
	zd_mutex_unlock(r->lock);
	return true;
}

static const struct zd_mmu_interval_notifier_ops race_ops = { .invalidate = race_invalidate };

/* A CPU mapping change the notifier is told about, as mm code makes it. */
static void change_mapping(struct race *r, bool zap)
{
	struct zd_mmu_notifier_range range;

	zd_mmu_notifier_range_init(&range, ZD_MMU_NOTIFY_CLEAR, 0, r->mm, r->addr, r->addr + PG);
	zd_mmu_notifier_invalidate_range_start(&range);
	if (zap) {
		if (zd_madvise(r->mm, r->addr, PG, ZD_MADV_DONTNEED))
			race_fail(r, "madvise", r->addr, 0);
	} else if (zd_cpu_write(r->mm, r->addr, "y", 1)) {
		race_fail(r, "cpu_write", r->addr, 0);
	}
	zd_atomic_fetch_add_relaxed(&r->gen, 1);
	zd_mmu_notifier_invalidate_range_end(&range);
}

static void *invalidator(void *arg)
{
	struct race *r = arg;

	zt_barrier_wait(&r->start);
	for (unsigned long i = 0; i < r->rounds; i++)
		change_mapping(r, i & 1);
	zd_atomic_store_release(&r->stop, 1);
	return NULL;
}

static void *reader(void *arg)
{
	struct race *r = arg;

	zt_barrier_wait(&r->start);
	while (!zd_atomic_load_acquire(&r->stop)) {
		unsigned long seq = zd_mmu_interval_read_begin(&r->sub);
		unsigned long gen = zd_atomic_load_relaxed(&r->gen);
		zd_pte_t pte;

		zd_mmap_read_lock(r->mm);
		pte = zt_entry_at(r->mm, r->addr, NULL);
		zd_mmap_read_unlock(r->mm);

		zd_mutex_lock(r->lock);
		if (zd_mmu_interval_read_retry(&r->sub, seq)) {
			zd_mutex_unlock(r->lock);
			zd_atomic_fetch_add_relaxed(&r->retries, 1);
			continue;
		}
		/* R7.9: nothing completed against what was read. */
		if (gen != zd_atomic_load_relaxed(&r->gen))
			race_fail(r, "read_retry false after an invalidation completed",
				  gen, zd_atomic_load_relaxed(&r->gen));
		if (pte != zt_entry_at(r->mm, r->addr, NULL))
			race_fail(r, "PTE changed under a valid read", pte,
				  zt_entry_at(r->mm, r->addr, NULL));
		r->dev_valid = true;
		r->dev_pte = pte;
		r->dev_gen = gen;
		zd_mutex_unlock(r->lock);
		zd_atomic_fetch_add_relaxed(&r->programmed, 1);
	}
	return NULL;
}

static void test_read_retry_vs_zap(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_thread *t[NR_READERS + 1];
	struct race *r = calloc(1, sizeof(*r));

	ZT_TRUE(r);
	r->mm = fx->mm;
	r->addr = zt_map_anon(fx->mm, 4 * PG);
	r->rounds = zt_iters(4000, 10);
	r->lock = zd_mutex_create();
	ZT_EQ(zd_cpu_write(fx->mm, r->addr, "x", 1), 0);
	ZT_EQ(zd_mmu_interval_notifier_insert(&r->sub, fx->mm, r->addr, 4 * PG, &race_ops), 0);
	zt_barrier_init(&r->start, NR_READERS + 1);

	ZT_EQ(zd_thread_create(&t[0], invalidator, r), 0);
	for (int i = 1; i <= NR_READERS; i++)
		ZT_EQ(zd_thread_create(&t[i], reader, r), 0);
	for (int i = 0; i <= NR_READERS; i++)
		zd_thread_join(t[i]);

	if (zd_atomic_load_relaxed(&r->errors))
		fail_msg("%ld errors, first: %s", zd_atomic_load_relaxed(&r->errors), r->what);
	ZT_TRUE(zd_atomic_load_relaxed(&r->invalidations) >= (long)r->rounds);
	ZT_TRUE(zd_atomic_load_relaxed(&r->programmed) > 0);
	print_message("%lu rounds, %ld programmed, %ld retries\n", r->rounds,
		      zd_atomic_load_relaxed(&r->programmed), zd_atomic_load_relaxed(&r->retries));
	zd_mmu_interval_notifier_remove(&r->sub);
	zd_mutex_destroy(r->lock);
	free(r);
}

/*
 * The same protocol with the mm's own notifications only: the invalidator
 * zaps, refaults, mprotects and munmaps/remaps through the syscalls, whose
 * invalidate_range_start/end calls are all the device is told. A reader
 * programs a device mapping only for a present PTE; under the driver lock
 * a reader that need not retry must find the same page still mapped, and
 * invalidate() must find the page it had programmed still mapped (else the
 * CPU mapping changed without the device being told first).
 *
 *   round % 6:  0 DONTNEED   1 write   2 mprotect(R)   3 mprotect(RW)
 *               4 write      5 munmap + mmap(FIXED) + write
 */
struct syscall_race {
	struct zd_mmu_interval_notifier sub;	/* first: container-of by cast */
	struct zd_mm *mm;
	unsigned long addr, rounds;
	struct zd_mutex *lock;
	bool dev_valid;			/* under @lock */
	unsigned long dev_pfn;
	_Atomic int stop;
	_Atomic long errors, programmed, retries, invalidations;
	struct zt_barrier start;
	char what[160];
};

static void sr_fail(struct syscall_race *r, const char *what, unsigned long a, unsigned long b)
{
	if (zd_atomic_fetch_add_relaxed(&r->errors, 1) == 0)
		snprintf(r->what, sizeof(r->what), "%s (%#lx vs %#lx)", what, a, b);
}

/* The pfn a present PTE at @addr maps, or -1 (nothing the device could map). */
static unsigned long cpu_pfn(struct zd_mm *mm, unsigned long addr)
{
	zd_pte_t e = zt_entry_at(mm, addr, NULL);

	return zd_pte_present(e) && !zd_pte_protnone(e) ? zd_pte_pfn(e) : ~0ul;
}

static bool sr_invalidate(struct zd_mmu_interval_notifier *sub,
			  const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct syscall_race *r = (struct syscall_race *)sub;

	zd_mutex_lock(r->lock);
	zd_mmu_interval_set_seq(sub, cur_seq);
	if (r->dev_valid && range->start <= r->addr && r->addr < range->end) {
		if (cpu_pfn(r->mm, r->addr) != r->dev_pfn)
			sr_fail(r, "the CPU mapping changed before the device was told",
				r->dev_pfn, cpu_pfn(r->mm, r->addr));
		r->dev_valid = false;
	}
	zd_atomic_fetch_add_relaxed(&r->invalidations, 1);
	zd_mutex_unlock(r->lock);
	return true;
}

static const struct zd_mmu_interval_notifier_ops sr_ops = { .invalidate = sr_invalidate };

static void *sr_invalidator(void *arg)
{
	struct syscall_race *r = arg;
	unsigned long a = r->addr, got;
	char c = 'w';
	int err = 0;

	zt_barrier_wait(&r->start);
	for (unsigned long i = 0; i < r->rounds && !err; i++) {
		switch (i % 6) {
		case 0: err = zd_madvise(r->mm, a, PG, ZD_MADV_DONTNEED); break;
		case 1: case 4: err = zd_cpu_write(r->mm, a, &c, 1); break;
		case 2: err = zd_mprotect(r->mm, a, 4 * PG, ZD_PROT_READ); break;
		case 3: err = zd_mprotect(r->mm, a, 4 * PG, ZD_PROT_READ | ZD_PROT_WRITE); break;
		case 5:
			err = zd_munmap(r->mm, a, 4 * PG);
			if (!err)
				err = zd_mmap(r->mm, a, 4 * PG, ZD_PROT_READ | ZD_PROT_WRITE,
					      ZD_MAP_PRIVATE | ZD_MAP_ANONYMOUS | ZD_MAP_FIXED,
					      NULL, 0, 0, &got);
			if (!err)
				err = zd_cpu_write(r->mm, a, &c, 1);
			break;
		}
	}
	if (err)
		sr_fail(r, "syscall failed", (unsigned long)(long)err, 0);
	zd_atomic_store_release(&r->stop, 1);
	return NULL;
}

static void *sr_reader(void *arg)
{
	struct syscall_race *r = arg;

	zt_barrier_wait(&r->start);
	while (!zd_atomic_load_acquire(&r->stop)) {
		unsigned long seq = zd_mmu_interval_read_begin(&r->sub);
		unsigned long pfn;

		zd_mmap_read_lock(r->mm);
		pfn = cpu_pfn(r->mm, r->addr);
		zd_mmap_read_unlock(r->mm);
		if (pfn == ~0ul)
			continue;	/* nothing to map: hmm_range_fault would fault */
		zd_mutex_lock(r->lock);
		if (zd_mmu_interval_read_retry(&r->sub, seq)) {
			zd_mutex_unlock(r->lock);
			zd_atomic_fetch_add_relaxed(&r->retries, 1);
			continue;
		}
		if (cpu_pfn(r->mm, r->addr) != pfn)
			sr_fail(r, "read_retry false but the page is no longer mapped",
				pfn, cpu_pfn(r->mm, r->addr));
		r->dev_valid = true;
		r->dev_pfn = pfn;
		zd_mutex_unlock(r->lock);
		zd_atomic_fetch_add_relaxed(&r->programmed, 1);
	}
	return NULL;
}

static void test_read_retry_vs_syscalls(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_thread *t[NR_READERS + 1];
	struct syscall_race *r = calloc(1, sizeof(*r));

	ZT_TRUE(r);
	r->mm = fx->mm;
	r->addr = zt_map_anon(fx->mm, 4 * PG);
	r->rounds = zt_iters(6000, 10);
	r->lock = zd_mutex_create();
	ZT_EQ(zd_cpu_write(fx->mm, r->addr, "x", 1), 0);
	ZT_EQ(zd_mmu_interval_notifier_insert(&r->sub, fx->mm, r->addr, 4 * PG, &sr_ops), 0);
	zt_barrier_init(&r->start, NR_READERS + 1);

	ZT_EQ(zd_thread_create(&t[0], sr_invalidator, r), 0);
	for (int i = 1; i <= NR_READERS; i++)
		ZT_EQ(zd_thread_create(&t[i], sr_reader, r), 0);
	for (int i = 0; i <= NR_READERS; i++)
		zd_thread_join(t[i]);

	if (zd_atomic_load_relaxed(&r->errors))
		fail_msg("%ld errors, first: %s", zd_atomic_load_relaxed(&r->errors), r->what);
	ZT_TRUE(zd_atomic_load_relaxed(&r->invalidations) >= (long)(r->rounds / 2));
	print_message("%lu rounds, %ld programmed, %ld retries, %ld invalidations\n", r->rounds,
		      zd_atomic_load_relaxed(&r->programmed), zd_atomic_load_relaxed(&r->retries),
		      zd_atomic_load_relaxed(&r->invalidations));
	zd_mmu_interval_notifier_remove(&r->sub);
	zd_mutex_destroy(r->lock);
	free(r);
}

/*
 * Inserts and removes against invalidations: a churner allocates an
 * interval notifier, inserts it, reads once, removes it and frees it
 * (scribbling over it first), over and over, while the invalidator zaps
 * and refaults the range. Inserts and removes that meet a running
 * invalidation are deferred to its end; remove must not return before
 * that end has taken the notifier off every list (a use after free
 * otherwise, which the sanitizers see), and invalidate() must never be
 * called for a notifier whose remove has returned.
 */
struct churn {
	struct zd_mm *mm;
	unsigned long addr, rounds;
	_Atomic int stop;
	_Atomic long errors, calls, churns;
	struct zt_barrier start;
};

struct churn_sub {
	struct zd_mmu_interval_notifier sub;	/* first: container-of by cast */
	struct churn *c;
	_Atomic int removed;
};

static bool churn_invalidate(struct zd_mmu_interval_notifier *sub,
			     const struct zd_mmu_notifier_range *range, unsigned long cur_seq)
{
	struct churn_sub *cs = (struct churn_sub *)sub;

	(void)range;
	zd_mmu_interval_set_seq(sub, cur_seq);
	if (zd_atomic_load_acquire(&cs->removed))
		zd_atomic_fetch_add_relaxed(&cs->c->errors, 1);
	zd_atomic_fetch_add_relaxed(&cs->c->calls, 1);
	return true;
}

static const struct zd_mmu_interval_notifier_ops churn_ops = { .invalidate = churn_invalidate };

static void *churn_invalidator(void *arg)
{
	struct churn *c = arg;

	zt_barrier_wait(&c->start);
	for (unsigned long i = 0; i < c->rounds; i++) {
		if (i & 1)
			zd_madvise(c->mm, c->addr, 4 * PG, ZD_MADV_DONTNEED);
		else
			zd_cpu_write(c->mm, c->addr, "c", 1);
	}
	/* The churners must complete a cycle; without invalidations they can. */
	zt_wait_positive(&c->churns, 60);
	zd_atomic_store_release(&c->stop, 1);
	return NULL;
}

static void *churner(void *arg)
{
	struct churn *c = arg;

	zt_barrier_wait(&c->start);
	while (!zd_atomic_load_acquire(&c->stop)) {
		struct churn_sub *cs = calloc(1, sizeof(*cs));
		unsigned long seq;

		if (!cs)
			break;
		cs->c = c;
		if (zd_mmu_interval_notifier_insert(&cs->sub, c->mm, c->addr, 4 * PG, &churn_ops)) {
			zd_atomic_fetch_add_relaxed(&c->errors, 1);
			free(cs);
			break;
		}
		seq = zd_mmu_interval_read_begin(&cs->sub);
		(void)zd_mmu_interval_check_retry(&cs->sub, seq);
		zd_mmu_interval_notifier_remove(&cs->sub);
		zd_atomic_store_release(&cs->removed, 1);
		memset(&cs->sub, 0x5a, sizeof(cs->sub));
		free(cs);
		zd_atomic_fetch_add_relaxed(&c->churns, 1);
	}
	return NULL;
}

static void test_insert_remove_vs_invalidate(void **state)
{
	struct zt_fixture *fx = ZT_FX(state);
	struct zd_thread *t[3];
	struct churn c = { .mm = fx->mm };

	c.addr = zt_map_anon(fx->mm, 4 * PG);
	c.rounds = zt_iters(20000, 10);
	zt_barrier_init(&c.start, 3);
	ZT_EQ(zd_thread_create(&t[0], churn_invalidator, &c), 0);
	ZT_EQ(zd_thread_create(&t[1], churner, &c), 0);
	ZT_EQ(zd_thread_create(&t[2], churner, &c), 0);
	for (int i = 0; i < 3; i++)
		zd_thread_join(t[i]);
	ZT_EQ(zd_atomic_load_relaxed(&c.errors), 0);
	ZT_TRUE(zd_atomic_load_relaxed(&c.churns) > 0);
	ZT_TRUE(zd_list_empty(&fx->mm->notifier_subscriptions->itree));
	ZT_TRUE(zd_list_empty(&fx->mm->notifier_subscriptions->deferred_list));
	print_message("%lu rounds, %ld insert/remove cycles, %ld calls\n", c.rounds,
		      zd_atomic_load_relaxed(&c.churns), zd_atomic_load_relaxed(&c.calls));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ZT_MM_TEST(test_read_retry_vs_zap),
		ZT_MM_TEST(test_read_retry_vs_syscalls),
		ZT_MM_TEST(test_insert_remove_vs_invalidate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
