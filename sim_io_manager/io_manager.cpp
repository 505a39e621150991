// io_manager.cpp - I/O manager state and the module search path.
#include "io_manager.h"

#include "request.h"
#include "system.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "irp.h"
#include "mdl.h"

namespace iosim::io {

namespace {

std::vector<std::string> default_module_path()
{
    std::vector<std::string> folders;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        folders.push_back(std::filesystem::path(self).parent_path().string());
    }
    folders.push_back(std::filesystem::current_path().string());
    if (const char* env = std::getenv("IOSIM_MODULE_PATH")) {
        std::string list(env);
        size_t start = 0;
        while (start <= list.size()) {
            size_t end = list.find_first_of(":;", start);
            if (end == std::string::npos)
                end = list.size();
            if (end > start)
                folders.push_back(list.substr(start, end - start));
            start = end + 1;
        }
    }
    return folders;
}

}  // namespace

IoManagerState& state()
{
    static IoManagerState s{.lock = {}, .drivers = {}, .module_path = default_module_path()};
    return s;
}

void set_module_path(std::vector<std::string> folders)
{
    std::lock_guard guard(state().lock);
    state().module_path = std::move(folders);
}

const std::vector<std::string>& module_path() { return state().module_path; }

std::string find_module(const std::string& file_name)
{
    namespace fs = std::filesystem;
    if (file_name.find('/') != std::string::npos)
        return fs::exists(file_name) ? fs::absolute(file_name).string() : "";
    std::lock_guard guard(state().lock);
    for (const auto& folder : state().module_path) {
        fs::path candidate = fs::path(folder) / file_name;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec))
            return candidate.string();
        // Windows file names are case-insensitive: accept any spelling.
        for (const auto& entry : fs::directory_iterator(folder, ec)) {
            std::string name = entry.path().filename().string();
            if (name.size() == file_name.size() &&
                std::equal(name.begin(), name.end(), file_name.begin(),
                           [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                       std::tolower(static_cast<unsigned char>(b)); }))
                return entry.path().string();
        }
    }
    return "";
}

void initialize()
{
    install_irp_reporting();
    reset_irp_numbers();  // a machine's trace starts at IRP#1, whatever ran before it
    reset_mdl_tracking();  // the previous machine's MDL records describe memory that is gone
    // A deadlock report names the IRPs nothing completed (and files IRP_PENDING_NOT_COMPLETED).
    if (System* sys = System::current())
        sys->scheduler().set_deadlock_annotator([] { return describe_stuck_irps(); });
}

}  // namespace iosim::io
