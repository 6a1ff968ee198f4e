/* Shadow account identifiers (seed [0044]): random strings the server
 * generates; the backend checks each for uniqueness and asks again on a
 * collision. */
#pragma once

#include "backend.h"

/* Writes a fresh identifier ("sa-" and 24 hex digits) to out. 0 or -errno. */
int account_id_generate(char out[ACCOUNT_ID_MAX]);

/* Tests replace the random source to force collisions; NULL restores it. */
typedef int (*account_id_source)(char out[ACCOUNT_ID_MAX]);
void account_id_set_source(account_id_source source);
