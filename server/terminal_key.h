/* The key that hashes terminal identifiers, and the database's check value
 * of it. Bindings are stored under HMAC(key, id): with another key every
 * phone silently reads as unbound, so the registry refuses to start rather
 * than make or use a key the database was not made with. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "hash.h"

#define TERMINAL_KEY_LEN HASH_SHA256_LEN

#define TERMINAL_KEY_UNVERIFIED 1

/* Loads the key file at path when its mode and its check value fit the
 * database; creates it (and stores its check value) only for a database
 * that has neither a check value nor data hashed with some key. Logs why
 * and returns -errno when the registry must not start. When the database
 * cannot be reached (read_key_check answered BACKEND_UNAVAILABLE), loads
 * an existing key file and returns TERMINAL_KEY_UNVERIFIED: the caller
 * has the backend check it later (backend_verify_key_later). */
int terminal_key_open(struct backend *backend, const char *path, uint8_t key[TERMINAL_KEY_LEN]);

/* For a support command: loads the key file and checks it against the
 * database's check value, never creating or storing anything. -ENOENT
 * (missing), -EKEYREJECTED (another database's key), or another -errno;
 * each logged. */
int terminal_key_load(struct backend *backend, const char *path, uint8_t key[TERMINAL_KEY_LEN]);

/* HMAC-SHA-256 of a fixed text with the key: tells keys apart without
 * revealing them. */
void terminal_key_check_value(const uint8_t key[TERMINAL_KEY_LEN], uint8_t out[HASH_SHA256_LEN]);

/* A key file must not be readable or writable by others, nor writable by
 * its group (mode & 0027 == 0); a group may read it (0640: a packager's
 * group, or systemd's LoadCredential=). */
bool terminal_key_mode_is_safe(mode_t mode);
