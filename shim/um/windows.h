/*
 * windows.h - iosim shim (user mode): the Win32 API for console app sources, unchanged.
 *
 * Compile app code with this folder and ../common on the include path and with
 * -fshort-wchar (iosim_add_app does both, and defines UNICODE/_UNICODE unless ANSI).
 * The API is split by area, each file with its own notes:
 *   um_base.h     handle types (DECLARE_HANDLE), TCHAR/TEXT, OVERLAPPED, SECURITY_ATTRIBUTES,
 *                 FILETIME/SYSTEMTIME, CRITICAL_SECTION, ZeroMemory & co., Interlocked*
 *   um_fileapi.h  CreateFile, ReadFile/WriteFile(Ex), DeviceIoControl, overlapped results,
 *                 cancellation, handles, GetLastError, modules
 *   um_sync.h     events, mutexes, semaphores, waits, threads, APCs, completion ports, time
 *   um_mem.h      heap, virtual, local/global memory, lstr*, MultiByteToWideChar
 *   um_user.h     MessageBox
 *   winsvc.h      the service control manager (install/start/stop drivers)
 *   tchar.h       _tmain, _T(), _tprintf & co. (apps only)
 * CTL_CODE and FILE_DEVICE_* come with devioctl.h, as windows.h provides them on Windows;
 * the extra disk/storage IOCTLs are in winioctl.h.
 *
 * On iosim, windows.h also makes <stdio.h>, <stdlib.h>, <string.h>, <wchar.h>, <ctype.h>
 * and <tchar.h> available: Visual Studio console templates get them through stdafx.h, and
 * sources copied without their stdafx.h rely on that. The C runtime comes through
 * iosim_crt.h, first, so printf/getchar/sprintf/wcslen in app code are iosim's
 * Windows-compatible versions (console I/O goes through the simulated process); in C++
 * um_cxxcrt.h keeps later <cstdio>/<string> includes from undoing that.
 *
 * min/max are macros in C only (in C++ they break libstdc++; use std::min / std::max).
 *
 * With IOSIM_IMPLEMENTATION (iosim's own code, built without -fshort-wchar), WCHAR is
 * char16_t, tchar.h is not pulled in and no app-facing renames happen; the A/W macros
 * follow UNICODE, which iosim's own code does not define. This header and wdm.h may be
 * included together, in either order.
 */
#ifndef IOSIM_WINDOWS_H
#define IOSIM_WINDOWS_H

#define IOSIM_USER_MODE 1
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif
#ifndef WINVER
#define WINVER _WIN32_WINNT
#endif
/* Apps see a 64-bit Windows target; iosim's own code must not (fmt, spdlog, Boost check _WIN32). */
#ifndef IOSIM_IMPLEMENTATION
#ifndef _WIN32
#define _WIN32 1
#endif
#ifndef _WIN64
#define _WIN64 1
#endif
#endif

#pragma GCC diagnostic ignored "-Wunknown-pragmas"

#include "um_cxxcrt.h" /* iosim_crt.h, made safe for C++ */
#include "iosim_basetypes.h"
#include "iosim_access.h"
#include "devioctl.h"
#include "winerror.h"
#include "guiddef.h" /* GUID helpers and DEFINE_GUID, as windows.h provides them */

#include "um_base.h"
#include "um_fileapi.h"
#include "um_pipe.h"
#include "um_sync.h"
#include "um_mem.h"
#include "um_user.h"
#include "winsvc.h"
#include "iosim_seh.h" /* __try/__except/__finally/__leave, GetExceptionCode() */

#ifndef IOSIM_IMPLEMENTATION
#include "tchar.h"
#endif

#endif /* IOSIM_WINDOWS_H */
