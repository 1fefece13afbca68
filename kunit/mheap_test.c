// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_mheap: the page heap (mod/mheap.c), its fallback to
 * smaller arenas, the page map (mod/pagemap.c) and the memory limit.
 *
 * The cases use the heaps every client uses. Each starts from a drained
 * allocator with every free block held (see gom_test.h): the heaps then
 * have no free page but those of the arenas the case grows, so block and
 * arena counts are exact deltas whatever ran before. The heap-level cases
 * grow arenas of MH_ORDER through the grow_max_order cap, with
 * arena_min_order at the arena order so that the heap's size does not
 * lower the order they get: their free arenas stay below the one-arena
 * reserve the scavenger keeps, so it never releases them behind a case's
 * back. mheap_grow_proportional checks the sizing itself on a private
 * heap. The exit gives the held blocks back and restores grow_max_order,
 * arena_min_order and mem_limit, after a failure too.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include "gom_test.h"

/* Order of the arenas the heap-level cases grow: 1 MiB. */
#define MH_ORDER	min(8U, gom_arena_order)

/* What the module had before the suite ran; every case exit restores it. */
static unsigned int mh_saved_cap;
static unsigned int mh_saved_min;
static unsigned long mh_saved_limit;

struct mh_ctx {
	struct gom_mheap *h;		/* heap of the node the case began on */
	struct gom_t_hold *hold;
	bool held_all;
};

static int mh_suite_init(struct kunit_suite *suite)
{
	mh_saved_cap = READ_ONCE(gom_grow_max_order);
	mh_saved_min = READ_ONCE(gom_arena_min_order);
	mh_saved_limit = READ_ONCE(gom_mem_limit);
	return 0;
}

static void mh_restore(void)
{
	WRITE_ONCE(gom_grow_max_order, mh_saved_cap);
	WRITE_ONCE(gom_arena_min_order, mh_saved_min);
	gom_set_mem_limit(mh_saved_limit);
}

/* Also after a case that timed out, which KUnit does not clean up. */
static void mh_suite_exit(struct kunit_suite *suite)
{
	mh_restore();
}

static int mh_init(struct kunit *test)
{
	struct mh_ctx *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);

	if (!x)
		return -ENOMEM;
	x->hold = kunit_kzalloc(test, sizeof(*x->hold), GFP_KERNEL);
	if (!x->hold)
		return -ENOMEM;
	mh_restore();
	gom_shrink_all();
	x->h = gom_heaps[gom_heap_node(NUMA_NO_NODE)];
	x->held_all = gom_t_hold_free(x->hold);
	test->priv = x;
	return 0;
}

static void mh_exit(struct kunit *test)
{
	struct mh_ctx *x = test->priv;

	mh_restore();
	if (x)
		gom_t_release_held(x->hold);
	gom_shrink_all();
}

/* The case's context; skips if the heaps had too many blocks to hold. */
static struct mh_ctx *mh_ctx(struct kunit *test)
{
	struct mh_ctx *x = test->priv;

	if (!x->held_all)
		kunit_skip(test, "memory in use splits the heap in over %d free blocks",
			   GOM_T_HOLD_MAX);
	return x;
}

/* Growth asks for min(arena order, @order), whatever the heap's size. */
static void set_cap(unsigned int order)
{
	WRITE_ONCE(gom_arena_min_order, GOM_MAX_ORDER);
	WRITE_ONCE(gom_grow_max_order, order);
}

/* Grow @h by one arena of @order; asserts that it got exactly that. */
static void grow(struct kunit *test, struct gom_mheap *h, unsigned int order)
{
	unsigned long n = READ_ONCE(h->nr_arenas[order]);

	set_cap(order);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, 0, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, READ_ONCE(h->nr_arenas[order]), n + 1);
}

/* The free memory of @h is exactly @narenas wholly free arenas of @order. */
static void expect_unfragmented(struct kunit *test, struct gom_mheap *h,
				unsigned int order, unsigned long narenas)
{
	unsigned int o;

	for (o = 0; o <= GOM_MAX_ORDER; o++) {
		KUNIT_EXPECT_EQ_MSG(test, h->nr_free[o], 0UL, "order %u", o);
		if (o != order)
			KUNIT_EXPECT_EQ_MSG(test, h->nr_empty[o], 0UL,
					    "order %u", o);
	}
	KUNIT_EXPECT_EQ(test, h->nr_empty[order], narenas);
	KUNIT_EXPECT_EQ(test, h->pages_free, narenas << order);
}

/* The heap counters a case must leave as it found them. */
struct mh_base {
	unsigned long pages_total;
	unsigned long large_spans;
	unsigned long large_pages;
	unsigned long small_spans;
	unsigned long arenas[GOM_MAX_ORDER + 1];
};

static void base_of(struct gom_mheap *h, struct mh_base *b)
{
	b->pages_total = h->pages_total;
	b->large_spans = h->large_spans;
	b->large_pages = h->large_pages;
	b->small_spans = h->small_spans;
	memcpy(b->arenas, h->nr_arenas, sizeof(b->arenas));
}

static void expect_runs(struct kunit *test, struct gom_mheap *h,
			const struct mh_base *b, unsigned long spans,
			unsigned long pages)
{
	KUNIT_EXPECT_EQ(test, h->large_spans, b->large_spans + spans);
	KUNIT_EXPECT_EQ(test, h->large_pages, b->large_pages + pages);
}

/* With every free block held, the heap has nothing to give. */
static void mheap_held_heap_has_nothing(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	struct mh_base b;

	base_of(h, &b);
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 1, NULL));
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 5, NULL));
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total);
	expect_runs(test, h, &b, 0, 0);
	/* no request can need more than the page allocator's largest block */
	KUNIT_EXPECT_EQ(test, gom_mheap_grow(h, GOM_MAX_ORDER + 1, GFP_KERNEL),
			-ENOMEM);
}

static void mheap_grow_adds_one_arena(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	unsigned long e, i;
	struct mh_base b;
	void *p;

	base_of(h, &b);
	grow(test, h, order);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total + (1UL << order));
	expect_unfragmented(test, h, order, 1);

	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(p)), h->node);
	/* the arena is a naturally aligned block: the run is its first page */
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p, PAGE_SIZE << order));
	e = gom_pm_lookup(p);
	KUNIT_EXPECT_EQ(test, e, gom_pm_make(GOM_PM_LARGE, order, h->node, 1));
	for (i = 1; i < (1UL << order); i++) {
		e = gom_pm_lookup(p + i * PAGE_SIZE);
		KUNIT_EXPECT_NE_MSG(test, gom_pm_tag(e), GOM_PM_NONE,
				    "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, gom_pm_aorder(e), order, "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, gom_pm_node(e), h->node, "page %lu", i);
		KUNIT_EXPECT_TRUE_MSG(test, gom_page_is_free((unsigned long)p +
							     i * PAGE_SIZE),
				      "page %lu", i);
	}
	KUNIT_EXPECT_FALSE(test, gom_page_is_free((unsigned long)p));
	expect_runs(test, h, &b, 1, 1);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 1, NULL), 0);
	expect_runs(test, h, &b, 0, 0);
	expect_unfragmented(test, h, order, 1);
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 1UL << order);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total);
}

/*
 * Growth for a span larger than needed (gom_mheap_grow_spare()): refused
 * above grow_max_order and under a memory limit it would cross, without
 * counting a grow failure; else one arena of the order asked for. (That
 * it does not give back free arenas under the limit, as a growth that
 * needs its block does, cannot be seen here: setting the limit wakes the
 * scavenger, which gives them back too.)
 */
static void mheap_grow_spare(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned long failures = h->grow_failures;
	struct mh_base b;

	base_of(h, &b);
	set_cap(1);
	KUNIT_EXPECT_EQ(test, gom_mheap_grow_spare(h, 2, GFP_KERNEL), -ENOMEM);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total);
	set_cap(2);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow_spare(h, 2, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[2], b.arenas[2] + 1);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total + 4);
	/*
	 * No room left, even after the scavenger that setting the limit
	 * wakes gives free arenas back: a limit of one byte.
	 */
	KUNIT_ASSERT_EQ(test, gom_set_mem_limit(1), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_grow_spare(h, 2, GFP_KERNEL), -EDQUOT);
	KUNIT_EXPECT_EQ(test, h->grow_failures, failures);
	mh_restore();
	gom_mheap_release(h, 0);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total);
}

/* One page splits the arena into one free block of every lower order. */
static void mheap_split_and_merge(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER, o;
	unsigned long e;
	void *p;

	grow(test, h, order);
	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (o = 0; o < order; o++) {
		KUNIT_EXPECT_EQ_MSG(test, h->nr_free[o], 1UL, "order %u", o);
		/* the buddy of the first 2^o pages heads a free block */
		e = gom_pm_lookup(p + (PAGE_SIZE << o));
		KUNIT_EXPECT_EQ_MSG(test, e, gom_pm_make(GOM_PM_FREE, order,
							 h->node, o),
				    "order %u", o);
	}
	KUNIT_EXPECT_EQ(test, h->nr_free[order], 0UL);
	KUNIT_EXPECT_EQ(test, h->nr_empty[order], 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_free, (1UL << order) - 1);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 1, NULL), 0);
	expect_unfragmented(test, h, order, 1);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p),
			gom_pm_make(GOM_PM_FREE, order, h->node, order));
	gom_mheap_release(h, 0);
}

/* A five-page run holds five pages; the three-page tail stays free. */
static void mheap_exact_large_run(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	unsigned long arena = 1UL << order, i, e;
	struct mh_base b;
	void *p, *q;

	base_of(h, &b);
	grow(test, h, order);
	p = gom_mheap_alloc_run(h, 5, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p));
	KUNIT_EXPECT_EQ(test, h->pages_free, arena - 5);
	expect_runs(test, h, &b, 1, 5);
	/* a run straight from the heap is still poisoned for KASAN */
	gom_t_memset_unchecked(p, 0x5a, 5 * PAGE_SIZE);

	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p),
			gom_pm_make(GOM_PM_LARGE, order, h->node, 5));
	for (i = 1; i < 5; i++) {
		e = gom_pm_lookup(p + i * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, e, gom_pm_make(GOM_PM_TAIL, order,
						     h->node, 0));
		KUNIT_EXPECT_FALSE(test, gom_page_is_free((unsigned long)p +
							  i * PAGE_SIZE));
	}
	/* pages 5..7 of the 8-page block came back: blocks of 1 and 2 */
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p + 5 * PAGE_SIZE),
			gom_pm_make(GOM_PM_FREE, order, h->node, 0));
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p + 6 * PAGE_SIZE),
			gom_pm_make(GOM_PM_FREE, order, h->node, 1));
	for (i = 5; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, gom_page_is_free((unsigned long)p +
							 i * PAGE_SIZE));

	/* a three-page run takes four pages and gives one back */
	q = gom_mheap_alloc_run(h, 3, NULL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena - 8);
	expect_runs(test, h, &b, 2, 8);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 5, NULL), 0);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena - 3);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(q, 3, NULL), 0);
	expect_unfragmented(test, h, order, 1);
	expect_runs(test, h, &b, 0, 0);
	gom_mheap_release(h, 0);
}

struct mh_run {
	unsigned long *addr;
	unsigned int npages;
};

static int run_cmp(const void *a, const void *b)
{
	const struct mh_run *x = a, *y = b;

	if (x->addr == y->addr)
		return 0;
	return x->addr < y->addr ? -1 : 1;
}

/*
 * Random runs until two arenas are nearly full, checked for overlap, then
 * freed in random order: everything merges back into whole arenas.
 */
static void mheap_random_runs_merge_back(struct kunit *test)
{
	enum { MAX_RUNS = 256 };
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	unsigned long used = 0, total;
	struct rnd_state rnd;
	struct mh_run *runs;
	struct mh_base b;
	int i, n = 0;

	runs = kunit_kcalloc(test, MAX_RUNS, sizeof(*runs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, runs);
	prandom_seed_state(&rnd, 0x60a110c);
	base_of(h, &b);
	grow(test, h, order);
	grow(test, h, order);
	total = 2UL << order;

	while (n < MAX_RUNS) {
		unsigned int np = 1 + prandom_u32_state(&rnd) % 12;
		unsigned long *p = gom_mheap_alloc_run(h, np, NULL);

		if (!p)
			break;
		/* runs straight from the heap are still poisoned for KASAN */
		kasan_disable_current();
		p[0] = n;
		p[np * PAGE_SIZE / sizeof(long) - 1] = ~(unsigned long)n;
		kasan_enable_current();
		runs[n].addr = p;
		runs[n].npages = np;
		n++;
		used += np;
		KUNIT_ASSERT_EQ(test, h->pages_free, total - used);
		KUNIT_ASSERT_EQ(test, h->large_pages, b.large_pages + used);
	}
	KUNIT_EXPECT_GT(test, n, 30);
	KUNIT_EXPECT_GT(test, used, total / 2);

	/* no two runs overlap, and no run left its arenas */
	sort(runs, n, sizeof(*runs), run_cmp, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_LE(test, (unsigned long)runs[i - 1].addr +
				runs[i - 1].npages * PAGE_SIZE,
				(unsigned long)runs[i].addr);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, gom_t_arena_order(runs[i].addr),
				(int)order);

	/* free in random order (Fisher-Yates shuffle) */
	for (i = n - 1; i > 0; i--) {
		int j = prandom_u32_state(&rnd) % (i + 1);

		swap(runs[i], runs[j]);
	}
	for (i = 0; i < n; i++) {
		unsigned long *p = runs[i].addr;
		unsigned int np = runs[i].npages;
		bool mark;

		kasan_disable_current();
		mark = ~p[np * PAGE_SIZE / sizeof(long) - 1] == p[0];
		kasan_enable_current();
		KUNIT_EXPECT_TRUE(test, mark);
		KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, np, NULL), 0);
		used -= np;
		KUNIT_EXPECT_EQ(test, h->pages_free, total - used);
	}
	expect_unfragmented(test, h, order, 2);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[order], b.arenas[order] + 2);
	expect_runs(test, h, &b, 0, 0);
	gom_mheap_release(h, 0);
}

/* A full heap returns NULL until it grows by one arena. */
static void mheap_grow_when_full(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	unsigned long arena = 1UL << order;
	void *whole, *p;

	grow(test, h, order);
	whole = gom_mheap_alloc_run(h, arena, NULL);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)whole,
					   PAGE_SIZE << order));
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 1, NULL));

	grow(test, h, order);
	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena - 1);
	/* a run larger than an arena never fits: blocks do not merge across */
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, arena + 1, NULL));
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(whole, arena, NULL), 0);
	expect_unfragmented(test, h, order, 2);
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 2 * arena, NULL));
	gom_mheap_release(h, 0);
}

/* Release gives wholly free arenas back and only those, minus @keep. */
static void mheap_release_arenas(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	unsigned long arena = 1UL << order;
	unsigned long released = h->pages_released;
	long bytes = gom_heap_bytes();
	struct mh_base b;
	void *p;

	base_of(h, &b);
	grow(test, h, order);
	grow(test, h, order);
	KUNIT_EXPECT_EQ(test, h->nr_empty[order], 2UL);
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), bytes + (long)(2 * arena *
							      PAGE_SIZE));

	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, arena), arena);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[order], b.arenas[order] + 1);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total + arena);
	KUNIT_EXPECT_EQ(test, h->pages_released, released + arena);
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), bytes + (long)(arena *
							      PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, arena), 0UL);

	/* an arena with a page in use stays */
	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 0UL);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[order], b.arenas[order] + 1);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 1, NULL), 0);

	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), arena);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[order], b.arenas[order]);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total);
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_released, released + 2 * arena);
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), bytes);
	/* its pages are nobody's as far as the page map knows */
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p), GOM_PM_NONE);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p + (arena - 1) * PAGE_SIZE),
			GOM_PM_NONE);
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 1, NULL));
}

/*
 * The cap on the arena order: growth asks for min(arena order, cap) pages
 * unless the request needs more, counts every smaller arena as a fallback,
 * and the smallest free arenas go back to the page allocator first.
 */
static void mheap_grow_order_cap(struct kunit *test)
{
	static const unsigned int caps[] = { 0, 1, 3 };
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned long fallbacks = h->grow_fallbacks, pages = 0;
	unsigned int i, top = MH_ORDER;
	struct mh_base b;

	base_of(h, &b);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		grow(test, h, caps[i]);
		pages += 1UL << caps[i];
	}
	/* a request that needs order 2 gets it under a cap of 0 */
	set_cap(0);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, 2, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[2], b.arenas[2] + 1);
	pages += 4;
	grow(test, h, top);
	KUNIT_EXPECT_EQ(test, h->grow_fallbacks, fallbacks +
			(top < gom_arena_order ? 5 : 4));
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total + pages +
			(1UL << top));
	KUNIT_EXPECT_EQ(test, h->pages_free, pages + (1UL << top));
	/* keeping one large arena gives back every small one, and only them */
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 1UL << top), pages);
	KUNIT_EXPECT_EQ(test, h->nr_arenas[top], b.arenas[top] + 1);
	for (i = 0; i < top; i++)
		KUNIT_EXPECT_EQ_MSG(test, h->nr_arenas[i], b.arenas[i],
				    "order %u", i);
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 1UL << top);
	KUNIT_EXPECT_EQ(test, h->pages_total, b.pages_total);
}

/* Freeing a run twice, or with the wrong length or owner, is refused. */
static void mheap_bad_free_run(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	struct gom_span *fake, *other;
	struct mh_base b;
	void *p, *k;
	int i;

	base_of(h, &b);
	grow(test, h, order);
	p = gom_mheap_alloc_run(h, 5, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 4, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p + PAGE_SIZE, 4, NULL),
			-EINVAL);
	expect_runs(test, h, &b, 1, 5);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 5, NULL), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 5, NULL), -EINVAL);
	expect_unfragmented(test, h, order, 1);

	k = kmalloc(PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(k, 1, NULL), -EINVAL);
	kfree(k);

	/* a small span's run is owned by its span descriptor */
	fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	other = kunit_kzalloc(test, sizeof(*other), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	KUNIT_ASSERT_NOT_NULL(test, other);
	fake->node = h->node;
	other->node = h->node;
	p = gom_mheap_alloc_run(h, 3, fake);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, fake->base, (unsigned long)p);
	KUNIT_EXPECT_EQ(test, (unsigned int)fake->aorder, order);
	KUNIT_EXPECT_EQ(test, h->small_spans, b.small_spans + 1);
	expect_runs(test, h, &b, 0, 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, gom_pm_lookup(p + i * PAGE_SIZE),
				(unsigned long)fake);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 3, other), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 3, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, h->small_spans, b.small_spans + 1);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 3, fake), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 3, fake), -EINVAL);
	KUNIT_EXPECT_EQ(test, h->small_spans, b.small_spans);
	expect_unfragmented(test, h, order, 1);
	gom_mheap_release(h, 0);
}

/* A run moves to a run cache and back with a compare-and-swap. */
static void mheap_recache_run(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned int order = MH_ORDER;
	void *p;

	grow(test, h, order);
	p = gom_mheap_alloc_run(h, 4, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_mheap_recache_run(p, 4, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_recache_run(p, 2, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_recache_run(p + PAGE_SIZE, 4, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_recache_run(p, 4, true), 0);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p),
			gom_pm_make(GOM_PM_CACHED, order, h->node, 4));
	KUNIT_EXPECT_EQ(test, gom_mheap_recache_run(p, 4, true), -EINVAL);
	/* a cached run is not a live one: the heap refuses to free it */
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 4, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_recache_run(p, 4, false), 0);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(p),
			gom_pm_make(GOM_PM_LARGE, order, h->node, 4));
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 4, NULL), 0);
	expect_unfragmented(test, h, order, 1);
	gom_mheap_release(h, 0);
}

/* The first page of a wholly free arena of @order in @h. */
static void *empty_arena(struct gom_mheap *h, unsigned int order)
{
	struct page *page;

	page = list_first_entry_or_null(&h->empty[order], struct page, lru);
	return page ? page_address(page) : NULL;
}

/*
 * Destroying a heap gives back its free arenas, whatever their order. On
 * a private heap: gom_mheap_free_run() finds the heap of a node, so the
 * case does not allocate from it.
 */
static void mheap_destroy_releases_all(struct kunit *test)
{
	struct gom_mheap *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct mh_ctx *x = mh_ctx(test);
	long bytes = gom_heap_bytes();
	void *small, *large;
	unsigned int o;

	KUNIT_ASSERT_NOT_NULL(test, h);
	gom_mheap_init(h, x->h->node);
	grow(test, h, 3);
	grow(test, h, MH_ORDER);
	KUNIT_EXPECT_EQ(test, h->pages_total, 8 + (1UL << MH_ORDER));
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), bytes + (long)((8 +
			(1UL << MH_ORDER)) * PAGE_SIZE));
	small = empty_arena(h, 3);
	large = empty_arena(h, MH_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, small);
	KUNIT_ASSERT_NOT_NULL(test, large);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(small),
			gom_pm_make(GOM_PM_FREE, 3, h->node, 3));
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(large + PAGE_SIZE),
			gom_pm_make(GOM_PM_TAIL, MH_ORDER, h->node, 0));

	KUNIT_EXPECT_EQ(test, gom_mheap_destroy(h), 0UL);
	for (o = 0; o <= GOM_MAX_ORDER; o++)
		KUNIT_EXPECT_EQ_MSG(test, h->nr_arenas[o], 0UL, "order %u", o);
	KUNIT_EXPECT_EQ(test, h->pages_total, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_released, 8 + (1UL << MH_ORDER));
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), bytes);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(small), GOM_PM_NONE);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(large + PAGE_SIZE), GOM_PM_NONE);
}

/*
 * Unmapping a span makes every CPU forget a memo (struct gom_memo) inside
 * it, and only inside it: a free of that pointer must find the page map's
 * answer once the memory can be reused. Interrupts are off while this
 * CPU's memo holds the test's pointer, so nothing else sets or uses it.
 */
static void mheap_unmap_forgets_memo(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	const void *inside, *after;
	struct gom_mcache *mc;
	struct gom_span *span;
	unsigned long flags;
	void *p;

	span = kunit_kzalloc(test, sizeof(*span), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, span);
	span->node = x->h->node;	/* the heap its free goes back to */
	grow(test, x->h, MH_ORDER);

	p = gom_mheap_alloc_run(x->h, 2, span);
	KUNIT_ASSERT_NOT_NULL(test, p);
	local_irq_save(flags);
	mc = gom_mcache_of(smp_processor_id());
	WRITE_ONCE(mc->memo.mark, gom_obj_mark_of(p + PAGE_SIZE + 64));
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 2, span), 0);
	inside = gom_memo_obj(&mc->memo);
	local_irq_restore(flags);
	KUNIT_EXPECT_NULL(test, inside);

	p = gom_mheap_alloc_run(x->h, 2, span);
	KUNIT_ASSERT_NOT_NULL(test, p);
	local_irq_save(flags);
	mc = gom_mcache_of(smp_processor_id());
	WRITE_ONCE(mc->memo.mark, gom_obj_mark_of(p + 2 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(p, 2, span), 0);
	after = gom_memo_obj(&mc->memo);
	WRITE_ONCE(mc->memo.mark, 0);
	local_irq_restore(flags);
	KUNIT_EXPECT_PTR_EQ(test, after, (const void *)(p + 2 * PAGE_SIZE));
	expect_unfragmented(test, x->h, MH_ORDER, 1);
	gom_mheap_release(x->h, 0);
}

/*
 * The page map: a span pointer on every page of a small span, a tagged
 * head and tail marks for runs and free blocks, with the arena's order and
 * node; nothing for the pages of an arena that went back.
 */
static void mheap_pagemap_entries(struct kunit *test)
{
	unsigned int order = MH_ORDER;
	struct gom_heap_stats h0, h1;
	void *obj, *run, *cached;
	struct gom_span *s;
	unsigned long e, i;
	int nid;

	mh_ctx(test);
	gom_heap_stats(&h0);
	set_cap(order);
	migrate_disable();
	nid = numa_mem_id();
	obj = gom_alloc(1408, GFP_KERNEL);
	run = gom_alloc_pages(5, GFP_KERNEL);
	cached = gom_alloc_pages(4, GFP_KERNEL);
	/* freed on its node: it waits in this CPU's run cache */
	gom_free_pages(cached);
	e = gom_pm_lookup(cached);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_ASSERT_NOT_NULL(test, run);
	KUNIT_ASSERT_NOT_NULL(test, cached);
	KUNIT_EXPECT_EQ(test, e, gom_pm_make(GOM_PM_CACHED, order, nid, 4));

	s = gom_t_span_of(obj);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, (unsigned long)s & GOM_PM_TAG_MASK, 0UL);
	KUNIT_EXPECT_EQ(test, (unsigned int)s->cls, gom_size_class(1408));
	KUNIT_EXPECT_EQ(test, (int)s->node, nid);
	KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(obj)), nid);
	KUNIT_EXPECT_GE(test, 1U << s->aorder, (unsigned int)s->npages);
	for (i = 0; i < s->npages; i++)
		KUNIT_EXPECT_EQ_MSG(test, gom_pm_lookup((void *)s->base +
							i * PAGE_SIZE),
				    (unsigned long)s, "span page %lu", i);

	/* the run took an 8-page block of a new arena and gave 3 back */
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(run),
			gom_pm_make(GOM_PM_LARGE, order, nid, 5));
	for (i = 1; i < 5; i++)
		KUNIT_EXPECT_EQ_MSG(test, gom_pm_lookup(run + i * PAGE_SIZE),
				    gom_pm_make(GOM_PM_TAIL, order, nid, 0),
				    "run page %lu", i);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(run + 5 * PAGE_SIZE),
			gom_pm_make(GOM_PM_FREE, order, nid, 0));
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(run + 6 * PAGE_SIZE),
			gom_pm_make(GOM_PM_FREE, order, nid, 1));
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(run + 7 * PAGE_SIZE),
			gom_pm_make(GOM_PM_TAIL, order, nid, 0));
	KUNIT_EXPECT_FALSE(test, gom_page_is_free((unsigned long)run +
						  4 * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, gom_page_is_free((unsigned long)run +
						 7 * PAGE_SIZE));
	/* the lookup is by page: any byte of the page gives its entry */
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(run + PAGE_SIZE - 1),
			gom_pm_lookup(run));
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(obj + 1), (unsigned long)s);

	gom_free(obj);
	gom_free_pages(run);
	gom_shrink_all();
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(run), GOM_PM_NONE);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(cached), GOM_PM_NONE);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(obj), GOM_PM_NONE);
	gom_heap_stats(&h1);
	KUNIT_EXPECT_EQ(test, h1.arenas_by_order[order],
			h0.arenas_by_order[order]);
}

/*
 * Memory gomalloc does not own gives GOM_PM_NONE, and its frees are
 * refused without the memory being touched: addresses outside the direct
 * map and unmapped ones included.
 */
static void mheap_pagemap_foreign(struct kunit *test)
{
	static const unsigned long odd[] = {
		0x1000, 0x7fff00001000UL, -PAGE_SIZE, PAGE_OFFSET,
	};
	size_t kmsizes[] = { 8, 200, PAGE_SIZE, 3 * PAGE_SIZE };
	unsigned long beyond;
	struct page *page;
	u8 stack_buf[64];
	void *k, *v, *p;
	unsigned int i;
	long inv;

	mh_ctx(test);
	for (i = 0; i < ARRAY_SIZE(kmsizes); i++) {
		k = kmalloc(kmsizes[i], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, k);
		gom_t_fill(k, kmsizes[i], i);
		gom_t_expect_foreign(test, k, kmsizes[i], i, "kmalloc()");
		kfree(k);
	}
	v = vmalloc(2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, v);
	gom_t_fill(v, 2 * PAGE_SIZE, 5);
	gom_t_expect_foreign(test, v, 2 * PAGE_SIZE, 5, "vmalloc()");
	vfree(v);
	page = alloc_pages(GFP_KERNEL, 2);
	KUNIT_ASSERT_NOT_NULL(test, page);
	p = page_address(page);
	gom_t_fill(p, 4 * PAGE_SIZE, 6);
	gom_t_expect_foreign(test, p, 4 * PAGE_SIZE, 6, "alloc_pages()");
	gom_t_expect_foreign(test, p + 3 * PAGE_SIZE, PAGE_SIZE,
			     6 + (u8)(3 * PAGE_SIZE * 7), "alloc_pages() + 3");
	__free_pages(page, 2);
	gom_t_fill(stack_buf, sizeof(stack_buf), 7);
	gom_t_expect_foreign(test, stack_buf, sizeof(stack_buf), 7, "stack");
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(&mh_saved_cap), GOM_PM_NONE);
	KUNIT_EXPECT_EQ(test, gom_pm_lookup(mheap_pagemap_foreign),
			GOM_PM_NONE);

	/* never dereferenced: any address is safe to refuse */
	beyond = PAGE_OFFSET + ((READ_ONCE(gom_pm)->nr << GOM_PM_LEAF_SHIFT)
				<< PAGE_SHIFT);
	for (i = 0; i <= ARRAY_SIZE(odd); i++) {
		void *a = (void *)(i < ARRAY_SIZE(odd) ? odd[i] : beyond);

		KUNIT_EXPECT_EQ_MSG(test, gom_pm_lookup(a), GOM_PM_NONE,
				    "address %lx", (unsigned long)a);
		KUNIT_EXPECT_EQ(test, gom_usable_size(a), (size_t)0);
		gom_t_expect_free_refused(test, a, "an odd address");
		gom_t_expect_free_pages_refused(test, a, "an odd address");
	}
	/* NULL and ZERO_SIZE_PTR are no-ops, not refusals */
	inv = gom_t_inv();
	gom_free(NULL);
	gom_free(ZERO_SIZE_PTR);
	gom_free_pages(NULL);
	KUNIT_EXPECT_EQ(test, gom_t_inv(), inv);
}

/* One allocation of a fallback case. */
struct fb_obj {
	void *p;
	size_t asked;		/* what was asked for, filled */
	size_t size;		/* usable */
	int aorder;		/* order of its arena */
	bool large;
	bool pages;		/* from gom_alloc_pages() */
	u8 seed;
};

/* Large allocations: pages, with gom_alloc_pages() or gom_alloc(). */
static const struct {
	unsigned int npages;
	size_t bytes;		/* 0: gom_alloc_pages() */
} fb_large[] = {
	{ 1, 0 },				/* run cache, order 0 */
	{ 5, 0 },				/* a few pages, odd */
	{ 9, GOM_MAX_SMALL_SIZE + 1 },		/* smallest large object */
	{ 16, 0 },				/* power of two, cached */
	{ 25, 100000 },				/* an odd run */
	{ 128, 0 },				/* power of two, not cached */
};

/* Largest arena order a request of the fallback cases needs. */
#define FB_NEED_ORDER	7

struct fb_state {
	struct fb_obj *objs;
	unsigned int n;
	unsigned int fresh;		/* classes that carved a new span */
	unsigned int nmin;		/* of them, minimum spans */
	unsigned int top;		/* largest order growth asked for */
	unsigned long shorts;		/* growths below the order wanted */
};

/*
 * Check the order of the arena @heap grew by, if it grew, against what
 * growth asked for at the size @heap had before (@want, @start).
 */
static void fb_check_grown(struct kunit *test, struct fb_state *fs,
			   int grown, unsigned int want, unsigned int start)
{
	if (grown < 0)
		return;
	KUNIT_EXPECT_EQ(test, grown, (int)start);
	fs->top = max(fs->top, start);
	fs->shorts += grown < (int)want;
}

/* Whether this CPU's caches of @cls are empty and no span is partial. */
static bool class_fresh(int nid, unsigned int cls)
{
	struct gom_mag *m = gom_mc_mag(gom_mcache_of(smp_processor_id()), cls);

	return !READ_ONCE(gom_central(nid, cls)->nr_partial) && !m->span &&
	       !m->count;
}

/* The order of the one arena @heap gained since @before, -1 if none. */
static int grown_order(struct kunit *test, struct gom_mheap *heap,
		       const unsigned long *before)
{
	int o, grown = -1, n = 0;

	for (o = 0; o <= GOM_MAX_ORDER; o++) {
		if (READ_ONCE(heap->nr_arenas[o]) != before[o]) {
			n += READ_ONCE(heap->nr_arenas[o]) - before[o];
			grown = o;
		}
	}
	KUNIT_EXPECT_LE(test, n, 1);
	return grown;
}

/*
 * Allocate one object of @cls and check the span it came from: the
 * preferred size if the heap had a block for it or grew by one, else the
 * minimum, counted in spans_min. A class whose minimum span is not worth
 * a hole (gom_hole_worth()) first grows the heap for its preferred span,
 * unless grow_max_order is below it.
 */
static noinline void fb_alloc_class(struct kunit *test, struct fb_state *fs,
				    unsigned int cls)
{
	const struct gom_class *k = &gom_classes[cls];
	unsigned int pref = order_base_2(k->npages);
	unsigned int mino = order_base_2(k->min_pages);
	unsigned long arenas[GOM_MAX_ORDER + 1];
	struct gom_class_stats before, after;
	bool fresh, has_pref, has_min, want_pref, spare;
	unsigned int want, start, grow_min;
	struct fb_obj *o = &fs->objs[fs->n];
	struct gom_mheap *heap;
	struct gom_span *s;
	int nid, grown;

	gom_class_stats(cls, &before);
	migrate_disable();
	nid = numa_mem_id();
	heap = gom_heaps[nid];
	fresh = class_fresh(nid, cls);
	has_pref = gom_t_heap_has_block(heap, pref);
	has_min = gom_t_heap_has_block(heap, mino);
	/* growth for the preferred span comes before a hole */
	spare = !has_pref && k->min_pages != k->npages && !gom_hole_worth(k) &&
		pref <= READ_ONCE(gom_grow_max_order);
	grow_min = spare ? pref : mino;
	want = gom_t_want_order(heap, grow_min);
	start = gom_t_grow_order(heap, grow_min);
	memcpy(arenas, heap->nr_arenas, sizeof(arenas));
	o->p = gom_alloc(k->size, GFP_KERNEL);
	grown = grown_order(test, heap, arenas);
	migrate_enable();
	gom_class_stats(cls, &after);
	KUNIT_ASSERT_NOT_NULL_MSG(test, o->p, "class %u", cls);
	fb_check_grown(test, fs, grown, want, start);
	o->asked = k->size;
	o->size = k->size;
	o->seed = cls;
	gom_t_fill(o->p, o->asked, o->seed);
	fs->n++;
	KUNIT_EXPECT_EQ(test, gom_usable_size(o->p), o->size);
	s = gom_t_span_of(o->p);
	KUNIT_ASSERT_NOT_NULL(test, s);
	o->aorder = s->aorder;
	KUNIT_EXPECT_EQ(test, (unsigned int)s->cls, cls);
	KUNIT_EXPECT_EQ(test, (int)s->node, nid);
	KUNIT_EXPECT_EQ(test, gom_t_arena_order(o->p), (int)s->aorder);
	if (!fresh) {
		/* it came from a span someone else left partial */
		KUNIT_EXPECT_TRUE(test, s->npages == k->npages ||
				  s->npages == k->min_pages);
		return;
	}
	if (has_pref || (has_min && !spare)) {
		want_pref = has_pref;
		KUNIT_EXPECT_EQ_MSG(test, grown, -1, "class %u", cls);
	} else {
		/* the heap grew by one arena, of the order checked above */
		KUNIT_EXPECT_GE_MSG(test, grown, 0, "class %u", cls);
		KUNIT_EXPECT_EQ(test, (int)s->aorder, grown);
		want_pref = grown >= (int)pref;
	}
	fs->fresh++;
	fs->nmin += !want_pref;
	KUNIT_EXPECT_EQ_MSG(test, (unsigned int)s->npages,
			    (unsigned int)(want_pref ? k->npages : k->min_pages),
			    "class %u", cls);
	KUNIT_EXPECT_EQ_MSG(test, (unsigned int)s->nobjs,
			    (unsigned int)(want_pref ? k->nobjs : k->min_nobjs),
			    "class %u", cls);
	KUNIT_EXPECT_EQ_MSG(test, after.spans_min - before.spans_min,
			    want_pref ? 0UL : 1UL, "class %u", cls);
	KUNIT_EXPECT_EQ_MSG(test, after.spans - before.spans, 1UL, "class %u",
			    cls);
}

/* Allocate the @i-th large size and check its page map entry. */
static noinline void fb_alloc_large(struct kunit *test, struct fb_state *fs,
				    unsigned int i)
{
	unsigned int npages = fb_large[i].npages, need = order_base_2(npages);
	unsigned long arenas[GOM_MAX_ORDER + 1], e;
	unsigned int want, start;
	struct fb_obj *o = &fs->objs[fs->n];
	struct gom_mheap *heap;
	int nid, grown;

	migrate_disable();
	nid = numa_mem_id();
	heap = gom_heaps[nid];
	want = gom_t_want_order(heap, need);
	start = gom_t_grow_order(heap, need);
	memcpy(arenas, heap->nr_arenas, sizeof(arenas));
	if (fb_large[i].bytes)
		o->p = gom_alloc(fb_large[i].bytes, GFP_KERNEL);
	else
		o->p = gom_alloc_pages(npages, GFP_KERNEL);
	grown = grown_order(test, heap, arenas);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL_MSG(test, o->p, "%u pages", npages);
	fb_check_grown(test, fs, grown, want, start);
	o->size = (size_t)npages << PAGE_SHIFT;
	o->asked = fb_large[i].bytes ? fb_large[i].bytes : o->size;
	o->large = true;
	o->pages = !fb_large[i].bytes;
	o->seed = 100 + i;
	gom_t_fill(o->p, o->asked, o->seed);
	fs->n++;
	e = gom_pm_lookup(o->p);
	o->aorder = gom_pm_aorder(e);
	KUNIT_EXPECT_EQ(test, gom_pm_tag(e), GOM_PM_LARGE);
	KUNIT_EXPECT_EQ(test, gom_pm_val(e), (unsigned long)npages);
	KUNIT_EXPECT_EQ(test, gom_pm_node(e), nid);
	KUNIT_EXPECT_GE(test, o->aorder, (int)need);
	KUNIT_EXPECT_EQ(test, gom_usable_size(o->p), o->size);
}

/* Interior pointers of a small object: refused, the object untouched. */
static noinline void fb_refuse_small(struct kunit *test, struct fb_obj *o)
{
	u8 *p = o->p;

	gom_t_expect_free_refused(test, p + 8, "object + 8");
	gom_t_expect_free_refused(test, p + 1, "object + 1");
	gom_t_expect_free_refused(test, p + o->size - 1, "object's last byte");
	gom_t_expect_free_pages_refused(test, p, "object");
	gom_t_expect_free_pages_refused(test, p + 8, "object + 8");
	KUNIT_EXPECT_EQ(test, gom_usable_size(p + 8), (size_t)0);
	KUNIT_EXPECT_EQ(test, gom_usable_size(p + 1), (size_t)0);
	KUNIT_EXPECT_EQ(test, gom_usable_size(p), o->size);
}

/* Interior pointers of a run: refused, the run untouched. */
static noinline void fb_refuse_large(struct kunit *test, struct fb_obj *o)
{
	u8 *p = o->p;

	gom_t_expect_free_refused(test, p + 1, "run + 1");
	gom_t_expect_free_pages_refused(test, p + 1, "run + 1");
	KUNIT_EXPECT_EQ(test, gom_usable_size(p + 1), (size_t)0);
	if (o->size > PAGE_SIZE) {
		gom_t_expect_free_refused(test, p + PAGE_SIZE,
					  "run + PAGE_SIZE");
		gom_t_expect_free_pages_refused(test, p + PAGE_SIZE,
						"run + PAGE_SIZE");
		gom_t_expect_free_refused(test, p + o->size - PAGE_SIZE,
					  "run's last page");
		KUNIT_EXPECT_EQ(test, gom_usable_size(p + PAGE_SIZE),
				(size_t)0);
	}
	KUNIT_EXPECT_EQ(test, gom_usable_size(p), o->size);
}

/* Foreign pointers, each filled, refused and left alone. */
static noinline void fb_refuse_foreign(struct kunit *test)
{
	struct page *page;
	u8 stack_buf[64];
	void *k, *v;

	k = kmalloc(200, GFP_KERNEL);
	v = vmalloc(PAGE_SIZE);
	page = alloc_page(GFP_KERNEL);
	if (k) {
		gom_t_fill(k, 200, 1);
		gom_t_expect_foreign(test, k, 200, 1, "kmalloc()");
	}
	if (v) {
		gom_t_fill(v, PAGE_SIZE, 2);
		gom_t_expect_foreign(test, v, PAGE_SIZE, 2, "vmalloc()");
	}
	if (page) {
		gom_t_fill(page_address(page), PAGE_SIZE, 3);
		gom_t_expect_foreign(test, page_address(page), PAGE_SIZE, 3,
				     "alloc_page()");
	}
	gom_t_fill(stack_buf, sizeof(stack_buf), 4);
	gom_t_expect_foreign(test, stack_buf, sizeof(stack_buf), 4, "stack");
	kfree(k);
	vfree(v);
	if (page)
		__free_page(page);
	KUNIT_EXPECT_NOT_NULL(test, k);
	KUNIT_EXPECT_NOT_NULL(test, v);
	KUNIT_EXPECT_NOT_NULL(test, page);
}

/*
 * Foreign pointers, and interior pointers of an object and of a run in
 * arenas of every order: refused. Every order that gained arenas since
 * @h0 must have had an allocation to try.
 */
static noinline void fb_refuse_all(struct kunit *test, struct fb_state *fs,
				   const struct gom_heap_stats *h0,
				   const struct gom_heap_stats *h1)
{
	unsigned int i, o;
	bool covered;

	fb_refuse_foreign(test);
	for (o = 0; o <= GOM_MAX_ORDER; o++) {
		struct fb_obj *small = NULL, *large = NULL;

		for (i = 0; i < fs->n; i++) {
			if (fs->objs[i].aorder != o)
				continue;
			if (fs->objs[i].large && !large)
				large = &fs->objs[i];
			if (!fs->objs[i].large && fs->objs[i].size > 8 && !small)
				small = &fs->objs[i];
		}
		if (small)
			fb_refuse_small(test, small);
		if (large)
			fb_refuse_large(test, large);
		covered = small || large;
		if (h1->arenas_by_order[o] > h0->arenas_by_order[o])
			KUNIT_EXPECT_TRUE_MSG(test, covered,
					      "no allocation in the new arenas of order %u",
					      o);
	}
}

/*
 * With growth capped at 2^@cap pages (-1: the module's settings, arenas
 * sized in proportion to the heap): every class and large size allocates,
 * from minimum spans where the cap leaves no block of the preferred size,
 * in arenas of the order growth asks for, and only those below the order
 * wanted count as fallbacks; foreign and interior pointers are refused in
 * arenas of every order present, and the objects stay intact through it
 * all.
 */
static void fallback_case(struct kunit *test, int cap)
{
	unsigned int eff, cls, i, o;
	struct gom_heap_stats *h0, *h1, *h2;
	long inv, dbl, failures;
	struct fb_state fs = { };

	fs.objs = kunit_kcalloc(test, GOM_NR_CLASSES + ARRAY_SIZE(fb_large),
				sizeof(*fs.objs), GFP_KERNEL);
	h0 = kunit_kcalloc(test, 3, sizeof(*h0), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs.objs);
	KUNIT_ASSERT_NOT_NULL(test, h0);
	h1 = h0 + 1;
	h2 = h0 + 2;
	if (cap >= 0)
		set_cap(cap);
	eff = gom_t_grow_order(mh_ctx(test)->h, 0);
	gom_heap_stats(h0);
	failures = gom_t_failures();
	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		fb_alloc_class(test, &fs, cls);
	for (i = 0; i < ARRAY_SIZE(fb_large); i++)
		fb_alloc_large(test, &fs, i);
	gom_heap_stats(h1);
	KUNIT_EXPECT_EQ(test, gom_t_failures(), failures);
	KUNIT_EXPECT_EQ(test, h1->grow_failures, h0->grow_failures);
	kunit_info(test, "cap %d: %u of %u new spans minimum; arenas by order: %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu\n",
		   cap, fs.nmin, fs.fresh,
		   h1->arenas_by_order[0] - h0->arenas_by_order[0],
		   h1->arenas_by_order[1] - h0->arenas_by_order[1],
		   h1->arenas_by_order[2] - h0->arenas_by_order[2],
		   h1->arenas_by_order[3] - h0->arenas_by_order[3],
		   h1->arenas_by_order[4] - h0->arenas_by_order[4],
		   h1->arenas_by_order[5] - h0->arenas_by_order[5],
		   h1->arenas_by_order[6] - h0->arenas_by_order[6],
		   h1->arenas_by_order[7] - h0->arenas_by_order[7],
		   h1->arenas_by_order[8] - h0->arenas_by_order[8],
		   h1->arenas_by_order[9] - h0->arenas_by_order[9],
		   h1->arenas_by_order[10] - h0->arenas_by_order[10]);

	/* arenas of the first order asked for appear, none above any asked */
	KUNIT_EXPECT_GT(test, h1->arenas_by_order[eff], h0->arenas_by_order[eff]);
	for (o = max(eff, fs.top) + 1; o <= GOM_MAX_ORDER; o++)
		KUNIT_EXPECT_EQ_MSG(test, h1->arenas_by_order[o],
				    h0->arenas_by_order[o], "order %u", o);
	KUNIT_EXPECT_EQ(test, h1->grow_fallbacks - h0->grow_fallbacks,
			fs.shorts);
	/* below a cap of 2 no block fits a preferred span (4 pages or more) */
	if (eff < 2)
		KUNIT_EXPECT_EQ(test, fs.nmin, fs.fresh);

	fb_refuse_all(test, &fs, h0, h1);
	inv = gom_t_inv();
	dbl = gom_t_dbl();
	for (i = 0; i < fs.n; i++) {
		struct fb_obj *ob = &fs.objs[i];

		KUNIT_EXPECT_TRUE_MSG(test, gom_t_intact(ob->p, ob->asked,
							 ob->seed),
				      "allocation %u (%zu bytes) changed", i,
				      ob->asked);
		if (ob->pages)
			gom_free_pages(ob->p);
		else
			gom_free(ob->p);
	}
	KUNIT_EXPECT_EQ(test, gom_t_inv(), inv);
	KUNIT_EXPECT_EQ(test, gom_t_dbl(), dbl);
	gom_shrink_all();
	gom_heap_stats(h2);
	KUNIT_EXPECT_EQ(test, h2->arenas, h0->arenas);
	KUNIT_EXPECT_EQ(test, h2->pages_total, h0->pages_total);
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		struct gom_class_stats st;

		gom_class_stats(cls, &st);
		KUNIT_EXPECT_EQ_MSG(test, st.spans_owned, 0UL, "class %u", cls);
	}
	gom_t_expect_consistent(test, "after the fallback case");
}

static void mheap_fallback_cap0(struct kunit *test)
{
	fallback_case(test, 0);
}

static void mheap_fallback_cap1(struct kunit *test)
{
	fallback_case(test, 1);
}

static void mheap_fallback_cap3(struct kunit *test)
{
	fallback_case(test, 3);
}

/* The module's settings: by default no cap, arenas sized by the heap. */
static void mheap_fallback_default(struct kunit *test)
{
	fallback_case(test, -1);
}

/* Grow @h once with @min_order; check the order against @want. */
static unsigned int grow_prop(struct kunit *test, struct gom_mheap *h,
			      unsigned int min_order, unsigned int want)
{
	unsigned long arenas[GOM_MAX_ORDER + 1], fallbacks = h->grow_fallbacks;
	int got;

	memcpy(arenas, h->nr_arenas, sizeof(arenas));
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, min_order, GFP_KERNEL), 0);
	got = grown_order(test, h, arenas);
	KUNIT_ASSERT_GE(test, got, (int)min_order);
	/* only a page allocator out of blocks that large gives less */
	if (h->grow_fallbacks == fallbacks)
		KUNIT_EXPECT_EQ(test, got, (int)want);
	else
		KUNIT_EXPECT_LT(test, got, (int)want);
	return got;
}

/*
 * Arenas in proportion to the heap, on a private heap: a fresh heap grows
 * by arena_min_order, a request that needs more still gets a block that
 * holds it (and that is no fallback), and each growth asks for an eighth
 * of the heap until the heap passes 2^(arena_order + 3) pages, from where
 * it grows by full arenas.
 */
static void mheap_grow_proportional(struct kunit *test)
{
	struct gom_mheap *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	unsigned int lo = min(gom_arena_min_order, gom_arena_order);
	unsigned int top = gom_arena_order, o, grows = 0;
	unsigned long full = 1UL << (top + 3);
	struct mh_ctx *x = mh_ctx(test);
	long bytes = gom_heap_bytes();

	KUNIT_ASSERT_NOT_NULL(test, h);
	gom_mheap_init(h, x->h->node);
	KUNIT_EXPECT_EQ(test, gom_t_want_order(h, 0), lo);
	grow_prop(test, h, 0, lo);
	if (lo < top) {
		/* larger than the order a small heap wants: what it needs */
		grow_prop(test, h, lo + 1, lo + 1);
		KUNIT_EXPECT_EQ(test, h->grow_fallbacks, 0UL);
	}
	/* 2^(top + 3) pages: 32 MiB with 4 MiB arenas */
	while (h->pages_total < full && grows++ < 64) {
		o = h->pages_total / 8 ? ilog2(h->pages_total / 8) : 0;
		o = clamp(o, lo, top);
		KUNIT_EXPECT_EQ(test, gom_t_want_order(h, 0), o);
		grow_prop(test, h, 0, o);
	}
	KUNIT_EXPECT_GE(test, h->pages_total, full);
	grow_prop(test, h, 0, top);
	kunit_info(test, "%u growths to %lu KiB, arenas by order: %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu, %lu fallbacks\n",
		   grows + 3, (h->pages_total << PAGE_SHIFT) >> 10,
		   h->nr_arenas[0], h->nr_arenas[1], h->nr_arenas[2],
		   h->nr_arenas[3], h->nr_arenas[4], h->nr_arenas[5],
		   h->nr_arenas[6], h->nr_arenas[7], h->nr_arenas[8],
		   h->nr_arenas[9], h->nr_arenas[10], h->grow_fallbacks);
	KUNIT_EXPECT_EQ(test, gom_mheap_destroy(h), 0UL);
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), bytes);
}

/*
 * mem_limit: an allocation that would take the heap over the limit fails
 * and counts alloc_limited, smaller blocks that fit are still taken, frees
 * make room again, and __GFP_NOFAIL ignores the limit.
 */
static void mheap_limit_refuses_crossing(struct kunit *test)
{
	size_t big = PAGE_SIZE << GOM_MAX_ORDER;
	unsigned long limit, room = big / 2;
	long base, limited, failures;
	void *q[2], *p, *run, *small, *nofail;
	bool fresh;
	int nid;

	mh_ctx(test);
	base = gom_heap_bytes();
	limit = base + room;
	limited = gom_t_limited();
	failures = gom_t_failures();
	KUNIT_ASSERT_EQ(test, gom_set_mem_limit(limit), 0);

	/* a block of the largest order cannot fit in the room left */
	p = gom_alloc(big, GFP_KERNEL | __GFP_NOWARN);
	KUNIT_EXPECT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_t_limited(), limited + 1);
	KUNIT_EXPECT_EQ(test, gom_t_failures(), failures + 1);
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), base);

	/* two quarters fit, in arenas no larger than the room left */
	migrate_disable();
	nid = numa_mem_id();
	q[0] = gom_alloc(big / 4, GFP_KERNEL | __GFP_NOWARN);
	q[1] = gom_alloc(big / 4, GFP_KERNEL | __GFP_NOWARN);
	/* and then nothing that needs the heap to grow */
	run = gom_alloc_pages(16, GFP_KERNEL | __GFP_NOWARN);
	fresh = class_fresh(nid, gom_size_class(64));
	small = gom_alloc(64, GFP_KERNEL | __GFP_NOWARN);
	migrate_enable();
	KUNIT_EXPECT_NOT_NULL(test, q[0]);
	KUNIT_EXPECT_NOT_NULL(test, q[1]);
	KUNIT_EXPECT_NULL(test, run);
	if (fresh)
		KUNIT_EXPECT_NULL(test, small);
	KUNIT_EXPECT_EQ(test, gom_heap_bytes(), (long)limit);
	KUNIT_EXPECT_EQ(test, gom_t_limited(), limited + 2 + !!fresh);
	KUNIT_EXPECT_EQ(test, gom_t_failures(), failures + 2 + !!fresh);
	gom_t_expect_consistent(test, "at the limit");

	/* __GFP_NOFAIL is not refused */
	nofail = gom_alloc(64, GFP_KERNEL | __GFP_NOFAIL);
	KUNIT_EXPECT_NOT_NULL(test, nofail);
	KUNIT_EXPECT_EQ(test, gom_t_limited(), limited + 2 + !!fresh);
	if (nofail)
		memset(nofail, 0x6b, 64);
	kunit_info(test, "__GFP_NOFAIL took the heap %ld KiB over the limit\n",
		   (gom_heap_bytes() - (long)limit) >> 10);
	gom_t_expect_consistent(test, "over the limit with __GFP_NOFAIL");

	/* frees and a shrink make room again */
	gom_free(q[0]);
	gom_free(q[1]);
	gom_free(small);
	gom_free(nofail);
	gom_shrink_all();
	KUNIT_EXPECT_EQ(test, gom_t_settle_heap_bytes(base), base);
	migrate_disable();
	q[0] = gom_alloc(big / 4, GFP_KERNEL | __GFP_NOWARN);
	small = gom_alloc(64, GFP_KERNEL | __GFP_NOWARN);
	migrate_enable();
	KUNIT_EXPECT_NOT_NULL(test, q[0]);
	KUNIT_EXPECT_NOT_NULL(test, small);
	KUNIT_EXPECT_LE(test, gom_heap_bytes(), (long)limit);
	gom_t_expect_consistent(test, "back under the limit");
	gom_free(q[0]);
	gom_free(small);
	gom_shrink_all();
	KUNIT_EXPECT_EQ(test, gom_t_settle_heap_bytes(base), base);
	KUNIT_EXPECT_EQ(test, gom_t_limited(), limited + 2 + !!fresh);
}

struct lim_obj {
	struct list_head node;
	u32 size;
	u32 seed;
};

struct lim_worker {
	struct task_struct *task;
	struct completion done;
	struct list_head objs;
	unsigned int cpu;
	unsigned long allocs;
	unsigned int fails;
};

#define LIM_FAILS	64
#define LIM_MAX_ALLOCS	40000

static void lim_fill(struct lim_obj *o)
{
	gom_t_fill(o + 1, min_t(size_t, o->size - sizeof(*o), 256), o->seed);
}

static bool lim_intact(struct lim_obj *o)
{
	return gom_t_intact(o + 1, min_t(size_t, o->size - sizeof(*o), 256),
			    o->seed);
}

/* Allocate until the limit has refused LIM_FAILS times; keep everything. */
static int lim_fn(void *data)
{
	struct lim_worker *w = data;
	struct rnd_state rnd;
	struct lim_obj *o;
	u32 r, size;

	prandom_seed_state(&rnd, w->cpu + 1);
	while (w->fails < LIM_FAILS && w->allocs < LIM_MAX_ALLOCS) {
		r = prandom_u32_state(&rnd);
		size = r % 32 ? sizeof(*o) + r % 2048 : 40000;
		o = gom_alloc(size, GFP_KERNEL | __GFP_NOWARN);
		if (!o) {
			w->fails++;
			continue;
		}
		o->size = size;
		o->seed = r;
		lim_fill(o);
		list_add(&o->node, &w->objs);
		if (++w->allocs % 64 == 0)
			cond_resched();
	}
	kthread_complete_and_exit(&w->done, 0);
}

static bool lim_all_done(struct lim_worker *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!completion_done(&w[i].done))
			return false;
	return true;
}

/*
 * A kthread on every online CPU allocates until the limit refuses it: the
 * heap never holds more than the limit, sampled all along.
 */
static void mheap_limit_concurrent(struct kunit *test)
{
	unsigned long limit, samples = 0, allocs = 0, fails = 0;
	unsigned long pages, peak_pages = 0;
	long base, limited, failures, bytes, peak = 0;
	int nid;
	struct lim_worker *w;
	struct lim_obj *o, *tmp;
	unsigned int cpu, n = 0, i, bad = 0;

	mh_ctx(test);
	w = kunit_kcalloc(test, num_online_cpus(), sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	base = gom_heap_bytes();
	limit = base + 3 * (PAGE_SIZE << min(gom_arena_order, 9U));
	limited = gom_t_limited();
	failures = gom_t_failures();
	KUNIT_ASSERT_EQ(test, gom_set_mem_limit(limit), 0);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		if (n == num_online_cpus())
			break;
		w[n].cpu = cpu;
		INIT_LIST_HEAD(&w[n].objs);
		init_completion(&w[n].done);
		w[n].task = kthread_create(lim_fn, &w[n], "gom_lim/%u", cpu);
		if (IS_ERR(w[n].task))
			break;
		kthread_bind(w[n].task, cpu);
		wake_up_process(w[n].task);
		n++;
	}
	cpus_read_unlock();
	while (!lim_all_done(w, n)) {
		bytes = gom_heap_bytes();
		peak = max(peak, bytes);
		/* and the pages the heaps really hold */
		pages = 0;
		for_each_node(nid)
			pages += READ_ONCE(gom_heaps[nid]->pages_total);
		peak_pages = max(peak_pages, pages);
		if (++samples % 1024 == 0)
			cond_resched();
	}
	for (i = 0; i < n; i++)
		wait_for_completion(&w[i].done);

	kunit_info(test, "%lu samples, peak %ld KiB (arenas %lu KiB) of a %lu KiB limit (%ld KiB at start)\n",
		   samples, peak >> 10, (peak_pages << PAGE_SHIFT) >> 10,
		   limit >> 10, base >> 10);
	KUNIT_EXPECT_EQ(test, n, num_online_cpus());
	KUNIT_EXPECT_LE(test, peak, (long)limit);
	KUNIT_EXPECT_LE(test, peak_pages << PAGE_SHIFT, limit);
	KUNIT_EXPECT_LE(test, gom_heap_bytes(), (long)limit);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, w[i].fails, LIM_FAILS, "CPU %u",
				    w[i].cpu);
		allocs += w[i].allocs;
		fails += w[i].fails;
	}
	KUNIT_EXPECT_GT(test, allocs, 0UL);
	KUNIT_EXPECT_EQ(test, gom_t_limited() - limited, (long)fails);
	KUNIT_EXPECT_EQ(test, gom_t_failures() - failures, (long)fails);
	gom_t_expect_consistent(test, "with the heap at the limit");

	for (i = 0; i < n; i++) {
		list_for_each_entry_safe(o, tmp, &w[i].objs, node) {
			if (!lim_intact(o) || gom_usable_size(o) < o->size)
				bad++;
			list_del(&o->node);
			gom_free(o);
		}
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);
	gom_shrink_all();
	KUNIT_EXPECT_EQ(test, gom_t_settle_heap_bytes(base), base);
	gom_t_expect_consistent(test, "after freeing everything");
}

struct lim_flipper {
	struct task_struct *task;
	struct completion done;
	unsigned long flips;
	bool stop;
};

/*
 * Set mem_limit to what the heaps hold, which leaves no room for a page,
 * and lift it, over and over, until told to stop.
 */
static int flip_fn(void *data)
{
	struct lim_flipper *f = data;
	unsigned long limit;

	while (!READ_ONCE(f->stop)) {
		limit = f->flips++ & 1 ? 0 : max(gom_heap_bytes(), 1L);
		WRITE_ONCE(gom_mem_limit, limit);
		if (f->flips % 256 == 0)
			cond_resched();
	}
	kthread_complete_and_exit(&f->done, 0);
}

#define FLIP_GROWS	2000

/*
 * Whether to grow once more: FLIP_GROWS times, then on, up to eight times
 * as many, until both sides of the flip have been met (the host may have
 * held the flipper's vCPU back for a while).
 */
static bool flip_more(unsigned int i, unsigned long grown,
		      unsigned long refused)
{
	if (i < FLIP_GROWS)
		return true;
	return (!grown || !refused) && i < 8 * FLIP_GROWS;
}

/*
 * mem_limit set and lifted on another CPU while this one grows the heap
 * by a page at a time: a growth the limit refused fails with -EDQUOT, the
 * error the callers reclaim and retry on, whatever the limit is by the
 * time it returns; -ENOMEM, and a grow failure in the heap's statistics,
 * are for the page allocator's failures alone. A soak once saw
 * GFP_KERNEL allocations fail with -ENOMEM that way: the refusal was
 * read again after the limit had been lifted.
 */
static void mheap_limit_moving(struct kunit *test)
{
	struct mh_ctx *x = mh_ctx(test);
	struct gom_mheap *h = x->h;
	unsigned long grown = 0, refused = 0, nomem = 0, failures;
	struct lim_flipper f = { };
	unsigned int cpu, other, i;
	long base;
	int err;

	migrate_disable();
	cpu = smp_processor_id();
	other = cpumask_any_but(cpu_online_mask, cpu);
	if (other >= nr_cpu_ids) {
		migrate_enable();
		kunit_skip(test, "needs a second online CPU to move the limit");
	}
	set_cap(0);
	base = gom_heap_bytes();
	failures = READ_ONCE(h->grow_failures);
	init_completion(&f.done);
	f.task = kthread_create(flip_fn, &f, "gom_flip/%u", other);
	if (IS_ERR(f.task)) {
		migrate_enable();
		mh_restore();
		KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(f.task));
		return;
	}
	kthread_bind(f.task, other);
	wake_up_process(f.task);
	for (i = 0; flip_more(i, grown, refused); i++) {
		err = gom_mheap_grow(h, 0, GFP_KERNEL);
		if (!err) {
			grown++;
			gom_mheap_release(h, 0);
		} else if (err == -EDQUOT) {
			refused++;
		} else {
			nomem++;
		}
	}
	WRITE_ONCE(f.stop, true);
	wait_for_completion(&f.done);
	migrate_enable();
	mh_restore();

	kunit_info(test, "%u growths: %lu grew, %lu refused, %lu failed; %lu flips on CPU %u\n",
		   i, grown, refused, nomem, f.flips, other);
	KUNIT_EXPECT_EQ(test, nomem, 0UL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(h->grow_failures), failures);
	/* both sides of the flip were met, or the case proved nothing */
	KUNIT_EXPECT_GT(test, grown, 0UL);
	KUNIT_EXPECT_GT(test, refused, 0UL);
	gom_shrink_all();
	KUNIT_EXPECT_EQ(test, gom_t_settle_heap_bytes(base), base);
}

static struct kunit_case gomalloc_mheap_cases[] = {
	KUNIT_CASE(mheap_held_heap_has_nothing),
	KUNIT_CASE(mheap_grow_adds_one_arena),
	KUNIT_CASE(mheap_split_and_merge),
	KUNIT_CASE(mheap_exact_large_run),
	KUNIT_CASE(mheap_random_runs_merge_back),
	KUNIT_CASE(mheap_grow_when_full),
	KUNIT_CASE(mheap_release_arenas),
	KUNIT_CASE(mheap_grow_order_cap),
	KUNIT_CASE(mheap_grow_spare),
	KUNIT_CASE(mheap_bad_free_run),
	KUNIT_CASE(mheap_recache_run),
	KUNIT_CASE(mheap_destroy_releases_all),
	KUNIT_CASE(mheap_grow_proportional),
	KUNIT_CASE(mheap_pagemap_entries),
	KUNIT_CASE(mheap_unmap_forgets_memo),
	KUNIT_CASE(mheap_pagemap_foreign),
	KUNIT_CASE(mheap_fallback_cap0),
	KUNIT_CASE(mheap_fallback_cap1),
	KUNIT_CASE(mheap_fallback_cap3),
	KUNIT_CASE(mheap_fallback_default),
	/* last: a limit step-down makes the next second's growth start lower */
	KUNIT_CASE(mheap_limit_refuses_crossing),
	KUNIT_CASE(mheap_limit_concurrent),
	KUNIT_CASE(mheap_limit_moving),
	{}
};

static struct kunit_suite gomalloc_mheap_suite = {
	.name = "gomalloc_mheap",
	.suite_init = mh_suite_init,
	.suite_exit = mh_suite_exit,
	.init = mh_init,
	.exit = mh_exit,
	.test_cases = gomalloc_mheap_cases,
};

kunit_test_suite(gomalloc_mheap_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's page heap, page map and memory limit");
