// impl_km_um.cpp - shim compile test: as impl_um_km.cpp, with the kernel-mode headers
// first, so that every name both sides define is checked in the other order too.
#include <ntddk.h>
#include <ntstrsafe.h>
#include <windows.h>
#include <winioctl.h>
#include <strsafe.h>
#include <tchar.h>

static_assert(sizeof(WCHAR) == 2, "WCHAR is 16-bit");
static_assert(sizeof(TCHAR) == 1, "iosim's own code is not UNICODE: TCHAR is char");
static_assert(STRSAFE_MAX_CCH == NTSTRSAFE_MAX_CCH, "shared limit");

[[maybe_unused]] static void zero_both(void *p, SIZE_T n)
{
    RtlZeroMemory(p, n);
    ZeroMemory(p, n);
    MemoryBarrier();
}
