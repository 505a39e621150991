// debug_print.cpp - where DbgPrint output goes: stderr or a sink, tagged with the driver.
#include "kd/debug_print.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "ldr/module.h"
#include "system.h"

namespace iosim::kd {

namespace {
std::mutex g_lock;
Sink g_sink;

// The default channel: an spdlog logger on standard error, one line per message, no
// timestamps (output must be the same from run to run).
spdlog::logger& default_logger()
{
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = std::make_shared<spdlog::logger>("dbgprint", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_pattern("%v");
        return l;
    }();
    return *logger;
}
}  // namespace

void set_sink(Sink sink)
{
    std::lock_guard guard(g_lock);
    g_sink = std::move(sink);
}

void reset_sink()
{
    std::lock_guard guard(g_lock);
    g_sink = nullptr;
}

void debug_print(const void* caller, ULONG component_id, ULONG level, std::string_view text)
{
    ldr::Module* module = ldr::module_for_address(caller);
    std::string name = module != nullptr ? module->name : "kernel";
    // Windows sources end their messages with "\r\n", "\n" or nothing; one line each here.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.remove_suffix(1);
    if (System* sys = System::current())
        sys->trace().record(trace::Kind::DebugPrint, 0, "[" + name + "] " + std::string(text));
    Sink sink;
    {
        std::lock_guard guard(g_lock);
        sink = g_sink;
    }
    if (sink) {
        sink(name, text);
        return;
    }
    default_logger().info("[{}] {}", name, text);
}

}  // namespace iosim::kd
