// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc api: the interface other modules call (include/gomalloc.h).
 *
 * gom_alloc() maps a size to its class with two table lookups and takes
 * an object from the CPU's caches (mcache.h): the magazine of freed
 * objects, else the next free object of the span the CPU owns. gom_free()
 * finds an object's span through the page map, checks that the pointer
 * is the start of an object that is handed out, and pushes it to the
 * magazine. Neither disables interrupts, takes a lock or uses an atomic
 * instruction on that path; everything else is in noinline slow paths
 * here and in mcache.c. Objects above GOM_MAX_SMALL_SIZE and
 * gom_alloc_pages() are exact page runs from the heap, small ones through
 * the CPU's run cache.
 *
 * A pointer gomalloc does not own, a pointer inside an object, and an
 * object or run already free are refused: counted, reported with a
 * ratelimited warning (report.c), and their memory is not touched.
 *
 * When mem_limit stops the heap from growing, an allocation returns what
 * the caches hold (gom_reclaim()) and tries once more before it fails.
 *
 * Locking: none of its own; see mcache.h for the CPU's section.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include "mcache.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

DEFINE_STATIC_KEY_FALSE(gom_alloc_hook_key);
EXPORT_SYMBOL_GOM_INTERNAL(gom_alloc_hook_key);
DEFINE_STATIC_KEY_FALSE(gom_free_hook_key);
EXPORT_SYMBOL_GOM_INTERNAL(gom_free_hook_key);

/*
 * TRACE_EVENT_FN() callbacks, called when the first probe of gom_alloc or
 * gom_free is attached and when the last goes: while the event is on, its
 * calls take the out-of-line path that records it.
 */
int gom_trace_alloc_reg(void)
{
	static_branch_inc(&gom_alloc_hook_key);
	return 0;
}

void gom_trace_alloc_unreg(void)
{
	static_branch_dec(&gom_alloc_hook_key);
}

int gom_trace_free_reg(void)
{
	static_branch_inc(&gom_free_hook_key);
	return 0;
}

void gom_trace_free_unreg(void)
{
	static_branch_dec(&gom_free_hook_key);
}

static void *alloc_error(void *err, size_t size, gfp_t flags)
{
	if (err == ERR_PTR(-EDQUOT))
		gom_alloc_refused(size, flags);
	else
		gom_alloc_failed(size, flags);
	return NULL;
}

/* Objects up to this size are cleared with stores, see init_object(). */
#define GOM_CLEAR_MAX		1024

/*
 * Clear a new object's whole slot, out of line, off the fast path. A
 * slot is a class size, a multiple of 8 bytes; up to GOM_CLEAR_MAX it is
 * cleared with 8-byte stores, a 64-byte line a step. memset() is rep
 * stosb on CPUs with ERMS, whose start-up of some 30 cycles a slot of a
 * few cache lines does not earn back, and which -icount counts as one
 * instruction a byte. The stores are WRITE_ONCE() so that the compiler
 * does not make the loop a call to memset() again.
 */
static noinline void *init_object(void *obj, size_t slot)
{
	u64 *p = obj, *end = obj + slot;

	if (slot > GOM_CLEAR_MAX)
		return memset(obj, 0, slot);
	for (; end - p >= 8; p += 8) {
		WRITE_ONCE(p[0], 0);
		WRITE_ONCE(p[1], 0);
		WRITE_ONCE(p[2], 0);
		WRITE_ONCE(p[3], 0);
		WRITE_ONCE(p[4], 0);
		WRITE_ONCE(p[5], 0);
		WRITE_ONCE(p[6], 0);
		WRITE_ONCE(p[7], 0);
	}
	for (; p < end; p++)
		WRITE_ONCE(*p, 0);
	return obj;
}

/* How finish() hands an object out: clearing, the tracepoint's node. */
#define GOM_INIT		1U	/* honour init_on_alloc and __GFP_ZERO */
#define GOM_FAST		2U	/* gom_alloc_hook_key was off */
#define GOM_NODE_SHIFT		2	/* node + 1, for the tracepoint */

/*
 * Everything finish() does not do inline: clear the object (or only its
 * mark), tell KASAN, kmemleak and the tracepoint. Out of line, so that
 * the fast path keeps no register across a call.
 */
static noinline void *finish_slow(void *obj, size_t size, gfp_t flags,
				  unsigned long caller, unsigned int how)
{
	size_t slot = gom_classes[gom_size_class(size)].size;

	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		gom_kasan_unpoison(obj, slot);
	if ((how & GOM_INIT) && want_init_on_alloc(flags))
		init_object(obj, slot);
	else
		gom_obj_unmark(obj);
	gom_hook_alloc(obj, size, slot, flags);
	/* a debug object is traced by alloc_debug(), with its real size */
	if (how & GOM_INIT)
		trace_gom_alloc(caller, obj, size, slot, flags,
				(int)(how >> GOM_NODE_SHIFT) - 1);
	return obj;
}

/* init_object() for an object of @size bytes' class, out of line. */
static noinline void *init_sized(void *obj, size_t size)
{
	return init_object(obj, gom_classes[gom_size_class(size)].size);
}

/*
 * Hand out a small object of @size bytes' class, still marked free.
 * Inline when nothing but its mark, or the whole object (which clears
 * the mark too), is to be cleared: the clear is then a tail call to
 * init_sized(), so the fast path still keeps no register across a call.
 * The class is not passed: the fast path does not need it (it found the
 * magazine by gom_mag_off_small()), the slow ones find it again.
 */
static __always_inline void *finish(void *obj, size_t size, gfp_t flags,
				    unsigned long caller, unsigned int how)
{
	if (IS_ENABLED(CONFIG_KASAN_GENERIC) ||
	    IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) ||
	    (!(how & GOM_FAST) && trace_gom_alloc_enabled()))
		return finish_slow(obj, size, flags, caller, how);
	if ((how & GOM_INIT) && unlikely(want_init_on_alloc(flags)))
		return init_sized(obj, size);
	gom_obj_unmark(obj);
	return obj;
}

/*
 * finish() a heap profile sample the CPU's section counted down to, and
 * record it: out of line, as the fast path's finish() is inline, and the
 * record a tail call, one frame less for the sample's stack walk.
 */
static noinline void *finish_sample(void *obj, size_t size, gfp_t flags,
				    unsigned long caller, unsigned int how)
{
	obj = finish(obj, size, flags, caller, how);
	return gom_profile_alloc(obj, size, gom_size_class(size), caller);
}

static unsigned int how_init(bool init)
{
	return init ? GOM_INIT : 0;
}

/* A slow path's share of the heap profile's countdown. */
static void *profile(void *obj, size_t size, unsigned int cls,
		     unsigned long caller)
{
	if (gom_profile_due(size))
		return gom_profile_alloc(obj, size, cls, caller);
	return obj;
}

/* The magazine and the span's claimed word are empty, or it is nested. */
static noinline void *alloc_miss(size_t size, gfp_t flags,
				 unsigned long caller, bool init)
{
	unsigned int cls = gom_size_class(size);
	void *obj;

	might_alloc(flags);
	obj = gom_mcache_refill(cls, flags);
	if (obj == ERR_PTR(-EDQUOT) && gom_reclaim(flags))
		obj = gom_mcache_refill(cls, flags);
	if (IS_ERR(obj))
		return alloc_error(obj, size, flags);
	obj = finish(obj, size, flags, caller, how_init(init));
	return profile(obj, size, cls, caller);
}

/*
 * An object of @size bytes' class, whose magazine is at @off, from this
 * CPU's caches, else the slow path.
 * @caller: the return address the slow paths record; 0 from gom_alloc(),
 * whose own is then read only on them: hoisted, the load cost the hit
 * path an instruction.
 * @fast: called by gom_alloc() with gom_alloc_hook_key off, so the
 * tracepoint is off too.
 * @node: the heap node the object must be of, or NUMA_NO_NODE; for a
 * node, ERR_PTR(-EAGAIN) instead of the slow path, and the caller asks
 * that node's mcentral.
 */
static __always_inline void *alloc_cached(u32 off, size_t size,
					  gfp_t flags, unsigned long caller,
					  bool init, bool fast, int node)
{
	struct gom_mcache *mc;
	unsigned int how;
	void *obj;

	if (unlikely(!gom_mc_trylock(&mc)))
		goto miss;
	/* a request for a node: the task may be on another node's CPU now */
	if (unlikely((node != NUMA_NO_NODE && mc->node != node) ||
		     !gom_mc_pop(mc, off, &obj))) {
		gom_mc_unlock(mc);
		goto miss;
	}
	if (!fast)
		gom_mc_forget(mc);	/* the debug options may withhold it */
	how = how_init(init) | (fast ? GOM_FAST : 0);
	if (unlikely(gom_mc_sample(mc, size))) {
		gom_mc_forget(mc);	/* its free takes it out of the profile */
		gom_mc_unlock(mc);
		return finish_sample(obj, size, flags, caller ?: _RET_IP_, how);
	}
	gom_mc_unlock(mc);
	return finish(obj, size, flags, caller, how);
miss:
	/* for a node, the refill could run on another node's CPU */
	if (node != NUMA_NO_NODE)
		return ERR_PTR(-EAGAIN);
	return alloc_miss(size, flags, caller ?: _RET_IP_, init);
}

/* An order the run cache serves for a run of @npages, or -1. */
static int rc_order(unsigned int npages)
{
	if (!is_power_of_2(npages) || npages >= (1U << GOM_RC_ORDERS))
		return -1;
	return ilog2(npages);
}

/* alloc_run() from the heap of @node, which grows if need be. */
static noinline void *alloc_heap_run(unsigned int npages, size_t size,
				     gfp_t flags, int node)
{
	struct gom_mheap *heap = gom_heaps[gom_heap_node(node)];
	void *p;
	int err;

	while (!(p = gom_mheap_alloc_run(heap, npages, NULL))) {
		err = gom_mcentral_grow(heap->node, order_base_2(npages), flags);
		if (err)
			return ERR_PTR(err);
	}
	return gom_run_tag(p, gom_profile_due(size));
}

/*
 * A run of @npages for @size bytes, counted down to the next heap
 * profile sample: with GOM_RUN_SAMPLE set if it is one; or an ERR_PTR.
 */
static void *alloc_run(unsigned int npages, size_t size, gfp_t flags,
		       int node)
{
	int order = rc_order(npages);
	int hnode = node == NUMA_NO_NODE ? node : gom_heap_node(node);
	void *p;

	if (order >= 0 && (hnode == NUMA_NO_NODE || hnode == numa_mem_id())) {
		/* NULL too if the task has moved to another node's CPU */
		p = gom_runcache_alloc(order, hnode, size);
		if (p)
			return p;
	}
	return alloc_heap_run(npages, size, flags, node);
}

static noinline void *alloc_large(size_t size, gfp_t flags, int node,
				  unsigned long caller)
{
	unsigned int npages;
	bool sample;
	size_t bytes;
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	if (size > (PAGE_SIZE << GOM_MAX_ORDER))
		return alloc_error(ERR_PTR(-E2BIG), size, flags);
	npages = DIV_ROUND_UP(size, PAGE_SIZE);
	bytes = (size_t)npages << PAGE_SHIFT;
	might_alloc(flags);
	p = alloc_run(npages, size, flags, node);
	if (p == ERR_PTR(-EDQUOT) && gom_reclaim(flags))
		p = alloc_run(npages, size, flags, node);
	if (IS_ERR(p))
		return alloc_error(p, size, flags);
	p = gom_run_untag(p, &sample);
	if (IS_ENABLED(CONFIG_KASAN_GENERIC))
		gom_kasan_unpoison(p, bytes);
	if (want_init_on_alloc(flags))
		memset(p, 0, bytes);
	gom_hook_alloc(p, size, bytes, flags);
	trace_gom_alloc(caller, p, size, bytes, flags, node);
	if (likely(!sample))
		return p;
	return gom_profile_alloc(p, size, 0, caller);
}

static noinline void *alloc_remote(unsigned int cls, size_t size,
				   gfp_t flags, int node, unsigned long caller,
				   bool init)
{
	void *obj;

	might_alloc(flags);
	obj = gom_mcache_alloc_nested(cls, flags, node);
	if (obj == ERR_PTR(-EDQUOT) && gom_reclaim(flags))
		obj = gom_mcache_alloc_nested(cls, flags, node);
	if (IS_ERR(obj))
		return alloc_error(obj, size, flags);
	obj = finish(obj, size, flags, caller,
		     how_init(init) | (node + 1) << GOM_NODE_SHIFT);
	return profile(obj, size, cls, caller);
}

/* Any allocation, without the debug options. */
static void *alloc_plain(size_t size, gfp_t flags, int node,
			 unsigned long caller, bool init)
{
	unsigned int cls = gom_size_class(size);
	int hnode;
	void *obj;

	if (!cls)
		return alloc_large(size, flags, node, caller);
	if (node == NUMA_NO_NODE)
		return alloc_cached(gom_mag_off(cls), size, flags, caller,
				    init, false, NUMA_NO_NODE);
	hnode = gom_heap_node(node);
	if (hnode == numa_mem_id()) {
		obj = alloc_cached(gom_mag_off(cls), size, flags, caller,
				   init, false, hnode);
		if (obj != ERR_PTR(-EAGAIN))
			return obj;
	}
	return alloc_remote(cls, size, flags, node, caller, init);
}

/*
 * Allocation with debug=, the quarantine or fault injection on: the
 * object comes from the class that holds its trailer (debug.c); one that
 * the checks find corrupt stays out of use, and another is taken.
 */
static noinline void *alloc_debug(size_t size, gfp_t flags, int node,
				  unsigned long caller)
{
	size_t inner = gom_debug_size(size), slot;
	void *obj;

	if (gom_should_fail(size, flags, caller)) {
		atomic_long_inc(&gom_counters.alloc_failures);
		return NULL;
	}
	if (inner == size && gom_size_class(size))
		/* no room for a trailer in any class: a page run instead */
		return alloc_large(size, flags, node, caller);
	if (inner == size)
		return alloc_plain(size, flags, node, caller, true);
	slot = gom_classes[gom_size_class(inner)].size;
	do {
		obj = alloc_plain(inner, flags, node, caller, false);
		if (!obj)
			return NULL;
	} while (!gom_debug_alloc_ok(obj, size, slot, caller));
	gom_kasan_poison(obj, size, slot, GOM_KASAN_REDZONE);
	if (want_init_on_alloc(flags))
		memset(obj, 0, size);
	trace_gom_alloc(caller, obj, size, slot, flags, node);
	return obj;
}

/* gom_alloc() with the debug options or the tracepoint on; out of line. */
static noinline void *alloc_hooked(size_t size, gfp_t flags,
				   unsigned long caller)
{
	if (static_branch_unlikely(&gom_debug_key))
		return alloc_debug(size, flags, NUMA_NO_NODE, caller);
	return alloc_plain(size, flags, NUMA_NO_NODE, caller, true);
}

/**
 * gom_alloc() - allocate memory
 * @size: bytes wanted; up to GOM_MAX_SMALL_SIZE from a size class, above
 *	  as an exact run of pages (at most the page allocator's largest
 *	  block)
 * @flags: GFP flags: GFP_KERNEL may sleep to grow the heap, GFP_ATOMIC and
 *	   GFP_NOWAIT never sleep, __GFP_ZERO zeroes, __GFP_NOWARN silences
 *	   the failure warning; __GFP_NORETRY, __GFP_RETRY_MAYFAIL and
 *	   __GFP_NOFAIL mean what they mean to the page allocator
 *
 * Objects are at least 8-byte aligned; power-of-two sizes up to PAGE_SIZE
 * are naturally aligned. init_on_alloc and __GFP_ZERO clear the whole
 * usable size.
 *
 * Context: any context where kmalloc(@flags) is allowed.
 * Return: the memory, ZERO_SIZE_PTR for @size 0, or NULL on failure.
 */
void *gom_alloc(size_t size, gfp_t flags)
{
	u32 off;

	if (static_branch_unlikely(&gom_alloc_hook_key))
		return alloc_hooked(size, flags, _RET_IP_);
	if (likely(size - 1 < GOM_DIRECT_MAX))
		off = gom_mag_off_small(size);
	else if (size - 1 < GOM_MAX_SMALL_SIZE)
		off = gom_mag_off(gom_size_class(size));
	else
		return alloc_large(size, flags, NUMA_NO_NODE, _RET_IP_);
	return alloc_cached(off, size, flags, 0, true, true, NUMA_NO_NODE);
}
EXPORT_SYMBOL_GPL(gom_alloc);

/**
 * gom_alloc_node() - allocate memory on a NUMA node
 * @size: bytes wanted
 * @flags: GFP flags, as for gom_alloc()
 * @node: node to allocate on, or NUMA_NO_NODE for the local node
 *
 * A request for another node than the CPU's bypasses the CPU's caches.
 *
 * Context: any context where kmalloc(@flags) is allowed.
 * Return: the memory, ZERO_SIZE_PTR for @size 0, or NULL on failure.
 */
void *gom_alloc_node(size_t size, gfp_t flags, int node)
{
	if (static_branch_unlikely(&gom_debug_key))
		return alloc_debug(size, flags, node, _RET_IP_);
	return alloc_plain(size, flags, node, _RET_IP_, true);
}
EXPORT_SYMBOL_GPL(gom_alloc_node);

/* Free the live large run at @base, whose page map entry is @e. */
static void free_run(void *base, unsigned long e)
{
	unsigned int npages = gom_pm_val(e);
	size_t bytes = (size_t)npages << PAGE_SHIFT;
	int order = rc_order(npages);
	int err;

	if (gom_profile_run_sampled(base))
		gom_profile_free(base);
	if (want_init_on_free())
		gom_clear_on_free(base, bytes);
	gom_hook_free(base, bytes);
	if (order >= 0 && gom_pm_node(e) == numa_mem_id())
		err = gom_runcache_free(base, order, e);
	else
		err = gom_mheap_free_run(base, npages, NULL);
	if (err)
		gom_refuse_free(base, "page run already free", true);
}

/* What to say about a pointer that is not a live object of gomalloc's. */
static void refuse_other(const void *ptr, unsigned long e)
{
	unsigned long addr = (unsigned long)ptr;

	if (e == GOM_PM_NONE)
		gom_refuse_free(ptr, "not a gomalloc pointer", false);
	else if (gom_pm_is_span(e) && gom_object_is_free(addr))
		gom_refuse_free(ptr, "object already free", true);
	else if (gom_pm_is_span(e))
		gom_refuse_free(ptr, "not the start of an object", false);
	else if (gom_pm_tag(e) == GOM_PM_CACHED && !offset_in_page(ptr))
		gom_refuse_free(ptr, "page run already free", true);
	else if (gom_page_is_free(addr))
		gom_refuse_free(ptr, "page already free", true);
	else
		gom_refuse_free(ptr, "not the start of a page run", false);
}

/*
 * Everything but a small object, whose page map entry is @e: a large
 * run, or a refusal. @run_only refuses a small object too
 * (gom_free_pages()).
 */
static noinline void free_other(const void *ptr, unsigned long e,
				bool run_only)
{
	if (ZERO_OR_NULL_PTR(ptr))
		return;
	if (gom_pm_tag(e) == GOM_PM_LARGE && !offset_in_page(ptr))
		free_run((void *)ptr, e);
	else if (run_only && gom_pm_is_span(e))
		gom_refuse_free(ptr, "not a page run", false);
	else
		refuse_other(ptr, e);
}

static noinline void free_slow(const void *ptr)
{
	if (!gom_mcache_free_slow(ptr))
		free_other(ptr, gom_pm_get((unsigned long)ptr), false);
}

/*
 * Any free, without the debug options. @fast: called by gom_free() with
 * gom_free_hook_key off, so neither init_on_free nor a second node needs
 * checking.
 */
static __always_inline void free_plain(const void *ptr, bool fast)
{
	struct gom_mcache *mc;
	struct gom_span *s;
	unsigned long e;

	if (likely(gom_mc_trylock(&mc))) {
		/* the memo is of this node; init_on_free needs the slow path */
		if ((fast || !want_init_on_free()) &&
		    likely(gom_mc_unpop(mc, ptr))) {
			gom_mc_unlock(mc);
			return;
		}
		e = gom_pm_get((unsigned long)ptr);
		if (unlikely(!gom_pm_is_span(e))) {
			/* a page run, or not gomalloc's: no section needed */
			gom_mc_unlock(mc);
			free_other(ptr, e, false);
			return;
		}
		if (likely(gom_obj_in_span(ptr, e, &s)) &&
		    (fast || !want_init_on_free()) &&
		    likely(gom_mc_push(mc, s, (void *)ptr, !fast))) {
			gom_mc_unlock(mc);
			return;
		}
		gom_mc_unlock(mc);
	}
	free_slow(ptr);
}

/* The slot of a small object of gomalloc's, or 0. */
static size_t debug_slot(const void *ptr)
{
	struct gom_span *s;
	size_t slot = 0;

	rcu_read_lock();
	if (gom_obj_span(ptr, &s))
		slot = s->size;
	rcu_read_unlock();
	return slot;
}

/*
 * Free with debug=, the quarantine or fault injection on: checked against
 * its trailer (debug.c), then through the quarantine. Anything else (a
 * large run, a pointer that is not a live object) is freed, or refused,
 * as without the options.
 */
static noinline void free_debug(const void *ptr, unsigned long caller)
{
	size_t slot = debug_slot(ptr);
	void *obj = (void *)ptr;

	if (slot && gom_debug_size(1) != 1) {
		if (!gom_debug_free_ok(obj, slot, caller,
				       gom_object_is_free((unsigned long)ptr)))
			return;
		obj = gom_quarantine_put(obj, slot);
		if (!obj)
			return;
	}
	free_plain(obj, false);
}

/* gom_free() with gom_free_hook_key on; out of line. */
static noinline void free_one(const void *ptr, unsigned long caller)
{
	trace_gom_free(caller, ptr);
	if (static_branch_unlikely(&gom_debug_key))
		free_debug(ptr, caller);
	else
		free_plain(ptr, false);
}

/**
 * gom_free() - free memory from gom_alloc() and friends
 * @ptr: the memory; NULL and ZERO_SIZE_PTR are ignored
 *
 * A pointer gomalloc does not own, a pointer inside an object, and an
 * object already free are refused: counted, reported with a ratelimited
 * warning, and the memory is not touched.
 *
 * Context: any context where kfree() is allowed.
 */
void gom_free(const void *ptr)
{
	if (static_branch_unlikely(&gom_free_hook_key))
		free_one(ptr, _RET_IP_);
	else
		free_plain(ptr, true);
}
EXPORT_SYMBOL_GPL(gom_free);

/**
 * gom_usable_size() - bytes usable in an allocation
 * @ptr: memory from gom_alloc() or gom_alloc_pages()
 *
 * Context: any.
 * Return: the class size of a small object (with debug=, the bytes it was
 * asked for), the run's bytes for a large one, 0 for NULL, ZERO_SIZE_PTR,
 * memory gomalloc does not own, or an object that is free.
 */
size_t gom_usable_size(const void *ptr)
{
	struct gom_span *s;
	unsigned long e;
	size_t ret = 0;

	if (ZERO_OR_NULL_PTR(ptr))
		return 0;
	rcu_read_lock();
	e = gom_pm_get((unsigned long)ptr);
	if (gom_obj_span(ptr, &s)) {
		if (!gom_obj_marked(ptr))
			ret = gom_debug_usable(ptr, s->size);
	} else if (gom_pm_tag(e) == GOM_PM_LARGE && !offset_in_page(ptr)) {
		ret = gom_pm_val(e) << PAGE_SHIFT;
	}
	rcu_read_unlock();
	/* as ksize(): the caller may now use all of it */
	if (IS_ENABLED(CONFIG_KASAN_GENERIC) && ret)
		gom_kasan_unpoison(ptr, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(gom_usable_size);

/* gom_alloc_bulk() one object at a time: large, or with debug options. */
static int alloc_each(size_t size, gfp_t flags, size_t nr, void **ptrs,
		      unsigned long caller)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (static_branch_unlikely(&gom_debug_key))
			ptrs[i] = alloc_debug(size, flags, NUMA_NO_NODE, caller);
		else
			ptrs[i] = alloc_plain(size, flags, NUMA_NO_NODE, caller,
					      true);
		if (!ptrs[i])
			break;
	}
	if (i == nr)
		return nr;
	while (i--)
		free_one(ptrs[i], caller);
	return 0;
}

/* What finish() does, for each of @nr objects of class @cls in @ptrs. */
static noinline void finish_bulk(unsigned int cls, size_t size, gfp_t flags,
				 size_t nr, void **ptrs, unsigned long caller)
{
	size_t slot = gom_classes[cls].size, i;

	for (i = 0; i < nr; i++) {
		if (IS_ENABLED(CONFIG_KASAN_GENERIC))
			gom_kasan_unpoison(ptrs[i], slot);
		if (want_init_on_alloc(flags))
			init_object(ptrs[i], slot);
		gom_hook_alloc(ptrs[i], size, slot, flags);
		trace_gom_alloc(caller, ptrs[i], size, slot, flags,
				NUMA_NO_NODE);
	}
}

/**
 * gom_alloc_bulk() - allocate many objects of one size at once
 * @size: bytes per object
 * @flags: GFP flags, as for gom_alloc()
 * @nr: number of objects
 * @ptrs: array of @nr pointers to fill
 *
 * Objects come from the CPU's magazine first, then from the span the CPU
 * owns, a bitmap word (up to 64 objects) at a time; from that span alone
 * (and a new one when it is used up) after a bulk free whose objects were
 * spread over many spans. The gomalloc counterpart of
 * kmem_cache_alloc_bulk().
 *
 * Context: any context where kmalloc(@flags) is allowed.
 * Return: @nr, or 0 with nothing allocated.
 */
int gom_alloc_bulk(size_t size, gfp_t flags, size_t nr, void **ptrs)
{
	unsigned int cls = gom_size_class(size);
	int ret;

	if (!cls || static_branch_unlikely(&gom_debug_key))
		return alloc_each(size, flags, nr, ptrs, _RET_IP_);
	/* as gom_alloc(): the hit path checks the context in debug builds */
	if (IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP) || IS_ENABLED(CONFIG_LOCKDEP))
		might_alloc(flags);
	ret = gom_mcache_alloc_bulk(cls, size, flags, nr, ptrs);
	if (ret == -EDQUOT && gom_reclaim(flags))
		ret = gom_mcache_alloc_bulk(cls, size, flags, nr, ptrs);
	if (ret < 0) {
		alloc_error(ERR_PTR(ret), size, flags);
		return 0;
	}
	if (IS_ENABLED(CONFIG_KASAN_GENERIC) ||
	    IS_ENABLED(CONFIG_DEBUG_KMEMLEAK) || want_init_on_alloc(flags) ||
	    trace_gom_alloc_enabled())
		finish_bulk(cls, size, flags, nr, ptrs, _RET_IP_);
	/* a sample is due, or the countdown is not done */
	if (ret && static_branch_unlikely(&gom_profile_key))
		gom_profile_tick_bulk(ptrs, nr, size, cls, _RET_IP_);
	return nr;
}
EXPORT_SYMBOL_GPL(gom_alloc_bulk);

/**
 * gom_free_bulk() - free many objects at once
 * @nr: number of pointers
 * @ptrs: pointers, as gom_free() takes them; the array's contents are
 *	  undefined afterwards, as with kmem_cache_free_bulk()
 *
 * Small objects go to the CPU's magazine while it has room and the rest
 * straight back to their spans, a bitmap word at a time; all of a class's
 * go back to their spans when more than a quarter of them meet a new span.
 *
 * Context: any context where kfree() is allowed.
 */
void gom_free_bulk(size_t nr, void **ptrs)
{
	size_t i = 0;

	if (static_branch_unlikely(&gom_debug_key) ||
	    trace_gom_free_enabled()) {
		for (i = 0; i < nr; i++)
			free_one(ptrs[i], _RET_IP_);
		return;
	}
	while (i < nr) {
		i += gom_mcache_free_bulk(nr - i, ptrs + i);
		if (i < nr)
			gom_free(ptrs[i++]);
	}
}
EXPORT_SYMBOL_GPL(gom_free_bulk);

/**
 * gom_alloc_pages() - allocate an exact run of pages from the heap
 * @npages: number of pages, 1 up to the page allocator's largest block
 * @flags: GFP flags, as for gom_alloc()
 *
 * Context: any context where alloc_pages(@flags) is allowed.
 * Return: page-aligned address of the run, or NULL.
 */
void *gom_alloc_pages(unsigned int npages, gfp_t flags)
{
	size_t size = (size_t)npages << PAGE_SHIFT;

	if (unlikely(!npages))
		return alloc_error(ERR_PTR(-EINVAL), 0, flags);
	if (static_branch_unlikely(&gom_debug_key) &&
	    gom_should_fail(size, flags, _RET_IP_)) {
		atomic_long_inc(&gom_counters.alloc_failures);
		return NULL;
	}
	return alloc_large(size, flags, NUMA_NO_NODE, _RET_IP_);
}
EXPORT_SYMBOL_GPL(gom_alloc_pages);

/**
 * gom_free_pages() - free a run from gom_alloc_pages()
 * @addr: address gom_alloc_pages() returned, or NULL
 *
 * Anything else (a small object, an address inside the run, a run already
 * freed) is refused and counted.
 *
 * Context: any context where kfree() is allowed.
 */
void gom_free_pages(void *addr)
{
	trace_gom_free(_RET_IP_, addr);
	free_other(addr, gom_pm_get((unsigned long)addr), true);
}
EXPORT_SYMBOL_GPL(gom_free_pages);
