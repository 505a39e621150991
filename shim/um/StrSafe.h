/* StrSafe.h - iosim shim: forwards to strsafe.h (Windows file names are case-insensitive). */
#include "strsafe.h"
