// trace_support.h - reading a machine's trace in tests, shared by the test folders:
//
//   trace_lines(sys)           every event's text, in order
//   trace_dump(sys)            the same, indented, one per line (for failure messages)
//   first_line(sys, pattern)   the first line containing `pattern`, or ""
//   in_order(sys, patterns)    whether lines containing each pattern appear in this order
#pragma once

#include <string>
#include <vector>

#include "system.h"

namespace iosim_test {

inline std::vector<std::string> trace_lines(iosim::System& sys)
{
    std::vector<std::string> lines;
    for (const auto& event : sys.trace().events())
        lines.push_back(event.text);
    return lines;
}

inline std::string trace_dump(iosim::System& sys)
{
    std::string out;
    for (const auto& line : trace_lines(sys))
        out += "    " + line + "\n";
    return out;
}

inline std::string first_line(iosim::System& sys, const std::string& pattern)
{
    for (const auto& line : trace_lines(sys))
        if (line.find(pattern) != std::string::npos)
            return line;
    return "";
}

inline bool in_order(iosim::System& sys, const std::vector<std::string>& patterns)
{
    auto lines = trace_lines(sys);
    size_t at = 0;
    for (const auto& pattern : patterns) {
        while (at < lines.size() && lines[at].find(pattern) == std::string::npos)
            ++at;
        if (at == lines.size())
            return false;
        ++at;
    }
    return true;
}

}  // namespace iosim_test
