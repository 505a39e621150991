// names.cpp - name <-> value tables built from the same lists the kernel names values with.
#include "lang/names.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "irp.h"
#include "ke/bugcheck.h"
#include "nt.h"
#include "rtl/status_names.h"
#include "winerror.h"

namespace iosim::lang {

namespace {

using Table = std::map<std::string, uint32_t, std::less<>>;

const Table& status_table()
{
#define IOSIM_LANG_STATUS(name, value) {#name, static_cast<uint32_t>(value)},
    static const Table table{IOSIM_NTSTATUS_LIST(IOSIM_LANG_STATUS)};
#undef IOSIM_LANG_STATUS
    return table;
}

const Table& dos_error_table()
{
#define IOSIM_LANG_ERROR(name) {#name, static_cast<uint32_t>(name)},
    static const Table table{IOSIM_WINERROR_LIST(IOSIM_LANG_ERROR)};
#undef IOSIM_LANG_ERROR
    return table;
}

// Bug check codes are small; the kernel names the ones it can raise.
const Table& bugcheck_table()
{
    static const Table table = [] {
        Table t;
        for (uint32_t code = 1; code < 0x400; ++code) {
            std::string name = bugcheck_name(code);
            if (name != "UNKNOWN_BUGCHECK")
                t.emplace(name, code);
        }
        return t;
    }();
    return table;
}

const Table& major_table()
{
    static const Table table = [] {
        Table t;
        for (uint32_t major = 0; major <= IRP_MJ_MAXIMUM_FUNCTION; ++major)
            t.emplace(io::major_name(static_cast<UCHAR>(major)), major);
        return t;
    }();
    return table;
}

std::optional<uint32_t> find(const Table& table, std::string_view name)
{
    auto it = table.find(name);
    if (it == table.end())
        return std::nullopt;
    return it->second;
}

std::vector<std::string> keys(const Table& table)
{
    std::vector<std::string> out;
    for (const auto& [name, value] : table)
        out.push_back(name);
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::optional<uint32_t> status_value(std::string_view name) { return find(status_table(), name); }
std::optional<uint32_t> dos_error_value(std::string_view name) { return find(dos_error_table(), name); }
std::optional<uint32_t> bugcheck_value(std::string_view name) { return find(bugcheck_table(), name); }

std::optional<uint8_t> major_value(std::string_view name)
{
    auto value = find(major_table(), name);
    if (!value)
        return std::nullopt;
    return static_cast<uint8_t>(*value);
}

std::vector<std::string> status_names() { return keys(status_table()); }
std::vector<std::string> dos_error_names() { return keys(dos_error_table()); }
std::vector<std::string> major_names() { return keys(major_table()); }
std::vector<std::string> bugcheck_names() { return keys(bugcheck_table()); }

std::string status_display(uint32_t status) { return status_text(static_cast<NTSTATUS>(status)); }

std::string dos_error_display(uint32_t error)
{
    std::string name = dos_error_name(error);
    if (name == std::to_string(error))
        return name;
    return fmt::format("{} ({})", error, name);
}

std::string bugcheck_display(uint32_t code) { return fmt::format("{} (0x{:X})", bugcheck_name(code), code); }

std::string nearest(std::string_view word, const std::vector<std::string>& candidates)
{
    std::string best;
    size_t best_distance = 3;
    for (const auto& candidate : candidates) {
        size_t d = edit_distance(word, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    return best;
}

}  // namespace iosim::lang
