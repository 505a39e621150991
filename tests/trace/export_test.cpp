// export_test.cpp - trace_export.h: format names, the JSON (Chrome Trace Event format) and
// Mermaid writers, on the sample pairs and on hand-made events.
#include "trace_support.h"

#include "ke/bugcheck.h"

using namespace trace_test;
using iosim::trace::Event;
using iosim::trace::Format;
using iosim::trace::IrpInfo;
using iosim::trace::IrpPhase;
using iosim::trace::Kind;
using nlohmann::json;

namespace {

// ---- format names -------------------------------------------------------------------

TEST(TraceFormat, ParsesTheThreeNames)
{
    EXPECT_EQ(iosim::trace::parse_format("text"), Format::Text);
    EXPECT_EQ(iosim::trace::parse_format("json"), Format::Json);
    EXPECT_EQ(iosim::trace::parse_format("mermaid"), Format::Mermaid);
    EXPECT_EQ(iosim::trace::parse_format("JSON"), Format::Json);
    EXPECT_EQ(iosim::trace::parse_format("Mermaid"), Format::Mermaid);
}

TEST(TraceFormat, RejectsAnythingElse)
{
    for (const char* name : {"", "txt", "xml", " json", "json ", "chrome", "mmd", "text\n"})
        EXPECT_EQ(iosim::trace::parse_format(name), std::nullopt) << '"' << name << '"';
}

TEST(TraceFormat, NamesRoundTrip)
{
    for (Format f : {Format::Text, Format::Json, Format::Mermaid})
        EXPECT_EQ(iosim::trace::parse_format(iosim::trace::format_name(f)), f);
}

TEST(TraceFormat, RenderPicksTheWriter)
{
    auto events = RunSample(kHello);
    EXPECT_EQ(iosim::trace::render(Format::Text, events), iosim::trace::to_text(events));
    EXPECT_EQ(iosim::trace::render(Format::Json, events), iosim::trace::to_json(events));
    EXPECT_EQ(iosim::trace::render(Format::Mermaid, events), iosim::trace::to_mermaid(events));
}

TEST(TraceFormat, TextIsTraceFormatPerLine)
{
    auto events = RunSample(kHello);
    auto lines = Lines(iosim::trace::to_text(events));
    ASSERT_EQ(lines.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i)
        EXPECT_EQ(lines[i], iosim::trace::Trace::format(events[i]));
    EXPECT_EQ(iosim::trace::to_text({}), "");
}

TEST(TraceFormat, ShortenCutsWholeCharacters)
{
    using iosim::trace::detail::shorten;
    EXPECT_EQ(shorten("short", 10), "short");
    EXPECT_EQ(shorten("exactly10!", 10), "exactly10!");
    EXPECT_EQ(shorten("eleven char", 10), "eleven ...");
    // "é" is two bytes, one character: never cut in half.
    EXPECT_EQ(shorten("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 5), "\xC3\xA9\xC3\xA9...");
    EXPECT_EQ(shorten("\xC3\xA9\xC3\xA9\xC3\xA9", 3), "\xC3\xA9\xC3\xA9\xC3\xA9");
}

// ---- JSON on the samples -------------------------------------------------------------

TEST(TraceJson, SamplesAreValidChromeTraces)
{
    for (const Sample* sample : {&kHello, &kIoctl, &kKbuffer, &kPattern}) {
        SCOPED_TRACE(sample->name);
        auto events = RunSample(*sample);
        ASSERT_FALSE(events.empty());
        CheckChromeTrace(iosim::trace::to_json(events), events);
    }
}

TEST(TraceJson, HelloHasNamedTracksIrpSlicesAndDispatchSlices)
{
    auto events = RunSample(kHello);
    json doc = json::parse(iosim::trace::to_json(events));
    std::map<uint64_t, std::string> process_names;
    std::map<uint64_t, json> begins, ends;
    std::vector<json> dispatches;
    for (const json& e : doc["traceEvents"]) {
        if (e["ph"] == "M" && e["name"] == "process_name")
            process_names[e["pid"]] = e["args"]["name"];
        if (e["ph"] == "b")
            begins[e["id"]] = e;
        if (e["ph"] == "e")
            ends[e["id"]] = e;
        if (e["ph"] == "X" && e["cat"] == "dispatch")
            dispatches.push_back(e);
    }
    EXPECT_EQ(process_names[4], "System");
    EXPECT_EQ(process_names[12], "hello_open.exe");

    ASSERT_EQ(begins.size(), 3u);
    EXPECT_EQ(begins[1]["name"], "IRP#1 IRP_MJ_CREATE");
    EXPECT_EQ(begins[2]["name"], "IRP#2 IRP_MJ_CLEANUP");
    EXPECT_EQ(begins[3]["name"], "IRP#3 IRP_MJ_CLOSE");
    // Each IRP's slice runs from its Allocated event to its Freed event.
    for (const Event& event : events) {
        if (event.info.phase == IrpPhase::Allocated)
            EXPECT_EQ(begins[event.irp]["ts"], event.seq);
        if (event.info.phase == IrpPhase::Freed) {
            EXPECT_EQ(ends[event.irp]["ts"], event.seq);
            EXPECT_EQ(ends[event.irp]["args"]["freed"], true);
        }
    }

    // One dispatch slice per IRP, from Dispatched to Returned, named after the routine.
    ASSERT_EQ(dispatches.size(), 3u);
    EXPECT_EQ(dispatches[0]["name"], "hello!HelloCreateClose");
    EXPECT_EQ(dispatches[1]["name"], "hello!HelloCleanup");
    EXPECT_EQ(dispatches[2]["name"], "hello!HelloCreateClose");
    for (const json& x : dispatches) {
        uint64_t irp = x["args"]["irp"];
        uint64_t dispatched = 0, returned = 0;
        for (const Event& event : events) {
            if (event.irp == irp && event.info.phase == IrpPhase::Dispatched)
                dispatched = event.seq;
            if (event.irp == irp && event.info.phase == IrpPhase::Returned)
                returned = event.seq;
        }
        EXPECT_EQ(x["ts"], dispatched);
        EXPECT_EQ(x["dur"], returned - dispatched);
        EXPECT_EQ(x["pid"], 12);
        EXPECT_EQ(x["args"]["device"], "\\Device\\IosimHello");
        EXPECT_EQ(x["args"]["returned"], "STATUS_SUCCESS (0x00000000)");
    }
}

TEST(TraceJson, InstantsCarryKindAndIrpFields)
{
    auto events = RunSample(kIoctl);
    json doc = json::parse(iosim::trace::to_json(events));
    std::set<std::string> cats;
    bool saw_copied = false, saw_dbgprint = false;
    for (const json& e : doc["traceEvents"]) {
        if (e["ph"] != "i")
            continue;
        cats.insert(e["cat"].get<std::string>());
        const json& args = e["args"];
        if (e["cat"] == "irp" && args.contains("irp")) {
            for (const char* field : {"phase", "major", "location", "stack_count", "status", "information", "device",
                                      "driver", "routine"})
                EXPECT_TRUE(args.contains(field)) << field << " in " << e.dump();
        }
        if (args.value("phase", "") == "CopiedBack" && args["irp"] == 2) {
            saw_copied = true;
            EXPECT_EQ(e["name"], "copied back");
            EXPECT_EQ(args["information"], 13);
            EXPECT_EQ(args["major"], "IRP_MJ_DEVICE_CONTROL");
        }
        if (e["cat"] == "dbgprint" && args["text"] == "[ioctl_buffered.sys] ioctl_buffered: ECHO \"hello, driver\"") {
            saw_dbgprint = true;
            EXPECT_EQ(e["name"], "DbgPrint");
        }
        if (args.value("phase", "") == "Dispatched")
            EXPECT_EQ(e["name"], args["major"].get<std::string>() + " dispatched");
    }
    EXPECT_TRUE(saw_copied);
    EXPECT_TRUE(saw_dbgprint);
    EXPECT_EQ(cats, (std::set<std::string>{"irp", "driver", "object", "process", "dbgprint", "scheduler"}));
}

// A filter on top of hello: the filter's dispatch slice contains hello's.
TEST(TraceJson, PassDownNestsOnTheThreadTrack)
{
    std::vector<Event> events;
    {
        iosim::Machine machine(QuietOptions());
        ASSERT_EQ(machine.load_driver("hello", "hello.sys"), STATUS_SUCCESS);
        ASSERT_EQ(machine.load_driver("logfilter", "logfilter.sys"), STATUS_SUCCESS);
        auto result = machine.run_app("hello_open.exe");
        ASSERT_TRUE(result.started) << result.error;
        EXPECT_EQ(machine.unload_driver("logfilter"), STATUS_SUCCESS);
        EXPECT_EQ(machine.unload_driver("hello"), STATUS_SUCCESS);
        events = RenumberIrps(machine.system().trace().events());
    }
    std::string text = iosim::trace::to_json(events);
    CheckChromeTrace(text, events);
    json doc = json::parse(text);
    std::vector<json> xs;
    for (const json& e : doc["traceEvents"])
        if (e["ph"] == "X" && e["cat"] == "dispatch" && e["args"]["irp"] == 1)
            xs.push_back(e);
    ASSERT_EQ(xs.size(), 2u) << text;
    EXPECT_EQ(xs[0]["args"]["driver"], "\\Driver\\logfilter");
    EXPECT_EQ(xs[1]["args"]["driver"], "\\Driver\\hello");
    uint64_t outer_begin = xs[0]["ts"], outer_end = outer_begin + xs[0]["dur"].get<uint64_t>();
    uint64_t inner_begin = xs[1]["ts"], inner_end = inner_begin + xs[1]["dur"].get<uint64_t>();
    EXPECT_LT(outer_begin, inner_begin);
    EXPECT_LT(inner_end, outer_end);
    EXPECT_EQ(xs[0]["tid"], xs[1]["tid"]);

    std::string mermaid = iosim::trace::to_mermaid(events);
    auto lines = Lines(mermaid);
    auto has = [&](const std::string& line) {
        return std::find(lines.begin(), lines.end(), line) != lines.end();
    };
    EXPECT_TRUE(has("    participant D1 as \\Driver\\logfilter")) << mermaid;
    EXPECT_TRUE(has("    participant D2 as \\Driver\\hello")) << mermaid;
    EXPECT_TRUE(has("    IO->>D1: IRP_MJ_CREATE (stack 2/2)")) << mermaid;
    EXPECT_TRUE(has("    D1->>D2: IRP_MJ_CREATE (stack 1/2)")) << mermaid;
    EXPECT_TRUE(has("    D2-->>IO: completed STATUS_SUCCESS")) << mermaid;
    EXPECT_TRUE(has("    Note over D1: completion routine logfilter!FilterCompletion -> STATUS_SUCCESS")) << mermaid;
}

// A bug check stops the machine in the middle of a dispatch: the slices still end.
TEST(TraceJson, BugCheckLeavesNoSliceOpen)
{
    std::vector<Event> events;
    {
        iosim::Machine machine(QuietOptions());
        ASSERT_EQ(machine.load_driver("buggy", "buggy.sys"), STATUS_SUCCESS);
        EXPECT_THROW(machine.run_app("buggy_client.exe", {"double-complete"}), iosim::BugCheck);
        events = RenumberIrps(machine.system().trace().events());
    }
    ASSERT_FALSE(events.empty());
    CheckChromeTrace(iosim::trace::to_json(events), events);
    std::string mermaid = iosim::trace::to_mermaid(events);
    EXPECT_NE(mermaid.find("Note over IO: BUGCHECK 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS"), std::string::npos)
        << mermaid;
}

// ---- hand-made events ------------------------------------------------------------------

Event Make(uint64_t seq, Kind kind, uint64_t irp, std::string text, IrpInfo info = {}, uint32_t pid = 12,
           uint32_t tid = 16)
{
    Event e;
    e.seq = seq;
    e.kind = kind;
    e.pid = pid;
    e.tid = tid;
    e.irp = irp;
    e.text = std::move(text);
    e.info = std::move(info);
    return e;
}

const std::string kAwkward = "quote \" backslash \\ semi; colon: tab\tnewline\nctl\x01 bad\xff\xfe <b>tag</b> %% #59; \xC3\xA9";

TEST(TraceJson, AnyTextGivesValidJson)
{
    std::vector<Event> events = {
        Make(1, Kind::Process, 0, "process 12 (we\"ird\\name.exe) created", {}, 4, 8),
        Make(2, Kind::DebugPrint, 0, "[x.sys] " + kAwkward),
        Make(3, Kind::Irp, 7, "IRP#7 " + kAwkward,
             {.phase = IrpPhase::Allocated, .major = 3, .stack_count = 1}),
        Make(4, Kind::Irp, 7, "dispatched",
             {.phase = IrpPhase::Dispatched, .major = 3, .location = 1, .stack_count = 1,
              .device = "\\Device\\X\"", .driver = "\\Driver\\x", .routine = kAwkward}),
        // no Returned, no Freed: the slices end at the last event
        Make(5, Kind::Finding, 0, kAwkward),
    };
    std::string text = iosim::trace::to_json(events);
    CheckChromeTrace(text, events);
    json doc = json::parse(text);
    bool found = false;
    for (const json& e : doc["traceEvents"]) {
        if (e["ph"] == "i" && e["args"]["seq"] == 2) {
            std::string got = e["args"]["text"];
            // Valid UTF-8 comes back as it went in; the two bad bytes become U+FFFD.
            EXPECT_EQ(got.substr(0, 40), std::string("[x.sys] ") + kAwkward.substr(0, 32));
            EXPECT_NE(got.find("bad\xEF\xBF\xBD\xEF\xBF\xBD <b>"), std::string::npos) << got;
            found = true;
        }
        if (e["ph"] == "X") {
            EXPECT_EQ(e["ts"], 4);
            EXPECT_EQ(e["dur"], 1);
            EXPECT_EQ(e["args"]["returned"], "(never returned)");
        }
        if (e["ph"] == "e") {
            EXPECT_EQ(e["ts"], 4);  // the IRP's last event
            EXPECT_EQ(e["args"]["freed"], false);
        }
        if (e["ph"] == "M" && e["name"] == "process_name" && e["pid"] == 12)
            EXPECT_EQ(e["args"]["name"], "we\"ird\\name.exe");
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(iosim::trace::to_json(events), text);
}

Event OnCpu(Event e, uint32_t cpu, int64_t time = 0)
{
    e.cpu = cpu;
    e.time = time;
    return e;
}

// Every event carries its CPU and simulated time; scheduler events go on one track per CPU,
// each context switch a slice named after the thread that runs until that CPU's next switch.
TEST(TraceJson, SchedulerEventsGoOnOneTrackPerCpu)
{
    std::vector<Event> events = {
        OnCpu(Make(1, Kind::Scheduler, 0, "context switch: t8 (main) -> t16 (app.exe)", {}, 4, 8), 0),
        OnCpu(Make(2, Kind::Scheduler, 0, "timer expired, its DPC x!Tick queued", {}, 12, 16), 1, 500000),
        OnCpu(Make(3, Kind::Win32, 0, "ReadFile", {}, 12, 16), 1, 500000),
        OnCpu(Make(4, Kind::Scheduler, 0, "context switch: t16 (app.exe) -> t8 (main)", {}, 12, 16), 0, 500000),
        OnCpu(Make(5, Kind::Irql, 0, "IRQL PASSIVE -> DISPATCH (KeAcquireSpinLock)", {}, 12, 16), 0, 500000),
        OnCpu(Make(6, Kind::Note, 0, "end", {}, 4, 8), 0, 500001),
    };
    std::string text = iosim::trace::to_json(events);
    CheckChromeTrace(text, events);
    json doc = json::parse(text);
    std::vector<json> runs;
    std::map<uint64_t, json> instants;  // by seq
    std::set<std::string> cpu_tracks;
    for (const json& e : doc["traceEvents"]) {
        if (e["ph"] == "X" && e["cat"] == "cpu")
            runs.push_back(e);
        if (e["ph"] == "i")
            instants[e["args"]["seq"]] = e;
        if (e["ph"] == "M" && e["name"] == "thread_name" && e["pid"] == 1000000)
            cpu_tracks.insert(e["args"]["name"]);
    }
    EXPECT_EQ(cpu_tracks, (std::set<std::string>{"cpu 0", "cpu 1"}));
    ASSERT_EQ(runs.size(), 2u) << text;
    EXPECT_EQ(runs[0]["name"], "t16 (app.exe)");
    EXPECT_EQ(runs[0]["tid"], 0);
    EXPECT_EQ(runs[0]["ts"], 1);
    EXPECT_EQ(runs[0]["dur"], 3);  // until cpu 0's next switch
    EXPECT_EQ(runs[1]["name"], "t8 (main)");
    EXPECT_EQ(runs[1]["dur"], 2);  // until the last event
    EXPECT_EQ(instants[2]["pid"], 1000000);
    EXPECT_EQ(instants[2]["tid"], 1);
    EXPECT_EQ(instants[2]["args"]["thread"], "12:16");
    EXPECT_EQ(instants[2]["args"]["time"], "50.0000ms");
    EXPECT_EQ(instants[3]["pid"], 12);  // not a scheduler event: its thread's track
    EXPECT_EQ(instants[3]["args"]["cpu"], 1);
    EXPECT_EQ(instants[5]["pid"], 12);
    EXPECT_EQ(instants[5]["cat"], "irql");
    EXPECT_EQ(instants[6]["args"]["time"], "50.0001ms");
    EXPECT_EQ(doc["otherData"]["cpus"], 2);
}

TEST(TraceJson, EmptyTraceIsValid)
{
    std::string text = iosim::trace::to_json({});
    CheckChromeTrace(text, {});
    EXPECT_TRUE(json::parse(text)["traceEvents"].empty());
}

// ---- Mermaid ---------------------------------------------------------------------------

TEST(TraceMermaid, AwkwardTextStaysOnOneLineWithoutSemicolons)
{
    std::vector<Event> events = {
        Make(1, Kind::Driver, 0, "loading \\Driver\\x from C:\\drivers\\x.sys: calling DriverEntry", {}, 4, 8),
        Make(2, Kind::DebugPrint, 0, "[x.sys] " + kAwkward, {}, 4, 8),
        Make(3, Kind::Irp, 1, "IRP#1 allocated", {.phase = IrpPhase::Allocated, .major = 3, .stack_count = 1}),
        Make(4, Kind::Irp, 1, "IRP#1 dispatched",
             {.phase = IrpPhase::Dispatched, .major = 3, .location = 1, .stack_count = 1,
              .device = "\\Device\\X", .driver = "\\Driver\\x", .routine = "x!Read"}),
        Make(5, Kind::Irp, 1, "IRP#1 completed",
             {.phase = IrpPhase::Completed, .major = 3, .location = 1, .stack_count = 1,
              .status = static_cast<NTSTATUS>(0xC0000023), .device = "\\Device\\X", .driver = "\\Driver\\x"}),
        Make(6, Kind::Irp, 1, "IRP#1 returned",
             {.phase = IrpPhase::Returned, .major = 3, .status = static_cast<NTSTATUS>(0xC0000023),
              .device = "\\Device\\X", .driver = "\\Driver\\x"}),
        Make(7, Kind::Irp, 1, "IRP#1 freed", {.phase = IrpPhase::Freed}),
        Make(8, Kind::Finding, 0, std::string(200, 'x'), {}, 4, 8),
    };
    std::string text = iosim::trace::to_mermaid(events);
    auto lines = Lines(text);
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "sequenceDiagram",
                         "    participant P12 as process 12",
                         "    participant IO as I/O manager",
                         "    participant D1 as \\Driver\\x",
                         "    Note over D1: loading \\Driver\\x from C:\\drivers\\x.sys: calling DriverEntry",
                         "    Note over D1: DbgPrint: quote \" backslash \\ semi, colon: tab newline ct...",
                         "    P12->>IO: IRP#1 IRP_MJ_READ",
                         "    IO->>D1: IRP_MJ_READ (stack 1/1)",
                         "    D1-->>IO: completed STATUS_BUFFER_TOO_SMALL",
                         "    IO-->>P12: IRP#1 done, STATUS_BUFFER_TOO_SMALL",
                         "    Note over IO: " + std::string(57, 'x') + "...",
                     }))
        << text;
    // Everything past the arrow or colon is free of Mermaid syntax.
    std::vector<Event> awkward = {Make(1, Kind::Win32, 0, kAwkward)};
    std::string win32 = iosim::trace::to_mermaid(awkward);
    EXPECT_EQ(win32.find(';'), std::string::npos) << win32;
    EXPECT_EQ(win32.find('<'), std::string::npos) << win32;
    EXPECT_EQ(Lines(win32).size(), 4u) << win32;
    EXPECT_NE(win32.find("bad?? "), std::string::npos) << win32;
}

TEST(TraceMermaid, IrpNeverFreedEndsWithItsReturnedStatus)
{
    std::vector<Event> events = {
        Make(1, Kind::Irp, 1, "", {.phase = IrpPhase::Allocated, .major = 14, .stack_count = 1}),
        Make(2, Kind::Irp, 1, "",
             {.phase = IrpPhase::Dispatched, .major = 14, .location = 1, .stack_count = 1,
              .device = "\\Device\\Y", .driver = "\\Driver\\y", .routine = "y!Ioctl"}),
        Make(3, Kind::Irp, 1, "",
             {.phase = IrpPhase::Returned, .major = 14, .status = static_cast<NTSTATUS>(0x00000103),
              .device = "\\Device\\Y", .driver = "\\Driver\\y"}),
    };
    auto lines = Lines(iosim::trace::to_mermaid(events));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "    IO-->>P12: IRP#1 returned STATUS_PENDING");
}

TEST(TraceMermaid, EmptyTraceIsADiagram)
{
    EXPECT_EQ(iosim::trace::to_mermaid({}), "sequenceDiagram\n    participant IO as I/O manager\n");
}

TEST(TraceMermaid, HelloShowsTheRoundTrip)
{
    auto lines = Lines(iosim::trace::to_mermaid(RunSample(kHello)));
    ASSERT_GE(lines.size(), 4u);
    EXPECT_EQ(lines[0], "sequenceDiagram");
    EXPECT_EQ(lines[1], "    participant P12 as hello_open.exe");
    EXPECT_EQ(lines[2], "    participant IO as I/O manager");
    EXPECT_EQ(lines[3], "    participant D1 as \\Driver\\hello");
    for (const char* expected : {"    P12->>IO: IRP#1 IRP_MJ_CREATE", "    IO->>D1: IRP_MJ_CREATE (stack 1/1)",
                                 "    D1-->>IO: completed STATUS_SUCCESS", "    IO-->>P12: IRP#1 done, STATUS_SUCCESS"})
        EXPECT_NE(std::find(lines.begin(), lines.end(), expected), lines.end()) << expected;
}

}  // namespace
