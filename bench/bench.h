/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomalloc benchmark module: shared declarations.
 *
 * A case is a function that measures gomalloc and its kernel peer back to
 * back and hands each figure to gom_bench_record(). Cases are listed in
 * gom_bench_cases[] (bench_main.c); adding one is a declaration here, a line
 * in that table and an object in bench/Kbuild.
 */
#ifndef _GOM_BENCH_H
#define _GOM_BENCH_H

#include <linux/types.h>

/*
 * Allocations above these sizes get fewer iterations, see gom_bench_iters():
 * the first with init_on_alloc=1, the second without.
 */
#define GOM_BENCH_SCALE_BYTES		1024
#define GOM_BENCH_SCALE_BYTES_NOINIT	8192
#define GOM_BENCH_MIN_ITERS		16U

/* Case flags. */
#define GOM_BENCH_SMP		BIT(0)	/* needs two online CPUs */
#define GOM_BENCH_PINNED	BIT(1)	/* run in a kthread bound to a CPU */
#define GOM_BENCH_HOLD		BIT(2)	/* leaves memory held until unload */
#define GOM_BENCH_DEFAULT	BIT(3)	/* part of cases=all */

/**
 * struct gom_bench_ctx - parameters shared by all cases of one run
 * @iters: base iteration count; cases scale it to their cost
 * @reps: timed repetitions per figure; the fastest one is kept
 * @failures: allocations that failed (the figure is then not recorded)
 */
struct gom_bench_ctx {
	unsigned int iters;
	unsigned int reps;
	unsigned long failures;
};

/**
 * struct gom_bench_case - one entry of the case table
 * @name: selector for the cases= parameter
 * @run: measures and records; returns 0 or a negative errno
 * @flags: GOM_BENCH_* flags
 */
struct gom_bench_case {
	const char *name;
	int (*run)(struct gom_bench_ctx *ctx);
	unsigned int flags;
};

/**
 * typedef gom_bench_loop_t - a timed loop
 * @arg: the case's state
 * @n: iterations to run
 *
 * Return: 0, or -ENOMEM when an allocation failed (the timing is dropped).
 */
typedef int (*gom_bench_loop_t)(void *arg, unsigned int n);

/**
 * struct gom_bench_pair - a gomalloc loop and its peer, measured together
 * @gom: the gomalloc loop
 * @peer: the kernel allocator loop
 * @gom_arg: state for @gom
 * @peer_arg: state for @peer
 * @n: iterations per timed repetition
 * @ops: operations done per iteration (objects per burst, for example)
 */
struct gom_bench_pair {
	gom_bench_loop_t gom;
	gom_bench_loop_t peer;
	void *gom_arg;
	void *peer_arg;
	unsigned int n;
	unsigned int ops;
};

/**
 * struct gom_bench_rec - one figure
 * @name: case name ("hot", "burst-seq", ...)
 * @peer: name of the peer allocator ("kmalloc", "alloc_pages", ...)
 * @unit: unit of @gom and @peer ("ns/pair", "ns/obj", "obj/s", ...)
 * @size: object size in bytes, or pages for page cases
 * @count: operations measured per repetition
 * @gom: gomalloc figure, in hundredths of @unit
 * @peer_val: peer figure, in hundredths of @unit
 */
struct gom_bench_rec {
	const char *name;
	const char *peer;
	const char *unit;
	unsigned int size;
	unsigned long count;
	u64 gom;
	u64 peer_val;
};

int gom_bench_measure(struct gom_bench_ctx *ctx, struct gom_bench_pair *pair,
		      u64 *gom_ns, u64 *peer_ns);
int gom_bench_run_pair(struct gom_bench_ctx *ctx, struct gom_bench_pair *pair,
		       struct gom_bench_rec *rec);
void gom_bench_record(const struct gom_bench_rec *rec);
unsigned int gom_bench_iters(const struct gom_bench_ctx *ctx, size_t bytes);
void gom_bench_shuffle(unsigned int *perm, unsigned int n, u64 seed);

struct dentry;
int gom_bench_report_init(const char *mode);
void gom_bench_report_exit(void);
void gom_bench_report_debugfs(struct dentry *dir);

/* Sizes shared by the object cases, see obj.c. */
extern const unsigned int gom_bench_sizes[];
extern const unsigned int gom_bench_nr_sizes;

/* The cases. */
int gom_bench_hot(struct gom_bench_ctx *ctx);
int gom_bench_hot_node(struct gom_bench_ctx *ctx);
int gom_bench_usable(struct gom_bench_ctx *ctx);
int gom_bench_burst(struct gom_bench_ctx *ctx);
int gom_bench_bulk(struct gom_bench_ctx *ctx);
int gom_bench_pages(struct gom_bench_ctx *ctx);
int gom_bench_large(struct gom_bench_ctx *ctx);
int gom_bench_xcpu(struct gom_bench_ctx *ctx);
int gom_bench_stack(struct gom_bench_ctx *ctx);
int gom_bench_mem(struct gom_bench_ctx *ctx);
int gom_bench_replay(struct gom_bench_ctx *ctx);
void gom_bench_replay_debugfs(struct dentry *dir);
void gom_bench_replay_exit(void);
void gom_bench_mem_release(void);
int gom_bench_mem_free_fraction(unsigned int percent);
u64 gom_bench_mem_requested(void);

/* Parameter of the memory case: "gom" or "slub". */
extern char *gom_bench_mem_alloc;

#endif /* _GOM_BENCH_H */
