/* Aligned text tables for people: columns as wide as their widest cell,
 * cells neutralised (text.h), colour only when the caller asks for it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ctl_table;

struct ctl_table *ctl_table_new(size_t columns, const char *const *headers);
/* Copies the cells; colors (may be NULL, or hold NULLs) are SGR sequences
 * such as "\033[32m" put around a cell when printing in colour. */
void ctl_table_add_row(struct ctl_table *table, const char *const *cells,
                       const char *const *colors);
void ctl_table_print(const struct ctl_table *table, FILE *out, bool color);
void ctl_table_free(struct ctl_table *table);
