/* The Phonebind-Seq counter; see seq.h. */
#include "seq.h"

#include "log.h"
#include "store.h"

#include <string.h>

#define SEQ_COUNTER "seq-reserved"
#define SEQ_RESERVE_US (60ull * 1000 * 1000)

void seq_counter_init(struct seq_counter *counter, struct store *store)
{
  uint64_t reserved = 0;
  int r = store ? store_get_counter(store, SEQ_COUNTER, &reserved) : 0;

  if (r < 0)
    log_err("cannot read the request sequence from the local store: %s; using the clock",
            strerror(-r));
  *counter = (struct seq_counter){.store = store, .last = reserved, .reserved = reserved};
}

static void reserve(struct seq_counter *counter, uint64_t upto)
{
  int r = counter->store ? store_set_counter(counter->store, SEQ_COUNTER, upto) : 0;

  if (r < 0 && !counter->store_failed)
    log_err(
      "cannot save the request sequence in the local store: %s; after a restart the "
      "clock alone orders requests",
      strerror(-r));
  counter->store_failed = r < 0;
  counter->reserved = upto;
}

uint64_t seq_counter_next(struct seq_counter *counter, uint64_t now_us)
{
  uint64_t next = counter->last + 1 > now_us ? counter->last + 1 : now_us;

  if (next > counter->reserved)
    reserve(counter, next + SEQ_RESERVE_US);
  counter->last = next;
  return next;
}

void seq_counter_raise(struct seq_counter *counter, uint64_t stored)
{
  if (stored > counter->last)
    counter->last = stored;
}
