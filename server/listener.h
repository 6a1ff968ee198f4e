/* Listening sockets for the HTTP threads: one per thread on the same
 * address with SO_REUSEPORT, so the kernel spreads connections. */
#pragma once

/* Opens a non-blocking listening socket on "ADDR:PORT" ("[::1]:PORT" for
 * IPv6). Returns the fd or -errno; -EINVAL for a malformed address. */
int listener_open(const char *address);
