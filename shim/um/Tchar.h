/* Tchar.h - iosim shim: forwards to tchar.h (Windows file names are case-insensitive). */
#include "tchar.h"
