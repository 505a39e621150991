/* Ntstrsafe.h - iosim shim: forwards to ntstrsafe.h (Windows file names are case-insensitive). */
#include "ntstrsafe.h"
