// app_api.cpp - shim compile test: a C++ console app in the style of the seed programs,
// built once with UNICODE/_UNICODE and once ANSI. It only has to compile and link as a
// module; it is never run. What it proves beyond app_api.c:
//   - "stdafx.h" + <Windows.h> (capital W) + _tmain(int, _TCHAR*[]) as in Visual Studio;
//   - SC_HANDLE is a distinct type, so an app may add its own DeleteService(LPCTSTR)
//     overload next to the real DeleteService(SC_HANDLE), and default arguments work;
//   - CTL_CODE values are usable as case labels in a switch on a ULONG / DWORD;
//   - ULONG and DWORD are the same type (ReadFile(h, buf, n, &ulong, 0));
//   - min/max are not macros in C++, so <algorithm> and <limits> still work;
//   - <cstdio>/<string>/<iostream> after windows.h keep printf & co. redirected, and
//     std::printf / std::wcslen still compile.
#include "stdafx.h"
#include <Windows.h>
#include <WinIoCtl.h>
#include <StrSafe.h>

#include <algorithm>
#include <cstdio>
#include <cwchar>
#include <iostream>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

// C++ standard headers included after windows.h must not undo the console redirections.
#if !defined(printf) || !defined(getchar) || !defined(sprintf) || !defined(wcslen)
#error "a C++ standard header undid iosim_crt.h's redirections"
#endif

#define IOCTL_HELLO CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VENDOR CTL_CODE(0x8000, 0x801, METHOD_OUT_DIRECT, FILE_READ_ACCESS | FILE_WRITE_ACCESS)

static_assert(std::is_same<ULONG, DWORD>::value, "ReadFile(h, buf, n, &ulRead, 0) needs ULONG == DWORD");
static_assert(!std::is_same<SC_HANDLE, HANDLE>::value, "SC_HANDLE must be a distinct type");
static_assert(std::numeric_limits<int>::max() == 0x7fffffff, "min/max must not be macros in C++");

BOOL WINAPI InstallService(LPCTSTR ServiceName, LPCTSTR DisplayName, LPCTSTR szPath, DWORD StartType,
                           DWORD ErrorControl = SERVICE_ERROR_NORMAL, DWORD ServiceType = SERVICE_WIN32_OWN_PROCESS)
{
    SC_HANDLE hSCManager = OpenSCManager(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
    if (hSCManager == NULL)
        return FALSE;
    SC_HANDLE hService = CreateService(hSCManager, ServiceName, DisplayName, SERVICE_ALL_ACCESS, ServiceType,
                                       StartType, ErrorControl, szPath, NULL, NULL, NULL, NULL, TEXT(""));
    BOOL ok = hService != NULL;
    if (ok)
        CloseServiceHandle(hService);
    CloseServiceHandle(hSCManager);
    return ok;
}

// The app's own overload, as in the seed: the real one takes an SC_HANDLE.
BOOL WINAPI DeleteService(LPCTSTR ServiceName)
{
    SC_HANDLE hSCManager = OpenSCManager(NULL, NULL, SC_MANAGER_CONNECT);
    if (hSCManager == NULL)
        return FALSE;
    SC_HANDLE hService = OpenService(hSCManager, ServiceName, DELETE);
    BOOL ok = FALSE;
    if (hService != NULL) {
        ok = DeleteService(hService);
        CloseServiceHandle(hService);
    }
    CloseServiceHandle(hSCManager);
    return ok;
}

BOOL WINAPI StopService(LPCTSTR ServiceName)
{
    SC_HANDLE hSCManager = OpenSCManager(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SERVICE_STATUS svcsta = { 0 };
    BOOL ok = FALSE;
    if (hSCManager != NULL) {
        SC_HANDLE hService = OpenService(hSCManager, ServiceName, SERVICE_STOP);
        if (hService != NULL) {
            ok = ControlService(hService, SERVICE_CONTROL_STOP, &svcsta);
            CloseServiceHandle(hService);
        }
        CloseServiceHandle(hSCManager);
    }
    return ok;
}

static const char *ioctl_name(ULONG code)
{
    switch (code) {
    case IOCTL_HELLO:
        return "hello";
    case IOCTL_VENDOR:
        return "vendor";
    case IOCTL_DISK_GET_DRIVE_GEOMETRY:
        return "geometry";
    default:
        return "?";
    }
}

class Device {
public:
    explicit Device(const char *path)
        : h_(CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL))
    {
    }
    ~Device()
    {
        if (ok())
            CloseHandle(h_);
    }
    bool ok() const { return h_ != INVALID_HANDLE_VALUE; }
    DWORD control(DWORD code, std::vector<BYTE> &out)
    {
        DWORD len = 0;
        char in[32];
        sprintf(in, "hello, driver\r\n");
        if (!DeviceIoControl(h_, code, in, (DWORD)strlen(in), out.data(), (DWORD)out.size(), &len, NULL))
            return 0;
        return len;
    }
    HANDLE handle() const { return h_; }

private:
    HANDLE h_;
};

int _tmain(int argc, _TCHAR *argv[])
{
    InstallService(TEXT("mydriver"), TEXT("mydriver"), TEXT("C:\\mydriver.sys"), SERVICE_DEMAND_START,
                   SERVICE_ERROR_IGNORE, SERVICE_KERNEL_DRIVER);
    Device dev("\\\\.\\MyDevice1_link");
    if (!dev.ok()) {
        MessageBoxA(0, "open failed", "error", 0);
        return 0;
    }
    std::vector<BYTE> out(50);
    DWORD len = dev.control(IOCTL_HELLO, out);
    printf("%s len: %d\n", ioctl_name(IOCTL_HELLO), (int)len);
    for (DWORD i = 0; i < std::min<DWORD>(len, 49); i++)
        printf("0x%02X ", out[i]);

    ULONG ulRead = 0;
    UCHAR buffer[10];
    ReadFile(dev.handle(), buffer, 10, &ulRead, 0);
    OVERLAPPED ol = { 0 };
    WriteFile(dev.handle(), buffer, ulRead, &ulRead, &ol);
    printf("\nused: %d\n", (int)GetFileSize(dev.handle(), NULL));

    TCHAR msg[64];
    StringCchPrintf(msg, _countof(msg), _T("%s:%d"), argc > 1 ? argv[1] : _T("none"), std::max(argc, 1));
    _tprintf(_T("%s\n"), msg);
    std::basic_string<TCHAR> s(msg);
    std::printf("%d\n", (int)std::wcslen(L"wide"));
    std::wstring w = std::to_wstring(42);
    std::cout << "cout still works " << w.size() << std::endl;
    Sleep(10);
    StopService(TEXT("mydriver"));
    DeleteService(TEXT("mydriver"));
    getchar();
    return (int)s.size() > 1000;
}
