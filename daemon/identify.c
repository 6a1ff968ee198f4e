/* Identification; see identify.h. */
#include "identify.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The first of a property or a sysfs attribute that is set. */
static char *read_value(struct udev_device *device, const char *property, const char *sysattr)
{
  const char *value = property ? udev_device_get_property_value(device, property) : NULL;

  if ((!value || !*value) && sysattr)
    value = udev_device_get_sysattr_value(device, sysattr);
  return xstrdup(value ? value : "");
}

void identify_read_device(struct udev_device *device, struct phone_info *out_info)
{
  *out_info = (struct phone_info){
    .vendor_id = read_value(device, "ID_VENDOR_ID", "idVendor"),
    .product_id = read_value(device, "ID_MODEL_ID", "idProduct"),
    .vendor = read_value(device, "ID_VENDOR_FROM_DATABASE", "manufacturer"),
    .model = read_value(device, "ID_MODEL_FROM_DATABASE", "product"),
    /* udev drops ID_SERIAL_SHORT for serials with control characters or
     * commas; the raw attribute then goes through the same usability
     * check and is refused there, as it must be on every PC. */
    .serial = read_value(device, "ID_SERIAL_SHORT", "serial"),
    .devnode = read_value(device, "DEVNAME", NULL),
    .busnum = read_value(device, "BUSNUM", "busnum"),
    .devnum = read_value(device, "DEVNUM", "devnum"),
  };
  if (!*out_info->vendor) {
    free(out_info->vendor);
    out_info->vendor = read_value(device, "ID_VENDOR", NULL);
  }
  if (!*out_info->model) {
    free(out_info->model);
    out_info->model = read_value(device, "ID_MODEL", NULL);
  }
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

bool identify_needs_imei(enum terminal_id_rule rule, const struct phone_info *info)
{
  return rule == TERMINAL_ID_RULE_IMEI || !terminal_serial_is_usable(info->serial);
}

enum terminal_id_kind identify_choose(enum terminal_id_rule rule, const struct phone_info *info,
                                      const char *imei, char *out, size_t out_size)
{
  return terminal_id_choose(rule, info->vendor_id, info->serial, imei, out, out_size);
}
