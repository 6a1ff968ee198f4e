/* Key and token files; see secret_file.h. */
#include "secret_file.h"

#include "hash.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
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

/* The directory entry a rename made is durable only once the directory
 * itself is synced: without it a crash can leave the old name, or none. */
static int sync_directory_of(const char *path)
{
  _cleanup_free_ char *copy = xstrdup(path);
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = 0;

  if (fd < 0)
    return -errno;
  if (fsync(fd) < 0)
    r = -errno;
  close(fd);
  return r;
}

/* Moves tmp to path; with replace false, -EEXIST when path exists. Where
 * the file system has no RENAME_NOREPLACE, link() refuses an existing
 * name just as well. */
static int move_into_place(const char *tmp, const char *path, bool replace)
{
  if (replace)
    return rename(tmp, path) < 0 ? -errno : 0;
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -errno;
  if (link(tmp, path) < 0)
    return -errno;
  unlink(tmp);
  return 0;
}

/* Temporary file in the same directory, fsync, rename, fsync of the
 * directory: a crash leaves either no file or the whole file, never a
 * truncated secret, and a file that was reported written stays. */
static int write_atomically(const char *path, const void *data, size_t len, bool replace)
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
  if (r == 0)
    r = move_into_place(tmp, path, replace);
  if (r < 0) {
    unlink(tmp);
    return r;
  }
  return sync_directory_of(path);
}

static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *out_len, mode_t *out_mode)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  int r;

  if (fd < 0)
    return -errno;
  r = read_all(fd, buf, cap, out_len);
  if (r == 0 && out_mode)
    r = fstat(fd, &st) < 0 ? -errno : 0;
  if (r == 0 && out_mode)
    *out_mode = st.st_mode;
  close(fd);
  return r;
}

int secret_file_load(const char *path, uint8_t *key, size_t len, mode_t *out_mode)
{
  uint8_t buf[256];
  size_t got;
  int r;

  if (len > sizeof buf - 1)
    return -EINVAL;
  r = read_file(path, buf, len + 1, &got, out_mode);
  if (r == 0 && got != len)
    r = -EBADMSG;
  if (r == 0)
    memcpy(key, buf, len);
  explicit_bzero(buf, sizeof buf);
  return r;
}

int secret_file_create(const char *path, uint8_t *key, size_t len)
{
  int r = hash_random_bytes(key, len);

  return r < 0 ? r : write_atomically(path, key, len, false);
}

int secret_file_load_or_create(const char *path, uint8_t *key, size_t len)
{
  int r = secret_file_load(path, key, len, NULL);

  if (r == -ENOENT)
    r = secret_file_create(path, key, len);
  if (r == -EEXIST) /* another process made it a moment ago: use that one */
    r = secret_file_load(path, key, len, NULL);
  return r;
}

int secret_file_read_text(const char *path, char **out_text)
{
  uint8_t buf[SECRET_TEXT_MAX + 1];
  size_t len, start = 0;
  int r;

  r = read_file(path, buf, sizeof buf, &len, NULL);
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
  return write_atomically(path, text, strlen(text), true);
}
