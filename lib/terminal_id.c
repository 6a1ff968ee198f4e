/* Identifier rules; see terminal_id.h and DESIGN.md. */
#include "terminal_id.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Serials that cheap phones share; compared without case. Runs of one
 * character and ascending digit runs are caught by rule, not listed. */
static const char *const placeholder_serials[] = {
  "unknown", "none",    "null", "n/a",    "na",     "serial",   "serialno",
  "default", "android", "0x0",  "(null)", "123456", "12345678", "123456789",
};

/* Ascending "counting" sequences that firmware uses as a dummy serial:
 * any run of six or more of their characters is taken for a placeholder. */
static const char *const counting_sequences[] = {
  "0123456789ABCDEF",
  "1234567890ABCDEF",
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
};

static void trim(const char *s, const char **out_start, size_t *out_len)
{
  size_t len;

  while (*s == ' ' || *s == '\t')
    s++;
  len = strlen(s);
  while (len > 0 &&
         (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
    len--;
  *out_start = s;
  *out_len = len;
}

static bool is_one_character(const char *s, size_t len)
{
  for (size_t i = 1; i < len; i++)
    if (toupper((unsigned char)s[i]) != toupper((unsigned char)s[0]))
      return false;
  return true;
}

static bool is_counting_run(const char *s, size_t len)
{
  char upper[TERMINAL_SERIAL_MAX + 1];

  if (len < 6 || len > TERMINAL_SERIAL_MAX)
    return false;
  for (size_t i = 0; i < len; i++)
    upper[i] = (char)toupper((unsigned char)s[i]);
  upper[len] = '\0';
  for (size_t i = 0; i < sizeof counting_sequences / sizeof *counting_sequences; i++)
    if (strstr(counting_sequences[i], upper))
      return true;
  return false;
}

static bool is_placeholder(const char *s, size_t len)
{
  if (len == 0 || is_one_character(s, len) || is_counting_run(s, len))
    return true;
  for (size_t i = 0; i < sizeof placeholder_serials / sizeof *placeholder_serials; i++)
    if (strlen(placeholder_serials[i]) == len && strncasecmp(s, placeholder_serials[i], len) == 0)
      return true;
  return false;
}

/* A serial already trimmed, len bytes (not NUL-terminated). */
static bool is_usable(const char *s, size_t len)
{
  if (len > TERMINAL_SERIAL_MAX)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c > 0x7e || c == ',')
      return false;
  }
  return !is_placeholder(s, len);
}

bool terminal_serial_is_usable(const char *serial)
{
  const char *s;
  size_t len;

  if (!serial)
    return false;
  trim(serial, &s, &len);
  return is_usable(s, len);
}

/* len bytes (not NUL-terminated): 15 digits, Luhn, not all one digit. */
static bool is_imei(const char *imei, size_t len)
{
  int sum = 0;

  if (len != 15)
    return false;
  for (int i = 0; i < 15; i++) {
    int digit;
    if (!isdigit((unsigned char)imei[i]))
      return false;
    digit = imei[i] - '0';
    /* Luhn: double every second digit counting from the right, the check
     * digit itself (position 14) undoubled. */
    if (i % 2 == 1) {
      digit *= 2;
      if (digit > 9)
        digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 == 0 && !is_one_character(imei, 15);
}

bool terminal_imei_is_valid(const char *imei)
{
  return imei && is_imei(imei, strlen(imei));
}

static bool vendor_is_valid(const char *vendor)
{
  if (!vendor || strlen(vendor) != 4)
    return false;
  for (int i = 0; i < 4; i++)
    if (!isxdigit((unsigned char)vendor[i]))
      return false;
  return true;
}

/* Apple writes a 24-character UDID as XXXXXXXX-XXXXXXXXXXXXXXXX while the USB
 * serial carries it without the hyphen; use the form people see. */
static bool format_apple_udid(const char *s, size_t len, char *out, size_t out_size)
{
  if (len != 24 || out_size < 26)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isxdigit((unsigned char)s[i]))
      return false;
  for (size_t i = 0, o = 0; i < len; i++) {
    if (i == 8)
      out[o++] = '-';
    out[o++] = (char)toupper((unsigned char)s[i]);
    out[o] = '\0';
  }
  return true;
}

static enum terminal_id_kind choose_usb(const char *vendor, const char *serial, char *out,
                                        size_t out_size)
{
  char vendor_lower[5], udid[26];
  const char *s;
  size_t len;
  int n;

  for (int i = 0; i < 5; i++)
    vendor_lower[i] = (char)tolower((unsigned char)vendor[i]);
  trim(serial, &s, &len);
  if (strcmp(vendor_lower, "05ac") == 0 && format_apple_udid(s, len, udid, sizeof udid)) {
    s = udid;
    len = strlen(udid);
  }
  n = snprintf(out, out_size, "usb:%s:%.*s", vendor_lower, (int)len, s);
  if (n < 0 || (size_t)n >= out_size)
    return TERMINAL_ID_NONE;
  return TERMINAL_ID_USB;
}

static enum terminal_id_kind choose_imei(const char *imei, char *out, size_t out_size)
{
  int n = snprintf(out, out_size, "imei:%s", imei);

  return n > 0 && (size_t)n < out_size ? TERMINAL_ID_IMEI : TERMINAL_ID_NONE;
}

enum terminal_id_kind terminal_id_choose(enum terminal_id_rule rule, const char *vendor,
                                         const char *serial, const char *imei, char *out,
                                         size_t out_size)
{
  enum terminal_id_kind kind = TERMINAL_ID_NONE;

  if (out_size > 0)
    out[0] = '\0';
  if (rule == TERMINAL_ID_RULE_SERIAL && vendor_is_valid(vendor) &&
      terminal_serial_is_usable(serial))
    kind = choose_usb(vendor, serial, out, out_size);
  else if (terminal_imei_is_valid(imei))
    kind = choose_imei(imei, out, out_size);
  if (kind == TERMINAL_ID_NONE && out_size > 0)
    out[0] = '\0';
  return kind;
}

/* "<4 lowercase hex>:<serial>", the serial as choose_usb() writes it:
 * trimmed (so no space at either end) and usable. */
static bool is_usb_rest(const char *s, size_t len)
{
  const char *serial = s + 5;
  size_t serial_len = len - 5;

  if (len < 6 || s[4] != ':')
    return false;
  for (int i = 0; i < 4; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  if (serial[0] == ' ' || serial[serial_len - 1] == ' ')
    return false;
  return is_usable(serial, serial_len);
}

bool terminal_id_is_acceptable(const char *id, size_t len)
{
  if (len > TERMINAL_ID_MAX || memchr(id, '\0', len))
    return false;
  if (len > 4 && memcmp(id, "usb:", 4) == 0)
    return is_usb_rest(id + 4, len - 4);
  if (len > 5 && memcmp(id, "imei:", 5) == 0)
    return is_imei(id + 5, len - 5);
  return false;
}

int terminal_id_rule_from_name(const char *name, enum terminal_id_rule *out_rule)
{
  if (strcmp(name, "serial") == 0)
    *out_rule = TERMINAL_ID_RULE_SERIAL;
  else if (strcmp(name, "imei") == 0)
    *out_rule = TERMINAL_ID_RULE_IMEI;
  else
    return -EINVAL;
  return 0;
}
