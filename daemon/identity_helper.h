/* The identity helper (the seed's "auxiliary application"): an optional
 * program that reads a phone's IMEI when its USB serial cannot tell phones
 * apart. It runs asynchronously with a timeout; its failure, garbage or
 * silence simply means "no IMEI".
 *
 * Protocol: the command runs through /bin/sh -c with the device described
 * in the environment (PHONEBIND_SYSPATH, PHONEBIND_DEVNODE, PHONEBIND_VENDOR,
 * PHONEBIND_PRODUCT, PHONEBIND_SERIAL, PHONEBIND_BUSNUM, PHONEBIND_DEVNUM) and
 * prints the IMEI as the first line of its standard output (at most 4 KiB
 * read); anything else, a non-zero exit or the timeout means no IMEI.
 * Exit status 75 (EX_TEMPFAIL) means "ask again later": the phone has not
 * trusted this PC yet (adb "unauthorized", an iPhone's pairing dialog). */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

struct identity_query;

struct identity_device {
  const char *syspath, *devnode, *vendor, *product, *serial, *busnum, *devnum; /* may be NULL */
};

#define IDENTITY_EXIT_LATER 75

/* imei: 15 Luhn-checked digits, or NULL; borrowed for the callback. later:
 * no IMEI yet, but the phone may tell once it trusts this PC. */
typedef void (*identity_done_fn)(const char *imei, bool later, void *userdata);

/* Starts the helper; 0 or -errno (then done is never run). done runs
 * exactly once from the loop unless the query is cancelled first. */
int identity_helper_run(struct event_base *base, const char *command,
                        const struct identity_device *device, long timeout_ms,
                        identity_done_fn done, void *userdata, struct identity_query **out_query);
/* The IMEI in what a helper printed (len bytes; output[len] is written):
 * its first line when that is 15 Luhn-checked digits, else NULL. Pure;
 * fuzzed (fuzz/fuzz_identity_output.c). */
const char *identity_output_imei(char *output, size_t len);
/* Kills the helper if it still runs and frees the query; done is not run. */
void identity_query_cancel(struct identity_query *query);
