// names.h - the symbolic names a script may write instead of numbers, both ways.
//
//   STATUS_ACCESS_DENIED <-> 0xC0000022      (ntstatus.h's list, as status_name() uses)
//   ERROR_ACCESS_DENIED  <-> 5               (winerror.h's list, as dos_error_name() uses)
//   MULTIPLE_IRP_COMPLETE_REQUESTS <-> 0x44  (bug check names, bugcheck_name())
//   IRP_MJ_WRITE <-> 4                       (io::major_name())
// Lookups are exact (names are upper case in scripts as in the WDK).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iosim::lang {

std::optional<uint32_t> status_value(std::string_view name);
std::optional<uint32_t> dos_error_value(std::string_view name);
std::optional<uint32_t> bugcheck_value(std::string_view name);
std::optional<uint8_t> major_value(std::string_view name);

// Every name of each kind (for completion), sorted.
std::vector<std::string> status_names();
std::vector<std::string> dos_error_names();
std::vector<std::string> major_names();
std::vector<std::string> bugcheck_names();

// "STATUS_ACCESS_DENIED (0xC0000022)"
std::string status_display(uint32_t status);
// "5 (ERROR_ACCESS_DENIED)", or "1234" when the error has no name
std::string dos_error_display(uint32_t error);
// "MULTIPLE_IRP_COMPLETE_REQUESTS (0x44)"
std::string bugcheck_display(uint32_t code);

// The closest of `candidates` to `word` (at most two edits away), or "".
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace iosim::lang
