// seh_test_support.h - what the SEH tests share.
//
//  SehRig        a Machine (e2e::Rig) with one of the SEH test drivers loaded (seh_c.sys or
//                seh_cpp.sys: the same cases compiled as C and as C++) and a way to call the
//                drivers' exported case functions directly.
//  UserBuffer    memory of a real process's user space (its heap), and BadUserAddress: a
//                user range that was reserved, committed and released again (a freed
//                VirtualAlloc), so touching it faults.
//  SehSourceLine the line of a "SEH-LINE:" marker in a test driver's source, so reports that
//                name lines are checked without hard-coding numbers.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "driver.h"
#include "e2e/e2e_support.h"
#include "ke/bugcheck.h"
#include "support/kernel_support.h"
#include "ke/seh.h"
#include "ldr/module.h"
#include "mm/memory_manager.h"
#include "system.h"
#include "wdm_impl.h"
#include "drivers/seh_public.h"

namespace seh_test {

inline int SehSourceLine(const std::string& file, const std::string& marker)
{
    std::filesystem::path path = std::filesystem::path(__FILE__).parent_path() / "drivers" / file;
    std::ifstream in(path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number)
        if (line.find("SEH-LINE: " + marker) != std::string::npos)
            return number;
    return 0;
}

template <typename F>
std::optional<iosim::BugCheckInfo> CatchBugCheck(F&& f)
{
    return iosim_test::catch_bugcheck(std::forward<F>(f));
}

// A freed user range of `process`: reserved, committed, then released.
inline void* BadUserAddress(iosim::Process* process)
{
    iosim::mm::AddressSpace& space = *process->memory->space;
    void* base = space.allocate(1, "test (freed)");
    EXPECT_NE(base, nullptr);
    EXPECT_EQ(space.release(base), STATUS_SUCCESS);
    return base;
}

// `bytes` of the process heap (a real user buffer of that process), zeroed. The heap
// lives in the process's user space, visible only while it is the current process: the
// allocation (and every later access by the test) happens in its context.
inline unsigned char* UserBuffer(iosim::Process* process, size_t bytes)
{
    iosim::ThreadSwitch in_process(iosim::System::current()->main_thread(process));
    return static_cast<unsigned char*>(process->memory->heap->allocate(bytes, true));
}

class SehRig {
public:
    explicit SehRig(const std::string& driver) : name_(driver)
    {
        std::string message;
        status_ = rig.machine.load_driver(driver, driver + ".sys", &message);
        EXPECT_EQ(status_, STATUS_SUCCESS) << message;
        for (iosim::ldr::Module* module : iosim::ldr::loaded_modules())
            if (module->name == driver + ".sys")
                module_ = module;
    }

    // After a bug check the machine's shutdown only releases memory; delete the driver's
    // device the way IoDeleteDevice does first (as tests/io does), so that nothing named is
    // released twice.
    ~SehRig()
    {
        if (!rig.system().dead())
            return;
        std::u16string service(name_.begin(), name_.end());
        if (DRIVER_OBJECT* driver = iosim::io::find_driver(service))
            while (driver->DeviceObject != nullptr)
                IoDeleteDevice(driver->DeviceObject);
    }
    SehRig(const SehRig&) = delete;
    SehRig& operator=(const SehRig&) = delete;

    bool loaded() const { return NT_SUCCESS(status_) && module_ != nullptr; }

    // The driver's exported function `name`, as a pointer of type F.
    template <typename F>
    F* Case(const char* name)
    {
        void* address = module_ != nullptr ? iosim::ldr::symbol(module_, name) : nullptr;
        EXPECT_NE(address, nullptr) << name << " in " << name_;
        return reinterpret_cast<F*>(address);
    }

    const std::string& name() const { return name_; }

    e2e::Rig rig;

private:
    std::string name_;
    NTSTATUS status_ = STATUS_UNSUCCESSFUL;
    iosim::ldr::Module* module_ = nullptr;
};

}  // namespace seh_test
