/*
 * iosim_basetypes.h - iosim shim: the Windows data model shared by kernel and user code.
 *
 * Windows is LLP64: int, long, ULONG and DWORD are 32 bits, pointers and ULONG_PTR
 * 64 bits. Linux is LP64 (long is 64 bits), so every Windows integer type here is
 * spelled with a fixed-width host type, never with 'long'.
 *
 * WCHAR is 16 bits. Driver and app code is compiled with -fshort-wchar so that
 * L"..." literals are UTF-16 and wchar_t is WCHAR, exactly as on Windows. iosim's
 * own implementation is built without that flag (the host C++ library assumes
 * 32-bit wchar_t) and sees WCHAR as char16_t: same size, same ABI.
 *
 * Rules: no function declarations here, only types and macros; C and C++ alike.
 */
#ifndef IOSIM_BASETYPES_H
#define IOSIM_BASETYPES_H

#include <stddef.h>
#include <stdint.h>
#include "sal.h"

#if !defined(IOSIM_IMPLEMENTATION) && __SIZEOF_WCHAR_T__ != 2
#error "iosim: Windows sources must be compiled with -fshort-wchar (iosim_add_driver / iosim_add_app add it)"
#endif

#ifdef __cplusplus
#define IOSIM_EXTERN_C extern "C"
#define IOSIM_BEGIN_DECLS extern "C" {
#define IOSIM_END_DECLS }
#else
#define IOSIM_EXTERN_C extern
#define IOSIM_BEGIN_DECLS
#define IOSIM_END_DECLS
#endif

/* ---- calling conventions and declaration decorations (no meaning on x86-64 Linux) ---- */
#define __stdcall
#define __cdecl
#define __fastcall
#define _stdcall
#define _cdecl
#define __ptr64
#define __ptr32
#define __unaligned
#define __w64
#define NTAPI
#define NTAPI_INLINE
#define WINAPI
#define WINAPIV
#define APIENTRY
#define CALLBACK
#define PASCAL
#define NTKERNELAPI
#define NTHALAPI
#define NTSYSAPI
#define NTSYSCALLAPI
#define WINBASEAPI
#define WINADVAPI
#define WINUSERAPI
#define DECLSPEC_IMPORT
#define DECLSPEC_EXPORT __attribute__((visibility("default")))
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_ALIGN(n) __attribute__((aligned(n)))
#define DECLSPEC_CACHEALIGN __attribute__((aligned(64)))
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_NOVTABLE
#define DECLSPEC_DEPRECATED
#define DECLSPEC_DEPRECATED_DDK
#define DECLSPEC_GUARDNOCF
#define CONST const
#define IN
#define OUT
#define OPTIONAL
#define UNALIGNED
#define RESTRICTED_POINTER
#define __volatile volatile

/* __declspec(x): map the spellings Windows sources use to GCC attributes. */
#define __declspec(x) __iosim_declspec_##x
#define __iosim_declspec_dllexport __attribute__((visibility("default")))
#define __iosim_declspec_dllimport
#define __iosim_declspec_noinline __attribute__((noinline))
#define __iosim_declspec_noreturn __attribute__((noreturn))
#define __iosim_declspec_selectany __attribute__((weak))
#define __iosim_declspec_novtable
#define __iosim_declspec_nothrow
#define __iosim_declspec_deprecated __attribute__((deprecated))
#define __iosim_declspec_thread __thread
#define __iosim_declspec_naked
#define __iosim_declspec_restrict
#define __iosim_declspec_noalias
#define __iosim_declspec_align(n) __attribute__((aligned(n)))
#define __iosim_declspec_allocate(s)
#define __iosim_declspec_code_seg(s)
#define __iosim_declspec_guard(x)

#ifdef __cplusplus
#define FORCEINLINE inline __attribute__((always_inline))
#define __forceinline inline __attribute__((always_inline))
#else
#define FORCEINLINE static inline __attribute__((always_inline))
#define __forceinline static inline __attribute__((always_inline))
#endif
#define __inline inline

/* MSVC's sized integer keywords. */
#define __int8 char
#define __int16 short
#define __int32 int
#define __int64 long long

/* ---- fundamental types ---- */
#ifndef VOID
#define VOID void
#endif
typedef void *PVOID, *LPVOID;
typedef const void *PCVOID, *LPCVOID;
typedef char CHAR, CCHAR, *PCHAR, *PCCHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef unsigned char BYTE, *PBYTE, *LPBYTE;
typedef short SHORT, CSHORT, *PSHORT;
typedef unsigned short USHORT, *PUSHORT;
typedef unsigned short WORD, *PWORD, *LPWORD;
typedef int INT, *PINT, *LPINT;
typedef unsigned int UINT, *PUINT;
typedef int32_t LONG, *PLONG, *LPLONG;
typedef uint32_t ULONG, *PULONG;
typedef uint32_t DWORD, *PDWORD, *LPDWORD;
typedef uint32_t ULONG32, *PULONG32, DWORD32, *PDWORD32, UINT32, *PUINT32;
typedef int32_t LONG32, *PLONG32, INT32, *PINT32;
typedef long long LONGLONG, *PLONGLONG, LONG64, *PLONG64, INT64, *PINT64;
typedef unsigned long long ULONGLONG, *PULONGLONG, ULONG64, *PULONG64, DWORD64, *PDWORD64, UINT64, *PUINT64, DWORDLONG, *PDWORDLONG;
typedef signed char INT8, *PINT8;
typedef unsigned char UINT8, *PUINT8;
typedef short INT16, *PINT16;
typedef unsigned short UINT16, *PUINT16;
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef int BOOL, *PBOOL, *LPBOOL;
typedef float FLOAT, *PFLOAT;
typedef double DOUBLE;

typedef intptr_t LONG_PTR, *PLONG_PTR, INT_PTR, *PINT_PTR, SSIZE_T, *PSSIZE_T;
typedef uintptr_t ULONG_PTR, *PULONG_PTR, UINT_PTR, *PUINT_PTR, DWORD_PTR, *PDWORD_PTR, SIZE_T, *PSIZE_T, KAFFINITY, *PKAFFINITY;

#if defined(IOSIM_IMPLEMENTATION) && __SIZEOF_WCHAR_T__ != 2
#ifdef __cplusplus
typedef char16_t WCHAR;
#else
typedef uint16_t WCHAR;
#endif
#else
typedef wchar_t WCHAR;
#endif
typedef WCHAR *PWCHAR, *LPWCH, *PWCH, *PWSTR, *LPWSTR, *NWPSTR;
typedef const WCHAR *PCWCH, *LPCWCH, *PCWSTR, *LPCWSTR;
typedef CHAR *PSTR, *LPSTR, *NPSTR, *LPCH, *PCH;
typedef const CHAR *PCSTR, *LPCSTR, *PCCH, *LPCCH;
typedef PCSTR PCSZ;

typedef void *HANDLE, **PHANDLE, **LPHANDLE;
typedef LONG HRESULT;

#ifndef NULL
#ifdef __cplusplus
#define NULL 0
#else
#define NULL ((void *)0)
#endif
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif

#define MAXUCHAR 0xff
#define MAXUSHORT 0xffff
#define MAXULONG 0xffffffffU
#define MAXLONG 0x7fffffff
#define MINLONG ((LONG)0x80000000)
#define MAXLONGLONG 0x7fffffffffffffffLL
#define MAXDWORD 0xffffffffU
#define MAXSIZE_T ((SIZE_T)~((SIZE_T)0))

/* ---- 64-bit integers as structs ---- */
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef LARGE_INTEGER LUID_AS_LARGE, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID, *PGUID, *LPGUID;
typedef const GUID *LPCGUID, *PCGUID;

/* ---- doubly and singly linked lists ---- */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY, *PRLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

/* ---- structure helpers ---- */
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field) (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define CONTAINING_RECORD(address, type, field) \
    ((type *)((PCHAR)(address) - (ULONG_PTR)(&((type *)0)->field)))
#define RTL_NUMBER_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ARRAYSIZE(a) RTL_NUMBER_OF(a)
#ifndef _countof
#define _countof(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifdef __cplusplus
#define C_ASSERT(e) static_assert((e), #e)
#else
#define C_ASSERT(e) _Static_assert((e), #e)
#endif
#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define DBG_UNREFERENCED_PARAMETER(p) ((void)(p))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(v) ((void)(v))
#define UNREFERENCED_LOCAL_VARIABLE(v) ((void)(v))
#define ALIGN_DOWN_BY(length, alignment) ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment) - 1))
#define ALIGN_UP_BY(length, alignment) (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment) - 1), alignment))
#define MAKELONG(a, b) ((LONG)(((WORD)(((DWORD_PTR)(a)) & 0xffff)) | ((DWORD)((WORD)(((DWORD_PTR)(b)) & 0xffff))) << 16))
#define MAKEWORD(a, b) ((WORD)(((BYTE)(((DWORD_PTR)(a)) & 0xff)) | ((WORD)((BYTE)(((DWORD_PTR)(b)) & 0xff))) << 8))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define LOBYTE(w) ((BYTE)(((DWORD_PTR)(w)) & 0xff))
#define HIBYTE(w) ((BYTE)((((DWORD_PTR)(w)) >> 8) & 0xff))

/* A full memory barrier. ThreadSanitizer does not model __atomic_thread_fence (and GCC warns
 * about it under -fsanitize=thread), so a TSan build uses the older builtin. */
#if defined(__SANITIZE_THREAD__)
#define IOSIM_FULL_BARRIER() __sync_synchronize()
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IOSIM_FULL_BARRIER() __sync_synchronize()
#endif
#endif
#ifndef IOSIM_FULL_BARRIER
#define IOSIM_FULL_BARRIER() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* Text macros for explicitly wide literals (TEXT/_T live in tchar.h / windows.h). */
#define __IOSIM_L(x) L##x
#define _L_IOSIM(x) __IOSIM_L(x)

#endif /* IOSIM_BASETYPES_H */
