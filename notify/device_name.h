/* The name phonebind-notify calls a phone by. The terminal's Vendor and
 * Model come from the phone's USB descriptors, which a hostile device
 * chooses: the name is sanitised and kept short whatever they hold. */
#pragma once

/* The model ("Pixel 7"), else the vendor's phone ("Google phone"), else
 * "A phone"; either may be NULL. Control characters, bidirectional
 * overrides and invalid UTF-8 become '?', surrounding spaces go, and a
 * model or vendor longer than 40 characters is cut to 39 and "…". Owned
 * by the caller (free()). */
char *device_name(const char *vendor, const char *model);
