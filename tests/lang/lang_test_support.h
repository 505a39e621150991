// lang_test_support.h - helpers for the command-language tests.
//
//  ParseError(line)   the message parse_line throws for one line ("" if it parses), as
//                     "t.iosim:3:7: error: ..." (the line is always line 3 of t.iosim)
//  Script             a Session whose output and errors are kept, running script text
//                     written to a temporary file (so includes and file data resolve)
//  Source(path)       a file of the source tree (IOSIM_SOURCE_DIR)
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "lang/parser.h"
#include "lang/session.h"

namespace langtest {

inline std::string ParseError(std::string_view line, iosim::lang::Scope scope = {})
{
    try {
        iosim::lang::parse_line(line, {"t.iosim", 3, 0}, scope);
    } catch (const iosim::lang::ScriptError& error) {
        return error.what();
    }
    return "";
}

inline iosim::lang::Scope WithHandle(const std::string& name = "h")
{
    iosim::lang::Scope scope;
    scope.variables[name] = iosim::lang::Scope::Kind::Handle;
    return scope;
}

inline std::string Source(const std::string& relative)
{
    const char* root = std::getenv("IOSIM_SOURCE_DIR");
    std::filesystem::path base = root != nullptr ? root : std::filesystem::path(__FILE__).parent_path() / "../..";
    return (base / relative).lexically_normal().string();
}

// A scratch folder per test, removed afterwards.
inline std::filesystem::path ScratchDir()
{
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("iosim_lang_" + std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

inline void WriteFile(const std::filesystem::path& path, std::string_view text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
}

class Script {
public:
    explicit Script(bool trace = false) : session_(MakeOptions(trace)) {}

    // Writes `text` to <scratch>/name and runs it.
    iosim::lang::Outcome Run(std::string_view text, const std::string& name = "t.iosim")
    {
        std::filesystem::path dir = ScratchDir();
        path_ = (dir / name).string();
        WriteFile(path_, text);
        return session_.run_file(path_);
    }
    iosim::lang::Outcome Line(std::string_view line) { return session_.run_line(line, {"<shell>", ++lines_, 0}); }

    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }
    const std::string& path() const { return path_; }
    iosim::lang::Session& session() { return session_; }
    std::string All() const { return "--- out:\n" + out_ + "--- err:\n" + err_; }

private:
    iosim::lang::Session::Options MakeOptions(bool trace)
    {
        iosim::lang::Session::Options options;
        options.trace = trace;
        options.out = [this](std::string_view text) { out_.append(text); };
        options.err = [this](std::string_view text) { err_.append(text); };
        return options;
    }

    std::string out_;
    std::string err_;
    std::string path_;
    int lines_ = 0;
    iosim::lang::Session session_;
};

}  // namespace langtest
