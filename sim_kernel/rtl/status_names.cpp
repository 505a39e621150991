// status_names.cpp - the NTSTATUS and Win32 error name tables (see status_names.h).
//
// Both tables are generated from the X-macro lists in ntstatus.h and winerror.h, sorted by
// value once, with the first-listed name kept for each value.
#include "rtl/status_names.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "winerror.h"

namespace iosim {

namespace {

struct NamedValue {
    ULONG value;
    const char* name;
};

// Sorted by value; for a value listed twice, only the first name in list order stays.
std::vector<NamedValue> make_table(std::vector<NamedValue> entries)
{
    std::stable_sort(entries.begin(), entries.end(),
                     [](const NamedValue& a, const NamedValue& b) { return a.value < b.value; });
    entries.erase(std::unique(entries.begin(), entries.end(),
                              [](const NamedValue& a, const NamedValue& b) { return a.value == b.value; }),
                  entries.end());
    return entries;
}

const char* find_name(const std::vector<NamedValue>& table, ULONG value)
{
    auto it = std::lower_bound(table.begin(), table.end(), value,
                               [](const NamedValue& e, ULONG v) { return e.value < v; });
    return (it != table.end() && it->value == value) ? it->name : nullptr;
}

const std::vector<NamedValue>& status_table()
{
#define IOSIM_STATUS_ENTRY(name, value) NamedValue{static_cast<ULONG>(value), #name},
    static const std::vector<NamedValue> table = make_table({IOSIM_NTSTATUS_LIST(IOSIM_STATUS_ENTRY)});
#undef IOSIM_STATUS_ENTRY
    return table;
}

const std::vector<NamedValue>& dos_error_table()
{
#define IOSIM_WINERROR_ENTRY(name) NamedValue{static_cast<ULONG>(name), #name},
    static const std::vector<NamedValue> table = make_table({IOSIM_WINERROR_LIST(IOSIM_WINERROR_ENTRY)});
#undef IOSIM_WINERROR_ENTRY
    return table;
}

}  // namespace

const char* status_name(NTSTATUS status)
{
    if (const char* name = find_name(status_table(), static_cast<ULONG>(status)))
        return name;
    thread_local char buffer[16];
    std::snprintf(buffer, sizeof buffer, "0x%08X", static_cast<unsigned>(status));
    return buffer;
}

std::string status_text(NTSTATUS status)
{
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(status));
    const char* name = find_name(status_table(), static_cast<ULONG>(status));
    if (name == nullptr)
        return hex;
    return std::string(name) + " (" + hex + ")";
}

const char* dos_error_name(ULONG error)
{
    if (const char* name = find_name(dos_error_table(), error))
        return name;
    thread_local char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%u", static_cast<unsigned>(error));
    return buffer;
}

}  // namespace iosim
