/*
 * initguid.h - iosim shim: makes the DEFINE_GUIDs that follow define their GUIDs.
 *
 * Include it once per module, before the header that declares the module's GUIDs with
 * DEFINE_GUID (#include <initguid.h> then #include "public.h"), as on Windows.
 */
#ifndef INITGUID
#define INITGUID
#endif
#include "guiddef.h"
