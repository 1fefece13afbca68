// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc mcache: level 2 front end and the public object API.
 *
 * Every CPU has one magazine per size class: a bounded array of free
 * objects (Go's mcache, one per P; here one per CPU). gom_alloc() pops from
 * it and gom_free() pushes to it with interrupts disabled for a few
 * instructions and no lock or atomic instruction, so both are safe from
 * process, softirq and hardirq context. An empty magazine is refilled with
 * a batch of half its capacity from the mcentral of the CPU's node; a full
 * one flushes its oldest half back. An object freed on another CPU than
 * the one that allocated it goes to the freeing CPU's magazine, unless its
 * memory is on another node: then it goes straight back to its span, so
 * that magazines only ever hold memory of their CPU's node.
 *
 * gom_free() finds an object's span in O(1) through the arena table and
 * refuses, counts and reports (ratelimited) a pointer that is not
 * gomalloc's, points inside an object, or is already free in its span.
 * Objects above GOM_MAX_SMALL_SIZE and gom_alloc_pages() are exact page
 * runs from the mheap.
 *
 * Locking: a magazine belongs to its CPU and is touched only with local
 * interrupts disabled, or by the CPU hotplug teardown after the CPU is
 * dead. Refill and flush take mcentral locks inside that section; growing
 * the heap happens after interrupts are restored, so a caller whose gfp
 * allows it may sleep there and nowhere else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include "internal.h"

struct gom_mcache * __percpu *gom_mcaches;
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcaches);
struct gom_errors gom_errors;
EXPORT_SYMBOL_GOM_INTERNAL(gom_errors);

static __always_inline struct gom_mag *this_mag(unsigned int cls)
{
	return &this_cpu_read(*gom_mcaches)->mag[cls];
}

static unsigned long arena_bytes(void)
{
	return PAGE_SIZE << gom_arena_order;
}

/**
 * gom_refuse_free() - count and report a free that gomalloc refuses
 * @ptr: the pointer passed in
 * @why: what is wrong with it
 * @dbl: true for a double free, false for an invalid pointer
 *
 * Context: any.
 */
void gom_refuse_free(const void *ptr, const char *why, bool dbl)
{
	atomic_long_inc(dbl ? &gom_errors.double_frees :
			&gom_errors.invalid_frees);
	pr_warn_ratelimited("refused free of %p: %s\n", ptr, why);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_refuse_free);

static void fail(size_t size, gfp_t flags)
{
	atomic_long_inc(&gom_errors.alloc_failures);
	if (!(flags & __GFP_NOWARN))
		pr_warn_ratelimited("allocation of %zu bytes failed (gfp %pGg)\n",
				    size, &flags);
}

/* Refill @m from its node's mcentral and pop one object; irqs off. */
static int refill_pop(struct gom_mag *m, unsigned int cls,
		      struct gom_span **spare, void **objp)
{
	int n;

	n = gom_mcentral_refill(gom_central(numa_mem_id(), cls), m->objs,
				gom_classes[cls].batch, spare);
	if (n <= 0)
		return n;
	m->refills++;
	m->allocs++;
	m->count = n - 1;
	*objp = m->objs[n - 1];
	return 0;
}

/* One object: from this CPU's magazine, or directly from @node. */
static int get_object(unsigned int cls, int node, struct gom_span **spare,
		      void **objp)
{
	struct gom_mag *m = this_mag(cls);

	if (node != NUMA_NO_NODE && node != numa_mem_id()) {
		int n = gom_mcentral_refill(gom_central(node, cls), objp, 1,
					    spare);

		if (n > 0)
			m->allocs++;
		return n > 0 ? 0 : n;
	}
	if (m->count) {
		*objp = m->objs[--m->count];
		m->allocs++;
		return 0;
	}
	return refill_pop(m, cls, spare, objp);
}

/*
 * Fix the shortage get_object() reported: a span descriptor (-ENOSPC) or
 * pages (-ENOMEM). Runs with interrupts as the caller had them.
 */
static int resolve(int err, unsigned int cls, int node, gfp_t flags,
		   struct gom_span **spare)
{
	int nid = gom_heap_node(node);

	if (err == -ENOSPC) {
		*spare = gom_span_desc_alloc(cls, nid, flags);
		return *spare ? 0 : -ENOMEM;
	}
	return gom_mheap_grow(gom_heaps[nid], flags);
}

static void *alloc_slow(unsigned int cls, gfp_t flags, int node)
{
	struct gom_span *spare = NULL;
	unsigned long irqflags;
	void *obj = NULL;
	int err;

	do {
		local_irq_save(irqflags);
		err = get_object(cls, node, &spare, &obj);
		local_irq_restore(irqflags);
	} while (err && !resolve(err, cls, node, flags, &spare));
	gom_span_desc_free(spare);
	if (!obj)
		fail(gom_classes[cls].size, flags);
	return obj;
}

/* An order the page cache serves for a run of @npages, or -1. */
static int pcache_order(unsigned int npages)
{
	if (!is_power_of_2(npages) || npages >= (1U << GOM_PCACHE_ORDERS))
		return -1;
	return ilog2(npages);
}

static void *alloc_run(unsigned int npages, gfp_t flags, int node)
{
	int order = pcache_order(npages);
	struct gom_mheap *heap;
	void *p;

	if (order >= 0 && node == NUMA_NO_NODE) {
		p = gom_pcache_alloc(order);
		if (p)
			return p;
	}
	heap = gom_heaps[gom_heap_node(node)];
	while (!(p = gom_mheap_alloc_run(heap, npages, NULL)))
		if (gom_mheap_grow(heap, flags))
			return NULL;
	return p;
}

static void *alloc_large(size_t size, gfp_t flags, int node)
{
	unsigned int npages = DIV_ROUND_UP(size, PAGE_SIZE);
	void *p;

	if (!size)
		return ZERO_SIZE_PTR;
	p = size <= arena_bytes() ? alloc_run(npages, flags, node) : NULL;
	if (!p) {
		fail(size, flags);
		return NULL;
	}
	if (want_init_on_alloc(flags))
		memset(p, 0, (size_t)npages << PAGE_SHIFT);
	return p;
}

/*
 * Free a large run whose map head said so; irqs off. Only runs of this
 * CPU's node go to its page cache, which serves local allocations.
 */
static void free_run(struct gom_arena *a, void *base, unsigned int npages)
{
	int order = pcache_order(npages);
	int err;

	if (want_init_on_free())
		memset(base, 0, (size_t)npages << PAGE_SHIFT);
	if (order >= 0 && a->heap->node == numa_mem_id())
		err = gom_pcache_free(a, base, order);
	else
		err = gom_mheap_free_run(a->heap, base, npages, NULL);
	if (err)
		gom_refuse_free(base, "page run already free", true);
}

/* Clear an object; out of line to keep the fast paths short. */
static noinline void *init_object(void *obj, unsigned int cls)
{
	return memset(obj, 0, gom_classes[cls].size);
}

static __always_inline void *finish(void *obj, unsigned int cls, gfp_t flags)
{
	if (unlikely(want_init_on_alloc(flags)) && obj)
		return init_object(obj, cls);
	return obj;
}

static noinline void *alloc_miss(unsigned int cls, gfp_t flags)
{
	return finish(alloc_slow(cls, flags, NUMA_NO_NODE), cls, flags);
}

/**
 * gom_alloc_node() - allocate memory on a NUMA node
 * @size: bytes wanted
 * @flags: GFP flags: GFP_KERNEL may sleep to grow the heap, GFP_ATOMIC and
 *	   GFP_NOWAIT never sleep, __GFP_ZERO zeroes, __GFP_NOWARN silences
 *	   the failure warning
 * @node: node to allocate on, or NUMA_NO_NODE for the local node
 *
 * Requests for another node than the CPU's bypass its magazine.
 *
 * Context: any context where kmalloc(@flags) is allowed.
 * Return: the memory, ZERO_SIZE_PTR for @size 0, or NULL on failure.
 */
void *gom_alloc_node(size_t size, gfp_t flags, int node)
{
	unsigned int cls = gom_size_class(size);

	if (unlikely(!cls))
		return alloc_large(size, flags, node);
	if (node != NUMA_NO_NODE && node != gom_heap_node(node))
		node = NUMA_NO_NODE;
	return finish(alloc_slow(cls, flags, node), cls, flags);
}
EXPORT_SYMBOL_GPL(gom_alloc_node);

/**
 * gom_alloc() - allocate memory
 * @size: bytes wanted; up to GOM_MAX_SMALL_SIZE from a size class, above
 *	  as an exact run of pages
 * @flags: GFP flags, as for gom_alloc_node()
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
	unsigned int cls = gom_size_class(size);
	unsigned long irqflags;
	struct gom_mag *m;
	void *obj = NULL;

	if (unlikely(!cls))
		return alloc_large(size, flags, NUMA_NO_NODE);
	local_irq_save(irqflags);
	m = this_mag(cls);
	if (likely(m->count)) {
		obj = m->objs[--m->count];
		m->allocs++;
	}
	local_irq_restore(irqflags);
	if (unlikely(!obj))
		return alloc_miss(cls, flags);
	return finish(obj, cls, flags);
}
EXPORT_SYMBOL_GPL(gom_alloc);

/* Move the oldest half of a full magazine back to the mcentral. */
static noinline void flush_half(struct gom_mag *m, unsigned int cls)
{
	unsigned int batch = gom_classes[cls].batch;

	gom_mcentral_flush(cls, m->objs, batch);
	m->count -= batch;
	memmove(m->objs, m->objs + batch, m->count * sizeof(void *));
	m->flushes++;
}

/*
 * The span of a valid small object at @addr, or NULL. A valid object is
 * the start of an object of its span that is not free in the span.
 */
static __always_inline struct gom_span *small_span(unsigned long addr)
{
	struct gom_arena *a = __gom_arena_lookup(addr);
	const struct gom_class *k;
	unsigned long entry, off;
	struct gom_span *s;
	unsigned int idx;

	if (unlikely(!a))
		return NULL;
	entry = __gom_map_entry(a, addr);
	if (unlikely(!entry || (entry & GOM_MAP_TAGS)))
		return NULL;
	s = (struct gom_span *)entry;
	k = &gom_classes[s->cls];
	off = addr - s->base;
	idx = (off * k->divmul) >> 32;
	if (unlikely(idx >= k->nobjs || idx * k->size != off ||
		     test_bit(idx, s->free_bits)))
		return NULL;
	return s;
}

/* Return an object of another node's span to its mcentral; irqs off. */
static noinline void free_remote(struct gom_mag *m, struct gom_span *s,
				 void *obj)
{
	gom_mcentral_flush(s->cls, &obj, 1);
	m->frees++;
}

/* Push a validated object to this CPU's magazine; irqs off. */
/*
 * With check_cached set, a free searches this CPU's magazine for the
 * object, so a double free is refused even when other frees came between
 * the two (free(p); free(q); free(p)). Off by default: it costs a scan of
 * up to GOM_MAG_MAX pointers per free. A static key keeps the fast path
 * untouched while it is off.
 */
static DEFINE_STATIC_KEY_FALSE(gom_check_cached_key);

static int check_cached_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (ret)
		return ret;
	if (*(bool *)kp->arg)
		static_branch_enable(&gom_check_cached_key);
	else
		static_branch_disable(&gom_check_cached_key);
	return 0;
}

static const struct kernel_param_ops check_cached_ops = {
	.set = check_cached_set,
	.get = param_get_bool,
};

static bool gom_check_cached;
module_param_cb(check_cached, &check_cached_ops, &gom_check_cached, 0644);
MODULE_PARM_DESC(check_cached, "Refuse a double free of an object still in this CPU's cache (slower frees)");

/**
 * gom_set_check_cached() - turn the search of the magazine on free on or off
 * @on: the new setting of the check_cached parameter
 *
 * Context: process context; may sleep.
 */
void gom_set_check_cached(bool on)
{
	check_cached_set(on ? "1" : "0", &__param_check_cached);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_set_check_cached);

/* Whether @obj is in @m: a free of it now is a double free. */
static bool in_mag(struct gom_mag *m, void *obj)
{
	unsigned int i;

	if (!static_branch_unlikely(&gom_check_cached_key))
		return m->count && m->objs[m->count - 1] == obj;
	for (i = 0; i < m->count; i++)
		if (m->objs[i] == obj)
			return true;
	return false;
}

static __always_inline void put_object(struct gom_span *s, void *obj)
{
	struct gom_mag *m = this_mag(s->cls);

	/* Always caught: the same object twice in a row on one CPU. */
	if (unlikely(in_mag(m, obj))) {
		gom_refuse_free(obj, "object already free", true);
		return;
	}
	if (unlikely(want_init_on_free()))
		init_object(obj, s->cls);
	if (unlikely(s->node != numa_mem_id())) {
		free_remote(m, s, obj);
		return;
	}
	if (unlikely(m->count == m->cap))
		flush_half(m, s->cls);
	m->objs[m->count++] = obj;
	m->frees++;
}

/* Everything gom_free() does not push to a magazine. */
static void free_other(const void *ptr)
{
	unsigned long addr = (unsigned long)ptr, entry, irqflags;
	void *base = (void *)(addr & PAGE_MASK);
	struct gom_arena *a;
	unsigned int npages;

	local_irq_save(irqflags);
	a = __gom_arena_lookup(addr);
	entry = a ? __gom_map_entry(a, addr) : 0;
	npages = entry >> GOM_MAP_SHIFT;
	if (!a) {
		gom_refuse_free(ptr, "not a gomalloc pointer", false);
	} else if ((entry & GOM_MAP_TAGS) == GOM_MAP_LARGE && base == ptr) {
		free_run(a, base, npages);
	} else if ((entry & GOM_MAP_TAGS) == GOM_MAP_CACHED && base == ptr) {
		gom_refuse_free(ptr, "page run already free", true);
	} else if (entry && !(entry & GOM_MAP_TAGS)) {
		if (gom_object_free((struct gom_span *)entry, addr))
			gom_refuse_free(ptr, "object already free", true);
		else
			gom_refuse_free(ptr, "not the start of an object",
					false);
	} else if (gom_page_free(a, addr)) {
		gom_refuse_free(ptr, "page already free", true);
	} else {
		gom_refuse_free(ptr, "not the start of a page run", false);
	}
	local_irq_restore(irqflags);
}

/*
 * The hit path of gom_free(): push if nothing else is needed. Checking
 * init_on_free here keeps every call out of gom_free(), so it needs no
 * callee-saved registers.
 */
static __always_inline bool push_fast(struct gom_span *s, void *obj)
{
	struct gom_mag *m = this_mag(s->cls);

	if (unlikely(m->count == m->cap || want_init_on_free() ||
		     s->node != numa_mem_id() ||
		     static_branch_unlikely(&gom_check_cached_key) ||
		     (m->count && m->objs[m->count - 1] == obj)))
		return false;
	m->objs[m->count++] = obj;
	m->frees++;
	return true;
}

static noinline void free_slow(const void *ptr)
{
	unsigned long irqflags;
	struct gom_span *s;

	local_irq_save(irqflags);
	s = small_span((unsigned long)ptr);
	if (s)
		put_object(s, (void *)ptr);
	local_irq_restore(irqflags);
	if (!s)
		free_other(ptr);
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
	unsigned long irqflags;
	struct gom_span *s;
	bool done;

	if (unlikely(ZERO_OR_NULL_PTR(ptr)))
		return;
	local_irq_save(irqflags);
	s = small_span((unsigned long)ptr);
	done = s && push_fast(s, (void *)ptr);
	local_irq_restore(irqflags);
	if (unlikely(!done))
		free_slow(ptr);
}
EXPORT_SYMBOL_GPL(gom_free);

/**
 * gom_usable_size() - bytes usable in an allocation
 * @ptr: memory from gom_alloc() or gom_alloc_pages()
 *
 * Context: any.
 * Return: the class size of a small object, the run's bytes for a large
 * one, 0 for NULL, ZERO_SIZE_PTR or memory gomalloc does not own.
 */
size_t gom_usable_size(const void *ptr)
{
	unsigned long addr = (unsigned long)ptr, entry, irqflags;
	struct gom_arena *a;
	size_t ret = 0;

	if (ZERO_OR_NULL_PTR(ptr))
		return 0;
	local_irq_save(irqflags);
	a = __gom_arena_lookup(addr);
	entry = a ? __gom_map_entry(a, addr) : 0;
	if (small_span(addr))
		ret = gom_classes[((struct gom_span *)entry)->cls].size;
	else if ((entry & GOM_MAP_TAGS) == GOM_MAP_LARGE && !offset_in_page(ptr))
		ret = (entry >> GOM_MAP_SHIFT) << PAGE_SHIFT;
	local_irq_restore(irqflags);
	return ret;
}
EXPORT_SYMBOL_GPL(gom_usable_size);

/* Fill @ptrs from the magazine, then straight from the mcentral; irqs off. */
static int bulk_get(unsigned int cls, size_t nr, void **ptrs, size_t *done,
		    struct gom_span **spare)
{
	struct gom_mag *m = this_mag(cls);
	size_t i = *done;
	int n = 0;

	while (i < nr && m->count)
		ptrs[i++] = m->objs[--m->count];
	while (i < nr) {
		n = gom_mcentral_refill(gom_central(numa_mem_id(), cls),
					ptrs + i, min_t(size_t, nr - i, INT_MAX),
					spare);
		if (n < 0)
			break;
		i += n;
	}
	m->allocs += i - *done;
	*done = i;
	return i < nr ? n : 0;
}

static int alloc_each(size_t size, gfp_t flags, size_t nr, void **ptrs)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		ptrs[i] = gom_alloc(size, flags);
		if (!ptrs[i]) {
			gom_free_bulk(i, ptrs);
			return 0;
		}
	}
	return nr;
}

/**
 * gom_alloc_bulk() - allocate many objects of one size at once
 * @size: bytes per object
 * @flags: GFP flags, as for gom_alloc()
 * @nr: number of objects
 * @ptrs: array of @nr pointers to fill
 *
 * Objects come from this CPU's magazine first, then straight from the
 * mcentral in batches, without passing through the magazine.
 *
 * Context: any context where kmalloc(@flags) is allowed.
 * Return: @nr, or 0 with nothing allocated.
 */
int gom_alloc_bulk(size_t size, gfp_t flags, size_t nr, void **ptrs)
{
	unsigned int cls = gom_size_class(size);
	struct gom_span *spare = NULL;
	unsigned long irqflags;
	size_t done = 0;
	int err;

	if (!cls)
		return alloc_each(size, flags, nr, ptrs);
	do {
		local_irq_save(irqflags);
		err = bulk_get(cls, nr, ptrs, &done, &spare);
		local_irq_restore(irqflags);
	} while (err && !resolve(err, cls, NUMA_NO_NODE, flags, &spare));
	gom_span_desc_free(spare);
	if (err) {
		fail(size, flags);
		gom_free_bulk(done, ptrs);
		return 0;
	}
	for (done = 0; done < nr; done++)
		finish(ptrs[done], cls, flags);
	return nr;
}
EXPORT_SYMBOL_GPL(gom_alloc_bulk);

/**
 * gom_free_bulk() - free many objects at once
 * @nr: number of pointers
 * @ptrs: pointers, as gom_free() takes them
 *
 * Context: any context where kfree() is allowed.
 */
void gom_free_bulk(size_t nr, void **ptrs)
{
	unsigned long irqflags;
	struct gom_span *s;
	size_t i;

	local_irq_save(irqflags);
	for (i = 0; i < nr; i++) {
		if (unlikely(ZERO_OR_NULL_PTR(ptrs[i])))
			continue;
		s = small_span((unsigned long)ptrs[i]);
		if (likely(s)) {
			put_object(s, ptrs[i]);
			continue;
		}
		local_irq_restore(irqflags);
		free_other(ptrs[i]);
		local_irq_save(irqflags);
	}
	local_irq_restore(irqflags);
}
EXPORT_SYMBOL_GPL(gom_free_bulk);

/**
 * gom_alloc_pages() - allocate an exact run of pages from the heap
 * @npages: number of pages, 1 up to one arena
 * @flags: GFP flags, as for gom_alloc()
 *
 * Context: any context where alloc_pages(@flags) is allowed.
 * Return: page-aligned address of the run, or NULL.
 */
void *gom_alloc_pages(unsigned int npages, gfp_t flags)
{
	if (unlikely(!npages)) {
		fail(0, flags);
		return NULL;
	}
	return alloc_large((size_t)npages << PAGE_SHIFT, flags, NUMA_NO_NODE);
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
	unsigned long a = (unsigned long)addr, irqflags;
	struct gom_arena *arena;
	bool small;

	if (!addr)
		return;
	local_irq_save(irqflags);
	arena = __gom_arena_lookup(a);
	small = arena && !(__gom_map_entry(arena, a) & GOM_MAP_TAGS) &&
		__gom_map_entry(arena, a);
	local_irq_restore(irqflags);
	if (small)
		gom_refuse_free(addr, "not a page run", false);
	else
		free_other(addr);
}
EXPORT_SYMBOL_GPL(gom_free_pages);

static void drain_mag(struct gom_mag *m, unsigned int cls)
{
	gom_mcentral_flush(cls, m->objs, m->count);
	m->count = 0;
}

/**
 * gom_mcache_drain_cpu() - empty a CPU's magazines and page caches
 * @cpu: a CPU that is dead, or the calling CPU with interrupts disabled
 *
 * Context: CPU hotplug teardown, or an IPI on @cpu.
 */
void gom_mcache_drain_cpu(unsigned int cpu)
{
	struct gom_mcache *mc = *per_cpu_ptr(gom_mcaches, cpu);
	unsigned long irqflags;
	unsigned int cls;

	local_irq_save(irqflags);
	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		drain_mag(&mc->mag[cls], cls);
	gom_pcache_drain(mc);
	local_irq_restore(irqflags);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_drain_cpu);

static void drain_local(void *unused)
{
	gom_mcache_drain_cpu(smp_processor_id());
}

/**
 * gom_mcache_drain_all() - empty every CPU's magazines
 *
 * Online CPUs drain their own magazines in an IPI; offline CPUs were
 * drained when they died.
 *
 * Context: process context, interrupts enabled.
 */
void gom_mcache_drain_all(void)
{
	cpus_read_lock();
	on_each_cpu(drain_local, NULL, 1);
	cpus_read_unlock();
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_mcache_drain_all);

/**
 * gom_mcache_init() - allocate every possible CPU's magazines
 *
 * Context: process context (module init).
 * Return: 0 or -ENOMEM.
 */
int gom_mcache_init(void)
{
	unsigned int cpu, cls;

	gom_mcaches = alloc_percpu(struct gom_mcache *);
	if (!gom_mcaches)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct gom_mcache *mc;

		mc = kzalloc_node(sizeof(*mc), GFP_KERNEL, cpu_to_node(cpu));
		if (!mc)
			goto free_mcaches;
		for (cls = 1; cls < GOM_NR_CLASSES; cls++)
			mc->mag[cls].cap = gom_classes[cls].mag_cap;
		gom_pcache_init(mc);
		*per_cpu_ptr(gom_mcaches, cpu) = mc;
		atomic_long_add(sizeof(*mc), &gom_errors.metadata_bytes);
	}
	return 0;
free_mcaches:
	gom_mcache_exit();
	return -ENOMEM;
}

/**
 * gom_mcache_exit() - free the magazines; they must be drained
 *
 * Context: process context (module exit).
 */
void gom_mcache_exit(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		if (*per_cpu_ptr(gom_mcaches, cpu))
			atomic_long_sub(sizeof(struct gom_mcache),
					&gom_errors.metadata_bytes);
		kfree(*per_cpu_ptr(gom_mcaches, cpu));
	}
	free_percpu(gom_mcaches);
}
