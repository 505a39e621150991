/*
 * data_model_um.c - shim compile test: the data model as a C Win32 app sees it, checked
 * at compile time (C_ASSERT = _Static_assert in C).
 */
#include <windows.h>

C_ASSERT(sizeof(WCHAR) == 2);
C_ASSERT(sizeof(L"ab") == 6);
C_ASSERT(sizeof(TCHAR) == sizeof(WCHAR)); /* built UNICODE */
C_ASSERT(sizeof(ULONG) == 4);
C_ASSERT(sizeof(DWORD) == 4);
C_ASSERT(sizeof(LONG) == 4);
C_ASSERT(sizeof(BOOL) == 4);
C_ASSERT(sizeof(ULONG_PTR) == 8);
C_ASSERT(sizeof(HANDLE) == 8 && sizeof(SC_HANDLE) == 8 && sizeof(HWND) == 8);
C_ASSERT(sizeof(OVERLAPPED) == 32);
C_ASSERT(sizeof(SECURITY_ATTRIBUTES) == 24);
C_ASSERT(sizeof(CRITICAL_SECTION) == 40);
C_ASSERT(sizeof(SERVICE_STATUS_PROCESS) == 36);
C_ASSERT(sizeof(SYSTEMTIME) == 16 && sizeof(FILETIME) == 8);
C_ASSERT(CTL_CODE(0x8000, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS) > 0);
C_ASSERT(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS) == 0x222000);
C_ASSERT(FILE_FLAG_OVERLAPPED == 0x40000000);
C_ASSERT(SC_MANAGER_ALL_ACCESS == 0xF003F);
C_ASSERT(SERVICE_ALL_ACCESS == 0xF01FF);
C_ASSERT(SERVICE_KERNEL_DRIVER == 1 && SERVICE_DEMAND_START == 3 && SERVICE_ERROR_NORMAL == 1);
C_ASSERT(SERVICE_STOPPED == 1 && SERVICE_RUNNING == 4 && SERVICE_PAUSED == 7);
C_ASSERT(MB_ICONERROR == 0x10 && IDOK == 1);
C_ASSERT(WAIT_OBJECT_0 == 0 && WAIT_TIMEOUT == 258 && WAIT_FAILED == 0xFFFFFFFF);
C_ASSERT(MAX_PATH == 260 && INFINITE == 0xFFFFFFFF);

int _tmain(int argc, _TCHAR *argv[])
{
    (void)argv;
    return argc > 0 ? max(0, argc - 1) : 0; /* min/max are macros in C */
}
