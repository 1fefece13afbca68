// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite gomalloc_mcache: the per-CPU magazines in front of the
 * mcentrals. Cases pin themselves to a CPU with migrate_disable() (they
 * may still sleep to grow the heap) and look at that CPU's magazine.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include "internal.h"

#define MK_SIZE		64	/* many objects per span: refills are whole */

static struct gom_mag *mag_of(unsigned int cpu, unsigned int cls)
{
	return &(*per_cpu_ptr(gom_mcaches, cpu))->mag[cls];
}

/*
 * Drain every magazine and give the class's free spans back; false if
 * the class has objects in use elsewhere.
 */
static bool idle_class(unsigned int cls, int node)
{
	struct gom_mcentral *c = gom_central(node, cls);

	gom_mcache_drain_all();
	gom_mcentral_trim(c, 0);
	return !c->nr_partial && !c->nr_full;
}

/* A free then an alloc on the same CPU hands back the same object. */
static void mk_hit_returns_same_object(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu;
	unsigned long allocs, frees;
	struct gom_mag *m;
	void *p, *q;

	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, p);
	if (!p)
		goto out;
	allocs = m->allocs;
	frees = m->frees;
	gom_free(p);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 1);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[m->count - 1], p);
	q = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + 1);
	gom_free(q);
out:
	migrate_enable();
}

/* An empty magazine takes one batch and hands out one of it. */
static void mk_refill_takes_a_batch(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu, i;
	const struct gom_class *k = &gom_classes[cls];
	void *objs[GOM_MAG_MAX];
	unsigned long refills, allocs;
	struct gom_mcentral *c;
	struct gom_mag *m;
	bool idle;
	void *p;

	KUNIT_ASSERT_GE(test, k->nobjs, k->batch);
	migrate_disable();
	cpu = smp_processor_id();
	c = gom_central(numa_mem_id(), cls);
	idle = idle_class(cls, numa_mem_id());
	if (!idle) {
		migrate_enable();
		kunit_skip(test, "class of %u bytes is in use by others",
			   k->size);
	}
	m = mag_of(cpu, cls);
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	refills = m->refills;
	allocs = m->allocs;
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, p);
	if (!p)
		goto out;
	KUNIT_EXPECT_EQ(test, m->count, k->batch - 1U);
	KUNIT_EXPECT_EQ(test, m->refills, refills + 1);
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + 1);
	KUNIT_EXPECT_EQ(test, c->objs_free, (unsigned long)k->nobjs -
			k->batch);
	for (i = 0; i < m->count; i++)
		KUNIT_EXPECT_PTR_NE(test, m->objs[i], p);
	/* the next batch - 1 allocations are hits */
	objs[0] = p;
	for (i = 1; i < k->batch; i++) {
		objs[i] = gom_alloc(MK_SIZE, GFP_KERNEL);
		KUNIT_EXPECT_NOT_NULL(test, objs[i]);
	}
	KUNIT_EXPECT_EQ(test, m->refills, refills + 1);
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	gom_free_bulk(k->batch, objs);
out:
	migrate_enable();
}

/* Freeing into a full magazine moves its oldest batch to the mcentral. */
static void mk_flush_on_overflow(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu, i, cap;
	const struct gom_class *k = &gom_classes[cls];
	unsigned long flushes;
	struct gom_mag *m;
	void **objs;

	objs = kunit_kcalloc(test, GOM_MAG_MAX + 1, sizeof(*objs),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);
	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	cap = m->cap;
	KUNIT_EXPECT_EQ(test, cap, (unsigned int)k->mag_cap);
	for (i = 0; i <= cap; i++) {
		objs[i] = gom_alloc(MK_SIZE, GFP_KERNEL);
		KUNIT_EXPECT_NOT_NULL(test, objs[i]);
	}
	gom_mcache_drain_all();
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	flushes = m->flushes;
	for (i = 0; i < cap; i++)
		gom_free(objs[i]);
	KUNIT_EXPECT_EQ(test, m->count, cap);
	KUNIT_EXPECT_EQ(test, m->flushes, flushes);
	gom_free(objs[cap]);
	KUNIT_EXPECT_EQ(test, m->flushes, flushes + 1);
	KUNIT_EXPECT_EQ(test, m->count, cap - k->batch + 1);
	/* the newest objects stayed, the oldest went */
	KUNIT_EXPECT_PTR_EQ(test, m->objs[m->count - 1], objs[cap]);
	KUNIT_EXPECT_PTR_EQ(test, m->objs[0], objs[k->batch]);
	migrate_enable();
	gom_mcache_drain_all();
}

struct mk_fill {
	unsigned int cls;
	int nr;
};

/* Runs on each CPU in an IPI: leave objects in the magazines. */
static void mk_fill_fn(void *arg)
{
	struct mk_fill *f = arg;
	void *objs[8];
	int i;

	for (i = 0; i < f->nr && i < ARRAY_SIZE(objs); i++)
		objs[i] = gom_alloc(gom_classes[f->cls].size, GFP_ATOMIC);
	for (i = 0; i < f->nr && i < ARRAY_SIZE(objs); i++)
		gom_free(objs[i]);
	/* and a run of 2^(cls % 4) pages in the page cache */
	gom_free_pages(gom_alloc_pages(1U << (f->cls % 4), GFP_ATOMIC));
}

/* gom_mcache_drain_all() leaves every cache of every CPU empty. */
static void mk_drain_all_empties(struct kunit *test)
{
	unsigned int cpu, cls, filled = 0;
	struct mk_fill f = { .nr = 8 };

	for (cls = 1; cls < GOM_NR_CLASSES; cls += 7) {
		f.cls = cls;
		on_each_cpu(mk_fill_fn, &f, 1);
	}
	for_each_online_cpu(cpu)
		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			filled += mag_of(cpu, cls)->count;
	KUNIT_EXPECT_GT(test, filled, 0U);
	gom_mcache_drain_all();
	for_each_online_cpu(cpu) {
		struct gom_mcache *mc = *per_cpu_ptr(gom_mcaches, cpu);
		unsigned int order;

		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			KUNIT_EXPECT_EQ_MSG(test, mc->mag[cls].count, 0U,
					    "cpu %u class %u", cpu, cls);
		for (order = 0; order < GOM_PCACHE_ORDERS; order++)
			KUNIT_EXPECT_EQ_MSG(test, mc->pc[order].count, 0U,
					    "cpu %u page order %u", cpu,
					    order);
	}
}

/* allocs and frees count every call on their CPU. */
static void mk_counters(struct kunit *test)
{
	unsigned int cls = gom_size_class(256), cpu, i;
	unsigned long allocs, frees, bulk_allocs;
	void *objs[20];
	struct gom_mag *m;

	migrate_disable();
	cpu = smp_processor_id();
	m = mag_of(cpu, cls);
	allocs = m->allocs;
	frees = m->frees;
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i] = gom_alloc(256, GFP_KERNEL);
		KUNIT_EXPECT_NOT_NULL(test, objs[i]);
	}
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		gom_free(objs[i]);
	KUNIT_EXPECT_EQ(test, m->allocs, allocs + ARRAY_SIZE(objs));
	KUNIT_EXPECT_EQ(test, m->frees, frees + ARRAY_SIZE(objs));

	bulk_allocs = m->allocs;
	KUNIT_EXPECT_EQ(test, gom_alloc_bulk(256, GFP_KERNEL,
					     ARRAY_SIZE(objs), objs),
			(int)ARRAY_SIZE(objs));
	KUNIT_EXPECT_EQ(test, m->allocs, bulk_allocs + ARRAY_SIZE(objs));
	gom_free_bulk(ARRAY_SIZE(objs), objs);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 2 * ARRAY_SIZE(objs));
	migrate_enable();
}

/* A request for another node leaves this CPU's magazine alone. */
static void mk_remote_alloc_bypasses_magazine(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), cpu, count;
	int nid, other = NUMA_NO_NODE;
	struct gom_mag *m;
	void *p;

	migrate_disable();
	cpu = smp_processor_id();
	for_each_online_node(nid)
		if (nid != numa_mem_id() && node_state(nid, N_MEMORY))
			other = nid;
	if (other == NUMA_NO_NODE) {
		migrate_enable();
		kunit_skip(test, "needs a second NUMA node with memory");
	}
	m = mag_of(cpu, cls);
	count = m->count;
	p = gom_alloc_node(MK_SIZE, GFP_KERNEL, other);
	KUNIT_EXPECT_NOT_NULL(test, p);
	if (p)
		KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(p)), other);
	KUNIT_EXPECT_EQ(test, m->count, count);
	gom_free(p);
	migrate_enable();
}

static void mk_free_fn(void *p)
{
	gom_free(p);
}

/*
 * An object freed on a CPU of another node goes back to its own span,
 * not into that CPU's magazine, where it would be handed out as local
 * memory of the wrong node.
 */
static void mk_remote_node_free_returns_to_span(struct kunit *test)
{
	unsigned int cls = gom_size_class(MK_SIZE), target = nr_cpu_ids;
	unsigned long frees, inuse;
	struct gom_mcentral *c;
	struct gom_mag *m;
	void *p;
	int nid;

	migrate_disable();
	nid = numa_mem_id();
	for_each_online_cpu(target)
		if (cpu_to_mem(target) != nid)
			break;
	if (target >= nr_cpu_ids) {
		migrate_enable();
		kunit_skip(test, "needs online CPUs on two NUMA nodes");
	}
	c = gom_central(nid, cls);
	p = gom_alloc(MK_SIZE, GFP_KERNEL);
	gom_mcache_drain_all();
	m = mag_of(target, cls);
	frees = m->frees;
	inuse = gom_mcentral_inuse(c);
	KUNIT_EXPECT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, smp_call_function_single(target, mk_free_fn, p,
						       1), 0);
	KUNIT_EXPECT_EQ(test, m->frees, frees + 1);
	KUNIT_EXPECT_EQ(test, m->count, 0U);
	KUNIT_EXPECT_EQ(test, gom_mcentral_inuse(c), inuse - 1);
	migrate_enable();
}

static struct kunit_case gomalloc_mcache_cases[] = {
	KUNIT_CASE(mk_hit_returns_same_object),
	KUNIT_CASE(mk_refill_takes_a_batch),
	KUNIT_CASE(mk_flush_on_overflow),
	KUNIT_CASE(mk_drain_all_empties),
	KUNIT_CASE(mk_counters),
	KUNIT_CASE(mk_remote_alloc_bypasses_magazine),
	KUNIT_CASE(mk_remote_node_free_returns_to_span),
	{}
};

static struct kunit_suite gomalloc_mcache_suite = {
	.name = "gomalloc_mcache",
	.test_cases = gomalloc_mcache_cases,
};

kunit_test_suite(gomalloc_mcache_suite);

GOM_MODULE_IMPORT_NS(GOMALLOC_INTERNAL);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for gomalloc's per-CPU magazines");
