/*
 * um_cxxcrt.h - iosim shim (user mode): iosim_crt.h made safe for C++ app sources.
 *
 * iosim_crt.h redirects printf, getchar, wcslen, ... to iosim_* with macros. In C++ two
 * things would undo or break that:
 *  1. libstdc++'s <cstdio>, <cwchar>, <cstdlib>, <cctype>, <cwctype> #undef those names
 *     (they are allowed to be macros in C). Included AFTER the redirections, e.g. by
 *     <string> or <iostream> below windows.h, they would silently send printf back to
 *     glibc, past the simulated console. So they are included here first; their include
 *     guards make every later inclusion a no-op.
 *  2. A qualified std::printf / std::wcslen (in user code, or std::vswprintf / std::wcstol
 *     inside <string>) becomes std::iosim_printf / std::iosim_wcslen after the macros, so
 *     the iosim_* functions are also made members of namespace std (using-declarations:
 *     the very same functions, no ambiguity).
 * windows.h and tchar.h include this instead of iosim_crt.h. Not used by iosim's own code
 * (IOSIM_IMPLEMENTATION), where there are no redirections. The same treatment would
 * help C++ drivers (wdm.h includes iosim_crt.h directly).
 *
 * The wmem* functions (glibc's assume a 32-bit wchar_t) are redirected here too, to
 * static inline 16-bit versions, for C and C++ apps: libstdc++'s char_traits<wchar_t>
 * uses wcslen and wmem*, so std::wstring works in app code when <string> is first
 * included after windows.h / tchar.h / stdafx.h (the usual order). A C++ header parsed
 * before them keeps glibc's 32-bit versions: a known limit of macro redirection.
 */
#ifndef IOSIM_UM_CXXCRT_H
#define IOSIM_UM_CXXCRT_H

#if defined(__cplusplus) && !defined(IOSIM_IMPLEMENTATION)
extern "C++" {
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <cwctype>
}
#endif

#include "iosim_crt.h"

#ifndef IOSIM_IMPLEMENTATION
static inline wchar_t *iosim_um_wmemcpy(wchar_t *d, const wchar_t *s, size_t n)
{
    return (wchar_t *)memcpy(d, s, n * sizeof(wchar_t));
}
static inline wchar_t *iosim_um_wmemmove(wchar_t *d, const wchar_t *s, size_t n)
{
    return (wchar_t *)memmove(d, s, n * sizeof(wchar_t));
}
static inline wchar_t *iosim_um_wmemset(wchar_t *d, wchar_t c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        d[i] = c;
    return d;
}
static inline int iosim_um_wmemcmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}
static inline wchar_t *iosim_um_wmemchr(const wchar_t *s, wchar_t c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] == c)
            return (wchar_t *)(s + i);
    return NULL;
}
#ifndef wmemcpy
#define wmemcpy iosim_um_wmemcpy
#define wmemmove iosim_um_wmemmove
#define wmemset iosim_um_wmemset
#define wmemcmp iosim_um_wmemcmp
#define wmemchr iosim_um_wmemchr
#endif
#endif


/* ---- the C heap of an app: its process heap ----
 * malloc and friends in app code allocate from the simulated process's heap, in its
 * user address space (sim_kernel/mm/user_heap.h), so a buffer an app passes to
 * DeviceIoControl really belongs to its process. free() of a block glibc made (strdup)
 * still works: iosim_free hands blocks it does not own back to the host. */
#if !defined(IOSIM_IMPLEMENTATION)
IOSIM_BEGIN_DECLS
void *iosim_malloc(size_t size);
void *iosim_calloc(size_t count, size_t size);
void *iosim_realloc(void *block, size_t size);
void iosim_free(void *block);
size_t iosim_msize(void *block);
IOSIM_END_DECLS
#define malloc iosim_malloc
#define calloc iosim_calloc
#define realloc iosim_realloc
#define free iosim_free
#define _msize iosim_msize
#endif

#if defined(__cplusplus) && !defined(IOSIM_IMPLEMENTATION)
extern "C++" {
namespace std {
using ::iosim_malloc;
using ::iosim_calloc;
using ::iosim_realloc;
using ::iosim_free;
using ::iosim_fflush;
using ::iosim_fgets;
using ::iosim_fprintf;
using ::iosim_fputs;
using ::iosim_fwprintf;
using ::iosim_getchar;
using ::iosim_iswalpha;
using ::iosim_iswdigit;
using ::iosim_iswspace;
using ::iosim_printf;
using ::iosim_putchar;
using ::iosim_puts;
using ::iosim_sprintf;
using ::iosim_swprintf;
using ::iosim_towlower;
using ::iosim_towupper;
using ::iosim_vfprintf;
using ::iosim_vprintf;
using ::iosim_vsprintf;
using ::iosim_vswprintf;
using ::iosim_vwprintf;
using ::iosim_wcscat;
using ::iosim_wcschr;
using ::iosim_wcscmp;
using ::iosim_wcscpy;
using ::iosim_wcslen;
using ::iosim_wcsncat;
using ::iosim_wcsncmp;
using ::iosim_wcsncpy;
using ::iosim_wcsrchr;
using ::iosim_wcsstr;
using ::iosim_wcstol;
using ::iosim_wcstoul;
using ::iosim_wprintf;
using ::iosim_um_wmemchr;
using ::iosim_um_wmemcmp;
using ::iosim_um_wmemcpy;
using ::iosim_um_wmemmove;
using ::iosim_um_wmemset;
} // namespace std
}
#endif

#endif /* IOSIM_UM_CXXCRT_H */
