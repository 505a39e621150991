// mdl.cpp - MDL allocation, probing and mapping.
// NT counterparts: IoAllocateMdl, IoFreeMdl, MmProbeAndLockPages, MmUnlockPages,
// MmBuildMdlForNonPagedPool, MmGetSystemAddressForMdlSafe.
#include "mdl.h"

#include <cstdlib>

namespace iosim::io {

NTSTATUS attach_user_mdl(IRP* irp, void* buffer, ULONG length, LOCK_OPERATION operation, KPROCESSOR_MODE mode)
{
    if (buffer == nullptr)
        return STATUS_ACCESS_VIOLATION;
    PMDL mdl = IoAllocateMdl(buffer, length, FALSE, FALSE, irp);
    if (mdl == nullptr)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmProbeAndLockPages(mdl, mode, operation);
    return STATUS_SUCCESS;
}

void release_irp_mdls(IRP* irp)
{
    PMDL mdl = irp->MdlAddress;
    while (mdl != nullptr) {
        PMDL next = mdl->Next;
        if (mdl->MdlFlags & MDL_PAGES_LOCKED)
            MmUnlockPages(mdl);
        IoFreeMdl(mdl);
        mdl = next;
    }
    irp->MdlAddress = nullptr;
}

}  // namespace iosim::io

extern "C" {

PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp)
{
    SIZE_T size = MmSizeOfMdl(VirtualAddress, Length);
    auto* mdl = static_cast<PMDL>(std::calloc(1, size));
    if (mdl == nullptr)
        return nullptr;
    MmInitializeMdl(mdl, VirtualAddress, Length);
    mdl->MdlFlags |= MDL_ALLOCATED_FIXED_SIZE;
    if (Irp != nullptr) {
        if (!SecondaryBuffer || Irp->MdlAddress == nullptr) {
            Irp->MdlAddress = mdl;
        } else {
            PMDL tail = Irp->MdlAddress;
            while (tail->Next != nullptr)
                tail = tail->Next;
            tail->Next = mdl;
        }
    }
    return mdl;
}

void IoFreeMdl(PMDL Mdl) { std::free(Mdl); }

void MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode, LOCK_OPERATION Operation)
{
    PMDL mdl = MemoryDescriptorList;
    PPFN_NUMBER pfns = MmGetMdlPfnArray(mdl);
    auto start = reinterpret_cast<ULONG_PTR>(mdl->StartVa);
    SIZE_T pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
    for (SIZE_T i = 0; i < pages; ++i)
        pfns[i] = (start >> PAGE_SHIFT) + i;
    mdl->MdlFlags |= MDL_PAGES_LOCKED;
    if (Operation != IoReadAccess)
        mdl->MdlFlags |= MDL_WRITE_OPERATION;
}

void MmUnlockPages(PMDL MemoryDescriptorList)
{
    MemoryDescriptorList->MdlFlags &= ~(MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA | MDL_WRITE_OPERATION);
    MemoryDescriptorList->MappedSystemVa = nullptr;
}

void MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
    MmProbeAndLockPages(MemoryDescriptorList, KernelMode, IoModifyAccess);
    MemoryDescriptorList->MdlFlags &= ~MDL_PAGES_LOCKED;
    MemoryDescriptorList->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
    MemoryDescriptorList->MappedSystemVa = MmGetMdlVirtualAddress(MemoryDescriptorList);
}

PVOID MmGetSystemAddressForMdlSafe_iosim(PMDL Mdl, ULONG Priority)
{
    if (Mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
        return Mdl->MappedSystemVa;
    Mdl->MappedSystemVa = MmGetMdlVirtualAddress(Mdl);
    Mdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
    return Mdl->MappedSystemVa;
}

}  // extern "C"
