// file_test.cpp - file objects and the notifications a driver gets for them
// (sim_io_manager/create.cpp, file.cpp, request.cpp): IRP_MJ_CREATE on open, IRP_MJ_CLEANUP
// when the last handle closes, IRP_MJ_CLOSE when the last reference goes; the open-time
// checks (exclusive devices, devices still initialising) and where CREATE is sent.
//
// A second handle to the same file object is made directly in the process's handle table,
// as DuplicateHandle does (DuplicateHandle itself: tests/async/duplicate_handle_test.cpp).
#include <gmock/gmock.h>

#include <algorithm>
#include <string>
#include <vector>

#include "file.h"
#include "io/io_test_support.h"
#include "io_api.h"
#include "ps/process.h"
#include "system.h"

using namespace iosim;
using io_test::IoTest;
using io_test::us;

namespace {

struct FileEvent {
    UCHAR major;
    Process* process;     // the process whose context the dispatch routine ran in
    PFILE_OBJECT file;    // the stack location's FileObject
    std::u16string file_name;
    PDEVICE_OBJECT device;
};
std::vector<FileEvent> g_file_events;
NTSTATUS g_create_status = STATUS_SUCCESS;

DRIVER_DISPATCH FileDispatch;
NTSTATUS FileDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    FileEvent e{sp->MajorFunction, current_process(), sp->FileObject, {}, DeviceObject};
    if (sp->FileObject != nullptr && sp->FileObject->FileName.Buffer != nullptr)
        e.file_name = std::u16string(reinterpret_cast<const char16_t*>(sp->FileObject->FileName.Buffer),
                                     sp->FileObject->FileName.Length / sizeof(WCHAR));
    g_file_events.push_back(e);
    NTSTATUS status = sp->MajorFunction == IRP_MJ_CREATE ? g_create_status : STATUS_SUCCESS;
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

class FileTest : public IoTest {
protected:
    void SetUp() override
    {
        IoTest::SetUp();
        g_file_events.clear();
        g_create_status = STATUS_SUCCESS;
        for (UCHAR major : {IRP_MJ_CREATE, IRP_MJ_CLEANUP, IRP_MJ_CLOSE})
            driver->MajorFunction[major] = FileDispatch;
        device = make_device(u"\\Device\\IoUnitFile");
        process = machine.create_process("files.exe");
    }

    NTSTATUS open(std::u16string_view path, HANDLE* handle, Process* in = nullptr)
    {
        ThreadSwitch as(machine.system().main_thread(in != nullptr ? in : process));
        IO_STATUS_BLOCK iosb{};
        return io::create_file(path, GENERIC_READ | GENERIC_WRITE, 0, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, UserMode,
                               handle, &iosb);
    }
    NTSTATUS close(HANDLE handle, Process* in = nullptr)
    {
        ThreadSwitch as(machine.system().main_thread(in != nullptr ? in : process));
        return io::close_handle(handle);
    }
    // The file object behind `handle` (no reference kept).
    PFILE_OBJECT file_of(HANDLE handle, Process* in = nullptr)
    {
        void* object = nullptr;
        EXPECT_EQ((in != nullptr ? in : process)->handles().reference(handle, &io::file_type(), &object), STATUS_SUCCESS);
        if (object != nullptr)
            ob::dereference(object);
        return static_cast<PFILE_OBJECT>(object);
    }
    // A second handle to the same file object, in `to`'s handle table (DuplicateHandle).
    HANDLE duplicate(HANDLE handle, Process* to = nullptr)
    {
        void* object = nullptr;
        ACCESS_MASK granted = 0;
        EXPECT_EQ(process->handles().reference(handle, &io::file_type(), &object, &granted), STATUS_SUCCESS);
        HANDLE copy = (to != nullptr ? to : process)->handles().insert(object, granted);
        ob::dereference(object);
        return copy;
    }
    static long count(UCHAR major)
    {
        return std::count_if(g_file_events.begin(), g_file_events.end(), [&](const FileEvent& e) { return e.major == major; });
    }
    static const FileEvent* last(UCHAR major)
    {
        for (auto it = g_file_events.rbegin(); it != g_file_events.rend(); ++it)
            if (it->major == major)
                return &*it;
        return nullptr;
    }

    PDEVICE_OBJECT device = nullptr;
    Process* process = nullptr;
};

TEST_F(FileTest, OpenSendsCreateWithTheNewFileObject)
{
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_SUCCESS);
    ASSERT_NE(handle, nullptr);
    ASSERT_EQ(g_file_events.size(), 1u);
    const FileEvent& create = g_file_events[0];
    EXPECT_EQ(create.major, IRP_MJ_CREATE);
    EXPECT_EQ(create.device, device);
    EXPECT_EQ(create.process, process) << "CREATE runs in the opening process's context";
    PFILE_OBJECT file = file_of(handle);
    EXPECT_EQ(create.file, file);
    EXPECT_EQ(file->Type, IO_TYPE_FILE);
    EXPECT_EQ(file->DeviceObject, device);
    EXPECT_TRUE(create.file_name.empty());
    EXPECT_NE(file->Flags & FO_SYNCHRONOUS_IO, 0u);
    EXPECT_EQ(device->ReferenceCount, 1);
    EXPECT_EQ(ob::handle_count(file), 1);
    EXPECT_EQ(close(handle), STATUS_SUCCESS);
}

TEST_F(FileTest, PathAfterTheDeviceBecomesTheFileName)
{
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile\\sub\\name.txt", &handle), STATUS_SUCCESS);
    EXPECT_EQ(g_file_events.at(0).file_name, u"\\sub\\name.txt");
    close(handle);

    UNICODE_STRING link = us(u"\\??\\IoUnitFileLink");
    UNICODE_STRING target = us(u"\\Device\\IoUnitFile");
    ASSERT_EQ(IoCreateSymbolicLink(&link, &target), STATUS_SUCCESS);
    g_file_events.clear();
    ASSERT_EQ(open(u"\\??\\IoUnitFileLink\\rest", &handle), STATUS_SUCCESS);
    ASSERT_FALSE(g_file_events.empty());
    EXPECT_EQ(g_file_events[0].device, device);
    EXPECT_EQ(g_file_events[0].file_name, u"\\rest");
    close(handle);
    IoDeleteSymbolicLink(&link);
}

TEST_F(FileTest, OpenOfAMissingNameFails)
{
    HANDLE handle = reinterpret_cast<HANDLE>(0x1);
    EXPECT_EQ(open(u"\\Device\\IoUnitNoSuchFile", &handle), STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(handle, nullptr);
    EXPECT_TRUE(g_file_events.empty());
}

TEST_F(FileTest, CleanupOnLastHandleNotEveryHandle)
{
    HANDLE first = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &first), STATUS_SUCCESS);
    HANDLE second = duplicate(first);
    PFILE_OBJECT file = file_of(first);
    ASSERT_EQ(file_of(second), file);
    EXPECT_EQ(ob::handle_count(file), 2);

    EXPECT_EQ(close(first), STATUS_SUCCESS);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 0) << "CLEANUP was sent while a handle was still open";
    EXPECT_EQ(count(IRP_MJ_CLOSE), 0);

    EXPECT_EQ(close(second), STATUS_SUCCESS);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 1);
    ASSERT_NE(last(IRP_MJ_CLEANUP), nullptr);
    EXPECT_EQ(last(IRP_MJ_CLEANUP)->file, file);
    EXPECT_EQ(count(IRP_MJ_CLOSE), 1) << "no reference left: CLOSE follows CLEANUP";
    // Order: CREATE, CLEANUP, CLOSE.
    ASSERT_EQ(g_file_events.size(), 3u);
    EXPECT_EQ(g_file_events[1].major, IRP_MJ_CLEANUP);
    EXPECT_EQ(g_file_events[2].major, IRP_MJ_CLOSE);
    EXPECT_EQ(device->ReferenceCount, 0);
}

TEST_F(FileTest, CloseWhenTheLastReferenceGoes)
{
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_SUCCESS);
    PFILE_OBJECT file = file_of(handle);
    ObReferenceObject(file);  // a driver keeps the file object past the handle

    close(handle);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 1) << "the last handle closed";
    EXPECT_EQ(count(IRP_MJ_CLOSE), 0) << "CLOSE was sent while a reference remained";
    EXPECT_NE(file->Flags & FO_CLEANUP_COMPLETE, 0u);
    EXPECT_EQ(device->ReferenceCount, 1) << "the file object still counts against its device";

    ObDereferenceObject(file);
    EXPECT_EQ(count(IRP_MJ_CLOSE), 1);
    ASSERT_NE(last(IRP_MJ_CLOSE), nullptr);
    EXPECT_EQ(last(IRP_MJ_CLOSE)->file, file);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 1) << "CLEANUP is sent once";
    EXPECT_EQ(device->ReferenceCount, 0);
}

TEST_F(FileTest, CleanupRunsInTheContextOfTheProcessClosingTheLastHandle)
{
    Process* other = machine.create_process("other.exe");
    HANDLE mine = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &mine), STATUS_SUCCESS);
    HANDLE theirs = duplicate(mine, other);

    close(mine);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 0);
    close(theirs, other);
    ASSERT_NE(last(IRP_MJ_CLEANUP), nullptr);
    EXPECT_EQ(last(IRP_MJ_CLEANUP)->process, other);
}

TEST_F(FileTest, ProcessExitClosesItsHandles)
{
    HANDLE a = nullptr;
    HANDLE b = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &a), STATUS_SUCCESS);
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &b), STATUS_SUCCESS);
    machine.end_process(process);
    process = nullptr;
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 2);
    EXPECT_EQ(count(IRP_MJ_CLOSE), 2);
    EXPECT_EQ(device->ReferenceCount, 0);
}

TEST_F(FileTest, EachOpenIsItsOwnFileObject)
{
    HANDLE a = nullptr;
    HANDLE b = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &a), STATUS_SUCCESS);
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &b), STATUS_SUCCESS);
    EXPECT_NE(file_of(a), file_of(b));
    EXPECT_EQ(device->ReferenceCount, 2);
    close(a);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 1) << "closing one file object's only handle cleans it up";
    EXPECT_EQ(device->ReferenceCount, 1);
    close(b);
    EXPECT_EQ(device->ReferenceCount, 0);
}

TEST_F(FileTest, ClosingABadHandleFails)
{
    EXPECT_EQ(close(reinterpret_cast<HANDLE>(0x40)), STATUS_INVALID_HANDLE);
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_SUCCESS);
    EXPECT_EQ(close(handle), STATUS_SUCCESS);
    EXPECT_EQ(close(handle), STATUS_INVALID_HANDLE);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 1);
}

TEST_F(FileTest, FailedCreateSendsNoCleanupOrClose)
{
    g_create_status = STATUS_ACCESS_DENIED;
    HANDLE handle = reinterpret_cast<HANDLE>(0x1);
    EXPECT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_ACCESS_DENIED);
    EXPECT_EQ(handle, nullptr);
    EXPECT_EQ(count(IRP_MJ_CREATE), 1);
    EXPECT_EQ(count(IRP_MJ_CLEANUP), 0);
    EXPECT_EQ(count(IRP_MJ_CLOSE), 0);
    EXPECT_EQ(device->ReferenceCount, 0);
    EXPECT_EQ(process->handles().count(), 0u);
}

TEST_F(FileTest, DriverWithoutCleanupRoutineStillLosesTheHandle)
{
    driver->MajorFunction[IRP_MJ_CLEANUP] = IopInvalidDeviceRequest;
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_SUCCESS);
    EXPECT_EQ(close(handle), STATUS_SUCCESS) << "the default CLEANUP fails, the handle still closes";
    EXPECT_EQ(process->handles().count(), 0u);
    EXPECT_EQ(count(IRP_MJ_CLOSE), 1);
}

TEST_F(FileTest, ExclusiveDeviceRefusesASecondOpen)
{
    PDEVICE_OBJECT exclusive = make_device(u"\\Device\\IoUnitExclusive", true, 0, TRUE);
    HANDLE first = nullptr;
    HANDLE second = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitExclusive", &first), STATUS_SUCCESS);
    EXPECT_EQ(open(u"\\Device\\IoUnitExclusive", &second), STATUS_ACCESS_DENIED);
    EXPECT_EQ(second, nullptr);
    EXPECT_EQ(count(IRP_MJ_CREATE), 1) << "the refused open must not reach the driver";
    EXPECT_EQ(exclusive->ReferenceCount, 1);
    close(first);
    EXPECT_EQ(open(u"\\Device\\IoUnitExclusive", &second), STATUS_SUCCESS) << "free again once the first closed";
    close(second);

    // A non-exclusive device takes any number of opens.
    HANDLE a = nullptr;
    HANDLE b = nullptr;
    EXPECT_EQ(open(u"\\Device\\IoUnitFile", &a), STATUS_SUCCESS);
    EXPECT_EQ(open(u"\\Device\\IoUnitFile", &b), STATUS_SUCCESS);
}

TEST_F(FileTest, DeviceStillInitializingCannotBeOpened)
{
    PDEVICE_OBJECT fresh = make_device(u"\\Device\\IoUnitFresh", /*ready=*/false);
    HANDLE handle = nullptr;
    EXPECT_EQ(open(u"\\Device\\IoUnitFresh", &handle), STATUS_NO_SUCH_DEVICE);
    EXPECT_TRUE(g_file_events.empty());
    fresh->Flags &= ~DO_DEVICE_INITIALIZING;
    EXPECT_EQ(open(u"\\Device\\IoUnitFresh", &handle), STATUS_SUCCESS);
    close(handle);
}

TEST_F(FileTest, DeletedDeviceCannotBeOpenedWhileItsFilesAreOpen)
{
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_SUCCESS);
    PFILE_OBJECT file = file_of(handle);
    ObReferenceObject(device);  // look at the device after IoDeleteDevice
    PDEVICE_OBJECT kept = device;
    IoDeleteDevice(device);
    device = nullptr;
    HANDLE again = nullptr;
    EXPECT_EQ(open(u"\\Device\\IoUnitFile", &again), STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(file->DeviceObject, kept) << "the open file object keeps its device";
    close(handle);
    EXPECT_EQ(count(IRP_MJ_CLOSE), 1) << "CLEANUP and CLOSE still reach the driver of a deleted device";
    ObDereferenceObject(kept);
}

TEST_F(FileTest, CreateGoesToTheTopOfTheDeviceStack)
{
    PDEVICE_OBJECT filter = make_device();
    attach(filter, device);
    HANDLE handle = nullptr;
    ASSERT_EQ(open(u"\\Device\\IoUnitFile", &handle), STATUS_SUCCESS);
    ASSERT_EQ(g_file_events.size(), 1u);
    EXPECT_EQ(g_file_events[0].device, filter) << "IRP_MJ_CREATE goes to IoGetAttachedDevice, not the named device";
    EXPECT_EQ(file_of(handle)->DeviceObject, device) << "the file object refers to the device that was named";
    close(handle);
    EXPECT_EQ(last(IRP_MJ_CLEANUP)->device, filter);
    EXPECT_EQ(last(IRP_MJ_CLOSE)->device, filter);
    device->AttachedDevice = nullptr;
}

}  // namespace
