// threads_support.h - helpers for the system-thread, work-item and lock tests.
//
//  Stop         runs f and returns the bug check it stopped with (code 0: none).
//  StartThread  PsCreateSystemThread and a referenced pointer to the thread object, the
//               handle closed (what a driver does).
//  WaitThread   KeWaitForSingleObject on a thread object, then ObDereferenceObject.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ke/bugcheck.h"
#include "ps/process.h"
#include "system.h"
#include "wdm_impl.h"

namespace threads {

inline iosim::BugCheckInfo Stop(const std::function<void()>& f)
{
    try {
        f();
    } catch (const iosim::BugCheck& stop) {
        return stop.info();
    }
    return {};
}

inline PETHREAD StartThread(PKSTART_ROUTINE routine, PVOID context, CLIENT_ID* cid = nullptr)
{
    HANDLE handle = nullptr;
    EXPECT_EQ(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, nullptr, nullptr, cid, routine, context), STATUS_SUCCESS);
    PVOID object = nullptr;
    EXPECT_EQ(ObReferenceObjectByHandle(handle, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &object, nullptr),
              STATUS_SUCCESS);
    EXPECT_EQ(ZwClose(handle), STATUS_SUCCESS);
    return static_cast<PETHREAD>(object);
}

inline NTSTATUS WaitThread(PETHREAD thread)
{
    NTSTATUS status = KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, nullptr);
    ObDereferenceObject(thread);
    return status;
}

// Lets every ready thread run: a short simulated sleep of the caller.
inline void LetOthersRun()
{
    LARGE_INTEGER interval{};
    interval.QuadPart = -10'000;  // 1 ms
    KeDelayExecutionThread(KernelMode, FALSE, &interval);
}

inline iosim::Thread* Body(PETHREAD thread) { return reinterpret_cast<iosim::Thread*>(thread); }

}  // namespace threads
