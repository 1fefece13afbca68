// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: timing, result records and their output.
 *
 * Every figure is printed twice: as a row of a readable table on the
 * console and as a JSON line kept for debugfs (gomalloc_bench/results),
 * which the guest script copies to /out/. Values are fixed point with two
 * decimals; the kernel has no floating point.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "bench.h"

#define GOM_BENCH_MAX_REC	1024

static struct gom_bench_rec *recs;
static unsigned int nr_recs;
static DEFINE_MUTEX(recs_lock);
static const char *run_mode = "unknown";
static bool header_done;

/**
 * gom_bench_report_init() - allocate the result store
 * @mode: run mode tag copied into every JSON record
 *
 * Return: 0 or -ENOMEM.
 */
int gom_bench_report_init(const char *mode)
{
	recs = kvcalloc(GOM_BENCH_MAX_REC, sizeof(*recs), GFP_KERNEL);
	if (!recs)
		return -ENOMEM;
	if (mode && *mode)
		run_mode = mode;
	return 0;
}

/**
 * gom_bench_report_exit() - free the result store
 */
void gom_bench_report_exit(void)
{
	kvfree(recs);
	recs = NULL;
}

/* Print @v (hundredths) as "123.45" into @buf. */
static char *fmt_x100(char *buf, size_t len, u64 v)
{
	u32 rem;
	u64 q = div_u64_rem(v, 100, &rem);

	snprintf(buf, len, "%llu.%02u", q, rem);
	return buf;
}

/* Ratio gom/peer in thousandths; 0 when the peer figure is 0. */
static u64 rec_ratio(const struct gom_bench_rec *rec)
{
	if (!rec->peer_val)
		return 0;
	return div64_u64(rec->gom * 1000 + rec->peer_val / 2, rec->peer_val);
}

static void print_row(const struct gom_bench_rec *rec)
{
	char g[24], p[24];
	u64 r = rec_ratio(rec);

	if (!header_done) {
		pr_info("%-12s %7s %-13s %12s %12s %7s %s\n", "case", "size",
			"peer", "gomalloc", "peer", "ratio", "unit");
		header_done = true;
	}
	pr_info("%-12s %7u %-13s %12s %12s %3llu.%03llu %s\n", rec->name,
		rec->size, rec->peer, fmt_x100(g, sizeof(g), rec->gom),
		fmt_x100(p, sizeof(p), rec->peer_val), r / 1000, r % 1000,
		rec->unit);
}

/**
 * gom_bench_record() - keep a figure and print it as a table row
 * @rec: the figure; its strings must be static
 *
 * Records beyond the store's capacity are printed but not kept.
 */
void gom_bench_record(const struct gom_bench_rec *rec)
{
	print_row(rec);
	mutex_lock(&recs_lock);
	if (recs && nr_recs < GOM_BENCH_MAX_REC)
		recs[nr_recs++] = *rec;
	mutex_unlock(&recs_lock);
}

static void show_rec(struct seq_file *m, const struct gom_bench_rec *rec)
{
	char g[24], p[24];
	u64 r = rec_ratio(rec);

	seq_printf(m, "{\"case\":\"%s\",\"size\":%u,\"mode\":\"%s\",\"gom\":%s,\"peer\":%s,",
		   rec->name, rec->size, run_mode,
		   fmt_x100(g, sizeof(g), rec->gom),
		   fmt_x100(p, sizeof(p), rec->peer_val));
	seq_printf(m, "\"ratio\":%llu.%03llu,\"unit\":\"%s\",\"peer_name\":\"%s\",\"count\":%lu}\n",
		   r / 1000, r % 1000, rec->unit, rec->peer, rec->count);
}

static int results_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mutex_lock(&recs_lock);
	for (i = 0; i < nr_recs; i++)
		show_rec(m, &recs[i]);
	mutex_unlock(&recs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

/**
 * gom_bench_report_debugfs() - add the results file to a debugfs directory
 * @dir: the module's debugfs directory
 */
void gom_bench_report_debugfs(struct dentry *dir)
{
	debugfs_create_file("results", 0444, dir, NULL, &results_fops);
}

/* Time one loop run; returns -ENOMEM if it failed. */
static int time_loop(gom_bench_loop_t fn, void *arg, unsigned int n, u64 *ns)
{
	u64 t0, t1;
	int ret;

	t0 = ktime_get_ns();
	ret = fn(arg, n);
	t1 = ktime_get_ns();
	if (!ret && t1 - t0 < *ns)
		*ns = t1 - t0;
	return ret;
}

/**
 * gom_bench_measure() - time a gomalloc loop and its peer, back to back
 * @ctx: run parameters (@ctx->reps repetitions)
 * @pair: the two loops
 * @gom_ns: set to the fastest gomalloc repetition, in ns
 * @peer_ns: set to the fastest peer repetition, in ns
 *
 * Both loops are warmed up with an eighth of the iterations first, then
 * timed alternately so that drift in wall-clock mode hits both alike.
 *
 * Context: process context, may sleep between repetitions.
 * Return: 0, or -ENOMEM if a loop reported an allocation failure.
 */
int gom_bench_measure(struct gom_bench_ctx *ctx, struct gom_bench_pair *pair,
		      u64 *gom_ns, u64 *peer_ns)
{
	unsigned int warm = pair->n / 8 + 1;
	unsigned int r;
	int ret;

	*gom_ns = U64_MAX;
	*peer_ns = U64_MAX;
	ret = pair->gom(pair->gom_arg, warm) ?: pair->peer(pair->peer_arg, warm);
	for (r = 0; !ret && r < ctx->reps; r++) {
		cond_resched();
		ret = time_loop(pair->gom, pair->gom_arg, pair->n, gom_ns) ?:
		      time_loop(pair->peer, pair->peer_arg, pair->n, peer_ns);
	}
	if (ret)
		ctx->failures++;
	return ret;
}

/**
 * gom_bench_run_pair() - measure a pair and record ns per operation
 * @ctx: run parameters
 * @pair: the loops; @pair->n * @pair->ops operations per repetition
 * @rec: name, peer, unit and size filled in; the values are set here
 *
 * Return: 0 or -ENOMEM (nothing is recorded then).
 */
int gom_bench_run_pair(struct gom_bench_ctx *ctx, struct gom_bench_pair *pair,
		       struct gom_bench_rec *rec)
{
	u64 ops = (u64)pair->n * pair->ops;
	u64 g, p;
	int ret;

	ret = gom_bench_measure(ctx, pair, &g, &p);
	if (ret) {
		pr_warn("%s size %u: allocation failed, skipped\n", rec->name,
			rec->size);
		return ret;
	}
	rec->count = ops;
	rec->gom = div64_u64(g * 100, ops);
	rec->peer_val = div64_u64(p * 100, ops);
	gom_bench_record(rec);
	return 0;
}

/**
 * gom_bench_iters() - iterations for a figure on blocks of @bytes
 * @ctx: run parameters
 * @bytes: size of each allocation
 *
 * Up to a scale size the base count; above, proportionally fewer. With
 * init_on_alloc=1 the scale is GOM_BENCH_SCALE_BYTES, so that clearing
 * memory (one instruction per byte under icount, as rep stosb counts
 * each iteration) keeps every figure's run time bounded. Without it,
 * GOM_BENCH_SCALE_BYTES_NOINIT: each repetition of a figure on 8 KiB or
 * more then allocates 160 MiB at the base count, some 300 heap profile
 * samples at the default rate, so that the count a repetition draws
 * moves its figure little, and the fastest repetition, which a figure
 * reports, is not the one that drew a few samples less than the others.
 *
 * Return: at least GOM_BENCH_MIN_ITERS.
 */
unsigned int gom_bench_iters(const struct gom_bench_ctx *ctx, size_t bytes)
{
	size_t scale = want_init_on_alloc(GFP_KERNEL) ?
		       GOM_BENCH_SCALE_BYTES : GOM_BENCH_SCALE_BYTES_NOINIT;
	u64 n = ctx->iters;

	if (bytes > scale)
		n = div64_u64(n * scale, bytes);
	return max_t(u64, n, min(ctx->iters, GOM_BENCH_MIN_ITERS));
}

/**
 * gom_bench_shuffle() - fill @perm with a fixed pseudo-random permutation
 * @perm: array of @n entries
 * @n: entries
 * @seed: the same seed gives the same permutation on every run
 */
void gom_bench_shuffle(unsigned int *perm, unsigned int n, u64 seed)
{
	struct rnd_state st;
	unsigned int i, j, t;

	prandom_seed_state(&st, seed);
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n; i > 1; i--) {
		j = prandom_u32_state(&st) % i;
		t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}
