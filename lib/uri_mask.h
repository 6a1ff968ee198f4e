/* URIs shown to people and to unprivileged D-Bus clients: without the
 * credentials a URI may carry (http://user:secret@host/, a libpq
 * postgresql://user:secret@host/db?password=secret). */
#pragma once

/* A copy (malloc'd) with the userinfo before the host replaced by "****"
 * and the value of any password= query parameter by "****". */
char *uri_mask_credentials(const char *uri);
