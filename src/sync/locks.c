// SPDX-License-Identifier: MIT
/*
 * src/sync/locks.c - spinlocks, rwsems, completions and threads.
 *
 * Models kernel/locking/ (spinlock, rwsem) and kernel/sched/completion.c
 * on top of pthreads. Completions use CLOCK_MONOTONIC for timed waits.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <zonedev/sync/thread.h>
#include "sync.h"

void zd_spin_lock_init(struct zd_spinlock *l) { pthread_mutex_init(&l->m, NULL); }
void zd_spin_lock_destroy(struct zd_spinlock *l) { pthread_mutex_destroy(&l->m); }
void zd_spin_lock(struct zd_spinlock *l) { pthread_mutex_lock(&l->m); }
void zd_spin_unlock(struct zd_spinlock *l) { pthread_mutex_unlock(&l->m); }

void zd_rwsem_init(struct zd_rwsem *s) { pthread_rwlock_init(&s->l, NULL); }
void zd_rwsem_destroy(struct zd_rwsem *s) { pthread_rwlock_destroy(&s->l); }
void zd_down_read(struct zd_rwsem *s) { pthread_rwlock_rdlock(&s->l); }
void zd_up_read(struct zd_rwsem *s) { pthread_rwlock_unlock(&s->l); }
void zd_down_write(struct zd_rwsem *s) { pthread_rwlock_wrlock(&s->l); }
void zd_up_write(struct zd_rwsem *s) { pthread_rwlock_unlock(&s->l); }

uint64_t zd_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void zd_cpu_relax(void) { sched_yield(); }

unsigned long zd_thread_id(void)
{
	static _Thread_local unsigned long tid;

	if (!tid)
		tid = (unsigned long)syscall(SYS_gettid);
	return tid;
}

static void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

uint64_t zd_deadline_ns(uint64_t timeout_ns)
{
	uint64_t now = zd_monotonic_ns();

	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

static struct timespec deadline_after(uint64_t ns)
{
	uint64_t t = zd_deadline_ns(ns);
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };
	return ts;
}

void zd_init_completion(struct zd_completion *c)
{
	pthread_mutex_init(&c->m, NULL);
	cond_init_monotonic(&c->c);
	c->done = false;
}

void zd_destroy_completion(struct zd_completion *c)
{
	pthread_cond_destroy(&c->c);
	pthread_mutex_destroy(&c->m);
}

void zd_complete_all(struct zd_completion *c)
{
	pthread_mutex_lock(&c->m);
	c->done = true;
	pthread_cond_broadcast(&c->c);
	pthread_mutex_unlock(&c->m);
}

void zd_reinit_completion(struct zd_completion *c)
{
	pthread_mutex_lock(&c->m);
	c->done = false;
	pthread_mutex_unlock(&c->m);
}

void zd_wait_for_completion(struct zd_completion *c)
{
	pthread_mutex_lock(&c->m);
	while (!c->done)
		pthread_cond_wait(&c->c, &c->m);
	pthread_mutex_unlock(&c->m);
}

int zd_wait_for_completion_timeout(struct zd_completion *c, uint64_t timeout_ns)
{
	struct timespec ts = deadline_after(timeout_ns);
	int ret = 0;

	pthread_mutex_lock(&c->m);
	while (!c->done) {
		if (pthread_cond_timedwait(&c->c, &c->m, &ts) == ETIMEDOUT && !c->done) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&c->m);
	return ret;
}

bool zd_completion_done(struct zd_completion *c)
{
	bool d;

	pthread_mutex_lock(&c->m);
	d = c->done;
	pthread_mutex_unlock(&c->m);
	return d;
}

/* ---- wait_var_event ---- */

#define WAIT_TABLE_BITS 6

struct wait_bucket {
	pthread_mutex_t m;
	pthread_cond_t c;
};

struct zd_wait_table {
	struct wait_bucket b[1u << WAIT_TABLE_BITS];
};

struct zd_wait_table *zd_wait_table_create(void)
{
	struct zd_wait_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	for (unsigned i = 0; i < (1u << WAIT_TABLE_BITS); i++) {
		pthread_mutex_init(&t->b[i].m, NULL);
		cond_init_monotonic(&t->b[i].c);
	}
	return t;
}

void zd_wait_table_destroy(struct zd_wait_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < (1u << WAIT_TABLE_BITS); i++) {
		pthread_cond_destroy(&t->b[i].c);
		pthread_mutex_destroy(&t->b[i].m);
	}
	free(t);
}

static struct wait_bucket *bucket_of(struct zd_wait_table *t, const void *var)
{
	uint64_t h = (uint64_t)(uintptr_t)var * 0x9e3779b97f4a7c15ull;

	return &t->b[h >> (64 - WAIT_TABLE_BITS)];
}

int zd_wait_var_event(struct zd_wait_table *t, const void *var,
		      zd_wait_cond_fn cond, void *arg, uint64_t timeout_ns)
{
	struct wait_bucket *b = bucket_of(t, var);
	struct timespec ts;
	int ret = 0;

	if (timeout_ns)
		ts = deadline_after(timeout_ns);
	pthread_mutex_lock(&b->m);
	while (!cond(var, arg)) {
		if (!timeout_ns) {
			pthread_cond_wait(&b->c, &b->m);
		} else if (pthread_cond_timedwait(&b->c, &b->m, &ts) == ETIMEDOUT) {
			if (!cond(var, arg))
				ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&b->m);
	return ret;
}

void zd_wake_up_var(struct zd_wait_table *t, const void *var)
{
	struct wait_bucket *b = bucket_of(t, var);

	/* Taking the lock orders the waker's state change before the waiter's re-check. */
	pthread_mutex_lock(&b->m);
	pthread_cond_broadcast(&b->c);
	pthread_mutex_unlock(&b->m);
}

/* ---- threads and mutexes for library users ---- */

struct zd_thread {
	pthread_t t;
};

int zd_thread_create(struct zd_thread **out, void *(*fn)(void *), void *arg)
{
	struct zd_thread *t = malloc(sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	err = pthread_create(&t->t, NULL, fn, arg);
	if (err) {
		free(t);
		return -err;
	}
	*out = t;
	return 0;
}

void *zd_thread_join(struct zd_thread *t)
{
	void *ret = NULL;

	pthread_join(t->t, &ret);
	free(t);
	return ret;
}

struct zd_mutex {
	pthread_mutex_t m;
};

struct zd_mutex *zd_mutex_create(void)
{
	struct zd_mutex *m = malloc(sizeof(*m));

	if (m)
		pthread_mutex_init(&m->m, NULL);
	return m;
}

void zd_mutex_destroy(struct zd_mutex *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->m);
	free(m);
}

void zd_mutex_lock(struct zd_mutex *m) { pthread_mutex_lock(&m->m); }
void zd_mutex_unlock(struct zd_mutex *m) { pthread_mutex_unlock(&m->m); }
