/* The system's clock and randomness; see clock.h. */
#include "clock.h"

#include <stdlib.h>
#include <time.h>

static uint64_t system_wall_us(void *userdata)
{
  struct timespec ts;

  (void)userdata;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double system_random_unit(void *userdata)
{
  (void)userdata;
  return (double)arc4random() / 4294967296.0;
}

const struct clock clock_system = {.wall_us = system_wall_us, .random_unit = system_random_unit};
