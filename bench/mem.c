// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: memory efficiency.
 *
 * The mem case allocates a fixed, kernel-like mix of object sizes with one
 * allocator (parameter mem_alloc=gom or slub), in a fixed shuffled order,
 * and holds the objects until the module is unloaded. The footprint is not
 * measured here: the guest script samples the allocators' own counters
 * before loading and while the objects are held (SUnreclaim in
 * /proc/meminfo after a vm stat_refresh for SLUB; the heap files under
 * /sys/kernel/gomalloc for gomalloc) and takes the difference.
 *
 * Writing a percentage to debugfs gomalloc_bench/mem_free frees that share
 * of the held objects, picked at random with a fixed seed, to show how each
 * allocator holds memory after scattered frees.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/kernel.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <gomalloc.h>

#include "bench.h"

/*
 * Requested sizes and counts, about 45 MB in 270k objects. Modelled on the
 * kmalloc caches of a busy system: mostly small objects, with sizes that
 * are not powers of two (40, 72, 160, 320, 700, 1500) as often as not.
 */
static const struct {
	unsigned int size;
	unsigned int count;
} mem_mix[] = {
	{ 16, 20000 }, { 32, 40000 }, { 40, 10000 }, { 64, 60000 },
	{ 72, 10000 }, { 96, 30000 }, { 128, 30000 }, { 160, 10000 },
	{ 192, 20000 }, { 256, 20000 }, { 320, 5000 }, { 512, 10000 },
	{ 700, 3000 }, { 1024, 4000 }, { 1500, 1000 }, { 2048, 1000 },
	{ 4096, 1000 },
};

char *gom_bench_mem_alloc = "gom";

static void **mem_objs;
static unsigned int mem_nr;
static bool mem_gom;
static u64 mem_requested;

static void mem_free_one(unsigned int i)
{
	if (!mem_objs[i])
		return;
	if (mem_gom)
		gom_free(mem_objs[i]);
	else
		kfree(mem_objs[i]);
	mem_objs[i] = NULL;
}

/* Sizes of the mix, expanded and shuffled with a fixed seed. */
static unsigned int *mem_sequence(unsigned int *nr)
{
	unsigned int i, j, k = 0, n = 0, *perm, *seq;

	for (i = 0; i < ARRAY_SIZE(mem_mix); i++)
		n += mem_mix[i].count;
	seq = vmalloc(array_size(n, sizeof(*seq)));
	perm = vmalloc(array_size(n, sizeof(*perm)));
	if (!seq || !perm) {
		vfree(seq);
		vfree(perm);
		return NULL;
	}
	gom_bench_shuffle(perm, n, 0x6e3);
	for (i = 0; i < ARRAY_SIZE(mem_mix); i++)
		for (j = 0; j < mem_mix[i].count; j++)
			seq[perm[k++]] = mem_mix[i].size;
	vfree(perm);
	*nr = n;
	return seq;
}

/**
 * gom_bench_mem() - allocate the size mix and hold it
 * @ctx: run parameters (unused: the mix is fixed)
 *
 * Return: 0, -EINVAL for an unknown mem_alloc, -ENOMEM.
 */
int gom_bench_mem(struct gom_bench_ctx *ctx)
{
	unsigned int i, n, *seq;

	if (!strcmp(gom_bench_mem_alloc, "gom"))
		mem_gom = true;
	else if (!strcmp(gom_bench_mem_alloc, "slub"))
		mem_gom = false;
	else
		return -EINVAL;
	seq = mem_sequence(&n);
	if (!seq)
		return -ENOMEM;
	/* vmalloc, so that the pointer array is not counted as slab. */
	mem_objs = vzalloc(array_size(n, sizeof(*mem_objs)));
	if (!mem_objs) {
		vfree(seq);
		return -ENOMEM;
	}
	mem_nr = n;
	for (i = 0; i < n; i++) {
		mem_objs[i] = mem_gom ? gom_alloc(seq[i], GFP_KERNEL) :
					kmalloc(seq[i], GFP_KERNEL);
		if (!mem_objs[i])
			break;
		mem_requested += seq[i];
	}
	vfree(seq);
	if (i < n) {
		ctx->failures++;
		gom_bench_mem_release();
		return -ENOMEM;
	}
	pr_info("mem: holding %u objects, %llu bytes requested, allocator %s\n",
		n, mem_requested, mem_gom ? "gom" : "slub");
	return 0;
}

/**
 * gom_bench_mem_free_fraction() - free a share of the held objects
 * @percent: share to free, 0..100; the same objects on every run
 *
 * Return: objects freed, or -EINVAL.
 */
int gom_bench_mem_free_fraction(unsigned int percent)
{
	struct rnd_state st;
	unsigned int i;
	int freed = 0;

	if (percent > 100)
		return -EINVAL;
	prandom_seed_state(&st, 0xf4ee);
	for (i = 0; i < mem_nr; i++) {
		if (prandom_u32_state(&st) % 100 >= percent || !mem_objs[i])
			continue;
		mem_free_one(i);
		freed++;
	}
	return freed;
}

/**
 * gom_bench_mem_release() - free everything the mem case holds
 */
void gom_bench_mem_release(void)
{
	unsigned int i;

	if (!mem_objs)
		return;
	for (i = 0; i < mem_nr; i++)
		mem_free_one(i);
	vfree(mem_objs);
	mem_objs = NULL;
	mem_nr = 0;
	mem_requested = 0;
}

/**
 * gom_bench_mem_requested() - bytes requested by the mem case
 *
 * Return: the sum of the sizes requested at allocation time, before any
 * write to mem_free; 0 when nothing is held.
 */
u64 gom_bench_mem_requested(void)
{
	return mem_requested;
}
