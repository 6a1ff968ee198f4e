/* Aligned tables; see table.h. Two spaces between columns, no trailing
 * blanks, an empty cell shown as "-" so columns stay countable by awk. */
#include "table.h"

#include "text.h"
#include "untrusted_text.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define SGR_RESET "\033[0m"
#define SGR_BOLD "\033[1m"

struct ctl_table {
  size_t columns, lines; /* lines: the header and the rows */
  char **cells;          /* lines by columns */
  const char **colors;   /* likewise; borrowed static strings */
};

static void table_append(struct ctl_table *table, const char *const *cells,
                         const char *const *colors)
{
  size_t base = table->lines * table->columns;

  table->cells = xrealloc(table->cells, (base + table->columns) * sizeof *table->cells);
  table->colors = xrealloc(table->colors, (base + table->columns) * sizeof *table->colors);
  for (size_t c = 0; c < table->columns; c++) {
    table->cells[base + c] = text_sanitize(cells[c] && *cells[c] ? cells[c] : "-");
    table->colors[base + c] = colors ? colors[c] : NULL;
  }
  table->lines++;
}

struct ctl_table *ctl_table_new(size_t columns, const char *const *headers)
{
  struct ctl_table *table = xcalloc(1, sizeof *table);

  table->columns = columns;
  table_append(table, headers, NULL);
  return table;
}

void ctl_table_add_row(struct ctl_table *table, const char *const *cells, const char *const *colors)
{
  table_append(table, cells, colors);
}

void ctl_table_print(const struct ctl_table *table, FILE *out, bool color)
{
  size_t *widths = xcalloc(table->columns, sizeof *widths);

  for (size_t i = 0; i < table->lines * table->columns; i++) {
    size_t w = ctl_text_width(table->cells[i]);
    if (w > widths[i % table->columns])
      widths[i % table->columns] = w;
  }
  for (size_t r = 0; r < table->lines; r++) {
    for (size_t c = 0; c < table->columns; c++) {
      const char *cell = table->cells[r * table->columns + c];
      const char *sgr = r == 0 ? SGR_BOLD : table->colors[r * table->columns + c];
      bool last = c + 1 == table->columns;

      if (color && sgr)
        fprintf(out, "%s%s%s", sgr, cell, SGR_RESET);
      else
        fputs(cell, out);
      if (!last)
        fprintf(out, "%*s", (int)(widths[c] - ctl_text_width(cell) + 2), "");
    }
    fputc('\n', out);
  }
  free(widths);
}

void ctl_table_free(struct ctl_table *table)
{
  if (!table)
    return;
  for (size_t i = 0; i < table->lines * table->columns; i++)
    free(table->cells[i]);
  free(table->cells);
  free(table->colors);
  free(table);
}
