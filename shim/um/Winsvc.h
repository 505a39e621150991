/* Winsvc.h - iosim shim: forwards to winsvc.h (Windows file names are case-insensitive). */
#include "winsvc.h"
