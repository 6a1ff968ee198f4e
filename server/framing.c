/* Request framing checks; see framing.h. */
#include "framing.h"

#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar: what a header name may be made of. */
static bool is_token(const char *s)
{
  static const char extra[] = "!#$%&'*+-.^_`|~";

  if (*s == '\0')
    return false;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && !strchr(extra, c))
      return false;
  }
  return true;
}

/* At most 18 digits: below 2^63, so no parser overflows it differently. */
static bool is_length(const char *s)
{
  size_t n = strspn(s, "0123456789");

  return n > 0 && n <= 18 && s[n] == '\0';
}

enum framing_verdict framing_check(const struct evkeyvalq *headers)
{
  const struct evkeyval *header;
  int lengths = 0, transfers = 0;

  for (header = headers->tqh_first; header; header = header->next.tqe_next) {
    if (!is_token(header->key))
      return FRAMING_BAD_NAME;
    if (strcasecmp(header->key, "Content-Length") == 0) {
      if (++lengths > 1)
        return FRAMING_DUPLICATE_LENGTH;
      if (!is_length(header->value))
        return FRAMING_BAD_LENGTH;
    } else if (strcasecmp(header->key, "Transfer-Encoding") == 0) {
      if (++transfers > 1 || strcasecmp(header->value, "chunked") != 0)
        return FRAMING_BAD_TRANSFER;
    }
  }
  return lengths && transfers ? FRAMING_LENGTH_AND_TRANSFER : FRAMING_OK;
}

const char *framing_explain(enum framing_verdict verdict)
{
  switch (verdict) {
  case FRAMING_OK:
    return "ok";
  case FRAMING_BAD_NAME:
    return "a header name is not a token";
  case FRAMING_DUPLICATE_LENGTH:
    return "Content-Length appears more than once";
  case FRAMING_BAD_LENGTH:
    return "Content-Length must be decimal digits";
  case FRAMING_LENGTH_AND_TRANSFER:
    return "Content-Length and Transfer-Encoding together";
  case FRAMING_BAD_TRANSFER:
    return "Transfer-Encoding must appear once and be chunked";
  }
  return "malformed framing";
}
