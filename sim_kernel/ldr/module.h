// module.h - loading driver and app modules, and finding which module owns an address.
//
// A driver (.sys) or app (.exe) is a shared object built from unchanged Windows source.
// Before it is mapped, its undefined symbols (its imports) are checked against what the
// running iosim provides; any missing routine makes the load fail with the names, so an
// unimplemented kernel routine is reported at load time, never at call time.
// Calls into glibc's wide-character functions are refused the same way: they assume a
// 32-bit wchar_t, while Windows code has 16-bit WCHARs (the shim maps the usual names).
// Driver pairs: a driver may import routines from another driver module (an export
// driver, "port.sys", named as needed in the importer's ELF header the way a PE import
// table names its DLL). The exporter must already be loaded; the importer's imports bind
// to it, and the exporter cannot unload while an importer is loaded.
// NT counterparts: MmLoadSystemImage, MiResolveImageReferences, the loader's import binding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace iosim::ldr {

enum class ModuleKind { Driver, App };

struct Module {
    std::string name;  // file name, e.g. "mydriver.sys"
    std::string path;  // absolute path
    ModuleKind kind = ModuleKind::Driver;
    void* handle = nullptr;  // dlopen handle
    uintptr_t base = 0;      // load address
    std::vector<std::string> imports;  // undefined symbols it binds to
    // Driver pairs: the export drivers ("port.sys") whose routines this module imports
    // (its DT_NEEDED modules named *.sys), bound when it was loaded.
    std::vector<Module*> exporters;
    void* process = nullptr;  // app modules: the iosim::Process running it (its globals are that process's memory)
};

struct LoadError {
    std::string message;                // one-line summary
    std::vector<std::string> missing;   // routines iosim does not provide
    std::vector<std::string> refused;   // host routines a Windows module must not call
    std::vector<std::string> missing_modules;  // export drivers it imports from that are not loaded
};

// Reads the module's dynamic symbol table and lists its undefined function symbols.
std::vector<std::string> list_imports(const std::string& path, std::string* error);

// The modules a module names as needed (ELF DT_NEEDED), e.g. "libc.so.6", "port.sys".
std::vector<std::string> list_needed(const std::string& path, std::string* error);

// Loads `path`. On failure returns nullptr and fills `error`. A module that imports from
// an export driver (a needed "*.sys") loads only when that driver is already loaded: its
// imports then bind to it, and it is listed in `exporters`.
Module* load(const std::string& path, ModuleKind kind, LoadError* error);
void unload(Module* module);

// Looks an exported symbol up in the module (nullptr if absent).
void* symbol(const Module* module, const char* name);

// The loaded modules that import from `exporter` (it must not unload while there are any).
std::vector<Module*> importers_of(const Module* exporter);

// The loaded module containing `address`, or nullptr (iosim itself, libc, ...).
Module* module_for_address(const void* address);

// Modules loaded now, in load order.
std::vector<Module*> loaded_modules();

// Changes whenever a module is loaded or unloaded (the symbolizer's cache key: a new
// module may reuse the addresses of one unloaded before).
uint64_t generation();

}  // namespace iosim::ldr
