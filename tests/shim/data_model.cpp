// data_model.cpp - shim compile test: the Windows data model and the IOCTL layout as a
// driver sees them (-fshort-wchar, LLP64 integer sizes spelled with fixed-width types),
// checked entirely at compile time. Built into a driver module; never loaded.
#include <ntddk.h>

#define IOCTL_VENDOR_BUFFERED CTL_CODE(0x8000, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_VENDOR_NEITHER CTL_CODE(0xFFFF, 0xFFF, METHOD_NEITHER, FILE_READ_ACCESS | FILE_WRITE_ACCESS)
#define IOCTL_UNKNOWN_DIRECT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_IN_DIRECT, FILE_READ_ACCESS)

static_assert(sizeof(WCHAR) == 2, "WCHAR is 16-bit");
static_assert(sizeof(wchar_t) == 2, "wchar_t is 16-bit in driver code (-fshort-wchar)");
static_assert(sizeof(L"ab") == 6, "L\"...\" literals are UTF-16");
static_assert(sizeof(ULONG) == 4 && sizeof(LONG) == 4, "ULONG and LONG are 32-bit (LLP64)");
static_assert(sizeof(DWORD) == 4 && sizeof(USHORT) == 2 && sizeof(UCHAR) == 1, "fixed sizes");
static_assert(sizeof(ULONG_PTR) == 8 && sizeof(SIZE_T) == 8 && sizeof(PVOID) == 8, "pointer-sized types");
static_assert(sizeof(LONGLONG) == 8 && sizeof(LARGE_INTEGER) == 8, "64-bit integers");
static_assert(sizeof(NTSTATUS) == 4 && sizeof(BOOLEAN) == 1, "NTSTATUS and BOOLEAN");
static_assert(sizeof(UNICODE_STRING) == 16, "UNICODE_STRING has the x64 layout");
C_ASSERT(IRP_MJ_PNP == 0x1b);
C_ASSERT(IRP_MJ_DEVICE_CONTROL == 0x0e);
C_ASSERT(CTL_CODE(0x8000, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS) > 0);
C_ASSERT(IOCTL_VENDOR_BUFFERED == 0x80002000U);
C_ASSERT(IOCTL_VENDOR_NEITHER == 0xFFFFFFFFU);
C_ASSERT(IOCTL_UNKNOWN_DIRECT == 0x00226005U);
C_ASSERT(DEVICE_TYPE_FROM_CTL_CODE(IOCTL_VENDOR_BUFFERED) == 0x8000);
C_ASSERT(METHOD_FROM_CTL_CODE(IOCTL_UNKNOWN_DIRECT) == METHOD_IN_DIRECT);

// CTL_CODE values, including those with bit 31 set, are valid case labels on a ULONG.
extern "C" ULONG iosim_shim_test_classify(ULONG code)
{
    switch (code) {
    case IOCTL_VENDOR_BUFFERED:
        return 1;
    case IOCTL_VENDOR_NEITHER:
        return 2;
    case IOCTL_UNKNOWN_DIRECT:
        return 3;
    default:
        return 0;
    }
}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT, PUNICODE_STRING)
{
    return iosim_shim_test_classify(IOCTL_VENDOR_BUFFERED) == 1 ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
