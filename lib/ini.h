/* A small INI reader for phonebindd.conf and registry.conf:
 * "[section]" headers, "key = value" lines, '#' and ';' comments. */
#pragma once

/* Called once per key; returns 0 to go on or a negative errno to stop. */
typedef int (*ini_handler)(const char *section, const char *key, const char *value, void *userdata);

/* Parses path. 0 on success; the handler's error, -errno when the file
 * cannot be read, or -EINVAL for a malformed line, whose number is stored
 * in *out_error_line (when not NULL). */
int ini_parse_file(const char *path, ini_handler handler, void *userdata, int *out_error_line);
