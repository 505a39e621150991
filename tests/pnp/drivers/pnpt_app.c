/*
 * pnpt_app.c - test app for tests/pnp, in C and ANSI: the A versions of SetupDi* and
 * CM_Get_Device_Interface_List*, DEFINE_GUID with <initguid.h> in C, and IsEqualGUID's C
 * form (pointers). Prints each GUID_DEVINTERFACE_PNPT path both ways; the exit code is the
 * number found with SetupDi, or 100 + a step that failed.
 */
#include <windows.h>
#include <initguid.h>
#include <setupapi.h>
#include <cfgmgr32.h>
#include <stdio.h>
#include <stdlib.h>

DEFINE_GUID(GUID_DEVINTERFACE_PNPT, 0x5e1f0c3a, 0x2b4d, 0x4c6e, 0x8f, 0x70, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6);

int main(void)
{
    SP_DEVICE_INTERFACE_DATA data;
    HDEVINFO set = SetupDiGetClassDevsA(&GUID_DEVINTERFACE_PNPT, NULL, NULL, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
    DWORD index = 0;
    ULONG length = 0;
    char *list, *path;
    if (set == INVALID_HANDLE_VALUE)
        return 101;
    data.cbSize = sizeof(data);
    while (SetupDiEnumDeviceInterfaces(set, NULL, &GUID_DEVINTERFACE_PNPT, index, &data)) {
        DWORD size = 0;
        PSP_DEVICE_INTERFACE_DETAIL_DATA_A detail;
        if (!IsEqualGUID(&data.InterfaceClassGuid, &GUID_DEVINTERFACE_PNPT))
            return 102;
        SetupDiGetDeviceInterfaceDetailA(set, &data, NULL, 0, &size, NULL);
        if (GetLastError() != ERROR_INSUFFICIENT_BUFFER)
            return 103;
        detail = (PSP_DEVICE_INTERFACE_DETAIL_DATA_A)malloc(size);
        detail->cbSize = sizeof(SP_DEVICE_INTERFACE_DETAIL_DATA_A);
        if (!SetupDiGetDeviceInterfaceDetailA(set, &data, detail, size, NULL, NULL))
            return 104;
        printf("setupdi: %s (%lu bytes)\n", detail->DevicePath, size);
        free(detail);
        ++index;
    }
    SetupDiDestroyDeviceInfoList(set);
    if (CM_Get_Device_Interface_List_SizeA(&length, (LPGUID)&GUID_DEVINTERFACE_PNPT, NULL,
                                           CM_GET_DEVICE_INTERFACE_LIST_PRESENT) != CR_SUCCESS)
        return 105;
    list = (char *)malloc(length);
    if (CM_Get_Device_Interface_ListA((LPGUID)&GUID_DEVINTERFACE_PNPT, NULL, list, length,
                                      CM_GET_DEVICE_INTERFACE_LIST_PRESENT) != CR_SUCCESS)
        return 106;
    for (path = list; *path != 0; path += strlen(path) + 1)
        printf("cm: %s\n", path);
    free(list);
    return (int)index;
}
