/* Capped exponential backoff with jitter; see backoff.h. */
#include "backoff.h"

#include <math.h>

void backoff_init(struct backoff *backoff, double initial_s, double cap_s)
{
  backoff->initial_s = initial_s > 0 ? initial_s : 0.5;
  backoff->cap_s = cap_s >= backoff->initial_s ? cap_s : backoff->initial_s;
  backoff->attempt = 0;
}

double backoff_next_delay(struct backoff *backoff, double random_unit)
{
  /* 2^attempt is clamped long before it could overflow a double. */
  unsigned exponent = backoff->attempt < 30 ? backoff->attempt : 30;
  double delay = backoff->initial_s * ldexp(1.0, (int)exponent) * (1.0 + random_unit / 2.0);

  backoff->attempt++;
  if (delay < backoff->cap_s)
    return delay;
  /* Still random at the cap: PCs that lost the registry together must
   * not come back in lockstep. */
  return backoff->cap_s * (0.75 + random_unit / 4.0);
}

void backoff_reset(struct backoff *backoff)
{
  backoff->attempt = 0;
}
