// zw_file_test.cpp - the kernel-mode file routines (sim_io_manager/zw_file.cpp): a driver
// using other drivers' devices by name from DriverEntry and from a dispatch routine,
// RequestorMode KernelMode, kernel handles (OBJ_KERNEL_HANDLE) against handles in the
// current process's table, and the errors.
#include <gmock/gmock.h>

#include <cstring>

#include "ob/handle_table.h"
#include "ob/kernel_handle.h"
#include "stack/stack_test_support.h"
#include "windows.h"

using namespace iosim;
using namespace stack_test;

namespace {

constexpr ULONG kZwClientEcho = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x920, METHOD_BUFFERED, FILE_ANY_ACCESS);
constexpr ULONG kProbe = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x950, METHOD_NEITHER, FILE_ANY_ACCESS);

KPROCESSOR_MODE g_probe_mode = -1;
UCHAR g_probe_major = 0xFF;

DRIVER_DISPATCH ProbeDispatch;
NTSTATUS ProbeDispatch(PDEVICE_OBJECT, PIRP Irp)
{
    g_probe_mode = Irp->RequestorMode;
    g_probe_major = IoGetCurrentIrpStackLocation(Irp)->MajorFunction;
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

class ZwFile : public StackTest {
protected:
    // A device \Device\StackProbe that records each request's RequestorMode.
    void make_probe()
    {
        load("stack_unit", "stack_unit.sys");
        DRIVER_OBJECT* unit = driver(u"stack_unit");
        for (UCHAR major : {IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_READ, IRP_MJ_DEVICE_CONTROL,
                            IRP_MJ_QUERY_INFORMATION})
            unit->MajorFunction[major] = ProbeDispatch;
        UNICODE_STRING name = us(u"\\Device\\StackProbe");
        PDEVICE_OBJECT device = nullptr;
        ASSERT_EQ(IoCreateDevice(unit, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device), STATUS_SUCCESS);
        device->Flags &= ~DO_DEVICE_INITIALIZING;
        UNICODE_STRING link = us(u"\\??\\StackProbe");
        ASSERT_EQ(IoCreateSymbolicLink(&link, &name), STATUS_SUCCESS);
    }

    NTSTATUS open(const char16_t* path, ULONG attributes, HANDLE* handle)
    {
        UNICODE_STRING name = us(path);
        OBJECT_ATTRIBUTES oa;
        InitializeObjectAttributes(&oa, &name, attributes, nullptr, nullptr);
        IO_STATUS_BLOCK iosb{};
        return ZwCreateFile(handle, GENERIC_READ | GENERIC_WRITE, &oa, &iosb, nullptr, FILE_ATTRIBUTE_NORMAL, 0,
                            FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, nullptr, 0);
    }
};

}  // namespace

TEST_F(ZwFile, ADriverUsesAnotherDriversDeviceFromDriverEntry)
{
    load("kbuffer", "kbuffer.sys");
    load("ioctl_buffered", "ioctl_buffered.sys");
    load("zw_client", "zw_client.sys");
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientOpenStatus"), STATUS_SUCCESS);
    EXPECT_TRUE(ob::is_kernel_handle(*symbol<HANDLE>(u"zw_client", "ZwClientHandle")))
        << "opened with OBJ_KERNEL_HANDLE";
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientWriteStatus"), STATUS_SUCCESS);
    EXPECT_EQ(*symbol<ULONG_PTR>(u"zw_client", "ZwClientWritten"), 10u);
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientReadStatus"), STATUS_SUCCESS);
    EXPECT_EQ(*symbol<ULONG_PTR>(u"zw_client", "ZwClientRead"), 10u);
    EXPECT_STREQ(symbol<char>(u"zw_client", "ZwClientReadData"), "zw says hi");
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientQueryStatus"), STATUS_SUCCESS);
    EXPECT_EQ(*symbol<LONGLONG>(u"zw_client", "ZwClientEndOfFile"), 10);
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientCloseStatus"), STATUS_SUCCESS);
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientIoctlOpenStatus"), STATUS_SUCCESS) << "opened through \\??\\";
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientIoctlStatus"), STATUS_SUCCESS);
    EXPECT_STREQ(symbol<char>(u"zw_client", "ZwClientIoctlData"), "ABC");
    EXPECT_EQ(*symbol<NTSTATUS>(u"zw_client", "ZwClientMissingStatus"), STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(machine.system().system_process()->handles().count(), 0u) << "every handle was closed";
    for (const char* service : {"zw_client", "ioctl_buffered", "kbuffer"})
        EXPECT_EQ(machine.unload_driver(service), STATUS_SUCCESS);
    EXPECT_TRUE(machine.system().findings().empty());
}

TEST_F(ZwFile, ADispatchRoutineInAnAppsThreadUsesAnotherDevice)
{
    load("kbuffer", "kbuffer.sys");
    load("ioctl_buffered", "ioctl_buffered.sys");
    load("zw_client", "zw_client.sys");
    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\IosimZwClient"), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                           OPEN_EXISTING, 0, nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    size_t app_handles = process->handles().count();
    char out[16] = {};
    DWORD n = 0;
    ASSERT_TRUE(DeviceIoControl(h, kZwClientEcho, const_cast<char*>("kernel"), 6, out, sizeof(out), &n, nullptr));
    EXPECT_EQ(std::string(out, n), "KERNEL");
    EXPECT_EQ(process->handles().count(), app_handles) << "the driver's kernel handle never entered the app's table";
    CloseHandle(h);
}

TEST_F(ZwFile, RequestsFromZwRoutinesCarryKernelModeAndAppsUserMode)
{
    make_probe();
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\StackProbe", OBJ_KERNEL_HANDLE, &handle), STATUS_SUCCESS);
    EXPECT_EQ(g_probe_major, IRP_MJ_CREATE);
    EXPECT_EQ(g_probe_mode, KernelMode);
    IO_STATUS_BLOCK iosb{};
    char in[4] = "raw";
    EXPECT_EQ(ZwDeviceIoControlFile(handle, nullptr, nullptr, nullptr, &iosb, kProbe, in, 4, nullptr, 0), STATUS_SUCCESS);
    EXPECT_EQ(g_probe_major, IRP_MJ_DEVICE_CONTROL) << "ZwDeviceIoControlFile never sends INTERNAL_DEVICE_CONTROL";
    EXPECT_EQ(g_probe_mode, KernelMode) << "the target may trust METHOD_NEITHER pointers from kernel mode";
    EXPECT_EQ(ZwClose(handle), STATUS_SUCCESS);

    enter_app();
    HANDLE h = CreateFileW(reinterpret_cast<LPCWSTR>(u"\\\\.\\StackProbe"), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ASSERT_NE(h, INVALID_HANDLE_VALUE);
    DWORD n = 0;
    EXPECT_TRUE(DeviceIoControl(h, kProbe, in, 4, nullptr, 0, &n, nullptr));
    EXPECT_EQ(g_probe_mode, UserMode) << "an app's request: the target must probe";
    CloseHandle(h);
}

TEST_F(ZwFile, AKernelHandleWorksInAnyContextButNotFromUserMode)
{
    make_probe();
    enter_app();  // a dispatch routine running in an app's thread
    HANDLE kernel = nullptr;
    ASSERT_EQ(open(u"\\??\\StackProbe", OBJ_KERNEL_HANDLE, &kernel), STATUS_SUCCESS);
    EXPECT_TRUE(ob::is_kernel_handle(kernel));
    EXPECT_EQ(process->handles().count(), 0u);
    EXPECT_EQ(machine.system().system_process()->handles().count(), 1u);

    PVOID object = nullptr;
    EXPECT_EQ(ObReferenceObjectByHandle(kernel, 0, *IoFileObjectType, UserMode, &object, nullptr), STATUS_INVALID_HANDLE)
        << "user mode may not use a kernel handle";
    ASSERT_EQ(ObReferenceObjectByHandle(kernel, 0, *IoFileObjectType, KernelMode, &object, nullptr), STATUS_SUCCESS);
    ObDereferenceObject(object);
    EXPECT_FALSE(CloseHandle(kernel)) << "the app cannot close it either";
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));

    // In another context (the System thread) the same handle still works.
    {
        ThreadSwitch as_system(machine.system().system_thread());
        IO_STATUS_BLOCK iosb{};
        EXPECT_EQ(ZwDeviceIoControlFile(kernel, nullptr, nullptr, nullptr, &iosb, kProbe, nullptr, 0, nullptr, 0),
                  STATUS_SUCCESS);
        EXPECT_EQ(ZwClose(kernel), STATUS_SUCCESS);
    }
    EXPECT_EQ(machine.system().system_process()->handles().count(), 0u);
}

TEST_F(ZwFile, WithoutObjKernelHandleTheHandleLandsInTheCurrentProcess)
{
    make_probe();
    enter_app();
    HANDLE plain = nullptr;
    ASSERT_EQ(open(u"\\??\\StackProbe", OBJ_CASE_INSENSITIVE, &plain), STATUS_SUCCESS);
    EXPECT_FALSE(ob::is_kernel_handle(plain));
    EXPECT_EQ(process->handles().count(), 1u) << "the app's own table: the app could use or close it";
    {
        // From another context the value means nothing (here: no such handle).
        ThreadSwitch as_system(machine.system().system_thread());
        EXPECT_EQ(ZwClose(plain), STATUS_INVALID_HANDLE);
    }
    EXPECT_EQ(ZwClose(plain), STATUS_SUCCESS);
}

TEST_F(ZwFile, ErrorsOfOpening)
{
    make_probe();
    HANDLE handle = reinterpret_cast<HANDLE>(1);
    EXPECT_EQ(open(u"\\Device\\NoSuchDevice", OBJ_KERNEL_HANDLE, &handle), STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(handle, nullptr);
    EXPECT_EQ(open(u"Device\\StackProbe", OBJ_KERNEL_HANDLE, &handle), STATUS_OBJECT_PATH_SYNTAX_BAD);
    EXPECT_EQ(open(u"\\NoSuchDirectory\\StackProbe", OBJ_KERNEL_HANDLE, &handle), STATUS_OBJECT_PATH_NOT_FOUND);

    UNICODE_STRING name = us(u"\\Device\\StackProbe");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE, nullptr, nullptr);
    oa.Length = 0;  // not initialised with InitializeObjectAttributes
    IO_STATUS_BLOCK iosb{};
    EXPECT_EQ(ZwOpenFile(&handle, GENERIC_READ, &oa, &iosb, 0, 0), STATUS_INVALID_PARAMETER);
    EXPECT_EQ(ZwClose(reinterpret_cast<HANDLE>(0x1234)), STATUS_INVALID_HANDLE);
    EXPECT_EQ(machine.system().system_process()->handles().count(), 0u);
}

TEST_F(ZwFile, TheEventOfATransferIsSetWhenItCompletes)
{
    make_probe();
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\StackProbe", OBJ_KERNEL_HANDLE, &handle), STATUS_SUCCESS);
    HANDLE event_handle = nullptr;
    {
        enter_app();
        event_handle = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        ASSERT_NE(event_handle, nullptr);
        PKEVENT event = nullptr;
        ASSERT_EQ(ObReferenceObjectByHandle(event_handle, 0, *ExEventObjectType, KernelMode,
                                            reinterpret_cast<PVOID*>(&event), nullptr),
                  STATUS_SUCCESS);
        IO_STATUS_BLOCK iosb{};
        char buffer[4];
        LARGE_INTEGER offset{};
        EXPECT_EQ(ZwReadFile(handle, event_handle, nullptr, nullptr, &iosb, buffer, sizeof(buffer), &offset, nullptr),
                  STATUS_SUCCESS);
        EXPECT_EQ(KeReadStateEvent(event), 1);
        ObDereferenceObject(event);
        CloseHandle(event_handle);
    }
    EXPECT_EQ(ZwClose(handle), STATUS_SUCCESS);
}
