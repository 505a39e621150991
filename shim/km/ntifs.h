/*
 * ntifs.h - iosim shim: the file-system and filter kit header (a superset of ntddk.h).
 * iosim has no file systems; sources that include ntifs.h for its extra process and
 * object routines get ntddk.h's declarations, which already hold them.
 */
#ifndef IOSIM_NTIFS_H
#define IOSIM_NTIFS_H
#include "ntddk.h"
#endif
