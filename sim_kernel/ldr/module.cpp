// module.cpp - checking a module's imports, mapping it, and finding modules by address.
//
// The import check reads the ELF dynamic symbol table directly: every undefined,
// non-weak symbol must resolve in the running process (iosim's libraries, libc,
// libstdc++), except glibc's wide-character routines, which a Windows module must never
// bind to (16-bit WCHAR vs 32-bit wchar_t). Only then is the module dlopen()ed, with
// RTLD_LOCAL so two drivers' same-named functions stay apart. A module that needs an
// export driver ("port.sys", a DT_NEEDED entry, set by iosim_add_driver's IMPORTS_FROM)
// loads only when that driver is loaded; the dynamic linker then binds the importer to the
// loaded exporter by its soname, and its imports are checked against that module too.
#include "ldr/module.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strings.h>

#include <climits>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>

namespace iosim::ldr {

namespace {

std::mutex g_lock;
std::vector<Module*> g_modules;
std::atomic<uint64_t> g_generation{1};

// glibc routines that take or return wchar_t (32-bit on Linux). The shim maps the
// Windows names of these to 16-bit versions; a module that still binds to glibc's was
// built without the shim headers or calls something the shim does not cover.
const std::set<std::string>& refused_symbols()
{
    static const std::set<std::string> names = {
        "wcslen", "wcsnlen", "wcscpy", "wcsncpy", "wcscat", "wcsncat", "wcscmp", "wcsncmp", "wcschr", "wcsrchr",
        "wcsstr", "wcsdup", "wcstol", "wcstoul", "wcstoll", "wcstoull", "wcstod", "wcscasecmp", "wcsncasecmp",
        "wprintf", "vwprintf", "swprintf", "vswprintf", "fwprintf", "vfwprintf", "wscanf", "swscanf", "towlower",
        "towupper", "iswalpha", "iswdigit", "iswspace", "iswupper", "iswlower", "wmemcpy", "wmemmove", "wmemset",
        "wmemcmp", "mbstowcs", "wcstombs", "mbtowc", "wctomb", "wcrtomb", "mbrtowc", "fgetws", "fputws", "getwchar",
        "putwchar",
    };
    return names;
}

struct MappedFile {
    void* data = MAP_FAILED;
    size_t size = 0;
    ~MappedFile()
    {
        if (data != MAP_FAILED)
            munmap(data, size);
    }
};

// Maps an ELF module read-only and checks its headers; on failure says why in `error`
// and returns false.
bool open_elf(const std::string& path, MappedFile& file, const Elf64_Ehdr** ehdr, std::string* error)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *error = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(sizeof(Elf64_Ehdr))) {
        file.size = static_cast<size_t>(st.st_size);
        file.data = mmap(nullptr, file.size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (file.data == MAP_FAILED) {
        *error = path + " is not a module (empty or unreadable)";
        return false;
    }
    const auto* header = static_cast<const Elf64_Ehdr*>(file.data);
    if (std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_ident[EI_CLASS] != ELFCLASS64 ||
        header->e_shoff == 0 || header->e_shoff + header->e_shnum * sizeof(Elf64_Shdr) > file.size) {
        *error = path + " is not a 64-bit ELF module";
        return false;
    }
    *ehdr = header;
    return true;
}

}  // namespace

std::vector<std::string> list_imports(const std::string& path, std::string* error)
{
    std::vector<std::string> imports;
    MappedFile file;
    const Elf64_Ehdr* ehdr = nullptr;
    if (!open_elf(path, file, &ehdr, error))
        return imports;
    const auto* base = static_cast<const unsigned char*>(file.data);
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + ehdr->e_shoff);
    for (unsigned i = 0; i < ehdr->e_shnum; ++i) {
        if (sections[i].sh_type != SHT_DYNSYM)
            continue;
        const Elf64_Shdr& symtab = sections[i];
        if (symtab.sh_link >= ehdr->e_shnum)
            break;
        const Elf64_Shdr& strtab = sections[symtab.sh_link];
        if (symtab.sh_offset + symtab.sh_size > file.size || strtab.sh_offset + strtab.sh_size > file.size)
            break;
        const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + symtab.sh_offset);
        size_t count = symtab.sh_size / sizeof(Elf64_Sym);
        const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
        for (size_t s = 1; s < count; ++s) {
            const Elf64_Sym& sym = syms[s];
            if (sym.st_shndx != SHN_UNDEF || sym.st_name >= strtab.sh_size)
                continue;
            if (ELF64_ST_BIND(sym.st_info) == STB_WEAK)
                continue;  // optional binding (e.g. __gmon_start__)
            std::string name(names + sym.st_name);
            if (!name.empty())
                imports.push_back(std::move(name));
        }
        break;
    }
    std::sort(imports.begin(), imports.end());
    return imports;
}

std::vector<std::string> list_needed(const std::string& path, std::string* error)
{
    std::vector<std::string> needed;
    MappedFile file;
    const Elf64_Ehdr* ehdr = nullptr;
    if (!open_elf(path, file, &ehdr, error))
        return needed;
    const auto* base = static_cast<const unsigned char*>(file.data);
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + ehdr->e_shoff);
    for (unsigned i = 0; i < ehdr->e_shnum; ++i) {
        if (sections[i].sh_type != SHT_DYNAMIC || sections[i].sh_link >= ehdr->e_shnum)
            continue;
        const Elf64_Shdr& dynamic = sections[i];
        const Elf64_Shdr& strtab = sections[dynamic.sh_link];
        if (dynamic.sh_offset + dynamic.sh_size > file.size || strtab.sh_offset + strtab.sh_size > file.size)
            break;
        const auto* entries = reinterpret_cast<const Elf64_Dyn*>(base + dynamic.sh_offset);
        const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
        for (size_t e = 0; e < dynamic.sh_size / sizeof(Elf64_Dyn) && entries[e].d_tag != DT_NULL; ++e)
            if (entries[e].d_tag == DT_NEEDED && entries[e].d_un.d_val < strtab.sh_size)
                needed.emplace_back(names + entries[e].d_un.d_val);
        break;
    }
    return needed;
}

namespace {

// A needed module that is a driver module: an export driver this one imports from.
bool is_driver_module_name(const std::string& name)
{
    if (name.size() < 4)
        return false;
    std::string ext = name.substr(name.size() - 4);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".sys";
}

Module* find_loaded_driver(const std::string& name)
{
    std::lock_guard guard(g_lock);
    for (Module* module : g_modules)
        if (module->kind == ModuleKind::Driver && strcasecmp(module->name.c_str(), name.c_str()) == 0)
            return module;
    return nullptr;
}

bool exported_by(const std::vector<Module*>& exporters, const std::string& symbol)
{
    for (Module* exporter : exporters)
        if (dlsym(exporter->handle, symbol.c_str()) != nullptr)
            return true;
    return false;
}

}  // namespace

Module* load(const std::string& path, ModuleKind kind, LoadError* error)
{
    std::string read_error;
    char resolved[PATH_MAX];
    std::string abs_path = realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
    std::string name = abs_path.substr(abs_path.find_last_of('/') + 1);
    std::vector<std::string> imports = list_imports(abs_path, &read_error);
    if (!read_error.empty()) {
        error->message = read_error;
        return nullptr;
    }
    // Export drivers it imports from must be loaded already, as Windows loads an export
    // driver before the images that import from it.
    std::vector<Module*> exporters;
    for (const auto& needed : list_needed(abs_path, &read_error)) {
        if (!is_driver_module_name(needed))
            continue;
        if (Module* exporter = find_loaded_driver(needed))
            exporters.push_back(exporter);
        else
            error->missing_modules.push_back(needed);
    }
    if (!error->missing_modules.empty()) {
        std::string list;
        for (const auto& m : error->missing_modules)
            list += (list.empty() ? "" : ", ") + m;
        error->message = name + " was not loaded: it imports routines from " + list + ", which " +
                         (error->missing_modules.size() == 1 ? "is" : "are") +
                         " not loaded. Load the export driver first (start its service), then the drivers that "
                         "import from it.";
        return nullptr;
    }
    for (const auto& symbol : imports) {
        if (refused_symbols().count(symbol) != 0)
            error->refused.push_back(symbol);
        else if (dlsym(RTLD_DEFAULT, symbol.c_str()) == nullptr && !exported_by(exporters, symbol))
            error->missing.push_back(symbol);
    }
    if (!error->missing.empty() || !error->refused.empty()) {
        std::string message = name + " was not loaded:";
        if (!error->missing.empty()) {
            message += " it imports routine(s) iosim does not provide:";
            for (const auto& s : error->missing)
                message += " " + s;
            message += ".";
        }
        if (!error->refused.empty()) {
            message += " it calls glibc's 32-bit wchar_t routine(s)";
            for (const auto& s : error->refused)
                message += " " + s;
            message += ", which would misread its 16-bit WCHAR strings (include the iosim shim headers).";
        }
        error->message = message;
        return nullptr;
    }
    void* handle = dlopen(abs_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        error->message = name + " was not loaded: " + (why != nullptr ? why : "dlopen failed");
        return nullptr;
    }
    auto* module = new Module{name, abs_path, kind, handle, 0, std::move(imports)};
    module->exporters = std::move(exporters);
    struct link_map* map = nullptr;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr)
        module->base = static_cast<uintptr_t>(map->l_addr);
    std::lock_guard guard(g_lock);
    g_modules.push_back(module);
    g_generation.fetch_add(1);
    return module;
}

void unload(Module* module)
{
    if (module == nullptr)
        return;
    {
        std::lock_guard guard(g_lock);
        g_modules.erase(std::remove(g_modules.begin(), g_modules.end(), module), g_modules.end());
    }
    dlclose(module->handle);
    g_generation.fetch_add(1);
    delete module;
}

void* symbol(const Module* module, const char* name) { return dlsym(module->handle, name); }

Module* module_for_address(const void* address)
{
    if (address == nullptr)
        return nullptr;
    Dl_info info{};
    if (dladdr(address, &info) == 0)
        return nullptr;
    auto base = reinterpret_cast<uintptr_t>(info.dli_fbase);
    std::lock_guard guard(g_lock);
    for (Module* module : g_modules)
        if (module->base == base)
            return module;
    return nullptr;
}

std::vector<Module*> importers_of(const Module* exporter)
{
    std::vector<Module*> importers;
    std::lock_guard guard(g_lock);
    for (Module* module : g_modules)
        if (std::find(module->exporters.begin(), module->exporters.end(), exporter) != module->exporters.end())
            importers.push_back(module);
    return importers;
}

uint64_t generation() { return g_generation.load(); }

std::vector<Module*> loaded_modules()
{
    std::lock_guard guard(g_lock);
    return g_modules;
}

}  // namespace iosim::ldr
