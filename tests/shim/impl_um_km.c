/*
 * impl_um_km.c - shim compile test: the combined user-mode + kernel-mode include of
 * impl_um_km.cpp, in C (WCHAR is uint16_t there), with -Werror.
 */
#include <windows.h>
#include <winioctl.h>
#include <strsafe.h>
#include <wdm.h>
#include <ntstrsafe.h>

C_ASSERT(sizeof(WCHAR) == 2);
C_ASSERT(sizeof(OVERLAPPED) == 32);
C_ASSERT(WAIT_TIMEOUT == 258);
C_ASSERT(INFINITE == 0xFFFFFFFF);

int iosim_shim_test_c_impl(void);
int iosim_shim_test_c_impl(void)
{
    SC_HANDLE scm = NULL;
    HMODULE mod = NULL;
    return (scm == NULL) + (mod == NULL) + (int)sizeof(UNICODE_STRING);
}
