// filter_test.cpp - `attach` and `detach` run on a Session: they drive the run-time filter
// sample drivers/attachfilter through its control device, as its client app would, and
// refuse any driver that cannot be asked (filters attach themselves on Windows).
#include <gtest/gtest.h>

#include "lang/lang_test_support.h"

using namespace iosim::lang;
using langtest::Script;

namespace {

bool Has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

// IoAttachDevice through IOCTL_ATTACHFILTER_ATTACH: the stack grows a layer and requests
// to the device's name reach the filter first; detach takes it off again.
TEST(Filter, AttachPutsTheFilterOnTopAndDetachTakesItOff)
{
    Script s(/*trace=*/true);
    EXPECT_EQ(s.Run("load hello.sys\n"
                    "load attachfilter.sys\n"
                    "attach attachfilter to \\Device\\IosimHello\n"
                    "expect status STATUS_SUCCESS\n"
                    "expect trace contains \"attached on top of \\\\Device\\\\IosimHello (its stack now has 2 layer(s))\"\n"
                    "h = open \\\\.\\IosimHello\n"
                    "expect trace contains \"attachfilter: major 0x00 for \\\\Device\\\\IosimHello passes through\"\n"
                    "close h\n"
                    "detach attachfilter from \\Device\\IosimHello\n"
                    "expect status STATUS_SUCCESS\n"
                    "expect trace contains \"attachfilter: detached from \\\\Device\\\\IosimHello after 3 IRP(s)\"\n"
                    "detach attachfilter from \\Device\\IosimHello\n"
                    "expect status STATUS_NOT_FOUND\n"
                    "expect last-error ERROR_NOT_FOUND\n"),
              Outcome::Ok)
        << s.All();
    EXPECT_TRUE(Has(s.out(), "IRP_MJ_DEVICE_CONTROL -> \\Device\\IosimAttachFilter [\\Driver\\attachfilter]")) << s.All();
    EXPECT_TRUE(Has(s.out(), "result | DeviceIoControl(\\\\.\\IosimAttachFilter, IOCTL_ATTACHFILTER_ATTACH, "
                             "L\"\\Device\\IosimHello\") -> TRUE; status STATUS_SUCCESS"))
        << s.All();
}

// attachfilter's rule: a filter with another layer above it is not detached (that layer
// would be cut off): STATUS_DEVICE_BUSY.
TEST(Filter, DetachingAFilterWithALayerAboveIsDeviceBusy)
{
    Script s;
    EXPECT_EQ(s.Run("load hello.sys\n"
                    "load attachfilter.sys\n"
                    "attach attachfilter to \\Device\\IosimHello\n"
                    "load logfilter.sys\n"
                    "detach attachfilter from \\Device\\IosimHello\n"
                    "expect status STATUS_DEVICE_BUSY\n"
                    "unload logfilter\n"
                    "detach attachfilter from \\Device\\IosimHello\n"
                    "expect status STATUS_SUCCESS\n"),
              Outcome::Ok)
        << s.All();
}

// Windows has no "attach this filter" call from outside: a driver that does not offer it
// (logfilter attaches itself in DriverEntry) is refused, as is one not loaded.
TEST(Filter, OnlyADriverThatOffersItCanBeToldToAttach)
{
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\n"
                        "attach attachfilter to \\Device\\IosimHello\n"),
                  Outcome::BadScript);
        EXPECT_TRUE(Has(s.err(), "t.iosim:2:1: error: 'attach': service 'attachfilter' is not loaded (load "
                                 "attachfilter.sys first)"))
            << s.All();
    }
    {
        Script s;
        EXPECT_EQ(s.Run("load hello.sys\n"
                        "load logfilter.sys\n"
                        "load attachfilter.sys\n"
                        "detach logfilter from \\Device\\IosimHello\n"),
                  Outcome::BadScript);
        EXPECT_TRUE(Has(s.err(), "t.iosim:4:1: error: 'detach': \\Driver\\logfilter cannot be told to detach: only a "
                                 "driver that offers it can be, and iosim's one is attachfilter.sys"))
            << s.All();
    }
}
