// impl_um_km.cpp - shim compile test: iosim's own code (IOSIM_IMPLEMENTATION, no
// -fshort-wchar, WCHAR = char16_t) may include the user-mode and the kernel-mode shim
// headers in one translation unit, user mode first. Built with -Werror so that any
// conflicting redefinition (a warning for macros) fails the build.
#include <windows.h>
#include <winioctl.h>
#include <winsvc.h>
#include <strsafe.h>
#include <tchar.h>
#include <wdm.h>
#include <ntddk.h>
#include <ntstrsafe.h>

#include <algorithm>
#include <type_traits>

static_assert(std::is_same<WCHAR, char16_t>::value, "iosim's own code sees WCHAR as char16_t");
static_assert(sizeof(OVERLAPPED) == 32, "OVERLAPPED has the Windows x64 layout");
static_assert(sizeof(CRITICAL_SECTION) == 40, "CRITICAL_SECTION has the Windows x64 layout");
static_assert(sizeof(SERVICE_STATUS) == 28, "SERVICE_STATUS has the Windows layout");
static_assert(offsetof(OVERLAPPED, hEvent) == 24, "OVERLAPPED.hEvent at offset 24");
static_assert(FILE_FLAG_OVERLAPPED == 0x40000000, "FILE_FLAG_OVERLAPPED");
static_assert(SC_MANAGER_ALL_ACCESS == 0xF003F && SERVICE_ALL_ACCESS == 0xF01FF, "SCM access masks");
static_assert(IRP_MJ_PNP == 0x1b, "IRP_MJ_PNP");

// The Win32 layer implements the declarations with char16_t strings; the signatures must
// match what apps (16-bit wchar_t) call. These definitions only have to compile.
namespace {
[[maybe_unused]] HANDLE open_like_win32(LPCWSTR name) { return CreateFileW(name, GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr); }
[[maybe_unused]] int use_min_max(int a, int b) { return std::min(a, b) + std::max(a, b); }
[[maybe_unused]] NTSTATUS use_both(PUNICODE_STRING us, LPWSTR buf, size_t cch)
{
    if (FAILED(StringCchCopyW(buf, cch, u"x")))
        return STATUS_INVALID_PARAMETER;
    InterlockedIncrement(reinterpret_cast<volatile LONG *>(&us->Length));
    return RtlUnicodeStringCopyString(us, u"\\Device\\X");
}
} // namespace
