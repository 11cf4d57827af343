/* SPDX-License-Identifier: MIT */
/*
 * zonedev/sync/thread.h - threads for tests, benchmarks and the runner.
 *
 * A thin wrapper over pthreads so that code outside src/sync/ never
 * includes <pthread.h> (the explorer build replaces these).
 */
#ifndef ZONEDEV_SYNC_THREAD_H
#define ZONEDEV_SYNC_THREAD_H

struct zd_thread;

/*
 * zd_thread_create - start fn(arg) on a new thread.
 * Returns 0 and sets *out, or a negative errno (-EAGAIN, -ENOMEM).
 */
int zd_thread_create(struct zd_thread **out, void *(*fn)(void *), void *arg);

/* zd_thread_join - wait for @t, free it, return what fn returned. */
void *zd_thread_join(struct zd_thread *t);

/* zd_mutex - a plain sleeping lock for users of the library. */
struct zd_mutex;
struct zd_mutex *zd_mutex_create(void);
void zd_mutex_destroy(struct zd_mutex *m);
void zd_mutex_lock(struct zd_mutex *m);
void zd_mutex_unlock(struct zd_mutex *m);

#endif /* ZONEDEV_SYNC_THREAD_H */
