// SPDX-License-Identifier: GPL-2.0
/*
 * gomalloc statistics in /sys/kernel/gomalloc (placeholder while the full
 * attribute set is written).
 */
#include <linux/kobject.h>
#include "internal.h"

static struct kobject *gom_kobj;

int gom_sysfs_init(void)
{
	gom_kobj = kobject_create_and_add("gomalloc", kernel_kobj);
	return gom_kobj ? 0 : -ENOMEM;
}

void gom_sysfs_exit(void)
{
	kobject_put(gom_kobj);
}
