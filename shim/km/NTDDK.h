/* NTDDK.h - iosim shim: forwards to ntddk.h (Windows file names are case-insensitive). */
#include "ntddk.h"
