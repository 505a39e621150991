// inspect_support.h - what the inspection-command tests share: a quiet Machine, running a
// command and splitting its text into lines.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "inspect/inspect.h"
#include "machine.h"

namespace inspect_test {

inline iosim::Machine::Options quiet(bool trace = false)
{
    iosim::Machine::Options options;
    options.trace = trace;
    options.debug_output = [](std::string_view, std::string_view) {};
    options.app_output = [](uint32_t, const std::string&, std::string_view) {};
    return options;
}

inline std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

inline bool has_line(const std::string& text, const std::string& line)
{
    auto lines = lines_of(text);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The first line that contains `part`, or "".
inline std::string line_with(const std::string& text, const std::string& part)
{
    for (const std::string& line : lines_of(text))
        if (line.find(part) != std::string::npos)
            return line;
    return "";
}

// Runs a command that must succeed; returns its text.
inline std::string ok(const std::string& command)
{
    std::string out, error;
    EXPECT_TRUE(iosim::inspect::run(command, out, error)) << command << ": " << error;
    EXPECT_EQ(error, "");
    EXPECT_TRUE(out.empty() || out.back() == '\n') << command;
    return out;
}

// Runs a command that must fail; returns its error.
inline std::string fails(const std::string& command)
{
    std::string out, error;
    EXPECT_FALSE(iosim::inspect::run(command, out, error)) << command << " printed:\n" << out;
    EXPECT_EQ(out, "");
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
    return error;
}

// "0x0000559c35312fb0" following `after` in `line`.
inline std::string address_after(const std::string& line, const std::string& after)
{
    size_t at = line.find(after);
    if (at == std::string::npos)
        return "";
    return line.substr(at + after.size(), 18);
}

}  // namespace inspect_test
