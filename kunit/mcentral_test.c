// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_mcentral: the spans of one size class on one node
 * (mod/mcentral.c): spans handed to a CPU and taken back, objects taken
 * straight from the lists, the list transitions and their counters, the
 * occupancy histogram, the empty-span reserve and the spare spans beyond
 * it, minimum spans, and double frees caught when objects come back.
 *
 * The cases drive the global mcentral of a class no other code uses while
 * the suite runs (1408-byte objects, eleven to a four-page span) from a
 * drained allocator. They stand in for the mcache: an object they take is
 * unmarked as gom_alloc() does, and marked again before it goes back with
 * gom_mcentral_flush(), as gom_free() does.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include "gom_test.h"

#define MC_SIZE		1408

struct mc_ctx {
	unsigned int cls;
	unsigned int nobjs;
	struct gom_mcentral *c;
	struct gom_mheap *heap;
	void **objs;			/* room for two spans of objects */
	void **again;
};

static unsigned int mc_saved_cap, mc_saved_delay;

static int mc_suite_init(struct kunit_suite *suite)
{
	mc_saved_cap = READ_ONCE(gom_grow_max_order);
	mc_saved_delay = READ_ONCE(gom_empty_ms);
	return 0;
}

static void mc_suite_exit(struct kunit_suite *suite)
{
	WRITE_ONCE(gom_grow_max_order, mc_saved_cap);
	WRITE_ONCE(gom_empty_ms, mc_saved_delay);
}

/* No delayed trim of spare spans while a case counts them (an hour). */
static int mc_init(struct kunit *test)
{
	WRITE_ONCE(gom_grow_max_order, mc_saved_cap);
	WRITE_ONCE(gom_empty_ms, 3600 * MSEC_PER_SEC);
	gom_mcentral_trim_stop();
	gom_shrink_all();
	return 0;
}

static void mc_exit(struct kunit *test)
{
	struct gom_t_hold *hold = test->priv;

	WRITE_ONCE(gom_grow_max_order, mc_saved_cap);
	WRITE_ONCE(gom_empty_ms, mc_saved_delay);
	if (hold)
		gom_t_release_held(hold);
}

/* Take one object straight from @c, handed out as gom_alloc() would. */
static void *take(struct gom_mcentral *c)
{
	void *obj = gom_mcentral_alloc(c, GFP_KERNEL);

	if (IS_ERR(obj))
		return NULL;
	gom_obj_unmark(obj);
	return obj;
}

static int take_n(struct gom_mcentral *c, void **objs, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		objs[i] = take(c);
		if (!objs[i])
			break;
	}
	return i;
}

/* Give objects back as the mcache does: marked free, then flushed. */
static void give_back(void **objs, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		gom_obj_mark(objs[i]);
	gom_mcentral_flush(objs, nr);
}

/* Occupancy buckets count every listed span exactly once. */
/* @c's occupancy histogram, as its statistics read it. */
static void occ_of(struct gom_mcentral *c, unsigned long *occ)
{
	memset(occ, 0, GOM_OCC_BUCKETS * sizeof(*occ));
	gom_mcentral_occupancy(c, occ);
}

/* The histogram counts every listed span once: the lists and counters agree. */
static void expect_occ_consistent(struct kunit *test, struct gom_mcentral *c)
{
	unsigned long occ[GOM_OCC_BUCKETS], sum = 0;
	unsigned int b;

	occ_of(c, occ);
	for (b = 0; b < GOM_OCC_BUCKETS; b++)
		sum += occ[b];
	KUNIT_EXPECT_EQ(test, sum, c->nr_partial + c->nr_full);
}

/* The test class's mcentral on @node, which must have no span at all. */
static struct mc_ctx *idle_central_of(struct kunit *test, int node,
				      size_t size)
{
	struct mc_ctx *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, x);
	x->objs = kunit_kcalloc(test, 2 * GOM_MAX_SPAN_OBJS, sizeof(void *),
				GFP_KERNEL);
	x->again = kunit_kcalloc(test, 2 * GOM_MAX_SPAN_OBJS, sizeof(void *),
				 GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x->objs);
	KUNIT_ASSERT_NOT_NULL(test, x->again);
	x->cls = gom_size_class(size);
	x->nobjs = gom_classes[x->cls].nobjs;
	x->c = gom_central(node, x->cls);
	x->heap = gom_heaps[node];
	if (x->c->nr_partial || x->c->nr_full || x->c->nr_owned)
		kunit_skip(test, "objects of %zu bytes are still in use after a drain",
			   size);
	KUNIT_EXPECT_EQ(test, x->c->objs_total, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_min, 0UL);
	return x;
}

static struct mc_ctx *idle_central(struct kunit *test, int node)
{
	return idle_central_of(test, node, MC_SIZE);
}

static void mcentral_class_under_test(struct kunit *test)
{
	unsigned int cls = gom_size_class(MC_SIZE);

	/* the cases below rely on a span of a few objects, in one word */
	KUNIT_EXPECT_EQ(test, gom_classes[cls].size, (u32)MC_SIZE);
	KUNIT_EXPECT_GE(test, gom_classes[cls].nobjs, 4U);
	KUNIT_EXPECT_LE(test, gom_classes[cls].nobjs, (u16)BITS_PER_LONG);
	KUNIT_EXPECT_GT(test, gom_classes[cls].npages, 1U);
	KUNIT_EXPECT_LT(test, gom_classes[cls].min_nobjs,
			gom_classes[cls].nobjs);
}

/*
 * A span handed to a CPU: carved new, owned, its objects claimed a word at
 * a time in address order; taken back partial, handed out again, taken
 * back full; swapped for another in one call; and back to the heap when
 * every object is free.
 */
static void mcentral_cache_span_cycle(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	struct gom_mcentral *c = x->c;
	unsigned long spans = x->heap->small_spans, occ[GOM_OCC_BUCKETS];
	unsigned int i, half = x->nobjs / 2;
	struct gom_span *s, *s2;
	void **objs = x->objs;

	s = gom_mcentral_cache_span(c, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state, (unsigned int)GOM_SPAN_OWNED);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->cls, x->cls);
	KUNIT_EXPECT_EQ(test, (int)s->node, c->node);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nobjs, x->nobjs);
	KUNIT_EXPECT_EQ(test, c->nr_owned, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_partial + c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_total, (unsigned long)x->nobjs);
	KUNIT_EXPECT_EQ(test, c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 1);
	KUNIT_EXPECT_EQ(test, gom_span_free_objects(s), (unsigned long)x->nobjs);
	/* a new span's objects are all marked free */
	for (i = 0; i < x->nobjs; i++)
		KUNIT_EXPECT_TRUE(test, gom_obj_marked((void *)s->base +
						       i * s->size));

	/* the owner claims the word and pops its lowest bits first */
	KUNIT_ASSERT_TRUE(test, gom_span_claim(s));
	KUNIT_EXPECT_EQ(test, hweight_long(s->cache), (int)x->nobjs);
	for (i = 0; i < half; i++) {
		objs[i] = gom_span_pop(s, s->cache);
		KUNIT_EXPECT_PTR_EQ(test, objs[i],
				    (void *)(s->base + i * s->size));
		gom_obj_unmark(objs[i]);
	}
	KUNIT_EXPECT_EQ(test, gom_span_free_objects(s),
			(unsigned long)(x->nobjs - half));

	/* back partial: the unclaimed rest of the word returns to the bitmap */
	gom_mcentral_uncache(s);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state,
			(unsigned int)GOM_SPAN_PARTIAL);
	KUNIT_EXPECT_EQ(test, s->cache, 0UL);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - half);
	KUNIT_EXPECT_EQ(test, c->nr_owned, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, (unsigned long)(x->nobjs - half));
	expect_occ_consistent(test, c);

	/* handed out again: the partial span, not a new one */
	s2 = gom_mcentral_cache_span(c, NULL, GFP_KERNEL);
	KUNIT_ASSERT_PTR_EQ(test, s2, s);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 1);
	KUNIT_ASSERT_TRUE(test, gom_span_claim(s));
	for (i = half; i < x->nobjs; i++) {
		objs[i] = gom_span_pop(s, s->cache);
		KUNIT_EXPECT_PTR_EQ(test, objs[i],
				    (void *)(s->base + i * s->size));
		gom_obj_unmark(objs[i]);
	}
	KUNIT_EXPECT_EQ(test, s->cache, 0UL);
	KUNIT_EXPECT_FALSE(test, gom_span_claim(s));

	/* used up: swapped for a new span in one call, the old one full */
	s2 = gom_mcentral_cache_span(c, s, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s2);
	KUNIT_EXPECT_PTR_NE(test, s2, s);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state, (unsigned int)GOM_SPAN_FULL);
	occ_of(c, occ);
	KUNIT_EXPECT_EQ(test, occ[GOM_OCC_BUCKETS - 1], 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_owned, 1UL);
	KUNIT_EXPECT_EQ(test, c->objs_total, 2UL * x->nobjs);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), 2UL * x->nobjs);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);
	expect_occ_consistent(test, c);

	/* one object back to the full span: full -> partial */
	give_back(objs, 1);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state,
			(unsigned int)GOM_SPAN_PARTIAL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, 1UL);
	expect_occ_consistent(test, c);

	/* everything back: the new span, unused, is given back whole */
	give_back(objs + 1, x->nobjs - 1);
	gom_mcentral_uncache(s2);
	KUNIT_EXPECT_EQ(test, c->nr_owned, 0UL);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), 0UL);
	/* both wholly free spans are kept, one of them spare */
	KUNIT_EXPECT_EQ(test, c->nr_empty, 2UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(c, 0), 2UL);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_total, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans);
	expect_occ_consistent(test, c);
}

/*
 * gom_mcentral_alloc(): an object straight from a span nobody owns,
 * carving a span (listed, not owned) when none is partial.
 */
static void mcentral_alloc_direct(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	struct gom_mcentral *c = x->c;
	unsigned long spans = x->heap->small_spans;
	void **objs = x->objs;
	struct gom_span *s;
	unsigned int i;

	objs[0] = gom_mcentral_alloc(c, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, objs[0]);
	/* still marked free: the caller clears the mark */
	KUNIT_EXPECT_TRUE(test, gom_obj_marked(objs[0]));
	gom_obj_unmark(objs[0]);
	s = gom_t_span_of(objs[0]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_PTR_EQ(test, objs[0], (void *)s->base);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state,
			(unsigned int)GOM_SPAN_PARTIAL);
	KUNIT_EXPECT_EQ(test, c->nr_owned, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, (unsigned long)x->nobjs - 1);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - 1);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 1);

	/* the rest of the span, lowest free object first; then it is full */
	KUNIT_ASSERT_EQ(test, take_n(c, objs + 1, x->nobjs - 1),
			(int)x->nobjs - 1);
	for (i = 1; i < x->nobjs; i++)
		KUNIT_EXPECT_PTR_EQ(test, objs[i],
				    (void *)(s->base + i * s->size));
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 1UL);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->state, (unsigned int)GOM_SPAN_FULL);

	/* a freed object is the next one handed out */
	give_back(objs + 3, 1);
	KUNIT_EXPECT_PTR_EQ(test, take(c), objs[3]);
	KUNIT_EXPECT_EQ(test, c->nr_full, 1UL);

	/* one more: a second span */
	KUNIT_ASSERT_EQ(test, take_n(c, objs + x->nobjs, 1), 1);
	KUNIT_EXPECT_PTR_NE(test, gom_t_span_of(objs[x->nobjs]), s);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), x->nobjs + 1UL);
	expect_occ_consistent(test, c);
	give_back(objs, x->nobjs + 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 0UL);
	gom_mcentral_trim(c, 0);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans);
	expect_occ_consistent(test, c);
}

/*
 * Wholly free spans: the mcentral keeps empty_spans (default 1) of them,
 * and the others until the heap would grow (gom_mcentral_reclaim()) or a
 * trim; a spare span is handed out again as it is.
 */
static void mcentral_empty_span_reserve(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	struct gom_class_stats st;
	void **objs = x->objs;
	unsigned long spans = x->heap->small_spans;

	KUNIT_ASSERT_EQ(test, take_n(x->c, objs, 2 * x->nobjs),
			2 * (int)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 2UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);

	give_back(objs, x->nobjs);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, (unsigned long)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);

	give_back(objs + x->nobjs, x->nobjs);
	/* the second empty span is spare: kept, and handed out again */
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 2UL);
	gom_class_stats(x->cls, &st);
	KUNIT_EXPECT_EQ(test, st.spans_empty, 2UL);
	KUNIT_EXPECT_EQ(test, st.spans_partial, 2UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 2UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);
	expect_occ_consistent(test, x->c);
	KUNIT_ASSERT_EQ(test, take_n(x->c, objs, x->nobjs), (int)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 1UL);
	give_back(objs, x->nobjs);

	/* the shrinker counts the spare span as reclaimable */
	KUNIT_EXPECT_EQ(test, gom_mcentral_spare_pages(),
			(unsigned long)gom_classes[x->cls].npages);
	/* what the heap does before it grows: the reserve stays */
	KUNIT_EXPECT_EQ(test, gom_mcentral_reclaim(x->c->node), 1UL);
	KUNIT_EXPECT_EQ(test, gom_mcentral_spare_pages(), 0UL);
	KUNIT_EXPECT_EQ(test, gom_mcentral_reclaim(x->c->node), 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, (unsigned long)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->c->objs_total, (unsigned long)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 1);
	expect_occ_consistent(test, x->c);

	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 1), 0UL);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans);
	expect_occ_consistent(test, x->c);
}

/*
 * A spare wholly free span goes back to the heap empty_delay_ms after it
 * became spare, by itself; the reserve stays.
 */
static void mcentral_spare_span_delayed(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	unsigned long spans = x->heap->small_spans, waited = 0;

	WRITE_ONCE(gom_empty_ms, 50);
	KUNIT_ASSERT_EQ(test, take_n(x->c, x->objs, 2 * x->nobjs),
			2 * (int)x->nobjs);
	give_back(x->objs, 2 * x->nobjs);
	while (READ_ONCE(x->c->nr_empty) > 1 && waited < 20000) {
		msleep(50);
		waited += 50;
	}
	kunit_info(test, "spare span released after %lu ms\n", waited);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_total, (unsigned long)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 1);
	expect_occ_consistent(test, x->c);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 1UL);
}

/* Trim leaves spans with objects in use, and owned spans, alone. */
static void mcentral_trim_keeps_used_spans(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	struct gom_span *s;

	KUNIT_ASSERT_EQ(test, take_n(x->c, objs, 1), 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 1UL);
	give_back(objs, 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 0UL);

	s = gom_mcentral_cache_span(x->c, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_owned, 1UL);
	gom_mcentral_uncache(s);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 1UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_total, 0UL);
}

/* The occupancy bucket follows the share of objects in use. */
static void mcentral_occupancy_buckets(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	unsigned long occ[GOM_OCC_BUCKETS];
	void **objs = x->objs;
	unsigned int i, want;

	for (i = 1; i <= x->nobjs; i++) {
		KUNIT_ASSERT_EQ(test, take_n(x->c, objs + i - 1, 1), 1);
		want = min(i * GOM_OCC_BUCKETS / x->nobjs,
			   GOM_OCC_BUCKETS - 1U);
		occ_of(x->c, occ);
		/* the class's only span, in the bucket of its share */
		KUNIT_EXPECT_EQ_MSG(test, occ[want], 1UL, "%u of %u in use",
				    i, x->nobjs);
		expect_occ_consistent(test, x->c);
	}
	for (i = x->nobjs; i > 0; i--) {
		give_back(objs + i - 1, 1);
		want = min((i - 1) * GOM_OCC_BUCKETS / x->nobjs,
			   GOM_OCC_BUCKETS - 1U);
		occ_of(x->c, occ);
		KUNIT_EXPECT_EQ(test, occ[want], 1UL);
		expect_occ_consistent(test, x->c);
	}
	occ_of(x->c, occ);
	KUNIT_EXPECT_EQ(test, occ[0], 1UL);
	gom_mcentral_trim(x->c, 0);
	expect_occ_consistent(test, x->c);
}

/*
 * A magazine's worth of objects of two spans of many objects, in turn, is
 * swept span by span: each object is freed in its span, and one given
 * twice in the batch is refused once.
 */
static void mcentral_flush_sweeps_spans(struct kunit *test)
{
	enum { SIZE = 64, NR = 48 };
	struct mc_ctx *x = idle_central_of(test, numa_mem_id(), SIZE);
	unsigned int i, n = x->nobjs;
	long dbl = gom_t_dbl();
	struct gom_span *s[2];
	void *batch[NR + 1];

	/* spans the flush sweeps (GOM_SWEEP_OBJS) */
	KUNIT_ASSERT_GE(test, n, 128U);
	KUNIT_ASSERT_EQ(test, take_n(x->c, x->objs, 2 * n), (int)(2 * n));
	s[0] = gom_t_span_of(x->objs[0]);
	s[1] = gom_t_span_of(x->objs[n]);
	KUNIT_ASSERT_PTR_NE(test, s[0], s[1]);
	KUNIT_ASSERT_PTR_EQ(test, gom_t_span_of(x->objs[2 * n - 1]), s[1]);
	/* the even objects below NR of each span, a new span at every one */
	for (i = 0; i < NR / 2; i++) {
		batch[2 * i] = x->objs[2 * i];
		batch[2 * i + 1] = x->objs[n + 2 * i];
	}
	batch[NR] = batch[3];
	give_back(batch, NR + 1);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	for (i = 0; i < NR; i++) {
		KUNIT_EXPECT_EQ_MSG(test, gom_obj_is_free(s[0], i), !(i & 1),
				    "object %u", i);
		KUNIT_EXPECT_EQ_MSG(test, gom_obj_is_free(s[1], i), !(i & 1),
				    "object %u", n + i);
	}
	KUNIT_EXPECT_EQ(test, (unsigned int)s[0]->nfree, (unsigned int)NR / 2);
	KUNIT_EXPECT_EQ(test, (unsigned int)s[1]->nfree, (unsigned int)NR / 2);
	expect_occ_consistent(test, x->c);

	/* the rest, in address order */
	for (i = 0, n = 0; i < 2 * x->nobjs; i++)
		if ((i % x->nobjs) >= NR || (i & 1))
			x->again[n++] = x->objs[i];
	give_back(x->again, n);
	KUNIT_EXPECT_EQ(test, (unsigned int)s[0]->nfree, x->nobjs);
	KUNIT_EXPECT_EQ(test, (unsigned int)s[1]->nfree, x->nobjs);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 0UL);
	gom_mcentral_trim(x->c, 0);
}

/*
 * A magazine's worth of objects of eight spans, interleaved: the first
 * spans met hold a sixteenth or more of the objects left and are swept,
 * the one of a single object stops the sweeps, and the rest go in runs
 * of one object. Every object ends free in its own span, once.
 */
static void mcentral_flush_scattered_batch(struct kunit *test)
{
	enum { SIZE = 64, SPANS = 8, NR = 64 };
	static const u8 per_span[SPANS] = { 24, 12, 2, 1, 8, 6, 5, 6 };
	struct mc_ctx *x = idle_central_of(test, numa_mem_id(), SIZE);
	unsigned int i, k, n = x->nobjs, nb = 0;
	struct gom_span *s[SPANS];
	long dbl = gom_t_dbl();
	void *batch[NR];

	/* spans the flush sweeps (GOM_SWEEP_OBJS), and room in x->objs */
	KUNIT_ASSERT_GE(test, n, 128U);
	KUNIT_ASSERT_LE(test, SPANS * n, 2U * GOM_MAX_SPAN_OBJS);
	KUNIT_ASSERT_EQ(test, take_n(x->c, x->objs, SPANS * n),
			(int)(SPANS * n));
	for (k = 0; k < SPANS; k++) {
		s[k] = gom_t_span_of(x->objs[k * n]);
		KUNIT_ASSERT_PTR_EQ(test, gom_t_span_of(x->objs[k * n + n - 1]),
				    s[k]);
	}
	/* object i of each span that has one, then object i + 1 */
	for (i = 0; nb < NR; i++)
		for (k = 0; k < SPANS; k++)
			if (i < per_span[k])
				batch[nb++] = x->objs[k * n + i];
	give_back(batch, NR);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl);
	for (k = 0; k < SPANS; k++) {
		KUNIT_EXPECT_EQ_MSG(test, (unsigned int)s[k]->nfree,
				    (unsigned int)per_span[k], "span %u", k);
		/* the first per_span[k] objects are free, and only they */
		for (i = 0; i < n; i++) {
			bool freed = i < per_span[k];

			if (gom_obj_is_free(s[k], i) != freed)
				break;
		}
		KUNIT_EXPECT_EQ_MSG(test, i, n, "span %u: object %u", k, i);
	}
	expect_occ_consistent(test, x->c);

	for (k = 0, nb = 0; k < SPANS; k++)
		for (i = per_span[k]; i < n; i++)
			x->again[nb++] = x->objs[k * n + i];
	give_back(x->again, nb);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 0UL);
	gom_mcentral_trim(x->c, 0);
}

/* An object flushed twice is refused and counted; the span stays sane. */
static void mcentral_double_free_at_flush(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs, **again = x->again;
	long dbl = gom_t_dbl(), inv = gom_t_inv();
	struct gom_span *s;
	unsigned int i, j;

	KUNIT_ASSERT_EQ(test, take_n(x->c, objs, 4), 4);
	s = gom_t_span_of(objs[0]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	give_back(objs, 1);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - 3);
	gom_mcentral_flush(objs, 1);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - 3);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, (unsigned long)x->nobjs - 3);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 3UL);
	expect_occ_consistent(test, x->c);

	/* the same object twice in one batch: the second copy is refused */
	objs[4] = objs[1];
	give_back(objs + 1, 4);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 2);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 0UL);

	/* a whole span's worth comes back without duplicates */
	KUNIT_ASSERT_EQ(test, take_n(x->c, again, x->nobjs), (int)x->nobjs);
	for (i = 0; i < x->nobjs; i++)
		for (j = i + 1; j < x->nobjs; j++)
			KUNIT_EXPECT_PTR_NE(test, again[i], again[j]);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 1UL);
	give_back(again, x->nobjs);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 2);
	KUNIT_EXPECT_EQ(test, gom_t_inv(), inv);
	gom_mcentral_trim(x->c, 0);
}

/*
 * An object still in its owner's claimed word was never handed out: a
 * flush of it is refused, and the owner still hands it out once.
 */
static void mcentral_flush_refuses_claimed(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	long dbl = gom_t_dbl();
	unsigned int i, n = 0;
	struct gom_span *s;
	void *obj, *p;

	s = gom_mcentral_cache_span(x->c, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_ASSERT_TRUE(test, gom_span_claim(s));
	obj = (void *)(s->base + 2 * s->size);
	gom_mcentral_flush(&obj, 1);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_EQ(test, gom_span_free_objects(s), (unsigned long)x->nobjs);
	while (s->cache) {
		p = gom_span_pop(s, s->cache);
		n += p == obj;
		gom_obj_unmark(p);
	}
	KUNIT_EXPECT_EQ(test, n, 1U);
	/* and every object comes back once */
	for (i = 0; i < x->nobjs; i++)
		x->objs[i] = (void *)(s->base + i * s->size);
	give_back(x->objs, x->nobjs);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	gom_mcentral_uncache(s);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 0UL);
	gom_mcentral_trim(x->c, 0);
}

/*
 * Objects of several spans in random order, as a magazine flushes them
 * after random frees: each goes back once, the spans' counts and lists
 * agree, and a later copy of an object of a span the batch emptied is
 * refused, whether the span was kept or given back.
 */
static void mcentral_flush_random_order(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	long dbl = gom_t_dbl(), inv = gom_t_inv();
	unsigned int i, j, n = 2 * x->nobjs;
	void **objs = x->objs;

	KUNIT_ASSERT_EQ(test, take_n(x->c, objs, n), (int)n);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 2UL);
	/* a fixed shuffle (Fisher-Yates with a multiplicative hash) */
	for (i = n - 1; i > 0; i--) {
		j = (u32)(i * 2654435761U) % (i + 1);
		swap(objs[i], objs[j]);
	}
	x->again[0] = objs[n / 2];
	give_back(objs, n);
	gom_mcentral_flush(x->again, 1);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl + 1);
	KUNIT_EXPECT_EQ(test, gom_t_inv(), inv);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 2UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, 2UL * x->nobjs);
	expect_occ_consistent(test, x->c);
	gom_mcentral_trim(x->c, 0);
}

/* A flushed batch may mix nodes: each object goes to its own mcentral. */
static void mcentral_flush_mixed_nodes(struct kunit *test)
{
	struct mc_ctx *x[2];
	int nid[2], i, n;
	void **objs;

	nid[0] = numa_mem_id();
	nid[1] = gom_t_other_node(nid[0]);
	if (nid[1] == NUMA_NO_NODE)
		kunit_skip(test, "needs a second NUMA node with memory");
	for (i = 0; i < 2; i++)
		x[i] = idle_central(test, nid[i]);
	objs = x[0]->objs;
	n = x[0]->nobjs / 2;
	KUNIT_ASSERT_EQ(test, take_n(x[0]->c, objs, n), n);
	KUNIT_ASSERT_EQ(test, take_n(x[1]->c, objs + n, n), n);
	for (i = 0; i < 2 * n; i++)
		KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(objs[i])),
				nid[i / n]);
	/* interleave the two nodes' objects */
	for (i = 1; i < n; i += 2)
		swap(objs[i], objs[n + i]);
	give_back(objs, 2 * n);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x[i]->c), 0UL);
		KUNIT_EXPECT_EQ(test, x[i]->c->objs_free,
				(unsigned long)x[i]->nobjs);
		gom_mcentral_trim(x[i]->c, 0);
	}
}

/*
 * With no block of the preferred size and growth capped below it, a span
 * falls back to the class's minimum size, counted in nr_min until it goes
 * back to the heap.
 */
static void mcentral_min_span(struct kunit *test)
{
	struct gom_t_hold *hold = kunit_kzalloc(test, sizeof(*hold), GFP_KERNEL);
	const struct gom_class *k;
	struct gom_span *s;
	struct mc_ctx *x;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, hold);
	test->priv = hold;
	if (!gom_t_hold_free(hold))
		kunit_skip(test, "memory in use splits the heap in over %d free blocks",
			   GOM_T_HOLD_MAX);
	x = idle_central(test, numa_mem_id());
	k = &gom_classes[x->cls];
	WRITE_ONCE(gom_grow_max_order, 0);
	s = gom_mcentral_cache_span(x->c, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->npages,
			(unsigned int)k->min_pages);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nobjs,
			(unsigned int)k->min_nobjs);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->aorder,
			order_base_2(k->min_pages));
	KUNIT_EXPECT_EQ(test, x->c->nr_min, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_total, (unsigned long)k->min_nobjs);
	/* only its objects are valid: the bitmap ends at nobjs */
	KUNIT_ASSERT_TRUE(test, gom_span_claim(s));
	KUNIT_EXPECT_EQ(test, hweight_long(s->cache), (int)k->min_nobjs);
	for (i = 0; i < k->min_nobjs; i++)
		KUNIT_EXPECT_EQ(test, gom_obj_index(s, s->base + i * s->size),
				i);
	KUNIT_EXPECT_FALSE(test, gom_obj_valid(s, gom_obj_index(s, s->base +
					       k->min_nobjs * s->size)));
	KUNIT_EXPECT_EQ(test, gom_usable_size((void *)(s->base +
					      k->min_nobjs * s->size)),
			(size_t)0);
	gom_mcentral_uncache(s);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_min, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_total, 0UL);
}

static struct kunit_case gomalloc_mcentral_cases[] = {
	KUNIT_CASE(mcentral_class_under_test),
	KUNIT_CASE(mcentral_cache_span_cycle),
	KUNIT_CASE(mcentral_alloc_direct),
	KUNIT_CASE(mcentral_empty_span_reserve),
	KUNIT_CASE(mcentral_spare_span_delayed),
	KUNIT_CASE(mcentral_trim_keeps_used_spans),
	KUNIT_CASE(mcentral_occupancy_buckets),
	KUNIT_CASE(mcentral_double_free_at_flush),
	KUNIT_CASE(mcentral_flush_sweeps_spans),
	KUNIT_CASE(mcentral_flush_scattered_batch),
	KUNIT_CASE(mcentral_flush_refuses_claimed),
	KUNIT_CASE(mcentral_flush_random_order),
	KUNIT_CASE(mcentral_flush_mixed_nodes),
	KUNIT_CASE(mcentral_min_span),
	{}
};

static struct kunit_suite gomalloc_mcentral_suite = {
	.name = "gomalloc_mcentral",
	.suite_init = mc_suite_init,
	.suite_exit = mc_suite_exit,
	.init = mc_init,
	.exit = mc_exit,
	.test_cases = gomalloc_mcentral_cases,
};

kunit_test_suite(gomalloc_mcentral_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's mcentral");
