/* The local check: this client's own SQLite database of the terminals it
 * was bound to (the seed's first detection unit). Terminal identifiers are
 * stored only as keyed hashes (HMAC-SHA-256 with the store's key), never in
 * the clear. One connection, used only from the event loop's thread. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct store;

/* One terminal's record. Strings are malloc'd; release with store_entry_clear. */
struct store_entry {
  char *vendor; /* USB vendor id, 4 hex digits */
  char *model;  /* human-readable model, may be "" */
  char *serial; /* the USB serial as shown to people; never an IMEI */
  uint64_t first_seen, last_seen, bound_since; /* Unix time, seconds */
};

/* Opens or creates the database at path and migrates its schema to the
 * current version. 0 or -errno; -EBADMSG when the file is not a usable
 * phonebind store (corrupt, or from a newer version). */
int store_open(const char *path, const uint8_t *key, size_t key_len, struct store **out_store);
void store_close(struct store *store);

/* 1 and *out_entry filled when found, 0 when not, or -errno. */
int store_lookup_terminal(struct store *store, const char *terminal_id,
                          struct store_entry *out_entry);
/* Inserts or updates the binding; keeps first_seen and bound_since of an
 * existing row. 0 or -errno (-ENOSPC on a full disk, -EROFS read-only). */
int store_record_binding(struct store *store, const char *terminal_id,
                         const struct store_entry *entry);
/* Updates last_seen; 0, -ENOENT when there is no such row, or -errno. */
int store_touch_terminal(struct store *store, const char *terminal_id, uint64_t now);
/* Drops the record; 0 (also when there was none) or -errno. */
int store_forget_terminal(struct store *store, const char *terminal_id);
/* Drops every record (the account they were made with is gone). */
int store_forget_all_terminals(struct store *store);

/* Named counters that must outlive the process (the Phonebind-Seq
 * reservation). An absent counter reads 0. 0 or -errno. */
int store_get_counter(struct store *store, const char *name, uint64_t *out_value);
int store_set_counter(struct store *store, const char *name, uint64_t value);

/* Releases whose outcome the registry has not confirmed yet: written
 * before the DELETE is sent, dropped once it is settled. The identifier
 * is sealed with the store's key. 0 or -errno. */
int store_add_release(struct store *store, const char *terminal_id, const char *account,
                      uint64_t since);
int store_drop_release(struct store *store, const char *terminal_id);
/* Calls fn for every pending release; the strings are borrowed for the
 * call. fn must not change the store. */
typedef void (*store_release_fn)(const char *terminal_id, const char *account, uint64_t since,
                                 void *userdata);
int store_foreach_release(struct store *store, store_release_fn fn, void *userdata);

void store_entry_clear(struct store_entry *entry);
