// scm.cpp - OpenSCManager, CreateService, OpenService, StartService, ControlService,
// QueryServiceStatus, DeleteService, CloseServiceHandle.
//
// Access is checked per handle as the real SCM does (SC_MANAGER_CREATE_SERVICE to create,
// SERVICE_START to start, SERVICE_STOP to stop, DELETE to delete ...), and failures leave
// Windows' error codes: ERROR_SERVICE_EXISTS, ERROR_SERVICE_ALREADY_RUNNING,
// ERROR_SERVICE_DOES_NOT_EXIST, ERROR_SERVICE_NOT_ACTIVE, ERROR_INVALID_SERVICE_CONTROL
// (stopping a driver without DriverUnload), ERROR_SERVICE_MARKED_FOR_DELETE, ...
// NT counterparts: advapi32's SCM client and services.exe (ScStartService, ScControlService).
#include "win32/scm.h"

#include <fmt/format.h>

#include <mutex>

#include "driver.h"
#include "io_api.h"
#include "ob/directory.h"
#include "system.h"
#include "win32/win32.h"
#include "windows.h"

#ifndef RPC_S_SERVER_UNAVAILABLE
#define RPC_S_SERVER_UNAVAILABLE 1722L
#endif

using namespace iosim;
using namespace iosim::win32;

namespace {
constexpr uint32_t kScMagic = 0x53634D48;  // "HMcS"

// What an SC_HANDLE points at.
struct ScHandle {
    uint32_t magic = kScMagic;
    bool manager = false;
    ACCESS_MASK access = 0;
    std::u16string key;  // service key (services only)
};
using ScHandleStorage = ScHandle;
}  // namespace

namespace iosim::win32 {

namespace {
std::recursive_mutex g_lock;
ServiceDatabase g_db;
}  // namespace

ServiceDatabase& services() { return g_db; }

void reset_services()
{
    std::lock_guard guard(g_lock);
    for (void* handle : g_db.handles)
        delete static_cast<ScHandleStorage*>(handle);
    g_db = ServiceDatabase{};
}

}  // namespace iosim::win32

namespace {

ACCESS_MASK map_manager_access(ACCESS_MASK access)
{
    if (access & (GENERIC_ALL | MAXIMUM_ALLOWED))
        access |= SC_MANAGER_ALL_ACCESS;
    if (access & GENERIC_READ)
        access |= STANDARD_RIGHTS_READ | SC_MANAGER_ENUMERATE_SERVICE | SC_MANAGER_QUERY_LOCK_STATUS;
    if (access & GENERIC_WRITE)
        access |= STANDARD_RIGHTS_WRITE | SC_MANAGER_CREATE_SERVICE | SC_MANAGER_MODIFY_BOOT_CONFIG;
    if (access & GENERIC_EXECUTE)
        access |= STANDARD_RIGHTS_EXECUTE | SC_MANAGER_CONNECT | SC_MANAGER_LOCK;
    return access | SC_MANAGER_CONNECT;  // every SCM handle may connect
}

ACCESS_MASK map_service_access(ACCESS_MASK access)
{
    if (access & (GENERIC_ALL | MAXIMUM_ALLOWED))
        access |= SERVICE_ALL_ACCESS;
    if (access & GENERIC_READ)
        access |= STANDARD_RIGHTS_READ | SERVICE_QUERY_CONFIG | SERVICE_QUERY_STATUS | SERVICE_INTERROGATE |
                  SERVICE_ENUMERATE_DEPENDENTS;
    if (access & GENERIC_WRITE)
        access |= STANDARD_RIGHTS_WRITE | SERVICE_CHANGE_CONFIG;
    if (access & GENERIC_EXECUTE)
        access |= STANDARD_RIGHTS_EXECUTE | SERVICE_START | SERVICE_STOP | SERVICE_PAUSE_CONTINUE |
                  SERVICE_USER_DEFINED_CONTROL;
    return access;
}

ScHandle* lookup(SC_HANDLE handle)
{
    if (handle == nullptr || services().handles.count(handle) == 0)
        return nullptr;
    auto* h = reinterpret_cast<ScHandle*>(handle);
    return h->magic == kScMagic ? h : nullptr;
}

Service* service_of(ScHandle* h)
{
    auto it = services().services.find(h->key);
    return it == services().services.end() ? nullptr : &it->second;
}

SC_HANDLE new_handle(bool manager, ACCESS_MASK access, std::u16string key)
{
    auto* h = new ScHandle{kScMagic, manager, access, std::move(key)};
    services().handles.insert(h);
    return reinterpret_cast<SC_HANDLE>(h);
}

void note(std::string text)
{
    if (System* sys = System::current())
        sys->trace().record(trace::Kind::Win32, 0, std::move(text));
}

// Drops a service marked for deletion once it is stopped and no handle refers to it.
void maybe_remove(const std::u16string& key)
{
    auto it = services().services.find(key);
    if (it == services().services.end())
        return;
    Service& s = it->second;
    if (s.marked_for_delete && s.open_handles == 0 && !io::driver_loaded(s.name))
        services().services.erase(it);
}

// The service behind a service handle that grants `needed`; sets the last error and
// returns nullptr otherwise (ERROR_INVALID_HANDLE, ERROR_ACCESS_DENIED).
Service* open_service_handle(SC_HANDLE handle, ACCESS_MASK needed, ScHandle** out = nullptr)
{
    ScHandle* h = lookup(handle);
    Service* s = h != nullptr && !h->manager ? service_of(h) : nullptr;
    if (s == nullptr) {
        set_last_error(ERROR_INVALID_HANDLE);
        return nullptr;
    }
    if ((h->access & needed) != needed) {
        set_last_error(ERROR_ACCESS_DENIED);
        return nullptr;
    }
    if (out != nullptr)
        *out = h;
    return s;
}

void fill_status(const Service& s, SERVICE_STATUS* status)
{
    DRIVER_OBJECT* driver = io::find_driver(s.name);
    status->dwServiceType = s.type;
    if (driver == nullptr)
        status->dwCurrentState = SERVICE_STOPPED;
    else if (io::driver_body(driver)->priv.unload_pending)
        status->dwCurrentState = SERVICE_STOP_PENDING;
    else
        status->dwCurrentState = SERVICE_RUNNING;
    status->dwControlsAccepted =
        status->dwCurrentState == SERVICE_RUNNING && driver->DriverUnload != nullptr ? SERVICE_ACCEPT_STOP : 0;
    status->dwWin32ExitCode = status->dwCurrentState == SERVICE_STOPPED ? s.last_exit_code : NO_ERROR;
    status->dwServiceSpecificExitCode = 0;
    status->dwCheckPoint = 0;
    status->dwWaitHint = 0;
}

}  // namespace

extern "C" {

SC_HANDLE WINAPI OpenSCManagerW(LPCWSTR lpMachineName, LPCWSTR lpDatabaseName, DWORD dwDesiredAccess)
{
    std::lock_guard guard(g_lock);
    if (lpMachineName != nullptr && *lpMachineName != 0) {
        set_last_error(RPC_S_SERVER_UNAVAILABLE);
        return nullptr;
    }
    if (lpDatabaseName != nullptr && *lpDatabaseName != 0 &&
        ob::upcase(widen(reinterpret_cast<const char16_t*>(lpDatabaseName))) != u"SERVICESACTIVE") {
        set_last_error(ERROR_INVALID_NAME);
        return nullptr;
    }
    set_last_error(NO_ERROR);
    return new_handle(true, map_manager_access(dwDesiredAccess), u"");
}

SC_HANDLE WINAPI OpenSCManagerA(LPCSTR lpMachineName, LPCSTR lpDatabaseName, DWORD dwDesiredAccess)
{
    std::u16string machine = widen(lpMachineName), database = widen(lpDatabaseName);
    return OpenSCManagerW(lpMachineName ? reinterpret_cast<LPCWSTR>(machine.c_str()) : nullptr,
                          lpDatabaseName ? reinterpret_cast<LPCWSTR>(database.c_str()) : nullptr, dwDesiredAccess);
}

SC_HANDLE WINAPI CreateServiceW(SC_HANDLE hSCManager, LPCWSTR lpServiceName, LPCWSTR lpDisplayName,
                                DWORD dwDesiredAccess, DWORD dwServiceType, DWORD dwStartType, DWORD dwErrorControl,
                                LPCWSTR lpBinaryPathName, LPCWSTR lpLoadOrderGroup, LPDWORD lpdwTagId,
                                LPCWSTR lpDependencies, LPCWSTR lpServiceStartName, LPCWSTR lpPassword)
{
    std::lock_guard guard(g_lock);
    ScHandle* manager = lookup(hSCManager);
    if (manager == nullptr || !manager->manager) {
        set_last_error(ERROR_INVALID_HANDLE);
        return nullptr;
    }
    if ((manager->access & SC_MANAGER_CREATE_SERVICE) == 0) {
        set_last_error(ERROR_ACCESS_DENIED);
        return nullptr;
    }
    if (lpServiceName == nullptr || *lpServiceName == 0) {
        set_last_error(ERROR_INVALID_NAME);
        return nullptr;
    }
    if (lpBinaryPathName == nullptr || *lpBinaryPathName == 0 || (dwServiceType & SERVICE_TYPE_ALL) == 0 ||
        dwStartType > SERVICE_DISABLED || dwErrorControl > SERVICE_ERROR_CRITICAL) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return nullptr;
    }
    std::u16string name = widen(reinterpret_cast<const char16_t*>(lpServiceName));
    std::u16string key = ob::upcase(name);
    auto it = services().services.find(key);
    if (it != services().services.end()) {
        set_last_error(it->second.marked_for_delete ? ERROR_SERVICE_MARKED_FOR_DELETE : ERROR_SERVICE_EXISTS);
        note(fmt::format("CreateService({}) failed: {}", narrow(name),
                         it->second.marked_for_delete ? "ERROR_SERVICE_MARKED_FOR_DELETE" : "ERROR_SERVICE_EXISTS"));
        return nullptr;
    }
    Service service;
    service.name = name;
    service.display_name = lpDisplayName != nullptr ? widen(reinterpret_cast<const char16_t*>(lpDisplayName)) : name;
    service.binary_path = widen(reinterpret_cast<const char16_t*>(lpBinaryPathName));
    service.type = dwServiceType;
    service.start_type = dwStartType;
    service.error_control = dwErrorControl;
    service.open_handles = 1;
    note(fmt::format("CreateService({}, binary \"{}\")", narrow(name), narrow(service.binary_path)));
    services().services.emplace(key, std::move(service));
    set_last_error(NO_ERROR);
    return new_handle(false, map_service_access(dwDesiredAccess), key);
}

SC_HANDLE WINAPI CreateServiceA(SC_HANDLE hSCManager, LPCSTR lpServiceName, LPCSTR lpDisplayName, DWORD dwDesiredAccess,
                                DWORD dwServiceType, DWORD dwStartType, DWORD dwErrorControl, LPCSTR lpBinaryPathName,
                                LPCSTR lpLoadOrderGroup, LPDWORD lpdwTagId, LPCSTR lpDependencies,
                                LPCSTR lpServiceStartName, LPCSTR lpPassword)
{
    std::u16string name = widen(lpServiceName), display = widen(lpDisplayName), path = widen(lpBinaryPathName);
    return CreateServiceW(hSCManager, lpServiceName ? reinterpret_cast<LPCWSTR>(name.c_str()) : nullptr,
                          lpDisplayName ? reinterpret_cast<LPCWSTR>(display.c_str()) : nullptr, dwDesiredAccess,
                          dwServiceType, dwStartType, dwErrorControl,
                          lpBinaryPathName ? reinterpret_cast<LPCWSTR>(path.c_str()) : nullptr, nullptr, lpdwTagId,
                          nullptr, nullptr, nullptr);
}

SC_HANDLE WINAPI OpenServiceW(SC_HANDLE hSCManager, LPCWSTR lpServiceName, DWORD dwDesiredAccess)
{
    std::lock_guard guard(g_lock);
    ScHandle* manager = lookup(hSCManager);
    if (manager == nullptr || !manager->manager) {
        set_last_error(ERROR_INVALID_HANDLE);
        return nullptr;
    }
    if (lpServiceName == nullptr) {
        set_last_error(ERROR_INVALID_ADDRESS);
        return nullptr;
    }
    std::u16string key = ob::upcase(widen(reinterpret_cast<const char16_t*>(lpServiceName)));
    auto it = services().services.find(key);
    if (it == services().services.end()) {
        set_last_error(ERROR_SERVICE_DOES_NOT_EXIST);
        return nullptr;
    }
    it->second.open_handles++;
    set_last_error(NO_ERROR);
    return new_handle(false, map_service_access(dwDesiredAccess), key);
}

SC_HANDLE WINAPI OpenServiceA(SC_HANDLE hSCManager, LPCSTR lpServiceName, DWORD dwDesiredAccess)
{
    std::u16string name = widen(lpServiceName);
    return OpenServiceW(hSCManager, lpServiceName ? reinterpret_cast<LPCWSTR>(name.c_str()) : nullptr, dwDesiredAccess);
}

BOOL WINAPI StartServiceW(SC_HANDLE hService, DWORD dwNumServiceArgs, LPCWSTR* lpServiceArgVectors)
{
    std::lock_guard guard(g_lock);
    Service* s = open_service_handle(hService, SERVICE_START);
    if (s == nullptr)
        return FALSE;
    if (s->marked_for_delete) {
        set_last_error(ERROR_SERVICE_MARKED_FOR_DELETE);
        return FALSE;
    }
    if (s->start_type == SERVICE_DISABLED) {
        set_last_error(ERROR_SERVICE_DISABLED);
        return FALSE;
    }
    if (io::driver_loaded(s->name)) {
        set_last_error(ERROR_SERVICE_ALREADY_RUNNING);
        return FALSE;
    }
    if ((s->type & SERVICE_DRIVER) == 0) {
        // iosim runs kernel drivers only; a Win32 service process never reports in.
        note(fmt::format("StartService({}): not a driver service; iosim runs drivers only", narrow(s->name)));
        s->last_exit_code = ERROR_SERVICE_REQUEST_TIMEOUT;
        set_last_error(ERROR_SERVICE_REQUEST_TIMEOUT);
        return FALSE;
    }
    std::string image = io::resolve_driver_image(s->binary_path);
    note(fmt::format("StartService({}): binary \"{}\" -> {}", narrow(s->name), narrow(s->binary_path),
                     image.empty() ? "(no such module)" : image.substr(image.find_last_of('/') + 1)));
    if (image.empty()) {
        s->last_exit_code = ERROR_FILE_NOT_FOUND;
        set_last_error(ERROR_FILE_NOT_FOUND);
        return FALSE;
    }
    std::string message;
    NTSTATUS status = io::load_driver(s->name, image, &message);
    if (!NT_SUCCESS(status)) {
        s->last_exit_code = RtlNtStatusToDosError(status);
        note(fmt::format("StartService({}) failed: {}", narrow(s->name), message));
        set_last_nt_error(status);
        return FALSE;
    }
    s->last_exit_code = NO_ERROR;
    set_last_error(NO_ERROR);
    return TRUE;
}

BOOL WINAPI StartServiceA(SC_HANDLE hService, DWORD dwNumServiceArgs, LPCSTR* lpServiceArgVectors)
{
    return StartServiceW(hService, 0, nullptr);
}

BOOL WINAPI ControlService(SC_HANDLE hService, DWORD dwControl, LPSERVICE_STATUS lpServiceStatus)
{
    std::lock_guard guard(g_lock);
    ACCESS_MASK needed = dwControl == SERVICE_CONTROL_STOP          ? SERVICE_STOP
                         : dwControl == SERVICE_CONTROL_INTERROGATE ? SERVICE_INTERROGATE
                         : dwControl >= 128                         ? SERVICE_USER_DEFINED_CONTROL
                                                                    : SERVICE_PAUSE_CONTINUE;
    ScHandle* h = nullptr;
    Service* s = open_service_handle(hService, needed, &h);
    if (s == nullptr)
        return FALSE;
    bool running = io::driver_loaded(s->name);
    if (!running) {
        if (lpServiceStatus != nullptr)
            fill_status(*s, lpServiceStatus);
        set_last_error(ERROR_SERVICE_NOT_ACTIVE);
        return FALSE;
    }
    if (dwControl == SERVICE_CONTROL_INTERROGATE) {
        if (lpServiceStatus != nullptr)
            fill_status(*s, lpServiceStatus);
        set_last_error(NO_ERROR);
        return TRUE;
    }
    if (dwControl != SERVICE_CONTROL_STOP) {
        set_last_error(ERROR_INVALID_SERVICE_CONTROL);
        return FALSE;
    }
    std::string message;
    NTSTATUS status = io::unload_driver(s->name, &message);
    if (lpServiceStatus != nullptr)
        fill_status(*s, lpServiceStatus);
    if (status == STATUS_INVALID_DEVICE_REQUEST) {
        note(fmt::format("ControlService({}, STOP) refused: {}", narrow(s->name), message));
        set_last_error(ERROR_INVALID_SERVICE_CONTROL);
        return FALSE;
    }
    if (status == STATUS_DEVICE_BUSY) {
        // An export driver another loaded driver imports from (io::unload_driver): the SCM's
        // answer when others still depend on the service being stopped.
        note(fmt::format("ControlService({}, STOP) refused: {}", narrow(s->name), message));
        set_last_error(ERROR_DEPENDENT_SERVICES_RUNNING);
        return FALSE;
    }
    if (!NT_SUCCESS(status)) {
        set_last_nt_error(status);
        return FALSE;
    }
    maybe_remove(h->key);
    set_last_error(NO_ERROR);
    return TRUE;
}

BOOL WINAPI QueryServiceStatus(SC_HANDLE hService, LPSERVICE_STATUS lpServiceStatus)
{
    std::lock_guard guard(g_lock);
    Service* s = open_service_handle(hService, SERVICE_QUERY_STATUS);
    if (s == nullptr)
        return FALSE;
    if (lpServiceStatus == nullptr) {
        set_last_error(ERROR_INVALID_ADDRESS);
        return FALSE;
    }
    fill_status(*s, lpServiceStatus);
    set_last_error(NO_ERROR);
    return TRUE;
}

BOOL WINAPI DeleteService(SC_HANDLE hService)
{
    std::lock_guard guard(g_lock);
    Service* s = open_service_handle(hService, DELETE);
    if (s == nullptr)
        return FALSE;
    if (s->marked_for_delete) {
        set_last_error(ERROR_SERVICE_MARKED_FOR_DELETE);
        return FALSE;
    }
    s->marked_for_delete = true;
    note(fmt::format("DeleteService({}): marked for deletion", narrow(s->name)));
    set_last_error(NO_ERROR);
    return TRUE;
}

BOOL WINAPI CloseServiceHandle(SC_HANDLE hSCObject)
{
    std::lock_guard guard(g_lock);
    ScHandle* h = lookup(hSCObject);
    if (h == nullptr) {
        set_last_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    services().handles.erase(hSCObject);
    if (!h->manager) {
        if (Service* s = service_of(h)) {
            s->open_handles--;
            maybe_remove(h->key);
        }
    }
    h->magic = 0;
    delete h;
    set_last_error(NO_ERROR);
    return TRUE;
}

}  // extern "C"
