/*
 * cfgmgr32.h - iosim shim (user mode): the configuration manager API, the part that
 * lists device interfaces.
 *
 * CM_Get_Device_Interface_List_Size gives the length, in characters, of the list of
 * interface paths for a class (each path NUL-terminated, the list ended by one more NUL;
 * an empty list is a single NUL), and CM_Get_Device_Interface_List fills it; a buffer that
 * is too small gives CR_BUFFER_SMALL. With CM_GET_DEVICE_INTERFACE_LIST_PRESENT (0) only
 * enabled interfaces of present devices are listed. Functions return CONFIGRET codes,
 * not Win32 errors (CM_MapCrToWin32Err converts). Values are Windows' own. Implemented in
 * sim_io_manager/win32/setupapi.cpp.
 */
#ifndef IOSIM_CFGMGR32_H
#define IOSIM_CFGMGR32_H

#include "windows.h"

IOSIM_BEGIN_DECLS

typedef DWORD RETURN_TYPE;
typedef RETURN_TYPE CONFIGRET;
typedef DWORD DEVNODE, DEVINST;
typedef DEVNODE *PDEVNODE, *PDEVINST;
typedef CHAR *DEVNODEID_A, *DEVINSTID_A;
typedef WCHAR *DEVNODEID_W, *DEVINSTID_W;
#ifndef IOSIM_ZZSTR_DEFINED
#define IOSIM_ZZSTR_DEFINED
typedef CHAR *PZZSTR;
typedef const CHAR *PCZZSTR;
typedef WCHAR *PZZWSTR;
typedef const WCHAR *PCZZWSTR;
#endif

#define MAX_DEVICE_ID_LEN 200
#define MAX_DEVNODE_ID_LEN MAX_DEVICE_ID_LEN

#define CM_GET_DEVICE_INTERFACE_LIST_PRESENT 0x00000000
#define CM_GET_DEVICE_INTERFACE_LIST_ALL_DEVICES 0x00000001
#define CM_GET_DEVICE_INTERFACE_LIST_BITS 0x00000001

#define CR_SUCCESS 0x00000000
#define CR_DEFAULT 0x00000001
#define CR_OUT_OF_MEMORY 0x00000002
#define CR_INVALID_POINTER 0x00000003
#define CR_INVALID_FLAG 0x00000004
#define CR_INVALID_DEVNODE 0x00000005
#define CR_INVALID_DEVINST CR_INVALID_DEVNODE
#define CR_NO_SUCH_DEVNODE 0x0000000D
#define CR_NO_SUCH_DEVINST CR_NO_SUCH_DEVNODE
#define CR_FAILURE 0x00000013
#define CR_REMOVE_VETOED 0x00000017
#define CR_BUFFER_SMALL 0x0000001A
#define CR_INVALID_DEVICE_ID 0x0000001E
#define CR_INVALID_DATA 0x0000001F
#define CR_DEVICE_NOT_THERE 0x00000024
#define CR_NO_SUCH_VALUE 0x00000025
#define CR_ACCESS_DENIED 0x00000033
#define CR_CALL_NOT_IMPLEMENTED 0x00000034
#define CR_DEVICE_INTERFACE_ACTIVE 0x00000036
#define CR_NO_SUCH_DEVICE_INTERFACE 0x00000037
#define CR_INVALID_REFERENCE_STRING 0x00000038

CONFIGRET WINAPI CM_Get_Device_Interface_List_SizeA(PULONG pulLen, LPGUID InterfaceClassGuid, DEVINSTID_A pDeviceID,
                                                    ULONG ulFlags);
CONFIGRET WINAPI CM_Get_Device_Interface_List_SizeW(PULONG pulLen, LPGUID InterfaceClassGuid, DEVINSTID_W pDeviceID,
                                                    ULONG ulFlags);
CONFIGRET WINAPI CM_Get_Device_Interface_ListA(LPGUID InterfaceClassGuid, DEVINSTID_A pDeviceID, PZZSTR Buffer,
                                               ULONG BufferLen, ULONG ulFlags);
CONFIGRET WINAPI CM_Get_Device_Interface_ListW(LPGUID InterfaceClassGuid, DEVINSTID_W pDeviceID, PZZWSTR Buffer,
                                               ULONG BufferLen, ULONG ulFlags);
DWORD WINAPI CM_MapCrToWin32Err(CONFIGRET CmReturnCode, DWORD DefaultErr);

#ifdef UNICODE
#define CM_Get_Device_Interface_List_Size CM_Get_Device_Interface_List_SizeW
#define CM_Get_Device_Interface_List CM_Get_Device_Interface_ListW
#else
#define CM_Get_Device_Interface_List_Size CM_Get_Device_Interface_List_SizeA
#define CM_Get_Device_Interface_List CM_Get_Device_Interface_ListA
#endif

IOSIM_END_DECLS

#endif /* IOSIM_CFGMGR32_H */
