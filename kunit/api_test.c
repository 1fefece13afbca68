// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_api: the public object and page API
 * (include/gomalloc.h) as a client module sees it: contents, sizes,
 * flags, NUMA placement, refused frees, concurrency, interrupts and CPU
 * hotplug. Every case starts from drained caches and counts deltas.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>
#include "gom_test.h"

static long errs(atomic_long_t *counter)
{
	return atomic_long_read(counter);
}

static bool all_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* The largest block the page allocator gives: the largest allocation. */
static unsigned long max_bytes(void)
{
	return PAGE_SIZE << GOM_MAX_ORDER;
}

static int api_init(struct kunit *test)
{
	gom_shrink_all();
	return 0;
}

/*
 * Every class, for its largest and its smallest request: the usable size
 * is the class size, and, as with ksize(), all of it may then be used.
 */
static void api_every_class(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		u32 size = gom_classes[cls].size;
		size_t asks[] = { size, gom_classes[cls - 1].size + 1 };
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(asks); i++) {
			void *p = gom_alloc(asks[i], GFP_KERNEL);
			void *q = gom_alloc(asks[i], GFP_KERNEL);

			KUNIT_ASSERT_NOT_NULL(test, p);
			KUNIT_ASSERT_NOT_NULL(test, q);
			KUNIT_EXPECT_EQ(test, gom_usable_size(p), (size_t)size);
			KUNIT_EXPECT_EQ(test, gom_usable_size(q), (size_t)size);
			gom_t_fill(p, size, cls);
			gom_t_fill(q, size, ~cls);
			KUNIT_EXPECT_TRUE_MSG(test, gom_t_intact(p, size, cls),
					      "class %u", cls);
			KUNIT_EXPECT_TRUE_MSG(test, gom_t_intact(q, size, ~cls),
					      "class %u", cls);
			gom_free(p);
			gom_free(q);
		}
	}
}

/* Size 0 gives ZERO_SIZE_PTR; NULL and ZERO_SIZE_PTR free as no-ops. */
static void api_zero_size_and_null(struct kunit *test)
{
	long inv = errs(&gom_counters.invalid_frees);
	long dbl = errs(&gom_counters.double_frees);

	KUNIT_EXPECT_PTR_EQ(test, gom_alloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	KUNIT_EXPECT_PTR_EQ(test, gom_alloc_node(0, GFP_KERNEL, 0),
			    ZERO_SIZE_PTR);
	gom_free(NULL);
	gom_free(ZERO_SIZE_PTR);
	gom_free_pages(NULL);
	KUNIT_EXPECT_EQ(test, gom_usable_size(NULL), (size_t)0);
	KUNIT_EXPECT_EQ(test, gom_usable_size(ZERO_SIZE_PTR), (size_t)0);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl);
}

/* More than the largest block cannot be served: NULL, counted. */
static void api_huge_fails(struct kunit *test)
{
	long fails = errs(&gom_counters.alloc_failures);
	long limited = errs(&gom_counters.alloc_limited);

	KUNIT_EXPECT_NULL(test, gom_alloc(max_bytes() + 1,
					  GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.alloc_failures), fails + 1);
	KUNIT_EXPECT_NULL(test, gom_alloc(SIZE_MAX, GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_NULL(test, gom_alloc_pages((1U << GOM_MAX_ORDER) + 1,
						GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_NULL(test, gom_alloc_pages(0, GFP_KERNEL | __GFP_NOWARN));
	KUNIT_EXPECT_NULL(test, gom_alloc_node(max_bytes() + 1,
					       GFP_KERNEL | __GFP_NOWARN, 0));
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.alloc_failures), fails + 5);
	/* none of them was the memory limit's doing */
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.alloc_limited), limited);
}

static int ptr_cmp(const void *a, const void *b)
{
	unsigned long x = *(unsigned long *)a, y = *(unsigned long *)b;

	return x < y ? -1 : x > y;
}

static void check_bulk(struct kunit *test, size_t size, int nr)
{
	void **ptrs = kunit_kcalloc(test, nr, sizeof(*ptrs), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, ptrs);
	KUNIT_ASSERT_EQ(test, gom_alloc_bulk(size, GFP_KERNEL, nr, ptrs), nr);
	for (i = 0; i < nr; i++) {
		KUNIT_ASSERT_NOT_NULL(test, ptrs[i]);
		KUNIT_EXPECT_GE(test, gom_usable_size(ptrs[i]), size);
		gom_t_fill(ptrs[i], size, i);
	}
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_TRUE(test, gom_t_intact(ptrs[i], size, i));
	sort(ptrs, nr, sizeof(*ptrs), ptr_cmp, NULL);
	for (i = 1; i < nr; i++)
		KUNIT_EXPECT_GE(test, (unsigned long)ptrs[i],
				(unsigned long)ptrs[i - 1] + size);
	gom_free_bulk(nr, ptrs);
}

/* Bulk allocation: distinct objects, and all or nothing. */
static void api_bulk(struct kunit *test)
{
	long fails = errs(&gom_counters.alloc_failures);
	void *ptrs[4] = { NULL };

	check_bulk(test, 256, 16);
	check_bulk(test, 256, 128);
	check_bulk(test, 24, 600);
	check_bulk(test, 8192, 16);
	check_bulk(test, 65536, 4);

	KUNIT_EXPECT_EQ(test, gom_alloc_bulk(max_bytes() + 1,
					     GFP_KERNEL | __GFP_NOWARN,
					     ARRAY_SIZE(ptrs), ptrs), 0);
	KUNIT_EXPECT_GT(test, errs(&gom_counters.alloc_failures), fails);
}

/* Page runs of 1..64 pages and of the largest block. */
static void api_pages(struct kunit *test)
{
	unsigned int n;
	u8 *p;

	for (n = 1; n <= 64; n++) {
		p = gom_alloc_pages(n, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p));
		KUNIT_EXPECT_EQ(test, gom_usable_size(p),
				(size_t)n * PAGE_SIZE);
		p[0] = n;
		p[n * PAGE_SIZE - 1] = n;
		KUNIT_EXPECT_EQ(test, p[0], p[n * PAGE_SIZE - 1]);
		gom_free_pages(p);
	}
	n = 1U << GOM_MAX_ORDER;
	p = gom_alloc_pages(n, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)p, max_bytes()));
	KUNIT_EXPECT_EQ(test, gom_usable_size(p), (size_t)max_bytes());
	memset(p, 0x3c, max_bytes());
	KUNIT_EXPECT_EQ(test, p[max_bytes() - 1], 0x3c);
	gom_free_pages(p);
}

/* gom_free_pages() refuses a small object and leaves it alone. */
static void api_free_pages_refuses_object(struct kunit *test)
{
	long inv = errs(&gom_counters.invalid_frees);
	void *p = gom_alloc(512, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	gom_t_fill(p, 512, 9);
	gom_free_pages(p);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 1);
	KUNIT_EXPECT_EQ(test, gom_usable_size(p), (size_t)512);
	KUNIT_EXPECT_TRUE(test, gom_t_intact(p, 512, 9));
	gom_free(p);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 1);
}

/* Objects above the classes are exact page runs. */
static void api_large_objects(struct kunit *test)
{
	size_t sizes[] = { GOM_MAX_SMALL_SIZE + 1, 65536, 100000, 1 << 20 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		void *p = gom_alloc(sizes[i], GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(p));
		KUNIT_EXPECT_EQ(test, gom_usable_size(p),
				round_up(sizes[i], PAGE_SIZE));
		gom_t_fill(p, sizes[i], i);
		KUNIT_EXPECT_TRUE(test, gom_t_intact(p, sizes[i], i));
		gom_free(p);
	}
}

/* GFP_ATOMIC with interrupts off, small and large. */
static void api_atomic_irqs_off(struct kunit *test)
{
	size_t sizes[] = { 8, 200, 3000, 32768, 40000 };
	void *p[ARRAY_SIZE(sizes)];
	unsigned int i;

	local_irq_disable();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = gom_alloc(sizes[i], GFP_ATOMIC);
		if (p[i])
			gom_t_fill(p[i], sizes[i], i);
	}
	local_irq_enable();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_EXPECT_NOT_NULL(test, p[i]);
		if (p[i])
			KUNIT_EXPECT_TRUE(test, gom_t_intact(p[i], sizes[i], i));
	}
	local_irq_disable();
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		gom_free(p[i]);
	local_irq_enable();
}

/* __GFP_ZERO clears the whole usable size of a dirty, reused object. */
static void api_gfp_zero(struct kunit *test)
{
	size_t sizes[] = { 8, 100, 1024, 1500, 4096, 20000, 50000 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t usable;
		void *p, *q;

		migrate_disable();
		p = gom_alloc(sizes[i], GFP_KERNEL);
		if (p) {
			usable = gom_usable_size(p);
			memset(p, 0xff, usable);
			gom_free(p);
		}
		q = gom_zalloc(sizes[i], GFP_KERNEL);
		migrate_enable();
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_ASSERT_NOT_NULL(test, q);
		if (sizes[i] <= GOM_MAX_SMALL_SIZE)
			KUNIT_EXPECT_PTR_EQ(test, q, p);
		KUNIT_EXPECT_TRUE_MSG(test, all_zero(q, gom_usable_size(q)),
				      "size %zu", sizes[i]);
		gom_free(q);
	}
}

/*
 * __GFP_ZERO clears the whole slot of a dirty, reused object of every
 * class: the line-a-step stores and their tail up to 1 KiB, memset()
 * above.
 */
static void api_gfp_zero_every_class(struct kunit *test)
{
	unsigned int cls;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		size_t size = gom_classes[cls].size;
		void *p, *q;

		migrate_disable();
		p = gom_alloc(size, GFP_KERNEL);
		if (p) {
			memset(p, 0xff, size);
			gom_free(p);
		}
		q = gom_zalloc(size, GFP_KERNEL);
		migrate_enable();
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_ASSERT_NOT_NULL(test, q);
		KUNIT_EXPECT_PTR_EQ(test, q, p);
		KUNIT_EXPECT_TRUE_MSG(test, all_zero(q, size),
				      "class %u, %zu bytes", cls, size);
		gom_free(q);
	}
}

/* init_on_alloc=1: every allocation comes back cleared. */
static void api_init_on_alloc(struct kunit *test)
{
	void *p, *q;

	if (!want_init_on_alloc(0))
		kunit_skip(test, "init_on_alloc is off (boot with init_on_alloc=1)");
	migrate_disable();
	p = gom_alloc(700, GFP_KERNEL);
	if (p) {
		memset(p, 0xa5, gom_usable_size(p));
		gom_free(p);
	}
	q = gom_alloc(700, GFP_KERNEL);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_TRUE(test, all_zero(q, gom_usable_size(q)));
	gom_free(q);
	q = gom_alloc(70000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_TRUE(test, all_zero(q, gom_usable_size(q)));
	gom_free(q);
}

/*
 * init_on_free=1: a freed object is cleared before it is cached, all but
 * its first word, which holds its free mark; a freed run is cleared.
 */
static void api_init_on_free(struct kunit *test)
{
	bool marked = false, zero = false, run_zero = false;
	size_t size = 0;
	void *p, *run;

	if (!want_init_on_free())
		kunit_skip(test, "init_on_free is off (boot with init_on_free=1)");
	migrate_disable();
	p = gom_alloc(700, GFP_KERNEL);
	if (p) {
		size = gom_usable_size(p);
		memset(p, 0xa5, size);
		gom_free(p);
		/* still in this CPU's magazine: poisoned, but gomalloc's */
		marked = gom_obj_marked(p);
		zero = gom_t_zero_unchecked(p + sizeof(long),
					    size - sizeof(long));
	}
	run = gom_alloc_pages(2, GFP_KERNEL);
	if (run) {
		memset(run, 0xa5, 2 * PAGE_SIZE);
		gom_free_pages(run);
		/* in this CPU's run cache */
		run_zero = gom_t_zero_unchecked(run, 2 * PAGE_SIZE);
	}
	migrate_enable();
	KUNIT_EXPECT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, size, (size_t)704);
	KUNIT_EXPECT_TRUE(test, marked);
	KUNIT_EXPECT_TRUE(test, zero);
	KUNIT_EXPECT_NOT_NULL(test, run);
	KUNIT_EXPECT_TRUE(test, run_zero);
}

/*
 * init_on_free=1 clears the whole slot of an object that asked for less
 * than its class, and the whole run of a large one that asked for less
 * than its pages: under KASAN the bytes past the request are a red zone,
 * which the clearing must not trip over.
 */
static void api_init_on_free_short_request(struct kunit *test)
{
	static const size_t large[] = { GOM_MAX_SMALL_SIZE + 1, 100000 };
	unsigned int cls, i, dirty = 0;
	size_t ask, slot;
	void *p;

	if (!want_init_on_free())
		kunit_skip(test, "init_on_free is off (boot with init_on_free=1)");
	for (cls = 2; cls < GOM_NR_CLASSES; cls++) {
		ask = gom_classes[cls - 1].size + 1;
		slot = gom_classes[cls].size;
		migrate_disable();
		p = gom_alloc(ask, GFP_KERNEL);
		if (p) {
			memset(p, 0xa5, ask);
			gom_free(p);
			/* in this CPU's magazine: all but the mark cleared */
			if (!gom_obj_marked(p) ||
			    !gom_t_zero_unchecked(p + sizeof(long),
						  slot - sizeof(long)))
				dirty++;
		}
		migrate_enable();
		KUNIT_ASSERT_NOT_NULL(test, p);
	}
	for (i = 0; i < ARRAY_SIZE(large); i++) {
		slot = round_up(large[i], PAGE_SIZE);
		migrate_disable();
		p = gom_alloc(large[i], GFP_KERNEL);
		if (p) {
			memset(p, 0xa5, large[i]);
			gom_free(p);
			if (!gom_t_zero_unchecked(p, slot))
				dirty++;
		}
		migrate_enable();
		KUNIT_ASSERT_NOT_NULL(test, p);
	}
	KUNIT_EXPECT_EQ(test, dirty, 0U);
}

/* gom_alloc_node() places memory on the node asked for. */
static void api_alloc_node(struct kunit *test)
{
	size_t sizes[] = { 64, 4096, 65536 };
	unsigned int i;
	int nid;

	for_each_online_node(nid) {
		if (!node_state(nid, N_MEMORY))
			continue;
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			void *p = gom_alloc_node(sizes[i], GFP_KERNEL, nid);

			KUNIT_ASSERT_NOT_NULL(test, p);
			KUNIT_EXPECT_EQ_MSG(test, page_to_nid(virt_to_page(p)),
					    nid, "size %zu", sizes[i]);
			memset(p, 0, sizes[i]);
			gom_free(p);
		}
	}
}

/* A node gomalloc has no heap for falls back to a node that has one. */
static void api_alloc_node_invalid(struct kunit *test)
{
	int nodes[] = { NUMA_NO_NODE, -5, MAX_NUMNODES, MAX_NUMNODES + 7 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nodes); i++) {
		void *p = gom_alloc_node(200, GFP_KERNEL, nodes[i]);
		void *q = gom_alloc_node(50000, GFP_KERNEL, nodes[i]);

		KUNIT_EXPECT_NOT_NULL_MSG(test, p, "node %d", nodes[i]);
		KUNIT_EXPECT_NOT_NULL_MSG(test, q, "node %d", nodes[i]);
		if (p)
			memset(p, 1, 200);
		if (q)
			memset(q, 1, 50000);
		gom_free(p);
		gom_free(q);
	}
}

/*
 * A remote object freed here must not come back from this CPU's magazine
 * as memory of the local node.
 */
static void api_alloc_node_after_remote_free(struct kunit *test)
{
	int local, other;
	void *p, *q;

	migrate_disable();
	local = numa_mem_id();
	other = gom_t_other_node(local);
	if (other == NUMA_NO_NODE) {
		migrate_enable();
		kunit_skip(test, "needs a second NUMA node with memory");
	}
	p = gom_alloc_node(96, GFP_KERNEL, other);
	gom_free(p);
	q = gom_alloc_node(96, GFP_KERNEL, local);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(p)), other);
	KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(q)), local);
	gom_free(q);
}

/*
 * NUMA_NO_NODE means the local node: memory of another node freed on
 * this CPU, object or page run, must not be handed out by gom_alloc().
 */
static void api_alloc_local_after_remote_free(struct kunit *test)
{
	size_t sizes[] = { 96, 4096, 16 * PAGE_SIZE, 5 * PAGE_SIZE };
	int local, other;
	void *p[ARRAY_SIZE(sizes)], *q[ARRAY_SIZE(sizes)];
	unsigned int i;

	migrate_disable();
	local = numa_mem_id();
	other = gom_t_other_node(local);
	if (other == NUMA_NO_NODE) {
		migrate_enable();
		kunit_skip(test, "needs a second NUMA node with memory");
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = gom_alloc_node(sizes[i], GFP_KERNEL, other);
		gom_free(p[i]);
		q[i] = gom_alloc(sizes[i], GFP_KERNEL);
	}
	migrate_enable();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_EXPECT_NOT_NULL(test, p[i]);
		KUNIT_EXPECT_NOT_NULL(test, q[i]);
		if (p[i])
			KUNIT_EXPECT_EQ_MSG(test,
					    page_to_nid(virt_to_page(p[i])),
					    other, "size %zu", sizes[i]);
		if (q[i])
			KUNIT_EXPECT_EQ_MSG(test,
					    page_to_nid(virt_to_page(q[i])),
					    local, "size %zu", sizes[i]);
		gom_free(q[i]);
	}
}

/* Pointers gomalloc does not own are refused, counted and not touched. */
static void api_invalid_free_foreign(struct kunit *test)
{
	long inv = errs(&gom_counters.invalid_frees);
	long dbl = errs(&gom_counters.double_frees);
	struct page *page;
	u8 stack_buf[64];
	void *k, *v;

	k = kmalloc(256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	gom_t_fill(k, 256, 1);
	gom_t_fill(stack_buf, sizeof(stack_buf), 2);
	gom_free(k);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 1);
	gom_free(stack_buf);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 2);
	gom_free_pages(k);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 3);
	gom_free((void *)&api_invalid_free_foreign);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 4);
	KUNIT_EXPECT_EQ(test, gom_usable_size(k), (size_t)0);
	KUNIT_EXPECT_TRUE(test, gom_t_intact(k, 256, 1));
	KUNIT_EXPECT_TRUE(test, gom_t_intact(stack_buf, sizeof(stack_buf), 2));
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl);
	kfree(k);

	/* vmalloc memory and pages straight from the page allocator */
	v = vmalloc(PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, v);
	gom_t_fill(v, PAGE_SIZE, 3);
	gom_t_expect_foreign(test, v, PAGE_SIZE, 3, "vmalloc()");
	vfree(v);
	page = alloc_pages(GFP_KERNEL, 1);
	KUNIT_ASSERT_NOT_NULL(test, page);
	gom_t_fill(page_address(page), 2 * PAGE_SIZE, 4);
	gom_t_expect_foreign(test, page_address(page), 2 * PAGE_SIZE, 4,
			     "alloc_pages()");
	__free_pages(page, 1);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 8);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl);
}

/* A pointer inside a live object or run is refused and changes nothing. */
static void api_invalid_free_interior(struct kunit *test)
{
	long inv = errs(&gom_counters.invalid_frees);
	long dbl = errs(&gom_counters.double_frees);
	u8 *small, *large;

	small = gom_alloc(128, GFP_KERNEL);
	large = gom_alloc(5 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, small);
	KUNIT_ASSERT_NOT_NULL(test, large);
	gom_t_fill(small, 128, 3);
	gom_t_fill(large, 5 * PAGE_SIZE, 4);

	gom_free(small + 8);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 1);
	gom_free(small + 127);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 2);
	gom_free(large + 100);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 3);
	gom_free(large + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 4);
	gom_free_pages(large + 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 5);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl);

	KUNIT_EXPECT_EQ(test, gom_usable_size(small + 8), (size_t)0);
	KUNIT_EXPECT_EQ(test, gom_usable_size(large + PAGE_SIZE), (size_t)0);
	KUNIT_EXPECT_EQ(test, gom_usable_size(small), (size_t)128);
	KUNIT_EXPECT_EQ(test, gom_usable_size(large), 5 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, gom_t_intact(small, 128, 3));
	KUNIT_EXPECT_TRUE(test, gom_t_intact(large, 5 * PAGE_SIZE, 4));
	gom_free(small);
	gom_free(large);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 5);
}

/* A page run freed twice: the second free is refused as a double free. */
static void api_double_free_large(struct kunit *test)
{
	long dbl = errs(&gom_counters.double_frees);
	long inv = errs(&gom_counters.invalid_frees);
	void *p = gom_alloc(65536, GFP_KERNEL);
	void *q = gom_alloc_pages(3, GFP_KERNEL);
	void *r = gom_alloc_pages(4, GFP_KERNEL);
	void *s = gom_alloc(200 * PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, s);
	gom_free(p);
	gom_free(p);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
	gom_free_pages(q);
	gom_free_pages(q);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 2);
	/* a run kept in the per-CPU page cache, freed through both calls */
	gom_free_pages(r);
	gom_free(r);
	gom_free_pages(r);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 4);
	KUNIT_EXPECT_EQ(test, gom_usable_size(r), (size_t)0);
	gom_free(s);
	gom_free(s);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 5);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv);
}

/* Every pointer in @ptrs differs from every other. */
static void expect_distinct(struct kunit *test, void **ptrs, int nr)
{
	int i;

	sort(ptrs, nr, sizeof(*ptrs), ptr_cmp, NULL);
	for (i = 1; i < nr; i++)
		KUNIT_EXPECT_PTR_NE(test, ptrs[i], ptrs[i - 1]);
}

/*
 * A bulk free checks each pointer, also inside a run of one span: a
 * repeat, an interior pointer and a foreign one are refused and counted,
 * NULL is skipped, the others are freed and handed out once again.
 */
static void api_bulk_free_refuses(struct kunit *test)
{
	enum { NR = 40, ALL = NR + 3 };
	long inv = errs(&gom_counters.invalid_frees);
	long dbl = errs(&gom_counters.double_frees);
	void **objs, **ptrs;
	void *k, *live;
	int i;

	objs = kunit_kcalloc(test, 2 * NR, sizeof(*objs), GFP_KERNEL);
	ptrs = kunit_kcalloc(test, ALL, sizeof(*ptrs), GFP_KERNEL);
	k = kunit_kmalloc(test, 96, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	KUNIT_ASSERT_NOT_NULL(test, ptrs);
	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_EQ(test, gom_alloc_bulk(96, GFP_KERNEL, NR, objs), NR);
	live = objs[20];
	gom_t_fill(live, 96, 3);
	gom_t_fill(k, 96, 4);
	for (i = 0; i < 20; i++)
		ptrs[i] = objs[i];
	ptrs[20] = objs[5];
	ptrs[21] = live + 8;
	ptrs[22] = k;
	ptrs[23] = NULL;
	for (i = 21; i < NR; i++)
		ptrs[i + 3] = objs[i];
	gom_free_bulk(ALL, ptrs);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 2);
	KUNIT_EXPECT_TRUE(test, gom_t_intact(live, 96, 3));
	KUNIT_EXPECT_TRUE(test, gom_t_intact(k, 96, 4));
	KUNIT_EXPECT_EQ(test, gom_usable_size(live), (size_t)96);

	/* @live still is: no allocation hands it out */
	KUNIT_ASSERT_EQ(test, gom_alloc_bulk(96, GFP_KERNEL, 2 * NR - 1, objs),
			2 * NR - 1);
	objs[2 * NR - 1] = live;
	expect_distinct(test, objs, 2 * NR);
	gom_free_bulk(2 * NR, objs);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv + 2);
}

/*
 * A small object freed again after it went back to its span is refused
 * and counted; later allocations never hand it out twice.
 */
static void api_double_free_small(struct kunit *test)
{
	enum { NR = 3 * GOM_MAG_MAX };
	long dbl = errs(&gom_counters.double_frees);
	void **ptrs;
	void *p;
	int i;

	ptrs = kunit_kcalloc(test, NR, sizeof(*ptrs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ptrs);
	p = gom_alloc(96, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	gom_free(p);
	gom_mcache_drain_all();
	gom_free(p);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);

	for (i = 0; i < NR; i++) {
		ptrs[i] = gom_alloc(96, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, ptrs[i]);
	}
	expect_distinct(test, ptrs, NR);
	gom_free_bulk(NR, ptrs);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
}

/* The same, with the object still in this CPU's magazine. */
static void api_double_free_small_cached(struct kunit *test)
{
	long dbl = errs(&gom_counters.double_frees);
	void *p, *a, *b;

	migrate_disable();
	p = gom_alloc(96, GFP_KERNEL);
	gom_free(p);
	gom_free(p);
	a = gom_alloc(96, GFP_KERNEL);
	b = gom_alloc(96, GFP_KERNEL);
	migrate_enable();
	KUNIT_EXPECT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
	KUNIT_EXPECT_PTR_NE(test, a, b);
	gom_free(a);
	if (b != a)
		gom_free(b);
}

/*
 * After p and q were freed and p once more, the magazine gives back what
 * it took, newest first: q, then p, each once. Only the one double free.
 */
static void expect_handed_out_once(struct kunit *test, void *a, void *b,
				   void *p, void *q, long dbl)
{
	KUNIT_EXPECT_PTR_EQ(test, a, q);
	KUNIT_EXPECT_PTR_EQ(test, b, p);
	gom_free(a);
	if (b != a)
		gom_free(b);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
}

/*
 * free(p); free(q); free(p) with both still in this CPU's magazine: p is
 * not on top, yet its mark gives the third free away, and neither object
 * is handed out twice.
 */
static void api_double_free_small_interleaved(struct kunit *test)
{
	long dbl = errs(&gom_counters.double_frees);
	void *p, *q, *a, *b;

	migrate_disable();
	p = gom_alloc(96, GFP_KERNEL);
	q = gom_alloc(96, GFP_KERNEL);
	gom_free(p);
	gom_free(q);
	gom_free(p);
	a = gom_alloc(96, GFP_KERNEL);
	b = gom_alloc(96, GFP_KERNEL);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
	expect_handed_out_once(test, a, b, p, q, dbl);
}

static void free_fn(void *p)
{
	gom_free(p);
}

/*
 * The same with the third free on another CPU, whose own caches never saw
 * p: refused all the same, and p is handed out once.
 */
static void api_double_free_small_other_cpu(struct kunit *test)
{
	long dbl = errs(&gom_counters.double_frees);
	long inv = errs(&gom_counters.invalid_frees);
	unsigned int cpu, other, count = 0;
	void *p, *q, *a = NULL, *b = NULL;
	int ret = -ENODEV;

	migrate_disable();
	cpu = smp_processor_id();
	other = cpumask_any_but(cpu_online_mask, cpu);
	p = gom_alloc(96, GFP_KERNEL);
	q = gom_alloc(96, GFP_KERNEL);
	if (other < nr_cpu_ids && p && q) {
		gom_free(p);
		gom_free(q);
		count = gom_mc_mag(gom_mcache_of(other), gom_size_class(96))->count;
		ret = smp_call_function_single(other, free_fn, p, 1);
		a = gom_alloc(96, GFP_KERNEL);
		b = gom_alloc(96, GFP_KERNEL);
	}
	migrate_enable();
	if (other >= nr_cpu_ids) {
		gom_free(p);
		gom_free(q);
		kunit_skip(test, "needs two online CPUs");
	}
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl + 1);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv);
	KUNIT_EXPECT_EQ(test, gom_mc_mag(gom_mcache_of(other), gom_size_class(96))->count,
			count);
	expect_handed_out_once(test, a, b, p, q, dbl);
}

/* Concurrent alloc/free on every CPU, objects freed on other CPUs. */
struct kt_shared {
	spinlock_t lock;		/* protects objs and nr */
	struct list_head objs;
	unsigned int nr;
	atomic_t bad;
	atomic_t ops;
	bool stop;			/* ends threads started with iters 0 */
};

struct kt_obj {
	struct list_head node;
	u32 size;
	u32 seed;
	u8 data[];
};

struct kt_arg {
	struct kt_shared *sh;
	struct completion done;
	unsigned int cpu;
	unsigned int iters;		/* 0: until sh->stop */
};

#define KT_ITERS	20000
#define KT_MAX_QUEUE	512

/* Word patterns: cheap enough for the concurrency test under KASAN. */
static u64 kt_word(u32 seed, size_t i)
{
	return ((u64)seed << 32 | seed) ^ (i * 0x9e3779b97f4a7c15ULL);
}

static void kt_fill(struct kt_obj *o)
{
	u64 *w = (u64 *)o->data;
	size_t i, n = (o->size - sizeof(*o)) / sizeof(u64);

	for (i = 0; i < n; i++)
		w[i] = kt_word(o->seed, i);
}

static bool kt_intact(struct kt_obj *o)
{
	u64 *w = (u64 *)o->data;
	size_t i, n = (o->size - sizeof(*o)) / sizeof(u64);

	for (i = 0; i < n; i++)
		if (w[i] != kt_word(o->seed, i))
			return false;
	return true;
}

static struct kt_obj *kt_new(struct rnd_state *rnd)
{
	u32 r = prandom_u32_state(rnd), size;
	struct kt_obj *o;

	if (r % 64 == 0)
		size = GOM_MAX_SMALL_SIZE + 1 + r % 40000;
	else
		size = sizeof(*o) + r % 2048;
	o = gom_alloc(size, (r & 1) ? GFP_KERNEL : GFP_ATOMIC);
	if (!o)
		return NULL;
	o->size = size;
	o->seed = r;
	kt_fill(o);
	return o;
}

static int kt_fn(void *data)
{
	struct kt_arg *arg = data;
	struct kt_shared *sh = arg->sh;
	struct kt_obj *o;
	struct rnd_state rnd;
	int i;

	prandom_seed_state(&rnd, arg->cpu * 7919 + 1);
	for (i = 0; arg->iters ? i < arg->iters : !READ_ONCE(sh->stop); i++) {
		bool take = prandom_u32_state(&rnd) & 1;

		o = NULL;
		spin_lock(&sh->lock);
		if ((take && sh->nr) || sh->nr >= KT_MAX_QUEUE) {
			o = list_first_entry(&sh->objs, struct kt_obj, node);
			list_del(&o->node);
			sh->nr--;
		}
		spin_unlock(&sh->lock);
		if (o) {
			if (gom_usable_size(o) < o->size || !kt_intact(o))
				atomic_inc(&sh->bad);
			gom_free(o);
		} else {
			o = kt_new(&rnd);
			if (!o) {
				atomic_inc(&sh->bad);
				continue;
			}
			spin_lock(&sh->lock);
			list_add_tail(&o->node, &sh->objs);
			sh->nr++;
			spin_unlock(&sh->lock);
		}
		atomic_inc(&sh->ops);
		if (i % 256 == 0)
			cond_resched();
	}
	kthread_complete_and_exit(&arg->done, 0);
}

static void api_concurrent_cross_cpu(struct kunit *test)
{
	long inv = errs(&gom_counters.invalid_frees);
	long dbl = errs(&gom_counters.double_frees);
	struct kt_shared *sh;
	struct kt_arg *args;
	struct kt_obj *o, *tmp;
	unsigned int cpu, n = 0, i;

	sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	args = kunit_kcalloc(test, nr_cpu_ids, sizeof(*args), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sh);
	KUNIT_ASSERT_NOT_NULL(test, args);
	spin_lock_init(&sh->lock);
	INIT_LIST_HEAD(&sh->objs);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		args[n].sh = sh;
		args[n].cpu = cpu;
		args[n].iters = KT_ITERS;
		init_completion(&args[n].done);
		t = kthread_create_on_cpu(kt_fn, &args[n], cpu, "gom_kt/%u");
		if (IS_ERR(t))
			break;
		wake_up_process(t);
		n++;
	}
	cpus_read_unlock();
	for (i = 0; i < n; i++)
		wait_for_completion(&args[i].done);

	list_for_each_entry_safe(o, tmp, &sh->objs, node) {
		if (!kt_intact(o))
			atomic_inc(&sh->bad);
		list_del(&o->node);
		gom_free(o);
	}
	KUNIT_EXPECT_EQ(test, n, num_online_cpus());
	KUNIT_EXPECT_EQ(test, atomic_read(&sh->bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&sh->ops), (int)(n * KT_ITERS));
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl);
}

struct irq_arg {
	void *objs[8];
	void *stale;
};

static void irq_alloc_fn(void *data)
{
	struct irq_arg *a = data;
	unsigned int i;

	/* free what process context allocated, allocate for it to free */
	gom_free(a->stale);
	for (i = 0; i < ARRAY_SIZE(a->objs); i++) {
		a->objs[i] = gom_alloc(16 << i, GFP_ATOMIC);
		if (a->objs[i])
			gom_t_fill(a->objs[i], 16 << i, i);
	}
}

/* Hard interrupt context allocates and frees. */
static void api_hardirq_context(struct kunit *test)
{
	struct irq_arg a;
	unsigned int cpu, i;

	for_each_online_cpu(cpu) {
		memset(&a, 0, sizeof(a));
		a.stale = gom_alloc(333, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, a.stale);
		KUNIT_ASSERT_EQ(test,
				smp_call_function_single(cpu, irq_alloc_fn,
							 &a, 1), 0);
		for (i = 0; i < ARRAY_SIZE(a.objs); i++) {
			KUNIT_EXPECT_NOT_NULL(test, a.objs[i]);
			if (a.objs[i])
				KUNIT_EXPECT_TRUE(test,
						  gom_t_intact(a.objs[i],
							       16 << i, i));
			gom_free(a.objs[i]);
		}
	}
}

/*
 * Interrupts land in the middle of process-context allocations on the
 * same CPU: a hard-irq hrtimer and a softirq timer allocate, fill, check
 * and free objects of the class the process loop uses, so a magazine
 * update interrupted half way would hand an object out twice or lose it.
 */
struct irq_race {
	struct hrtimer hrt;
	struct timer_list timer;
	atomic_t hard_ops, soft_ops, bad;
	bool stop;
};

static void irq_race_once(struct irq_race *r, atomic_t *ops)
{
	void *p = gom_alloc(64, GFP_ATOMIC);

	if (!p) {
		atomic_inc(&r->bad);
		return;
	}
	gom_t_fill(p, 64, 0xa5);
	if (!gom_t_intact(p, 64, 0xa5))
		atomic_inc(&r->bad);
	gom_free(p);
	atomic_inc(ops);
}

static enum hrtimer_restart irq_race_hard(struct hrtimer *t)
{
	struct irq_race *r = container_of(t, struct irq_race, hrt);

	irq_race_once(r, &r->hard_ops);
	if (READ_ONCE(r->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(20 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void irq_race_soft(struct timer_list *t)
{
	struct irq_race *r = from_timer(r, t, timer);

	irq_race_once(r, &r->soft_ops);
	if (!READ_ONCE(r->stop))
		mod_timer(&r->timer, jiffies + 1);
}

static void api_irq_interleave(struct kunit *test)
{
	enum { NR = 16, ROUNDS = 3000 };
	struct irq_race *r;
	void *objs[NR];
	unsigned int i, k;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	hrtimer_init(&r->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	r->hrt.function = irq_race_hard;
	timer_setup(&r->timer, irq_race_soft, TIMER_PINNED);
	migrate_disable();
	hrtimer_start(&r->hrt, ns_to_ktime(20 * NSEC_PER_USEC), HRTIMER_MODE_REL_PINNED_HARD);
	mod_timer(&r->timer, jiffies + 1);
	for (k = 0; k < ROUNDS; k++) {
		for (i = 0; i < NR; i++) {
			objs[i] = gom_alloc(64, GFP_KERNEL);
			if (objs[i])
				gom_t_fill(objs[i], 64, i);
		}
		for (i = 0; i < NR; i++) {
			if (!objs[i] || !gom_t_intact(objs[i], 64, i))
				atomic_inc(&r->bad);
			gom_free(objs[i]);
		}
		if (k % 64 == 0)
			cond_resched();
	}
	WRITE_ONCE(r->stop, true);
	hrtimer_cancel(&r->hrt);
	del_timer_sync(&r->timer);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, atomic_read(&r->bad), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&r->hard_ops), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&r->soft_ops), 0);
	kunit_info(test, "%d hard-irq and %d softirq alloc/free pairs interleaved",
		   atomic_read(&r->hard_ops), atomic_read(&r->soft_ops));
}

/* Leave objects in this CPU's magazine and runs in its run cache. */
static void hot_fill_fn(void *data)
{
	unsigned int cls = *(unsigned int *)data, i;
	void *objs[16], *runs[4];

	for (i = 0; i < ARRAY_SIZE(objs); i++)
		objs[i] = gom_alloc(gom_classes[cls].size, GFP_ATOMIC);
	for (i = 0; i < ARRAY_SIZE(runs); i++)
		runs[i] = gom_alloc_pages(4, GFP_ATOMIC);
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		gom_free(objs[i]);
	for (i = 0; i < ARRAY_SIZE(runs); i++)
		gom_free_pages(runs[i]);
}

/* A 160-byte object into *@data from the magazine hot_fill_fn() filled. */
static void memo_fn(void *data)
{
	*(void **)data = gom_alloc(160, GFP_ATOMIC);
}

static unsigned int rc_count(unsigned int cpu)
{
	struct gom_mcache *mc = gom_mcache_of(cpu);
	unsigned int order, n = 0;

	for (order = 0; order < GOM_RC_ORDERS; order++)
		n += mc->rc[order].count;
	return n;
}

/*
 * A CPU going offline has its magazines drained into the mcentrals, its
 * spans given back and its run cache emptied into the heaps.
 */
static void api_cpu_offline_drains(struct kunit *test)
{
	unsigned int cls = gom_size_class(160), cpu;
	struct gom_mag *m;
	void *obj = NULL;
	int ret;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || num_online_cpus() < 2)
		kunit_skip(test, "needs CPU hotplug and two online CPUs");
	cpu = cpumask_last(cpu_online_mask);
	if (!cpu)
		kunit_skip(test, "only the boot CPU is online");
	m = gom_mc_mag(gom_mcache_of(cpu), cls);
	KUNIT_ASSERT_EQ(test, smp_call_function_single(cpu, hot_fill_fn, &cls,
						       1), 0);
	KUNIT_EXPECT_GT(test, m->count, 0U);
	KUNIT_EXPECT_NOT_NULL(test, m->span);
	KUNIT_EXPECT_GT(test, rc_count(cpu), 0U);
	/* the CPU's memo: the magazine it names is emptied below */
	KUNIT_ASSERT_EQ(test, smp_call_function_single(cpu, memo_fn, &obj, 1),
			0);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_EXPECT_PTR_EQ(test, gom_memo_obj(&gom_mcache_of(cpu)->memo),
			    (const void *)obj);

	ret = remove_cpu(cpu);
	if (ret) {
		gom_free(obj);
		kunit_skip(test, "remove_cpu(%u) failed: %d", cpu, ret);
	}
	KUNIT_EXPECT_FALSE(test, cpu_online(cpu));
	KUNIT_EXPECT_NULL(test, gom_memo_obj(&gom_mcache_of(cpu)->memo));
	/* the CPU is dead: its magazines are not touched concurrently */
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		KUNIT_EXPECT_EQ_MSG(test, gom_mc_mag(gom_mcache_of(cpu), cls)->count,
				    0U, "class %u", cls);
		KUNIT_EXPECT_NULL_MSG(test, gom_mc_mag(gom_mcache_of(cpu), cls)->span,
				      "class %u", cls);
	}
	KUNIT_EXPECT_EQ(test, rc_count(cpu), 0U);
	KUNIT_EXPECT_EQ(test, add_cpu(cpu), 0);
	KUNIT_EXPECT_TRUE(test, cpu_online(cpu));

	/* and it allocates again once back */
	cls = gom_size_class(160);
	KUNIT_EXPECT_EQ(test, smp_call_function_single(cpu, hot_fill_fn, &cls,
						       1), 0);
	KUNIT_EXPECT_GT(test, m->count, 0U);
	gom_free(obj);
}

/* Frees every object left on the list; counts the corrupt ones. */
static void kt_drain(struct kt_shared *sh)
{
	struct kt_obj *o, *tmp;

	list_for_each_entry_safe(o, tmp, &sh->objs, node) {
		if (!kt_intact(o))
			atomic_inc(&sh->bad);
		list_del(&o->node);
		gom_free(o);
	}
}

/*
 * A CPU goes offline and online again, three times, while unbound threads
 * allocate and free across CPUs: the dead CPU's caches are drained while
 * the others use the same mcentrals and heaps.
 */
static void api_cpu_hotplug_under_load(struct kunit *test)
{
	long inv = errs(&gom_counters.invalid_frees);
	long dbl = errs(&gom_counters.double_frees);
	unsigned int cpu, n = 0, nthreads, i, round;
	struct kt_shared *sh;
	struct kt_arg *args;
	int ret = 0;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || num_online_cpus() < 2)
		kunit_skip(test, "needs CPU hotplug and two online CPUs");
	cpu = cpumask_last(cpu_online_mask);
	if (!cpu)
		kunit_skip(test, "only the boot CPU is online");
	nthreads = 2 * num_online_cpus();
	sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	args = kunit_kcalloc(test, nthreads, sizeof(*args), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sh);
	KUNIT_ASSERT_NOT_NULL(test, args);
	spin_lock_init(&sh->lock);
	INIT_LIST_HEAD(&sh->objs);
	for (i = 0; i < nthreads; i++) {
		struct task_struct *t;

		args[n].sh = sh;
		args[n].cpu = 100 + i;
		init_completion(&args[n].done);
		t = kthread_run(kt_fn, &args[n], "gom_kth/%u", i);
		if (IS_ERR(t))
			break;
		n++;
	}
	for (round = 0; round < 3 && !ret; round++) {
		msleep(30);
		ret = remove_cpu(cpu);
		if (ret)
			break;
		msleep(30);
		ret = add_cpu(cpu);
	}
	WRITE_ONCE(sh->stop, true);
	for (i = 0; i < n; i++)
		wait_for_completion(&args[i].done);
	kt_drain(sh);

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, cpu_online(cpu));
	KUNIT_EXPECT_EQ(test, n, nthreads);
	KUNIT_EXPECT_GT(test, atomic_read(&sh->ops), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&sh->bad), 0);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.invalid_frees), inv);
	KUNIT_EXPECT_EQ(test, errs(&gom_counters.double_frees), dbl);
}

static struct kunit_case gomalloc_api_cases[] = {
	KUNIT_CASE(api_every_class),
	KUNIT_CASE(api_zero_size_and_null),
	KUNIT_CASE(api_huge_fails),
	KUNIT_CASE(api_bulk),
	KUNIT_CASE(api_bulk_free_refuses),
	KUNIT_CASE(api_pages),
	KUNIT_CASE(api_free_pages_refuses_object),
	KUNIT_CASE(api_large_objects),
	KUNIT_CASE(api_atomic_irqs_off),
	KUNIT_CASE(api_gfp_zero),
	KUNIT_CASE(api_gfp_zero_every_class),
	KUNIT_CASE(api_init_on_alloc),
	KUNIT_CASE(api_init_on_free),
	KUNIT_CASE(api_init_on_free_short_request),
	KUNIT_CASE(api_alloc_node),
	KUNIT_CASE(api_alloc_node_invalid),
	KUNIT_CASE(api_alloc_node_after_remote_free),
	KUNIT_CASE(api_alloc_local_after_remote_free),
	KUNIT_CASE(api_invalid_free_foreign),
	KUNIT_CASE(api_invalid_free_interior),
	KUNIT_CASE(api_double_free_large),
	KUNIT_CASE(api_double_free_small),
	KUNIT_CASE(api_double_free_small_cached),
	KUNIT_CASE(api_double_free_small_interleaved),
	KUNIT_CASE(api_double_free_small_other_cpu),
	KUNIT_CASE(api_concurrent_cross_cpu),
	KUNIT_CASE(api_hardirq_context),
	KUNIT_CASE(api_irq_interleave),
	KUNIT_CASE(api_cpu_offline_drains),
	KUNIT_CASE(api_cpu_hotplug_under_load),
	{}
};

static struct kunit_suite gomalloc_api_suite = {
	.name = "gomalloc_api",
	.init = api_init,
	.test_cases = gomalloc_api_cases,
};

kunit_test_suite(gomalloc_api_suite);

MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's public API");
