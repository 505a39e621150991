// golden_test.cpp - golden traces of the sample pairs (tests/trace/golden/).
//
// The text form (<sample>.txt) of the hello, ioctl_buffered, kbuffer and pattern pairs and
// the Mermaid form (<sample>.mmd) of hello and ioctl_buffered are compared byte for byte
// with the files in tests/trace/golden. When a change to the traces is intended, refresh
// them with tools/update_goldens.sh (IOSIM_UPDATE_GOLDENS=1 makes these tests write the
// files instead of comparing) and review the diff.
#include "trace_support.h"

using namespace trace_test;
using iosim::trace::to_mermaid;
using iosim::trace::to_text;

namespace {

TEST(GoldenTrace, HelloText) { CheckGolden("hello.txt", to_text(RunSample(kHello))); }
TEST(GoldenTrace, IoctlBufferedText) { CheckGolden("ioctl_buffered.txt", to_text(RunSample(kIoctl))); }
TEST(GoldenTrace, KbufferText) { CheckGolden("kbuffer.txt", to_text(RunSample(kKbuffer))); }
TEST(GoldenTrace, PatternText) { CheckGolden("pattern.txt", to_text(RunSample(kPattern))); }

TEST(GoldenTrace, HelloMermaid) { CheckGolden("hello.mmd", to_mermaid(RunSample(kHello))); }
TEST(GoldenTrace, IoctlBufferedMermaid) { CheckGolden("ioctl_buffered.mmd", to_mermaid(RunSample(kIoctl))); }

// The goldens are only worth having if a run repeats exactly: two machines, one after the
// other in the same program, give the same text, JSON and diagram.
TEST(GoldenTrace, SameRunSameTrace)
{
    for (const Sample* sample : {&kHello, &kIoctl, &kKbuffer, &kPattern}) {
        SCOPED_TRACE(sample->name);
        auto first = RunSample(*sample);
        auto second = RunSample(*sample);
        EXPECT_EQ(to_text(first), to_text(second));
        EXPECT_EQ(iosim::trace::to_json(first), iosim::trace::to_json(second));
        EXPECT_EQ(to_mermaid(first), to_mermaid(second));
    }
}

// No host addresses in the text: the only 0x numbers are statuses, control codes, access
// masks and device types, 32 bits at most (hello's DbgPrint prints its pid with %p, as
// 000000000000000C: a pid, not an address), and every code address is symbolized.
TEST(GoldenTrace, TextHasNoAddresses)
{
    for (const Sample* sample : {&kHello, &kIoctl, &kKbuffer, &kPattern}) {
        SCOPED_TRACE(sample->name);
        std::string text = to_text(RunSample(*sample));
        for (size_t at = text.find("0x"); at != std::string::npos; at = text.find("0x", at + 2)) {
            size_t end = at + 2;
            while (end < text.size() && std::isxdigit(static_cast<unsigned char>(text[end])))
                ++end;
            EXPECT_LE(end - at - 2, 8u) << "a 64-bit hex number (an address?) in: "
                                        << text.substr(text.rfind('\n', at) + 1, 120);
        }
        EXPECT_EQ(text.find("+0x"), std::string::npos) << "an unsymbolized address (module+0x...):\n" << text;
    }
}

}  // namespace
