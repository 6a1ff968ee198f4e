/* What phonebindctl prints: tables for people, JSON for scripts. Pure:
 * functions of data to text, tested by cases. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ctl_terminal {
  char *path, *id, *vendor, *model, *serial, *decision, *reason;
  bool attached;
  uint64_t first_seen, last_seen;
};

struct ctl_format {
  bool json;   /* JSON instead of text */
  bool full;   /* whole Ids in tables */
  bool redact; /* mask serials */
};

void ctl_terminal_clear(struct ctl_terminal *terminal);

/* "R58M41ABCDE" → "*******BCDE"; four characters or fewer: all masked. */
char *ctl_redact(const char *serial);
/* The Id as shown: first 8 characters unless full. */
char *ctl_short_id(const char *id, bool full);

/* Which of the terminals a user's TERMINAL names: an exact Id or object
 * path, else a unique Id prefix. Returns the index, -1 when none, -2 when
 * the prefix is ambiguous. */
int ctl_match_terminal(const struct ctl_terminal *terminals, int count, const char *wanted);

void ctl_print_table(FILE *out, const struct ctl_terminal *terminals, int count,
                     const struct ctl_format *format);
void ctl_print_info(FILE *out, const struct ctl_terminal *terminal, const struct ctl_format *format);
/* JSON of one terminal (new reference). */
json_t *ctl_terminal_json(const struct ctl_terminal *terminal, const struct ctl_format *format);
