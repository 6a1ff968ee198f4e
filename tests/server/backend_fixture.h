/* For cmocka's setup and teardown: a registry backend on a database in a
 * fresh temporary directory, removed afterwards with all it holds. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

struct fixture {
  char dir[64];
  char path[96]; /* the database */
  char key[96];  /* a key file's place beside it; not created here */
  struct backend *be;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/phonebind-backend-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->path, sizeof f->path, "%s/registry.db", f->dir);
  snprintf(f->key, sizeof f->key, "%s/terminal-id.key", f->dir);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[128];
  backend_close(f->be);
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}
