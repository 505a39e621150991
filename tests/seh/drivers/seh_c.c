/*
 * seh_c.c - the SEH test driver in C (seh_c.sys): the cases of seh_cases.h compiled as C,
 * with \Device\SehC and \??\SehC.
 */
#include <ntddk.h>

#define SEH_DEVICE_NAME L"\\Device\\SehC"
#define SEH_LINK_NAME L"\\??\\SehC"
#include "seh_cases.h"
