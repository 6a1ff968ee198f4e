/* Identification: what is known of a phone, and the one terminal
 * identifier DESIGN.md's rule chooses from it. Pure: udev_watch.c reads
 * the device, this decides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "terminal_id.h"

/* What the daemon shows about a phone; strings owned, never an IMEI. */
struct phone_info {
  char *vendor_id;  /* "18d1" */
  char *product_id; /* changes with the USB mode: shown, never a key */
  char *vendor;     /* "Google" */
  char *model;      /* "Pixel 7" */
  char *serial;     /* the USB serial as reported, may be "" */
  char *devnode, *busnum, *devnum;
};

void phone_info_copy(const struct phone_info *from, struct phone_info *out_info);
void phone_info_clear(struct phone_info *info);
/* The same attachment of the same device: what a rescan or a duplicate
 * event reports again. Another devnum means it was plugged in again. */
bool phone_info_same_attachment(const struct phone_info *a, const struct phone_info *b);

/* True when the rule needs the identity helper's IMEI for this phone. */
bool identify_needs_imei(enum terminal_id_rule rule, const struct phone_info *info);

/* The identifier (out: TERMINAL_ID_BUF bytes) by rule; imei may be NULL. */
enum terminal_id_kind identify_choose(enum terminal_id_rule rule, const struct phone_info *info,
                                      const char *imei, char *out, size_t out_size);
