// kernel_support.h - the two helpers nearly every kernel-side test needs, in one place:
//
//   catch_bugcheck(f)  runs f and returns the bug check it raised (nullopt if it returned)
//   us(u"...")         a UNICODE_STRING over a UTF-16 literal (or any string outliving it)
//
// The per-folder support headers (tests/io, tests/stack, tests/pool, ...) bring these
// into their own namespaces with `using`.
#pragma once

#include <optional>
#include <utility>

#include "ke/bugcheck.h"
#include "wdm_impl.h"

namespace iosim_test {

template <typename F>
std::optional<iosim::BugCheckInfo> catch_bugcheck(F&& f)
{
    try {
        std::forward<F>(f)();
    } catch (const iosim::BugCheck& stop) {
        return stop.info();
    }
    return std::nullopt;
}

inline UNICODE_STRING us(const char16_t* s)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, reinterpret_cast<PCWSTR>(s));
    return u;
}

}  // namespace iosim_test
