/*
 * stdafx.h - iosim shim (user mode): what a Visual Studio console project's precompiled
 * header holds (targetver.h + <stdio.h> + <tchar.h>, plus <windows.h>, which most driver
 * samples add to it). Sources listed without their own stdafx.h still build; a project
 * that ships its own stdafx.h next to its sources gets that one instead ("..." looks in
 * the source's folder first).
 */
#ifndef IOSIM_STDAFX_H
#define IOSIM_STDAFX_H

/* targetver.h: the newest Windows (SDKDDKVer.h would pick it the same way). */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif

#include <stdio.h>
#include "tchar.h"
#include "windows.h"

#endif /* IOSIM_STDAFX_H */
