/* The daemon's shared state: one per process, owned by main.c. Modules get
 * a pointer to it and reach each other's state through it. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "backoff.h"
#include "config.h"
#include "hash.h"
#include "seq.h"

struct bus;
struct registry_call;
struct registry_client;
struct releaser;
struct store;
struct strmap;
struct udev_watch;

struct daemon {
  struct event_base *base;
  struct daemon_config config;
  int config_argc;                  /* the command line, to reload the config */
  char **config_argv;
  struct store *store;              /* NULL: degraded, every phone asks the registry */
  uint8_t key[HASH_SHA256_LEN];     /* keys the store's hashes and terminal handles */
  struct registry_client *registry;
  struct seq_counter seq;           /* Phonebind-Seq of every PUT and DELETE */
  struct releaser *releaser;        /* Forgets until the registry settles them */
  char *account;                    /* NULL until an account is known */
  enum account_state account_state;
  bool account_shadow;              /* ours to replace (ResetAccount), not configured */
  struct bus *bus;
  struct udev_watch *watch;
  struct strmap *by_syspath;        /* struct terminal *, attached phones */
  struct strmap *by_handle;         /* the same terminals once identified */
  uint64_t generation;              /* of the latest enumeration; terminals carry theirs */
  /* shadow account creation, retried while the registry is away */
  struct registry_call *account_call;
  struct event *account_timer;
  struct backoff account_backoff;
};

/* A uniform random number in [0, 1) for backoff jitter. */
double daemon_random_unit(void);
/* Wall-clock seconds since the epoch. */
uint64_t daemon_now(void);
/* Wall-clock microseconds since the epoch (Phonebind-Seq). */
uint64_t daemon_now_us(void);
