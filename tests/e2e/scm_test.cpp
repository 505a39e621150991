// scm_test.cpp - the scm_loader app end to end: a driver installed, started, queried,
// stopped and deleted through the Service Control Manager.
#include <gtest/gtest.h>

#include "e2e/e2e_support.h"
#include "io_api.h"

using namespace iosim;
using e2e::InOrder;

TEST(ScmLoaderSample, AllStepsRunTheDriverAndRemoveTheService)
{
    e2e::Rig rig;
    auto result = rig.machine.run_app("scm_loader.exe", {"IosimEmpty", "C:\\drivers\\empty.sys"});
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(e2e::SplitLines(result.output), (std::vector<std::string>{
                                                  "service IosimEmpty, binary C:\\drivers\\empty.sys, action all",
                                                  "OpenSCManager: ok",
                                                  "CreateService: ok",
                                                  "StartService: ok",
                                                  "QueryServiceStatus: ok",
                                                  "  state SERVICE_RUNNING (4), controls accepted 0x1",
                                                  "ControlService(SERVICE_CONTROL_STOP): ok",
                                                  "DeleteService: ok",
                                                  "CloseServiceHandle(service): ok",
                                                  "CloseServiceHandle(manager): ok",
                                              }));
    // StartService ran DriverEntry with the service's registry path; STOP ran DriverUnload.
    EXPECT_EQ(rig.debug, (std::vector<std::string>{
                             "empty.sys: empty: DriverEntry "
                             "(\\Registry\\Machine\\System\\CurrentControlSet\\Services\\IosimEmpty)",
                             "empty.sys: empty: DriverUnload",
                         }));
    EXPECT_TRUE(InOrder(rig.Trace(), {
                                         "CreateService(IosimEmpty, binary \"C:\\drivers\\empty.sys\")",
                                         "StartService(IosimEmpty): binary \"C:\\drivers\\empty.sys\" -> empty.sys",
                                         "loading \\Driver\\IosimEmpty from empty.sys: calling DriverEntry",
                                         "DriverEntry of \\Driver\\IosimEmpty returned STATUS_SUCCESS",
                                         "\\Driver\\IosimEmpty: calling DriverUnload",
                                         "\\Driver\\IosimEmpty unloaded",
                                         "DeleteService(IosimEmpty): marked for deletion",
                                     }))
        << rig.TraceDump();
    EXPECT_FALSE(io::driver_loaded(u"IosimEmpty"));
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
    EXPECT_TRUE(rig.system().pool().outstanding_all().empty());

    // Deleted and closed: the service is gone, so the whole sequence runs again.
    auto again = rig.machine.run_app("scm_loader.exe", {"IosimEmpty", "C:\\drivers\\empty.sys", "all"});
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(again.output, result.output);
}

TEST(ScmLoaderSample, MissingArgumentsPrintUsage)
{
    e2e::Rig rig;
    auto result = rig.machine.run_app("scm_loader.exe", {"only-a-name"});
    ASSERT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, -1);
    EXPECT_EQ(result.output, "usage: scm_loader <service> <binary path> [start|stop|delete|query|all]\n");
}
