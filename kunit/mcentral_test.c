// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_mcentral: batch refill and flush on the global
 * mcentral of one size class, span list transitions, the occupancy
 * histogram, the empty-span reserve and double frees caught at flush.
 *
 * The cases use a class no other code uses while the suite runs (1408-byte
 * objects, eight to a three-page span) and start from an idle mcentral:
 * magazines drained and free spans trimmed.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include "internal.h"

#define MC_SIZE		1408

struct mc_ctx {
	unsigned int cls;
	unsigned int nobjs;
	struct gom_mcentral *c;
	struct gom_mheap *heap;
	void **objs;			/* room for two spans of objects */
	void **again;
};

static int do_refill(struct gom_mcentral *c, void **objs, int nr,
		     struct gom_span **spare)
{
	unsigned long flags;
	int n;

	local_irq_save(flags);
	n = gom_mcentral_refill(c, objs, nr, spare);
	local_irq_restore(flags);
	return n;
}

/* Refill with a fresh spare descriptor, growing the heap when it is dry. */
static int refill(struct gom_mcentral *c, void **objs, int nr)
{
	struct gom_span *spare = gom_span_desc_alloc(c->cls, c->node,
						     GFP_KERNEL);
	int n;

	if (!spare)
		return -ENOMEM;
	for (;;) {
		n = do_refill(c, objs, nr, &spare);
		if (n != -ENOMEM ||
		    gom_mheap_grow(gom_heaps[c->node], GFP_KERNEL))
			break;
	}
	gom_span_desc_free(spare);
	return n;
}

static void flush(unsigned int cls, void **objs, int nr)
{
	unsigned long flags;

	local_irq_save(flags);
	gom_mcentral_flush(cls, objs, nr);
	local_irq_restore(flags);
}

static struct gom_span *span_of(void *obj)
{
	struct gom_arena *a;
	unsigned long e = 0;

	rcu_read_lock();
	a = gom_arena_lookup((unsigned long)obj);
	if (a)
		e = *gom_map_entry(a, (unsigned long)obj);
	rcu_read_unlock();
	return (e & GOM_MAP_TAGS) ? NULL : (struct gom_span *)e;
}

/* Occupancy buckets count every span exactly once. */
static void expect_occ_consistent(struct kunit *test, struct gom_mcentral *c)
{
	unsigned long sum = 0;
	unsigned int b;

	for (b = 0; b < GOM_OCC_BUCKETS; b++)
		sum += c->occ[b];
	KUNIT_EXPECT_EQ(test, sum, c->nr_partial + c->nr_full);
}

/* Bring the test class's mcentral on this node to no spans at all. */
static struct mc_ctx *idle_central(struct kunit *test, int node)
{
	struct mc_ctx *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, x);
	x->objs = kunit_kcalloc(test, 2 * GOM_MAX_SPAN_OBJS, sizeof(void *),
				GFP_KERNEL);
	x->again = kunit_kcalloc(test, 2 * GOM_MAX_SPAN_OBJS, sizeof(void *),
				 GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x->objs);
	KUNIT_ASSERT_NOT_NULL(test, x->again);
	x->cls = gom_size_class(MC_SIZE);
	x->nobjs = gom_classes[x->cls].nobjs;
	x->c = gom_central(node, x->cls);
	x->heap = gom_heaps[node];
	gom_mcache_drain_all();
	gom_mcentral_trim(x->c, 0);
	if (x->c->nr_partial || x->c->nr_full)
		kunit_skip(test, "class of %u bytes is in use by others",
			   MC_SIZE);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 0UL);
	return x;
}

static void mc_class_under_test(struct kunit *test)
{
	unsigned int cls = gom_size_class(MC_SIZE);

	/* the cases below rely on a span of a few objects */
	KUNIT_EXPECT_EQ(test, gom_classes[cls].size, (u32)MC_SIZE);
	KUNIT_EXPECT_GE(test, gom_classes[cls].nobjs, 4U);
	KUNIT_EXPECT_GT(test, gom_classes[cls].npages, 1U);
}

/* Refill pops from one span; partial -> full; a new span after that. */
static void mc_refill_accounting(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	struct gom_mcentral *c = x->c;
	unsigned int n1 = x->nobjs / 2, i;
	unsigned long spans = x->heap->small_spans;
	struct gom_span *s;

	KUNIT_ASSERT_EQ(test, refill(c, objs, n1), (int)n1);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_empty, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, (unsigned long)(x->nobjs - n1));
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 1);
	expect_occ_consistent(test, c);
	s = span_of(objs[0]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->cls, x->cls);
	KUNIT_EXPECT_EQ(test, (int)s->node, c->node);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - n1);
	for (i = 0; i < n1; i++) {
		KUNIT_EXPECT_PTR_EQ(test, span_of(objs[i]), s);
		KUNIT_EXPECT_EQ(test, ((unsigned long)objs[i] - s->base) %
				MC_SIZE, 0UL);
		if (i)
			KUNIT_EXPECT_PTR_NE(test, objs[i], objs[i - 1]);
	}

	/* the rest of the span: it moves to the full list */
	KUNIT_ASSERT_EQ(test, refill(c, objs + n1, x->nobjs - n1),
			(int)(x->nobjs - n1));
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 1UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, 0UL);
	KUNIT_EXPECT_TRUE(test, s->full);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->occ, GOM_OCC_BUCKETS - 1U);
	expect_occ_consistent(test, c);

	/* two more: a second span */
	KUNIT_ASSERT_EQ(test, refill(c, objs + x->nobjs, 2), 2);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 1UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, (unsigned long)x->nobjs - 2);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c),
			(unsigned long)x->nobjs + 2);
	KUNIT_EXPECT_PTR_NE(test, span_of(objs[x->nobjs]), s);
	expect_occ_consistent(test, c);

	/* one object back to the full span: full -> partial */
	flush(x->cls, objs, 1);
	KUNIT_EXPECT_FALSE(test, s->full);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 2UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, (unsigned long)x->nobjs - 1);
	expect_occ_consistent(test, c);

	flush(x->cls, objs + 1, x->nobjs + 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_full, 0UL);
	expect_occ_consistent(test, c);
	gom_mcentral_trim(c, 0);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, c->objs_free, 0UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans);
}

/* A new span needs a spare descriptor: -ENOSPC without one. */
static void mc_refill_without_spare(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	struct gom_span *spare = NULL;

	KUNIT_EXPECT_EQ(test, do_refill(x->c, objs, 1, &spare), -ENOSPC);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, 0UL);

	/* with a partial span, no spare is needed... */
	KUNIT_ASSERT_EQ(test, refill(x->c, objs, 1), 1);
	KUNIT_EXPECT_EQ(test, do_refill(x->c, objs + 1, 1, &spare), 1);
	/* ...until the span runs out: a short count, not an error */
	KUNIT_EXPECT_EQ(test, do_refill(x->c, objs + 2, x->nobjs, &spare),
			(int)x->nobjs - 2);
	KUNIT_EXPECT_EQ(test, do_refill(x->c, objs, 1, &spare), -ENOSPC);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 1UL);
	flush(x->cls, objs, x->nobjs);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 0UL);
	gom_mcentral_trim(x->c, 0);
}

/* One spare makes one span: a refill larger than a span comes back short. */
static void mc_refill_one_span_per_spare(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	int n;

	n = refill(x->c, objs, 2 * x->nobjs);
	KUNIT_EXPECT_EQ(test, n, (int)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 0UL);
	if (n > 0)
		flush(x->cls, objs, n);
	gom_mcentral_trim(x->c, 0);
}

/*
 * Wholly free spans: the mcentral keeps empty_spans (default 1) of them
 * and gives the others back to the heap; trim gives back the rest.
 */
static void mc_empty_span_reserve(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	unsigned long spans = x->heap->small_spans;

	KUNIT_ASSERT_EQ(test, refill(x->c, objs, x->nobjs), (int)x->nobjs);
	KUNIT_ASSERT_EQ(test, refill(x->c, objs + x->nobjs, x->nobjs),
			(int)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 2UL);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);

	flush(x->cls, objs, x->nobjs);
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, (unsigned long)x->nobjs);
	KUNIT_EXPECT_EQ(test, x->heap->small_spans, spans + 2);

	flush(x->cls, objs + x->nobjs, x->nobjs);
	/* the second empty span went back to the heap */
	KUNIT_EXPECT_EQ(test, x->c->nr_empty, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 0UL);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, (unsigned long)x->nobjs);
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

/* Trim leaves spans with objects in use alone. */
static void mc_trim_keeps_used_spans(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;

	KUNIT_ASSERT_EQ(test, refill(x->c, objs, 1), 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 0UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 1UL);
	flush(x->cls, objs, 1);
	KUNIT_EXPECT_EQ(test, gom_mcentral_trim(x->c, 0), 1UL);
	KUNIT_EXPECT_EQ(test, x->c->nr_partial, 0UL);
}

/* The occupancy bucket follows the share of objects in use. */
static void mc_occupancy_buckets(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	struct gom_span *s = NULL;
	unsigned int i, want;

	for (i = 1; i <= x->nobjs; i++) {
		KUNIT_ASSERT_EQ(test, refill(x->c, objs + i - 1, 1), 1);
		if (!s)
			s = span_of(objs[0]);
		KUNIT_ASSERT_NOT_NULL(test, s);
		want = min(i * GOM_OCC_BUCKETS / x->nobjs,
			   GOM_OCC_BUCKETS - 1U);
		KUNIT_EXPECT_EQ_MSG(test, (unsigned int)s->occ, want,
				    "%u of %u in use", i, x->nobjs);
		KUNIT_EXPECT_EQ(test, x->c->occ[want], 1UL);
		expect_occ_consistent(test, x->c);
	}
	for (i = x->nobjs; i > 0; i--) {
		flush(x->cls, objs + i - 1, 1);
		want = min((i - 1) * GOM_OCC_BUCKETS / x->nobjs,
			   GOM_OCC_BUCKETS - 1U);
		KUNIT_EXPECT_EQ(test, (unsigned int)s->occ, want);
		expect_occ_consistent(test, x->c);
	}
	KUNIT_EXPECT_EQ(test, x->c->occ[0], 1UL);
	gom_mcentral_trim(x->c, 0);
	expect_occ_consistent(test, x->c);
}

/* An object flushed twice is refused and counted; the span stays sane. */
static void mc_double_free_at_flush(struct kunit *test)
{
	struct mc_ctx *x = idle_central(test, numa_mem_id());
	void **objs = x->objs;
	long dbl = atomic_long_read(&gom_errors.double_frees);
	void **again = x->again;
	struct gom_span *s;
	unsigned int i, j;

	KUNIT_ASSERT_EQ(test, refill(x->c, objs, 4), 4);
	s = span_of(objs[0]);
	KUNIT_ASSERT_NOT_NULL(test, s);
	flush(x->cls, objs, 1);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - 3);
	flush(x->cls, objs, 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_errors.double_frees),
			dbl + 1);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs - 3);
	KUNIT_EXPECT_EQ(test, x->c->objs_free, (unsigned long)x->nobjs - 3);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x->c), 3UL);
	expect_occ_consistent(test, x->c);

	/* a whole span's worth comes back without duplicates */
	flush(x->cls, objs + 1, 3);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->nfree, x->nobjs);
	KUNIT_ASSERT_EQ(test, refill(x->c, again, x->nobjs), (int)x->nobjs);
	for (i = 0; i < x->nobjs; i++)
		for (j = i + 1; j < x->nobjs; j++)
			KUNIT_EXPECT_PTR_NE(test, again[i], again[j]);
	KUNIT_EXPECT_EQ(test, x->c->nr_full, 1UL);
	flush(x->cls, again, x->nobjs);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_errors.double_frees),
			dbl + 1);
	gom_mcentral_trim(x->c, 0);
}

/* A flushed batch may mix nodes: each object goes to its own mcentral. */
static void mc_flush_mixed_nodes(struct kunit *test)
{
	struct mc_ctx *x[2];
	int nid[2], i, n;
	void **objs;

	if (num_online_nodes() < 2)
		kunit_skip(test, "needs two online NUMA nodes");
	nid[0] = first_online_node;
	nid[1] = next_online_node(nid[0]);
	for (i = 0; i < 2; i++)
		x[i] = idle_central(test, nid[i]);
	objs = x[0]->objs;
	n = x[0]->nobjs / 2;
	KUNIT_ASSERT_EQ(test, refill(x[0]->c, objs, n), n);
	KUNIT_ASSERT_EQ(test, refill(x[1]->c, objs + n, n), n);
	for (i = 0; i < 2 * n; i++)
		KUNIT_EXPECT_EQ(test,
				page_to_nid(virt_to_page(objs[i])),
				nid[i / n]);
	/* interleave the two nodes' objects */
	for (i = 1; i < n; i += 2)
		swap(objs[i], objs[n + i]);
	flush(x[0]->cls, objs, 2 * n);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(x[i]->c), 0UL);
		KUNIT_EXPECT_EQ(test, x[i]->c->objs_free,
				(unsigned long)x[i]->nobjs);
		gom_mcentral_trim(x[i]->c, 0);
	}
}

static struct kunit_case gomalloc_mcentral_cases[] = {
	KUNIT_CASE(mc_class_under_test),
	KUNIT_CASE(mc_refill_accounting),
	KUNIT_CASE(mc_refill_without_spare),
	KUNIT_CASE(mc_refill_one_span_per_spare),
	KUNIT_CASE(mc_empty_span_reserve),
	KUNIT_CASE(mc_trim_keeps_used_spans),
	KUNIT_CASE(mc_occupancy_buckets),
	KUNIT_CASE(mc_double_free_at_flush),
	KUNIT_CASE(mc_flush_mixed_nodes),
	{}
};

static struct kunit_suite gomalloc_mcentral_suite = {
	.name = "gomalloc_mcentral",
	.test_cases = gomalloc_mcentral_cases,
};

kunit_test_suite(gomalloc_mcentral_suite);

GOM_MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's mcentral");
