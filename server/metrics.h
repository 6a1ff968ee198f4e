/* The registry's Prometheus metrics: requests by route template and status,
 * claim outcomes, a latency histogram. Lock-free counters shared by every
 * HTTP thread; labels never carry a raw path or identifier. */
#pragma once

#include <event2/buffer.h>

#include "backend.h"
#include "router.h"

void metrics_count_request(enum route route, int status, double seconds);
void metrics_count_claim(enum claim_result result);
/* Appends the Prometheus text exposition to out. */
void metrics_render(struct evbuffer *out);
