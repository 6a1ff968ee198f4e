/* Key and token files; see secret_file.h. */
#include "secret_file.h"

#include "hash.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_TEXT_MAX 4096

static int read_all(int fd, uint8_t *buf, size_t cap, size_t *out_len)
{
  size_t len = 0;

  for (;;) {
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    len += (size_t)n;
    if (len == cap)
      break;
  }
  *out_len = len;
  return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
  const uint8_t *p = buf;

  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Temporary file in the same directory, fsync, rename: a crash leaves
 * either no file or the whole file, never a truncated secret. */
static int write_atomically(const char *path, const void *data, size_t len)
{
  _cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
  int fd, r;

  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  r = write_all(fd, data, len);
  if (r == 0 && fsync(fd) < 0)
    r = -errno;
  if (close(fd) < 0 && r == 0)
    r = -errno;
  if (r == 0 && rename(tmp, path) < 0)
    r = -errno;
  if (r < 0)
    unlink(tmp);
  return r;
}

static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *out_len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  int r;

  if (fd < 0)
    return -errno;
  r = read_all(fd, buf, cap, out_len);
  close(fd);
  return r;
}

int secret_file_load_or_create(const char *path, uint8_t *key, size_t len)
{
  uint8_t buf[256];
  size_t got;
  int r;

  if (len > sizeof buf - 1)
    return -EINVAL;
  r = read_file(path, buf, len + 1, &got);
  if (r == 0) {
    if (got != len)
      return -EBADMSG;
    memcpy(key, buf, len);
    return 0;
  }
  if (r != -ENOENT)
    return r;
  r = hash_random_bytes(key, len);
  if (r < 0)
    return r;
  return write_atomically(path, key, len);
}

int secret_file_read_text(const char *path, char **out_text)
{
  uint8_t buf[SECRET_TEXT_MAX + 1];
  size_t len, start = 0;
  int r;

  r = read_file(path, buf, sizeof buf, &len);
  if (r < 0)
    return r;
  if (len > SECRET_TEXT_MAX)
    return -EBADMSG;
  while (start < len && isspace(buf[start]))
    start++;
  while (len > start && isspace(buf[len - 1]))
    len--;
  if (len == start || memchr(buf + start, '\0', len - start))
    return -EBADMSG;
  *out_text = xstrndup((const char *)buf + start, len - start);
  return 0;
}

int secret_file_write_text(const char *path, const char *text)
{
  return write_atomically(path, text, strlen(text));
}
