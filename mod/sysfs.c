// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc statistics: /sys/kernel/gomalloc and debugfs.
 *
 * This file owns the statistics tree, one value per file:
 *
 *   /sys/kernel/gomalloc/		bytes_inuse, bytes_cached, bytes_heap,
 *					metadata_bytes, invalid_frees,
 *					double_frees, alloc_failures,
 *					alloc_limited, debug_reports,
 *					faults_injected, mem_limit, shrink
 *   /sys/kernel/gomalloc/heap/		the page heaps and run caches,
 *					summed over nodes and CPUs
 *   /sys/kernel/gomalloc/stack/	level 1, from gom_stack_read_stats()
 *   /sys/kernel/gomalloc/classes/<object_size>/
 *					one directory per size class
 *   /sys/kernel/gomalloc/clients/<module>/
 *					heap profile estimates per client
 *					module (profile.c makes them)
 *   /sys/kernel/debug/gomalloc/classes	every class in one table
 *   /sys/kernel/debug/gomalloc/span_ages
 *					span ages and object lifetimes
 *   /sys/kernel/debug/gomalloc/heap_profile, heap_folded
 *					the heap profile (profile.c)
 *
 * It reads nothing itself: each level exports its reader (gom_mheap_read(),
 * gom_runcache_read(), gom_mcentral_read(), gom_mcache_read(),
 * gom_stack_read_stats()), and gom_class_stats() and gom_heap_stats()
 * combine them; the KUnit suites check the same sums.
 * Documentation/ABI/testing/sysfs-kernel-gomalloc describes every file.
 *
 * Every file is a struct gom_attr declared with GOM_ATTR_RO(), _WO() or
 * _RW(), as mm/slub.c does with SLAB_ATTR_RO(), and every directory is a
 * struct gom_kobj, so one sysfs_ops serves the whole tree. A show function
 * gets the size class of its directory (0 outside classes/).
 *
 * A page run in a per-CPU run cache (runcache.c) is allocated in its
 * heap's view but free for its callers': it counts in heap/pages_inuse,
 * not in large_spans, large_bytes or bytes_inuse.
 *
 * Locking: none is taken. The readers use READ_ONCE() while allocation
 * runs on every CPU, without locks and without disabling interrupts, so a
 * reader never stalls an allocator. A file is a lockless snapshot: it may
 * be off by what changed while it was read, and a difference that would
 * go negative is clamped at 0. Only shrink and mem_limit act, through
 * gom_shrink_all() and gom_store_mem_limit().
 */
#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include "debug.h"

/* A directory of the tree; @cls is its size class, 0 outside classes/. */
struct gom_kobj {
	struct kobject kobj;
	unsigned int cls;
};

/* A file of the tree, shown or stored for the class of its directory. */
struct gom_attr {
	struct attribute attr;
	ssize_t (*show)(unsigned int cls, char *buf);
	ssize_t (*store)(unsigned int cls, const char *buf, size_t count);
};

#define GOM_ATTR_RO(_grp, _name)					\
	static struct gom_attr _grp##_##_name##_attr =			\
		__ATTR(_name, 0444, _grp##_##_name##_show, NULL)

#define GOM_ATTR_WO(_grp, _name)					\
	static struct gom_attr _grp##_##_name##_attr =			\
		__ATTR(_name, 0200, NULL, _grp##_##_name##_store)

#define GOM_ATTR_RW(_grp, _name)					\
	static struct gom_attr _grp##_##_name##_attr =			\
		__ATTR(_name, 0644, _grp##_##_name##_show,		\
		       _grp##_##_name##_store)

/* A file showing one value, @_value, of a statistics snapshot. */
#define GOM_STAT_RO(_grp, _name, _fmt, _value)				\
	static ssize_t _grp##_##_name##_show(unsigned int cls, char *buf) \
	{								\
		return sysfs_emit(buf, _fmt "\n", _value);		\
	}								\
	GOM_ATTR_RO(_grp, _name)

static struct kobject *gom_root;
static struct kobject *gom_classes_dir;
static struct kobject *gom_class_kobj[GOM_NR_CLASSES];
static struct dentry *gom_debugfs;

static unsigned long clamp_sub(unsigned long a, unsigned long b)
{
	return a > b ? a - b : 0;
}

/**
 * gom_class_stats() - snapshot the statistics of one size class
 * @cls: size class, 1 to GOM_NR_CLASSES - 1
 * @st: filled with the class's counters, summed over nodes and CPUs
 *
 * The mcentrals count their spans and the objects free in the spans they
 * hold; the mcaches add what is cached in magazines and free in the spans
 * the CPUs own. objects_inuse is what is left: handed out.
 *
 * Context: any; takes no lock (a lockless snapshot, see the file header).
 */
void gom_class_stats(unsigned int cls, struct gom_class_stats *st)
{
	memset(st, 0, sizeof(*st));
	gom_mcentral_read(cls, st);
	gom_mcache_read(cls, st);
	st->spans = st->spans_partial + st->spans_full + st->spans_owned;
	st->objects_inuse = clamp_sub(st->objects_total,
				      st->objects_free + st->objects_cached);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_class_stats);

/**
 * gom_heap_stats() - snapshot the page heaps
 * @st: filled with the heap counters, summed over nodes
 *
 * Runs cached in per-CPU run caches count in @st->cached_pages, not in
 * @st->large_spans and @st->large_pages, which are the live large
 * allocations; all three are pages in use for the heap.
 *
 * Context: any; takes no lock (a lockless snapshot, see the file header).
 */
void gom_heap_stats(struct gom_heap_stats *st)
{
	memset(st, 0, sizeof(*st));
	gom_mheap_read(st);
	gom_runcache_read(st);
	st->pages_inuse = clamp_sub(st->pages_total, st->pages_free);
}
EXPORT_SYMBOL_GOM_INTERNAL(gom_heap_stats);

static struct gom_heap_stats heap_stats(void)
{
	struct gom_heap_stats hs;

	gom_heap_stats(&hs);
	return hs;
}

/* Bytes in use (objects, live large runs) and of objects in magazines. */
static void sum_bytes(unsigned long *inuse, unsigned long *cached)
{
	struct gom_class_stats st;
	unsigned int cls;

	*inuse = heap_stats().large_pages << PAGE_SHIFT;
	*cached = 0;
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		gom_class_stats(cls, &st);
		*inuse += st.objects_inuse * gom_classes[cls].size;
		*cached += st.objects_cached * gom_classes[cls].size;
	}
}

/* The top level: /sys/kernel/gomalloc/ */

static ssize_t top_bytes_inuse_show(unsigned int cls, char *buf)
{
	unsigned long inuse, cached;

	sum_bytes(&inuse, &cached);
	return sysfs_emit(buf, "%lu\n", inuse);
}
GOM_ATTR_RO(top, bytes_inuse);

static ssize_t top_bytes_cached_show(unsigned int cls, char *buf)
{
	unsigned long inuse, cached;

	sum_bytes(&inuse, &cached);
	return sysfs_emit(buf, "%lu\n", cached);
}
GOM_ATTR_RO(top, bytes_cached);

static ssize_t top_bytes_heap_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%lu\n", heap_stats().pages_total << PAGE_SHIFT);
}
GOM_ATTR_RO(top, bytes_heap);

static ssize_t emit_counter(char *buf, atomic_long_t *counter)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(counter));
}

/* A file showing one of the atomic counters of report.c. */
#define GOM_COUNTER_RO(_name, _counter)					\
	static ssize_t top_##_name##_show(unsigned int cls, char *buf)	\
	{								\
		return emit_counter(buf, _counter);			\
	}								\
	GOM_ATTR_RO(top, _name)

GOM_COUNTER_RO(metadata_bytes, &gom_metadata_bytes);
GOM_COUNTER_RO(invalid_frees, &gom_counters.invalid_frees);
GOM_COUNTER_RO(double_frees, &gom_counters.double_frees);
GOM_COUNTER_RO(alloc_failures, &gom_counters.alloc_failures);
GOM_COUNTER_RO(alloc_limited, &gom_counters.alloc_limited);
GOM_COUNTER_RO(debug_reports, &gom_counters.debug_reports);
GOM_COUNTER_RO(faults_injected, &gom_counters.faults_injected);
GOM_COUNTER_RO(profile_unwinds, &gom_unwind_walks);
GOM_COUNTER_RO(profile_unwinds_saved, &gom_unwind_hits);

static ssize_t top_mem_limit_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(gom_mem_limit));
}

/* Bytes, with an optional K, M or G suffix; 0 removes the limit. */
static ssize_t top_mem_limit_store(unsigned int cls, const char *buf,
				   size_t count)
{
	int ret = gom_store_mem_limit(buf);

	return ret ? ret : count;
}
GOM_ATTR_RW(top, mem_limit);

static ssize_t top_profile_rate_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(gom_profile_rate));
}

/* Bytes between heap profile samples: 0 off, 1 every allocation. */
static ssize_t top_profile_rate_store(unsigned int cls, const char *buf,
				      size_t count)
{
	unsigned long rate;

	if (kstrtoul(buf, 0, &rate))
		return -EINVAL;
	gom_set_profile_rate(rate);
	return count;
}
GOM_ATTR_RW(top, profile_rate);

/* "1", with or without a newline, gives back everything not in use. */
static ssize_t top_shrink_store(unsigned int cls, const char *buf,
				size_t count)
{
	if (!sysfs_streq(buf, "1"))
		return -EINVAL;
	gom_shrink_all();
	return count;
}
GOM_ATTR_WO(top, shrink);

static struct attribute *top_attrs[] = {
	&top_bytes_inuse_attr.attr,
	&top_bytes_cached_attr.attr,
	&top_bytes_heap_attr.attr,
	&top_metadata_bytes_attr.attr,
	&top_invalid_frees_attr.attr,
	&top_double_frees_attr.attr,
	&top_alloc_failures_attr.attr,
	&top_alloc_limited_attr.attr,
	&top_debug_reports_attr.attr,
	&top_faults_injected_attr.attr,
	&top_mem_limit_attr.attr,
	&top_profile_rate_attr.attr,
	&top_profile_unwinds_attr.attr,
	&top_profile_unwinds_saved_attr.attr,
	&top_shrink_attr.attr,
	NULL
};

static const struct attribute_group top_group = {
	.attrs = top_attrs,
};

/* heap/ */

GOM_STAT_RO(heap, arenas, "%lu", heap_stats().arenas);
GOM_STAT_RO(heap, pages_total, "%lu", heap_stats().pages_total);
GOM_STAT_RO(heap, pages_inuse, "%lu", heap_stats().pages_inuse);
GOM_STAT_RO(heap, pages_free, "%lu", heap_stats().pages_free);
GOM_STAT_RO(heap, pages_released, "%lu", heap_stats().pages_released);
GOM_STAT_RO(heap, large_spans, "%lu", heap_stats().large_spans);
GOM_STAT_RO(heap, grow_fallbacks, "%lu", heap_stats().grow_fallbacks);
GOM_STAT_RO(heap, grow_failures, "%lu", heap_stats().grow_failures);
GOM_STAT_RO(heap, arena_bytes, "%lu", heap_stats().pages_total << PAGE_SHIFT);

static ssize_t heap_large_bytes_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%lu\n", heap_stats().large_pages << PAGE_SHIFT);
}
GOM_ATTR_RO(heap, large_bytes);

/* One count per order, 0 to gom_arena_order, as in /proc/buddyinfo. */
static ssize_t emit_orders(char *buf, const unsigned long *v)
{
	unsigned int o;
	int len = 0;

	for (o = 0; o <= gom_arena_order; o++)
		len += sysfs_emit_at(buf, len, "%s%lu", o ? " " : "", v[o]);
	return len + sysfs_emit_at(buf, len, "\n");
}

/* Free buddy blocks of each order, wholly free arenas included. */
static ssize_t heap_free_blocks_show(unsigned int cls, char *buf)
{
	return emit_orders(buf, heap_stats().free_blocks);
}
GOM_ATTR_RO(heap, free_blocks);

/* Arenas of each order, as growth sized them or fell back to. */
static ssize_t heap_arenas_by_order_show(unsigned int cls, char *buf)
{
	return emit_orders(buf, heap_stats().arenas_by_order);
}
GOM_ATTR_RO(heap, arenas_by_order);

static struct attribute *heap_attrs[] = {
	&heap_arenas_attr.attr,
	&heap_arenas_by_order_attr.attr,
	&heap_arena_bytes_attr.attr,
	&heap_pages_total_attr.attr,
	&heap_pages_inuse_attr.attr,
	&heap_pages_free_attr.attr,
	&heap_pages_released_attr.attr,
	&heap_free_blocks_attr.attr,
	&heap_large_spans_attr.attr,
	&heap_large_bytes_attr.attr,
	&heap_grow_fallbacks_attr.attr,
	&heap_grow_failures_attr.attr,
	NULL
};

static const struct attribute_group heap_group = {
	.name = "heap",
	.attrs = heap_attrs,
};

/* stack/ */

static struct gom_stack_stats stack_stats(void)
{
	struct gom_stack_stats ss;

	gom_stack_read_stats(&ss);
	return ss;
}

GOM_STAT_RO(stack, stacks, "%ld", stack_stats().stacks);
GOM_STAT_RO(stack, segments, "%ld", stack_stats().segments);
GOM_STAT_RO(stack, bytes_reserved, "%ld", stack_stats().bytes_reserved);
GOM_STAT_RO(stack, bytes_inuse, "%ld", stack_stats().bytes_inuse);
GOM_STAT_RO(stack, high_water, "%ld", stack_stats().high_water);
static struct attribute *stack_attrs[] = {
	&stack_stacks_attr.attr,
	&stack_segments_attr.attr,
	&stack_bytes_reserved_attr.attr,
	&stack_bytes_inuse_attr.attr,
	&stack_high_water_attr.attr,
	NULL
};

static const struct attribute_group stack_group = {
	.name = "stack",
	.attrs = stack_attrs,
};

static const struct attribute_group *root_groups[] = {
	&top_group,
	&heap_group,
	&stack_group,
	NULL
};

/* classes/<object_size>/ */

static ssize_t class_object_size_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%u\n", gom_classes[cls].size);
}
GOM_ATTR_RO(class, object_size);

static ssize_t class_span_pages_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%u\n", gom_classes[cls].npages);
}
GOM_ATTR_RO(class, span_pages);

static ssize_t class_objects_per_span_show(unsigned int cls, char *buf)
{
	return sysfs_emit(buf, "%u\n", gom_classes[cls].nobjs);
}
GOM_ATTR_RO(class, objects_per_span);

static struct gom_class_stats class_stats(unsigned int cls)
{
	struct gom_class_stats st;

	gom_class_stats(cls, &st);
	return st;
}

GOM_STAT_RO(class, spans, "%lu", class_stats(cls).spans);
GOM_STAT_RO(class, spans_partial, "%lu", class_stats(cls).spans_partial);
GOM_STAT_RO(class, spans_full, "%lu", class_stats(cls).spans_full);
GOM_STAT_RO(class, spans_owned, "%lu", class_stats(cls).spans_owned);
GOM_STAT_RO(class, spans_min, "%lu", class_stats(cls).spans_min);
GOM_STAT_RO(class, spans_empty, "%lu", class_stats(cls).spans_empty);
GOM_STAT_RO(class, objects_total, "%lu", class_stats(cls).objects_total);
GOM_STAT_RO(class, objects_inuse, "%lu", class_stats(cls).objects_inuse);
GOM_STAT_RO(class, objects_free, "%lu", class_stats(cls).objects_free);

static ssize_t class_occupancy_show(unsigned int cls, char *buf)
{
	struct gom_class_stats st;
	unsigned int b;
	int len = 0;

	gom_class_stats(cls, &st);
	for (b = 0; b < GOM_OCC_BUCKETS; b++)
		len += sysfs_emit_at(buf, len, "%s%lu", b ? " " : "",
				     st.occupancy[b]);
	return len + sysfs_emit_at(buf, len, "\n");
}
GOM_ATTR_RO(class, occupancy);

/* The total, then " C<cpu>=<n>" for every CPU whose value is not 0. */
static ssize_t show_percpu(unsigned int cls, char *buf, enum gom_mag_stat item)
{
	unsigned long *v, sum = 0;
	unsigned int cpu;
	int len;

	v = kmalloc_array(nr_cpu_ids, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		v[cpu] = gom_mcache_stat(cpu, cls, item);
		sum += v[cpu];
	}
	len = sysfs_emit(buf, "%lu", sum);
	for_each_possible_cpu(cpu) {
		if (v[cpu])
			len += sysfs_emit_at(buf, len, " C%u=%lu", cpu, v[cpu]);
	}
	kfree(v);
	return len + sysfs_emit_at(buf, len, "\n");
}

#define CLASS_PERCPU_ATTR(_name, _item)					\
static ssize_t class_##_name##_show(unsigned int cls, char *buf)	\
{									\
	return show_percpu(cls, buf, _item);				\
}									\
GOM_ATTR_RO(class, _name)

CLASS_PERCPU_ATTR(objects_cached, MAG_CACHED);
CLASS_PERCPU_ATTR(allocs, MAG_ALLOCS);
CLASS_PERCPU_ATTR(frees, MAG_FREES);
CLASS_PERCPU_ATTR(refills, MAG_REFILLS);
CLASS_PERCPU_ATTR(flushes, MAG_FLUSHES);

static struct attribute *class_attrs[] = {
	&class_object_size_attr.attr,
	&class_span_pages_attr.attr,
	&class_objects_per_span_attr.attr,
	&class_spans_attr.attr,
	&class_spans_partial_attr.attr,
	&class_spans_full_attr.attr,
	&class_spans_owned_attr.attr,
	&class_spans_min_attr.attr,
	&class_spans_empty_attr.attr,
	&class_objects_total_attr.attr,
	&class_objects_inuse_attr.attr,
	&class_objects_free_attr.attr,
	&class_objects_cached_attr.attr,
	&class_allocs_attr.attr,
	&class_frees_attr.attr,
	&class_refills_attr.attr,
	&class_flushes_attr.attr,
	&class_occupancy_attr.attr,
	NULL
};
ATTRIBUTE_GROUPS(class);

/* The kobjects of the tree and their sysfs_ops. */

static unsigned int kobj_cls(struct kobject *kobj)
{
	return container_of(kobj, struct gom_kobj, kobj)->cls;
}

static struct gom_attr *to_gom_attr(struct attribute *attr)
{
	return container_of(attr, struct gom_attr, attr);
}

static ssize_t gom_attr_show(struct kobject *kobj, struct attribute *attr,
			     char *buf)
{
	struct gom_attr *a = to_gom_attr(attr);

	return a->show ? a->show(kobj_cls(kobj), buf) : -EIO;
}

static ssize_t gom_attr_store(struct kobject *kobj, struct attribute *attr,
			      const char *buf, size_t count)
{
	struct gom_attr *a = to_gom_attr(attr);

	return a->store ? a->store(kobj_cls(kobj), buf, count) : -EIO;
}

static const struct sysfs_ops gom_sysfs_ops = {
	.show = gom_attr_show,
	.store = gom_attr_store,
};

static void gom_kobj_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct gom_kobj, kobj));
}

static const struct kobj_type root_ktype = {
	.release = gom_kobj_release,
	.sysfs_ops = &gom_sysfs_ops,
	.default_groups = root_groups,
};

static const struct kobj_type dir_ktype = {
	.release = gom_kobj_release,
	.sysfs_ops = &gom_sysfs_ops,
};

static const struct kobj_type class_ktype = {
	.release = gom_kobj_release,
	.sysfs_ops = &gom_sysfs_ops,
	.default_groups = class_groups,
};

static struct kobject *gom_kobj_add(const struct kobj_type *type,
				    struct kobject *parent, unsigned int cls,
				    const char *name)
{
	struct gom_kobj *gk = kzalloc(sizeof(*gk), GFP_KERNEL);
	int ret;

	if (!gk)
		return ERR_PTR(-ENOMEM);
	gk->cls = cls;
	ret = kobject_init_and_add(&gk->kobj, type, parent, "%s", name);
	if (ret) {
		kobject_put(&gk->kobj);
		return ERR_PTR(ret);
	}
	return &gk->kobj;
}

static int classes_add(void)
{
	struct kobject *kobj;
	unsigned int cls;
	char name[16];

	kobj = gom_kobj_add(&dir_ktype, gom_root, 0, "classes");
	if (IS_ERR(kobj))
		return PTR_ERR(kobj);
	gom_classes_dir = kobj;
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		snprintf(name, sizeof(name), "%u", gom_classes[cls].size);
		kobj = gom_kobj_add(&class_ktype, gom_classes_dir, cls, name);
		if (IS_ERR(kobj))
			return PTR_ERR(kobj);
		gom_class_kobj[cls] = kobj;
	}
	return 0;
}

/* debugfs: every class in one table, as zsmalloc's classes file. */

static void table_row(struct seq_file *m, const char *name, const char *size,
		      const char *pages, const struct gom_class_stats *st)
{
	unsigned int b;

	seq_printf(m, "%6s %6s %5s %7lu %7lu %7lu %9lu %9lu %7lu %12lu %12lu",
		   name, size, pages, st->spans, st->spans_partial,
		   st->spans_full, st->objects_inuse, st->objects_free,
		   st->objects_cached, st->allocs, st->frees);
	for (b = 0; b < GOM_OCC_BUCKETS; b++)
		seq_printf(m, " %5lu", st->occupancy[b]);
	seq_putc(m, '\n');
}

static void table_add(struct gom_class_stats *sum,
		      const struct gom_class_stats *st)
{
	unsigned int b;

	sum->spans += st->spans;
	sum->spans_partial += st->spans_partial;
	sum->spans_full += st->spans_full;
	sum->objects_inuse += st->objects_inuse;
	sum->objects_free += st->objects_free;
	sum->objects_cached += st->objects_cached;
	sum->allocs += st->allocs;
	sum->frees += st->frees;
	for (b = 0; b < GOM_OCC_BUCKETS; b++)
		sum->occupancy[b] += st->occupancy[b];
}

static int classes_table_show(struct seq_file *m, void *unused)
{
	struct gom_class_stats st, sum = { 0 };
	char name[12], size[12], pages[12];
	unsigned int cls, b;

	seq_printf(m, "%6s %6s %5s %7s %7s %7s %9s %9s %7s %12s %12s",
		   "class", "size", "pages", "spans", "partial", "full",
		   "inuse", "free", "cached", "allocs", "frees");
	for (b = 0; b < GOM_OCC_BUCKETS; b++)
		seq_printf(m, " %4u%%", b * 100 / GOM_OCC_BUCKETS);
	seq_putc(m, '\n');
	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		gom_class_stats(cls, &st);
		table_add(&sum, &st);
		snprintf(name, sizeof(name), "%u", cls);
		snprintf(size, sizeof(size), "%u", gom_classes[cls].size);
		snprintf(pages, sizeof(pages), "%u", gom_classes[cls].npages);
		table_row(m, name, size, pages, &st);
	}
	table_row(m, "Total", "", "", &sum);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(classes_table);

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * One row of span_ages: the sorted ages of @n spans of class @cls and
 * the lifetime of its sampled objects. Class 0 is the page runs, which
 * have no spans. No row for a class with neither.
 */
static void ages_row(struct seq_file *m, unsigned int cls, u32 *ages,
		     unsigned int n)
{
	unsigned long frees;
	u64 life = gom_profile_lifetime(cls, &frees);

	if (!n && !frees)
		return;
	seq_printf(m, "%6u %6u %7u", cls, gom_classes[cls].size, n);
	if (n)
		seq_printf(m, " %12u %12u %12u", ages[0], ages[n / 2],
			   ages[n - 1]);
	else
		seq_printf(m, " %12s %12s %12s", "-", "-", "-");
	seq_printf(m, " %12lu %10lu\n", (unsigned long)life, frees);
}

/* The ages of class @cls's spans, owned by a CPU or not, sorted. */
static unsigned int class_ages(unsigned int cls, u32 *ages, unsigned int max)
{
	unsigned int n = gom_mcentral_span_ages(cls, ages, max);

	n += gom_mcache_span_ages(cls, ages + n, max - n);
	sort(ages, n, sizeof(*ages), cmp_u32, NULL);
	return n;
}

/*
 * span_ages: per class, how old its live spans are and how long its
 * sampled objects lived (what golang/go#11890 asks for).
 */
static int span_ages_show(struct seq_file *m, void *unused)
{
	struct gom_class_stats st;
	unsigned int cls, max = 0;
	u32 *ages;

	for (cls = 1; cls < GOM_NR_CLASSES; cls++) {
		gom_class_stats(cls, &st);
		max = max_t(unsigned int, max, st.spans);
	}
	max += 64;	/* spans carved while this runs are left out */
	ages = kvmalloc_array(max, sizeof(*ages), GFP_KERNEL);
	if (!ages)
		return -ENOMEM;
	seq_printf(m, "%6s %6s %7s %12s %12s %12s %12s %10s\n", "class",
		   "size", "spans", "age_min_ms", "age_med_ms", "age_max_ms",
		   "life_avg_ms", "sampled");
	for (cls = 1; cls < GOM_NR_CLASSES; cls++)
		ages_row(m, cls, ages, class_ages(cls, ages, max));
	ages_row(m, 0, ages, 0);
	kvfree(ages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(span_ages);

static void debugfs_add(void)
{
	gom_debugfs = debugfs_create_dir("gomalloc", NULL);
	debugfs_create_file("classes", 0444, gom_debugfs, NULL,
			    &classes_table_fops);
	debugfs_create_file("span_ages", 0444, gom_debugfs, NULL,
			    &span_ages_fops);
	gom_debug_debugfs(gom_debugfs);
	gom_profile_debugfs(gom_debugfs);
}

/**
 * gom_sysfs_exit() - remove /sys/kernel/gomalloc and the debugfs files
 *
 * Waits for readers and writers of the files to finish. Safe on a tree
 * that gom_sysfs_init() built only in part.
 *
 * Context: process context (module exit or failed init).
 */
void gom_sysfs_exit(void)
{
	unsigned int cls;

	debugfs_remove_recursive(gom_debugfs);
	gom_debugfs = NULL;
	gom_profile_sysfs_exit();
	for (cls = GOM_NR_CLASSES - 1; cls > 0; cls--) {
		kobject_put(gom_class_kobj[cls]);
		gom_class_kobj[cls] = NULL;
	}
	kobject_put(gom_classes_dir);
	gom_classes_dir = NULL;
	kobject_put(gom_root);
	gom_root = NULL;
}

/**
 * gom_sysfs_init() - create /sys/kernel/gomalloc and the debugfs files
 *
 * A debugfs failure (debugfs absent or not mounted) is ignored; the
 * statistics stay in sysfs.
 *
 * Context: process context (module init), after the heaps, mcentrals and
 * magazines are set up.
 * Return: 0, or a negative errno with nothing left behind.
 */
int gom_sysfs_init(void)
{
	int ret;

	gom_root = gom_kobj_add(&root_ktype, kernel_kobj, 0, "gomalloc");
	if (IS_ERR(gom_root)) {
		ret = PTR_ERR(gom_root);
		gom_root = NULL;
		return ret;
	}
	ret = classes_add();
	if (!ret)
		ret = gom_profile_sysfs(gom_root);
	if (ret) {
		gom_sysfs_exit();
		return ret;
	}
	debugfs_add();
	return 0;
}
