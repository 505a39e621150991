/* CfgMgr32.h - iosim shim: forwards to cfgmgr32.h (Windows file names are case-insensitive). */
#include "cfgmgr32.h"
