// scm_loader.cpp - sample app: a small "sc" for kernel drivers.
//
// Lesson (seed 000 section 3 "使用SCM加载NT驱动"): a driver is a service. Loading one by
// program takes the Service Control Manager's steps:
//   OpenSCManager -> CreateService(SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, binary path)
//   -> StartService (the driver's DriverEntry runs) -> QueryServiceStatus
//   -> ControlService(SERVICE_CONTROL_STOP) (DriverUnload runs) -> DeleteService
//   -> CloseServiceHandle for every handle.
// Each step is printed with GetLastError() when it fails, so the SCM's rules show:
//   ERROR_SERVICE_EXISTS (1073)          CreateService for a name already installed
//   ERROR_SERVICE_ALREADY_RUNNING (1056) StartService twice
//   ERROR_SERVICE_DOES_NOT_EXIST (1060)  OpenService for a name never installed
//   ERROR_SERVICE_NOT_ACTIVE (1062)      stopping a service that is not running
//   ERROR_INVALID_SERVICE_CONTROL (1052) stopping a driver that has no DriverUnload
//   ERROR_PROC_NOT_FOUND (127)           a driver importing a routine the kernel lacks
//
// Usage: scm_loader <service> <binary path> [start|stop|delete|query|all]
//   start   create (or open, if it exists) and start
//   stop    open and stop          delete  open and delete
//   query   open and show status   all     (default) create, start, query, stop, delete
// The exit code is the number of steps that failed.
// C++, UNICODE, written with TCHAR and _tmain so it also builds ANSI.
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

static int g_failures = 0;

// Prints one step's outcome; keeps GetLastError() for the caller to inspect.
static BOOL Report(LPCTSTR step, BOOL ok)
{
    DWORD error = GetLastError();
    if (ok) {
        _tprintf(_T("%s: ok\n"), step);
    } else {
        _tprintf(_T("%s: failed, GetLastError() = %lu\n"), step, error);
        g_failures++;
    }
    SetLastError(error);
    return ok;
}

static LPCTSTR StateName(DWORD state)
{
    switch (state) {
    case SERVICE_STOPPED: return _T("SERVICE_STOPPED");
    case SERVICE_START_PENDING: return _T("SERVICE_START_PENDING");
    case SERVICE_STOP_PENDING: return _T("SERVICE_STOP_PENDING");
    case SERVICE_RUNNING: return _T("SERVICE_RUNNING");
    default: return _T("(other)");
    }
}

static SC_HANDLE OpenExisting(SC_HANDLE manager, LPCTSTR name)
{
    SC_HANDLE service = OpenService(manager, name, SERVICE_ALL_ACCESS);
    Report(_T("OpenService"), service != NULL);
    return service;
}

static SC_HANDLE CreateOrOpen(SC_HANDLE manager, LPCTSTR name, LPCTSTR binaryPath)
{
    SC_HANDLE service = CreateService(manager, name, name, SERVICE_ALL_ACCESS, SERVICE_KERNEL_DRIVER,
                                      SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, binaryPath, NULL, NULL, NULL, NULL,
                                      NULL);
    if (!Report(_T("CreateService"), service != NULL) && GetLastError() == ERROR_SERVICE_EXISTS)
        service = OpenExisting(manager, name);
    return service;
}

static void Query(SC_HANDLE service)
{
    SERVICE_STATUS status = {0};
    if (Report(_T("QueryServiceStatus"), QueryServiceStatus(service, &status)))
        _tprintf(_T("  state %s (%lu), controls accepted 0x%lX\n"), StateName(status.dwCurrentState),
                 status.dwCurrentState, status.dwControlsAccepted);
}

int _tmain(int argc, _TCHAR* argv[])
{
    if (argc < 3) {
        _tprintf(_T("usage: scm_loader <service> <binary path> [start|stop|delete|query|all]\n"));
        return -1;
    }
    LPCTSTR name = argv[1];
    LPCTSTR binaryPath = argv[2];
    LPCTSTR action = argc > 3 ? argv[3] : _T("all");
    BOOL all = _tcsicmp(action, _T("all")) == 0;
    BOOL start = all || _tcsicmp(action, _T("start")) == 0;
    BOOL query = all || _tcsicmp(action, _T("query")) == 0;
    BOOL stop = all || _tcsicmp(action, _T("stop")) == 0;
    BOOL remove_ = all || _tcsicmp(action, _T("delete")) == 0;
    if (!start && !query && !stop && !remove_) {
        _tprintf(_T("unknown action %s\n"), action);
        return -1;
    }
    _tprintf(_T("service %s, binary %s, action %s\n"), name, binaryPath, action);

    SC_HANDLE manager = OpenSCManager(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    if (!Report(_T("OpenSCManager"), manager != NULL))
        return g_failures;

    SC_HANDLE service = start ? CreateOrOpen(manager, name, binaryPath) : OpenExisting(manager, name);
    if (service != NULL) {
        if (start)
            Report(_T("StartService"), StartService(service, 0, NULL));
        if (query)
            Query(service);
        if (stop) {
            SERVICE_STATUS status = {0};
            Report(_T("ControlService(SERVICE_CONTROL_STOP)"), ControlService(service, SERVICE_CONTROL_STOP, &status));
        }
        if (remove_)
            Report(_T("DeleteService"), DeleteService(service));
        Report(_T("CloseServiceHandle(service)"), CloseServiceHandle(service));
    }
    Report(_T("CloseServiceHandle(manager)"), CloseServiceHandle(manager));
    return g_failures;
}
