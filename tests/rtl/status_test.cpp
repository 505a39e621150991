// Tests for RtlNtStatusToDosError, the NTSTATUS / Win32 error name tables and winerror.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>

#include "rtl/status_names.h"
#include "wdm_impl.h"
#include "winerror.h"

namespace {

struct Pair {
    NTSTATUS status;
    ULONG error;
    const char* what;
};

TEST(RtlStatus, StatusToDosErrorMatchesDocumentedTable)
{
    // /work/shared/nt-io-facts.md ("Win32 calls return FALSE ...")
    const Pair facts[] = {
        {STATUS_INVALID_DEVICE_REQUEST, ERROR_INVALID_FUNCTION, "facts"},
        {STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED, "facts"},
        {STATUS_BUFFER_TOO_SMALL, ERROR_INSUFFICIENT_BUFFER, "facts"},
        {STATUS_BUFFER_OVERFLOW, ERROR_MORE_DATA, "facts"},
        {STATUS_INVALID_PARAMETER, ERROR_INVALID_PARAMETER, "facts"},
        {STATUS_FILE_INVALID, ERROR_FILE_INVALID, "facts"},
        {STATUS_CANCELLED, ERROR_OPERATION_ABORTED, "facts"},
    };
    for (const Pair& p : facts)
        EXPECT_EQ(RtlNtStatusToDosError(p.status), p.error) << iosim::status_text(p.status);

    // Microsoft KB 113996 and Windows' observed behaviour.
    const Pair kb[] = {
        {STATUS_SUCCESS, ERROR_SUCCESS, ""},
        {STATUS_PENDING, ERROR_IO_PENDING, ""},
        {STATUS_UNSUCCESSFUL, ERROR_GEN_FAILURE, ""},
        {STATUS_NOT_IMPLEMENTED, ERROR_INVALID_FUNCTION, ""},
        {STATUS_OBJECT_NAME_NOT_FOUND, ERROR_FILE_NOT_FOUND, ""},
        {STATUS_OBJECT_PATH_NOT_FOUND, ERROR_PATH_NOT_FOUND, ""},
        {STATUS_OBJECT_NAME_COLLISION, ERROR_ALREADY_EXISTS, ""},
        {STATUS_OBJECT_NAME_INVALID, ERROR_INVALID_NAME, ""},
        {STATUS_OBJECT_PATH_SYNTAX_BAD, ERROR_BAD_PATHNAME, ""},
        {STATUS_NO_SUCH_DEVICE, ERROR_FILE_NOT_FOUND, ""},
        {STATUS_NO_SUCH_FILE, ERROR_FILE_NOT_FOUND, ""},
        {STATUS_ACCESS_VIOLATION, ERROR_NOACCESS, ""},
        {STATUS_DATATYPE_MISALIGNMENT, ERROR_NOACCESS, ""},
        {STATUS_PIPE_BROKEN, ERROR_BROKEN_PIPE, ""},
        {STATUS_PIPE_DISCONNECTED, ERROR_PIPE_NOT_CONNECTED, ""},
        {STATUS_PIPE_BUSY, ERROR_PIPE_BUSY, ""},
        {STATUS_INVALID_HANDLE, ERROR_INVALID_HANDLE, ""},
        {STATUS_OBJECT_TYPE_MISMATCH, ERROR_INVALID_HANDLE, ""},
        {STATUS_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, ""},
        {STATUS_INSUFFICIENT_RESOURCES, ERROR_NO_SYSTEM_RESOURCES, ""},
        {STATUS_END_OF_FILE, ERROR_HANDLE_EOF, ""},
        {STATUS_SHARING_VIOLATION, ERROR_SHARING_VIOLATION, ""},
        {STATUS_NOT_SUPPORTED, ERROR_NOT_SUPPORTED, ""},
        {STATUS_INVALID_DEVICE_STATE, ERROR_BAD_COMMAND, ""},
        {STATUS_IO_DEVICE_ERROR, ERROR_IO_DEVICE, ""},
        {STATUS_DEVICE_NOT_READY, ERROR_NOT_READY, ""},
        {STATUS_DEVICE_DOES_NOT_EXIST, ERROR_DEV_NOT_EXIST, ""},
        {STATUS_DEVICE_BUSY, ERROR_BUSY, ""},
        {STATUS_IO_TIMEOUT, ERROR_SEM_TIMEOUT, ""},
        {STATUS_NAME_TOO_LONG, ERROR_FILENAME_EXCED_RANGE, ""},
        {STATUS_INVALID_IMAGE_FORMAT, ERROR_BAD_EXE_FORMAT, ""},
        {STATUS_DLL_NOT_FOUND, ERROR_MOD_NOT_FOUND, ""},
        {STATUS_PROCEDURE_NOT_FOUND, ERROR_PROC_NOT_FOUND, ""},
        {STATUS_INVALID_USER_BUFFER, ERROR_INVALID_USER_BUFFER, ""},
        {STATUS_DEVICE_REMOVED, ERROR_DEVICE_REMOVED, ""},
        {STATUS_NOT_FOUND, ERROR_NOT_FOUND, ""},
        {STATUS_NO_MORE_ENTRIES, ERROR_NO_MORE_ITEMS, ""},
        {STATUS_MORE_PROCESSING_REQUIRED, ERROR_MORE_DATA, ""},
        {STATUS_INFO_LENGTH_MISMATCH, ERROR_BAD_LENGTH, ""},
        {STATUS_INVALID_PARAMETER_2, ERROR_INVALID_PARAMETER, ""},
        {STATUS_PLUGPLAY_NO_DEVICE, ERROR_SERVICE_DISABLED, ""},
        {STATUS_IMAGE_ALREADY_LOADED, ERROR_SERVICE_ALREADY_RUNNING, ""},
        {STATUS_TIMEOUT, ERROR_TIMEOUT, ""},
        {STATUS_DEVICE_NOT_CONNECTED, ERROR_DEVICE_NOT_CONNECTED, ""},
        {STATUS_FILE_CLOSED, ERROR_INVALID_HANDLE, ""},
        {STATUS_DELETE_PENDING, ERROR_ACCESS_DENIED, ""},
    };
    for (const Pair& p : kb)
        EXPECT_EQ(RtlNtStatusToDosError(p.status), p.error) << iosim::status_text(p.status);
}

TEST(RtlStatus, InvalidVariantSetsErrorInvalidVariant)
{
    // Seed 000 claims STATUS_INVALID_VARIANT leaves GetLastError alone; Windows maps it to 604.
    EXPECT_EQ(RtlNtStatusToDosError(STATUS_INVALID_VARIANT), 604u);
    EXPECT_EQ(RtlNtStatusToDosError(STATUS_INVALID_VARIANT), static_cast<ULONG>(ERROR_INVALID_VARIANT));
}

TEST(RtlStatus, UnmappedStatusGivesMrMidNotFound)
{
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0xC0001234)), 317u);
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0x80001234)), static_cast<ULONG>(ERROR_MR_MID_NOT_FOUND));
    // NTSTATUS_FROM_WIN32 (FACILITY_NTWIN32) is not unwrapped by Windows either.
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0xC0070005)), static_cast<ULONG>(ERROR_MR_MID_NOT_FOUND));
}

TEST(RtlStatus, HresultFromWin32IsUnwrapped)
{
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED))), 5u);
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0x800703E5)), static_cast<ULONG>(ERROR_IO_PENDING));
}

TEST(RtlStatus, HresultFromNtIsLookedUpAsTheStatus)
{
    EXPECT_EQ(RtlNtStatusToDosError(HRESULT_FROM_NT(STATUS_ACCESS_DENIED)), static_cast<ULONG>(ERROR_ACCESS_DENIED));
}

TEST(RtlStatus, CustomerStatusPassesThroughUnchanged)
{
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0xE0000042)), 0xE0000042u);
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0x20000001)), 0x20000001u);
}

TEST(RtlStatus, RedirectorWrappedOs2ErrorsAreUnwrapped)
{
    EXPECT_EQ(RtlNtStatusToDosError(static_cast<NTSTATUS>(0xC0010057)), 0x57u);
}

TEST(RtlStatus, ProcessorExceptionsMapToThemselves)
{
    EXPECT_EQ(RtlNtStatusToDosError(STATUS_BREAKPOINT), 0x80000003u);
    EXPECT_EQ(RtlNtStatusToDosError(STATUS_INTEGER_DIVIDE_BY_ZERO), 0xC0000094u);
    EXPECT_EQ(RtlNtStatusToDosError(STATUS_GUARD_PAGE_VIOLATION), 0x80000001u);
}

TEST(RtlStatus, EveryStatusIosimDefinesHasAMapping)
{
    // A status added to ntstatus.h needs its Windows mapping in sim_kernel/rtl/dos_error.cpp.
    // If Windows really leaves it unmapped (317), list it here instead.
    const NTSTATUS unmapped_on_windows[] = {static_cast<NTSTATUS>(0xC0001234)};
    auto expected_unmapped = [&](NTSTATUS s) {
        return std::find(std::begin(unmapped_on_windows), std::end(unmapped_on_windows), s) !=
               std::end(unmapped_on_windows);
    };
#define CHECK_STATUS(name, value)                                                                          \
    if (!expected_unmapped(static_cast<NTSTATUS>(value)))                                                  \
        EXPECT_NE(RtlNtStatusToDosError(static_cast<NTSTATUS>(value)), static_cast<ULONG>(ERROR_MR_MID_NOT_FOUND)) \
            << #name << " has no Win32 mapping in dos_error.cpp";
    IOSIM_NTSTATUS_LIST(CHECK_STATUS)
#undef CHECK_STATUS
}

TEST(RtlStatus, EveryMappedErrorHasAName)
{
    // The Win32 codes the table produces are all defined (and named) in winerror.h.
#define CHECK_NAMED(name, value)                                                           \
    {                                                                                      \
        ULONG error = RtlNtStatusToDosError(static_cast<NTSTATUS>(value));                 \
        if (error < 0x10000) {                                                             \
            std::string text = iosim::dos_error_name(error);                               \
            EXPECT_TRUE(text.rfind("ERROR_", 0) == 0 || text.rfind("WAIT_", 0) == 0)       \
                << #name << " -> " << error;                                               \
        }                                                                                  \
    }
    IOSIM_NTSTATUS_LIST(CHECK_NAMED)
#undef CHECK_NAMED
}

TEST(RtlStatus, NoTebVariantGivesTheSameAnswer)
{
    for (NTSTATUS s : {STATUS_SUCCESS, STATUS_ACCESS_DENIED, STATUS_BREAKPOINT, static_cast<NTSTATUS>(0xC0001234)})
        EXPECT_EQ(RtlNtStatusToDosErrorNoTeb(s), RtlNtStatusToDosError(s));
}

TEST(RtlStatus, StatusNamesAreCanonical)
{
    EXPECT_STREQ(iosim::status_name(0), "STATUS_SUCCESS");  // not STATUS_WAIT_0
    EXPECT_STREQ(iosim::status_name(STATUS_ABANDONED_WAIT_0), "STATUS_ABANDONED");
    EXPECT_STREQ(iosim::status_name(STATUS_ACCESS_DENIED), "STATUS_ACCESS_DENIED");
    EXPECT_STREQ(iosim::status_name(STATUS_INVALID_VARIANT), "STATUS_INVALID_VARIANT");
    EXPECT_STREQ(iosim::status_name(STATUS_ALREADY_REGISTERED), "STATUS_ALREADY_REGISTERED");
}

TEST(RtlStatus, StatusTextShowsNameAndValue)
{
    EXPECT_EQ(iosim::status_text(STATUS_ACCESS_DENIED), "STATUS_ACCESS_DENIED (0xC0000022)");
    EXPECT_EQ(iosim::status_text(STATUS_SUCCESS), "STATUS_SUCCESS (0x00000000)");
    EXPECT_EQ(iosim::status_text(static_cast<NTSTATUS>(0xC0001234)), "0xC0001234");
}

TEST(RtlStatus, UnknownStatusNameIsHex)
{
    EXPECT_STREQ(iosim::status_name(static_cast<NTSTATUS>(0xC0001234)), "0xC0001234");
}

TEST(RtlStatus, DosErrorNamesComeFromWinerror)
{
    EXPECT_STREQ(iosim::dos_error_name(0), "ERROR_SUCCESS");
    EXPECT_STREQ(iosim::dos_error_name(5), "ERROR_ACCESS_DENIED");
    EXPECT_STREQ(iosim::dos_error_name(258), "WAIT_TIMEOUT");
    EXPECT_STREQ(iosim::dos_error_name(317), "ERROR_MR_MID_NOT_FOUND");
    EXPECT_STREQ(iosim::dos_error_name(1073), "ERROR_SERVICE_EXISTS");
    EXPECT_STREQ(iosim::dos_error_name(99999), "99999");
}

TEST(RtlStatus, WinerrorValuesAreWindows)
{
    static_assert(ERROR_SUCCESS == 0 && NO_ERROR == 0);
    static_assert(ERROR_FILE_NOT_FOUND == 2 && ERROR_PATH_NOT_FOUND == 3 && ERROR_ACCESS_DENIED == 5);
    static_assert(ERROR_INVALID_HANDLE == 6 && ERROR_NOT_ENOUGH_MEMORY == 8 && ERROR_GEN_FAILURE == 31);
    static_assert(ERROR_INVALID_PARAMETER == 87 && ERROR_INSUFFICIENT_BUFFER == 122 && ERROR_MORE_DATA == 234);
    static_assert(WAIT_TIMEOUT == 258 && ERROR_NO_MORE_ITEMS == 259 && ERROR_MR_MID_NOT_FOUND == 317);
    static_assert(ERROR_OPERATION_ABORTED == 995 && ERROR_IO_INCOMPLETE == 996 && ERROR_IO_PENDING == 997);
    static_assert(ERROR_NOACCESS == 998 && ERROR_FILE_INVALID == 1006 && ERROR_SERVICE_EXISTS == 1073);
    static_assert(ERROR_DEPENDENT_SERVICES_RUNNING == 1051 && ERROR_SERVICE_MARKED_FOR_DELETE == 1072);
    static_assert(ERROR_NOT_FOUND == 1168 && ERROR_NO_SYSTEM_RESOURCES == 1450 && ERROR_INVALID_USER_BUFFER == 1784);
    EXPECT_EQ(HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED), static_cast<HRESULT>(0x80070005));
    EXPECT_EQ(HRESULT_FROM_WIN32(0), S_OK);
    EXPECT_EQ(E_ACCESSDENIED, HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED));
    EXPECT_TRUE(SUCCEEDED(S_OK));
    EXPECT_TRUE(SUCCEEDED(S_FALSE));
    EXPECT_TRUE(FAILED(E_FAIL));
    EXPECT_EQ(HRESULT_CODE(E_INVALIDARG), static_cast<HRESULT>(ERROR_INVALID_PARAMETER));
    EXPECT_EQ(HRESULT_FACILITY(E_INVALIDARG), FACILITY_WIN32);
}

}  // namespace
