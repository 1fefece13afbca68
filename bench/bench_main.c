// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark module.
 *
 * At insmod, runs the selected cases, each measuring gomalloc and its
 * kernel peer back to back, prints a table on the console and keeps the
 * figures as JSON lines in debugfs gomalloc_bench/results. The module
 * stays loaded so the results can be read; rmmod frees everything.
 * Writing case names to debugfs gomalloc_bench/run runs them later, as
 * cases= does at load (cases=none runs nothing at load): the replay case
 * needs a replay written to gomalloc_bench/replay first (replay.c).
 *
 *   insmod gomalloc_bench.ko cases=hot,burst iters=20000 mode=icount-ioa0
 *   insmod gomalloc_bench.ko cases=mem mem_alloc=slub
 *   insmod gomalloc_bench.ko cases=none
 *   cat bench/replay.txt > /sys/kernel/debug/gomalloc_bench/replay
 *   echo replay > /sys/kernel/debug/gomalloc_bench/run
 *
 * Timings are taken with ktime_get_ns() around loops; under QEMU's
 * -icount shift=0 one virtual ns is one guest instruction. Cases marked
 * GOM_BENCH_PINNED run in a kthread bound to the CPU given by cpu=.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "bench.h"

static char *cases = "all";
module_param(cases, charp, 0444);
MODULE_PARM_DESC(cases, "comma-separated cases to run, all (default), or none");

static unsigned int iters = 20000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "base iteration count per figure (default 20000)");

static unsigned int reps = 3;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "timed repetitions per figure, fastest kept (default 3)");

static char *mode = "";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "run mode tag copied into the JSON records");

static unsigned int cpu;
module_param(cpu, uint, 0444);
MODULE_PARM_DESC(cpu, "CPU the single-threaded cases are bound to (default 0)");

module_param_named(mem_alloc, gom_bench_mem_alloc, charp, 0444);
MODULE_PARM_DESC(mem_alloc, "allocator of the mem case: gom or slub");

/*
 * The case table. To add a case: declare its function in bench.h, add a
 * line here and its object file to gomalloc_bench-y in bench/Kbuild.
 */
static const struct gom_bench_case gom_bench_cases[] = {
	{ "hot", gom_bench_hot, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "hot-node", gom_bench_hot_node, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "usable", gom_bench_usable, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "burst", gom_bench_burst, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "bulk", gom_bench_bulk, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "pages", gom_bench_pages, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "large", gom_bench_large, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "xcpu", gom_bench_xcpu, GOM_BENCH_SMP | GOM_BENCH_DEFAULT },
	{ "stack", gom_bench_stack, GOM_BENCH_PINNED | GOM_BENCH_DEFAULT },
	{ "mem", gom_bench_mem, GOM_BENCH_HOLD },
	{ "replay", gom_bench_replay, GOM_BENCH_PINNED },
};

static struct dentry *bench_dir;
/* Serializes the runs of cases: at load, and through debugfs "run". */
static DEFINE_MUTEX(run_lock);

/**
 * struct case_runner - a case run in a bound kthread
 * @c: the case
 * @ctx: run parameters
 * @ret: what the case returned
 * @done: completed by the kthread as it exits
 */
struct case_runner {
	const struct gom_bench_case *c;
	struct gom_bench_ctx *ctx;
	int ret;
	struct completion done;
};

static int runner_fn(void *data)
{
	struct case_runner *r = data;

	r->ret = r->c->run(r->ctx);
	kthread_complete_and_exit(&r->done, 0);
}

static int run_pinned(const struct gom_bench_case *c,
		      struct gom_bench_ctx *ctx)
{
	struct case_runner r = { .c = c, .ctx = ctx };
	struct task_struct *t;

	init_completion(&r.done);
	t = kthread_create(runner_fn, &r, "gombench/%u", cpu);
	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, cpu);
	wake_up_process(t);
	wait_for_completion(&r.done);
	return r.ret;
}

static int run_case(const struct gom_bench_case *c, struct gom_bench_ctx *ctx)
{
	int ret;

	if ((c->flags & GOM_BENCH_SMP) && num_online_cpus() < 2) {
		pr_info("%s: needs two CPUs, skipped\n", c->name);
		return 0;
	}
	pr_info("%s: running\n", c->name);
	if (c->flags & GOM_BENCH_PINNED)
		ret = run_pinned(c, ctx);
	else
		ret = c->run(ctx);
	if (ret)
		pr_warn("%s: failed (%d)\n", c->name, ret);
	return ret;
}

static bool case_selected(const struct gom_bench_case *c, const char *sel)
{
	size_t len = strlen(c->name);
	const char *p = sel;

	while (p && *p) {
		if (!strncmp(p, c->name, len) && (p[len] == ',' || !p[len]))
			return true;
		if (!strncmp(p, "all", 3) && (p[3] == ',' || !p[3]) &&
		    (c->flags & GOM_BENCH_DEFAULT))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/*
 * Run the cases @sel names. Returns the error of a failed case that holds
 * memory (with @all_errors, of any failed case), or -EINVAL if no case
 * matches.
 */
static int run_selected(struct gom_bench_ctx *ctx, const char *sel,
			bool all_errors)
{
	const struct gom_bench_case *c;
	unsigned int i, ran = 0;
	int ret, err = 0;

	mutex_lock(&run_lock);
	for (i = 0; i < ARRAY_SIZE(gom_bench_cases); i++) {
		c = &gom_bench_cases[i];
		if (!case_selected(c, sel))
			continue;
		ret = run_case(c, ctx);
		if (ret && (all_errors || (c->flags & GOM_BENCH_HOLD)))
			err = ret;
		ran++;
	}
	mutex_unlock(&run_lock);
	if (!ran) {
		pr_err("no case matches %s\n", sel);
		return -EINVAL;
	}
	return err;
}

static bool no_cases(const char *sel)
{
	return !*sel || sysfs_streq(sel, "none");
}

static ssize_t run_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	struct gom_bench_ctx ctx = {
		.iters = max(iters, 1U), .reps = max(reps, 1U),
	};
	char *text, *sel;
	int ret;

	if (len > PAGE_SIZE)
		return -EINVAL;
	text = memdup_user_nul(buf, len);
	if (IS_ERR(text))
		return PTR_ERR(text);
	sel = strim(text);
	ret = run_selected(&ctx, sel, true);
	if (ctx.failures)
		pr_info("run %s: %lu allocation failures\n", sel, ctx.failures);
	kfree(text);
	return ret ?: len;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
	.llseek = noop_llseek,
};

static ssize_t mem_free_write(struct file *file, const char __user *buf,
			      size_t len, loff_t *ppos)
{
	unsigned int percent;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &percent);
	if (ret)
		return ret;
	ret = gom_bench_mem_free_fraction(percent);
	if (ret < 0)
		return ret;
	pr_info("mem: freed %d objects (%u%%)\n", ret, percent);
	return len;
}

static const struct file_operations mem_free_fops = {
	.owner = THIS_MODULE,
	.write = mem_free_write,
	.llseek = noop_llseek,
};

static int mem_info_show(struct seq_file *m, void *v)
{
	seq_printf(m, "alloc=%s requested=%llu\n", gom_bench_mem_alloc,
		   gom_bench_mem_requested());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mem_info);

static void bench_debugfs_init(void)
{
	bench_dir = debugfs_create_dir("gomalloc_bench", NULL);
	gom_bench_report_debugfs(bench_dir);
	debugfs_create_file("mem_free", 0200, bench_dir, NULL, &mem_free_fops);
	debugfs_create_file("mem_info", 0444, bench_dir, NULL, &mem_info_fops);
	debugfs_create_file("run", 0200, bench_dir, NULL, &run_fops);
	gom_bench_replay_debugfs(bench_dir);
}

static int __init gom_bench_init(void)
{
	struct gom_bench_ctx ctx = {
		.iters = max(iters, 1U), .reps = max(reps, 1U),
	};
	int ret;

	if (cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -EINVAL;
	ret = gom_bench_report_init(mode);
	if (ret)
		return ret;
	bench_debugfs_init();
	pr_info("start: cases=%s iters=%u reps=%u mode=%s cpus=%u\n", cases,
		ctx.iters, ctx.reps, mode, num_online_cpus());
	if (!no_cases(cases))
		ret = run_selected(&ctx, cases, false);
	pr_info("done: %lu allocation failures\n", ctx.failures);
	if (ret) {
		debugfs_remove_recursive(bench_dir);
		gom_bench_replay_exit();
		gom_bench_report_exit();
	}
	return ret;
}

static void __exit gom_bench_exit(void)
{
	gom_bench_mem_release();
	debugfs_remove_recursive(bench_dir);
	gom_bench_replay_exit();
	gom_bench_report_exit();
}

module_init(gom_bench_init);
module_exit(gom_bench_exit);

MODULE_DESCRIPTION("gomalloc benchmarks against SLUB and the page allocator");
MODULE_AUTHOR("gomalloc developers");
MODULE_LICENSE("GPL");
