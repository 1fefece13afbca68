// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc runcache: each CPU's cache of small page runs.
 *
 * Go keeps a small per-P cache of free pages (runtime/mpagecache.go) so
 * that small page requests skip the heap lock. gomalloc does the same for
 * runs of 2^0 to 2^(GOM_RC_ORDERS - 1) pages, the sizes a buddy allocator
 * otherwise splits off an arena and merges back on every alloc/free pair:
 * each CPU keeps a few runs of each such order, refilled from and flushed
 * to its node's heap in batches.
 *
 * A cached run stays allocated in the heap's view; its page map head
 * changes from GOM_PM_LARGE to GOM_PM_CACHED with a compare-and-swap
 * (gom_mheap_recache_run()), so of two racing frees of one run exactly
 * one succeeds.
 *
 * Locking: the caches are part of the CPU's struct gom_mcache and are
 * used inside its section (mcache.h); refills and flushes reach the heap
 * outside the section. Drains get the struct gom_mcache passed in.
 */
#include <linux/module.h>
#include "mcache.h"

/* Runs moved per refill, flush or drain step: one stack array's worth. */
#define GOM_RC_BATCH		(GOM_RC_MAX / 2)

static unsigned int run_pages(unsigned int order)
{
	return 1U << order;
}

/* Give runs taken out of a cache back to their heaps. */
static void flush_runs(void **runs, unsigned int n, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		gom_mheap_recache_run(runs[i], run_pages(order), false);
		gom_mheap_free_run(runs[i], run_pages(order), NULL);
	}
}

/* Take up to @want runs of @order from the local heap, marked cached. */
static unsigned int take_runs(int node, unsigned int order, void **runs,
			      unsigned int want)
{
	unsigned int n;

	for (n = 0; n < want; n++) {
		runs[n] = gom_mheap_alloc_run(gom_heaps[node], run_pages(order),
					      NULL);
		if (!runs[n])
			break;
		gom_mheap_recache_run(runs[n], run_pages(order), true);
	}
	return n;
}

/**
 * gom_runcache_alloc() - take a run of 2^@order pages from this CPU
 * @order: order of the run, below GOM_RC_ORDERS
 *
 * An empty cache is refilled with a batch from the local heap.
 *
 * Context: any.
 * Return: the run, or NULL when neither the cache nor the local heap had
 * one (the caller grows the heap and asks the heap directly).
 */
void *gom_runcache_alloc(unsigned int order)
{
	void *runs[GOM_RC_BATCH], *run = NULL;
	struct gom_runcache *rc;
	struct gom_mcache *mc;
	unsigned int n, i = 0;
	int node;

	if (!gom_mc_trylock(&mc))
		return NULL;
	rc = &mc->rc[order];
	if (rc->count)
		run = rc->runs[--rc->count];
	node = mc->node;
	gom_mc_unlock(mc);
	if (!run) {
		n = take_runs(node, order, runs, GOM_RC_BATCH);
		if (!n)
			return NULL;
		run = runs[--n];
		if (gom_mc_trylock(&mc)) {
			rc = &mc->rc[order];
			while (i < n && rc->count < rc->cap)
				rc->runs[rc->count++] = runs[i++];
			gom_mc_unlock(mc);
		}
		flush_runs(runs + i, n - i, order);
	}
	gom_mheap_recache_run(run, run_pages(order), false);
	return run;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_runcache_alloc);

/**
 * gom_runcache_free() - put a freed run of 2^@order pages in this CPU's
 *			 cache
 * @run: first page of the run, of this CPU's node
 * @order: order of the run, below GOM_RC_ORDERS
 *
 * A full cache sends its oldest half back to the heap first.
 *
 * Context: any.
 * Return: 0, or -EINVAL if @run is not a live run of that size.
 */
int gom_runcache_free(void *run, unsigned int order)
{
	void *out[GOM_RC_BATCH];
	struct gom_runcache *rc;
	struct gom_mcache *mc;
	unsigned int n = 0;

	if (gom_mheap_recache_run(run, run_pages(order), true))
		return -EINVAL;
	if (!gom_mc_trylock(&mc)) {
		flush_runs(&run, 1, order);
		return 0;
	}
	rc = &mc->rc[order];
	if (rc->count == rc->cap) {
		n = rc->cap / 2;
		memcpy(out, rc->runs, n * sizeof(void *));
		rc->count -= n;
		memmove(rc->runs, rc->runs + n, rc->count * sizeof(void *));
	}
	rc->runs[rc->count++] = run;
	gom_mc_unlock(mc);
	flush_runs(out, n, order);
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_runcache_free);

/**
 * gom_runcache_drain() - give every run of a CPU's caches back to the heaps
 * @mc: the CPU's caches
 * @local: @mc is this CPU's and is taken through its section; otherwise
 *	   the CPU is dead and nothing else uses @mc
 *
 * Context: task context, outside the section.
 */
void gom_runcache_drain(struct gom_mcache *mc, bool local)
{
	void *out[GOM_RC_BATCH];
	struct gom_runcache *rc;
	unsigned int order, n;

	for (order = 0; order < GOM_RC_ORDERS; order++) {
		rc = &mc->rc[order];
		do {
			if (local && !gom_mc_trylock(&mc))
				return;
			n = min_t(unsigned int, rc->count, GOM_RC_BATCH);
			rc->count -= n;
			memcpy(out, rc->runs + rc->count, n * sizeof(void *));
			if (local)
				gom_mc_unlock(mc);
			flush_runs(out, n, order);
		} while (n);
	}
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_runcache_drain);

/**
 * gom_runcache_init() - set the capacity of a CPU's run caches
 * @rc: the CPU's GOM_RC_ORDERS caches
 *
 * Up to 16 pages per order for the small orders, two runs for the large.
 *
 * Context: any.
 */
void gom_runcache_init(struct gom_runcache *rc)
{
	unsigned int order;

	for (order = 0; order < GOM_RC_ORDERS; order++)
		rc[order].cap = max(2, GOM_RC_MAX >> order);
}

/**
 * gom_runcache_read() - add the cached runs of every CPU to a snapshot
 * @st: the snapshot; @st->cached_pages is added to, and the cached runs
 *	and pages are taken out of the live large runs, which the heaps
 *	count them in
 *
 * Context: any; takes no lock.
 */
void gom_runcache_read(struct gom_heap_stats *st)
{
	unsigned long n, runs = 0, pages = 0;
	unsigned int cpu, o;

	for_each_possible_cpu(cpu) {
		for (o = 0; o < GOM_RC_ORDERS; o++) {
			n = READ_ONCE(gom_mcache_of(cpu)->rc[o].count);
			runs += n;
			pages += n << o;
		}
	}
	st->cached_pages += pages;
	st->large_spans -= min(st->large_spans, runs);
	st->large_pages -= min(st->large_pages, pages);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_runcache_read);
