// app_include_order.cpp - shim compile test: include orders real sources use. C++
// standard headers before windows.h, strsafe.h and tchar.h before windows.h, and
// windows.h wrapped in extern "C" (as some C-era headers are) must all compile, with
// printf & co. still redirected to iosim afterwards.
#include <string>
#include <iostream>
#include <strsafe.h>
#include <tchar.h>
extern "C" {
#include <windows.h>
}
#include <Winsvc.h>
#include <Winioctl.h>
#include <cstdio>

#if !defined(printf) || !defined(getchar)
#error "console redirections lost"
#endif

int _tmain(int argc, _TCHAR *argv[])
{
    TCHAR buf[32];
    StringCchCopy(buf, _countof(buf), argc > 1 ? argv[1] : _T("none"));
    std::string s = "x";
    std::cout << s << std::endl;
    _tprintf(_T("%s\n"), buf);
    printf("%d\n", (int)_tcslen(buf));
    return 0;
}
