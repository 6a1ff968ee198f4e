/* Small secret files: the keys for hashing terminal identifiers and the
 * account token. Created once with mode 0600, never rewritten in place;
 * every write is durable once it returns (temporary file, fsync, rename,
 * fsync of the directory). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly len bytes of key from path; *out_mode (when not NULL) gets
 * the file's st_mode, read from the same open file. 0 or -errno: -ENOENT
 * when there is no file, -EBADMSG when it has the wrong size. */
int secret_file_load(const char *path, uint8_t *key, size_t len, mode_t *out_mode);

/* Creates path with len fresh random bytes (mode 0600), never replacing
 * a file that exists: -EEXIST then. 0 or -errno. */
int secret_file_create(const char *path, uint8_t *key, size_t len);

/* secret_file_load(), or, when path does not exist, secret_file_create().
 * 0 or -errno; -EBADMSG when the file exists with the wrong size. */
int secret_file_load_or_create(const char *path, uint8_t *key, size_t len);

/* Reads a short text secret (a token) with surrounding white space trimmed.
 * *out_text is malloc'd and owned by the caller. 0 or -errno; -EBADMSG
 * when the file is empty or larger than 4 KiB. */
int secret_file_read_text(const char *path, char **out_text);

/* Writes text to path atomically and durably, replacing it; mode 0600. */
int secret_file_write_text(const char *path, const char *text);
