/* The registry's listening socket: one per process, which the HTTP
 * threads share; the address is the process's alone (no SO_REUSEPORT). */
#pragma once

/* Opens a non-blocking listening socket on "ADDR:PORT" ("[::1]:PORT" for
 * IPv6). Returns the fd or -errno; -EINVAL for a malformed address, -EADDRINUSE
 * when another socket is bound there. */
int listener_open(const char *address);
