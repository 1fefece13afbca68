// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc_sample - a client module of gomalloc's public API.
 *
 * At load it builds a small linked list of records with gom_alloc() and
 * gom_zalloc(), takes a run of pages, allocates a bulk batch and works in a
 * gom_stack frame. The list, the page run and half of the batch stay
 * allocated while the module is loaded, so that gomalloc's statistics
 * (/sys/kernel/gomalloc, scripts/gomstat) have something to show, and
 * gomalloc itself cannot be unloaded under them. Everything is checked and
 * freed at unload. The allocating helpers are not inlined into the __init
 * function, whose text is freed after load: heap profiles and tracepoints
 * name them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/module.h>
#include <linux/string.h>
#include <gomalloc.h>

#define SAMPLE_RECORDS		32
#define SAMPLE_RUN_PAGES	4
#define SAMPLE_BULK		16
#define SAMPLE_BULK_SIZE	192

/**
 * struct sample_record - one entry of the sample's list
 * @node: link in sample_records
 * @id: position in the list
 * @value: a value derived from @id, checked at unload
 * @name: a short label
 */
struct sample_record {
	struct list_head node;
	u32 id;
	u64 value;
	char name[24];
};

static LIST_HEAD(sample_records);
static unsigned long *sample_run;
static void *sample_bulk[SAMPLE_BULK];

static u64 record_value(u32 id)
{
	return (u64)id * 0x9e3779b97f4a7c15ULL;
}

static void records_free(void)
{
	struct sample_record *r, *tmp;

	list_for_each_entry_safe(r, tmp, &sample_records, node) {
		list_del(&r->node);
		gom_free(r);
	}
}

/* Odd records come from gom_zalloc(), which must hand them out cleared. */
static noinline int records_build(void)
{
	struct sample_record *r;
	u32 i;

	for (i = 0; i < SAMPLE_RECORDS; i++) {
		if (i & 1) {
			r = gom_zalloc(sizeof(*r), GFP_KERNEL);
			if (r && memchr_inv(r, 0, sizeof(*r))) {
				pr_err("gom_zalloc() returned dirty memory\n");
				gom_free(r);
				return -EIO;
			}
		} else {
			r = gom_alloc(sizeof(*r), GFP_KERNEL);
		}
		if (!r)
			return -ENOMEM;
		r->id = i;
		r->value = record_value(i);
		snprintf(r->name, sizeof(r->name), "record-%u", i);
		list_add_tail(&r->node, &sample_records);
	}
	return 0;
}

static unsigned int records_check(void)
{
	struct sample_record *r;
	unsigned int bad = 0;
	char name[24];
	u32 i = 0;

	list_for_each_entry(r, &sample_records, node) {
		snprintf(name, sizeof(name), "record-%u", i);
		if (r->id != i || r->value != record_value(i) ||
		    strcmp(r->name, name))
			bad++;
		i++;
	}
	return bad + (i != SAMPLE_RECORDS);
}

static size_t run_words(void)
{
	return SAMPLE_RUN_PAGES * PAGE_SIZE / sizeof(unsigned long);
}

static bool run_check(void)
{
	size_t i;

	for (i = 0; i < run_words(); i++)
		if (sample_run[i] != ~i)
			return false;
	return true;
}

/* A bulk batch: all of it written, the second half freed right away. */
static noinline int bulk_take(void)
{
	unsigned int i;

	if (gom_alloc_bulk(SAMPLE_BULK_SIZE, GFP_KERNEL, SAMPLE_BULK,
			   sample_bulk) != SAMPLE_BULK)
		return -ENOMEM;
	for (i = 0; i < SAMPLE_BULK; i++)
		memset(sample_bulk[i], i, SAMPLE_BULK_SIZE);
	gom_free_bulk(SAMPLE_BULK / 2, sample_bulk + SAMPLE_BULK / 2);
	memset(sample_bulk + SAMPLE_BULK / 2, 0,
	       sizeof(sample_bulk) / 2);
	return 0;
}

/* Scratch memory in a frame: released by GOM_FRAME at the end of scope. */
static noinline int frame_work(void)
{
	struct gom_stack *stack = gom_stack_create(16 * PAGE_SIZE, GFP_KERNEL);
	int ret = 0;

	if (!stack)
		return -ENOMEM;
	{
		GOM_FRAME(stack);
		u32 *scratch = gom_frame_alloc(stack, 64 * sizeof(u32),
					       GFP_KERNEL | __GFP_ZERO);
		u32 i, sum = 0;

		if (!scratch) {
			ret = -ENOMEM;
		} else {
			for (i = 0; i < 64; i++)
				scratch[i] = i;
			for (i = 0; i < 64; i++)
				sum += scratch[i];
			if (sum != 64 * 63 / 2)
				ret = -EIO;
		}
	}
	gom_stack_destroy(stack);
	return ret;
}

static int __init gomalloc_sample_init(void)
{
	size_t i;
	int ret;

	ret = records_build();
	if (ret)
		goto free_records;
	sample_run = gom_alloc_pages(SAMPLE_RUN_PAGES, GFP_KERNEL);
	if (!sample_run) {
		ret = -ENOMEM;
		goto free_records;
	}
	for (i = 0; i < run_words(); i++)
		sample_run[i] = ~i;
	ret = bulk_take();
	if (ret)
		goto free_run;
	ret = frame_work();
	if (ret)
		goto free_bulk;
	pr_info("loaded: %d records of %zu bytes (usable %zu), a %d-page run, %d of %d bulk objects kept, frame ok\n",
		SAMPLE_RECORDS, sizeof(struct sample_record),
		gom_usable_size(list_first_entry(&sample_records,
						 struct sample_record, node)),
		SAMPLE_RUN_PAGES, SAMPLE_BULK / 2, SAMPLE_BULK);
	return 0;

free_bulk:
	gom_free_bulk(SAMPLE_BULK / 2, sample_bulk);
free_run:
	gom_free_pages(sample_run);
free_records:
	records_free();
	pr_err("load failed: %d\n", ret);
	return ret;
}

static void __exit gomalloc_sample_exit(void)
{
	unsigned int bad = records_check(), i, j;
	bool run_ok = run_check();
	u8 *b;

	for (i = 0; i < SAMPLE_BULK / 2; i++) {
		b = sample_bulk[i];
		for (j = 0; j < SAMPLE_BULK_SIZE; j++)
			if (b[j] != (u8)i)
				bad++;
	}
	gom_free_bulk(SAMPLE_BULK / 2, sample_bulk);
	gom_free_pages(sample_run);
	records_free();
	if (bad || !run_ok)
		pr_err("unloaded: %u corrupt records or objects, page run %s\n",
		       bad, run_ok ? "intact" : "corrupt");
	else
		pr_info("unloaded: all allocations intact and freed\n");
}

module_init(gomalloc_sample_init);
module_exit(gomalloc_sample_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample client of the gomalloc allocator");
