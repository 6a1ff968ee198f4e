/* INI reader; see ini.h. */
#include "ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static char *strip(char *s)
{
  char *end;

  while (isspace((unsigned char)*s))
    s++;
  end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1]))
    *--end = '\0';
  return s;
}

/* One line: a section header, a key = value pair, blank or comment. */
static int parse_line(char *line, char *section, size_t section_size, ini_handler handler,
                      void *userdata)
{
  char *s = strip(line), *eq, *key, *value;
  size_t len = strlen(s);

  if (len == 0 || s[0] == '#' || s[0] == ';')
    return 0;
  if (s[0] == '[') {
    if (s[len - 1] != ']' || len - 2 >= section_size)
      return -EINVAL;
    s[len - 1] = '\0';
    snprintf(section, section_size, "%s", strip(s + 1));
    return 0;
  }
  eq = strchr(s, '=');
  if (!eq)
    return -EINVAL;
  *eq = '\0';
  key = strip(s);
  value = strip(eq + 1);
  len = strlen(value);
  if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
    value[len - 1] = '\0';
    value++;
  }
  if (*key == '\0')
    return -EINVAL;
  return handler(section, key, value, userdata);
}

int ini_parse_file(const char *path, ini_handler handler, void *userdata, int *out_error_line)
{
  char line[4096], section[128] = "";
  int lineno = 0, r = 0;
  FILE *f = fopen(path, "re");

  if (!f)
    return -errno;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) {
      r = -EINVAL; /* a line longer than anyone writes by hand */
      break;
    }
    r = parse_line(line, section, sizeof section, handler, userdata);
    if (r < 0)
      break;
  }
  if (r == 0 && ferror(f))
    r = -EIO;
  fclose(f);
  if (r < 0 && out_error_line)
    *out_error_line = lineno;
  return r;
}
