/* Request framing (server/framing.c), a table of header lists as evhttp
 * hands them over. Tried: every way this registry and a proxy in front
 * could disagree on where a body ends (Content-Length twice, equal or
 * not; beside Transfer-Encoding; a name with a space before its colon,
 * which evhttp does not see as Content-Length; a sign, spaces, a comma
 * list, a folded value, a length past 2^63; Transfer-Encoding twice or
 * other than chunked), and the plain requests that must pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <string.h>
#include <sys/queue.h>

#include "framing.h"

#define MAX_HEADERS 4

static void test_table(void **state)
{
  static const struct {
    const char *headers[MAX_HEADERS][2];
    enum framing_verdict verdict;
  } cases[] = {
    {{{"Host", "x"}}, FRAMING_OK},
    {{{"Content-Length", "0"}}, FRAMING_OK},
    {{{"content-length", "42"}, {"Authorization", "Bearer t"}}, FRAMING_OK},
    {{{"Transfer-Encoding", "chunked"}}, FRAMING_OK},
    {{{"Transfer-Encoding", "Chunked"}}, FRAMING_OK},
    {{{"Phonebind-Seq", "1"}, {"X-Odd_Name~!", "v"}}, FRAMING_OK},
    {{{"Content-Length", "2"}, {"Content-Length", "40"}}, FRAMING_DUPLICATE_LENGTH},
    {{{"Content-Length", "2"}, {"content-length", "2"}}, FRAMING_DUPLICATE_LENGTH},
    {{{"Content-Length", "2"}, {"Transfer-Encoding", "chunked"}}, FRAMING_LENGTH_AND_TRANSFER},
    {{{"Transfer-Encoding", "chunked"}, {"Content-Length", "2"}}, FRAMING_LENGTH_AND_TRANSFER},
    {{{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}, FRAMING_BAD_TRANSFER},
    {{{"Transfer-Encoding", "gzip, chunked"}}, FRAMING_BAD_TRANSFER},
    {{{"Transfer-Encoding", "identity"}}, FRAMING_BAD_TRANSFER},
    {{{"Transfer-Encoding", " chunked"}}, FRAMING_BAD_TRANSFER}, /* a folded line */
    {{{"Transfer-Encoding", ""}}, FRAMING_BAD_TRANSFER},
    {{{"Content-Length ", "5"}}, FRAMING_BAD_NAME},
    {{{"Content-Length\t", "5"}}, FRAMING_BAD_NAME},
    {{{" Content-Length", "5"}}, FRAMING_BAD_NAME},
    {{{"", "5"}}, FRAMING_BAD_NAME},
    {{{"Host", "x"}, {"Bad Name", "v"}}, FRAMING_BAD_NAME},
    {{{"Content-Length", "+5"}}, FRAMING_BAD_LENGTH},
    {{{"Content-Length", "-1"}}, FRAMING_BAD_LENGTH},
    {{{"Content-Length", "\t5"}}, FRAMING_BAD_LENGTH},
    {{{"Content-Length", "5 0"}}, FRAMING_BAD_LENGTH}, /* "5" folded with "0" */
    {{{"Content-Length", "5, 5"}}, FRAMING_BAD_LENGTH},
    {{{"Content-Length", "0x10"}}, FRAMING_BAD_LENGTH},
    {{{"Content-Length", ""}}, FRAMING_BAD_LENGTH},
    {{{"Content-Length", "999999999999999999"}}, FRAMING_OK},
    {{{"Content-Length", "9999999999999999999"}}, FRAMING_BAD_LENGTH},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct evkeyvalq headers;
    TAILQ_INIT(&headers);
    for (int h = 0; h < MAX_HEADERS && cases[i].headers[h][0]; h++)
      assert_int_equal(evhttp_add_header(&headers, cases[i].headers[h][0], cases[i].headers[h][1]),
                       0);
    if (framing_check(&headers) != cases[i].verdict)
      fail_msg("case %zu (%s: %s): %d, not %d", i, cases[i].headers[0][0], cases[i].headers[0][1],
               framing_check(&headers), cases[i].verdict);
    assert_non_null(framing_explain(framing_check(&headers)));
    evhttp_clear_headers(&headers);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
