// toy_app.cpp - sample app: find the toy bus's children through their device interface and
// ask each which child it is.
//
// A WDM driver's device has no name the app knows: the app asks for the interfaces of a
// class (GUID_DEVINTERFACE_TOYCHILD) and opens the path each one gives.
//   toy_app              SetupDiGetClassDevs(DIGCF_PRESENT | DIGCF_DEVICEINTERFACE), then
//                        SetupDiEnumDeviceInterfaces and SetupDiGetDeviceInterfaceDetail
//                        (called twice: the first call says how big the buffer must be)
//   toy_app cm           the same list from CM_Get_Device_Interface_List_Size / _List
//   toy_app plug N       asks the bus (through GUID_DEVINTERFACE_TOYBUS) to add child N
//   toy_app unplug N     ... or to pull child N out (the PnP manager then removes it)
// Each child answers IOCTL_TOYCHILD_WHO_ARE_YOU with its number. Exit code: the number of
// children that answered (plug/unplug: 0 on success), or 100 + a step that failed.
#include <windows.h>
#include <initguid.h>
#include <setupapi.h>
#include <cfgmgr32.h>
#include <stdio.h>
#include <stdlib.h>

#include "toy_public.h"

// Opens `path`, asks the child who it is, prints the answer; true if it answered.
static bool AskChild(const WCHAR* path)
{
    HANDLE child = CreateFileW(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (child == INVALID_HANDLE_VALUE) {
        printf("  %ls: CreateFile failed, GetLastError() = %lu\n", path, GetLastError());
        return false;
    }
    TOY_CHILD_INFO info;
    DWORD bytes = 0;
    BOOL ok = DeviceIoControl(child, IOCTL_TOYCHILD_WHO_ARE_YOU, NULL, 0, &info, sizeof(info), &bytes, NULL);
    if (ok && bytes == sizeof(info))
        printf("  %ls: child %lu (answer #%lu)\n", path, info.Number, info.Requests);
    else
        printf("  %ls: DeviceIoControl failed, GetLastError() = %lu\n", path, GetLastError());
    CloseHandle(child);
    return ok && bytes == sizeof(info);
}

// The SetupDi way: returns how many children answered, or -1.
static int WithSetupDi(void)
{
    HDEVINFO set = SetupDiGetClassDevs(&GUID_DEVINTERFACE_TOYCHILD, NULL, NULL, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
    if (set == INVALID_HANDLE_VALUE) {
        printf("SetupDiGetClassDevs failed, GetLastError() = %lu\n", GetLastError());
        return -1;
    }
    int answered = 0;
    SP_DEVICE_INTERFACE_DATA data;
    data.cbSize = sizeof(data);
    DWORD index = 0;
    for (; SetupDiEnumDeviceInterfaces(set, NULL, &GUID_DEVINTERFACE_TOYCHILD, index, &data); ++index) {
        DWORD size = 0;
        // First call: no buffer, to learn the size (it fails with ERROR_INSUFFICIENT_BUFFER).
        if (SetupDiGetDeviceInterfaceDetail(set, &data, NULL, 0, &size, NULL) ||
            GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
            printf("SetupDiGetDeviceInterfaceDetail did not ask for a buffer, GetLastError() = %lu\n", GetLastError());
            break;
        }
        PSP_DEVICE_INTERFACE_DETAIL_DATA detail = (PSP_DEVICE_INTERFACE_DETAIL_DATA)malloc(size);
        detail->cbSize = sizeof(SP_DEVICE_INTERFACE_DETAIL_DATA);  // the structure's size, not the buffer's
        SP_DEVINFO_DATA device;
        device.cbSize = sizeof(device);
        if (SetupDiGetDeviceInterfaceDetail(set, &data, detail, size, NULL, &device)) {
            WCHAR instance[MAX_DEVICE_ID_LEN];
            if (SetupDiGetDeviceInstanceId(set, &device, instance, MAX_DEVICE_ID_LEN, NULL))
                printf("interface %lu of device %ls%s\n", index, instance,
                       (data.Flags & SPINT_ACTIVE) ? "" : " (not active)");
            if (AskChild(detail->DevicePath))
                ++answered;
        } else {
            printf("SetupDiGetDeviceInterfaceDetail failed, GetLastError() = %lu\n", GetLastError());
        }
        free(detail);
    }
    if (GetLastError() != ERROR_NO_MORE_ITEMS)
        printf("SetupDiEnumDeviceInterfaces stopped with GetLastError() = %lu\n", GetLastError());
    printf("%lu toy child interface(s) found with SetupDi, %d answered\n", index, answered);
    SetupDiDestroyDeviceInfoList(set);
    return answered;
}

// The configuration manager way: one MULTI_SZ of paths.
static int WithCm(void)
{
    ULONG length = 0;
    CONFIGRET cr = CM_Get_Device_Interface_List_Size(&length, (LPGUID)&GUID_DEVINTERFACE_TOYCHILD, NULL,
                                                     CM_GET_DEVICE_INTERFACE_LIST_PRESENT);
    if (cr != CR_SUCCESS) {
        printf("CM_Get_Device_Interface_List_Size failed: CONFIGRET 0x%lx\n", cr);
        return -1;
    }
    WCHAR* list = (WCHAR*)malloc(length * sizeof(WCHAR));
    cr = CM_Get_Device_Interface_List((LPGUID)&GUID_DEVINTERFACE_TOYCHILD, NULL, list, length,
                                      CM_GET_DEVICE_INTERFACE_LIST_PRESENT);
    if (cr != CR_SUCCESS) {
        printf("CM_Get_Device_Interface_List failed: CONFIGRET 0x%lx\n", cr);
        free(list);
        return -1;
    }
    int found = 0, answered = 0;
    for (WCHAR* path = list; *path != 0; path += wcslen(path) + 1) {
        ++found;
        if (AskChild(path))
            ++answered;
    }
    printf("%d toy child interface(s) found with CM_Get_Device_Interface_List, %d answered\n", found, answered);
    free(list);
    return answered;
}

// Sends `code` with child `number` to the bus, found through its own interface.
static int TellBus(DWORD code, ULONG number)
{
    HDEVINFO set = SetupDiGetClassDevs(&GUID_DEVINTERFACE_TOYBUS, NULL, NULL, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
    if (set == INVALID_HANDLE_VALUE)
        return 101;
    SP_DEVICE_INTERFACE_DATA data;
    data.cbSize = sizeof(data);
    if (!SetupDiEnumDeviceInterfaces(set, NULL, &GUID_DEVINTERFACE_TOYBUS, 0, &data)) {
        printf("no toy bus is plugged in\n");
        SetupDiDestroyDeviceInfoList(set);
        return 102;
    }
    DWORD size = 0;
    SetupDiGetDeviceInterfaceDetail(set, &data, NULL, 0, &size, NULL);
    PSP_DEVICE_INTERFACE_DETAIL_DATA detail = (PSP_DEVICE_INTERFACE_DETAIL_DATA)malloc(size);
    detail->cbSize = sizeof(SP_DEVICE_INTERFACE_DETAIL_DATA);
    int result = 103;
    if (SetupDiGetDeviceInterfaceDetail(set, &data, detail, size, NULL, NULL)) {
        HANDLE bus = CreateFileW(detail->DevicePath, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                 FILE_ATTRIBUTE_NORMAL, NULL);
        if (bus != INVALID_HANDLE_VALUE) {
            DWORD bytes = 0;
            if (DeviceIoControl(bus, code, &number, sizeof(number), NULL, 0, &bytes, NULL)) {
                printf("the bus took the request for child %lu\n", number);
                result = 0;
            } else {
                printf("DeviceIoControl failed, GetLastError() = %lu\n", GetLastError());
                result = 104;
            }
            CloseHandle(bus);
        }
    }
    free(detail);
    SetupDiDestroyDeviceInfoList(set);
    return result;
}

int wmain(int argc, wchar_t* argv[])
{
    if (argc >= 3 && (wcscmp(argv[1], L"plug") == 0 || wcscmp(argv[1], L"unplug") == 0))
        return TellBus(wcscmp(argv[1], L"plug") == 0 ? IOCTL_TOYBUS_PLUG_CHILD : IOCTL_TOYBUS_UNPLUG_CHILD,
                       (ULONG)wcstoul(argv[2], NULL, 10));
    int answered = argc >= 2 && wcscmp(argv[1], L"cm") == 0 ? WithCm() : WithSetupDi();
    return answered < 0 ? 100 : answered;
}
