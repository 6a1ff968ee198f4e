/* What phonebindctl prints: aligned tables and key/value text for people,
 * JSON for scripts. Pure functions of records to text. */
#pragma once

#include "records.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* How Ids are shown: tables and monitor lines shorten them unless told
 * otherwise; info and JSON show them whole unless --short. */
enum ctl_ids {
  CTL_IDS_AUTO,
  CTL_IDS_SHORT,
  CTL_IDS_FULL,
};

struct ctl_format {
  bool json;
  bool redact; /* mask serials and the account but their last 4 characters */
  bool color;  /* SGR colours in text output (a terminal, NO_COLOR unset) */
  enum ctl_ids ids;
};

/* The colour a decision is shown in, or NULL. */
const char *ctl_decision_color(const char *decision);
/* The colour of the account's state (AccountState) in status, or NULL. */
const char *ctl_account_state_color(const char *state);

/* JSON of one terminal (new reference); id_len shortens the Id, 0 keeps it. */
json_t *ctl_terminal_json(const struct ctl_terminal *terminal, const struct ctl_format *format,
                          size_t id_len);

/* list: a table, or a JSON array. */
void ctl_print_list(FILE *out, const struct ctl_terminal *terminals, size_t count,
                    const struct ctl_format *format);
/* info: "Key: value" lines, or a JSON object. */
void ctl_print_info(FILE *out, const struct ctl_terminal *terminal,
                    const struct ctl_format *format);
/* status: running or not, and what the daemon says of itself. */
void ctl_print_status(FILE *out, const struct ctl_status *status, const struct ctl_format *format);
/* monitor: one line per event, text or a compact JSON object. */
void ctl_print_event(FILE *out, const struct ctl_event *event, const struct ctl_format *format);
