/* Windows.h - iosim shim: forwards to windows.h (Windows file names are case-insensitive). */
#include "windows.h"
