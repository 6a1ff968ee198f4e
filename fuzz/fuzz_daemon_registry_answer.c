/* The registry's answers as the daemon reads them (daemon/registry_answer.c):
 * the first byte picks the call, the next two the HTTP status (from the
 * statuses the registry sends, or any), the rest is the body; each line
 * of the body also goes through the Retry-After reader. Checked: an
 * answered account creation has its account and token, an answered
 * lookup a status, a stale sequence only on a 409, a TTL only from an
 * answered info. */
#include "fuzz_input.h"

#include "registry_answer.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 201, 204, 400, 401, 403, 404, 409, 413, 429, 500, 503};

static void check(enum registry_call_kind kind, const struct registry_answer *answer)
{
  if (answer->outcome != REGISTRY_ANSWERED)
    return;
  if (kind == REGISTRY_CALL_CREATE_ACCOUNT && (!answer->account || !answer->token))
    abort();
  if (kind == REGISTRY_CALL_LOOKUP && answer->http_status == 200 &&
      answer->status == REGISTRY_STATUS_NONE)
    abort();
  if (answer->stale_seq && answer->http_status != 409)
    abort();
  if (answer->binding_ttl_s && (kind != REGISTRY_CALL_INFO || answer->http_status != 200))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  enum registry_call_kind kind;
  struct registry_answer answer = {0};
  long status;
  json_t *json = NULL;
  char *body;
  unsigned seconds;

  if (size < 3)
    return 0;
  kind = (enum registry_call_kind)(data[0] % (REGISTRY_CALL_INFO + 1));
  status = data[1] < 200 ? statuses[data[1] % (sizeof statuses / sizeof *statuses)]
                         : (long)data[1] * 4 + data[2] % 4;
  body = fuzz_string(data + 3, size - 3);
  registry_answer_read(kind, status, body, size - 3, data[2] & 0x80, &answer, &json);
  check(kind, &answer);
  json_decref(json);
  for (char *line = body, *next; *line; line = next) {
    next = strchr(line, '\n');
    next = next ? next + 1 : line + strlen(line);
    registry_answer_retry_after(line, (size_t)(next - line), &seconds);
  }
  free(body);
  return 0;
}
