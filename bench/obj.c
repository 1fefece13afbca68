// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: object cases, gom_alloc() against SLUB.
 *
 *   hot       one alloc + free, repeated (kmalloc/kfree)
 *   hot-node  the same through the _node variants
 *   usable    gom_usable_size() against ksize() on a live object
 *   burst-seq 1000 allocs, then 1000 frees in allocation order
 *   burst-rnd 1000 allocs, then 1000 frees in a fixed random order
 *   bulk-16   gom_alloc_bulk/gom_free_bulk of 16 against
 *   bulk-128  kmem_cache_alloc_bulk/kmem_cache_free_bulk on a bench cache
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <gomalloc.h>

#include "bench.h"

#define BURST_OBJS	1000
#define BULK_MAX	128

const unsigned int gom_bench_sizes[] = {
	8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 32768,
};

const unsigned int gom_bench_nr_sizes = ARRAY_SIZE(gom_bench_sizes);

/* Sizes for the cheaper side cases; a few classes are enough there. */
static const unsigned int side_sizes[] = { 64, 512, 4096, 32768 };

/**
 * struct obj_arg - state of an object loop
 * @size: object size
 * @node: NUMA node for the _node variants
 * @nr: objects per burst or bulk call
 * @objs: pointer array of @nr entries
 * @perm: free order for burst-rnd, or NULL for allocation order
 * @cache: peer cache of the bulk case
 * @obj: the live object of the usable case
 */
struct obj_arg {
	size_t size;
	int node;
	unsigned int nr;
	void **objs;
	const unsigned int *perm;
	struct kmem_cache *cache;
	void *obj;
};

static int hot_gom(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	void *p;

	while (n--) {
		p = gom_alloc(a->size, GFP_KERNEL);
		if (unlikely(!p))
			return -ENOMEM;
		gom_free(p);
	}
	return 0;
}

static int hot_slub(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	void *p;

	while (n--) {
		p = kmalloc(a->size, GFP_KERNEL);
		if (unlikely(!p))
			return -ENOMEM;
		kfree(p);
	}
	return 0;
}

static int hot_node_gom(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	void *p;

	while (n--) {
		p = gom_alloc_node(a->size, GFP_KERNEL, a->node);
		if (unlikely(!p))
			return -ENOMEM;
		gom_free(p);
	}
	return 0;
}

static int hot_node_slub(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	void *p;

	while (n--) {
		p = kmalloc_node(a->size, GFP_KERNEL, a->node);
		if (unlikely(!p))
			return -ENOMEM;
		kfree(p);
	}
	return 0;
}

static int usable_gom(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	size_t sum = 0;

	while (n--) {
		sum += gom_usable_size(a->obj);
		OPTIMIZER_HIDE_VAR(sum);
	}
	return 0;
}

static int usable_slub(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	size_t sum = 0;

	while (n--) {
		sum += ksize(a->obj);
		OPTIMIZER_HIDE_VAR(sum);
	}
	return 0;
}

static inline void *burst_obj(const struct obj_arg *a, unsigned int i)
{
	return a->objs[a->perm ? a->perm[i] : i];
}

/* Free objs[] in perm order, or in allocation order without a perm. */
static void free_all_gom(const struct obj_arg *a)
{
	unsigned int i;

	for (i = 0; i < a->nr; i++)
		gom_free(burst_obj(a, i));
}

static void free_all_slub(const struct obj_arg *a)
{
	unsigned int i;

	for (i = 0; i < a->nr; i++)
		kfree(burst_obj(a, i));
}

static int burst_gom(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	unsigned int i;

	while (n--) {
		for (i = 0; i < a->nr; i++) {
			a->objs[i] = gom_alloc(a->size, GFP_KERNEL);
			if (unlikely(!a->objs[i])) {
				a->nr = i;
				a->perm = NULL;
				free_all_gom(a);
				return -ENOMEM;
			}
		}
		free_all_gom(a);
	}
	return 0;
}

static int burst_slub(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	unsigned int i;

	while (n--) {
		for (i = 0; i < a->nr; i++) {
			a->objs[i] = kmalloc(a->size, GFP_KERNEL);
			if (unlikely(!a->objs[i])) {
				a->nr = i;
				a->perm = NULL;
				free_all_slub(a);
				return -ENOMEM;
			}
		}
		free_all_slub(a);
	}
	return 0;
}

static int bulk_gom(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	int got;

	while (n--) {
		got = gom_alloc_bulk(a->size, GFP_KERNEL, a->nr, a->objs);
		if (unlikely(got != a->nr)) {
			if (got > 0)
				gom_free_bulk(got, a->objs);
			return -ENOMEM;
		}
		gom_free_bulk(a->nr, a->objs);
	}
	return 0;
}

static int bulk_slub(void *arg, unsigned int n)
{
	struct obj_arg *a = arg;
	int got;

	while (n--) {
		got = kmem_cache_alloc_bulk(a->cache, GFP_KERNEL, a->nr, a->objs);
		if (unlikely(got != a->nr))
			return -ENOMEM;
		kmem_cache_free_bulk(a->cache, a->nr, a->objs);
	}
	return 0;
}

/* Run one hot-style pair over @sizes. */
static int run_sizes(struct gom_bench_ctx *ctx, const char *name,
		     const char *peer, const unsigned int *sizes,
		     unsigned int nr_sizes, gom_bench_loop_t gom,
		     gom_bench_loop_t slub)
{
	struct obj_arg a = { .node = numa_node_id() };
	struct gom_bench_pair pair = {
		.gom = gom, .peer = slub, .gom_arg = &a, .peer_arg = &a,
		.n = ctx->iters, .ops = 1,
	};
	struct gom_bench_rec rec = {
		.name = name, .peer = peer, .unit = "ns/pair",
	};
	unsigned int i;

	for (i = 0; i < nr_sizes; i++) {
		a.size = sizes[i];
		rec.size = sizes[i];
		pair.n = gom_bench_iters(ctx, a.size);
		gom_bench_run_pair(ctx, &pair, &rec);
	}
	return 0;
}

/**
 * gom_bench_hot() - alloc + free of one object, every size
 * @ctx: run parameters
 *
 * Return: 0.
 */
int gom_bench_hot(struct gom_bench_ctx *ctx)
{
	return run_sizes(ctx, "hot", "kmalloc", gom_bench_sizes,
			 gom_bench_nr_sizes, hot_gom, hot_slub);
}

/**
 * gom_bench_hot_node() - alloc + free through gom_alloc_node()/kmalloc_node()
 * @ctx: run parameters
 *
 * Return: 0.
 */
int gom_bench_hot_node(struct gom_bench_ctx *ctx)
{
	return run_sizes(ctx, "hot-node", "kmalloc_node", side_sizes,
			 ARRAY_SIZE(side_sizes), hot_node_gom, hot_node_slub);
}

/* gom_usable_size() and ksize() each on an object of its own allocator. */
static int usable_one(struct gom_bench_ctx *ctx, struct gom_bench_rec *rec)
{
	struct obj_arg g = { .size = rec->size }, s = { .size = rec->size };
	struct gom_bench_pair pair = {
		.gom = usable_gom, .peer = usable_slub, .gom_arg = &g,
		.peer_arg = &s, .n = ctx->iters, .ops = 1,
	};
	int ret = -ENOMEM;

	g.obj = gom_alloc(rec->size, GFP_KERNEL);
	s.obj = kmalloc(rec->size, GFP_KERNEL);
	if (g.obj && s.obj)
		ret = gom_bench_run_pair(ctx, &pair, rec);
	gom_free(g.obj);
	kfree(s.obj);
	return ret;
}

/**
 * gom_bench_usable() - gom_usable_size() against ksize()
 * @ctx: run parameters
 *
 * Return: 0.
 */
int gom_bench_usable(struct gom_bench_ctx *ctx)
{
	struct gom_bench_rec rec = {
		.name = "usable", .peer = "ksize", .unit = "ns/call",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(side_sizes); i++) {
		rec.size = side_sizes[i];
		usable_one(ctx, &rec);
	}
	return 0;
}

static void burst_one(struct gom_bench_ctx *ctx, struct obj_arg *a,
		      const unsigned int *perm, const char *name)
{
	struct gom_bench_pair pair = {
		.gom = burst_gom, .peer = burst_slub, .gom_arg = a,
		.peer_arg = a,
		.n = max(gom_bench_iters(ctx, a->size) / BURST_OBJS, 1U),
		.ops = BURST_OBJS,
	};
	struct gom_bench_rec rec = {
		.name = name, .peer = "kmalloc", .unit = "ns/obj",
		.size = a->size,
	};

	a->nr = BURST_OBJS;
	a->perm = perm;
	gom_bench_run_pair(ctx, &pair, &rec);
}

/**
 * gom_bench_burst() - 1000 allocations, then 1000 frees, every size
 * @ctx: run parameters
 *
 * Frees go in allocation order (burst-seq), then in a fixed random order
 * (burst-rnd), which scatters them over spans/slabs.
 *
 * Return: 0 or -ENOMEM if the arrays cannot be allocated.
 */
int gom_bench_burst(struct gom_bench_ctx *ctx)
{
	struct obj_arg a = { };
	unsigned int *perm;
	unsigned int i;

	a.objs = kvcalloc(BURST_OBJS, sizeof(*a.objs), GFP_KERNEL);
	perm = kvcalloc(BURST_OBJS, sizeof(*perm), GFP_KERNEL);
	if (!a.objs || !perm) {
		kvfree(a.objs);
		kvfree(perm);
		return -ENOMEM;
	}
	gom_bench_shuffle(perm, BURST_OBJS, 0x60a11);
	for (i = 0; i < gom_bench_nr_sizes; i++) {
		a.size = gom_bench_sizes[i];
		burst_one(ctx, &a, NULL, "burst-seq");
		burst_one(ctx, &a, perm, "burst-rnd");
	}
	kvfree(a.objs);
	kvfree(perm);
	return 0;
}

static void bulk_one(struct gom_bench_ctx *ctx, struct obj_arg *a,
		     unsigned int nr)
{
	struct gom_bench_pair pair = {
		.gom = bulk_gom, .peer = bulk_slub, .gom_arg = a,
		.peer_arg = a, .n = max(gom_bench_iters(ctx, a->size) / nr, 1U),
		.ops = nr,
	};
	struct gom_bench_rec rec = {
		.name = nr == 16 ? "bulk-16" : "bulk-128",
		.peer = "kmem_cache_bulk", .unit = "ns/obj", .size = a->size,
	};

	a->nr = nr;
	gom_bench_run_pair(ctx, &pair, &rec);
}

/**
 * gom_bench_bulk() - bulk alloc + free of 16 and 128 objects, every size
 * @ctx: run parameters
 *
 * The peer is a kmem_cache of the same object size created here (SLUB may
 * merge it with the kmalloc cache of that size, as it would for any user).
 *
 * Return: 0 or -ENOMEM if the pointer array cannot be allocated.
 */
int gom_bench_bulk(struct gom_bench_ctx *ctx)
{
	struct obj_arg a = { };
	char name[32];
	unsigned int i;

	a.objs = kcalloc(BULK_MAX, sizeof(*a.objs), GFP_KERNEL);
	if (!a.objs)
		return -ENOMEM;
	for (i = 0; i < gom_bench_nr_sizes; i++) {
		a.size = gom_bench_sizes[i];
		snprintf(name, sizeof(name), "gombench-%zu", a.size);
		a.cache = kmem_cache_create(name, a.size, 0, 0, NULL);
		if (!a.cache) {
			ctx->failures++;
			continue;
		}
		bulk_one(ctx, &a, 16);
		bulk_one(ctx, &a, BULK_MAX);
		kmem_cache_destroy(a.cache);
	}
	kfree(a.objs);
	return 0;
}
