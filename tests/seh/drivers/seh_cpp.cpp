// seh_cpp.cpp - the SEH test driver in C++ (seh_cpp.sys): the cases of seh_cases.h compiled
// as C++, with \Device\SehCpp and \??\SehCpp, plus what only C++ has: standard headers
// included after ntddk.h (libstdc++ has its own __try/__catch macros), RAII objects in a
// __try body left with __leave, and standard containers used inside a __try.
#include <ntddk.h>

// The usual ones (included by iosim_seh.h before its macros exist) ...
#include <algorithm>
#include <memory>
#include <string>
#include <vector>
// ... and some it does not include first: their libstdc++ __try/__catch see iosim's macro.
#include <list>
#include <map>
#include <sstream>

#define SEH_DEVICE_NAME L"\\Device\\SehCpp"
#define SEH_LINK_NAME L"\\??\\SehCpp"
#include "seh_cases.h"

namespace {

struct Counted {
    int* destroyed;
    explicit Counted(int* d) : destroyed(d) {}
    ~Counted() { ++*destroyed; }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
};

}  // namespace

// __leave in C++ leaves the body with its destructors run; the __finally runs normally.
extern "C" void SehCppLeaveRunsDestructors(int* destroyed, char* log)
{
    __try {
        Counted outer(destroyed);
        {
            Counted inner(destroyed);
            __leave;
        }
        SehLog(log, "unreached");
    } __finally {
        SehLog(log, AbnormalTermination() ? "finally:abnormal" : "finally:normal");
    }
}

// Standard containers inside __try, and an exception raised from inside a standard
// algorithm's callback reaching the driver's __except.
extern "C" NTSTATUS SehCppContainers(NTSTATUS code, char* log)
{
    NTSTATUS status = STATUS_SUCCESS;
    __try {
        {
            std::vector<std::string> words = {"pear", "apple", "fig"};
            std::sort(words.begin(), words.end());
            auto joined = std::make_unique<std::string>();
            for (const auto& w : words)
                *joined += w + ",";
            std::list<int> numbers = {3, 1, 2};
            numbers.sort();
            std::map<std::string, int> counts;
            for (const auto& w : words)
                counts[w] = static_cast<int>(w.size());
            std::ostringstream out;
            out << *joined << numbers.front() << numbers.back() << counts["apple"];
            SehLog(log, out.str().c_str());
        }
        // The jump to the handler skips destructors (documented): nothing here owns memory.
        int v[3] = {5, 4, 3};
        std::sort(v, v + 3, [code](int a, int b) {
            if (a == 3 || b == 3)
                ExRaiseStatus(code);
            return a < b;
        });
        SehLog(log, "unreached");
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
    }
    return status;
}

// A C++ exception is not a structured exception: it passes __except by, and the frame
// is popped on its way (a later raise does not come back here).
extern "C" int SehCppThrowPassesExcept(char* log)
{
    try {
        __try {
            SehLog(log, "body");
            throw 42;
        } __except (SehFilter(log, "filter", EXCEPTION_EXECUTE_HANDLER)) {
            SehLog(log, "handler");
        }
    } catch (int value) {
        SehLog(log, "catch");
        return value;
    }
    return 0;
}
