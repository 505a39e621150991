// mdl_api_test.cpp - the MDL routines against their documented behaviour: allocation and
// chaining, locking (frames referenced, access checked), system and user mappings of the
// same frames, partial MDLs, MDLs for non-paged pool, pages allocated for an MDL.
// Most tests call the routines directly in the app's context; some go through mdl_probe.sys
// so the calls come from a driver.
#include "ke/seh.h"
#include "mdl_test_support.h"

using namespace mdl_test;

namespace {

// MmProbeAndLockPages under a handler frame: the exception code, or STATUS_SUCCESS.
NTSTATUS TryLock(PMDL mdl, KPROCESSOR_MODE mode, LOCK_OPERATION operation)
{
    struct Args {
        PMDL mdl;
        KPROCESSOR_MODE mode;
        LOCK_OPERATION operation;
    } args{mdl, mode, operation};
    return seh::capture([](void* c) {
        auto* a = static_cast<Args*>(c);
        MmProbeAndLockPages(a->mdl, a->mode, a->operation);
    }, &args);
}

}  // namespace

TEST(MdlRoutines, IoAllocateMdlChainsOnTheIrpAsPrimaryOrSecondaryBuffer)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    IRP* irp = IoAllocateIrp(1, FALSE);
    PMDL first = IoAllocateMdl(buffer, 100, FALSE, FALSE, irp);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(irp->MdlAddress, first);
    PMDL second = IoAllocateMdl(buffer + 100, 100, TRUE, FALSE, irp);
    EXPECT_EQ(irp->MdlAddress, first) << "a secondary buffer goes to the end of the chain";
    EXPECT_EQ(first->Next, second);
    PMDL third = IoAllocateMdl(buffer + 200, 100, FALSE, FALSE, irp);
    EXPECT_EQ(irp->MdlAddress, third) << "SecondaryBuffer FALSE makes the new MDL Irp->MdlAddress";
    EXPECT_EQ(first->MdlFlags & MDL_ALLOCATED_FIXED_SIZE, MDL_ALLOCATED_FIXED_SIZE);
    EXPECT_EQ(rig.memory().classify(first).region, mm::Region::System) << "MDLs come from non-paged pool";
    irp->MdlAddress = nullptr;
    IoFreeMdl(first);
    IoFreeMdl(second);
    IoFreeMdl(third);
    IoFreeIrp(irp);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(MdlRoutines, IoAllocateMdlRefusesMoreThanFourGigabytesMinusAPage)
{
    MdlRig rig;
    EXPECT_EQ(IoAllocateMdl(rig.Pages(1), 0xFFFFF001u, FALSE, FALSE, nullptr), nullptr);
}

TEST(MdlRoutines, MmSizeOfMdlAndMmInitializeMdlCountThePagesSpanned)
{
    auto* base = reinterpret_cast<PVOID>(uintptr_t{0x7000} + 0xFFE);
    EXPECT_EQ(MmSizeOfMdl(base, 4), sizeof(MDL) + 2 * sizeof(PFN_NUMBER)) << "4 bytes across a page boundary";
    EXPECT_EQ(MmSizeOfMdl(base, 2), sizeof(MDL) + 1 * sizeof(PFN_NUMBER));
    alignas(8) unsigned char storage[sizeof(MDL) + 4 * sizeof(PFN_NUMBER)] = {};
    auto* mdl = reinterpret_cast<PMDL>(storage);
    MmInitializeMdl(mdl, base, 5000);
    EXPECT_EQ(MmGetMdlBaseVa(mdl), reinterpret_cast<PVOID>(0x7000));
    EXPECT_EQ(MmGetMdlByteOffset(mdl), 0xFFEu);
    EXPECT_EQ(MmGetMdlByteCount(mdl), 5000u);
    EXPECT_EQ(MmGetMdlVirtualAddress(mdl), base);
    EXPECT_EQ(static_cast<size_t>(mdl->Size), MmSizeOfMdl(base, 5000));
    EXPECT_EQ(MmGetMdlPfnArray(mdl), reinterpret_cast<PPFN_NUMBER>(mdl + 1));
}

TEST(MdlRoutines, LockingReferencesTheFramesSoTheyOutliveTheUserMapping)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        std::strcpy(buffer, "survivor");
        PMDL mdl = IoAllocateMdl(buffer, 4096, FALSE, FALSE, nullptr);
        ASSERT_EQ(TryLock(mdl, UserMode, IoModifyAccess), STATUS_SUCCESS);
        mm::Pfn frame = MmGetMdlPfnArray(mdl)[0];
        EXPECT_EQ(frame, rig.FrameOf(buffer));
        EXPECT_EQ(rig.memory().physical().refs(frame), 2u) << "the mapping and the lock";
        ASSERT_EQ(rig.app->memory->space->release(buffer), STATUS_SUCCESS);  // VirtualFree under the lock
        EXPECT_EQ(rig.memory().physical().refs(frame), 1u);
        auto* system = static_cast<char*>(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
        ASSERT_NE(system, nullptr);
        EXPECT_STREQ(system, "survivor") << "the locked frame still holds the data";
        MmUnlockPages(mdl);
        EXPECT_FALSE(rig.memory().physical().valid(frame)) << "the last reference went with the unlock";
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, ASystemMappingAliasesTheUserPages)
{
    MdlRig rig;
    char* buffer = rig.Pages(2) + 0x800;
    rig.In([&] {
        PMDL mdl = IoAllocateMdl(buffer, 0x1000, FALSE, FALSE, nullptr);
        ASSERT_EQ(TryLock(mdl, UserMode, IoWriteAccess), STATUS_SUCCESS);
        auto* system = static_cast<char*>(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
        ASSERT_NE(system, nullptr);
        EXPECT_NE(system, buffer);
        EXPECT_EQ(Addr(system) & 0xFFF, 0x800u) << "the system address keeps the byte offset";
        EXPECT_EQ(mdl->MappedSystemVa, system);
        EXPECT_NE(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
        EXPECT_EQ(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority), system) << "mapped once, then reused";
        std::strcpy(system + 0x7F0, "across the page");  // straddles the user pages' boundary
        EXPECT_STREQ(buffer + 0x7F0, "across the page");
        std::strcpy(buffer, "and back");
        EXPECT_STREQ(system, "and back");
        for (int i = 0; i < 2; ++i)
            EXPECT_EQ(MmGetMdlPfnArray(mdl)[i],
                      static_cast<PFN_NUMBER>(MmGetPhysicalAddress(buffer - 0x800 + i * 4096).QuadPart >> 12));
        MmUnlockPages(mdl);  // also releases the system mapping (documented)
        EXPECT_EQ(mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED), 0);
        EXPECT_FALSE(rig.memory().system_space().lookup(system).reserved);
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, MdlMappingNoWriteGivesAReadOnlySystemMapping)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        PMDL mdl = IoAllocateMdl(buffer, 64, FALSE, FALSE, nullptr);
        ASSERT_EQ(TryLock(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
        void* system = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoWrite);
        ASSERT_NE(system, nullptr);
        EXPECT_EQ(rig.memory().system_space().lookup(system).protect, static_cast<ULONG>(PAGE_READONLY));
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, ProbeForWriteAccessOnAReadOnlyPageRaisesAccessViolation)
{
    MdlRig rig;
    char* page = rig.Pages(1, PAGE_READONLY);
    rig.In([&] {
        PMDL mdl = IoAllocateMdl(page, 16, FALSE, FALSE, nullptr);
        EXPECT_EQ(TryLock(mdl, UserMode, IoWriteAccess), STATUS_ACCESS_VIOLATION);
        EXPECT_EQ(mdl->MdlFlags & MDL_PAGES_LOCKED, 0);
        EXPECT_EQ(TryLock(mdl, UserMode, IoModifyAccess), STATUS_ACCESS_VIOLATION) << "IoModifyAccess = IoWriteAccess";
        EXPECT_EQ(TryLock(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, UserModeProbeOfAKernelAddressRaisesButKernelModeLocksIt)
{
    MdlRig rig;
    auto* kernel = static_cast<char*>(rig.memory().system_space().allocate(1, "test page"));
    rig.In([&] {
        PMDL mdl = IoAllocateMdl(kernel, 32, FALSE, FALSE, nullptr);
        EXPECT_EQ(TryLock(mdl, UserMode, IoReadAccess), STATUS_ACCESS_VIOLATION);
        EXPECT_EQ(TryLock(mdl, KernelMode, IoReadAccess), STATUS_SUCCESS);
        EXPECT_EQ(MmGetMdlPfnArray(mdl)[0], *rig.memory().pfn_of(kernel));
        EXPECT_EQ(mdl->Process, nullptr) << "system memory belongs to no process";
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, UserModeProbeRaisesInsideTheDriversTry)
{
    MdlRig rig;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kBuffered);
        char input[8] = {};
        DWORD bytes = 0;
        // The driver locks its own SystemBuffer (system space) with AccessMode UserMode.
        EXPECT_FALSE(DeviceIoControl(h, IOCTL_MDL_PROBE_KERNEL, input, 8, nullptr, 0, &bytes, nullptr));
        EXPECT_EQ(rig.seen().Status, STATUS_ACCESS_VIOLATION);
        CloseHandle(h);
    });
}

TEST(MdlRoutines, UnattributedHostMemoryKeepsVirtualPageNumbersAndItsOwnAddress)
{
    MdlRig rig;
    alignas(4096) static char host[8192];  // not iosim's memory: a test's own buffer
    rig.In([&] {
        PMDL mdl = IoAllocateMdl(host + 10, 5000, FALSE, FALSE, nullptr);
        ASSERT_EQ(TryLock(mdl, KernelMode, IoWriteAccess), STATUS_SUCCESS);
        EXPECT_EQ(MmGetMdlPfnArray(mdl)[0], Addr(host) >> 12);
        EXPECT_EQ(MmGetMdlPfnArray(mdl)[1], (Addr(host) >> 12) + 1);
        EXPECT_EQ(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority), host + 10);
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, AnMdlForNonPagedPoolDescribesItsFramesAndIsItsOwnSystemAddress)
{
    MdlRig rig;
    auto* pool = static_cast<char*>(ExAllocatePoolWithTag(NonPagedPool, 6000, 'tsT1'));
    ASSERT_NE(pool, nullptr);
    PMDL mdl = IoAllocateMdl(pool, 6000, FALSE, FALSE, nullptr);
    MmBuildMdlForNonPagedPool(mdl);
    EXPECT_NE(mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, 0);
    EXPECT_EQ(mdl->MdlFlags & MDL_PAGES_LOCKED, 0) << "non-paged pool is not locked through the MDL";
    EXPECT_EQ(mdl->MappedSystemVa, pool);
    EXPECT_EQ(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority), pool);
    EXPECT_EQ(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0) << "nothing new was mapped";
    size_t pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(pool, 6000);
    for (size_t i = 0; i < pages; ++i)
        EXPECT_EQ(MmGetMdlPfnArray(mdl)[i],
                  *rig.memory().pfn_of(reinterpret_cast<void*>(mm::page_down(Addr(pool)) + i * 4096)));
    IoFreeMdl(mdl);
    ExFreePoolWithTag(pool, 'tsT1');
}

TEST(MdlRoutines, AUserModeMappingOfNonPagedPoolIsSeenAndWrittenByTheApp)
{
    MdlRig rig;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        MDL_SHARED_VIEW view{};
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_SHARE_POOL, nullptr, 0, &view, sizeof(view), &bytes, nullptr));
        ASSERT_EQ(view.Status, 0);
        ASSERT_NE(view.UserAddress, nullptr);
        auto* shared = static_cast<char*>(view.UserAddress);
        EXPECT_NE(view.UserAddress, view.PoolAddress);
        mm::AddressInfo where = rig.memory().classify(shared);
        EXPECT_EQ(where.region, mm::Region::User);
        EXPECT_EQ(where.owner, rig.app) << "mapped into the calling process";
        EXPECT_EQ(rig.memory().classify(view.PoolAddress).region, mm::Region::System);
        EXPECT_EQ(MmGetPhysicalAddress(shared).QuadPart, MmGetPhysicalAddress(view.PoolAddress).QuadPart)
            << "one frame, two addresses";
        EXPECT_STREQ(shared, "kernel buffer") << "the app reads what the driver put in its pool";
        std::strcpy(shared, "app wrote this");
        char back[16] = {};
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_READ_POOL, nullptr, 0, back, 16, &bytes, nullptr));
        EXPECT_STREQ(back, "app wrote this") << "and the driver sees what the app wrote";
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_UNSHARE_POOL, nullptr, 0, nullptr, 0, &bytes, nullptr));
        EXPECT_FALSE(rig.app->memory->space->lookup(shared).reserved) << "MmUnmapLockedPages removed the view";
        CloseHandle(h);
    });
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(MdlRoutines, AUserModeMappingFromASystemThreadRaises)
{
    MdlRig rig;
    auto* pool = static_cast<char*>(ExAllocatePoolWithTag(NonPagedPool, 4096, 'tsT2'));
    PMDL mdl = IoAllocateMdl(pool, 4096, FALSE, FALSE, nullptr);
    MmBuildMdlForNonPagedPool(mdl);
    ThreadSwitch in_system(rig.system().system_thread());  // no user space to map into
    struct Args {
        PMDL mdl;
    } args{mdl};
    NTSTATUS status = seh::capture([](void* c) {
        MmMapLockedPagesSpecifyCache(static_cast<Args*>(c)->mdl, UserMode, MmCached, nullptr, FALSE, NormalPagePriority);
    }, &args);
    EXPECT_FALSE(NT_SUCCESS(status)) << "UserMode mapping failures raise (callers use __try)";
    IoFreeMdl(mdl);
    ExFreePoolWithTag(pool, 'tsT2');
}

TEST(PartialMdl, DescribesPartOfTheSourceWithItsFramesAndMapsOnlyThat)
{
    MdlRig rig;
    char* output = rig.Pages(3) + 0x10;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        MDL_PARTIAL_REQUEST request{5000, 100, 0};
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_PARTIAL, &request, sizeof(request), output, 9000, &bytes, nullptr));
        const MDL_OBSERVATION& seen = rig.seen();
        EXPECT_EQ(seen.PartialVirtualAddress, output + 5000);
        EXPECT_EQ(seen.PartialByteCount, 100u);
        EXPECT_EQ(seen.PartialPfns[0], seen.Pfns[(0x10 + 5000) / 4096]) << "the source's frame for that page";
        EXPECT_NE(seen.PartialFlags & MDL_PARTIAL, 0);
        EXPECT_NE(seen.PartialFlagsMapped & MDL_PARTIAL_HAS_BEEN_MAPPED, 0) << "a mapping of its own";
        EXPECT_EQ(seen.SystemAddress, nullptr) << "the source was never mapped";
        EXPECT_EQ(std::memcmp(output + 5000, "partial", 7), 0) << "written through the partial MDL's mapping";
        CloseHandle(h);
    });
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(PartialMdl, OfAMappedSourceUsesTheSourcesMapping)
{
    MdlRig rig;
    char* output = rig.Pages(3);
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        MDL_PARTIAL_REQUEST request{5000, 0, 1};  // length 0: the rest of the source
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_PARTIAL, &request, sizeof(request), output, 9000, &bytes, nullptr));
        const MDL_OBSERVATION& seen = rig.seen();
        EXPECT_EQ(seen.PartialByteCount, 4000u) << "Length 0 is the rest of the source's buffer";
        ASSERT_NE(seen.SystemAddress, nullptr);
        EXPECT_EQ(seen.PartialSystemAddress, static_cast<char*>(seen.SystemAddress) + 5000);
        EXPECT_NE(seen.PartialFlags & MDL_PARENT_MAPPED_SYSTEM_VA, 0);
        EXPECT_EQ(std::memcmp(output + 5000, "partial", 7), 0);
        CloseHandle(h);
    });
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(PartialMdl, ARangeOutsideTheSourceBugChecksInvalidMdlRange)
{
    MdlRig rig;
    char* output = rig.Pages(1);
    try {
        rig.In([&] {
            HANDLE h = MdlRig::Open(kDirect);
            MDL_PARTIAL_REQUEST request{0, 0, 0};
            DWORD bytes = 0;
            DeviceIoControl(h, IOCTL_MDL_BAD_PARTIAL, &request, sizeof(request), output, 100, &bytes, nullptr);
        });
        FAIL() << "no bug check";
    } catch (const BugCheck& stop) {
        rig.ended = true;
        EXPECT_EQ(stop.info().code, 0x12Eu);
        EXPECT_EQ(stop.info().name, "INVALID_MDL_RANGE");
        EXPECT_NE(stop.info().location.find("mdl_probe.c:" + std::to_string(SourceLine("MARK: partial out of range"))),
                  std::string::npos)
            << stop.info().report;
    }
}

TEST(PagesForMdl, GivesUnmappedFramesThatTheDriverMapsUsesAndFrees)
{
    MdlRig rig;
    rig.In([&] {
        HANDLE h = MdlRig::Open(kDirect);
        ULONG bytes_wanted = 3 * 4096;
        DWORD bytes = 0;
        ASSERT_TRUE(DeviceIoControl(h, IOCTL_MDL_PAGES, &bytes_wanted, sizeof(bytes_wanted), nullptr, 0, &bytes, nullptr));
        CloseHandle(h);
    });
    const MDL_OBSERVATION& seen = rig.seen();
    EXPECT_EQ(seen.PagesStartVa, nullptr) << "no virtual address until mapped";
    EXPECT_EQ(seen.PagesByteCount, 3u * 4096);
    EXPECT_EQ(seen.PagesCount, 3u);
    EXPECT_EQ(rig.memory().classify(seen.SystemAddress).region, mm::Region::System);
    EXPECT_TRUE(seen.PagesReadBack);
    for (ULONG i = 0; i < 3; ++i)
        EXPECT_FALSE(rig.memory().physical().valid(seen.Pfns[i])) << "MmFreePagesFromMdl gave frame " << i << " back";
    EXPECT_EQ(rig.machine.unload_driver("mdl_probe"), STATUS_SUCCESS);
    EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
}

TEST(PagesForMdl, FramesOutsideThePhysicalRangeAreNotUsed)
{
    MdlRig rig;
    PHYSICAL_ADDRESS low{}, high{}, skip{};
    high.QuadPart = 0xFFFFFF;  // below 16 MiB, where iosim's physical memory starts
    EXPECT_EQ(MmAllocatePagesForMdl(low, high, skip, 4096), nullptr);
    high.QuadPart = -1;
    PMDL mdl = MmAllocatePagesForMdlEx(low, high, skip, 4096, MmCached, MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS);
    EXPECT_EQ(mdl, nullptr) << "iosim's frames are scattered on purpose: contiguous chunks are refused";
    mdl = MmAllocatePagesForMdl(low, high, skip, 100);
    ASSERT_NE(mdl, nullptr);
    EXPECT_EQ(MmGetMdlByteCount(mdl), 100u);
    EXPECT_TRUE(rig.memory().physical().valid(MmGetMdlPfnArray(mdl)[0]));
    MmFreePagesFromMdl(mdl);
    ExFreePool(mdl);
}

TEST(PartialMdl, MmPrepareMdlForReuseReleasesItsMappingAndRebuildingWithoutItIsReported)
{
    MdlRig rig;
    char* buffer = rig.Pages(2);
    rig.In([&] {
        PMDL source = IoAllocateMdl(buffer, 8192, FALSE, FALSE, nullptr);
        ASSERT_EQ(TryLock(source, UserMode, IoWriteAccess), STATUS_SUCCESS);
        PMDL partial = IoAllocateMdl(buffer, 8192, FALSE, FALSE, nullptr);
        IoBuildPartialMdl(source, partial, buffer + 4096, 100);
        void* first = MmGetSystemAddressForMdlSafe(partial, NormalPagePriority);
        ASSERT_NE(first, nullptr);
        EXPECT_NE(partial->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED, 0);
        MmPrepareMdlForReuse(partial);
        EXPECT_EQ(partial->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED), 0);
        EXPECT_FALSE(rig.memory().system_space().lookup(first).reserved) << "the partial MDL's mapping is gone";
        EXPECT_TRUE(rig.system().findings().empty()) << rig.FindingsDump();
        IoBuildPartialMdl(source, partial, buffer, 10);
        ASSERT_NE(MmGetSystemAddressForMdlSafe(partial, NormalPagePriority), nullptr);
        IoBuildPartialMdl(source, partial, buffer + 20, 10);  // no MmPrepareMdlForReuse: that mapping leaks
        EXPECT_NE(rig.FindingOf("PARTIAL_MDL_MAPPING_LEAKED"), nullptr) << rig.FindingsDump();
        IoFreeMdl(partial);
        MmUnlockPages(source);
        IoFreeMdl(source);
    });
}

TEST(MdlRoutines, ASecondSystemMappingOfOneMdlIsReportedAndTheFirstReturned)
{
    MdlRig rig;
    char* buffer = rig.Pages(1);
    rig.In([&] {
        PMDL mdl = IoAllocateMdl(buffer, 64, FALSE, FALSE, nullptr);
        ASSERT_EQ(TryLock(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
        void* first = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, nullptr, FALSE, NormalPagePriority);
        ASSERT_NE(first, nullptr);
        EXPECT_EQ(MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, nullptr, FALSE, NormalPagePriority), first);
        EXPECT_NE(rig.FindingOf("MDL_MAPPED_TWICE"), nullptr) << rig.FindingsDump();
        MmUnmapLockedPages(first, mdl);
        EXPECT_EQ(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    });
}

TEST(MdlRoutines, AUserMappingIsMadeAtTheRequestedAddressAndRemovedOnlyInItsProcess)
{
    MdlRig rig;
    Process* other = rig.machine.create_process("other.exe");
    auto* pool = static_cast<char*>(ExAllocatePoolWithTag(NonPagedPool, 4096, 'tsT3'));
    std::strcpy(pool + 16, "shared");
    PMDL mdl = IoAllocateMdl(pool, 4096, FALSE, FALSE, nullptr);
    MmBuildMdlForNonPagedPool(mdl);
    auto* wanted = static_cast<char*>(rig.app->memory->space->reserve(1, "probe"));  // a free spot, then freed
    rig.app->memory->space->release(wanted);
    char* view = rig.In([&] {
        return static_cast<char*>(
            MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, wanted, FALSE, NormalPagePriority));
    });
    EXPECT_EQ(view, wanted);
    rig.In([&] { EXPECT_STREQ(view + 16, "shared"); });
    {
        ThreadSwitch in_other(rig.machine.system().main_thread(other));
        MmUnmapLockedPages(view, mdl);  // the wrong context
    }
    EXPECT_NE(rig.FindingOf("MDL_UNMAP_WRONG_PROCESS"), nullptr) << rig.FindingsDump();
    EXPECT_TRUE(rig.app->memory->space->lookup(view).reserved) << "still mapped in its process";
    rig.In([&] { MmUnmapLockedPages(view, mdl); });
    EXPECT_FALSE(rig.app->memory->space->lookup(view).reserved);
    IoFreeMdl(mdl);
    ExFreePoolWithTag(pool, 'tsT3');
    rig.machine.end_process(other);
}
