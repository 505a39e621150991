/*
 * tchar.h - iosim shim (user mode): the Microsoft C runtime's generic-text mappings.
 *
 * _TCHAR and the _t* / _tcs* names follow _UNICODE (TCHAR in windows.h follows UNICODE;
 * iosim_add_app defines both unless ANSI). Every mapping lands on an iosim_* routine of
 * iosim_crt.h or on a plain C function, never on glibc's wcs* (32-bit wchar_t there).
 * Wide console helpers that iosim_crt.h lacks (_puttchar, _gettchar, _putts, _fgetts,
 * _fputts and the count-less _stprintf) are small static inline functions below, built
 * on iosim_wprintf / iosim_getchar / iosim_fgets so the simulated console still sees them;
 * console bytes are UTF-8.
 *
 * _tmain: under _UNICODE it is wmain. g++ mangles every function but main, so wmain is
 * declared extern "C" here, before the app defines it: the app's
 * 'int _tmain(int argc, _TCHAR* argv[])' then gets C linkage and iosim finds 'wmain'.
 * (Only that two-argument form gets C linkage; an envp variant would be a C++ overload.)
 *
 * With IOSIM_IMPLEMENTATION (iosim's own code) only the types are defined: the mappings
 * are app-facing renames.
 */
#ifndef IOSIM_TCHAR_H
#define IOSIM_TCHAR_H

#include "um_cxxcrt.h" /* iosim_crt.h, made safe for C++ */

/* ---- types and literals ---- */
#ifdef _UNICODE
typedef WCHAR _TCHAR;
typedef WCHAR _TSCHAR;
typedef WCHAR _TUCHAR;
typedef WCHAR _TXCHAR;
typedef wint_t _TINT;
#ifndef _TCHAR_DEFINED
#define _TCHAR_DEFINED
typedef WCHAR TCHAR, *PTCHAR;
typedef WCHAR TBYTE, *PTBYTE;
#endif
#define __T(x) L##x
#define _TEOF WEOF
#else
typedef char _TCHAR;
typedef signed char _TSCHAR;
typedef unsigned char _TUCHAR;
typedef char _TXCHAR;
typedef int _TINT;
#ifndef _TCHAR_DEFINED
#define _TCHAR_DEFINED
typedef char TCHAR, *PTCHAR;
typedef unsigned char TBYTE, *PTBYTE;
#endif
#define __T(x) x
#define _TEOF EOF
#endif
#define _T(x) __T(x)
#define _TEXT(x) __T(x)

#ifndef IOSIM_IMPLEMENTATION

/* ---- the entry point ---- */
#ifdef _UNICODE
IOSIM_EXTERN_C int wmain(int argc, wchar_t *argv[]);
#define _tmain wmain
#else
#define _tmain main
#endif

/* ---- wide console helpers (app code only: wchar_t is 16-bit here) ---- */
static inline wint_t iosim_tchar_putwchar(wchar_t c)
{
    return iosim_wprintf(L"%lc", (wint_t)c) < 0 ? WEOF : (wint_t)c;
}
static inline int iosim_tchar_putws(const wchar_t *s)
{
    return iosim_wprintf(L"%ls\n", s) < 0 ? (int)WEOF : 0;
}
static inline int iosim_tchar_fputws(const wchar_t *s, FILE *stream)
{
    return iosim_fwprintf(stream, L"%ls", s) < 0 ? (int)WEOF : 0;
}
/* Decodes one UTF-8 sequence whose first byte is 'b0'; next() supplies further bytes. */
#define IOSIM_TCHAR_UTF8_LEN(b0) ((b0) < 0x80 ? 1 : ((b0) & 0xE0) == 0xC0 ? 2 : ((b0) & 0xF0) == 0xE0 ? 3 : ((b0) & 0xF8) == 0xF0 ? 4 : 0)
static inline unsigned long iosim_tchar_utf8_value(const unsigned char *b, int len)
{
    unsigned long cp;
    int i;
    if (len <= 1)
        return len == 1 ? b[0] : 0xFFFDUL;
    cp = (unsigned long)(b[0] & (0x7F >> len));
    for (i = 1; i < len; i++) {
        if ((b[i] & 0xC0) != 0x80)
            return 0xFFFDUL;
        cp = (cp << 6) | (unsigned long)(b[i] & 0x3F);
    }
    return cp > 0x10FFFFUL ? 0xFFFDUL : cp;
}
/* _gettchar: one UTF-16 unit per call; a character outside the BMP comes as two calls. */
static inline wint_t iosim_tchar_getwchar(void)
{
    static wchar_t pending_low_surrogate;
    unsigned char b[4];
    int c, len, i;
    unsigned long cp;
    if (pending_low_surrogate) {
        wchar_t low = pending_low_surrogate;
        pending_low_surrogate = 0;
        return (wint_t)low;
    }
    c = iosim_getchar();
    if (c == EOF)
        return WEOF;
    b[0] = (unsigned char)c;
    len = IOSIM_TCHAR_UTF8_LEN(b[0]);
    for (i = 1; i < len; i++) {
        c = iosim_getchar();
        if (c == EOF)
            return WEOF;
        b[i] = (unsigned char)c;
    }
    cp = iosim_tchar_utf8_value(b, len);
    if (cp > 0xFFFF) {
        cp -= 0x10000;
        pending_low_surrogate = (wchar_t)(0xDC00 + (cp & 0x3FF));
        return (wint_t)(0xD800 + (cp >> 10));
    }
    return (wint_t)cp;
}
/* _fgetts: reads byte by byte (iosim_fgets with room for one byte) so that nothing past
 * what fits in buf is taken from the stream; stops after '\n', as fgetws does. */
static inline wchar_t *iosim_tchar_fgetws(wchar_t *buf, int n, FILE *stream)
{
    int out = 0, len, i;
    char one[2];
    unsigned char b[4];
    unsigned long cp;
    if (buf == NULL || n <= 0)
        return NULL;
    while (out < n - 1) {
        if (iosim_fgets(one, 2, stream) == NULL)
            break;
        b[0] = (unsigned char)one[0];
        len = IOSIM_TCHAR_UTF8_LEN(b[0]);
        for (i = 1; i < len; i++) {
            if (iosim_fgets(one, 2, stream) == NULL)
                break;
            b[i] = (unsigned char)one[0];
        }
        cp = iosim_tchar_utf8_value(b, i < len ? 0 : len);
        if (cp > 0xFFFF) {
            if (out + 2 > n - 1) {
                buf[out++] = (wchar_t)0xFFFD;
                break;
            }
            cp -= 0x10000;
            buf[out++] = (wchar_t)(0xD800 + (cp >> 10));
            buf[out++] = (wchar_t)(0xDC00 + (cp & 0x3FF));
        } else {
            buf[out++] = (wchar_t)cp;
        }
        if (cp == '\n')
            break;
    }
    if (out == 0)
        return NULL;
    buf[out] = 0;
    return buf;
}
/* _stprintf under _UNICODE is Microsoft's count-less _swprintf(buffer, format, ...). */
static inline int iosim_tchar_swprintf_nocount(wchar_t *buf, const wchar_t *fmt, ...)
{
    va_list ap;
    int r;
    va_start(ap, fmt);
    r = iosim_vswprintf(buf, (size_t)0x7FFFFFFF, fmt, ap);
    va_end(ap);
    return r;
}

/* ---- the mappings ---- */
#ifdef _UNICODE
#define _tprintf iosim_wprintf
#define _vtprintf iosim_vwprintf
#define _ftprintf iosim_fwprintf
#define _stprintf iosim_tchar_swprintf_nocount
#define _stprintf_s iosim_swprintf_s
#define _sntprintf iosim_snwprintf
#define _vsntprintf iosim_vswprintf
#define _tcslen iosim_wcslen
#define _tcsnlen iosim_wcsnlen
#define _tcscpy iosim_wcscpy
#define _tcscpy_s iosim_wcscpy_s
#define _tcsncpy iosim_wcsncpy
#define _tcsncpy_s iosim_wcsncpy_s
#define _tcscat iosim_wcscat
#define _tcscat_s iosim_wcscat_s
#define _tcsncat iosim_wcsncat
#define _tcscmp iosim_wcscmp
#define _tcsicmp iosim_wcsicmp
#define _tcsncmp iosim_wcsncmp
#define _tcsnicmp iosim_wcsnicmp
#define _tcschr iosim_wcschr
#define _tcsrchr iosim_wcsrchr
#define _tcsstr iosim_wcsstr
#define _tcslwr iosim_wcslwr
#define _tcsupr iosim_wcsupr
#define _tcsdup iosim_wcsdup
#define _ttoi iosim_wtoi
#define _tstoi iosim_wtoi
#define _ttol iosim_wtoi
#define _tstol iosim_wtoi
#define _tcstol iosim_wcstol
#define _tcstoul iosim_wcstoul
#define _itot iosim_itow
#define _totlower iosim_towlower
#define _totupper iosim_towupper
#define _istdigit iosim_iswdigit
#define _istspace iosim_iswspace
#define _istalpha iosim_iswalpha
#define _fgetts iosim_tchar_fgetws
#define _fputts iosim_tchar_fputws
#define _putts iosim_tchar_putws
#define _puttchar iosim_tchar_putwchar
#define _gettchar iosim_tchar_getwchar
#else
#define _tprintf iosim_printf
#define _vtprintf iosim_vprintf
#define _ftprintf iosim_fprintf
#define _stprintf iosim_sprintf
#define _stprintf_s iosim_sprintf_s
#define _sntprintf iosim_snprintf_ms
#define _vsntprintf iosim_vsnprintf_ms
#define _tcslen strlen
#define _tcsnlen strnlen
#define _tcscpy strcpy
#define _tcscpy_s iosim_strcpy_s
#define _tcsncpy strncpy
#define _tcsncpy_s iosim_strncpy_s
#define _tcscat strcat
#define _tcscat_s iosim_strcat_s
#define _tcsncat strncat
#define _tcscmp strcmp
#define _tcsicmp iosim_stricmp
#define _tcsncmp strncmp
#define _tcsnicmp iosim_strnicmp
#define _tcschr strchr
#define _tcsrchr strrchr
#define _tcsstr strstr
#define _tcslwr iosim_strlwr
#define _tcsupr iosim_strupr
#define _tcsdup strdup
#define _ttoi atoi
#define _tstoi atoi
#define _ttol atol
#define _tstol atol
#define _tcstol strtol
#define _tcstoul strtoul
#define _itot iosim_itoa
#define _totlower tolower
#define _totupper toupper
#define _istdigit isdigit
#define _istspace isspace
#define _istalpha isalpha
#define _fgetts iosim_fgets
#define _fputts iosim_fputs
#define _putts iosim_puts
#define _puttchar iosim_putchar
#define _gettchar iosim_getchar
#endif

#endif /* !IOSIM_IMPLEMENTATION */

#endif /* IOSIM_TCHAR_H */
