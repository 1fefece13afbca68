// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc benchmark: replay of the slab events of real work.
 *
 * A replay (bench/replay.txt, made by scripts/replay-record.sh and
 * scripts/mkreplay.py) is a sequence of allocations by size and frees by
 * object number, taken from a trace of kmalloc, kmem_cache_alloc, kfree
 * and kmem_cache_free. It is written into debugfs gomalloc_bench/replay;
 * each open for writing starts a new one, and the close checks it. Then:
 *
 *   replay case   the whole replay with gom_alloc()/gom_free(), then with
 *                 kmalloc()/kfree(), ns per operation (debugfs "run", or
 *                 cases=replay once a replay is loaded)
 *   replay_hold   "gom" or "slub": replay with that allocator up to the
 *                 first peak of live bytes and hold what is live there, for
 *                 the guest script to read the allocators' counters;
 *                 "release": the rest of the replay, which frees it all.
 *                 Both run with migration disabled: a move to another CPU
 *                 halfway would leave the per-CPU caches of two CPUs in
 *                 use, and the figures of each allocator would depend on
 *                 whether its run was moved (the timed cases run pinned)
 *
 * Text format, one operation per line (scripts/mkreplay.py writes it):
 *
 *   gomalloc-replay 1 ops=N allocs=M    first line
 *   # ...                               comments
 *   a SIZE   n SIZE                     allocate, may sleep (GFP_KERNEL)
 *   az SIZE  nz SIZE                    or atomic (GFP_ATOMIC); z: zeroed
 *   f BACK                              free the object BACK allocations
 *                                       back (f 1: the newest)
 *
 * The k-th allocation (from 0) is object k. A replay must free every
 * object it allocates, and frees only live ones.
 */
#define pr_fmt(fmt) "gombench: " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <gomalloc.h>

#include "bench.h"

#define REPLAY_MAGIC		"gomalloc-replay"
#define REPLAY_VERSION		1
#define REPLAY_MAX_OPS		(16U << 20)
#define REPLAY_LINE		64

/* An operation in 32 bits: a free and its object, or a size and flags. */
#define REPLAY_FREE		BIT(31)
#define REPLAY_ATOMIC		BIT(30)
#define REPLAY_ZERO		BIT(29)
#define REPLAY_FLAGS_SHIFT	29
#define REPLAY_ID_MASK		(REPLAY_FREE - 1)
#define REPLAY_SIZE_MASK	(REPLAY_ZERO - 1)

static_assert(KMALLOC_MAX_SIZE <= REPLAY_SIZE_MASK);

/* GFP flags of an allocation, indexed by its REPLAY_ATOMIC and _ZERO bits. */
static const gfp_t replay_gfp[] = {
	GFP_KERNEL, GFP_KERNEL | __GFP_ZERO,
	GFP_ATOMIC, GFP_ATOMIC | __GFP_ZERO,
};

enum replay_alloc { REPLAY_NONE, REPLAY_GOM, REPLAY_SLUB };

/**
 * struct gom_replay - a loaded replay and its state
 * @ops: the operations
 * @objs: the objects, by number, while a replay runs
 * @nr_ops: operations
 * @nr_allocs: allocations among them
 * @peak_op: the operation after which live bytes are at their first peak
 * @peak_bytes: bytes requested and live after @peak_op
 * @peak_objs: objects live after @peak_op
 * @valid: the replay was read and checked completely
 * @held: allocator holding the replay at its peak, or REPLAY_NONE
 * @failures: allocations that failed in the last run or hold
 * @sizes: while reading: size of each live object, 0 once freed
 * @nr_read: operations read so far
 * @nr_seen: allocations read so far
 * @live_bytes: while reading: bytes live after the last operation read
 * @live_objs: while reading: objects live after the last operation read
 * @line: while reading: the line read so far
 * @len: bytes in @line
 * @lineno: number of the line being read
 * @skip: the rest of the line is a comment
 * @err: reading failed; the replay is refused at close
 */
struct gom_replay {
	u32 *ops;
	void **objs;
	unsigned int nr_ops;
	unsigned int nr_allocs;
	unsigned int peak_op;
	u64 peak_bytes;
	unsigned int peak_objs;
	bool valid;
	enum replay_alloc held;
	unsigned long failures;
	u32 *sizes;
	unsigned int nr_read;
	unsigned int nr_seen;
	u64 live_bytes;
	unsigned int live_objs;
	char line[REPLAY_LINE];
	unsigned int len;
	unsigned int lineno;
	bool skip;
	int err;
};

static struct gom_replay replay;
static DEFINE_MUTEX(replay_lock);

static void replay_reset(struct gom_replay *rp)
{
	vfree(rp->ops);
	vfree(rp->objs);
	vfree(rp->sizes);
	memset(rp, 0, sizeof(*rp));
}

/* Run operations [@from, @to) with gomalloc; object numbers from @id. */
static unsigned int replay_ops_gom(struct gom_replay *rp, unsigned int from,
				   unsigned int to, unsigned int id)
{
	const u32 *ops = rp->ops;
	void **objs = rp->objs;
	unsigned int i;
	u32 op;

	for (i = from; i < to; i++) {
		op = ops[i];
		if (op & REPLAY_FREE) {
			gom_free(objs[op & REPLAY_ID_MASK]);
			continue;
		}
		objs[id] = gom_alloc(op & REPLAY_SIZE_MASK,
				     replay_gfp[op >> REPLAY_FLAGS_SHIFT]);
		if (unlikely(!objs[id]))
			rp->failures++;
		id++;
	}
	return id;
}

/*
 * The same with SLUB. Two loops rather than one with a function pointer:
 * an indirect call (a retpoline on Debian's kernels) per operation would
 * add the same cost to both sides and shrink every ratio towards 1.
 */
static unsigned int replay_ops_slub(struct gom_replay *rp, unsigned int from,
				    unsigned int to, unsigned int id)
{
	const u32 *ops = rp->ops;
	void **objs = rp->objs;
	unsigned int i;
	u32 op;

	for (i = from; i < to; i++) {
		op = ops[i];
		if (op & REPLAY_FREE) {
			kfree(objs[op & REPLAY_ID_MASK]);
			continue;
		}
		objs[id] = kmalloc(op & REPLAY_SIZE_MASK,
				   replay_gfp[op >> REPLAY_FLAGS_SHIFT]);
		if (unlikely(!objs[id]))
			rp->failures++;
		id++;
	}
	return id;
}

/*
 * A failed allocation leaves NULL, which the free of that object ignores:
 * the replay goes on and still ends with nothing allocated.
 */
static int replay_gom(void *arg, unsigned int n)
{
	struct gom_replay *rp = arg;

	while (n--)
		replay_ops_gom(rp, 0, rp->nr_ops, 0);
	return rp->failures ? -ENOMEM : 0;
}

static int replay_slub(void *arg, unsigned int n)
{
	struct gom_replay *rp = arg;

	while (n--)
		replay_ops_slub(rp, 0, rp->nr_ops, 0);
	return rp->failures ? -ENOMEM : 0;
}

/**
 * gom_bench_replay() - the loaded replay with gomalloc and with SLUB
 * @ctx: run parameters (@ctx->reps timed passes of the whole replay)
 *
 * Return: 0, -ENODATA if no replay is loaded, -EBUSY while one is held,
 * -ENOMEM if an allocation failed.
 */
int gom_bench_replay(struct gom_bench_ctx *ctx)
{
	struct gom_bench_pair pair = {
		.gom = replay_gom, .peer = replay_slub, .gom_arg = &replay,
		.peer_arg = &replay, .n = 1,
	};
	struct gom_bench_rec rec = {
		.name = "replay", .peer = "kmalloc", .unit = "ns/op",
	};
	int ret;

	mutex_lock(&replay_lock);
	if (!replay.valid) {
		pr_info("replay: no replay loaded (write one to debugfs gomalloc_bench/replay)\n");
		ret = -ENODATA;
	} else if (replay.held) {
		ret = -EBUSY;
	} else {
		replay.failures = 0;
		pair.ops = replay.nr_ops;
		ret = gom_bench_run_pair(ctx, &pair, &rec);
	}
	mutex_unlock(&replay_lock);
	return ret;
}

/* Objects allocated by operations [0, @to). */
static unsigned int replay_allocs_before(const struct gom_replay *rp,
					 unsigned int to)
{
	unsigned int i, n = 0;

	for (i = 0; i < to; i++)
		n += !(rp->ops[i] & REPLAY_FREE);
	return n;
}

static int replay_hold(enum replay_alloc alloc)
{
	unsigned int to, id;

	if (!replay.valid)
		return -ENODATA;
	if (alloc == REPLAY_NONE) {
		if (!replay.held)
			return 0;
		to = replay.peak_op + 1;
		id = replay_allocs_before(&replay, to);
		migrate_disable();
		if (replay.held == REPLAY_GOM)
			replay_ops_gom(&replay, to, replay.nr_ops, id);
		else
			replay_ops_slub(&replay, to, replay.nr_ops, id);
		migrate_enable();
		replay.held = REPLAY_NONE;
		return 0;
	}
	if (replay.held)
		return -EBUSY;
	replay.failures = 0;
	migrate_disable();
	if (alloc == REPLAY_GOM)
		replay_ops_gom(&replay, 0, replay.peak_op + 1, 0);
	else
		replay_ops_slub(&replay, 0, replay.peak_op + 1, 0);
	migrate_enable();
	replay.held = alloc;
	pr_info("replay: holding %u objects, %llu bytes requested, allocator %s, %lu failures\n",
		replay.peak_objs, replay.peak_bytes,
		alloc == REPLAY_GOM ? "gom" : "slub", replay.failures);
	return 0;
}

static ssize_t replay_hold_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	enum replay_alloc alloc;
	char buf[16];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sysfs_streq(buf, "gom"))
		alloc = REPLAY_GOM;
	else if (sysfs_streq(buf, "slub"))
		alloc = REPLAY_SLUB;
	else if (sysfs_streq(buf, "release"))
		alloc = REPLAY_NONE;
	else
		return -EINVAL;
	mutex_lock(&replay_lock);
	ret = replay_hold(alloc);
	mutex_unlock(&replay_lock);
	return ret ?: len;
}

static const struct file_operations replay_hold_fops = {
	.owner = THIS_MODULE,
	.write = replay_hold_write,
	.llseek = noop_llseek,
};

/* The first line: version and sizes; allocates the arrays. */
static int replay_header(struct gom_replay *rp, const char *line)
{
	unsigned int ver, ops, allocs;

	if (sscanf(line, REPLAY_MAGIC " %u ops=%u allocs=%u", &ver, &ops,
		   &allocs) != 3 || ver != REPLAY_VERSION)
		return -EINVAL;
	if (!ops || ops > REPLAY_MAX_OPS || allocs > ops)
		return -E2BIG;
	rp->nr_ops = ops;
	rp->nr_allocs = allocs;
	rp->ops = vmalloc(array_size(ops, sizeof(*rp->ops)));
	/* vmalloc: the replay's own arrays are not slab memory */
	rp->objs = vzalloc(array_size(max(allocs, 1U), sizeof(*rp->objs)));
	rp->sizes = vzalloc(array_size(max(allocs, 1U), sizeof(*rp->sizes)));
	if (!rp->ops || !rp->objs || !rp->sizes)
		return -ENOMEM;
	return 0;
}

static int replay_free_op(struct gom_replay *rp, unsigned int back)
{
	unsigned int id;

	if (!back || back > rp->nr_seen)
		return -EINVAL;
	id = rp->nr_seen - back;
	if (!rp->sizes[id])
		return -EINVAL;		/* not live */
	rp->live_bytes -= rp->sizes[id];
	rp->live_objs--;
	rp->sizes[id] = 0;
	rp->ops[rp->nr_read++] = REPLAY_FREE | id;
	return 0;
}

static int replay_alloc_op(struct gom_replay *rp, const char *kind,
			   unsigned int size)
{
	u32 op = size;

	if (kind[0] == 'n')
		op |= REPLAY_ATOMIC;
	else if (kind[0] != 'a')
		return -EINVAL;
	if (kind[1] == 'z' && !kind[2])
		op |= REPLAY_ZERO;
	else if (kind[1])
		return -EINVAL;
	if (!size || size > KMALLOC_MAX_SIZE || rp->nr_seen >= rp->nr_allocs)
		return -EINVAL;
	rp->sizes[rp->nr_seen++] = size;
	rp->live_bytes += size;
	rp->live_objs++;
	if (rp->live_bytes > rp->peak_bytes) {
		rp->peak_bytes = rp->live_bytes;
		rp->peak_objs = rp->live_objs;
		rp->peak_op = rp->nr_read;
	}
	rp->ops[rp->nr_read++] = op;
	return 0;
}

/* One complete line, without its newline. */
static int replay_line(struct gom_replay *rp, char *line)
{
	unsigned int arg;
	char *sp;

	if (rp->lineno == 1)
		return replay_header(rp, line);
	if (!*line)
		return 0;
	sp = strchr(line, ' ');
	if (!sp)
		return -EINVAL;
	*sp = '\0';
	if (kstrtouint(sp + 1, 10, &arg))
		return -EINVAL;
	if (rp->nr_read >= rp->nr_ops)
		return -E2BIG;
	if (!strcmp(line, "f"))
		return replay_free_op(rp, arg);
	return replay_alloc_op(rp, line, arg);
}

/* Feed @len bytes of the replay text; lines may span calls. */
static int replay_feed(struct gom_replay *rp, const char *buf, size_t len)
{
	size_t i;
	int ret;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (!rp->len && !rp->skip) {
			rp->lineno++;
			if (c == '#' && rp->lineno > 1)
				rp->skip = true;
		}
		if (c == '\n') {
			if (!rp->skip) {
				rp->line[rp->len] = '\0';
				ret = replay_line(rp, rp->line);
				if (ret)
					return ret;
			}
			rp->len = 0;
			rp->skip = false;
			continue;
		}
		if (rp->skip)
			continue;
		if (rp->len >= REPLAY_LINE - 1)
			return -EINVAL;
		rp->line[rp->len++] = c;
	}
	return 0;
}

static int replay_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	mutex_lock(&replay_lock);
	if (replay.held)
		ret = -EBUSY;
	else
		replay_reset(&replay);
	mutex_unlock(&replay_lock);
	return ret;
}

static ssize_t replay_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[256];
	size_t done = 0, n;
	int ret = 0;

	mutex_lock(&replay_lock);
	while (!replay.err && done < len) {
		n = min(len - done, sizeof(buf));
		if (copy_from_user(buf, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		replay.err = replay_feed(&replay, buf, n);
		done += n;
	}
	if (replay.err)
		ret = replay.err;
	mutex_unlock(&replay_lock);
	return ret ?: len;
}

/* The end of the text: the last line, then the whole replay is checked. */
static int replay_finish(struct gom_replay *rp)
{
	if (rp->len && !rp->skip) {
		rp->line[rp->len] = '\0';
		rp->err = replay_line(rp, rp->line);
		if (rp->err)
			return rp->err;
	}
	if (!rp->nr_ops || rp->nr_read != rp->nr_ops ||
	    rp->nr_seen != rp->nr_allocs) {
		pr_err("replay: %u operations and %u allocations read, the first line says %u and %u\n",
		       rp->nr_read, rp->nr_seen, rp->nr_ops, rp->nr_allocs);
		return -EINVAL;
	}
	if (rp->live_objs) {
		pr_err("replay: %u objects are never freed\n", rp->live_objs);
		return -EINVAL;
	}
	vfree(rp->sizes);
	rp->sizes = NULL;
	rp->valid = true;
	pr_info("replay: %u operations, %u allocations, peak %llu bytes in %u objects after operation %u\n",
		rp->nr_ops, rp->nr_allocs, rp->peak_bytes, rp->peak_objs,
		rp->peak_op);
	return 0;
}

static int replay_release(struct inode *inode, struct file *file)
{
	if (!(file->f_mode & FMODE_WRITE))
		return single_release(inode, file);
	mutex_lock(&replay_lock);
	if (replay.err || replay_finish(&replay)) {
		if (replay.err)
			pr_err("replay: line %u: not a replay operation (%d)\n",
			       replay.lineno, replay.err);
		replay_reset(&replay);
	}
	mutex_unlock(&replay_lock);
	return 0;
}

static int replay_show(struct seq_file *m, void *v)
{
	mutex_lock(&replay_lock);
	if (replay.valid)
		seq_printf(m, "ops=%u allocs=%u peak_op=%u peak_bytes=%llu peak_objs=%u held=%s\n",
			   replay.nr_ops, replay.nr_allocs, replay.peak_op,
			   replay.peak_bytes, replay.peak_objs,
			   replay.held == REPLAY_GOM ? "gom" :
			   replay.held == REPLAY_SLUB ? "slub" : "none");
	else
		seq_puts(m, "none\n");
	mutex_unlock(&replay_lock);
	return 0;
}

static int replay_open_file(struct inode *inode, struct file *file)
{
	int ret;

	if ((file->f_mode & FMODE_READ) && (file->f_mode & FMODE_WRITE))
		return -EINVAL;
	ret = replay_open(inode, file);
	if (ret || (file->f_mode & FMODE_WRITE))
		return ret;
	return single_open(file, replay_show, NULL);
}

static const struct file_operations replay_fops = {
	.owner = THIS_MODULE,
	.open = replay_open_file,
	.read = seq_read,
	.write = replay_write,
	.release = replay_release,
	.llseek = noop_llseek,
};

/**
 * gom_bench_replay_debugfs() - add the replay files to a debugfs directory
 * @dir: the module's debugfs directory
 */
void gom_bench_replay_debugfs(struct dentry *dir)
{
	debugfs_create_file("replay", 0600, dir, NULL, &replay_fops);
	debugfs_create_file("replay_hold", 0200, dir, NULL, &replay_hold_fops);
}

/**
 * gom_bench_replay_exit() - free a held replay and the loaded one
 */
void gom_bench_replay_exit(void)
{
	mutex_lock(&replay_lock);
	replay_hold(REPLAY_NONE);
	replay_reset(&replay);
	mutex_unlock(&replay_lock);
}
