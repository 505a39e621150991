/* WDM.h - iosim shim: forwards to wdm.h (Windows file names are case-insensitive). */
#include "wdm.h"
