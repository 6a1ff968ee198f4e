/* Request framing: where a request's body ends must be read one way only.
 * A proxy in front of the registry and evhttp behind it that disagree on
 * it (two Content-Length headers, Content-Length beside
 * Transfer-Encoding, "Content-Length : 5" that evhttp does not see) let a
 * second request ride inside the first's body: request smuggling. evhttp
 * takes the first Content-Length and ignores what it does not know, so
 * these requests are refused before any handler sees them. Pure. */
#pragma once

struct evkeyvalq;

enum framing_verdict {
  FRAMING_OK,
  FRAMING_BAD_NAME,            /* a header name that is not an RFC 9110 token */
  FRAMING_DUPLICATE_LENGTH,    /* Content-Length twice, equal or not */
  FRAMING_BAD_LENGTH,          /* not plain decimal digits */
  FRAMING_LENGTH_AND_TRANSFER, /* Content-Length with Transfer-Encoding */
  FRAMING_BAD_TRANSFER,        /* Transfer-Encoding other than one "chunked" */
};

/* The request's headers as evhttp parsed them. */
enum framing_verdict framing_check(const struct evkeyvalq *headers);

/* What a 400 says of the verdict: a fixed string. */
const char *framing_explain(enum framing_verdict verdict);
