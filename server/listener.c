/* Listening sockets; see listener.h. */
#include "listener.h"

#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int split_address(const char *address, char **out_host, char **out_port)
{
  const char *colon = strrchr(address, ':');
  const char *host = address;
  size_t host_len;

  if (!colon || colon[1] == '\0')
    return -EINVAL;
  host_len = (size_t)(colon - address);
  if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
    host++;
    host_len -= 2;
  }
  *out_host = xstrndup(host, host_len);
  *out_port = xstrdup(colon + 1);
  return 0;
}

/* SO_REUSEADDR only lets a restart bind over connections in TIME_WAIT;
 * no SO_REUSEPORT, so a second process on the address gets EADDRINUSE
 * instead of half of the connections. */
static int open_bound(const struct addrinfo *ai)
{
  int one = 1, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -errno;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
    int r = -errno;
    close(fd);
    return r;
  }
  return fd;
}

int listener_open(const char *address)
{
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  char *host = NULL, *port = NULL;
  int r = split_address(address, &host, &port);

  if (r == 0)
    r = getaddrinfo(host, port, &hints, &ai) == 0 ? 0 : -EINVAL;
  if (r == 0)
    r = open_bound(ai);
  if (ai)
    freeaddrinfo(ai);
  free(host);
  free(port);
  return r;
}
