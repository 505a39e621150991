/*
 * km_mm.h - iosim shim (kernel): memory descriptor lists and the memory manager.
 *
 * An MDL describes a buffer by its starting page (StartVa), the offset into that page
 * (ByteOffset) and its length (ByteCount); the physical page numbers follow the header.
 * The accessor macros are the WDK's own arithmetic.
 */
#ifndef IOSIM_KM_MM_H
#define IOSIM_KM_MM_H

#include "ntdef.h"

IOSIM_BEGIN_DECLS

#include "iosim_pageprot.h"

#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12L
#define BYTE_OFFSET(Va) ((ULONG)((LONG_PTR)(Va) & (PAGE_SIZE - 1)))
#define PAGE_ALIGN(Va) ((PVOID)((ULONG_PTR)(Va) & ~(PAGE_SIZE - 1)))
#define ROUND_TO_PAGES(Size) (((ULONG_PTR)(Size) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define BYTES_TO_PAGES(Size) (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size) \
    ((BYTE_OFFSET(Va) + ((SIZE_T)(Size)) + (PAGE_SIZE - 1)) >> PAGE_SHIFT)
#define COMPUTE_PAGES_SPANNED(Va, Size) ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size)

typedef ULONG PFN_COUNT;
typedef ULONG_PTR PFN_NUMBER, *PPFN_NUMBER;

typedef struct _MDL {
    struct _MDL *Next;
    CSHORT Size;
    CSHORT MdlFlags;
    struct _KPROCESS *Process;
    PVOID MappedSystemVa;
    PVOID StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
} MDL, *PMDL;
typedef MDL *PMDLX;

#define MDL_MAPPED_TO_SYSTEM_VA 0x0001
#define MDL_PAGES_LOCKED 0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL 0x0004
#define MDL_ALLOCATED_FIXED_SIZE 0x0008
#define MDL_PARTIAL 0x0010
#define MDL_PARTIAL_HAS_BEEN_MAPPED 0x0020
#define MDL_IO_PAGE_READ 0x0040
#define MDL_WRITE_OPERATION 0x0080
#define MDL_LOCKED_PAGE_TABLES 0x0100
#define MDL_PARENT_MAPPED_SYSTEM_VA MDL_LOCKED_PAGE_TABLES
#define MDL_FREE_EXTRA_PTES 0x0200
#define MDL_DESCRIBES_AWE 0x0400
#define MDL_IO_SPACE 0x0800
#define MDL_NETWORK_HEADER 0x1000
#define MDL_MAPPING_CAN_FAIL 0x2000
#define MDL_PAGE_CONTENTS_INVARIANT 0x4000
#define MDL_ALLOCATED_MUST_SUCCEED MDL_PAGE_CONTENTS_INVARIANT
#define MDL_INTERNAL 0x8000
#define MDL_MAPPING_FLAGS \
    (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL_HAS_BEEN_MAPPED | \
     MDL_PARENT_MAPPED_SYSTEM_VA | MDL_IO_SPACE)

#define MmGetMdlPfnArray(Mdl) ((PPFN_NUMBER)((Mdl) + 1))
#define MmGetMdlVirtualAddress(Mdl) ((PVOID)((PCHAR)((Mdl)->StartVa) + (Mdl)->ByteOffset))
#define MmGetMdlByteCount(Mdl) ((Mdl)->ByteCount)
#define MmGetMdlByteOffset(Mdl) ((Mdl)->ByteOffset)
#define MmGetMdlBaseVa(Mdl) ((Mdl)->StartVa)
#define MmInitializeMdl(MemoryDescriptorList, BaseVa, Length)                                          \
    do {                                                                                               \
        (MemoryDescriptorList)->Next = (PMDL)NULL;                                                     \
        (MemoryDescriptorList)->Size =                                                                 \
            (CSHORT)(sizeof(MDL) + (sizeof(PFN_NUMBER) * ADDRESS_AND_SIZE_TO_SPAN_PAGES((BaseVa), (Length)))); \
        (MemoryDescriptorList)->MdlFlags = 0;                                                          \
        (MemoryDescriptorList)->StartVa = (PVOID)PAGE_ALIGN((BaseVa));                                 \
        (MemoryDescriptorList)->ByteOffset = BYTE_OFFSET((BaseVa));                                    \
        (MemoryDescriptorList)->ByteCount = (ULONG)(Length);                                           \
    } while (0)
#define MmPrepareMdlForReuse(Mdl)                                         \
    do {                                                                  \
        if (((Mdl)->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED) != 0) {       \
            MmUnmapLockedPages((Mdl)->MappedSystemVa, (Mdl));             \
        } else if (((Mdl)->MdlFlags & MDL_PARTIAL) == 0) {                \
            (Mdl)->MdlFlags &= ~MDL_MAPPED_TO_SYSTEM_VA;                  \
        }                                                                 \
    } while (0)

typedef enum _LOCK_OPERATION { IoReadAccess, IoWriteAccess, IoModifyAccess } LOCK_OPERATION;
typedef enum _MEMORY_CACHING_TYPE {
    MmNonCached = 0,
    MmCached = 1,
    MmWriteCombined = 2,
    MmHardwareCoherentCached,
    MmNonCachedUnordered,
    MmUSWCCached,
    MmMaximumCacheType,
    MmNotMapped = -1
} MEMORY_CACHING_TYPE;
typedef enum _MM_PAGE_PRIORITY { LowPagePriority, NormalPagePriority = 16, HighPagePriority = 32 } MM_PAGE_PRIORITY;
#define MdlMappingNoWrite 0x80000000
#define MdlMappingNoExecute 0x40000000

void MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode, LOCK_OPERATION Operation);
void MmUnlockPages(PMDL MemoryDescriptorList);
void MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList);
PVOID MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode, MEMORY_CACHING_TYPE CacheType,
                                   PVOID RequestedAddress, ULONG BugCheckOnFailure, ULONG Priority);
PVOID MmMapLockedPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode);
void MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList);
/* As in the WDK: an MDL already mapped (or describing non-paged pool, which is mapped by
 * nature) answers with MappedSystemVa; otherwise the pages are mapped now. */
#define MmGetSystemAddressForMdlSafe(MDL, PRIORITY)                                    \
    (((MDL)->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))        \
         ? ((MDL)->MappedSystemVa)                                                      \
         : (MmMapLockedPagesSpecifyCache((MDL), KernelMode, MmCached, NULL, FALSE, (ULONG)(PRIORITY))))
#define MmGetSystemAddressForMdl(MDL)                                                  \
    (((MDL)->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))        \
         ? ((MDL)->MappedSystemVa)                                                      \
         : (MmMapLockedPages((MDL), KernelMode)))
SIZE_T MmSizeOfMdl(PVOID Base, SIZE_T Length);
PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress);
BOOLEAN MmIsAddressValid(PVOID VirtualAddress);
PMDL MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress, PHYSICAL_ADDRESS HighAddress, PHYSICAL_ADDRESS SkipBytes,
                           SIZE_T TotalBytes);
PMDL MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress, PHYSICAL_ADDRESS HighAddress, PHYSICAL_ADDRESS SkipBytes,
                             SIZE_T TotalBytes, MEMORY_CACHING_TYPE CacheType, ULONG Flags);
void MmFreePagesFromMdl(PMDL MemoryDescriptorList);
/* MmAllocatePagesForMdlEx Flags. */
#define MM_DONT_ZERO_ALLOCATION 0x00000001
#define MM_ALLOCATE_FROM_LOCAL_NODE_ONLY 0x00000002
#define MM_ALLOCATE_FULLY_REQUIRED 0x00000004
#define MM_ALLOCATE_NO_WAIT 0x00000008
#define MM_ALLOCATE_PREFER_CONTIGUOUS 0x00000010
#define MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS 0x00000020
#define MM_ALLOCATE_FAST_LARGE_PAGES 0x00000040
PVOID MmAllocateContiguousMemory(SIZE_T NumberOfBytes, PHYSICAL_ADDRESS HighestAcceptableAddress);
void MmFreeContiguousMemory(PVOID BaseAddress);
PVOID MmGetSystemRoutineAddress(PUNICODE_STRING SystemRoutineName);
#define MmGetProcedureAddress(Address) (Address)

/* Probing user buffers (raise STATUS_ACCESS_VIOLATION / STATUS_DATATYPE_MISALIGNMENT). */
void ProbeForRead(const volatile void *Address, SIZE_T Length, ULONG Alignment);
void ProbeForWrite(volatile void *Address, SIZE_T Length, ULONG Alignment);

IOSIM_END_DECLS

#endif /* IOSIM_KM_MM_H */
