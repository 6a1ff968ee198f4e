/* SQLite codes to errno; see sqlite_errno.h. Only the codes' macros are
 * used: nothing here links against SQLite. */
#include "sqlite_errno.h"

#include <errno.h>
#include <sqlite3.h>

int sqlite_errno(int rc)
{
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE:
    return 0;
  case SQLITE_FULL:
    return -ENOSPC;
  case SQLITE_READONLY:
    return -EROFS;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return -EBADMSG;
  case SQLITE_CANTOPEN:
    return -ENOENT;
  case SQLITE_PERM:
  case SQLITE_AUTH:
    return -EACCES;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return -EBUSY;
  case SQLITE_NOMEM:
    return -ENOMEM;
  case SQLITE_CONSTRAINT:
    return -EEXIST;
  default:
    return -EIO;
  }
}
