/* phonebind-registry admin COMMAND [OPERAND]...: the support tool (see
 * admin.c and docs/operations.md). */
#pragma once

#include <stddef.h>

struct registry_config;

/* words[0] is the command. Prints the JSON answer and returns the exit
 * status (admin_exec.h's enum admin_exit). */
int admin_main(const struct registry_config *config, char **words, size_t count);
