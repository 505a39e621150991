/*
 * um_base.h - iosim shim (user mode): the winnt.h / minwindef.h / minwinbase.h part of
 * windows.h: handle types, TCHAR, structures shared by the Win32 API, memory macros.
 *
 * Included by windows.h; do not include it directly. Rules for every um_*.h:
 *  - C11 and C++ alike; declarations and macros only (the Win32 API layer that implements
 *    them lives in sim_io_manager/win32).
 *  - Nothing already in shim/common is redefined, and names that wdm.h (shim/km) also
 *    defines are either guarded or spelled token for token as there, so a translation
 *    unit of iosim's own may include windows.h and wdm.h together, in either order.
 *  - A/W mapping macros exist only when UNICODE is defined, exactly as on Windows.
 */
#ifndef IOSIM_UM_BASE_H
#define IOSIM_UM_BASE_H

#include "iosim_basetypes.h"

/* ---- handles: distinct pointer types, as with STRICT on Windows ---- */
#ifndef DECLARE_HANDLE
#define DECLARE_HANDLE(name) \
    struct name##__ {        \
        int unused;          \
    };                       \
    typedef struct name##__ *name
#endif
#ifndef STRICT
#define STRICT 1
#endif

DECLARE_HANDLE(HWND);
DECLARE_HANDLE(HINSTANCE);
DECLARE_HANDLE(HKEY);
DECLARE_HANDLE(HICON);
DECLARE_HANDLE(HMENU);
DECLARE_HANDLE(SC_HANDLE);
DECLARE_HANDLE(SERVICE_STATUS_HANDLE);
typedef HINSTANCE HMODULE;
typedef HKEY *PHKEY;
typedef SC_HANDLE *LPSC_HANDLE;
/* As on Windows, HLOCAL and HGLOBAL are plain HANDLEs: LocalFree(pointer) must compile. */
typedef HANDLE HLOCAL;
typedef HANDLE HGLOBAL;
typedef HANDLE HRSRC;

typedef WORD ATOM;
typedef DWORD COLORREF, *LPCOLORREF;
typedef DWORD LCID;
typedef WORD LANGID;
typedef LONG_PTR LPARAM, LRESULT;
typedef UINT_PTR WPARAM;
typedef INT_PTR(WINAPI *FARPROC)(void);
typedef PVOID PSECURITY_DESCRIPTOR; /* identical to km_io.h's typedef, so both may be seen */

#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#define MAX_PATH 260
#define INFINITE 0xFFFFFFFF

/* ---- wait results (literal values: STATUS_* belong to ntstatus.h, kernel side) ---- */
#define WAIT_OBJECT_0 ((DWORD)0x00000000)
#define WAIT_ABANDONED ((DWORD)0x00000080)
#define WAIT_ABANDONED_0 ((DWORD)0x00000080)
#define WAIT_IO_COMPLETION ((DWORD)0x000000C0)
#define WAIT_FAILED ((DWORD)0xFFFFFFFF)
#ifndef WAIT_TIMEOUT /* winerror.h has it too */
#define WAIT_TIMEOUT 258
#endif
#define MAXIMUM_WAIT_OBJECTS 64
#define STILL_ACTIVE ((DWORD)0x00000103)

/* ---- TCHAR: keyed on UNICODE here; tchar.h keys _TCHAR on _UNICODE ---- */
#ifdef UNICODE
#ifndef _TCHAR_DEFINED
#define _TCHAR_DEFINED
typedef WCHAR TCHAR, *PTCHAR;
typedef WCHAR TBYTE, *PTBYTE;
#endif
typedef LPWSTR LPTSTR, PTSTR, LPTCH, PTCH;
typedef LPCWSTR LPCTSTR, PCTSTR, LPCTCH, PCTCH;
#define __TEXT(quote) L##quote
#else
#ifndef _TCHAR_DEFINED
#define _TCHAR_DEFINED
typedef char TCHAR, *PTCHAR;
typedef unsigned char TBYTE, *PTBYTE;
#endif
typedef LPSTR LPTSTR, PTSTR, LPTCH, PTCH;
typedef LPCSTR LPCTSTR, PCTSTR, LPCTCH, PCTCH;
#define __TEXT(quote) quote
#endif
#define TEXT(quote) __TEXT(quote)

/*
 * min and max: only in C. In C++ they would turn std::min / std::max / numeric_limits<>::max()
 * inside libstdc++ headers into garbage, so C++ sources use std::min / std::max (as Windows
 * C++ code does with NOMINMAX). Not defined for iosim's own code either.
 */
#if !defined(__cplusplus) && !defined(NOMINMAX) && !defined(IOSIM_IMPLEMENTATION)
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#endif

/* ---- structures ---- */
typedef struct _SECURITY_ATTRIBUTES {
    DWORD nLength;
    LPVOID lpSecurityDescriptor;
    BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

typedef struct _OVERLAPPED {
    ULONG_PTR Internal;     /* NTSTATUS of the request; STATUS_PENDING (0x103) while in flight */
    ULONG_PTR InternalHigh; /* bytes transferred */
    union {
        struct {
            DWORD Offset;
            DWORD OffsetHigh;
        };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

typedef struct _OVERLAPPED_ENTRY {
    ULONG_PTR lpCompletionKey;
    LPOVERLAPPED lpOverlapped;
    ULONG_PTR Internal;
    DWORD dwNumberOfBytesTransferred;
} OVERLAPPED_ENTRY, *LPOVERLAPPED_ENTRY;

typedef void(WINAPI *LPOVERLAPPED_COMPLETION_ROUTINE)(DWORD dwErrorCode, DWORD dwNumberOfBytesTransfered,
                                                      LPOVERLAPPED lpOverlapped);

#define HasOverlappedIoCompleted(lpOverlapped) (((DWORD)(lpOverlapped)->Internal) != 0x00000103)

typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME, *LPSYSTEMTIME;

typedef DWORD(WINAPI *PTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
typedef PTHREAD_START_ROUTINE LPTHREAD_START_ROUTINE;
typedef void(NTAPI *PAPCFUNC)(ULONG_PTR Parameter);

/* The Windows x64 layout (40 bytes); the Win32 layer keeps its own state in these fields. */
typedef struct _RTL_CRITICAL_SECTION_DEBUG *PRTL_CRITICAL_SECTION_DEBUG;
typedef struct _RTL_CRITICAL_SECTION {
    PRTL_CRITICAL_SECTION_DEBUG DebugInfo;
    LONG LockCount;
    LONG RecursionCount;
    HANDLE OwningThread;
    HANDLE LockSemaphore;
    ULONG_PTR SpinCount;
} RTL_CRITICAL_SECTION, *PRTL_CRITICAL_SECTION;
typedef RTL_CRITICAL_SECTION CRITICAL_SECTION, *PCRITICAL_SECTION, *LPCRITICAL_SECTION;

/* ---- memory macros (the Rtl* spellings are token-identical to km_rtl.h's) ---- */
#ifndef RtlZeroMemory
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlSecureZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#endif
#define ZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define SecureZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define CopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define MoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define FillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define EqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))

/* ---- interlocked operations (token-identical to km_ke.h's, so either may come first) ---- */
#ifndef InterlockedIncrement
#define InterlockedIncrement(p) ((LONG)__atomic_add_fetch((volatile LONG *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedDecrement(p) ((LONG)__atomic_sub_fetch((volatile LONG *)(p), 1, __ATOMIC_SEQ_CST))
#define InterlockedExchange(p, v) ((LONG)__atomic_exchange_n((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedExchangeAdd(p, v) ((LONG)__atomic_fetch_add((volatile LONG *)(p), (LONG)(v), __ATOMIC_SEQ_CST))
#define InterlockedCompareExchange(p, x, c) ((LONG)__sync_val_compare_and_swap((volatile LONG *)(p), (LONG)(c), (LONG)(x)))
#define InterlockedExchangePointer(p, v) ((PVOID)__atomic_exchange_n((PVOID volatile *)(p), (PVOID)(v), __ATOMIC_SEQ_CST))
#define InterlockedCompareExchangePointer(p, x, c) \
    ((PVOID)__sync_val_compare_and_swap((PVOID volatile *)(p), (PVOID)(c), (PVOID)(x)))
#define MemoryBarrier() IOSIM_FULL_BARRIER()
#define YieldProcessor() ((void)0)
#endif

#endif /* IOSIM_UM_BASE_H */
