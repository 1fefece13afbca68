// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc_frag - fragment the page allocator, then compare gomalloc with
 * kmalloc() in that state. Loaded only by scripts/guest/test-frag.sh.
 *
 * At load it takes every free block of @group pages and more that the
 * page allocator has, splits each into single pages, keeps one page of
 * every naturally aligned group of @group pages and frees the rest. The
 * pages it keeps are unmovable kernel pages, so compaction cannot undo
 * the holes: afterwards no free block spans more than @group - 1 pages
 * (but for 2-4 MiB of two-page blocks left for the guest's own use when
 * @group is below 8), while most memory is still free. That is a machine
 * that has been up for a while, made deterministic.
 *
 * Then, for each command written to the run parameter,
 *
 *	echo "<gom|kmalloc> <object bytes> <total bytes> <kernel|atomic>" \
 *		> /sys/module/gomalloc_frag/parameters/run
 *
 * it allocates objects of that size until the total is reached or an
 * allocation fails (with GFP_KERNEL, or GFP_ATOMIC with interrupts off
 * around each call), frees them all, and the result parameter reads
 * "<bytes allocated> <total asked>". The objects are chained through
 * their first word, so the test needs no memory of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <gomalloc.h>

static unsigned int group = 8;
module_param(group, uint, 0444);
MODULE_PARM_DESC(group, "Keep one page of every aligned group of this many (2 to 512, a power of two)");

static unsigned long kept_pages;
module_param(kept_pages, ulong, 0444);
MODULE_PARM_DESC(kept_pages, "Pages held to fragment memory");

static char result[64] = "none";
module_param_string(result, result, sizeof(result), 0444);
MODULE_PARM_DESC(result, "Bytes allocated by the last run, and the bytes asked");

/* The largest order alloc_pages() takes: MAX_ORDER was exclusive until 6.4. */
#ifdef MAX_PAGE_ORDER
#define FRAG_MAX_ORDER		MAX_PAGE_ORDER
#else
#define FRAG_MAX_ORDER		(MAX_ORDER - 1)
#endif

static LIST_HEAD(frag_kept);
static unsigned int spare_blocks;	/* two-page blocks left free at load */

/* Take free blocks of @order, as long as the page allocator has them. */
static void take_order(unsigned int order)
{
	/* no reclaim, no compaction: only blocks that are free now */
	const gfp_t gfp = __GFP_NOWARN | __GFP_NOMEMALLOC | __GFP_NORETRY;
	struct page *page;
	unsigned int i;

	while ((page = alloc_pages(gfp, order))) {
		split_page(page, order);
		for (i = 0; i < (1U << order); i++) {
			if (i % group) {
				__free_page(page + i);
				continue;
			}
			list_add(&page[i].lru, &frag_kept);
			kept_pages++;
		}
	}
}

static void release_kept(void)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, &frag_kept, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	kept_pages = 0;
}

static void *one(bool gom, size_t size, bool atomic)
{
	unsigned long flags;
	void *p;

	if (!atomic)
		return gom ? gom_alloc(size, GFP_KERNEL | __GFP_NOWARN) :
			     kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
	local_irq_save(flags);
	p = gom ? gom_alloc(size, GFP_ATOMIC | __GFP_NOWARN) :
		  kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
	local_irq_restore(flags);
	return p;
}

/* Allocate up to @total bytes of @size objects; returns bytes got. */
static unsigned long fill(bool gom, size_t size, unsigned long total,
			  bool atomic)
{
	unsigned long got = 0;
	void *head = NULL, *p;

	while (got < total) {
		p = one(gom, size, atomic);
		if (!p)
			break;
		*(void **)p = head;
		head = p;
		got += size;
		cond_resched();
	}
	while (head) {
		p = *(void **)head;
		if (gom)
			gom_free(head);
		else
			kfree(head);
		head = p;
	}
	return got;
}

static int run_set(const char *val, const struct kernel_param *kp)
{
	char alloc[16], ctx[16];
	unsigned long size, total, got;

	if (sscanf(val, "%15s %lu %lu %15s", alloc, &size, &total, ctx) != 4 ||
	    (strcmp(alloc, "gom") && strcmp(alloc, "kmalloc")) ||
	    (strcmp(ctx, "kernel") && strcmp(ctx, "atomic")) ||
	    size < sizeof(void *) || size > GOM_MAX_SMALL_SIZE)
		return -EINVAL;
	got = fill(!strcmp(alloc, "gom"), size, total, !strcmp(ctx, "atomic"));
	snprintf(result, sizeof(result), "%lu %lu", got, total);
	pr_info("%s %lu-byte objects, %s: %lu of %lu bytes\n", alloc, size,
		ctx, got, total);
	return 0;
}

static const struct kernel_param_ops run_ops = {
	.set = run_set,
};
module_param_cb(run, &run_ops, NULL, 0200);
MODULE_PARM_DESC(run, "\"<gom|kmalloc> <object bytes> <total bytes> <kernel|atomic>\"");

/* Take every free block of 2^@min_order pages and more. */
static void take_all(int min_order)
{
	int order;

	for (order = FRAG_MAX_ORDER; order >= min_order; order--)
		take_order(order);
}

/*
 * What a regrab takes: blocks of 8 pages and more, or of @group pages if
 * larger. Smaller blocks are left to the guest after the load.
 */
static int regrab_order(void)
{
	return max(3, ilog2(group));
}

/*
 * Two-page blocks left free at load when @group is below 8: without them,
 * forking a shell runs the guest out of memory (a kernel built with page
 * table isolation allocates two-page page tables). They are taken before
 * fragmenting and freed after it, but two of them that are buddies would
 * merge into a four-page block, and further into blocks of 8 pages that a
 * regrab takes: of such a pair one page stays held. A block whose buddy
 * is not a spare has a buddy that was in use or was fragmented, so it
 * stays a two-page block. Between 2 and 4 MiB stay free that way.
 */
#define FRAG_SPARE_BLOCKS	1024

static struct page *frag_spare[FRAG_SPARE_BLOCKS];

static int cmp_pfn(const void *a, const void *b)
{
	unsigned long x = page_to_pfn(*(struct page * const *)a);
	unsigned long y = page_to_pfn(*(struct page * const *)b);

	return x < y ? -1 : x > y;
}

/* Free the @n spares, keeping one page of the upper block of a pair. */
static void spare_release(unsigned int n)
{
	unsigned long pfn;
	struct page *page;
	unsigned int i;

	sort(frag_spare, n, sizeof(*frag_spare), cmp_pfn, NULL);
	for (i = 0; i < n; i++) {
		page = frag_spare[i];
		pfn = page_to_pfn(page);
		/* sorted: an upper block's buddy, if a spare, comes just before */
		if (!(pfn & 2) || !i || page_to_pfn(frag_spare[i - 1]) != pfn - 2) {
			__free_pages(page, 1);
			spare_blocks++;
			continue;
		}
		split_page(page, 1);
		__free_page(page + 1);
		list_add(&page->lru, &frag_kept);
		kept_pages++;
	}
}

/* Fragment everything: blocks of @group pages and more, but a spare. */
static void fragment(void)
{
	bool want_spare = ilog2(group) < regrab_order();
	unsigned int n = 0;

	while (want_spare && n < FRAG_SPARE_BLOCKS) {
		frag_spare[n] = alloc_pages(__GFP_NOWARN | __GFP_NORETRY, 1);
		if (!frag_spare[n])
			break;
		n++;
	}
	take_all(ilog2(group));
	spare_release(n);
}

/*
 * Memory freed after the module loaded (a cache shrunk, compaction) can
 * form large blocks again: writing anything takes them too.
 */
static int regrab_set(const char *val, const struct kernel_param *kp)
{
	take_all(regrab_order());
	return 0;
}

static const struct kernel_param_ops regrab_ops = {
	.set = regrab_set,
};
module_param_cb(regrab, &regrab_ops, NULL, 0200);
MODULE_PARM_DESC(regrab, "Write anything to fragment what was freed since");

static int __init frag_init(void)
{
	if (group < 2 || group > 512 || !is_power_of_2(group))
		return -EINVAL;
	fragment();
	pr_info("holding %lu pages, one of every %u; %u two-page blocks spare\n",
		kept_pages, group, spare_blocks);
	return 0;
}

static void __exit frag_exit(void)
{
	release_kept();
}

module_init(frag_init);
module_exit(frag_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Fragment the page allocator and compare gomalloc with kmalloc (test only)");
