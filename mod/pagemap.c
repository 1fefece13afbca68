// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc pagemap: what every page of the heap is, found without a lock.
 *
 * One word per page, keyed by the page's index in the direct map (its
 * pfn), for every arena of every node whatever its order: a span pointer,
 * a tagged run or free-block head, or a tail mark (see GOM_PM_* in
 * internal.h). This is tcmalloc's PageMap and the spans array of Go's
 * heapArena, as a two-level radix tree: a root array of leaves, each leaf
 * one page of GOM_PM_LEAF_ENTRIES words covering 2 MiB of memory.
 *
 * gom_pm_get() turns any pointer into its entry with two dependent loads
 * and never touches the memory the pointer points to: an address outside
 * the direct map, or in a page gomalloc does not own, gives GOM_PM_NONE.
 * That is how gom_free() refuses a foreign pointer. A root slot whose
 * memory the heap never used points to one shared leaf full of
 * GOM_PM_NONE, so a lookup never tests for a missing leaf.
 *
 * The root is sized at load for the memory present then, and replaced by
 * a larger one when an arena comes from memory above it, such as hot-added
 * memory; a lookup may still be reading the old root, so old roots are
 * kept until unload (at most the size of the last one, summed). Leaves
 * are allocated when an arena first needs them and kept until unload: at
 * most one page per 2 MiB of memory the heap has ever used.
 *
 * Each CPU also keeps a memo of the object its mcache handed out last
 * (struct gom_memo), a page map lookup done in advance for its free; the
 * mheap makes every CPU forget the objects of a span it unmaps.
 *
 * Locking: readers take no lock; they run in an RCU read-side critical
 * section (a section with preemption disabled counts). Entries are
 * written by the mheap under its heap lock, and by the run cache with a
 * compare-and-swap. gom_pm_lock (irq-safe, a leaf lock) serialises the
 * installation of leaves and roots.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "internal.h"

struct gom_pm_root *gom_pm;
EXPORT_SYMBOL_GOM_INTERNAL(gom_pm);
static DEFINE_SPINLOCK(gom_pm_lock);

static size_t root_bytes(unsigned long nr)
{
	return struct_size((struct gom_pm_root *)NULL, slot, nr);
}

/* The leaf every slot points to until the heap uses its memory. */
static unsigned long *gom_pm_none;

/* Root slot @li for @leaf: biased, see struct gom_pm_root. */
static unsigned long to_slot(unsigned long *leaf, unsigned long li)
{
	return (unsigned long)leaf - li * GOM_PM_LEAF_ENTRIES * sizeof(long);
}

/* The leaf of root slot @li. */
static unsigned long *slot_leaf(unsigned long slot, unsigned long li)
{
	return (unsigned long *)(slot + li * GOM_PM_LEAF_ENTRIES * sizeof(long));
}

static struct gom_pm_root *root_alloc(unsigned long nr, gfp_t gfp)
{
	struct gom_pm_root *root;
	unsigned long li;

	root = kvmalloc(root_bytes(nr), gfp);
	if (!root)
		return NULL;
	root->nr = nr;
	for (li = 0; li < nr; li++)
		root->slot[li] = to_slot(gom_pm_none, li);
	gom_meta_add(root_bytes(nr));
	return root;
}

static void root_free(struct gom_pm_root *root)
{
	gom_meta_add(-(long)root_bytes(root->nr));
	kvfree(root);
}

/* Roots replaced by larger ones, freed at unload. */
static LIST_HEAD(gom_pm_old);

struct gom_pm_old {
	struct list_head list;
	struct gom_pm_root *root;
};

/* Make the root cover leaf index @li; replaces it under gom_pm_lock. */
static int root_grow(unsigned long li, gfp_t gfp)
{
	unsigned long flags, nr = roundup_pow_of_two(li + 1);
	struct gom_pm_root *root;
	struct gom_pm_old *old;

	/* kvzalloc() may only use vmalloc when it may sleep */
	root = root_alloc(nr, gom_meta_gfp(gfp));
	old = kmalloc(sizeof(*old), gom_meta_gfp(gfp));
	if (!root || !old) {
		kfree(old);
		if (root)
			root_free(root);
		return -ENOMEM;
	}
	spin_lock_irqsave(&gom_pm_lock, flags);
	old->root = gom_pm;
	if (old->root->nr < nr) {
		memcpy(root->slot, old->root->slot,
		       old->root->nr * sizeof(root->slot[0]));
		WRITE_ONCE(gom_pm, root);
		list_add(&old->list, &gom_pm_old);
		root = NULL;
		old = NULL;
	}
	spin_unlock_irqrestore(&gom_pm_lock, flags);
	kfree(old);
	if (root)
		root_free(root);
	return 0;
}

static unsigned long *leaf_alloc(gfp_t gfp)
{
	unsigned long *leaf = (unsigned long *)__get_free_page(gfp);

	if (leaf)
		memset64((u64 *)leaf, GOM_PM_NONE, GOM_PM_LEAF_ENTRIES);
	return leaf;
}

static int leaf_add(unsigned long li, gfp_t gfp)
{
	unsigned long *leaf, flags;

	leaf = leaf_alloc(gom_meta_gfp(gfp));
	if (!leaf)
		return -ENOMEM;
	spin_lock_irqsave(&gom_pm_lock, flags);
	if (slot_leaf(gom_pm->slot[li], li) == gom_pm_none) {
		WRITE_ONCE(gom_pm->slot[li], to_slot(leaf, li));
		leaf = NULL;
	}
	spin_unlock_irqrestore(&gom_pm_lock, flags);
	if (leaf)
		free_page((unsigned long)leaf);
	else
		gom_meta_add(PAGE_SIZE);
	return 0;
}

/**
 * gom_pm_prepare() - make sure the page map can hold entries for pages
 * @pfn: first page
 * @n: number of pages
 * @gfp: allocation context of the caller, for the map's own memory
 *
 * Context: any context where kmalloc(@gfp) is allowed; no gomalloc lock
 * held.
 * Return: 0, or -ENOMEM.
 */
int gom_pm_prepare(unsigned long pfn, unsigned long n, gfp_t gfp)
{
	unsigned long li, last = (pfn + n - 1) >> GOM_PM_LEAF_SHIFT;
	int ret;

	if (last >= READ_ONCE(gom_pm)->nr) {
		ret = root_grow(last, gfp);
		if (ret)
			return ret;
	}
	for (li = pfn >> GOM_PM_LEAF_SHIFT; li <= last; li++) {
		if (slot_leaf(READ_ONCE(gom_pm->slot[li]), li) != gom_pm_none)
			continue;
		ret = leaf_add(li, gfp);
		if (ret)
			return ret;
	}
	return 0;
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_pm_prepare);

/**
 * gom_pm_set() - set the entry of one prepared page
 * @pfn: the page
 * @entry: its new entry
 *
 * Context: any; the caller serialises writers (the heap lock).
 */
void gom_pm_set(unsigned long pfn, unsigned long entry)
{
	WRITE_ONCE(*gom_pm_slot(pfn), entry);
}

/**
 * gom_pm_fill() - set the entries of a run of prepared pages
 * @pfn: first page
 * @n: number of pages
 * @entry: the entry every page gets
 *
 * Context: any; the caller serialises writers (the heap lock).
 */
void gom_pm_fill(unsigned long pfn, unsigned long n, unsigned long entry)
{
	while (n--)
		gom_pm_set(pfn++, entry);
}

/**
 * gom_pm_lookup() - the page map entry of an address
 * @addr: any pointer
 *
 * Context: any.
 * Return: the entry (see internal.h), GOM_PM_NONE if gomalloc does not own
 * the page.
 */
unsigned long gom_pm_lookup(const void *addr)
{
	return gom_pm_get((unsigned long)addr);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_pm_lookup);

/**
 * gom_memo_forget() - forget the memos of objects of an unmapped span
 * @start: first byte of the span
 * @end: byte after its last
 *
 * Every CPU whose struct gom_memo names an object from @start to @end
 * forgets it, so that a free of that pointer goes through the page map.
 * A CPU that sets its memo meanwhile names a live object, which cannot be
 * in a span being unmapped.
 *
 * Context: any; the caller has unmapped the span.
 */
void gom_memo_forget(unsigned long start, unsigned long end)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct gom_mcache *mc = gom_mcache_of(cpu);
		unsigned long obj;

		if (!mc)
			continue;
		obj = (unsigned long)gom_memo_obj(&mc->memo);
		if (obj >= start && obj < end)
			cmpxchg(&mc->memo.mark, gom_obj_mark_of((void *)obj), 0);
	}
}

/* One past the highest page of the nodes present. */
static unsigned long present_pfns(void)
{
	unsigned long end = 0;
	int nid;

	for_each_online_node(nid)
		end = max(end, node_end_pfn(nid));
	return end;
}

/**
 * gom_pm_init() - allocate the root for the memory present
 *
 * Context: process context (module init).
 * Return: 0 or -ENOMEM.
 */
int gom_pm_init(void)
{
	unsigned long nr = DIV_ROUND_UP(present_pfns(), GOM_PM_LEAF_ENTRIES);

	gom_pm_none = leaf_alloc(GFP_KERNEL);
	if (!gom_pm_none)
		return -ENOMEM;
	gom_meta_add(PAGE_SIZE);
	gom_pm = root_alloc(max(nr, 1UL), GFP_KERNEL);
	if (gom_pm)
		return 0;
	gom_pm_exit();
	return -ENOMEM;
}

/**
 * gom_pm_exit() - free the page map
 *
 * Context: process context (module exit), after every heap is destroyed
 * and no lookup can run.
 */
void gom_pm_exit(void)
{
	struct gom_pm_old *old, *tmp;
	unsigned long li, *leaf;

	list_for_each_entry_safe(old, tmp, &gom_pm_old, list) {
		root_free(old->root);
		kfree(old);
	}
	for (li = 0; gom_pm && li < gom_pm->nr; li++) {
		leaf = slot_leaf(gom_pm->slot[li], li);
		if (leaf != gom_pm_none) {
			free_page((unsigned long)leaf);
			gom_meta_add(-PAGE_SIZE);
		}
	}
	if (gom_pm)
		root_free(gom_pm);
	gom_pm = NULL;
	free_page((unsigned long)gom_pm_none);
	gom_meta_add(-PAGE_SIZE);
}
