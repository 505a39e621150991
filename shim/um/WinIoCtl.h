/* WinIoCtl.h - iosim shim: forwards to winioctl.h (Windows file names are case-insensitive). */
#include "winioctl.h"
