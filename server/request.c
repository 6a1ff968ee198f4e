/* Reading a request's headers and body; see request.h. */
#include "request.h"

#include "fence.h"

#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

int request_seq(const struct evkeyvalq *headers, uint64_t *out_seq)
{
  const struct evkeyval *header;
  int seen = 0;

  *out_seq = 0;
  for (header = headers->tqh_first; header; header = header->next.tqe_next) {
    if (strcasecmp(header->key, "Phonebind-Seq") != 0)
      continue;
    if (++seen > 1 || fence_parse_seq(header->value, out_seq) < 0) {
      *out_seq = 0;
      return -EINVAL;
    }
  }
  return seen;
}

const char *request_bearer(const struct evkeyvalq *headers)
{
  const char *auth = evhttp_find_header(headers, "Authorization");

  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0')
    return NULL;
  return auth + 7;
}

int request_check_body(const char *body, size_t len, size_t max, bool must_be_object)
{
  json_error_t error;
  json_t *json;
  bool object;

  if (len > max)
    return -E2BIG;
  if (len == 0 || !must_be_object)
    return 0;
  json = json_loadb(body, len, 0, &error);
  object = json && json_is_object(json);
  json_decref(json);
  return object ? 0 : -EBADMSG;
}
