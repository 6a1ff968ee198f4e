/* Which terminal a user's TERMINAL argument names. Pure. */
#pragma once

#include "records.h"

#include <stddef.h>

#define CTL_MATCH_NONE (-1)
#define CTL_MATCH_AMBIGUOUS (-2)

/* An exact Id or object path first, else the one Id that starts with
 * wanted. Returns the index, CTL_MATCH_NONE, or CTL_MATCH_AMBIGUOUS when
 * wanted starts more than one Id. */
int ctl_match_terminal(const struct ctl_terminal *terminals, size_t count, const char *wanted);
