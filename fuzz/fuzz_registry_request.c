/* A request's headers and body as the registry reads them: framing
 * (server/framing.c), Phonebind-Seq, the Bearer token and the JSON body
 * (server/request.c). The first byte's low bit says whether the body must
 * be a JSON object (POST /v1/accounts); header lines follow, parsed the
 * way evhttp does (a key up to ':', the value without leading spaces or
 * trailing white space, a line starting with a space or tab folded into
 * the one before), up to an empty line; the rest is the body. Checked
 * against plain reference readings written here: the framing verdict
 * (OK exactly when no header name is malformed, Content-Length appears at
 * most once as 1 to 18 digits, Transfer-Encoding at most once as
 * "chunked", and not both); a Phonebind-Seq taken only when given once,
 * and equal to its digits; the token the first Authorization header's
 * rest after "Bearer "; a body passed only within the limit, and then an
 * object when one is required (serialised and read again the same). */
#include "fuzz_input.h"

#include "framing.h"
#include "request.h"

#include <ctype.h>
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <strings.h>
#include <sys/queue.h>

#define MAX_BODY 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rtrim(char *s)
{
  size_t n = strlen(s);

  while (n > 0 && strchr(" \t\r\n", s[n - 1]))
    s[--n] = '\0';
}

/* evhttp's evhttp_append_to_last_header(): one space, then the line. */
static int fold(struct evkeyvalq *headers, const char *line)
{
  struct evkeyval *last = TAILQ_LAST(headers, evkeyvalq);
  size_t old, add;
  char *value;

  if (!last)
    return -1;
  line += strspn(line, " \t");
  old = strlen(last->value);
  add = strlen(line);
  value = realloc(last->value, old + add + 2);
  if (!value)
    abort();
  value[old] = ' ';
  memcpy(value + old + 1, line, add + 1);
  last->value = value;
  return 0;
}

/* The header block as evhttp_parse_headers_() reads it; -1 where evhttp
 * would refuse the request itself. *cursor is left at the body. */
static int parse_headers(char **cursor, const char *end, struct evkeyvalq *headers)
{
  while (*cursor < end) {
    char *line = *cursor, *newline = memchr(line, '\n', (size_t)(end - line)), *value;
    if (!newline)
      return -1; /* evhttp waits for the rest */
    *newline = '\0';
    *cursor = newline + 1;
    if (newline > line && newline[-1] == '\r')
      newline[-1] = '\0';
    if (*line == '\0')
      return 0;
    if (*line == ' ' || *line == '\t') {
      rtrim(line);
      if (fold(headers, line) < 0)
        return -1;
      continue;
    }
    value = strchr(line, ':');
    if (!value)
      return -1;
    *value++ = '\0';
    value += strspn(value, " ");
    rtrim(value);
    if (evhttp_add_header(headers, line, value) < 0)
      return -1;
  }
  return -1;
}

static bool ref_token(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
      return false;
  return true;
}

static bool ref_digits(const char *s, size_t max)
{
  size_t n = 0;

  while (s[n] >= '0' && s[n] <= '9')
    n++;
  return n >= 1 && n <= max && s[n] == '\0';
}

static enum framing_verdict ref_framing(const struct evkeyvalq *headers)
{
  const struct evkeyval *h;
  bool bad_name = false, bad_length = false, bad_transfer = false;
  int lengths = 0, transfers = 0;

  TAILQ_FOREACH(h, headers, next)
  {
    bad_name |= !ref_token(h->key);
    if (!strcasecmp(h->key, "Content-Length")) {
      lengths++;
      bad_length |= !ref_digits(h->value, 18);
    } else if (!strcasecmp(h->key, "Transfer-Encoding")) {
      transfers++;
      bad_transfer |= strcasecmp(h->value, "chunked") != 0;
    }
  }
  if (!bad_name && !bad_length && !bad_transfer && lengths <= 1 && transfers <= 1)
    return lengths && transfers ? FRAMING_LENGTH_AND_TRANSFER : FRAMING_OK;
  return FRAMING_BAD_NAME; /* some refusal: which one depends on the order */
}

static void check_framing(const struct evkeyvalq *headers)
{
  enum framing_verdict got = framing_check(headers), want = ref_framing(headers);

  if ((got == FRAMING_OK) != (want == FRAMING_OK) ||
      (want == FRAMING_LENGTH_AND_TRANSFER && got != want))
    abort();
  if (!framing_explain(got))
    abort();
}

static void check_seq(const struct evkeyvalq *headers)
{
  const struct evkeyval *h, *only = NULL;
  int count = 0, r;
  uint64_t seq;
  char printed[32];
  const char *digits;

  TAILQ_FOREACH(h, headers, next)
  {
    if (!strcasecmp(h->key, "Phonebind-Seq")) {
      count++;
      only = h;
    }
  }
  r = request_seq(headers, &seq);
  if (r == 0 && (count != 0 || seq != 0))
    abort();
  if (r < 0 && (count == 0 || seq != 0))
    abort();
  if (r == 1) {
    if (count != 1 || seq == 0 || !ref_digits(only->value, 20))
      abort();
    digits = only->value + strspn(only->value, "0");
    snprintf(printed, sizeof printed, "%" PRIu64, seq);
    if (strcmp(printed, digits) != 0)
      abort();
  }
}

static void check_bearer(const struct evkeyvalq *headers)
{
  const char *auth = evhttp_find_header(headers, "Authorization");
  const char *token = request_bearer(headers);

  if (!token)
    return;
  if (!auth || token != auth + 7 || strncasecmp(auth, "bearer ", 7) != 0 || *token == '\0')
    abort();
}

static void check_body(const char *body, size_t len, bool must_be_object)
{
  int r = request_check_body(body, len, MAX_BODY, must_be_object);
  json_t *json, *again;
  char *text;

  if ((r == -E2BIG) != (len > MAX_BODY) || (r == -EBADMSG && (!must_be_object || len == 0)))
    abort();
  if (r != 0 || !must_be_object || len == 0)
    return;
  json = json_loadb(body, len, 0, NULL);
  if (!json_is_object(json))
    abort();
  text = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
  again = text ? json_loads(text, 0, NULL) : NULL;
  if (!again || !json_equal(json, again))
    abort();
  json_decref(again);
  free(text);
  json_decref(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct evkeyvalq headers;
  char *input, *cursor, *end;
  bool must_be_object;

  if (size < 1)
    return 0;
  must_be_object = data[0] & 1;
  input = malloc(size); /* the rest, and a byte for the NUL */
  if (!input)
    abort();
  memcpy(input, data + 1, size - 1);
  input[size - 1] = '\0';
  cursor = input;
  end = input + size - 1;
  TAILQ_INIT(&headers);
  if (parse_headers(&cursor, end, &headers) == 0) {
    check_framing(&headers);
    check_seq(&headers);
    check_bearer(&headers);
    check_body(cursor, (size_t)(end - cursor), must_be_object);
  }
  evhttp_clear_headers(&headers);
  free(input);
  return 0;
}
