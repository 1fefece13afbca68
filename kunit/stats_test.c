// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for gomalloc's statistics (mod/sysfs.c): the numbers that
 * /sys/kernel/gomalloc shows follow allocations exactly and add up.
 *
 * Every case starts from a drained allocator (gom_shrink_all()) and
 * counts deltas, so it does not matter what ran before; each case frees
 * what it allocates. Counts are exact for the class of STATS_SIZE, which
 * nothing else in the test VM allocates while the suite runs.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <gomalloc.h>
#include "gom_test.h"

#define STATS_SIZE	13312		/* 4 objects in a 13-page span */
#define STATS_NR	25		/* more than a magazine holds */
#define LARGE_SIZE	40000		/* a 10-page run */
#define LARGE_PAGES	DIV_ROUND_UP(LARGE_SIZE, PAGE_SIZE)
#define SCAVENGE_WAIT_MS	20000	/* default scavenge_delay_ms: 1000 */
#define READ_MS			500	/* reading while allocating */
#define PROGRESS_MS		5000	/* most to wait for an allocator */

static unsigned int stats_cls(void)
{
	return gom_size_class(STATS_SIZE);
}

/* Allocate @nr objects of @size; returns how many it got. */
static int alloc_n(void **objs, int nr, size_t size)
{
	int i;

	for (i = 0; i < nr; i++) {
		objs[i] = gom_alloc(size, GFP_KERNEL);
		if (!objs[i])
			break;
	}
	return i;
}

static void free_n(void **objs, int nr)
{
	while (nr--)
		gom_free(objs[nr]);
}

static void **objs_array(struct kunit *test, int nr)
{
	void **objs = kunit_kcalloc(test, nr, sizeof(void *), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, objs);
	return objs;
}

static void expect_consistent(struct kunit *test)
{
	gom_t_expect_consistent(test, "statistics");
}

/* n allocations raise objects_inuse and allocs by n; n frees undo it. */
static void stats_inuse_follows_allocs(struct kunit *test)
{
	void **objs = objs_array(test, STATS_NR);
	struct gom_class_stats base, st;
	int got;

	gom_class_stats(stats_cls(), &base);
	got = alloc_n(objs, STATS_NR, STATS_SIZE);
	KUNIT_EXPECT_EQ(test, got, STATS_NR);
	gom_class_stats(stats_cls(), &st);
	KUNIT_EXPECT_EQ(test, st.objects_inuse - base.objects_inuse, got);
	KUNIT_EXPECT_EQ(test, st.allocs - base.allocs, got);
	KUNIT_EXPECT_GE(test, st.refills, base.refills + 1);
	free_n(objs, got);
	gom_class_stats(stats_cls(), &st);
	KUNIT_EXPECT_EQ(test, st.objects_inuse, base.objects_inuse);
	KUNIT_EXPECT_EQ(test, st.frees - base.frees, got);
}

static void free_on_cpu_fn(void *p)
{
	gom_free(p);
}

/*
 * allocs and frees count every object, on whichever CPU and node it is
 * allocated and freed: what they differ by is what objects_inuse moved.
 */
static void stats_allocs_frees_balance(struct kunit *test)
{
	void **objs = objs_array(test, 2 * STATS_NR);
	struct gom_class_stats base, st;
	unsigned int cpu, other_cpu;
	int i, got = 0, other;

	gom_class_stats(stats_cls(), &base);
	migrate_disable();
	cpu = smp_processor_id();
	other_cpu = cpumask_any_but(cpu_online_mask, cpu);
	other = gom_t_other_node(numa_mem_id());
	for (i = 0; i < STATS_NR; i++) {
		objs[got] = gom_alloc(STATS_SIZE, GFP_KERNEL);
		got += !!objs[got];
		if (other != NUMA_NO_NODE) {
			objs[got] = gom_alloc_node(STATS_SIZE, GFP_KERNEL, other);
			got += !!objs[got];
		}
	}
	gom_class_stats(stats_cls(), &st);
	KUNIT_EXPECT_EQ(test, st.allocs - base.allocs, (unsigned long)got);
	KUNIT_EXPECT_EQ(test, st.objects_inuse - base.objects_inuse,
			(unsigned long)got);
	/* half freed here, half on another CPU, of either node */
	for (i = 0; i < got; i++) {
		if (i % 2 && other_cpu < nr_cpu_ids)
			smp_call_function_single(other_cpu, free_on_cpu_fn,
						 objs[i], 1);
		else
			gom_free(objs[i]);
	}
	migrate_enable();
	gom_class_stats(stats_cls(), &st);
	KUNIT_EXPECT_EQ(test, got, other == NUMA_NO_NODE ? STATS_NR :
			2 * STATS_NR);
	KUNIT_EXPECT_EQ(test, st.frees - base.frees, (unsigned long)got);
	KUNIT_EXPECT_EQ(test, st.objects_inuse, base.objects_inuse);
	expect_consistent(test);
}

/* Freeing and gom_shrink_all() bring the class and the heap back. */
static void stats_shrink_restores_baseline(struct kunit *test)
{
	void **objs = objs_array(test, STATS_NR);
	struct gom_class_stats base, st;
	struct gom_heap_stats hbase, hs;
	int got;

	gom_shrink_all();
	gom_class_stats(stats_cls(), &base);
	gom_heap_stats(&hbase);
	got = alloc_n(objs, STATS_NR, STATS_SIZE);
	KUNIT_EXPECT_EQ(test, got, STATS_NR);
	gom_class_stats(stats_cls(), &st);
	gom_heap_stats(&hs);
	KUNIT_EXPECT_GE(test, st.spans - base.spans,
			DIV_ROUND_UP(got, gom_classes[stats_cls()].nobjs));
	KUNIT_EXPECT_GT(test, hs.pages_inuse, hbase.pages_inuse);
	free_n(objs, got);
	gom_shrink_all();
	gom_class_stats(stats_cls(), &st);
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, st.objects_inuse, base.objects_inuse);
	KUNIT_EXPECT_EQ(test, st.objects_cached, 0);
	KUNIT_EXPECT_EQ(test, st.spans, base.spans);
	KUNIT_EXPECT_EQ(test, hs.pages_inuse, hbase.pages_inuse);
}

/* The invariants hold with objects of many classes and a large run live. */
static void stats_invariants(struct kunit *test)
{
	static const size_t sizes[] = { 8, 100, 700, 3328, 32768 };
	void **objs = objs_array(test, ARRAY_SIZE(sizes) * STATS_NR);
	void *large;
	int i, got = 0;

	expect_consistent(test);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		got += alloc_n(objs + got, STATS_NR, sizes[i]);
	KUNIT_EXPECT_EQ(test, got, ARRAY_SIZE(sizes) * STATS_NR);
	large = gom_alloc(LARGE_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, large);
	expect_consistent(test);
	/* Free every other object: partial spans, magazines flushed. */
	for (i = 0; i < got; i += 2)
		gom_free(objs[i]);
	expect_consistent(test);
	for (i = 1; i < got; i += 2)
		gom_free(objs[i]);
	gom_free(large);
	expect_consistent(test);
	gom_shrink_all();
	expect_consistent(test);
}

/* Large runs show in large_spans and large_bytes, and go away. */
static void stats_large(struct kunit *test)
{
	struct gom_heap_stats base, hs;
	void *large, *pages;

	gom_heap_stats(&base);
	large = gom_alloc(LARGE_SIZE, GFP_KERNEL);
	pages = gom_alloc_pages(3, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, large);
	KUNIT_EXPECT_NOT_NULL(test, pages);
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, hs.large_spans - base.large_spans, 2);
	KUNIT_EXPECT_EQ(test, hs.large_pages - base.large_pages,
			LARGE_PAGES + 3);
	gom_free(large);
	gom_free_pages(pages);
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, hs.large_spans, base.large_spans);
	KUNIT_EXPECT_EQ(test, hs.large_pages, base.large_pages);
}

/* Runs in the per-CPU run caches are cached pages, not large runs. */
static void stats_run_cache(struct kunit *test)
{
	struct gom_heap_stats base, hs;
	void *run;

	gom_shrink_all();
	gom_heap_stats(&base);
	KUNIT_EXPECT_EQ(test, base.cached_pages, 0);
	/* a run goes to the run cache when it is freed on its node */
	migrate_disable();
	run = gom_alloc_pages(4, GFP_KERNEL);
	gom_heap_stats(&hs);
	gom_free_pages(run);
	migrate_enable();
	KUNIT_ASSERT_NOT_NULL(test, run);
	KUNIT_EXPECT_EQ(test, hs.large_spans - base.large_spans, 1);
	KUNIT_EXPECT_EQ(test, hs.large_pages - base.large_pages, 4);
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, hs.large_spans, base.large_spans);
	KUNIT_EXPECT_EQ(test, hs.large_pages, base.large_pages);
	KUNIT_EXPECT_GE(test, hs.cached_pages, 4);
	expect_consistent(test);
	gom_shrink_all();
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, hs.cached_pages, 0);
	KUNIT_EXPECT_EQ(test, hs.pages_inuse, base.pages_inuse);
}

/* Arenas are naturally aligned blocks: the same order and base. */
static bool same_arena(const void *a, const void *b)
{
	int order = gom_t_arena_order(a);

	return order >= 0 && order == gom_t_arena_order(b) &&
	       gom_addr_pfn((unsigned long)a) >> order ==
	       gom_addr_pfn((unsigned long)b) >> order;
}

/* Refused frees move invalid_frees and double_frees, nothing else. */
static void stats_refused_frees(struct kunit *test)
{
	long invalid = atomic_long_read(&gom_counters.invalid_frees);
	long dbl = atomic_long_read(&gom_counters.double_frees);
	struct gom_class_stats base, st;
	void *foreign, *obj, *keep, *victim;

	foreign = kunit_kmalloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, foreign);
	gom_free(foreign);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.invalid_frees),
			invalid + 1);

	obj = gom_alloc(STATS_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	gom_class_stats(stats_cls(), &base);
	gom_free(obj + 8);
	gom_class_stats(stats_cls(), &st);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.invalid_frees),
			invalid + 2);
	KUNIT_EXPECT_EQ(test, st.objects_inuse, base.objects_inuse);
	KUNIT_EXPECT_EQ(test, st.frees, base.frees);
	gom_free(obj);

	/* A run freed twice; @keep holds the arena so it is not released. */
	keep = gom_alloc_node(LARGE_SIZE, GFP_KERNEL, 0);
	victim = gom_alloc_node(LARGE_SIZE, GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, keep);
	KUNIT_ASSERT_NOT_NULL(test, victim);
	gom_free(victim);
	KUNIT_EXPECT_TRUE(test, same_arena(keep, victim));
	gom_free(victim);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.double_frees),
			dbl + 1);
	gom_free(keep);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&gom_counters.invalid_frees),
			invalid + 2);
}

/* An allocating thread bound to one CPU. */
struct stats_worker {
	struct task_struct *task;
	unsigned long rounds;
};

static int stats_worker_fn(void *arg)
{
	struct stats_worker *w = arg;
	void *objs[12];
	int i;

	while (!kthread_should_stop()) {
		for (i = 0; i < ARRAY_SIZE(objs); i++)
			objs[i] = gom_alloc(16 << (i % 8), GFP_KERNEL);
		for (i = 0; i < ARRAY_SIZE(objs); i++)
			gom_free(objs[i]);
		WRITE_ONCE(w->rounds, w->rounds + 1);
		cond_resched();
	}
	return 0;
}

/* Read every statistic in a loop; returns the passes made. */
static unsigned long read_all_for(unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms), passes = 0;
	struct gom_class_stats st;
	struct gom_heap_stats hs;
	unsigned int cls;

	while (time_before(jiffies, end)) {
		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			gom_class_stats(cls, &st);
		gom_heap_stats(&hs);
		passes++;
		cond_resched();
	}
	return passes;
}

/* Lockless reads while every CPU allocates: no splat, nobody stalls. */
static void stats_read_while_allocating(struct kunit *test)
{
	unsigned long before, passes, end;
	struct stats_worker *w;
	unsigned int cpu, n = 0;

	w = kunit_kcalloc(test, nr_cpu_ids, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	for_each_online_cpu(cpu) {
		w[cpu].task = kthread_create(stats_worker_fn, &w[cpu],
					     "gom_stats/%u", cpu);
		if (IS_ERR(w[cpu].task)) {
			w[cpu].task = NULL;
			continue;
		}
		kthread_bind(w[cpu].task, cpu);
		wake_up_process(w[cpu].task);
		n++;
	}
	KUNIT_EXPECT_GT(test, n, 0);
	passes = read_all_for(READ_MS);
	/*
	 * Every allocator still makes progress while the reader runs. A
	 * loaded host may stop the VM for a while: the reader gives each
	 * allocator up to PROGRESS_MS of its own reading to show a round.
	 */
	for_each_online_cpu(cpu) {
		if (!w[cpu].task)
			continue;
		before = READ_ONCE(w[cpu].rounds);
		end = jiffies + msecs_to_jiffies(PROGRESS_MS);
		do {
			passes += read_all_for(READ_MS / 5);
		} while (READ_ONCE(w[cpu].rounds) == before &&
			 time_before(jiffies, end));
		KUNIT_EXPECT_GT_MSG(test, READ_ONCE(w[cpu].rounds), before,
				    "CPU %u", cpu);
	}
	for_each_online_cpu(cpu) {
		if (w[cpu].task)
			kthread_stop(w[cpu].task);
	}
	kunit_info(test, "%lu read passes over %u allocating CPUs\n", passes,
		   n);
	KUNIT_EXPECT_GT(test, passes, 0);
	gom_shrink_all();
	expect_consistent(test);
}

/*
 * With everything freed, a shrink gives back every page the case made the
 * heap take, and leaves it as it found it.
 */
static void stats_shrink_releases_all(struct kunit *test)
{
	void **objs = objs_array(test, STATS_NR);
	struct gom_heap_stats base, before, hs;
	void *big[2];
	int got, i;

	gom_heap_stats(&base);
	got = alloc_n(objs, STATS_NR, STATS_SIZE);
	for (i = 0; i < ARRAY_SIZE(big); i++)
		big[i] = gom_alloc(1UL << 20, GFP_KERNEL);
	for (i = 0; i < ARRAY_SIZE(big); i++)
		gom_free(big[i]);
	free_n(objs, got);
	gom_heap_stats(&before);
	KUNIT_EXPECT_GT(test, before.pages_total, base.pages_total);
	gom_shrink_all();
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, hs.pages_inuse, base.pages_inuse);
	KUNIT_EXPECT_EQ(test, hs.arenas, base.arenas);
	KUNIT_EXPECT_EQ(test, hs.pages_total, base.pages_total);
	KUNIT_EXPECT_EQ(test, hs.cached_pages, 0UL);
	KUNIT_EXPECT_EQ(test, hs.pages_free, 0UL);
	/* every page the case grew went back to the page allocator */
	KUNIT_EXPECT_EQ(test, hs.pages_released - before.pages_released,
			before.pages_total - base.pages_total);
	if (base.pages_inuse)
		kunit_info(test, "%lu pages were in use before the case\n",
			   base.pages_inuse);
	expect_consistent(test);
}

/* Free arenas go back after scavenge_delay_ms, down to the reserve. */
static void stats_scavenger(struct kunit *test)
{
	struct gom_heap_stats base, hs;
	unsigned long waited = 0;
	size_t arena_bytes;
	void *runs[3];
	int i;

	gom_shrink_all();
	gom_heap_stats(&base);
	arena_bytes = base.arena_pages << PAGE_SHIFT;
	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		runs[i] = gom_alloc_node(arena_bytes, GFP_KERNEL, 0);
		KUNIT_EXPECT_NOT_NULL(test, runs[i]);
	}
	gom_heap_stats(&hs);
	KUNIT_EXPECT_EQ(test, hs.arenas, base.arenas + ARRAY_SIZE(runs));
	for (i = 0; i < ARRAY_SIZE(runs); i++)
		gom_free(runs[i]);
	/* The default reserve is one free arena per node (all on node 0). */
	do {
		msleep(100);
		waited += 100;
		gom_heap_stats(&hs);
	} while (hs.arenas > base.arenas + 1 && waited < SCAVENGE_WAIT_MS);
	kunit_info(test, "arenas %lu -> %lu after %lu ms\n",
		   base.arenas + ARRAY_SIZE(runs), hs.arenas, waited);
	KUNIT_EXPECT_LE(test, hs.arenas, base.arenas + 1);
	KUNIT_EXPECT_EQ(test, hs.pages_released - base.pages_released,
			(base.arenas + ARRAY_SIZE(runs) - hs.arenas) *
			base.arena_pages);
	gom_shrink_all();
}

static struct kunit_case stats_cases[] = {
	KUNIT_CASE(stats_inuse_follows_allocs),
	KUNIT_CASE(stats_allocs_frees_balance),
	KUNIT_CASE(stats_shrink_restores_baseline),
	KUNIT_CASE(stats_invariants),
	KUNIT_CASE(stats_large),
	KUNIT_CASE(stats_run_cache),
	KUNIT_CASE(stats_refused_frees),
	KUNIT_CASE(stats_scavenger),
	KUNIT_CASE(stats_read_while_allocating),
	KUNIT_CASE(stats_shrink_releases_all),
	{}
};

static int stats_init(struct kunit *test)
{
	gom_shrink_all();
	return 0;
}

static struct kunit_suite stats_suite = {
	.name = "gomalloc_stats",
	.init = stats_init,
	.test_cases = stats_cases,
};

kunit_test_suite(stats_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's statistics");
MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
