/* Identification; see identify.h. */
#include "identify.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void phone_info_copy(const struct phone_info *from, struct phone_info *out_info)
{
  *out_info = (struct phone_info){
    .vendor_id = xstrdup(from->vendor_id),
    .product_id = xstrdup(from->product_id),
    .vendor = xstrdup(from->vendor),
    .model = xstrdup(from->model),
    .serial = xstrdup(from->serial),
    .devnode = xstrdup(from->devnode),
    .busnum = xstrdup(from->busnum),
    .devnum = xstrdup(from->devnum),
  };
}

void phone_info_clear(struct phone_info *info)
{
  free(info->vendor_id);
  free(info->product_id);
  free(info->vendor);
  free(info->model);
  free(info->serial);
  free(info->devnode);
  free(info->busnum);
  free(info->devnum);
  *info = (struct phone_info){0};
}

bool phone_info_same_attachment(const struct phone_info *a, const struct phone_info *b)
{
  return strcmp(a->vendor_id, b->vendor_id) == 0 && strcmp(a->serial, b->serial) == 0 &&
         strcmp(a->busnum, b->busnum) == 0 && strcmp(a->devnum, b->devnum) == 0;
}

bool identify_needs_imei(enum terminal_id_rule rule, const struct phone_info *info)
{
  return rule == TERMINAL_ID_RULE_IMEI || !terminal_serial_is_usable(info->serial);
}

enum terminal_id_kind identify_choose(enum terminal_id_rule rule, const struct phone_info *info,
                                      const char *imei, char *out, size_t out_size)
{
  return terminal_id_choose(rule, info->vendor_id, info->serial, imei, out, out_size);
}
