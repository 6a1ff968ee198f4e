/* Phonebind-Seq (DESIGN.md, "Contract, second part"): every PUT and
 * DELETE this PC sends carries a number that grows with every request,
 * so that the registry can refuse a request that arrives after a later
 * one (a PUT held in a proxy that lands after a Forget's DELETE). The
 * next number is max(last + 1, wall-clock microseconds). The store keeps
 * a reservation a minute ahead, so that a restarted daemon never reuses
 * a number even if the clock went back, at one write a minute at most. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct store;

struct seq_counter {
  struct store *store; /* NULL: in memory only (no store), wall clock across restarts */
  uint64_t last;       /* the last number handed out */
  uint64_t reserved;   /* no earlier run handed out a number above this */
  bool store_failed;   /* said once in the log */
};

void seq_counter_init(struct seq_counter *counter, struct store *store);
/* The number for the next request; reserved in the store before it is
 * returned. */
uint64_t seq_counter_next(struct seq_counter *counter, uint64_t now_us);
/* The registry answered "stale" with its stored number: go above it. */
void seq_counter_raise(struct seq_counter *counter, uint64_t stored);
