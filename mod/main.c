// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc: Go's three-level memory allocator as a kernel module.
 *
 * Go allocates on three levels: a goroutine's stack (bump allocation,
 * released a frame at a time), the heap with its caches (a per-P mcache
 * per size class, a shared mcentral per class, the mheap of spans), and the
 * system (the mheap grows by asking the OS for large chunks). gomalloc maps
 * them onto the kernel: a P is a CPU, the OS is the page allocator, and the
 * garbage collector's sweep is replaced by explicit gom_free().
 *
 * This file owns module init and exit, CPU hotplug, and giving memory
 * back across the levels: gom_shrink_all() (the sysfs "shrink" file), the
 * shrinker, and gom_reclaim(), which an allocation calls when mem_limit
 * stops the heap from growing. The scavenger that returns free arenas on
 * its own is the heap's (mheap.c). It takes no lock of its own; see
 * internal.h for the lock order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include "debug.h"

static enum cpuhp_state gom_cpuhp_state;
static struct shrinker *gom_shrinker;

/**
 * gom_shrink_all() - give back everything that is not in use
 *
 * Empties the debug quarantine, drains every CPU's caches, returns free
 * spans to the heaps and free arenas to the page allocator, keeping no
 * reserve.
 *
 * Context: process context; sleeps.
 */
void gom_shrink_all(void)
{
	void *obj;

	while ((obj = gom_quarantine_take()))
		gom_mcache_free_slow(obj);
	gom_mcache_drain_all();
	gom_mcentral_trim_all();
	gom_mheap_release_all(0);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_shrink_all);

static void shrink_async(struct work_struct *work)
{
	gom_shrink_all();
}

static DECLARE_WORK(gom_shrink_work, shrink_async);

/**
 * gom_shrink_wait() - wait for the background shrink to finish
 *
 * gom_reclaim() and the shrinker have every CPU's caches drained in the
 * background; the KUnit suites wait for that before they look at them.
 *
 * Context: process context; sleeps.
 */
void gom_shrink_wait(void)
{
	flush_work(&gom_shrink_work);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_shrink_wait);

/**
 * gom_reclaim() - return cached memory for an allocation at mem_limit
 * @gfp: the allocation's context
 *
 * Gives back this CPU's caches, every wholly free span and every free
 * arena, and has every CPU drain its caches in the background.
 *
 * Context: any context where kmalloc(@gfp) is allowed.
 * Return: pages given back to the page allocator now; 0 means retrying
 * the allocation is pointless.
 */
unsigned long gom_reclaim(gfp_t gfp)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) || preemptible())
		gom_mcache_drain_local();
	gom_mcentral_trim_all();
	queue_work(system_unbound_wq, &gom_shrink_work);
	return gom_mheap_release_all(0);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_reclaim);

static unsigned long shrink_count(struct shrinker *s,
				  struct shrink_control *sc)
{
	struct gom_heap_stats st = { 0 };

	gom_mheap_read(&st);
	return st.pages_free + gom_mcentral_spare_pages();
}

/*
 * Reclaim may run with any lock held, the CPU hotplug lock included, so
 * the shrinker does not wait for the CPUs to drain their caches: it has
 * them drain in the background and gives back what is free now.
 */
static unsigned long shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long released;

	queue_work(system_unbound_wq, &gom_shrink_work);
	gom_mcentral_trim_all();
	released = gom_mheap_release_all(0);
	return released ? released : SHRINK_STOP;
}

#ifdef GOM_HAVE_SHRINKER_ALLOC
static int shrinker_start(void)
{
	gom_shrinker = shrinker_alloc(0, "gomalloc");
	if (!gom_shrinker)
		return -ENOMEM;
	gom_shrinker->count_objects = shrink_count;
	gom_shrinker->scan_objects = shrink_scan;
	gom_shrinker->seeks = DEFAULT_SEEKS;
	shrinker_register(gom_shrinker);
	return 0;
}

static void shrinker_stop(void)
{
	shrinker_free(gom_shrinker);
}
#else
static struct shrinker gom_shrinker_static = {
	.count_objects = shrink_count,
	.scan_objects = shrink_scan,
	.seeks = DEFAULT_SEEKS,
};

static int shrinker_start(void)
{
	gom_shrinker = &gom_shrinker_static;
	return register_shrinker(gom_shrinker, "gomalloc");
}

static void shrinker_stop(void)
{
	unregister_shrinker(gom_shrinker);
}
#endif

static int cpu_dead(unsigned int cpu)
{
	gom_mcache_drain_cpu(cpu);
	return 0;
}

static void nodes_exit(void)
{
	unsigned int cls;
	int nid;

	for_each_node(nid) {
		for (cls = 0; gom_centrals[nid] && cls < GOM_NR_CLASSES; cls++)
			gom_mcentral_exit(gom_central(nid, cls));
		if (gom_heaps[nid])
			gom_mheap_destroy(gom_heaps[nid]);
		kfree(gom_heaps[nid]);
		kfree(gom_centrals[nid]);
		gom_heaps[nid] = NULL;
		gom_centrals[nid] = NULL;
	}
}

static int nodes_init(void)
{
	unsigned int cls;
	int nid;

	/* what nodes_exit() finds allocated is set up */
	for_each_node(nid) {
		gom_centrals[nid] = kcalloc_node(GOM_NR_CLASSES,
						 sizeof(*gom_centrals[nid]),
						 GFP_KERNEL, nid);
		if (!gom_centrals[nid])
			return -ENOMEM;
		for (cls = 0; cls < GOM_NR_CLASSES; cls++)
			gom_mcentral_init(gom_central(nid, cls), nid, cls);
		gom_heaps[nid] = kzalloc_node(sizeof(*gom_heaps[nid]),
					      GFP_KERNEL, nid);
		if (!gom_heaps[nid])
			return -ENOMEM;
		gom_mheap_init(gom_heaps[nid], nid);
	}
	return 0;
}

/* Report objects still allocated when the module goes away. */
static unsigned long report_leaks(void)
{
	unsigned long n, total = 0;
	unsigned int cls;
	int nid;

	for_each_node(nid) {
		for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
			n = gom_mcentral_inuse(gom_central(nid, cls));
			if (n)
				pr_err("node %d: %lu objects of %u bytes still allocated\n",
				       nid, n, gom_classes[cls].size);
			total += n;
		}
		n = gom_heaps[nid]->large_spans;
		if (n)
			pr_err("node %d: %lu page runs still allocated\n",
			       nid, n);
		total += n;
	}
	return total;
}

static int __init gom_init(void)
{
	int ret;

	if (gom_arena_order > GOM_MAX_ORDER)
		gom_arena_order = GOM_MAX_ORDER;
	gom_free_key = get_random_long() | 1;
	ret = gom_debug_init();
	if (ret)
		return ret;
	ret = gom_pm_init();
	if (ret)
		goto stop_debug;
	ret = gom_mcentral_caches_init();
	if (ret)
		goto free_pm;
	ret = nodes_init();
	if (ret)
		goto free_nodes;
	ret = gom_mcache_init();
	if (ret)
		goto free_nodes;
	ret = gom_profile_init();
	if (ret)
		goto free_mcaches;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "mm/gomalloc:dead",
					NULL, cpu_dead);
	if (ret < 0)
		goto free_mcaches;
	gom_cpuhp_state = ret;
	ret = shrinker_start();
	if (ret)
		goto remove_cpuhp;
	ret = gom_sysfs_init();
	if (ret)
		goto stop_shrinker;
	pr_info("loaded: %u size classes, arenas of up to %lu KiB\n",
		GOM_NR_CLASSES - 1, (PAGE_SIZE << gom_arena_order) >> 10);
	return 0;

stop_shrinker:
	shrinker_stop();
remove_cpuhp:
	cpuhp_remove_state_nocalls(gom_cpuhp_state);
free_mcaches:
	gom_profile_exit();
	gom_mcache_exit();
free_nodes:
	gom_mcentral_trim_stop();
	nodes_exit();
	gom_mcentral_caches_exit();
free_pm:
	gom_pm_exit();
stop_debug:
	gom_debug_exit();
	return ret;
}

static void __exit gom_exit(void)
{
	unsigned long leaked;

	gom_sysfs_exit();
	shrinker_stop();
	cancel_work_sync(&gom_shrink_work);
	gom_shrink_all();
	cpuhp_remove_state_nocalls(gom_cpuhp_state);
	gom_mcentral_trim_stop();
	gom_mcentral_trim_all();
	/* Freeing spans above may have scheduled the scavenger again. */
	gom_scavenger_stop();
	leaked = report_leaks();
	if (leaked)
		gom_profile_report_leaks();
	gom_profile_exit();
	gom_mcache_exit();
	nodes_exit();
	gom_mcentral_caches_exit();
	gom_pm_exit();
	gom_debug_exit();
	if (leaked)
		pr_err("unloaded with %lu allocations leaked; their arenas stay allocated\n",
		       leaked);
}

module_init(gom_init);
module_exit(gom_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("gomalloc developers");
MODULE_DESCRIPTION("Go's three-level memory allocator for the kernel");
