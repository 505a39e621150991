// sanitizer.h - which sanitizer this test program is built with.
//
// Under ThreadSanitizer the host decides where iosim's address spaces go (TSan's shadow
// memory owns the ranges iosim would pick), so tests that depend on the layout itself
// (the same virtual addresses run after run, an address known to be unmapped) skip there
// with that reason; every other preset runs them.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define IOSIM_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IOSIM_TEST_UNDER_TSAN 1
#endif
#endif

#if defined(IOSIM_TEST_UNDER_TSAN)
#define IOSIM_SKIP_UNDER_TSAN_LAYOUT() \
    GTEST_SKIP() << "under TSan the host places iosim's address spaces (docs/memory.md); the layout this test relies on is not iosim's"
#else
#define IOSIM_SKIP_UNDER_TSAN_LAYOUT() \
    do {                               \
    } while (0)
#endif
