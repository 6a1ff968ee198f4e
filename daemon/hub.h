/* What a terminal's life needs of the daemon around it: the edges it
 * drives, the settings it reads, and the manager's hook. terminals.c
 * fills one; terminal.c works through it. Nothing else includes this. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>

struct account;
struct bus;
struct clock;
struct daemon_config;
struct handle_key;
struct registry_client;
struct releaser;
struct renewer;
struct seq_counter;
struct store;
struct terminal;

struct hub {
  struct event_base *base;
  struct store *store; /* NULL: degraded, every phone asks the registry */
  struct registry_client *registry;
  struct releaser *releaser;
  struct renewer *renewer; /* renews connected phones' bindings (binding-ttl) */
  struct seq_counter *seq;
  struct account *account;
  struct bus *bus; /* NULL: nobody listens (tests) */
  const struct clock *clock;
  const struct handle_key *handle_key;
  const struct daemon_config *config; /* read when used: a reload applies at once */
  /* The manager's: a terminal is identified and wants to be published.
   * False when another attached terminal has its identity (a cloned
   * serial); the terminal is then unidentified. */
  bool (*publish)(struct hub *hub, struct terminal *terminal);
  /* ... and no longer under the handle it had (its identity changed). */
  void (*unpublish)(struct hub *hub, struct terminal *terminal, const char *handle);
};
