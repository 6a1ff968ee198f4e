/* Terminal identifiers: the one name a phone has on every PC (DESIGN.md,
 * "Terminal identifiers"). Pure functions over strings, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Longest identifier the daemon or the registry accepts, in bytes. */
#define TERMINAL_ID_MAX 256
/* Longest usable USB serial, in bytes. */
#define TERMINAL_SERIAL_MAX 126
/* "usb:" + 4 + ":" + serial + NUL */
#define TERMINAL_ID_BUF (TERMINAL_SERIAL_MAX + 16)

enum terminal_id_rule {
  TERMINAL_ID_RULE_SERIAL, /* USB serial first, IMEI as fallback (default) */
  TERMINAL_ID_RULE_IMEI,   /* the seed's embodiment: IMEI only */
};

enum terminal_id_kind {
  TERMINAL_ID_NONE, /* unidentified: never bound */
  TERMINAL_ID_USB,
  TERMINAL_ID_IMEI,
};

/* True for a serial that names one device: printable ASCII without commas,
 * at most TERMINAL_SERIAL_MAX bytes once trimmed, and not a placeholder that
 * many devices share. */
bool terminal_serial_is_usable(const char *serial);

/* True for 15 decimal digits whose Luhn check digit is right. */
bool terminal_imei_is_valid(const char *imei);

/* Chooses the identifier by rule from what is known of a phone. vendor is
 * the 4-hex-digit USB vendor id; serial and imei may be NULL. Writes the
 * normalised identifier to out (TERMINAL_ID_BUF bytes) and returns its
 * kind; TERMINAL_ID_NONE leaves out empty. */
enum terminal_id_kind terminal_id_choose(enum terminal_id_rule rule, const char *vendor,
                                         const char *serial, const char *imei, char *out,
                                         size_t out_size);

/* True for an identifier of the contract's grammar, the only ones the
 * registry accepts and the only ones terminal_id_choose() writes:
 * "usb:<4 lowercase hex>:<serial>" (a usable serial as trimmed, so
 * neither end is a space) or "imei:<15 digits, Luhn>". len bytes, which
 * may hold a NUL (then false). */
bool terminal_id_is_acceptable(const char *id, size_t len);

/* Parses "serial" or "imei" (configuration); 0 or -EINVAL. */
int terminal_id_rule_from_name(const char *name, enum terminal_id_rule *out_rule);
