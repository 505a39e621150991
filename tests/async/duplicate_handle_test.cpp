// duplicate_handle_test.cpp - DuplicateHandle (sim_io_manager/win32/handle.cpp): in the same
// process and into another one, DUPLICATE_SAME_ACCESS, DUPLICATE_CLOSE_SOURCE, the pseudo
// handles, and its errors. The other process's handle is put in the app's table by the test,
// with the access OpenProcess would grant (OpenProcess itself: win32_semaphore_process_test.cpp).
#include "async_test_support.h"
#include "ps/process.h"

using namespace async_test;

namespace {

class Duplicate : public AsyncTest {
protected:
    void SetUp() override
    {
        AsyncTest::SetUp();
        other = machine.create_process("other.exe");
    }
    void TearDown() override
    {
        if (!system().dead() && other != nullptr)
            machine.end_process(other);
        AsyncTest::TearDown();
    }

    // A handle in the app's table to `process`, granting `access`.
    HANDLE ProcessHandle(iosim::Process* process, ACCESS_MASK access)
    {
        return app->handles().insert(process, access);
    }

    // The object behind `handle` in `process`'s table (nullptr if none), and its access.
    void* ObjectOf(iosim::Process* process, HANDLE handle, ACCESS_MASK* granted = nullptr)
    {
        void* object = nullptr;
        ACCESS_MASK access = 0;
        if (!NT_SUCCESS(process->handles().reference(handle, nullptr, &object, &access)))
            return nullptr;
        iosim::ob::dereference(object);
        if (granted != nullptr)
            *granted = access;
        return object;
    }

    iosim::Process* other = nullptr;
};

constexpr ACCESS_MASK kProcessDupHandle = 0x0040;

}  // namespace

// "The duplicate refers to the same object: setting the event through it is setting it."
TEST_F(Duplicate, SameProcessCopyRefersToTheSameObject)
{
    HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    HANDLE copy = nullptr;
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &copy, 0, FALSE,
                                DUPLICATE_SAME_ACCESS))
        << GetLastError();
    EXPECT_NE(copy, event);
    EXPECT_EQ(ObjectOf(app, copy), ObjectOf(app, event));
    EXPECT_TRUE(SetEvent(copy));
    EXPECT_EQ(WaitForSingleObject(event, 0), static_cast<DWORD>(WAIT_OBJECT_0));
    CloseHandle(event);
    EXPECT_EQ(WaitForSingleObject(copy, 0), static_cast<DWORD>(WAIT_OBJECT_0));  // the object lives on
    CloseHandle(copy);
}

// "DUPLICATE_SAME_ACCESS ignores dwDesiredAccess; without it the copy has dwDesiredAccess."
TEST_F(Duplicate, SameAccessKeepsTheSourceAccessOtherwiseTheDesiredOne)
{
    HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ACCESS_MASK source_access = 0, access = 0;
    ObjectOf(app, event, &source_access);
    HANDLE same = nullptr, limited = nullptr;
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &same, SYNCHRONIZE, FALSE,
                                DUPLICATE_SAME_ACCESS));
    ObjectOf(app, same, &access);
    EXPECT_EQ(access, source_access);
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &limited, SYNCHRONIZE, FALSE, 0));
    ObjectOf(app, limited, &access);
    EXPECT_EQ(access, static_cast<ACCESS_MASK>(SYNCHRONIZE));
    for (HANDLE h : {event, same, limited})
        CloseHandle(h);
}

// "A handle duplicated into another process is valid there (not here), for the same object."
TEST_F(Duplicate, IntoAnotherProcessTheCopyIsValidThere)
{
    HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    HANDLE target = ProcessHandle(other, kProcessDupHandle);
    HANDLE copy = nullptr;
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), event, target, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS))
        << GetLastError();
    EXPECT_EQ(ObjectOf(other, copy), ObjectOf(app, event));
    {
        iosim::ThreadSwitch in_other(system().main_thread(other));
        EXPECT_TRUE(SetEvent(copy));
        EXPECT_TRUE(CloseHandle(copy));
    }
    EXPECT_EQ(WaitForSingleObject(event, 0), static_cast<DWORD>(WAIT_OBJECT_0));
    CloseHandle(event);
    CloseHandle(target);
}

// "DUPLICATE_CLOSE_SOURCE closes the source handle in the source process: the handle moves."
TEST_F(Duplicate, CloseSourceMovesAHandleOutOfAnotherProcess)
{
    HANDLE there = nullptr;
    {
        iosim::ThreadSwitch in_other(system().main_thread(other));
        there = CreateEventW(nullptr, TRUE, TRUE, nullptr);
    }
    void* object = ObjectOf(other, there);
    ASSERT_NE(object, nullptr);
    HANDLE source = ProcessHandle(other, kProcessDupHandle);
    HANDLE here = nullptr;
    ASSERT_TRUE(DuplicateHandle(source, there, GetCurrentProcess(), &here, 0, FALSE,
                                DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    EXPECT_EQ(ObjectOf(app, here), object);
    EXPECT_EQ(ObjectOf(other, there), nullptr);  // closed there
    EXPECT_EQ(WaitForSingleObject(here, 0), static_cast<DWORD>(WAIT_OBJECT_0));
    CloseHandle(here);
    CloseHandle(source);
}

// "A duplicated file handle is one more handle to the file object: IRP_MJ_CLEANUP comes only
// when the last one closes."
TEST_F(Duplicate, AFileHandleCopyKeepsTheFileOpenUntilBothClose)
{
    HANDLE file = Open(false);
    HANDLE copy = nullptr;
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), file, GetCurrentProcess(), &copy, 0, FALSE, DUPLICATE_SAME_ACCESS));
    CloseHandle(file);
    EXPECT_EQ(FirstLine("IRP_MJ_CLEANUP"), "") << TraceDump();
    ASYNC_ORDER order = Order(0, STATUS_SUCCESS, STATUS_SUCCESS, 0);
    DWORD bytes = 0;
    EXPECT_TRUE(DeviceIoControl(copy, IOCTL_ASYNC_ORDER, &order, sizeof(order), nullptr, 0, &bytes, nullptr))
        << GetLastError();
    CloseHandle(copy);
    EXPECT_NE(FirstLine("IRP_MJ_CLEANUP"), "") << TraceDump();
}

// "As a source, GetCurrentProcess() gives a real handle to the calling process."
TEST_F(Duplicate, ThePseudoHandleBecomesARealProcessHandle)
{
    HANDLE real = nullptr;
    ASSERT_TRUE(DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &real, 0, FALSE,
                                DUPLICATE_SAME_ACCESS));
    EXPECT_NE(real, GetCurrentProcess());
    EXPECT_EQ(ObjectOf(app, real), static_cast<void*>(app));
    CloseHandle(real);
}

// "A bad source handle: FALSE, ERROR_INVALID_HANDLE; a process handle without
// PROCESS_DUP_HANDLE: ERROR_ACCESS_DENIED."
TEST_F(Duplicate, ErrorsAreInvalidHandleAndAccessDenied)
{
    HANDLE copy = nullptr;
    EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), reinterpret_cast<HANDLE>(static_cast<uintptr_t>(0x7FF0)),
                                 GetCurrentProcess(), &copy, 0, FALSE, DUPLICATE_SAME_ACCESS));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    HANDLE weak = ProcessHandle(other, SYNCHRONIZE);
    EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), event, weak, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    CloseHandle(weak);
    CloseHandle(event);
}
