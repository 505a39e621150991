// trace_support.h - helpers for the trace export tests.
//
//  RunSample       a driver + app pair on a fresh Machine with tracing on; the events.
//  RenumberIrps    IRP numbers made to start at 1 (see below).
//  GoldenDir       ${IOSIM_SOURCE_DIR}/tests/trace/golden (or beside this file).
//  CheckGolden     compares with a golden file, or writes it when IOSIM_UPDATE_GOLDENS=1.
//  CheckChromeTrace the structural rules of a Chrome Trace Event file.
//
// IRP numbers come from one counter per host process (sim_io_manager/irp.cpp), not per
// Machine: a sample run after another one in the same test program starts past 1. Golden
// traces are about one run, so the helpers shift the numbers of a run to start at 1, in
// event.irp and in every "IRP#<n>" of the text. Nothing else is rewritten.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "machine.h"
#include "trace/trace.h"
#include "trace/trace_export.h"

namespace trace_test {

struct Sample {
    std::string name;     // golden file stem
    std::string service;  // service name the driver is loaded as
    std::string driver;   // module
    std::string app;      // module
    std::vector<std::string> args;
};

inline const Sample kHello{"hello", "hello", "hello.sys", "hello_open.exe", {}};
inline const Sample kIoctl{"ioctl_buffered", "IosimIoctl", "ioctl_buffered.sys", "ioctl_client.exe", {}};
inline const Sample kKbuffer{"kbuffer", "kbuffer", "kbuffer.sys", "kbuffer_client.exe", {}};
inline const Sample kPattern{"pattern", "pattern", "pattern.sys", "pattern_reader.exe", {}};

inline iosim::Machine::Options QuietOptions()
{
    iosim::Machine::Options options;
    options.trace = true;
    options.app_output = [](uint32_t, const std::string&, std::string_view) {};
    options.debug_output = [](std::string_view, std::string_view) {};
    return options;
}

// Shifts IRP numbers so that the smallest in `events` is 1.
inline std::vector<iosim::trace::Event> RenumberIrps(std::vector<iosim::trace::Event> events)
{
    uint64_t lowest = 0;
    for (const auto& event : events)
        if (event.irp != 0 && (lowest == 0 || event.irp < lowest))
            lowest = event.irp;
    if (lowest <= 1)
        return events;
    uint64_t shift = lowest - 1;
    for (auto& event : events) {
        if (event.irp != 0)
            event.irp -= shift;
        std::string out;
        const std::string& text = event.text;
        size_t at = 0;
        for (size_t hit = text.find("IRP#"); hit != std::string::npos; hit = text.find("IRP#", at)) {
            size_t digits = hit + 4;
            size_t end = digits;
            while (end < text.size() && text[end] >= '0' && text[end] <= '9')
                ++end;
            out.append(text, at, digits - at);
            if (end > digits) {
                uint64_t n = std::stoull(text.substr(digits, end - digits));
                out += std::to_string(n > shift ? n - shift : n);
            }
            at = end;
        }
        out.append(text, at, std::string::npos);
        event.text = std::move(out);
    }
    return events;
}

// Loads the driver, runs the app, unloads the driver; the trace, IRPs numbered from 1.
inline std::vector<iosim::trace::Event> RunSample(const Sample& sample)
{
    iosim::Machine machine(QuietOptions());
    std::string message;
    EXPECT_EQ(machine.load_driver(sample.service, sample.driver, &message), STATUS_SUCCESS) << message;
    auto result = machine.run_app(sample.app, sample.args);
    EXPECT_TRUE(result.started) << result.error;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(machine.unload_driver(sample.service, &message), STATUS_SUCCESS) << message;
    return RenumberIrps(machine.system().trace().events());
}

inline std::filesystem::path GoldenDir()
{
    if (const char* source = std::getenv("IOSIM_SOURCE_DIR"); source != nullptr && *source != '\0')
        return std::filesystem::path(source) / "tests" / "trace" / "golden";
    return std::filesystem::path(__FILE__).parent_path() / "golden";
}

inline bool UpdatingGoldens()
{
    const char* update = std::getenv("IOSIM_UPDATE_GOLDENS");
    return update != nullptr && std::string(update) == "1";
}

inline std::vector<std::string> Lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Compares `actual` with golden/<file>; with IOSIM_UPDATE_GOLDENS=1 writes it instead.
// Goldens are made with Debug builds: an optimised build names inlined call sites
// differently ("in KbufferCreateClose" for "in CompleteIrp"), so there they are skipped.
inline void CheckGolden(const std::string& file, const std::string& actual)
{
#ifdef NDEBUG
    GTEST_SKIP() << "golden traces are compared in Debug builds only (call sites differ when optimised)";
#endif
    std::filesystem::path path = GoldenDir() / file;
    if (UpdatingGoldens()) {
        std::filesystem::create_directories(path.parent_path());
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << actual;
        ASSERT_TRUE(out.good()) << "could not write " << path;
        std::printf("golden written: %s\n", path.string().c_str());
        return;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in.good()) << path << " is missing: run tools/update_goldens.sh to create it";
    std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (expected == actual)
        return;
    auto want = Lines(expected);
    auto got = Lines(actual);
    size_t i = 0;
    while (i < want.size() && i < got.size() && want[i] == got[i])
        ++i;
    ADD_FAILURE() << path << " differs at line " << i + 1 << ":\n  golden: "
                  << (i < want.size() ? want[i] : "(end of file)") << "\n  now:    "
                  << (i < got.size() ? got[i] : "(end of file)")
                  << "\nIf the change is intended, refresh with tools/update_goldens.sh. Whole trace now:\n"
                  << actual;
}

// The Chrome Trace Event rules iosim's JSON keeps; `events` is what it was made from.
inline void CheckChromeTrace(const std::string& text, const std::vector<iosim::trace::Event>& events)
{
    using nlohmann::json;
    json doc;
    ASSERT_NO_THROW(doc = json::parse(text)) << text;
    ASSERT_TRUE(doc.is_object());
    ASSERT_TRUE(doc.contains("traceEvents") && doc["traceEvents"].is_array());
    EXPECT_EQ(doc.value("displayTimeUnit", ""), "ns");
    ASSERT_TRUE(doc.contains("otherData") && doc["otherData"].is_object());
    EXPECT_EQ(doc["otherData"].value("events", size_t{0}), events.size());

    // Round trip: what is parsed dumps and parses to the same document.
    EXPECT_EQ(json::parse(doc.dump()), doc);

    struct Slice {
        uint64_t begin, end;
        std::string name;
    };
    std::map<std::pair<uint64_t, uint64_t>, std::vector<Slice>> slices;  // per (pid, tid)
    std::map<std::pair<std::string, uint64_t>, int> open;                // (cat, id) -> open "b"s
    std::set<uint64_t> process_names;
    std::set<std::pair<uint64_t, uint64_t>> thread_names, tracks;
    std::vector<uint64_t> instants;
    for (const json& e : doc["traceEvents"]) {
        SCOPED_TRACE(e.dump());
        ASSERT_TRUE(e.is_object());
        ASSERT_TRUE(e.contains("name") && e["name"].is_string());
        ASSERT_TRUE(e.contains("ph") && e["ph"].is_string());
        ASSERT_TRUE(e.contains("ts") && e["ts"].is_number_unsigned());
        ASSERT_TRUE(e.contains("pid") && e["pid"].is_number_unsigned());
        ASSERT_TRUE(e.contains("tid") && e["tid"].is_number_unsigned());
        std::string ph = e["ph"];
        uint64_t ts = e["ts"], pid = e["pid"], tid = e["tid"];
        if (ph == "M") {
            ASSERT_TRUE(e.contains("args") && e["args"].contains("name") && e["args"]["name"].is_string());
            if (e["name"] == "process_name")
                process_names.insert(pid);
            else if (e["name"] == "thread_name")
                thread_names.insert({pid, tid});
            else
                ADD_FAILURE() << "unknown metadata event";
            continue;
        }
        ASSERT_TRUE(e.contains("cat") && e["cat"].is_string());
        tracks.insert({pid, tid});
        if (ph == "i") {
            EXPECT_EQ(e.value("s", ""), "t");
            ASSERT_TRUE(e.contains("args") && e["args"].contains("text") && e["args"].contains("seq"));
            EXPECT_EQ(e["args"]["seq"], ts);
            instants.push_back(ts);
        } else if (ph == "b" || ph == "e") {
            ASSERT_TRUE(e.contains("id") && e["id"].is_number_unsigned());
            EXPECT_EQ(e["cat"], "irp");
            auto key = std::make_pair(e["cat"].get<std::string>(), e["id"].get<uint64_t>());
            if (ph == "b") {
                EXPECT_EQ(open[key], 0) << "IRP slice begun twice";
                ++open[key];
            } else {
                EXPECT_EQ(open[key], 1) << "\"e\" without its \"b\"";
                --open[key];
            }
        } else if (ph == "X") {
            ASSERT_TRUE(e.contains("dur") && e["dur"].is_number_unsigned());
            uint64_t dur = e["dur"];
            slices[{pid, tid}].push_back({ts, ts + dur, e["name"]});
        } else {
            ADD_FAILURE() << "unexpected phase " << ph;
        }
    }
    for (const auto& [key, count] : open)
        EXPECT_EQ(count, 0) << "IRP slice " << key.second << " never ended";
    for (const auto& track : tracks) {
        EXPECT_TRUE(thread_names.contains(track)) << "no thread_name for " << track.first << ":" << track.second;
        EXPECT_TRUE(process_names.contains(track.first)) << "no process_name for " << track.first;
    }
    // One instant per event, in order.
    ASSERT_EQ(instants.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i)
        EXPECT_EQ(instants[i], events[i].seq);
    // Complete slices nest within their thread: each one that starts inside another ends
    // inside it.
    for (auto& [track, list] : slices) {
        std::sort(list.begin(), list.end(), [](const Slice& a, const Slice& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
        });
        std::vector<Slice> stack;
        for (const Slice& s : list) {
            while (!stack.empty() && stack.back().end <= s.begin)
                stack.pop_back();
            if (!stack.empty())
                EXPECT_LE(s.end, stack.back().end) << s.name << " [" << s.begin << ", " << s.end
                                                   << "] overlaps " << stack.back().name << " ["
                                                   << stack.back().begin << ", " << stack.back().end << "]";
            stack.push_back(s);
        }
    }
}

}  // namespace trace_test
