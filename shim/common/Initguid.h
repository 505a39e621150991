/* Initguid.h - iosim shim: forwards to initguid.h (Windows file names are case-insensitive). */
#include "initguid.h"
