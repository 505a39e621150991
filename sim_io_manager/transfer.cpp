// transfer.cpp - read, write, device control and query-information requests.
//
// The transfer method decides what the driver sees:
//   read/write: the device's flags. DO_BUFFERED_IO: a SystemBuffer of Length bytes (write:
//     copied in; read: copied back on completion). DO_DIRECT_IO: an MDL for the caller's
//     buffer (NULL when Length is 0). Neither: Irp->UserBuffer, the raw caller address.
//   device control: the METHOD_ bits of the control code. BUFFERED: one SystemBuffer of
//     max(input, output); input copied in; Information bytes copied back. IN/OUT_DIRECT:
//     input in SystemBuffer, output through an MDL. NEITHER: raw addresses.
//   query information: always buffered.
// Access bits of a control code are checked against the handle's granted access before
// any IRP exists. The I/O manager does not advance CurrentByteOffset (drivers that keep a
// file position do that themselves).
// NT counterparts: NtReadFile, NtWriteFile, NtDeviceIoControlFile, NtQueryInformationFile.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "device.h"
#include "file.h"
#include "io_api.h"
#include "mdl.h"
#include "request.h"
#include "system.h"

namespace iosim::io {

namespace {

NTSTATUS reference_file(HANDLE handle, FILE_OBJECT** file, ACCESS_MASK* granted)
{
    Process* process = current_process();
    if (process == nullptr)
        return STATUS_INVALID_HANDLE;
    void* object = nullptr;
    NTSTATUS status = process->handles().reference(handle, &file_type(), &object, granted);
    if (!NT_SUCCESS(status))
        return status;
    *file = static_cast<FILE_OBJECT*>(object);
    return STATUS_SUCCESS;
}

// Guard that drops the file reference taken by reference_file.
struct FileRef {
    FILE_OBJECT* file = nullptr;
    ~FileRef()
    {
        if (file != nullptr)
            ob::dereference(file);
    }
};

// A SystemBuffer. Windows hands out pool memory as it is; iosim zeroes it, plus one
// terminating zero byte past the end that the driver must not count on, so that runs are
// deterministic and the classic DbgPrint((PCSTR)SystemBuffer) of an unterminated input
// (seed 000's IOCTL driver does this) reads a string instead of whatever follows.
void* allocate_system_buffer(size_t size) { return size == 0 ? nullptr : std::calloc(1, size + 1); }

NTSTATUS read_write(bool write, HANDLE handle, void* buffer, ULONG length, const LARGE_INTEGER* byte_offset,
                    KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb)
{
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    if (mode == UserMode && (granted & (write ? (FILE_WRITE_DATA | FILE_APPEND_DATA) : FILE_READ_DATA)) == 0)
        return STATUS_ACCESS_DENIED;
    LARGE_INTEGER offset{};
    if (byte_offset != nullptr)
        offset = *byte_offset;
    else if ((file->Flags & FO_SYNCHRONOUS_IO) != 0)
        offset = file->CurrentByteOffset;
    else
        return STATUS_INVALID_PARAMETER;  // an asynchronous file object needs an explicit offset

    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, write ? IRP_MJ_WRITE : IRP_MJ_READ, mode);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    if (write) {
        sp->Parameters.Write.Length = length;
        sp->Parameters.Write.ByteOffset = offset;
        irp->Flags |= IRP_WRITE_OPERATION;
    } else {
        sp->Parameters.Read.Length = length;
        sp->Parameters.Read.ByteOffset = offset;
        irp->Flags |= IRP_READ_OPERATION;
    }
    Request request;
    request.user_iosb = iosb;
    request.user_buffer_length = length;
    if ((top->Flags & DO_BUFFERED_IO) != 0) {
        if (length != 0) {
            irp->AssociatedIrp.SystemBuffer = allocate_system_buffer(length);
            irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
            if (write)
                std::memcpy(irp->AssociatedIrp.SystemBuffer, buffer, length);
            else
                irp->Flags |= IRP_INPUT_OPERATION;
        }
        irp->UserBuffer = buffer;
    } else if ((top->Flags & DO_DIRECT_IO) != 0) {
        if (length != 0) {
            status = attach_user_mdl(irp, buffer, length, write ? IoReadAccess : IoWriteAccess, mode);
            if (!NT_SUCCESS(status)) {
                free_irp(irp);
                return status;
            }
        }
    } else {
        irp->UserBuffer = buffer;
    }
    return send_request(top, irp, request);
}

}  // namespace

NTSTATUS read_file(HANDLE handle, void* buffer, ULONG length, const LARGE_INTEGER* byte_offset, KPROCESSOR_MODE mode,
                   IO_STATUS_BLOCK* iosb)
{
    return read_write(false, handle, buffer, length, byte_offset, mode, iosb);
}

NTSTATUS write_file(HANDLE handle, const void* buffer, ULONG length, const LARGE_INTEGER* byte_offset,
                    KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb)
{
    return read_write(true, handle, const_cast<void*>(buffer), length, byte_offset, mode, iosb);
}

NTSTATUS device_io_control(HANDLE handle, ULONG io_control_code, void* input, ULONG input_length, void* output,
                           ULONG output_length, bool internal, KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb)
{
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    // The access bits of the code are checked against the handle before the driver sees anything.
    ULONG access = ACCESS_FROM_CTL_CODE(io_control_code);
    if (mode == UserMode && (((access & FILE_READ_ACCESS) && !(granted & FILE_READ_DATA)) ||
                             ((access & FILE_WRITE_ACCESS) && !(granted & FILE_WRITE_DATA)))) {
        if (System* sys = System::current(); sys->trace().enabled())
            sys->trace().record(trace::Kind::Irp, 0,
                                fmt::format("DeviceIoControl 0x{:08X} refused: the code needs {} access the handle lacks "
                                            "(STATUS_ACCESS_DENIED, no IRP built)",
                                            io_control_code,
                                            (access & FILE_READ_ACCESS) && !(granted & FILE_READ_DATA) ? "read" : "write"));
        return STATUS_ACCESS_DENIED;
    }

    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, internal ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL, mode);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->Parameters.DeviceIoControl.IoControlCode = io_control_code;
    sp->Parameters.DeviceIoControl.InputBufferLength = input_length;
    sp->Parameters.DeviceIoControl.OutputBufferLength = output_length;
    Request request;
    request.user_iosb = iosb;
    request.user_buffer_length = output_length;
    switch (METHOD_FROM_CTL_CODE(io_control_code)) {
    case METHOD_BUFFERED: {
        ULONG size = std::max(input_length, output_length);
        if (size != 0) {
            irp->AssociatedIrp.SystemBuffer = allocate_system_buffer(size);
            irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
            if (input != nullptr && input_length != 0)
                std::memcpy(irp->AssociatedIrp.SystemBuffer, input, input_length);
            if (output_length != 0) {
                irp->Flags |= IRP_INPUT_OPERATION;
                irp->UserBuffer = output;
            }
        }
        break;
    }
    case METHOD_IN_DIRECT:
    case METHOD_OUT_DIRECT:
        if (input_length != 0 && input != nullptr) {
            irp->AssociatedIrp.SystemBuffer = allocate_system_buffer(input_length);
            irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
            std::memcpy(irp->AssociatedIrp.SystemBuffer, input, input_length);
        }
        if (output_length != 0 && output != nullptr) {
            LOCK_OPERATION op = METHOD_FROM_CTL_CODE(io_control_code) == METHOD_IN_DIRECT ? IoReadAccess : IoWriteAccess;
            status = attach_user_mdl(irp, output, output_length, op, mode);
            if (!NT_SUCCESS(status)) {
                std::free(irp->AssociatedIrp.SystemBuffer);
                irp->AssociatedIrp.SystemBuffer = nullptr;
                free_irp(irp);
                return status;
            }
        }
        break;
    case METHOD_NEITHER:
        sp->Parameters.DeviceIoControl.Type3InputBuffer = input;
        irp->UserBuffer = output;
        break;
    }
    return send_request(top, irp, request);
}

NTSTATUS query_information_file(HANDLE handle, void* information, ULONG length, FILE_INFORMATION_CLASS info_class,
                                KPROCESSOR_MODE mode, IO_STATUS_BLOCK* iosb)
{
    FileRef ref;
    ACCESS_MASK granted = 0;
    NTSTATUS status = reference_file(handle, &ref.file, &granted);
    if (!NT_SUCCESS(status))
        return status;
    FILE_OBJECT* file = ref.file;
    DEVICE_OBJECT* top = attached_top(file->DeviceObject);
    IRP* irp = build_request_irp(file, top, IRP_MJ_QUERY_INFORMATION, mode);
    IO_STACK_LOCATION* sp = IoGetNextIrpStackLocation(irp);
    sp->Parameters.QueryFile.Length = length;
    sp->Parameters.QueryFile.FileInformationClass = info_class;
    // Always buffered, whatever the device's flags. The buffer starts zeroed so a driver
    // that fills only some fields does not leak stale memory to the caller.
    irp->AssociatedIrp.SystemBuffer = allocate_system_buffer(length);
    irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION;
    irp->UserBuffer = information;
    Request request;
    request.user_iosb = iosb;
    request.user_buffer_length = length;
    return send_request(top, irp, request);
}

}  // namespace iosim::io
