// event_test.cpp - Event objects: the object type, Win32 events, and a driver-side reference
// by handle (the first half of seed 002's "event-based reverse communication").
#include <gtest/gtest.h>

#include "ke/event.h"
#include "machine.h"
#include "windows.h"

using namespace iosim;

namespace {

struct InProcess {
    Machine machine;
    Process* process = machine.create_process("events.exe");
    ThreadSwitch in{machine.system().main_thread(process)};
    ~InProcess() = default;
};

}  // namespace

TEST(EventObjects, SetEventIsSeenByTheKernelThroughItsHandle)
{
    InProcess p;
    HANDLE h = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ASSERT_NE(h, nullptr);
    PVOID object = nullptr;
    ASSERT_EQ(ObReferenceObjectByHandle(h, SYNCHRONIZE, *ExEventObjectType, UserMode, &object, nullptr), STATUS_SUCCESS);
    auto* event = static_cast<PKEVENT>(object);
    EXPECT_EQ(KeReadStateEvent(event), 0);
    EXPECT_TRUE(SetEvent(h));
    EXPECT_EQ(KeReadStateEvent(event), 1);
    EXPECT_TRUE(ResetEvent(h));
    EXPECT_EQ(KeReadStateEvent(event), 0);
    KeSetEvent(event, IO_NO_INCREMENT, FALSE);  // the driver's side signals the app's event
    EXPECT_EQ(KeReadStateEvent(event), 1);
    ObDereferenceObject(object);
    EXPECT_TRUE(CloseHandle(h));
}

TEST(EventObjects, ReferencingAnotherObjectTypeAsAnEventIsATypeMismatch)
{
    InProcess p;
    HANDLE h = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    PVOID object = nullptr;
    EXPECT_EQ(ObReferenceObjectByHandle(h, 0, *IoFileObjectType, KernelMode, &object, nullptr),
              STATUS_OBJECT_TYPE_MISMATCH);
    EXPECT_EQ(ObReferenceObjectByHandle(reinterpret_cast<HANDLE>(0x7F0), 0, *ExEventObjectType, KernelMode, &object,
                                        nullptr),
              STATUS_INVALID_HANDLE);
    CloseHandle(h);
}

TEST(EventObjects, NamedEventIsSharedAndLeavesTheNamespaceWithItsLastHandle)
{
    InProcess p;
    HANDLE first = CreateEventW(nullptr, TRUE, FALSE, reinterpret_cast<LPCWSTR>(u"IosimTestEvent"));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(GetLastError(), ERROR_SUCCESS);
    HANDLE second = CreateEventW(nullptr, TRUE, FALSE, reinterpret_cast<LPCWSTR>(u"IosimTestEvent"));
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(GetLastError(), ERROR_ALREADY_EXISTS);
    EXPECT_TRUE(SetEvent(first));
    PVOID object = nullptr;
    ASSERT_EQ(ObReferenceObjectByHandle(second, 0, *ExEventObjectType, KernelMode, &object, nullptr), STATUS_SUCCESS);
    EXPECT_EQ(KeReadStateEvent(static_cast<PKEVENT>(object)), 1) << "both handles name one event";
    ObDereferenceObject(object);
    auto found = p.machine.system().ns().lookup(u"\\BaseNamedObjects\\IosimTestEvent");
    ASSERT_EQ(found.status, STATUS_SUCCESS);
    ob::dereference(found.object);
    CloseHandle(first);
    CloseHandle(second);
    EXPECT_EQ(p.machine.system().ns().lookup(u"\\BaseNamedObjects\\IosimTestEvent").status,
              STATUS_OBJECT_NAME_NOT_FOUND);
    EXPECT_EQ(OpenEventW(SYNCHRONIZE, FALSE, reinterpret_cast<LPCWSTR>(u"IosimTestEvent")), nullptr);
    EXPECT_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
}

TEST(EventObjects, KeInitializeEventSetsTypeAndState)
{
    KEVENT event;
    KeInitializeEvent(&event, SynchronizationEvent, TRUE);
    EXPECT_EQ(KeReadStateEvent(&event), 1);
    EXPECT_EQ(event.Header.Type, 1);
    EXPECT_EQ(KeResetEvent(&event), 1) << "KeResetEvent returns the previous state";
    EXPECT_EQ(KeSetEvent(&event, IO_NO_INCREMENT, FALSE), 0) << "KeSetEvent returns the previous state";
    KeClearEvent(&event);
    EXPECT_EQ(KeReadStateEvent(&event), 0);
}

TEST(DebugOutput, DbgBreakPointWithoutADebuggerLogsAndContinues)
{
    std::vector<std::string> lines;
    Machine machine({.debug_output = [&](std::string_view, std::string_view text) { lines.emplace_back(text); }});
    DbgBreakPoint();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("DbgBreakPoint at event_test.cpp:"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("no debugger attached"), std::string::npos) << lines[0];
}
