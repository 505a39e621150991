/*
 * iosim_crt.h - iosim shim: the Microsoft C runtime as Windows driver and app sources see it.
 *
 * Two problems are solved here, for kernel and user code alike:
 *
 *  1. Names glibc lacks: _stricmp, _wcsicmp, sprintf_s, _countof, _itoa, ...
 *  2. Names glibc has with the wrong meaning for Windows sources:
 *     - the wcs* functions assume a 32-bit wchar_t, but WCHAR is 16 bits here;
 *     - the printf family reads %ld as 64 bits and %S/%ls as 32-bit wide strings,
 *       while Windows reads %ld as 32 bits and %S/%ls/%ws as UTF-16.
 *     Each such name is redirected by a macro to an iosim_ function with Windows
 *     semantics. The system headers are included first so that their own declarations
 *     are seen before the macros exist; a later #include of them is a no-op.
 *
 * In app code, console output and input (printf, puts, getchar, ...) also go through the
 * simulated process, so iosim can label, capture and feed them; see sim_io_manager/win32.
 * Rules: declarations and macros only. Implementation: sim_kernel/crt/.
 */
#ifndef IOSIM_CRT_H
#define IOSIM_CRT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <ctype.h>
#include <wctype.h>
#include "iosim_basetypes.h"

IOSIM_BEGIN_DECLS

typedef int errno_t;
typedef size_t rsize_t;
#ifndef _TRUNCATE
#define _TRUNCATE ((size_t)-1)
#endif
#ifndef STRUNCATE
#define STRUNCATE 80
#endif

/* ---- narrow string extensions ---- */
int iosim_stricmp(const char *a, const char *b);
int iosim_strnicmp(const char *a, const char *b, size_t n);
char *iosim_strlwr(char *s);
char *iosim_strupr(char *s);
errno_t iosim_strcpy_s(char *dst, rsize_t size, const char *src);
errno_t iosim_strncpy_s(char *dst, rsize_t size, const char *src, rsize_t count);
errno_t iosim_strcat_s(char *dst, rsize_t size, const char *src);
errno_t iosim_memcpy_s(void *dst, rsize_t size, const void *src, rsize_t count);
errno_t iosim_memmove_s(void *dst, rsize_t size, const void *src, rsize_t count);
char *iosim_itoa(int value, char *buf, int radix);
char *iosim_ultoa(unsigned long value, char *buf, int radix);
char *iosim_i64toa(long long value, char *buf, int radix);
char *iosim_ui64toa(unsigned long long value, char *buf, int radix);
#ifndef IOSIM_IMPLEMENTATION
#define _stricmp iosim_stricmp
#define stricmp iosim_stricmp
#define _strcmpi iosim_stricmp
#define _strnicmp iosim_strnicmp
#define strnicmp iosim_strnicmp
#define _strlwr iosim_strlwr
#define _strupr iosim_strupr
#define strcpy_s iosim_strcpy_s
#define strncpy_s iosim_strncpy_s
#define strcat_s iosim_strcat_s
#define memcpy_s iosim_memcpy_s
#define memmove_s iosim_memmove_s
#define _itoa iosim_itoa
#define itoa iosim_itoa
#define _ultoa iosim_ultoa
#define _i64toa iosim_i64toa
#define _ui64toa iosim_ui64toa
#define _strdup strdup
#endif

/* ---- 16-bit wide strings (never glibc's wcs*: those assume 32-bit wchar_t) ---- */
size_t iosim_wcslen(const WCHAR *s);
size_t iosim_wcsnlen(const WCHAR *s, size_t max);
WCHAR *iosim_wcscpy(WCHAR *dst, const WCHAR *src);
WCHAR *iosim_wcsncpy(WCHAR *dst, const WCHAR *src, size_t n);
WCHAR *iosim_wcscat(WCHAR *dst, const WCHAR *src);
WCHAR *iosim_wcsncat(WCHAR *dst, const WCHAR *src, size_t n);
int iosim_wcscmp(const WCHAR *a, const WCHAR *b);
int iosim_wcsncmp(const WCHAR *a, const WCHAR *b, size_t n);
int iosim_wcsicmp(const WCHAR *a, const WCHAR *b);
int iosim_wcsnicmp(const WCHAR *a, const WCHAR *b, size_t n);
WCHAR *iosim_wcschr(const WCHAR *s, WCHAR c);
WCHAR *iosim_wcsrchr(const WCHAR *s, WCHAR c);
WCHAR *iosim_wcsstr(const WCHAR *s, const WCHAR *sub);
WCHAR *iosim_wcslwr(WCHAR *s);
WCHAR *iosim_wcsupr(WCHAR *s);
WCHAR *iosim_wcsdup(const WCHAR *s);
errno_t iosim_wcscpy_s(WCHAR *dst, rsize_t size, const WCHAR *src);
errno_t iosim_wcsncpy_s(WCHAR *dst, rsize_t size, const WCHAR *src, rsize_t count);
errno_t iosim_wcscat_s(WCHAR *dst, rsize_t size, const WCHAR *src);
long iosim_wcstol(const WCHAR *s, WCHAR **end, int base);
unsigned long iosim_wcstoul(const WCHAR *s, WCHAR **end, int base);
int iosim_wtoi(const WCHAR *s);
WCHAR *iosim_itow(int value, WCHAR *buf, int radix);
int iosim_towlower(int c);
int iosim_towupper(int c);
int iosim_iswdigit(int c);
int iosim_iswspace(int c);
int iosim_iswalpha(int c);
#ifndef IOSIM_IMPLEMENTATION
#define wcslen iosim_wcslen
#define wcsnlen iosim_wcsnlen
#define wcscpy iosim_wcscpy
#define wcsncpy iosim_wcsncpy
#define wcscat iosim_wcscat
#define wcsncat iosim_wcsncat
#define wcscmp iosim_wcscmp
#define wcsncmp iosim_wcsncmp
#define _wcsicmp iosim_wcsicmp
#define wcsicmp iosim_wcsicmp
#define _wcsnicmp iosim_wcsnicmp
#define wcschr iosim_wcschr
#define wcsrchr iosim_wcsrchr
#define wcsstr iosim_wcsstr
#define _wcslwr iosim_wcslwr
#define _wcsupr iosim_wcsupr
#define _wcsdup iosim_wcsdup
#define wcsdup iosim_wcsdup
#define wcscpy_s iosim_wcscpy_s
#define wcsncpy_s iosim_wcsncpy_s
#define wcscat_s iosim_wcscat_s
#define wcstol iosim_wcstol
#define wcstoul iosim_wcstoul
#define _wtoi iosim_wtoi
#define _wtol iosim_wtoi
#define _itow iosim_itow
#define towlower iosim_towlower
#define towupper iosim_towupper
#define iswdigit iosim_iswdigit
#define iswspace iosim_iswspace
#define iswalpha iosim_iswalpha
#endif

/* ---- formatted output with Windows rules (%ld 32-bit, %I64d, %S/%ls/%ws UTF-16, %p) ---- */
int iosim_vsnprintf_win(char *buf, size_t size, const char *fmt, va_list ap);
int iosim_sprintf(char *buf, const char *fmt, ...);
int iosim_vsprintf(char *buf, const char *fmt, va_list ap);
int iosim_sprintf_s(char *buf, size_t size, const char *fmt, ...);
int iosim_vsprintf_s(char *buf, size_t size, const char *fmt, va_list ap);
int iosim_snprintf_ms(char *buf, size_t size, const char *fmt, ...);       /* _snprintf: no NUL when full */
int iosim_vsnprintf_ms(char *buf, size_t size, const char *fmt, va_list ap);
int iosim_snprintf_s(char *buf, size_t size, size_t count, const char *fmt, ...);
int iosim_vsnwprintf_win(WCHAR *buf, size_t count, const WCHAR *fmt, va_list ap);
int iosim_swprintf(WCHAR *buf, size_t count, const WCHAR *fmt, ...);
int iosim_swprintf_s(WCHAR *buf, size_t count, const WCHAR *fmt, ...);
int iosim_snwprintf(WCHAR *buf, size_t count, const WCHAR *fmt, ...);
int iosim_vswprintf(WCHAR *buf, size_t count, const WCHAR *fmt, va_list ap);
#ifndef IOSIM_IMPLEMENTATION
#define sprintf iosim_sprintf
#define vsprintf iosim_vsprintf
#define sprintf_s iosim_sprintf_s
#define vsprintf_s iosim_vsprintf_s
#define _snprintf iosim_snprintf_ms
#define _vsnprintf iosim_vsnprintf_ms
#define _snprintf_s iosim_snprintf_s
#define swprintf iosim_swprintf
#define swprintf_s iosim_swprintf_s
#define _snwprintf iosim_snwprintf
#define vswprintf iosim_vswprintf
#define _vsnwprintf iosim_vswprintf
#endif

/* ---- console I/O of the simulated process (apps) ---- */
int iosim_printf(const char *fmt, ...);
int iosim_vprintf(const char *fmt, va_list ap);
int iosim_wprintf(const WCHAR *fmt, ...);
int iosim_vwprintf(const WCHAR *fmt, va_list ap);
int iosim_fprintf(FILE *stream, const char *fmt, ...);
int iosim_vfprintf(FILE *stream, const char *fmt, va_list ap);
int iosim_fwprintf(FILE *stream, const WCHAR *fmt, ...);
int iosim_puts(const char *s);
int iosim_putchar(int c);
int iosim_fputs(const char *s, FILE *stream);
int iosim_fflush(FILE *stream);
int iosim_getchar(void);
char *iosim_fgets(char *buf, int n, FILE *stream);
int iosim_getch(void);
int iosim_kbhit(void);
#ifndef IOSIM_IMPLEMENTATION
#define printf iosim_printf
#define vprintf iosim_vprintf
#define wprintf iosim_wprintf
#define vwprintf iosim_vwprintf
#define fprintf iosim_fprintf
#define vfprintf iosim_vfprintf
#define fwprintf iosim_fwprintf
#define puts iosim_puts
#define fputs iosim_fputs
#define fflush iosim_fflush
#define fgets iosim_fgets
#define _getch iosim_getch
#define getch iosim_getch
#define _getche iosim_getch
#define _kbhit iosim_kbhit
#define kbhit iosim_kbhit
/* getchar and putchar may be macros in glibc; replace them outright. */
#undef getchar
#undef putchar
#define getchar iosim_getchar
#define putchar iosim_putchar
#endif

IOSIM_END_DECLS

#endif /* IOSIM_CRT_H */
