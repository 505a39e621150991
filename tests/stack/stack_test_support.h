// stack_test_support.h - what the device-stack tests share: a Machine whose debug output
// is captured, bug check capture, a process to issue Win32 requests from, and access to a
// loaded driver's globals and routines.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device.h"
#include "driver.h"
#include "irp.h"
#include "ke/bugcheck.h"
#include "support/kernel_support.h"
#include "ldr/module.h"
#include "machine.h"
#include "wdm_impl.h"

namespace stack_test {

using iosim_test::catch_bugcheck;
using iosim_test::us;

class StackTest : public ::testing::Test {
protected:
    void TearDown() override
    {
        in_process.reset();
        if (process != nullptr && !machine.system().dead())
            machine.end_process(process);
        process = nullptr;
    }

    // Loads `module` as service `service`, asserting success.
    void load(const std::string& service, const std::string& module)
    {
        std::string message;
        ASSERT_EQ(machine.load_driver(service, module, &message), STATUS_SUCCESS) << message;
    }

    DRIVER_OBJECT* driver(const char16_t* service) { return iosim::io::find_driver(service); }

    // A global or routine of a loaded driver, by name.
    template <typename T>
    T* symbol(const char16_t* service, const char* name)
    {
        DRIVER_OBJECT* d = driver(service);
        if (d == nullptr)
            return nullptr;
        return reinterpret_cast<T*>(iosim::ldr::symbol(iosim::io::driver_body(d)->priv.module, name));
    }

    // Makes an app process current for Win32 calls made by the test (until TearDown).
    void enter_app()
    {
        process = machine.create_process("stacktest.exe");
        in_process = std::make_unique<iosim::ThreadSwitch>(machine.system().main_thread(process));
    }

    // Lines of debug output starting with `prefix`.
    std::vector<std::string> debug_lines(const std::string& prefix) const
    {
        std::vector<std::string> out;
        for (const auto& line : debug)
            if (line.rfind(prefix, 0) == 0)
                out.push_back(line);
        return out;
    }

    bool has_finding(const std::string& code)
    {
        for (const auto& f : machine.system().findings())
            if (f.code == code)
                return true;
        return false;
    }

    std::vector<std::string> debug;
    iosim::Machine machine{iosim::Machine::Options{
        .trace = true, .debug_output = [this](std::string_view, std::string_view text) {
            std::string line(text);
            while (!line.empty() && line.back() == '\n')
                line.pop_back();
            debug.push_back(line);
        }}};
    iosim::Process* process = nullptr;
    std::unique_ptr<iosim::ThreadSwitch> in_process;
};

}  // namespace stack_test
