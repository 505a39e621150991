/*
 * mdl_probe_ioctl.h - what tests/mdl and its driver (mdl_probe.sys) share: device names,
 * control codes, and the record of what the driver saw in its last request.
 *
 * The driver fills MdlObservation (an exported global the tests read through the module's
 * symbol table) at the start of every request, so a test can compare what the driver saw
 * (Irp->MdlAddress, the MDL's addresses, PFNs, the SystemBuffer, UserBuffer,
 * Type3InputBuffer) with what the app passed. Every code works on each of the three
 * devices: \Device\MdlDirect (DO_DIRECT_IO), \Device\MdlBuffered (DO_BUFFERED_IO) and
 * \Device\MdlNeither (neither flag); reads and writes follow the device's flag.
 */
#ifndef MDL_PROBE_IOCTL_H
#define MDL_PROBE_IOCTL_H

#define MDL_PROBE_TYPE 0x8000
#define MDL_CODE(function, method) CTL_CODE(MDL_PROBE_TYPE, (function), (method), FILE_ANY_ACCESS)

/* The four transfer methods: see mdl_probe.c for what each does with the buffers. */
#define IOCTL_MDL_BUFFERED MDL_CODE(0x800, METHOD_BUFFERED)    /* echo: output = input */
#define IOCTL_MDL_IN_DIRECT MDL_CODE(0x801, METHOD_IN_DIRECT)  /* reads the MDL's bytes */
#define IOCTL_MDL_OUT_DIRECT MDL_CODE(0x802, METHOD_OUT_DIRECT) /* fills the MDL with "OUT_DIRECT" */
#define IOCTL_MDL_NEITHER MDL_CODE(0x803, METHOD_NEITHER)      /* probes both, copies input to output */

/* A page of non-paged pool mapped into the calling process (MmMapLockedPagesSpecifyCache,
 * UserMode). Output: MDL_SHARED_VIEW. */
#define IOCTL_MDL_SHARE_POOL MDL_CODE(0x810, METHOD_BUFFERED)
#define IOCTL_MDL_READ_POOL MDL_CODE(0x811, METHOD_BUFFERED)   /* output: the pool page's first bytes */
#define IOCTL_MDL_UNSHARE_POOL MDL_CODE(0x812, METHOD_BUFFERED)

/* A partial MDL of the OUT_DIRECT buffer: input MDL_PARTIAL_REQUEST; writes "partial" at
 * its system address. */
#define IOCTL_MDL_PARTIAL MDL_CODE(0x820, METHOD_OUT_DIRECT)
/* MmAllocatePagesForMdlEx of the input ULONG bytes, mapped, written, read back, freed. */
#define IOCTL_MDL_PAGES MDL_CODE(0x821, METHOD_BUFFERED)

/* Driver mistakes. */
#define IOCTL_MDL_KEEP_LOCKED MDL_CODE(0x830, METHOD_NEITHER)     /* locks the output buffer, keeps it */
#define IOCTL_MDL_RELEASE_KEPT MDL_CODE(0x831, METHOD_BUFFERED)   /* unlocks and frees it */
#define IOCTL_MDL_UNLOCK_TWICE MDL_CODE(0x832, METHOD_NEITHER)    /* MmUnlockPages twice: 0x76 */
#define IOCTL_MDL_LEAK MDL_CODE(0x833, METHOD_BUFFERED)           /* IoAllocateMdl, never freed */
#define IOCTL_MDL_MAP_TO_USER_AND_LEAVE MDL_CODE(0x834, METHOD_OUT_DIRECT) /* maps Irp->MdlAddress into the app, completes */
#define IOCTL_MDL_REPLACE MDL_CODE(0x835, METHOD_OUT_DIRECT)      /* IoAllocateMdl(..., FALSE, FALSE, Irp) */
#define IOCTL_MDL_SECONDARY MDL_CODE(0x836, METHOD_OUT_DIRECT)    /* IoAllocateMdl(..., TRUE, FALSE, Irp) */
#define IOCTL_MDL_BAD_PARTIAL MDL_CODE(0x837, METHOD_OUT_DIRECT)  /* partial range outside the source: 0x12E */
#define IOCTL_MDL_PROBE_KERNEL MDL_CODE(0x838, METHOD_BUFFERED)   /* MmProbeAndLockPages(UserMode) of pool */

typedef struct _MDL_SHARED_VIEW {
    PVOID UserAddress;   /* where the app sees the pool page */
    PVOID PoolAddress;   /* the pool page's system address */
    LONG Status;         /* the exception code if the mapping raised, else 0 */
    ULONG Reserved;
} MDL_SHARED_VIEW;

typedef struct _MDL_PARTIAL_REQUEST {
    ULONG Offset;        /* from the start of the OUT_DIRECT buffer */
    ULONG Length;        /* 0: the rest of the buffer */
    ULONG MapParentFirst;
} MDL_PARTIAL_REQUEST;

#define MDL_OBSERVED_PFNS 8

typedef struct _MDL_OBSERVATION {
    ULONG Requests;          /* requests seen since load (not reset) */
    ULONG Major;
    ULONG IoControlCode;
    ULONG Length;            /* Read/Write.Length */
    ULONG InputLength;
    ULONG OutputLength;
    PVOID SystemBuffer;
    PVOID UserBuffer;
    PVOID Type3InputBuffer;
    PVOID MdlAddress;
    PVOID MdlVirtualAddress;
    ULONG MdlByteCount;
    ULONG MdlByteOffset;
    USHORT MdlFlags;         /* as the I/O manager handed it over */
    USHORT MdlFlagsMapped;   /* after MmGetSystemAddressForMdlSafe */
    PVOID MdlProcess;
    PVOID SystemAddress;     /* MmGetSystemAddressForMdlSafe */
    ULONG PfnCount;
    ULONG_PTR Pfns[MDL_OBSERVED_PFNS];
    UCHAR Data[16];          /* first bytes the driver read (input, or the MDL's buffer) */
    LONG Status;             /* what the driver completed with */
    /* IOCTL_MDL_PARTIAL / IOCTL_MDL_PAGES */
    PVOID PartialVirtualAddress;
    ULONG PartialByteCount;
    USHORT PartialFlags;
    USHORT PartialFlagsMapped;
    PVOID PartialSystemAddress;
    ULONG_PTR PartialPfns[MDL_OBSERVED_PFNS];
    PVOID PagesStartVa;
    ULONG PagesByteCount;
    ULONG PagesCount;
    BOOLEAN PagesReadBack;   /* the pattern written through the mapping read back */
    PVOID UserView;          /* IOCTL_MDL_MAP_TO_USER_AND_LEAVE */
} MDL_OBSERVATION;

#endif /* MDL_PROBE_IOCTL_H */
