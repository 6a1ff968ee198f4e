/* Small secret files: the keys for hashing terminal identifiers and the
 * account token. Created once with mode 0600, never rewritten in place. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Reads exactly len bytes of key from path, or, when path does not exist,
 * creates it atomically with len random bytes (mode 0600). 0 or -errno;
 * -EBADMSG when the file exists with the wrong size. */
int secret_file_load_or_create(const char *path, uint8_t *key, size_t len);

/* Reads a short text secret (a token) with surrounding white space trimmed.
 * *out_text is malloc'd and owned by the caller. 0 or -errno; -EBADMSG
 * when the file is empty or larger than 4 KiB. */
int secret_file_read_text(const char *path, char **out_text);

/* Writes text to path atomically (temporary file, fsync, rename), 0600. */
int secret_file_write_text(const char *path, const char *text);
