// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: cross-CPU producer/consumer throughput.
 *
 * One kthread per online CPU, bound to it. Worker k allocates objects and
 * passes them through its single-producer single-consumer ring to worker
 * k + 1 (mod the number of workers), and frees what worker k - 1 passes to
 * it. Every free is thus remote: the object was allocated on another CPU.
 * The figure is objects freed per second of wall time, all workers
 * together; it means something in wall-clock mode only, and the case is
 * skipped with fewer than two CPUs.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <gomalloc.h>

#include "bench.h"

#define XRING_SIZE	512
#define XRING_MASK	(XRING_SIZE - 1)
#define XCPU_OBJS_MULT	2	/* objects per worker: iters times this */

static const unsigned int xcpu_sizes[] = { 64, 256 };

/* SPSC ring; head written by the producer only, tail by the consumer. */
struct xring {
	unsigned int head ____cacheline_aligned;
	unsigned int tail ____cacheline_aligned;
	void *slot[XRING_SIZE] ____cacheline_aligned;
};

struct xcpu_run {
	bool use_gom;
	size_t size;
	unsigned long count;	/* objects each worker produces */
	int abort;
};

struct xworker {
	struct xring ring;	/* out: to the next worker */
	struct xring *in;	/* from the previous worker */
	struct xcpu_run *run;
	struct completion done;
	u64 end_ns;
};

static bool xring_push(struct xring *r, void *p)
{
	unsigned int h = r->head;

	/* Pairs with the release in xring_pop(): the slot has been read. */
	if (h - smp_load_acquire(&r->tail) == XRING_SIZE)
		return false;
	r->slot[h & XRING_MASK] = p;
	/* Publish the slot before the new head; pairs with xring_pop(). */
	smp_store_release(&r->head, h + 1);
	return true;
}

static void *xring_pop(struct xring *r)
{
	unsigned int t = r->tail;
	void *p;

	/* Pairs with the release in xring_push(): the slot is written. */
	if (smp_load_acquire(&r->head) == t)
		return NULL;
	p = r->slot[t & XRING_MASK];
	/* Read the slot before handing it back; pairs with xring_push(). */
	smp_store_release(&r->tail, t + 1);
	return p;
}

static void *x_alloc(const struct xcpu_run *run)
{
	void *p;

	p = run->use_gom ? gom_alloc(run->size, GFP_KERNEL) :
			   kmalloc(run->size, GFP_KERNEL);
	if (p)
		*(unsigned long *)p = (unsigned long)p;	/* touch it */
	return p;
}

static void x_free(const struct xcpu_run *run, void *p)
{
	if (run->use_gom)
		gom_free(p);
	else
		kfree(p);
}

/* Produce one object if there is room; false if the run must stop. */
static bool x_produce(struct xworker *w, unsigned long *made, void **pending)
{
	if (!*pending) {
		*pending = x_alloc(w->run);
		if (!*pending) {
			WRITE_ONCE(w->run->abort, 1);
			return false;
		}
	}
	if (xring_push(&w->ring, *pending)) {
		*pending = NULL;
		(*made)++;
	}
	return true;
}

static int xworker_fn(void *data)
{
	struct xworker *w = data;
	struct xcpu_run *run = w->run;
	unsigned long made = 0, freed = 0, spins = 0;
	void *pending = NULL, *p;

	while ((made < run->count || freed < run->count) &&
	       !READ_ONCE(run->abort)) {
		if (made < run->count && !x_produce(w, &made, &pending))
			break;
		p = xring_pop(w->in);
		if (p) {
			x_free(run, p);
			freed++;
		}
		if (!(++spins & 1023))
			cond_resched();
	}
	if (pending)
		x_free(run, pending);
	w->end_ns = ktime_get_ns();
	kthread_complete_and_exit(&w->done, 0);
}

/* Free what is left in the rings after an aborted run. */
static void xcpu_drain(struct xworker *w, unsigned int nr)
{
	unsigned int k;
	void *p;

	for (k = 0; k < nr; k++)
		while ((p = xring_pop(&w[k].ring)))
			x_free(w[k].run, p);
}

/* Start a worker on each online CPU; returns how many were started. */
static unsigned int xcpu_start(struct xworker *w, unsigned int nr)
{
	struct task_struct *t;
	unsigned int k = 0, cpu;

	for_each_online_cpu(cpu) {
		if (k == nr)
			break;
		t = kthread_create(xworker_fn, &w[k], "gombench-x/%u", cpu);
		if (IS_ERR(t))
			break;
		kthread_bind(t, cpu);
		wake_up_process(t);
		k++;
	}
	return k;
}

/* One timed run; returns the elapsed ns, or 0 on failure. */
static u64 xcpu_once(struct xworker *w, unsigned int nr, struct xcpu_run *run)
{
	unsigned int k, started;
	u64 t0, end = 0;

	memset(w, 0, sizeof(*w) * nr);
	for (k = 0; k < nr; k++) {
		w[k].run = run;
		w[k].in = &w[(k + nr - 1) % nr].ring;
		init_completion(&w[k].done);
	}
	run->abort = 0;
	t0 = ktime_get_ns();
	started = xcpu_start(w, nr);
	if (started < nr)
		WRITE_ONCE(run->abort, 1);
	for (k = 0; k < started; k++) {
		wait_for_completion(&w[k].done);
		end = max(end, w[k].end_ns);
	}
	xcpu_drain(w, nr);
	return run->abort ? 0 : end - t0;
}

/* Record one figure: objects per second of @count over @gom_ns, @peer_ns. */
static void xcpu_record(const char *name, size_t size, unsigned long count,
			u64 gom_ns, u64 peer_ns)
{
	struct gom_bench_rec rec = {
		.name = name, .peer = "kmalloc", .unit = "obj/s",
		.size = size, .count = count,
		.gom = div64_u64((u64)count * NSEC_PER_SEC * 100, gom_ns),
		.peer_val = div64_u64((u64)count * NSEC_PER_SEC * 100, peer_ns),
	};

	gom_bench_record(&rec);
}

/*
 * The fastest run of each allocator makes the "xcpu" figure. Each timed
 * repetition runs gomalloc and SLUB back to back, so its ratio is a
 * figure too: "xcpu-low" and "xcpu-high" are the repetitions with the
 * lowest and highest ratio, the spread between runs.
 */
static int xcpu_size(struct gom_bench_ctx *ctx, struct xworker *w,
		     unsigned int nr, size_t size)
{
	struct xcpu_run run = {
		.size = size, .count = (unsigned long)ctx->iters * XCPU_OBJS_MULT,
	};
	u64 best[2] = { U64_MAX, U64_MAX }, lo[2] = {}, hi[2] = {};
	u64 ns[2], q, q_lo = U64_MAX, q_hi = 0;
	unsigned int r, g;

	for (r = 0; r <= ctx->reps; r++) {	/* the first is the warm-up */
		for (g = 0; g < 2; g++) {
			run.use_gom = !g;
			ns[g] = xcpu_once(w, nr, &run);
			if (!ns[g]) {
				ctx->failures++;
				return -ENOMEM;
			}
			if (r)
				best[g] = min(best[g], ns[g]);
		}
		if (!r)
			continue;
		q = div64_u64(ns[1] << 16, ns[0]);	/* throughput ratio */
		if (q < q_lo) {
			q_lo = q;
			memcpy(lo, ns, sizeof(ns));
		}
		if (q > q_hi) {
			q_hi = q;
			memcpy(hi, ns, sizeof(ns));
		}
	}
	xcpu_record("xcpu", size, run.count * nr, best[0], best[1]);
	if (q_hi) {
		xcpu_record("xcpu-low", size, run.count * nr, lo[0], lo[1]);
		xcpu_record("xcpu-high", size, run.count * nr, hi[0], hi[1]);
	}
	return 0;
}

/**
 * gom_bench_xcpu() - remote-free throughput, gomalloc against kmalloc
 * @ctx: run parameters
 *
 * Context: process context; not from a kthread bound to a CPU that a worker
 * spins on without sleeping (workers cond_resched() so it would only slow).
 * Return: 0, -ENODEV with one CPU, -ENOMEM.
 */
int gom_bench_xcpu(struct gom_bench_ctx *ctx)
{
	unsigned int nr = num_online_cpus(), i;
	struct xworker *w;

	if (nr < 2) {
		pr_info("xcpu: needs two CPUs, skipped\n");
		return -ENODEV;
	}
	w = kvcalloc(nr, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(xcpu_sizes); i++)
		xcpu_size(ctx, w, nr, xcpu_sizes[i]);
	kvfree(w);
	return 0;
}
