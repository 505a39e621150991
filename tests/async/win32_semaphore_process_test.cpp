// win32_semaphore_process_test.cpp - kernel32 semaphores (CreateSemaphore, OpenSemaphore,
// ReleaseSemaphore, waits), *ExSemaphoreObjectType for a driver given the handle, and
// OpenProcess / GetExitCodeProcess / waiting on a process handle.
//
// Each test pins one documented rule, with the Win32 error code Windows gives.
#include "async_test_support.h"
#include "ob/object.h"
#include "ps/process.h"
#include "wdm_impl.h"

using namespace async_test;

namespace {
// A UTF-16 literal as an LPCWSTR (WCHAR is 16-bit in apps; the test is built without -fshort-wchar).
LPCWSTR W(const char16_t* text) { return reinterpret_cast<LPCWSTR>(text); }
}  // namespace

class Win32Semaphore : public AsyncTest {};

namespace {

// A worker that waits for a semaphore (INFINITE) and records when it got it.
struct SemaphoreWait {
    HANDLE semaphore = nullptr;
    DWORD result = 99;
    ULONGLONG at = 0;
};

DWORD WINAPI WaitForSemaphore(LPVOID param)
{
    auto* wait = static_cast<SemaphoreWait*>(param);
    wait->result = WaitForSingleObject(wait->semaphore, INFINITE);
    wait->at = GetTickCount64();
    return 0;
}

}  // namespace

// "Each satisfied wait takes one unit of the count; at zero the wait times out."
TEST_F(Win32Semaphore, CreateSemaphore_EachWaitTakesOneUnitOfTheCount)
{
    HANDLE s = CreateSemaphoreW(nullptr, 2, 5, nullptr);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_SUCCESS));
    EXPECT_EQ(WaitForSingleObject(s, 0), WAIT_OBJECT_0);
    EXPECT_EQ(WaitForSingleObject(s, 0), WAIT_OBJECT_0);
    EXPECT_EQ(WaitForSingleObject(s, 10), static_cast<DWORD>(WAIT_TIMEOUT));
    LONG previous = -1;
    EXPECT_TRUE(ReleaseSemaphore(s, 3, &previous));
    EXPECT_EQ(previous, 0);
    EXPECT_TRUE(ReleaseSemaphore(s, 1, &previous));
    EXPECT_EQ(previous, 3);
    CloseHandle(s);
}

// "ReleaseSemaphore past the maximum count fails with ERROR_TOO_MANY_POSTS and leaves the
// count unchanged."
TEST_F(Win32Semaphore, ReleaseSemaphore_PastTheMaximumFailsWithErrorTooManyPosts)
{
    HANDLE s = CreateSemaphoreW(nullptr, 1, 2, nullptr);
    LONG previous = -1;
    EXPECT_FALSE(ReleaseSemaphore(s, 2, &previous));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_TOO_MANY_POSTS));
    EXPECT_EQ(previous, -1) << "not written on failure";
    EXPECT_TRUE(ReleaseSemaphore(s, 1, &previous));
    EXPECT_EQ(previous, 1) << "the failed release changed nothing";
    EXPECT_FALSE(ReleaseSemaphore(s, 1, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_TOO_MANY_POSTS));
    CloseHandle(s);
}

// "ReleaseSemaphore with a count of zero or less: ERROR_INVALID_PARAMETER; on a handle to
// an event: ERROR_INVALID_HANDLE; without SEMAPHORE_MODIFY_STATE: ERROR_ACCESS_DENIED."
TEST_F(Win32Semaphore, ReleaseSemaphore_BadArgumentsAndHandles)
{
    HANDLE s = CreateSemaphoreW(nullptr, 0, 2, W(u"IosimSem"));
    EXPECT_FALSE(ReleaseSemaphore(s, 0, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_FALSE(ReleaseSemaphore(s, -1, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(ReleaseSemaphore(e, 1, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    HANDLE sync_only = OpenSemaphoreW(SYNCHRONIZE, FALSE, W(u"IosimSem"));
    ASSERT_NE(sync_only, nullptr);
    EXPECT_FALSE(ReleaseSemaphore(sync_only, 1, nullptr));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    CloseHandle(sync_only);
    CloseHandle(e);
    CloseHandle(s);
}

// "CreateSemaphore: lMaximumCount must be positive and 0 <= lInitialCount <= lMaximumCount,
// otherwise NULL with ERROR_INVALID_PARAMETER."
TEST_F(Win32Semaphore, CreateSemaphore_InvalidCountsFailWithErrorInvalidParameter)
{
    EXPECT_EQ(CreateSemaphoreW(nullptr, 3, 2, nullptr), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(CreateSemaphoreW(nullptr, 0, 0, nullptr), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(CreateSemaphoreW(nullptr, -1, 2, nullptr), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

// "A named semaphore: CreateSemaphore on an existing name opens it (ERROR_ALREADY_EXISTS,
// its count unchanged); OpenSemaphore finds it; an unknown name is ERROR_FILE_NOT_FOUND; a
// name of an event is ERROR_INVALID_HANDLE."
TEST_F(Win32Semaphore, NamedSemaphore_CreateOpenAndNameClashes)
{
    HANDLE a = CreateSemaphoreA(nullptr, 1, 4, "IosimNamedSem");
    ASSERT_NE(a, nullptr);
    HANDLE b = CreateSemaphoreW(nullptr, 4, 4, W(u"IosimNamedSem"));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ALREADY_EXISTS));
    LONG previous = -1;
    EXPECT_TRUE(ReleaseSemaphore(b, 1, &previous));
    EXPECT_EQ(previous, 1) << "the second create opened the first semaphore; its count stayed";
    HANDLE c = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, W(u"IosimNamedSem"));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(WaitForSingleObject(c, 0), WAIT_OBJECT_0);
    EXPECT_EQ(OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, W(u"IosimNoSuchSem")), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND));
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, W(u"IosimAnEvent"));
    EXPECT_EQ(CreateSemaphoreW(nullptr, 0, 1, W(u"IosimAnEvent")), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    EXPECT_EQ(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, "IosimAnEvent"), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    CloseHandle(e);
    CloseHandle(c);
    CloseHandle(b);
    CloseHandle(a);
}

// "ReleaseSemaphore releases a thread waiting for the semaphore."
TEST_F(Win32Semaphore, ReleaseSemaphore_ReleasesAWaitingThread)
{
    SemaphoreWait wait{CreateSemaphoreW(nullptr, 0, 1, nullptr)};
    HANDLE worker = CreateThread(nullptr, 0, WaitForSemaphore, &wait, 0, nullptr);
    Sleep(20);
    EXPECT_EQ(wait.result, 99u) << "still waiting";
    EXPECT_TRUE(ReleaseSemaphore(wait.semaphore, 1, nullptr));
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(wait.result, WAIT_OBJECT_0);
    EXPECT_EQ(wait.at, 20u);
    EXPECT_EQ(WaitForSingleObject(wait.semaphore, 0), static_cast<DWORD>(WAIT_TIMEOUT)) << "the waiter took the unit";
    CloseHandle(worker);
    CloseHandle(wait.semaphore);
}

// "A driver given an app's semaphore handle references it with *ExSemaphoreObjectType and
// gets a PKSEMAPHORE it can release; with *ExEventObjectType the same handle is
// STATUS_OBJECT_TYPE_MISMATCH."
TEST_F(Win32Semaphore, ExSemaphoreObjectType_ReferencesAnAppSemaphoreByHandle)
{
    ASSERT_NE(ExSemaphoreObjectType, nullptr);
    ASSERT_NE(*ExSemaphoreObjectType, nullptr);
    HANDLE s = CreateSemaphoreW(nullptr, 0, 3, nullptr);
    PVOID object = nullptr;
    EXPECT_EQ(ObReferenceObjectByHandle(s, SEMAPHORE_MODIFY_STATE, *ExSemaphoreObjectType, UserMode, &object, nullptr),
              STATUS_SUCCESS);
    ASSERT_NE(object, nullptr);
    auto* semaphore = static_cast<PKSEMAPHORE>(object);
    EXPECT_EQ(semaphore->Limit, 3);
    EXPECT_EQ(KeReleaseSemaphore(semaphore, SEMAPHORE_INCREMENT, 2, FALSE), 0);
    EXPECT_EQ(KeReadStateSemaphore(semaphore), 2);
    ObDereferenceObject(object);
    LONG previous = -1;
    EXPECT_TRUE(ReleaseSemaphore(s, 1, &previous));
    EXPECT_EQ(previous, 2) << "the driver released the app's semaphore";
    PVOID wrong = nullptr;
    EXPECT_EQ(ObReferenceObjectByHandle(s, SYNCHRONIZE, *ExEventObjectType, UserMode, &wrong, nullptr),
              STATUS_OBJECT_TYPE_MISMATCH);
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_EQ(ObReferenceObjectByHandle(e, SYNCHRONIZE, *ExSemaphoreObjectType, UserMode, &wrong, nullptr),
              STATUS_OBJECT_TYPE_MISMATCH);
    CloseHandle(e);
    CloseHandle(s);
}

// ---- OpenProcess ----

class Win32Process : public AsyncTest {
protected:
    void TearDown() override
    {
        if (other != nullptr && !other->exited() && !machine.system().dead())
            machine.end_process(other);
        AsyncTest::TearDown();
    }
    iosim::Process* other = nullptr;
};

namespace {

struct ProcessWait {
    HANDLE process = nullptr;
    DWORD result = 99;
};

DWORD WINAPI WaitForProcess(LPVOID param)
{
    auto* wait = static_cast<ProcessWait*>(param);
    wait->result = WaitForSingleObject(wait->process, INFINITE);
    return 0;
}

}  // namespace

// "A process handle is signalled when the process has exited; GetExitCodeProcess gives
// STILL_ACTIVE until then, its exit code afterwards."
TEST_F(Win32Process, OpenProcess_HandleIsSignalledAtExitAndGivesTheExitCode)
{
    other = machine.create_process("other.exe");
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_INFORMATION, FALSE, other->pid());
    ASSERT_NE(h, nullptr);
    DWORD code = 0;
    EXPECT_TRUE(GetExitCodeProcess(h, &code));
    EXPECT_EQ(code, STILL_ACTIVE);
    EXPECT_EQ(WaitForSingleObject(h, 0), static_cast<DWORD>(WAIT_TIMEOUT));
    ProcessWait wait{h};
    HANDLE worker = CreateThread(nullptr, 0, WaitForProcess, &wait, 0, nullptr);
    Sleep(5);
    EXPECT_EQ(wait.result, 99u) << "the worker waits for the process";
    machine.end_process(other, 7);
    other = nullptr;  // the handle keeps the process object; TearDown has nothing to end
    EXPECT_EQ(WaitForSingleObject(worker, INFINITE), WAIT_OBJECT_0);
    EXPECT_EQ(wait.result, WAIT_OBJECT_0);
    EXPECT_EQ(WaitForSingleObject(h, 0), WAIT_OBJECT_0) << "stays signalled";
    EXPECT_TRUE(GetExitCodeProcess(h, &code));
    EXPECT_EQ(code, 7u);
    CloseHandle(worker);
    CloseHandle(h);
}

// "OpenProcess of pid 0 or of a pid no process has: NULL, ERROR_INVALID_PARAMETER."
TEST_F(Win32Process, OpenProcess_UnknownPidFailsWithErrorInvalidParameter)
{
    EXPECT_EQ(OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, 0), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, 0x7FFFFFF0), nullptr);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_PARAMETER));
}

// "Waiting needs SYNCHRONIZE (WAIT_FAILED, ERROR_ACCESS_DENIED); GetExitCodeProcess needs
// PROCESS_QUERY_(LIMITED_)INFORMATION (ERROR_ACCESS_DENIED); a handle of another kind is
// ERROR_INVALID_HANDLE; the pseudo handle names the caller, still active."
TEST_F(Win32Process, OpenProcess_AccessIsCheckedPerOperation)
{
    other = machine.create_process("other.exe");
    HANDLE query_only = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, other->pid());
    ASSERT_NE(query_only, nullptr);
    EXPECT_EQ(WaitForSingleObject(query_only, 0), WAIT_FAILED);
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    DWORD code = 0;
    EXPECT_TRUE(GetExitCodeProcess(query_only, &code));
    EXPECT_EQ(code, STILL_ACTIVE);
    HANDLE sync_only = OpenProcess(SYNCHRONIZE, FALSE, other->pid());
    EXPECT_FALSE(GetExitCodeProcess(sync_only, &code));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT_FALSE(GetExitCodeProcess(e, &code));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
    EXPECT_TRUE(GetExitCodeProcess(GetCurrentProcess(), &code));
    EXPECT_EQ(code, STILL_ACTIVE);
    CloseHandle(e);
    CloseHandle(sync_only);
    CloseHandle(query_only);
}

// "A handle from OpenProcess with PROCESS_DUP_HANDLE is a target for DuplicateHandle: the
// copy lands in the other process's handle table."
TEST_F(Win32Process, OpenProcess_WithDupHandleAccessLetsDuplicateHandleReachTheProcess)
{
    other = machine.create_process("other.exe");
    HANDLE target_process = OpenProcess(PROCESS_DUP_HANDLE, FALSE, other->pid());
    ASSERT_NE(target_process, nullptr);
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    HANDLE copy = nullptr;
    EXPECT_TRUE(DuplicateHandle(GetCurrentProcess(), e, target_process, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_NE(copy, nullptr);
    void* object = nullptr;
    ACCESS_MASK granted = 0;
    EXPECT_EQ(other->handles().reference(copy, nullptr, &object, &granted), STATUS_SUCCESS)
        << "the copy is in the other process's table";
    if (object != nullptr)
        iosim::ob::dereference(object);
    HANDLE query_only = OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, other->pid());
    EXPECT_FALSE(DuplicateHandle(GetCurrentProcess(), e, query_only, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS));
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_ACCESS_DENIED));
    CloseHandle(query_only);
    CloseHandle(e);
    CloseHandle(target_process);
}
