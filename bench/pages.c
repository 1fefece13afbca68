// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: page cases.
 *
 *   pages  gom_alloc_pages/gom_free_pages of 1, 2, 4, 16, 64 pages against
 *          alloc_pages/__free_pages of the matching order
 *   large  gom_alloc/gom_free of 64 KiB, 256 KiB, 1 MiB against kmalloc
 *          (kmalloc_large on 6.1) and against alloc_pages_exact
 *
 * Sizes are recorded in bytes. Iterations shrink with the size (see
 * gom_bench_iters()) so that zeroing under init_on_alloc=1 does not
 * dominate the run time.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <gomalloc.h>

#include "bench.h"

static const unsigned int page_counts[] = { 1, 2, 4, 16, 64 };
static const unsigned int large_sizes[] = { SZ_64K, SZ_256K, SZ_1M };

/**
 * struct page_arg - state of a page loop
 * @npages: pages per allocation
 * @order: page order of @npages
 * @size: bytes per allocation
 */
struct page_arg {
	unsigned int npages;
	unsigned int order;
	size_t size;
};

static int pages_gom(void *arg, unsigned int n)
{
	struct page_arg *a = arg;
	void *p;

	while (n--) {
		p = gom_alloc_pages(a->npages, GFP_KERNEL);
		if (unlikely(!p))
			return -ENOMEM;
		gom_free_pages(p);
	}
	return 0;
}

static int pages_buddy(void *arg, unsigned int n)
{
	struct page_arg *a = arg;
	struct page *page;

	while (n--) {
		page = alloc_pages(GFP_KERNEL, a->order);
		if (unlikely(!page))
			return -ENOMEM;
		__free_pages(page, a->order);
	}
	return 0;
}

static int large_gom(void *arg, unsigned int n)
{
	struct page_arg *a = arg;
	void *p;

	while (n--) {
		p = gom_alloc(a->size, GFP_KERNEL);
		if (unlikely(!p))
			return -ENOMEM;
		gom_free(p);
	}
	return 0;
}

static int large_kmalloc(void *arg, unsigned int n)
{
	struct page_arg *a = arg;
	void *p;

	while (n--) {
		p = kmalloc(a->size, GFP_KERNEL);
		if (unlikely(!p))
			return -ENOMEM;
		kfree(p);
	}
	return 0;
}

static int large_exact(void *arg, unsigned int n)
{
	struct page_arg *a = arg;
	void *p;

	while (n--) {
		p = alloc_pages_exact(a->size, GFP_KERNEL);
		if (unlikely(!p))
			return -ENOMEM;
		free_pages_exact(p, a->size);
	}
	return 0;
}

/**
 * gom_bench_pages() - page-run alloc + free against the buddy allocator
 * @ctx: run parameters
 *
 * Return: 0.
 */
int gom_bench_pages(struct gom_bench_ctx *ctx)
{
	struct page_arg a;
	struct gom_bench_pair pair = {
		.gom = pages_gom, .peer = pages_buddy, .gom_arg = &a,
		.peer_arg = &a, .ops = 1,
	};
	struct gom_bench_rec rec = {
		.name = "pages", .peer = "alloc_pages", .unit = "ns/pair",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(page_counts); i++) {
		a.npages = page_counts[i];
		a.order = ilog2(a.npages);
		a.size = (size_t)a.npages << PAGE_SHIFT;
		pair.n = gom_bench_iters(ctx, a.size);
		rec.size = a.size;
		gom_bench_run_pair(ctx, &pair, &rec);
	}
	return 0;
}

/**
 * gom_bench_large() - large gom_alloc() against kmalloc and pages_exact
 * @ctx: run parameters
 *
 * Return: 0.
 */
int gom_bench_large(struct gom_bench_ctx *ctx)
{
	struct page_arg a;
	struct gom_bench_pair pair = {
		.gom = large_gom, .gom_arg = &a, .peer_arg = &a, .ops = 1,
	};
	struct gom_bench_rec rec = { .name = "large", .unit = "ns/pair" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(large_sizes); i++) {
		a.size = large_sizes[i];
		a.npages = a.size >> PAGE_SHIFT;
		pair.n = gom_bench_iters(ctx, a.size);
		rec.size = a.size;

		pair.peer = large_kmalloc;
		rec.peer = "kmalloc";
		gom_bench_run_pair(ctx, &pair, &rec);

		pair.peer = large_exact;
		rec.peer = "pages_exact";
		gom_bench_run_pair(ctx, &pair, &rec);
	}
	return 0;
}
