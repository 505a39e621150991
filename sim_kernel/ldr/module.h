// module.h - loading driver and app modules, and finding which module owns an address.
//
// A driver (.sys) or app (.exe) is a shared object built from unchanged Windows source.
// Before it is mapped, its undefined symbols (its imports) are checked against what the
// running iosim provides; any missing routine makes the load fail with the names, so an
// unimplemented kernel routine is reported at load time, never at call time.
// Calls into glibc's wide-character functions are refused the same way: they assume a
// 32-bit wchar_t, while Windows code has 16-bit WCHARs (the shim maps the usual names).
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
    void* process = nullptr;  // app modules: the iosim::Process running it (its globals are that process's memory)
};

struct LoadError {
    std::string message;                // one-line summary
    std::vector<std::string> missing;   // routines iosim does not provide
    std::vector<std::string> refused;   // host routines a Windows module must not call
};

// Reads the module's dynamic symbol table and lists its undefined function symbols.
std::vector<std::string> list_imports(const std::string& path, std::string* error);

// Loads `path`. On failure returns nullptr and fills `error`.
Module* load(const std::string& path, ModuleKind kind, LoadError* error);
void unload(Module* module);

// Looks an exported symbol up in the module (nullptr if absent).
void* symbol(const Module* module, const char* name);

// The loaded module containing `address`, or nullptr (iosim itself, libc, ...).
Module* module_for_address(const void* address);

// Modules loaded now, in load order.
std::vector<Module*> loaded_modules();

// Changes whenever a module is loaded or unloaded (the symbolizer's cache key: a new
// module may reuse the addresses of one unloaded before).
uint64_t generation();

}  // namespace iosim::ldr
