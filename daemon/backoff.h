/* Retry delays after a registry failure: exponential with jitter, capped.
 * Pure arithmetic; the caller supplies the randomness so tests can too. */
#pragma once

struct backoff {
  double initial_s; /* first delay, 0.5 s by default */
  double cap_s;     /* largest delay, 10 s by default */
  unsigned attempt; /* failures so far */
};

void backoff_init(struct backoff *backoff, double initial_s, double cap_s);
/* Delay before the next attempt, in seconds, and counts one more failure:
 * initial * 2^attempt * (1 + random_unit / 2) while that is below the cap,
 * then cap * (0.75 + random_unit / 4); random_unit in [0, 1). */
double backoff_next_delay(struct backoff *backoff, double random_unit);
void backoff_reset(struct backoff *backoff);
