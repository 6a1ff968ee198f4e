/* SQLite result codes as negative errno values, so that both programs
 * report a store's failure the same way ("no space", "read-only file
 * system", "not a database"). */
#pragma once

/* 0 for SQLITE_OK, SQLITE_ROW and SQLITE_DONE; extended codes map as
 * their primary code. Unknown failures are -EIO. */
int sqlite_errno(int rc);
