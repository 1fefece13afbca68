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
 * A cached run stays allocated in the heap's view; only its page map
 * head changes. A free moves it from GOM_PM_LARGE to GOM_PM_CACHED with
 * a compare-and-swap from the entry the caller read, so of two racing
 * frees of one run exactly one succeeds; handing it out again is a plain
 * store, as only the CPU that took it out of its cache writes the entry
 * then. The hit paths touch the page map once and keep the batch arrays
 * of refills and flushes out of their frames.
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

/*
 * Hand out a cached run: its head entry goes back from GOM_PM_CACHED to
 * GOM_PM_LARGE. A plain store is enough: the run came out of this CPU's
 * cache, so nobody else changes the entry (a free of a cached run is
 * refused without writing it).
 */
static void *own(void *run)
{
	unsigned long *slot = gom_pm_slot(gom_addr_pfn((unsigned long)run));

	WRITE_ONCE(*slot, gom_pm_with_tag(READ_ONCE(*slot), GOM_PM_LARGE));
	return run;
}

/*
 * Refill this CPU's empty cache of @order with a batch from the local
 * heap of @node; return one run of the batch, still marked cached and
 * counted down by @size (gom_run_tag()), or NULL if the heap had none.
 */
static noinline void *refill(int node, unsigned int order, size_t size)
{
	void *runs[GOM_RC_BATCH] __uninitialized;
	struct gom_runcache *rc;
	struct gom_mcache *mc;
	unsigned int n, i = 0;
	bool sample;

	n = take_runs(node, order, runs, GOM_RC_BATCH);
	if (!n)
		return NULL;
	if (gom_mc_trylock(&mc)) {
		rc = &mc->rc[order];
		while (i < n - 1 && rc->count < rc->cap)
			rc->runs[rc->count++] = runs[i++];
		sample = gom_mc_sample(mc, size);
		gom_mc_unlock(mc);
	} else {
		sample = gom_profile_due(size);
	}
	flush_runs(runs + i, n - 1 - i, order);
	return gom_run_tag(own(runs[n - 1]), sample);
}

/**
 * gom_runcache_alloc() - take a run of 2^@order pages from this CPU
 * @order: order of the run, below GOM_RC_ORDERS
 * @node: the heap node the run must be on, or NUMA_NO_NODE: the caller
 *	  may have moved to another node's CPU since it chose the cache
 * @size: bytes asked for, counted down to the next heap profile sample
 *	  in the section, as gom_alloc()'s fast path does
 *
 * An empty cache is refilled with a batch from the local heap.
 *
 * Context: any.
 * Return: the run, with GOM_RUN_SAMPLE set if it is a sample to record;
 * or NULL when neither the cache nor the local heap had one (the caller
 * grows the heap and asks the heap directly, and counts it down).
 */
void *gom_runcache_alloc(unsigned int order, int node, size_t size)
{
	struct gom_runcache *rc;
	struct gom_mcache *mc;
	void *run;
	bool sample;

	if (!gom_mc_trylock(&mc))
		return NULL;
	if (node != NUMA_NO_NODE && node != mc->node) {
		gom_mc_unlock(mc);
		return NULL;
	}
	rc = &mc->rc[order];
	if (unlikely(!rc->count)) {
		node = mc->node;
		gom_mc_unlock(mc);
		return refill(node, order, size);
	}
	run = rc->runs[--rc->count];
	sample = gom_mc_sample(mc, size);
	gom_mc_unlock(mc);
	return gom_run_tag(own(run), sample);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_runcache_alloc);

/*
 * Put @run in a full cache: its oldest half goes back to the heap. Called
 * inside the section of @mc, which it leaves before reaching the heap.
 */
static noinline void spill(struct gom_mcache *mc, unsigned int order,
			   void *run)
{
	struct gom_runcache *rc = &mc->rc[order];
	void *out[GOM_RC_BATCH] __uninitialized;
	unsigned int n = rc->cap / 2;

	gom_move_ptrs(out, rc->runs, n);
	rc->count -= n;
	gom_move_ptrs(rc->runs, rc->runs + n, rc->count);
	rc->runs[rc->count++] = run;
	gom_mc_unlock(mc);
	flush_runs(out, n, order);
}

/**
 * gom_runcache_free() - put a freed run of 2^@order pages in this CPU's
 *			 cache
 * @run: first page of the run, of this CPU's node
 * @order: order of the run, below GOM_RC_ORDERS
 * @e: the run's page map entry as the caller read it: a live run
 *     (GOM_PM_LARGE) of 2^@order pages
 *
 * The entry moves to GOM_PM_CACHED with a compare-and-swap from @e, so
 * that of two racing frees of the run exactly one succeeds. A full cache
 * sends its oldest half back to the heap first.
 *
 * Context: any.
 * Return: 0, or -EINVAL if the entry is no longer @e (a racing free).
 */
int gom_runcache_free(void *run, unsigned int order, unsigned long e)
{
	unsigned long pfn = gom_addr_pfn((unsigned long)run);
	struct gom_runcache *rc;
	struct gom_mcache *mc;

	if (!gom_pm_retag(gom_pm_slot(pfn), e, GOM_PM_CACHED))
		return -EINVAL;
	if (!gom_mc_trylock(&mc)) {
		flush_runs(&run, 1, order);
		return 0;
	}
	rc = &mc->rc[order];
	if (unlikely(rc->count == rc->cap)) {
		spill(mc, order, run);
		return 0;
	}
	rc->runs[rc->count++] = run;
	gom_mc_unlock(mc);
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_runcache_free);

/**
 * gom_runcache_drain() - give every run of a CPU's caches back to the heaps
 * @mc: the CPU's caches
 * @local: @mc is this CPU's and is taken through its section; otherwise
 *	   the CPU is dead and nothing else uses @mc
 *
 * Context: outside the section, where spinlock_t may be taken; task
 * context (CPU hotplug teardown) for a dead CPU's caches.
 */
void gom_runcache_drain(struct gom_mcache *mc, bool local)
{
	void *out[GOM_RC_BATCH];
	struct gom_runcache *rc;
	unsigned int order, n;

	for (order = 0; order < GOM_RC_ORDERS; order++) {
		do {
			/* the section's @mc, should the caller have moved */
			if (local && !gom_mc_trylock(&mc))
				return;
			rc = &mc->rc[order];
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
 * gom_runcache_init() - set up a CPU's run caches
 * @mc: the CPU's caches
 *
 * Up to 16 pages per order for the small orders, two runs for the large
 * (gom_rc_cap()), each order's slots a part of @mc->rc_slots.
 *
 * Context: any.
 */
void gom_runcache_init(struct gom_mcache *mc)
{
	void **slot = mc->rc_slots;
	unsigned int order;

	for (order = 0; order < GOM_RC_ORDERS; order++) {
		mc->rc[order].cap = gom_rc_cap(order);
		mc->rc[order].runs = slot;
		slot += gom_rc_cap(order);
	}
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
