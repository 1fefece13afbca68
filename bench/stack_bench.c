// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: level 1 frames against per-object allocation.
 *
 *   frame-8   gom_frame_push(), 8 gom_frame_alloc() of 32 to 256 bytes,
 *             gom_frame_pop(); against the same 8 sizes as 8
 *             gom_alloc()/gom_free() pairs, then as 8 kmalloc()/kfree()
 *             pairs. Figures are ns per object, frame cost included.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <gomalloc.h>

#include "bench.h"

#define FRAME_OBJS	8

/* Objects of one frame: 32 to 256 bytes. */
static const unsigned int frame_sizes[FRAME_OBJS] = {
	32, 64, 96, 128, 160, 192, 224, 256,
};

/**
 * struct frame_arg - state of a frame loop
 * @stack: the stack the frame loop uses
 * @objs: the objects of one iteration of the per-object loops
 */
struct frame_arg {
	struct gom_stack *stack;
	void *objs[FRAME_OBJS];
};

static int frame_stack(void *arg, unsigned int n)
{
	struct frame_arg *a = arg;
	gom_frame_t mark;
	unsigned int i;
	void *p;

	while (n--) {
		mark = gom_frame_push(a->stack);
		for (i = 0; i < FRAME_OBJS; i++) {
			p = gom_frame_alloc(a->stack, frame_sizes[i],
					    GFP_KERNEL);
			if (unlikely(!p)) {
				gom_frame_pop(a->stack, mark);
				return -ENOMEM;
			}
			OPTIMIZER_HIDE_VAR(p);
		}
		gom_frame_pop(a->stack, mark);
	}
	return 0;
}

static int frame_gom(void *arg, unsigned int n)
{
	struct frame_arg *a = arg;
	unsigned int i;

	while (n--) {
		for (i = 0; i < FRAME_OBJS; i++) {
			a->objs[i] = gom_alloc(frame_sizes[i], GFP_KERNEL);
			if (unlikely(!a->objs[i])) {
				while (i--)
					gom_free(a->objs[i]);
				return -ENOMEM;
			}
		}
		for (i = 0; i < FRAME_OBJS; i++)
			gom_free(a->objs[i]);
	}
	return 0;
}

static int frame_slub(void *arg, unsigned int n)
{
	struct frame_arg *a = arg;
	unsigned int i;

	while (n--) {
		for (i = 0; i < FRAME_OBJS; i++) {
			a->objs[i] = kmalloc(frame_sizes[i], GFP_KERNEL);
			if (unlikely(!a->objs[i])) {
				while (i--)
					kfree(a->objs[i]);
				return -ENOMEM;
			}
		}
		for (i = 0; i < FRAME_OBJS; i++)
			kfree(a->objs[i]);
	}
	return 0;
}

/**
 * gom_bench_stack() - a frame of 8 small objects against 8 frees
 * @ctx: run parameters
 *
 * Records frame-8 twice: against gom_alloc()/gom_free() and against
 * kmalloc()/kfree(). The size column is the largest object.
 *
 * Context: process context.
 * Return: 0, or -ENOMEM if the stack could not be made.
 */
int gom_bench_stack(struct gom_bench_ctx *ctx)
{
	struct frame_arg fa = { }, pa = { };
	struct gom_bench_pair pair = {
		.gom = frame_stack, .gom_arg = &fa, .peer_arg = &pa,
		.n = max(ctx->iters / FRAME_OBJS, 1U), .ops = FRAME_OBJS,
	};
	struct gom_bench_rec rec = {
		.name = "frame-8", .unit = "ns/obj",
		.size = frame_sizes[FRAME_OBJS - 1],
	};

	fa.stack = gom_stack_create(0, GFP_KERNEL);
	if (!fa.stack)
		return -ENOMEM;
	pair.peer = frame_gom;
	rec.peer = "gom_alloc";
	gom_bench_run_pair(ctx, &pair, &rec);
	pair.peer = frame_slub;
	rec.peer = "kmalloc";
	gom_bench_run_pair(ctx, &pair, &rec);
	gom_stack_destroy(fa.stack);
	return 0;
}
