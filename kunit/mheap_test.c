// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_mheap: the buddy page heap on a private struct
 * gom_mheap, so that the global heaps' state does not matter. Its arenas
 * are registered in the global arena table like any other, so every case
 * gives them back (the suite exit destroys the heap as a safety net).
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "internal.h"

static unsigned long arena_pages(void)
{
	return 1UL << gom_arena_order;
}

static int mh_init(struct kunit *test)
{
	struct gom_mheap *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	KUNIT_EXPECT_EQ(test, gom_mheap_init(h, first_online_node), 0);
	test->priv = h;
	return 0;
}

static void mh_exit(struct kunit *test)
{
	struct gom_mheap *h = test->priv;

	if (h)
		gom_mheap_destroy(h);
}

/* Every page free and merged back into whole arenas. */
static void expect_unfragmented(struct kunit *test, struct gom_mheap *h)
{
	unsigned int o;

	for (o = 0; o < gom_arena_order; o++)
		KUNIT_EXPECT_EQ_MSG(test, h->nr_free[o], 0UL, "order %u", o);
	KUNIT_EXPECT_EQ(test, h->nr_free[gom_arena_order], h->nr_arenas);
	KUNIT_EXPECT_EQ(test, h->nr_empty_arenas, h->nr_arenas);
	KUNIT_EXPECT_EQ(test, h->pages_free, h->pages_total);
	KUNIT_EXPECT_EQ(test, h->pages_total, h->nr_arenas * arena_pages());
	KUNIT_EXPECT_EQ(test, h->large_spans, 0UL);
	KUNIT_EXPECT_EQ(test, h->large_pages, 0UL);
	KUNIT_EXPECT_EQ(test, h->small_spans, 0UL);
}

static void mh_empty_heap_has_nothing(struct kunit *test)
{
	struct gom_mheap *h = test->priv;

	KUNIT_EXPECT_EQ(test, h->pages_total, 0UL);
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 1, NULL));
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 5, NULL));
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_EQ(test, h->large_spans, 0UL);
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 0);
}

static void mh_grow_adds_one_arena(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	struct gom_arena *a;
	void *p;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 1UL);
	KUNIT_EXPECT_EQ(test, h->pages_total, arena_pages());
	KUNIT_EXPECT_EQ(test, h->pages_free, arena_pages());
	expect_unfragmented(test, h);

	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(p)), h->node);
	rcu_read_lock();
	a = gom_arena_lookup((unsigned long)p);
	KUNIT_EXPECT_NOT_NULL(test, a);
	if (a) {
		KUNIT_EXPECT_PTR_EQ(test, a->heap, h);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(a->base,
						   PAGE_SIZE << gom_arena_order));
		KUNIT_EXPECT_EQ(test, *gom_map_entry(a, (unsigned long)p),
				(1UL << GOM_MAP_SHIFT) | GOM_MAP_LARGE);
	}
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 1, NULL), 0);
	expect_unfragmented(test, h);
}

/* One page splits the arena into one free block of every lower order. */
static void mh_split_and_merge(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	unsigned int o;
	void *p;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (o = 0; o < gom_arena_order; o++)
		KUNIT_EXPECT_EQ_MSG(test, h->nr_free[o], 1UL, "order %u", o);
	KUNIT_EXPECT_EQ(test, h->nr_free[gom_arena_order], 0UL);
	KUNIT_EXPECT_EQ(test, h->nr_empty_arenas, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena_pages() - 1);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 1, NULL), 0);
	expect_unfragmented(test, h);
}

/* A five-page run holds five pages; the three-page tail stays free. */
static void mh_exact_large_run(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	struct gom_arena *a;
	unsigned long i;
	void *p, *q;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	p = gom_mheap_alloc_run(h, 5, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p));
	KUNIT_EXPECT_EQ(test, h->pages_free, arena_pages() - 5);
	KUNIT_EXPECT_EQ(test, h->large_spans, 1UL);
	KUNIT_EXPECT_EQ(test, h->large_pages, 5UL);
	memset(p, 0x5a, 5 * PAGE_SIZE);

	rcu_read_lock();
	a = gom_arena_lookup((unsigned long)p);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, *gom_map_entry(a, (unsigned long)p),
			(5UL << GOM_MAP_SHIFT) | GOM_MAP_LARGE);
	for (i = 1; i < 5; i++) {
		KUNIT_EXPECT_EQ(test, *gom_map_entry(a, (unsigned long)p +
						     i * PAGE_SIZE), 0UL);
		KUNIT_EXPECT_FALSE(test, gom_page_free(a, (unsigned long)p +
						       i * PAGE_SIZE));
	}
	/* pages 5..7 of the 8-page block came back as the tail */
	for (i = 5; i < 8; i++)
		KUNIT_EXPECT_TRUE(test, gom_page_free(a, (unsigned long)p +
						      i * PAGE_SIZE));
	rcu_read_unlock();

	/* a three-page run takes four pages and gives one back */
	q = gom_mheap_alloc_run(h, 3, NULL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena_pages() - 8);
	KUNIT_EXPECT_EQ(test, h->large_pages, 8UL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 5, NULL), 0);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena_pages() - 3);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, q, 3, NULL), 0);
	expect_unfragmented(test, h);
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
 * Random runs until the heap (two arenas) is nearly full, checked for
 * overlap, then freed in random order: everything merges back.
 */
static void mh_random_runs_merge_back(struct kunit *test)
{
	enum { MAX_RUNS = 512 };
	struct gom_mheap *h = test->priv;
	struct rnd_state rnd;
	unsigned long used = 0;
	struct mh_run *runs;
	int i, n = 0;

	runs = kunit_kcalloc(test, MAX_RUNS, sizeof(*runs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, runs);
	prandom_seed_state(&rnd, 0x60a110c);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);

	while (n < MAX_RUNS) {
		unsigned int np = 1 + prandom_u32_state(&rnd) % 48;
		unsigned long *p = gom_mheap_alloc_run(h, np, NULL);

		if (!p)
			break;
		p[0] = n;
		p[np * PAGE_SIZE / sizeof(long) - 1] = ~(unsigned long)n;
		runs[n].addr = p;
		runs[n].npages = np;
		n++;
		used += np;
		KUNIT_ASSERT_EQ(test, h->pages_free, h->pages_total - used);
		KUNIT_ASSERT_EQ(test, h->large_pages, used);
	}
	KUNIT_EXPECT_GT(test, n, 60);
	KUNIT_EXPECT_GT(test, used, h->pages_total / 2);

	/* no two runs overlap, and every run kept its marks */
	sort(runs, n, sizeof(*runs), run_cmp, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_LE(test, (unsigned long)runs[i - 1].addr +
				runs[i - 1].npages * PAGE_SIZE,
				(unsigned long)runs[i].addr);

	/* free in random order (Fisher-Yates shuffle) */
	for (i = n - 1; i > 0; i--) {
		int j = prandom_u32_state(&rnd) % (i + 1);

		swap(runs[i], runs[j]);
	}
	for (i = 0; i < n; i++) {
		unsigned long *p = runs[i].addr;
		unsigned int np = runs[i].npages;

		KUNIT_EXPECT_EQ(test, ~p[np * PAGE_SIZE / sizeof(long) - 1],
				p[0]);
		KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, np, NULL), 0);
		used -= np;
		KUNIT_EXPECT_EQ(test, h->pages_free, h->pages_total - used);
	}
	expect_unfragmented(test, h);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 2UL);
}

/* A full heap returns NULL until it grows by one arena. */
static void mh_grow_when_full(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	void *whole, *p;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	whole = gom_mheap_alloc_run(h, arena_pages(), NULL);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)whole,
					   PAGE_SIZE << gom_arena_order));
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 1, NULL));

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 2UL);
	KUNIT_EXPECT_EQ(test, h->pages_total, 2 * arena_pages());
	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, h->pages_free, arena_pages() - 1);
	/* a run larger than an arena never fits */
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, arena_pages() + 1,
						    NULL));
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, whole, arena_pages(),
						 NULL), 0);
	expect_unfragmented(test, h);
}

/* Release gives wholly free arenas back and only those, minus @keep. */
static void mh_release_arenas(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	unsigned long released = h->pages_released;
	void *p;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, h->nr_empty_arenas, 2UL);

	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 1), 1);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 1UL);
	KUNIT_EXPECT_EQ(test, h->pages_total, arena_pages());
	KUNIT_EXPECT_EQ(test, h->pages_released, released + arena_pages());
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 1), 0);

	/* an arena with a page in use stays */
	p = gom_mheap_alloc_run(h, 1, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 0);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 1UL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 1, NULL), 0);

	KUNIT_EXPECT_EQ(test, gom_mheap_release(h, 0), 1);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_total, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_free, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_released, released + 2 * arena_pages());
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, gom_arena_lookup((unsigned long)p));
	rcu_read_unlock();
	KUNIT_EXPECT_NULL(test, gom_mheap_alloc_run(h, 1, NULL));
}

/* Freeing a run twice, or with the wrong length or owner, is refused. */
static void mh_bad_free_run(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	struct gom_span *fake, *other;
	struct gom_arena *a;
	void *p, *k;
	int i;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	p = gom_mheap_alloc_run(h, 5, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 4, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p + PAGE_SIZE, 4, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, h->large_pages, 5UL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 5, NULL), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 5, NULL), -EINVAL);
	expect_unfragmented(test, h);

	k = kmalloc(PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, k, 1, NULL), -EINVAL);
	kfree(k);

	/* a small-span run is owned by its span descriptor */
	fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	other = kunit_kzalloc(test, sizeof(*other), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	KUNIT_ASSERT_NOT_NULL(test, other);
	p = gom_mheap_alloc_run(h, 3, fake);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, h->small_spans, 1UL);
	KUNIT_EXPECT_EQ(test, h->large_spans, 0UL);
	rcu_read_lock();
	a = gom_arena_lookup((unsigned long)p);
	KUNIT_EXPECT_NOT_NULL(test, a);
	for (i = 0; a && i < 3; i++)
		KUNIT_EXPECT_EQ(test, *gom_map_entry(a, (unsigned long)p +
						     i * PAGE_SIZE),
				(unsigned long)fake);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 3, other), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 3, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 3, fake), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 3, fake), -EINVAL);
	expect_unfragmented(test, h);
}

/* Destroy gives every free arena back. */
static void mh_destroy_releases_all(struct kunit *test)
{
	struct gom_mheap *h = test->priv;
	void *p;

	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, gom_mheap_grow(h, GFP_KERNEL), 0);
	p = gom_mheap_alloc_run(h, 7, NULL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gom_mheap_free_run(h, p, 7, NULL), 0);
	KUNIT_EXPECT_EQ(test, gom_mheap_destroy(h), 0UL);
	KUNIT_EXPECT_EQ(test, h->nr_arenas, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_total, 0UL);
	KUNIT_EXPECT_EQ(test, h->pages_released, 2 * arena_pages());
	KUNIT_EXPECT_TRUE(test, list_empty(&h->arenas));
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, gom_arena_lookup((unsigned long)p));
	rcu_read_unlock();
}

static struct kunit_case gomalloc_mheap_cases[] = {
	KUNIT_CASE(mh_empty_heap_has_nothing),
	KUNIT_CASE(mh_grow_adds_one_arena),
	KUNIT_CASE(mh_split_and_merge),
	KUNIT_CASE(mh_exact_large_run),
	KUNIT_CASE(mh_random_runs_merge_back),
	KUNIT_CASE(mh_grow_when_full),
	KUNIT_CASE(mh_release_arenas),
	KUNIT_CASE(mh_bad_free_run),
	KUNIT_CASE(mh_destroy_releases_all),
	{}
};

static struct kunit_suite gomalloc_mheap_suite = {
	.name = "gomalloc_mheap",
	.init = mh_init,
	.exit = mh_exit,
	.test_cases = gomalloc_mheap_cases,
};

kunit_test_suite(gomalloc_mheap_suite);

GOM_MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's page heap");
