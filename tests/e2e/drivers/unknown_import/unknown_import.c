/*
 * unknown_import.c - error-case driver: it calls a kernel routine that does not exist.
 *
 * HalQuantumFlux is declared here and exported by nothing, so the image has an import
 * no kernel can satisfy. Windows refuses to load such an image (the loader cannot bind
 * the import): StartService fails with ERROR_PROC_NOT_FOUND (127), the status being
 * STATUS_PROCEDURE_NOT_FOUND. DriverEntry never runs.
 */
#include <ntddk.h>

NTSTATUS HalQuantumFlux(void);

DRIVER_INITIALIZE DriverEntry;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("e2e_unknown_import: DriverEntry ran, which it never should\n");
    return HalQuantumFlux();
}
