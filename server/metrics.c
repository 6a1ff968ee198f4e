/* Prometheus counters; see metrics.h. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdint.h>

static const int known_statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 500, 503};
#define STATUS_SLOTS (sizeof known_statuses / sizeof *known_statuses + 1) /* + "other" */

static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                        0.005,  0.01,    0.025,  0.1,   1.0};
#define LATENCY_BUCKETS (sizeof latency_bounds / sizeof *latency_bounds)

static const char *const claim_names[CLAIM_RESULT_COUNT] = {
  [CLAIM_BOUND_NOW] = "bound",
  [CLAIM_RENEWED] = "renewed",
  [CLAIM_CONFLICT] = "conflict",
  [CLAIM_STALE] = "stale",
};

static _Atomic uint64_t requests[ROUTE_COUNT][STATUS_SLOTS];
static _Atomic uint64_t claims[CLAIM_RESULT_COUNT];
static _Atomic uint64_t latency_counts[LATENCY_BUCKETS + 1]; /* + "+Inf" */
static _Atomic uint64_t latency_sum_ns;

static size_t status_slot(int status)
{
  for (size_t i = 0; i < STATUS_SLOTS - 1; i++)
    if (known_statuses[i] == status)
      return i;
  return STATUS_SLOTS - 1;
}

void metrics_count_request(enum route route, int status, double seconds)
{
  size_t bucket = 0;

  atomic_fetch_add_explicit(&requests[route][status_slot(status)], 1, memory_order_relaxed);
  while (bucket < LATENCY_BUCKETS && seconds > latency_bounds[bucket])
    bucket++;
  atomic_fetch_add_explicit(&latency_counts[bucket], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&latency_sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

void metrics_count_claim(enum claim_result result)
{
  atomic_fetch_add_explicit(&claims[result], 1, memory_order_relaxed);
}

static void render_requests(struct evbuffer *out)
{
  evbuffer_add_printf(out,
                      "# HELP phonebind_registry_requests_total HTTP requests by route "
                      "template and status.\n"
                      "# TYPE phonebind_registry_requests_total counter\n");
  for (int route = 0; route < ROUTE_COUNT; route++)
    for (size_t slot = 0; slot < STATUS_SLOTS; slot++) {
      uint64_t n = atomic_load_explicit(&requests[route][slot], memory_order_relaxed);
      if (n == 0)
        continue;
      if (slot < STATUS_SLOTS - 1)
        evbuffer_add_printf(out,
                            "phonebind_registry_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
                            router_template((enum route)route), known_statuses[slot], n);
      else
        evbuffer_add_printf(
          out, "phonebind_registry_requests_total{route=\"%s\",status=\"other\"} %lu\n",
          router_template((enum route)route), n);
    }
}

static void render_claims(struct evbuffer *out)
{
  evbuffer_add_printf(out,
                      "# HELP phonebind_registry_claims_total Binding claims by outcome.\n"
                      "# TYPE phonebind_registry_claims_total counter\n");
  for (int i = 0; i < CLAIM_RESULT_COUNT; i++)
    evbuffer_add_printf(out, "phonebind_registry_claims_total{outcome=\"%s\"} %lu\n",
                        claim_names[i], atomic_load_explicit(&claims[i], memory_order_relaxed));
}

static void render_latency(struct evbuffer *out)
{
  uint64_t cumulative = 0;

  evbuffer_add_printf(out,
                      "# HELP phonebind_registry_request_duration_seconds Time to answer "
                      "a request.\n"
                      "# TYPE phonebind_registry_request_duration_seconds histogram\n");
  for (size_t i = 0; i <= LATENCY_BUCKETS; i++) {
    cumulative += atomic_load_explicit(&latency_counts[i], memory_order_relaxed);
    if (i < LATENCY_BUCKETS)
      evbuffer_add_printf(out,
                          "phonebind_registry_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
                          latency_bounds[i], cumulative);
    else
      evbuffer_add_printf(
        out, "phonebind_registry_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
  }
  evbuffer_add_printf(out,
                      "phonebind_registry_request_duration_seconds_sum %.9f\n"
                      "phonebind_registry_request_duration_seconds_count %lu\n",
                      (double)atomic_load(&latency_sum_ns) / 1e9, cumulative);
}

void metrics_render(struct evbuffer *out)
{
  render_requests(out);
  render_claims(out);
  render_latency(out);
}
