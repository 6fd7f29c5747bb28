/*
 * memory.h -- the in-memory coordinator: the complete reference backend of
 * coord.h, for threads of one process.
 *
 * A hub holds the state of one run (plan, class queues, leases, results,
 * workers, events). The master handle and every worker handle of the run
 * are opened with url "memory:" and the same hub in
 * mp_coord_open_opts.memory_hub. Memory is in-process only: instances on
 * other machines (or in other processes) can never meet through it, which
 * is exactly why DESIGN §7.9 refuses `memory:` for a distributed run
 * (except --local-instances, whose instances are threads of one process).
 *
 * The coordinator's clock is the process's monotonic clock. Every
 * blocking call waits on a condition variable (CLOCK_MONOTONIC,
 * pthread_cond_timedwait) bounded by its deadline and, where it applies,
 * by the earliest lease deadline, worker silence or master liveness
 * lapse: nothing polls.
 *
 * Ownership: the caller owns the hub; it must outlive every handle opened
 * on it (mp__coord_memory_hub_free dies if one is still open). One hub is
 * one run: a handle with another run id is refused. Thread-safe: one
 * mutex guards the hub.
 */
#ifndef MP_COORD_MEMORY_MEMORY_H
#define MP_COORD_MEMORY_MEMORY_H

#include "coord/coord.h"

mp_coord_memory_hub *mp__coord_memory_hub_new(void);
void mp__coord_memory_hub_free(mp_coord_memory_hub *h); /* NULL-safe */

extern const mp_coord_master_vtable mp__coord_memory_master_vtable;
extern const mp_coord_worker_vtable mp__coord_memory_worker_vtable;

#endif
