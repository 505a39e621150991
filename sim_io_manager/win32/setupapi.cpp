// setupapi.cpp - setupapi's SetupDi* and cfgmgr32's CM_Get_Device_Interface_List*: how an
// app finds the devices a WDM driver exposes through device interfaces.
//
// Rules kept (Microsoft's):
//  - SetupDiGetClassDevs with DIGCF_DEVICEINTERFACE takes an interface class GUID (NULL only
//    with DIGCF_ALLCLASSES) and builds a device information set, a snapshot; with
//    DIGCF_PRESENT only present devices are in it. Device setup classes (Ports, ...) are not
//    simulated: a set built without DIGCF_DEVICEINTERFACE holds all devices with
//    DIGCF_ALLCLASSES, none otherwise.
//  - Every structure the caller passes has its cbSize checked: a wrong one fails with
//    ERROR_INVALID_USER_BUFFER.
//  - SetupDiEnumDeviceInterfaces returns FALSE with ERROR_NO_MORE_ITEMS past the last one;
//    Flags has SPINT_ACTIVE when the interface is enabled.
//  - SetupDiGetDeviceInterfaceDetail: with no buffer (size 0) or too small a buffer it fails
//    with ERROR_INSUFFICIENT_BUFFER and sets *RequiredSize; the DevicePath is the \\?\ form
//    CreateFile takes. A given SP_DEVINFO_DATA is filled either way.
//  - CM_Get_Device_Interface_List_Size counts characters, with each path's NUL and the final
//    one (an empty list is one NUL); with CM_GET_DEVICE_INTERFACE_LIST_PRESENT only enabled
//    interfaces of present devices are listed; a short buffer gives CR_BUFFER_SMALL.
// A set is a snapshot: interfaces enabled after SetupDiGetClassDevs are not in it.
// NT counterparts: setupapi!SetupDiGetClassDevsW & co., cfgmgr32!CM_Get_Device_Interface_ListW.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "pnp/device_interface.h"
#include "win32/win32.h"
#include "windows.h"
#include "cfgmgr32.h"
#include "setupapi.h"

using namespace iosim;
using namespace iosim::win32;
using iosim::io::pnp::InterfaceEntry;

namespace {

constexpr uint32_t kSetMagic = 0x49766544;  // "DevI"

struct DeviceInfoSet {
    uint32_t magic = kSetMagic;
    std::vector<InterfaceEntry> interfaces;
    std::vector<uint32_t> devices;  // device node numbers, in order of first appearance
};

std::mutex g_lock;
std::set<DeviceInfoSet*> g_sets;

DeviceInfoSet* set_of(HDEVINFO handle)
{
    std::lock_guard guard(g_lock);
    auto* set = static_cast<DeviceInfoSet*>(handle);
    return g_sets.count(set) != 0 ? set : nullptr;
}

BOOL fail(ULONG error)
{
    set_last_error(error);
    return FALSE;
}

std::string narrow_ascii(std::u16string_view text)
{
    std::string out;
    for (char16_t c : text)
        out += c < 0x80 ? static_cast<char>(c) : '?';
    return out;
}

HDEVINFO get_class_devs(const GUID* guid, std::string_view enumerator, DWORD flags)
{
    auto* set = new DeviceInfoSet;
    if ((flags & DIGCF_DEVICEINTERFACE) != 0) {
        if (guid == nullptr && (flags & DIGCF_ALLCLASSES) == 0) {
            delete set;
            set_last_error(ERROR_INVALID_PARAMETER);
            return INVALID_HANDLE_VALUE;
        }
        set->interfaces = io::pnp::list_interfaces((flags & DIGCF_ALLCLASSES) != 0 ? nullptr : guid, enumerator,
                                                   (flags & DIGCF_PRESENT) != 0);
        for (const auto& e : set->interfaces)
            if (e.devinst != 0 && std::find(set->devices.begin(), set->devices.end(), e.devinst) == set->devices.end())
                set->devices.push_back(e.devinst);
    } else if ((flags & DIGCF_ALLCLASSES) != 0) {
        for (const auto& e : io::pnp::list_interfaces(nullptr, enumerator, (flags & DIGCF_PRESENT) != 0))
            if (e.devinst != 0 && std::find(set->devices.begin(), set->devices.end(), e.devinst) == set->devices.end())
                set->devices.push_back(e.devinst);
    }
    std::lock_guard guard(g_lock);
    g_sets.insert(set);
    return set;
}

// The interfaces of `set` that SetupDiEnumDeviceInterfaces walks for these arguments.
std::vector<const InterfaceEntry*> matching(const DeviceInfoSet* set, const SP_DEVINFO_DATA* device, const GUID* guid)
{
    std::vector<const InterfaceEntry*> out;
    for (const auto& e : set->interfaces)
        if (std::memcmp(&e.guid, guid, sizeof(GUID)) == 0 && (device == nullptr || device->DevInst == e.devinst))
            out.push_back(&e);
    return out;
}

void fill_devinfo(SP_DEVINFO_DATA* data, uint32_t devinst)
{
    std::memset(&data->ClassGuid, 0, sizeof data->ClassGuid);  // no device setup classes here
    data->DevInst = devinst;
    data->Reserved = 0;
}

// Both character widths of SetupDiGetDeviceInterfaceDetail.
template <typename Detail, typename Char>
BOOL interface_detail(HDEVINFO handle, PSP_DEVICE_INTERFACE_DATA data, Detail* detail, DWORD size, PDWORD required,
                      PSP_DEVINFO_DATA devinfo)
{
    DeviceInfoSet* set = set_of(handle);
    if (set == nullptr)
        return fail(ERROR_INVALID_HANDLE);
    if (data == nullptr || data->cbSize != sizeof(SP_DEVICE_INTERFACE_DATA) || data->Reserved == 0 ||
        data->Reserved > set->interfaces.size())
        return fail(ERROR_INVALID_PARAMETER);
    if (devinfo != nullptr && devinfo->cbSize != sizeof(SP_DEVINFO_DATA))
        return fail(ERROR_INVALID_USER_BUFFER);
    const InterfaceEntry& e = set->interfaces[data->Reserved - 1];
    DWORD needed = static_cast<DWORD>(offsetof(Detail, DevicePath) + (e.path.size() + 1) * sizeof(Char));
    if (required != nullptr)
        *required = needed;
    if (devinfo != nullptr)
        fill_devinfo(devinfo, e.devinst);
    if (detail == nullptr) {
        if (size != 0)
            return fail(ERROR_INVALID_USER_BUFFER);
        return fail(ERROR_INSUFFICIENT_BUFFER);
    }
    if (detail->cbSize != sizeof(Detail))
        return fail(ERROR_INVALID_USER_BUFFER);
    if (size < needed)
        return fail(ERROR_INSUFFICIENT_BUFFER);
    if constexpr (sizeof(Char) == 1) {
        std::string path = narrow_ascii(e.path);
        std::memcpy(detail->DevicePath, path.c_str(), path.size() + 1);
    } else {
        std::memcpy(detail->DevicePath, e.path.c_str(), (e.path.size() + 1) * sizeof(char16_t));
    }
    return TRUE;
}

// The MULTI_SZ of interface paths for CM_Get_Device_Interface_List(_Size).
std::u16string interface_list(const GUID* guid, std::string_view device, ULONG flags)
{
    bool all = (flags & CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES) != 0;
    std::u16string list;
    for (const auto& e : io::pnp::list_interfaces(guid, device, !all))
        if (all || e.enabled) {
            list += e.path;
            list += u'\0';
        }
    list += u'\0';
    return list;
}

CONFIGRET list_size(PULONG length, LPGUID guid, std::string_view device, ULONG flags)
{
    if (length == nullptr || guid == nullptr)
        return CR_INVALID_POINTER;
    *length = 0;
    if ((flags & ~CM_GET_DEVICE_INTERFACE_LIST_BITS) != 0)
        return CR_INVALID_FLAG;
    *length = static_cast<ULONG>(interface_list(guid, device, flags).size());
    return CR_SUCCESS;
}

template <typename Char>
CONFIGRET list(LPGUID guid, std::string_view device, Char* buffer, ULONG length, ULONG flags)
{
    if (guid == nullptr || buffer == nullptr)
        return CR_INVALID_POINTER;
    if (length == 0)
        return CR_INVALID_DATA;
    if ((flags & ~CM_GET_DEVICE_INTERFACE_LIST_BITS) != 0)
        return CR_INVALID_FLAG;
    std::u16string text = interface_list(guid, device, flags);
    buffer[0] = 0;
    if (text.size() > length)
        return CR_BUFFER_SMALL;
    for (size_t i = 0; i < text.size(); ++i)
        buffer[i] = static_cast<Char>(sizeof(Char) == 1 && text[i] >= 0x80 ? u'?' : text[i]);
    return CR_SUCCESS;
}

std::string device_of(const char16_t* id) { return id != nullptr ? narrow(id) : std::string(); }
std::string device_of(const char* id) { return id != nullptr ? std::string(id) : std::string(); }

}  // namespace

extern "C" {

HDEVINFO WINAPI SetupDiGetClassDevsW(const GUID* ClassGuid, PCWSTR Enumerator, HWND hwndParent, DWORD Flags)
{
    return get_class_devs(ClassGuid, device_of(reinterpret_cast<const char16_t*>(Enumerator)), Flags);
}

HDEVINFO WINAPI SetupDiGetClassDevsA(const GUID* ClassGuid, PCSTR Enumerator, HWND hwndParent, DWORD Flags)
{
    return get_class_devs(ClassGuid, device_of(Enumerator), Flags);
}

BOOL WINAPI SetupDiEnumDeviceInfo(HDEVINFO DeviceInfoSet, DWORD MemberIndex, PSP_DEVINFO_DATA DeviceInfoData)
{
    auto* set = set_of(DeviceInfoSet);
    if (set == nullptr)
        return fail(ERROR_INVALID_HANDLE);
    if (DeviceInfoData == nullptr || DeviceInfoData->cbSize != sizeof(SP_DEVINFO_DATA))
        return fail(ERROR_INVALID_USER_BUFFER);
    if (MemberIndex >= set->devices.size())
        return fail(ERROR_NO_MORE_ITEMS);
    fill_devinfo(DeviceInfoData, set->devices[MemberIndex]);
    return TRUE;
}

BOOL WINAPI SetupDiEnumDeviceInterfaces(HDEVINFO DeviceInfoSet, PSP_DEVINFO_DATA DeviceInfoData,
                                        const GUID* InterfaceClassGuid, DWORD MemberIndex,
                                        PSP_DEVICE_INTERFACE_DATA DeviceInterfaceData)
{
    auto* set = set_of(DeviceInfoSet);
    if (set == nullptr)
        return fail(ERROR_INVALID_HANDLE);
    if (InterfaceClassGuid == nullptr)
        return fail(ERROR_INVALID_PARAMETER);
    if (DeviceInterfaceData == nullptr || DeviceInterfaceData->cbSize != sizeof(SP_DEVICE_INTERFACE_DATA))
        return fail(ERROR_INVALID_USER_BUFFER);
    if (DeviceInfoData != nullptr && DeviceInfoData->cbSize != sizeof(SP_DEVINFO_DATA))
        return fail(ERROR_INVALID_USER_BUFFER);
    auto found = matching(set, DeviceInfoData, InterfaceClassGuid);
    if (MemberIndex >= found.size())
        return fail(ERROR_NO_MORE_ITEMS);
    const InterfaceEntry* e = found[MemberIndex];
    DeviceInterfaceData->InterfaceClassGuid = e->guid;
    DeviceInterfaceData->Flags = e->enabled ? SPINT_ACTIVE : 0;
    DeviceInterfaceData->Reserved = static_cast<ULONG_PTR>(e - set->interfaces.data()) + 1;
    return TRUE;
}

BOOL WINAPI SetupDiGetDeviceInterfaceDetailW(HDEVINFO DeviceInfoSet, PSP_DEVICE_INTERFACE_DATA DeviceInterfaceData,
                                             PSP_DEVICE_INTERFACE_DETAIL_DATA_W DeviceInterfaceDetailData,
                                             DWORD DeviceInterfaceDetailDataSize, PDWORD RequiredSize,
                                             PSP_DEVINFO_DATA DeviceInfoData)
{
    return interface_detail<SP_DEVICE_INTERFACE_DETAIL_DATA_W, char16_t>(DeviceInfoSet, DeviceInterfaceData,
                                                                         DeviceInterfaceDetailData,
                                                                         DeviceInterfaceDetailDataSize, RequiredSize,
                                                                         DeviceInfoData);
}

BOOL WINAPI SetupDiGetDeviceInterfaceDetailA(HDEVINFO DeviceInfoSet, PSP_DEVICE_INTERFACE_DATA DeviceInterfaceData,
                                             PSP_DEVICE_INTERFACE_DETAIL_DATA_A DeviceInterfaceDetailData,
                                             DWORD DeviceInterfaceDetailDataSize, PDWORD RequiredSize,
                                             PSP_DEVINFO_DATA DeviceInfoData)
{
    return interface_detail<SP_DEVICE_INTERFACE_DETAIL_DATA_A, char>(DeviceInfoSet, DeviceInterfaceData,
                                                                     DeviceInterfaceDetailData,
                                                                     DeviceInterfaceDetailDataSize, RequiredSize,
                                                                     DeviceInfoData);
}

BOOL WINAPI SetupDiGetDeviceInstanceIdW(HDEVINFO DeviceInfoSet, PSP_DEVINFO_DATA DeviceInfoData,
                                        PWSTR DeviceInstanceId, DWORD DeviceInstanceIdSize, PDWORD RequiredSize)
{
    if (set_of(DeviceInfoSet) == nullptr)
        return fail(ERROR_INVALID_HANDLE);
    if (DeviceInfoData == nullptr || DeviceInfoData->cbSize != sizeof(SP_DEVINFO_DATA))
        return fail(ERROR_INVALID_USER_BUFFER);
    std::u16string id = widen(io::pnp::instance_path_of(DeviceInfoData->DevInst).c_str());
    if (id.empty())
        return fail(ERROR_NO_SUCH_DEVINST);
    if (RequiredSize != nullptr)
        *RequiredSize = static_cast<DWORD>(id.size() + 1);
    if (DeviceInstanceId == nullptr || DeviceInstanceIdSize < id.size() + 1)
        return fail(ERROR_INSUFFICIENT_BUFFER);
    std::memcpy(DeviceInstanceId, id.c_str(), (id.size() + 1) * sizeof(char16_t));
    return TRUE;
}

BOOL WINAPI SetupDiGetDeviceInstanceIdA(HDEVINFO DeviceInfoSet, PSP_DEVINFO_DATA DeviceInfoData,
                                        PSTR DeviceInstanceId, DWORD DeviceInstanceIdSize, PDWORD RequiredSize)
{
    if (set_of(DeviceInfoSet) == nullptr)
        return fail(ERROR_INVALID_HANDLE);
    if (DeviceInfoData == nullptr || DeviceInfoData->cbSize != sizeof(SP_DEVINFO_DATA))
        return fail(ERROR_INVALID_USER_BUFFER);
    std::string id = io::pnp::instance_path_of(DeviceInfoData->DevInst);
    if (id.empty())
        return fail(ERROR_NO_SUCH_DEVINST);
    if (RequiredSize != nullptr)
        *RequiredSize = static_cast<DWORD>(id.size() + 1);
    if (DeviceInstanceId == nullptr || DeviceInstanceIdSize < id.size() + 1)
        return fail(ERROR_INSUFFICIENT_BUFFER);
    std::memcpy(DeviceInstanceId, id.c_str(), id.size() + 1);
    return TRUE;
}

BOOL WINAPI SetupDiDestroyDeviceInfoList(HDEVINFO DeviceInfoSet)
{
    std::lock_guard guard(g_lock);
    auto* set = static_cast<struct DeviceInfoSet*>(DeviceInfoSet);
    if (g_sets.erase(set) == 0)
        return fail(ERROR_INVALID_HANDLE);
    delete set;
    return TRUE;
}

CONFIGRET WINAPI CM_Get_Device_Interface_List_SizeW(PULONG pulLen, LPGUID InterfaceClassGuid, DEVINSTID_W pDeviceID,
                                                    ULONG ulFlags)
{
    return list_size(pulLen, InterfaceClassGuid, device_of(reinterpret_cast<const char16_t*>(pDeviceID)), ulFlags);
}

CONFIGRET WINAPI CM_Get_Device_Interface_List_SizeA(PULONG pulLen, LPGUID InterfaceClassGuid, DEVINSTID_A pDeviceID,
                                                    ULONG ulFlags)
{
    return list_size(pulLen, InterfaceClassGuid, device_of(pDeviceID), ulFlags);
}

CONFIGRET WINAPI CM_Get_Device_Interface_ListW(LPGUID InterfaceClassGuid, DEVINSTID_W pDeviceID, PZZWSTR Buffer,
                                               ULONG BufferLen, ULONG ulFlags)
{
    return list<char16_t>(InterfaceClassGuid, device_of(reinterpret_cast<const char16_t*>(pDeviceID)),
                          reinterpret_cast<char16_t*>(Buffer), BufferLen, ulFlags);
}

CONFIGRET WINAPI CM_Get_Device_Interface_ListA(LPGUID InterfaceClassGuid, DEVINSTID_A pDeviceID, PZZSTR Buffer,
                                               ULONG BufferLen, ULONG ulFlags)
{
    return list<char>(InterfaceClassGuid, device_of(pDeviceID), Buffer, BufferLen, ulFlags);
}

DWORD WINAPI CM_MapCrToWin32Err(CONFIGRET CmReturnCode, DWORD DefaultErr)
{
    switch (CmReturnCode) {
    case CR_SUCCESS: return ERROR_SUCCESS;
    case CR_OUT_OF_MEMORY: return ERROR_NOT_ENOUGH_MEMORY;
    case CR_INVALID_POINTER: return ERROR_INVALID_USER_BUFFER;
    case CR_INVALID_FLAG: return ERROR_INVALID_FLAGS;
    case CR_INVALID_DEVNODE:
    case CR_INVALID_DEVICE_ID:
    case CR_INVALID_DATA: return ERROR_INVALID_DATA;
    case CR_NO_SUCH_DEVNODE:
    case CR_NO_SUCH_VALUE:
    case CR_NO_SUCH_DEVICE_INTERFACE: return ERROR_NOT_FOUND;
    case CR_BUFFER_SMALL: return ERROR_INSUFFICIENT_BUFFER;
    case CR_ACCESS_DENIED: return ERROR_ACCESS_DENIED;
    case CR_CALL_NOT_IMPLEMENTED: return ERROR_CALL_NOT_IMPLEMENTED;
    default: return DefaultErr;
    }
}

}  // extern "C"
