/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by gomalloc's KUnit suites.
 *
 * Every suite starts its cases from a drained allocator (gom_shrink_all())
 * and measures deltas, so that its expectations hold whatever ran before.
 * Cases that need to know where the heap grows first take every free block
 * of every heap out as large runs (gom_t_hold_free()): their allocations
 * must then grow the heap, in arenas the case can predict, even if memory
 * someone else still holds fragments the heap. The held runs go back at
 * the case's exit.
 */
#ifndef _GOM_TEST_H
#define _GOM_TEST_H

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kasan.h>
#include <linux/log2.h>
#include <linux/nodemask.h>
#include <linux/string.h>
#include "internal.h"

static inline long gom_t_inv(void)
{
	return atomic_long_read(&gom_counters.invalid_frees);
}

static inline long gom_t_dbl(void)
{
	return atomic_long_read(&gom_counters.double_frees);
}

static inline long gom_t_failures(void)
{
	return atomic_long_read(&gom_counters.alloc_failures);
}

static inline long gom_t_limited(void)
{
	return atomic_long_read(&gom_counters.alloc_limited);
}

/* A byte pattern that differs with @seed and with the offset. */
static inline void gom_t_fill(void *p, size_t len, u8 seed)
{
	u8 *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = seed + i * 7;
}

static inline bool gom_t_intact(const void *p, size_t len, u8 seed)
{
	const u8 *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != (u8)(seed + i * 7))
			return false;
	return true;
}

/*
 * Write or check memory KASAN keeps off limits: the bytes of a slot
 * beyond what was asked for (a red zone), a freed object, a run straight
 * from the heap. Only where the case means to look at them.
 */
static inline void gom_t_memset_unchecked(void *p, int c, size_t len)
{
	kasan_disable_current();
	memset(p, c, len);
	kasan_enable_current();
}

static inline bool gom_t_zero_unchecked(const void *p, size_t len)
{
	bool zero;

	kasan_disable_current();
	zero = !memchr_inv(p, 0, len);
	kasan_enable_current();
	return zero;
}

/* A node with memory other than @local, or NUMA_NO_NODE. */
static inline int gom_t_other_node(int local)
{
	int nid;

	for_each_online_node(nid)
		if (nid != local && node_state(nid, N_MEMORY))
			return nid;
	return NUMA_NO_NODE;
}

/* The small span of @obj, or NULL if it is not in one. */
static inline struct gom_span *gom_t_span_of(const void *obj)
{
	unsigned long e = gom_pm_lookup(obj);

	return gom_pm_is_span(e) ? (struct gom_span *)e : NULL;
}

/* The order of the arena that holds @p, or -1 if gomalloc does not own it. */
static inline int gom_t_arena_order(const void *p)
{
	unsigned long e = gom_pm_lookup(p);

	if (e == GOM_PM_NONE)
		return -1;
	if (gom_pm_is_span(e))
		return ((struct gom_span *)e)->aorder;
	return gom_pm_aorder(e);
}

/* Whether @heap has a free block of order @order or larger. */
static inline bool gom_t_heap_has_block(struct gom_mheap *heap,
					unsigned int order)
{
	unsigned int o;

	for (o = order; o <= GOM_MAX_ORDER; o++)
		if (READ_ONCE(heap->nr_free[o]) || READ_ONCE(heap->nr_empty[o]))
			return true;
	return false;
}

/*
 * The arena order @heap wants to grow by at its size (mheap.c: an eighth
 * of it, within [arena_min_order, arena_order]), and at least @min_order.
 */
static inline unsigned int gom_t_want_order(struct gom_mheap *heap,
					    unsigned int min_order)
{
	unsigned long pages = READ_ONCE(heap->pages_total) / 8;
	unsigned int o = pages ? ilog2(pages) : 0;

	o = clamp(o, min(READ_ONCE(gom_arena_min_order), gom_arena_order),
		  gom_arena_order);
	return max(o, min_order);
}

/* The arena order growth asks for first under the grow_max_order cap. */
static inline unsigned int gom_t_grow_order(struct gom_mheap *heap,
					    unsigned int min_order)
{
	return max(min(gom_t_want_order(heap, 0),
		       READ_ONCE(gom_grow_max_order)), min_order);
}

/*
 * gom_free(@p) must refuse @p as an invalid pointer: invalid_frees up by
 * exactly one, double_frees unchanged.
 */
static inline void gom_t_expect_free_refused(struct kunit *test,
					     const void *p, const char *what)
{
	long inv = gom_t_inv(), dbl = gom_t_dbl();

	gom_free(p);
	KUNIT_EXPECT_EQ_MSG(test, gom_t_inv(), inv + 1, "gom_free(%s)", what);
	KUNIT_EXPECT_EQ_MSG(test, gom_t_dbl(), dbl, "gom_free(%s)", what);
}

/* The same for gom_free_pages(). */
static inline void gom_t_expect_free_pages_refused(struct kunit *test,
						   void *p, const char *what)
{
	long inv = gom_t_inv(), dbl = gom_t_dbl();

	gom_free_pages(p);
	KUNIT_EXPECT_EQ_MSG(test, gom_t_inv(), inv + 1, "gom_free_pages(%s)",
			    what);
	KUNIT_EXPECT_EQ_MSG(test, gom_t_dbl(), dbl, "gom_free_pages(%s)",
			    what);
}

/*
 * A pointer gomalloc does not own: no page map entry, no usable size,
 * refused by both free calls, and its @len bytes (filled with @seed) are
 * left alone.
 */
static inline void gom_t_expect_foreign(struct kunit *test, void *p,
					size_t len, u8 seed, const char *what)
{
	KUNIT_EXPECT_EQ_MSG(test, gom_pm_lookup(p), GOM_PM_NONE, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, gom_usable_size(p), (size_t)0, "%s", what);
	gom_t_expect_free_refused(test, p, what);
	gom_t_expect_free_pages_refused(test, p, what);
	KUNIT_EXPECT_TRUE_MSG(test, gom_t_intact(p, len, seed),
			      "%s was written to", what);
}

#define GOM_T_HOLD_MAX	512

/* Free blocks taken out of the heaps, as large runs. */
struct gom_t_hold {
	unsigned int n;
	void *addr[GOM_T_HOLD_MAX];
	u8 order[GOM_T_HOLD_MAX];
};

/*
 * Take every free block of every heap as a large run, largest first, so
 * that each is taken whole. Returns false if there were more than
 * GOM_T_HOLD_MAX (what it took is still recorded and must be released).
 */
static inline bool gom_t_hold_free(struct gom_t_hold *h)
{
	struct gom_mheap *heap;
	void *p;
	int nid, o;

	for_each_node(nid) {
		heap = gom_heaps[nid];
		if (!heap)
			continue;
		for (o = GOM_MAX_ORDER; o >= 0; o--) {
			while (READ_ONCE(heap->nr_free[o]) +
			       READ_ONCE(heap->nr_empty[o])) {
				if (h->n == GOM_T_HOLD_MAX)
					return false;
				p = gom_mheap_alloc_run(heap, 1U << o, NULL);
				if (!p)
					break;
				h->addr[h->n] = p;
				h->order[h->n++] = o;
			}
		}
	}
	return true;
}

static inline void gom_t_release_held(struct gom_t_hold *h)
{
	while (h->n) {
		h->n--;
		gom_mheap_free_run(h->addr[h->n], 1U << h->order[h->n], NULL);
	}
}

/*
 * What does not add up in the statistics, or NULL: written to @buf. Holds
 * only while nothing allocates or frees: the counters are read without
 * locks, level by level.
 */
static noinline __maybe_unused const char *
gom_t_inconsistency(char *buf, size_t len)
{
	unsigned long span_pages = 0, spans = 0, occ, pages, free_pages;
	struct gom_class_stats st;
	struct gom_heap_stats hs;
	unsigned int cls, b, o;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		const struct gom_class *k = &gom_classes[cls];

		gom_class_stats(cls, &st);
		for (occ = 0, b = 0; b < GOM_OCC_BUCKETS; b++)
			occ += st.occupancy[b];
		if (occ != st.spans) {
			snprintf(buf, len, "class %u: occupancy counts %lu spans of %lu",
				 k->size, occ, st.spans);
			return buf;
		}
		if (st.spans_min > st.spans ||
		    st.spans_owned > num_possible_cpus()) {
			snprintf(buf, len, "class %u: %lu spans, %lu minimum, %lu owned",
				 k->size, st.spans, st.spans_min,
				 st.spans_owned);
			return buf;
		}
		if (st.objects_total != (st.spans - st.spans_min) * k->nobjs +
		    st.spans_min * k->min_nobjs) {
			snprintf(buf, len, "class %u: %lu objects in %lu spans (%lu minimum)",
				 k->size, st.objects_total, st.spans,
				 st.spans_min);
			return buf;
		}
		if (st.objects_free + st.objects_cached > st.objects_total) {
			snprintf(buf, len, "class %u: %lu free + %lu cached of %lu objects",
				 k->size, st.objects_free, st.objects_cached,
				 st.objects_total);
			return buf;
		}
		span_pages += (st.spans - st.spans_min) * k->npages +
			      st.spans_min * k->min_pages;
		spans += st.spans;
	}
	gom_heap_stats(&hs);
	for (pages = 0, free_pages = 0, occ = 0, o = 0; o <= GOM_MAX_ORDER; o++) {
		pages += hs.arenas_by_order[o] << o;
		free_pages += hs.free_blocks[o] << o;
		occ += hs.arenas_by_order[o];
	}
	if (occ != hs.arenas || pages != hs.pages_total) {
		snprintf(buf, len, "%lu arenas of %lu pages, by order %lu of %lu",
			 hs.arenas, hs.pages_total, occ, pages);
		return buf;
	}
	if (free_pages != hs.pages_free || hs.pages_free > hs.pages_total) {
		snprintf(buf, len, "%lu pages free of %lu, %lu in free blocks",
			 hs.pages_free, hs.pages_total, free_pages);
		return buf;
	}
	if (hs.pages_inuse != span_pages + hs.large_pages + hs.cached_pages ||
	    hs.small_spans != spans) {
		snprintf(buf, len,
			 "%lu pages used: %lu in %lu (%lu) spans, %lu large, %lu cached",
			 hs.pages_inuse, span_pages, spans, hs.small_spans,
			 hs.large_pages, hs.cached_pages);
		return buf;
	}
	if (gom_heap_bytes() != (long)(hs.pages_total << PAGE_SHIFT)) {
		snprintf(buf, len, "heap bytes %ld, arenas hold %lu pages",
			 gom_heap_bytes(), hs.pages_total);
		return buf;
	}
	return NULL;
}

/*
 * gom_heap_bytes() once it is @want, or after two seconds: an allocation
 * the memory limit refused has queued a background shrink, which may
 * still be giving an arena back when the case's own shrink returns.
 */
static inline long gom_t_settle_heap_bytes(long want)
{
	int i;

	for (i = 0; i < 100 && gom_heap_bytes() != want; i++)
		msleep(20);
	return gom_heap_bytes();
}

/*
 * Expect the statistics to add up. A snapshot may catch the scavenger or a
 * background drain half way, so a mismatch counts only if it lasts.
 */
static noinline __maybe_unused void
gom_t_expect_consistent(struct kunit *test, const char *where)
{
	const char *why = NULL;
	char buf[160];
	int tries;

	for (tries = 0; tries < 50; tries++) {
		why = gom_t_inconsistency(buf, sizeof(buf));
		if (!why)
			return;
		msleep(20);
	}
	KUNIT_FAIL(test, "%s: statistics do not add up: %s", where, why);
}

#endif /* _GOM_TEST_H */
