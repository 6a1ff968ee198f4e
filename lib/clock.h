/* Time and chance for the daemon's logic, passed in rather than called
 * directly, so that tests can fake both. */
#pragma once

#include <stdint.h>
#include <sys/time.h>

struct clock {
  uint64_t (*wall_us)(void *userdata);   /* wall clock, microseconds since the epoch */
  double (*random_unit)(void *userdata); /* uniform in [0, 1), for backoff jitter */
  void *userdata;
};

/* The real ones: CLOCK_REALTIME and arc4random. */
extern const struct clock clock_system;

static inline uint64_t clock_now_us(const struct clock *clock)
{
  return clock->wall_us(clock->userdata);
}

static inline uint64_t clock_now_s(const struct clock *clock)
{
  return clock->wall_us(clock->userdata) / 1000000u;
}

static inline double clock_random(const struct clock *clock)
{
  return clock->random_unit(clock->userdata);
}

/* A delay in seconds as a struct timeval, for libevent's timers. */
static inline struct timeval clock_timeval(double seconds)
{
  time_t whole = (time_t)seconds;

  return (struct timeval){whole, (suseconds_t)((seconds - (double)whole) * 1e6)};
}
