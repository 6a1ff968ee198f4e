/* What the registry reads from a request besides its path
 * (server/request.c). Tried: Phonebind-Seq absent, once, twice, junk;
 * Authorization without the Bearer scheme, with it in another case,
 * empty, twice (the first counts); bodies empty, at and past the limit,
 * not JSON, JSON that is no object, truncated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>
#include <sys/queue.h>

#include "request.h"

static void add(struct evkeyvalq *headers, const char *key, const char *value)
{
  assert_int_equal(evhttp_add_header(headers, key, value), 0);
}

static void test_seq(void **state)
{
  struct evkeyvalq headers;
  uint64_t seq = 99;

  (void)state;
  TAILQ_INIT(&headers);
  add(&headers, "Host", "x");
  assert_int_equal(request_seq(&headers, &seq), 0);
  assert_int_equal(seq, 0);
  add(&headers, "phonebind-seq", "0042");
  assert_int_equal(request_seq(&headers, &seq), 1);
  assert_int_equal(seq, 42);
  add(&headers, "Phonebind-Seq", "42");
  assert_int_equal(request_seq(&headers, &seq), -EINVAL);
  assert_int_equal(seq, 0);
  evhttp_clear_headers(&headers);
  add(&headers, "Phonebind-Seq", "1e3");
  assert_int_equal(request_seq(&headers, &seq), -EINVAL);
  evhttp_clear_headers(&headers);
}

static void test_bearer(void **state)
{
  static const struct {
    const char *value, *token;
  } cases[] = {
    {"Bearer abc", "abc"}, {"bearer abc", "abc"}, {"BEARER a b", "a b"}, {"Bearer ", NULL},
    {"Bearer", NULL},      {"Basic abc", NULL},   {"Bearerabc", NULL},   {"", NULL},
  };
  struct evkeyvalq headers;

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *token;
    TAILQ_INIT(&headers);
    add(&headers, "Authorization", cases[i].value);
    add(&headers, "Authorization", "Bearer second");
    token = request_bearer(&headers);
    if (cases[i].token ? !token || strcmp(token, cases[i].token) : token != NULL)
      fail_msg("case %zu \"%s\": \"%s\"", i, cases[i].value, token ? token : "(none)");
    evhttp_clear_headers(&headers);
  }
  TAILQ_INIT(&headers);
  assert_null(request_bearer(&headers));
}

static void test_body(void **state)
{
  char big[4097];

  (void)state;
  memset(big, ' ', sizeof big);
  assert_int_equal(request_check_body(NULL, 0, 4096, true), 0);
  assert_int_equal(request_check_body("{}", 2, 4096, true), 0);
  assert_int_equal(request_check_body(" {\"label\":\"pc\"} ", 16, 4096, true), 0);
  assert_int_equal(request_check_body("[]", 2, 4096, true), -EBADMSG);
  assert_int_equal(request_check_body("{\"a\":", 5, 4096, true), -EBADMSG);
  assert_int_equal(request_check_body("junk", 4, 4096, true), -EBADMSG);
  assert_int_equal(request_check_body("junk", 4, 4096, false), 0); /* terminal calls: any body */
  assert_int_equal(request_check_body(big, 4096, 4096, false), 0);
  assert_int_equal(request_check_body(big, 4097, 4096, false), -E2BIG);
  assert_int_equal(request_check_body(NULL, 4097, 4096, true), -E2BIG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_seq),
    cmocka_unit_test(test_bearer),
    cmocka_unit_test(test_body),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
