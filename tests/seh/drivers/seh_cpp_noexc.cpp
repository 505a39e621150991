// seh_cpp_noexc.cpp - the SEH test cases compiled as C++ without exceptions
// (seh_cpp_noexc.sys, -fno-exceptions): there __leave jumps back to its frame instead of
// throwing, and libstdc++'s own __try/__catch are "if (true)" / "if (false)". <list> is
// included after ntddk.h, so its __try meets iosim's macro.
#include <ntddk.h>

#include <list>

#define SEH_DEVICE_NAME L"\\Device\\SehCppNoExc"
#define SEH_LINK_NAME L"\\??\\SehCppNoExc"
#include "seh_cases.h"

extern "C" int SehNoExcList(int value)
{
    int result = 0;
    __try {
        std::list<int> numbers = {value, 1};
        numbers.sort();
        result = numbers.back();
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        result = -1;
    }
    return result;
}
