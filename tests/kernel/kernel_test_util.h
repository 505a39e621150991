// kernel_test_util.h - small helpers shared by the kernel component tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ke/bugcheck.h"
#include "support/kernel_support.h"
#include "ob/object.h"

namespace kernel_test {

using iosim_test::catch_bugcheck;

// True when `body` is among the live objects the object manager lists.
inline bool is_live(const void* body)
{
    for (const auto& object : iosim::ob::live_objects())
        if (object.body == body)
            return true;
    return false;
}

// "\\KernelObjects\\x" spelled as UTF-16.
inline std::u16string u16(const std::string& s) { return std::u16string(s.begin(), s.end()); }

}  // namespace kernel_test
