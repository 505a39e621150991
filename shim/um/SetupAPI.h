/* SetupAPI.h - iosim shim: forwards to setupapi.h (Windows file names are case-insensitive). */
#include "setupapi.h"
