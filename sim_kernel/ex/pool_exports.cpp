// pool_exports.cpp - the ExAllocatePool* / ExFreePool* routines drivers call.
//
// Each routine records the driver's return address, so the block is charged to the
// driver's source line. What the variants differ in, as documented:
//  - zeroing: ExAllocatePool2/3, the *Zero variants and POOL_ZERO_ALLOCATION zero the
//    block; ExAllocatePoolWithTag and the *Uninitialized variants do not;
//  - failure: NULL, except that POOL_RAISE_IF_ALLOCATION_FAILURE (pool types) and
//    POOL_FLAG_RAISE_ON_FAILURE (pool flags) raise STATUS_INSUFFICIENT_RESOURCES, and the
//    quota routines (ExAllocatePoolWithQuota*, ExAllocatePoolQuota*) raise unless the
//    type has POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
//  - ExAllocatePool2/3 need a non-zero tag, exactly one pool kind and only known required
//    flags (the low 32 bits), else they fail; unknown optional flags are ignored.
// iosim has no pool quotas and never runs low on pool: quota is accepted and not charged,
// priorities are accepted, and allocations fail only when a pool range is exhausted.
// The must-succeed pool types are BAD_POOL_CALLER 0x9A, as documented.
// NT counterparts: ExAllocatePoolWithTag, ExAllocatePool2, ExAllocatePool3, ExFreePool2.
#include "ex/pool.h"
#include "ke/bugcheck.h"
#include "ke/seh.h"
#include "system.h"
#include "wdm_impl.h"

using iosim::System;

namespace {

constexpr ULONG kTagNone = 0x656E6F4E;  // 'None': the implicit tag of the untagged routines
constexpr ULONG_PTR kMustSucceed = 0x9A;  // BAD_POOL_CALLER parameter 1

enum class OnFailure { ReturnNull, Raise };

struct TypeBits {
    bool paged;
    bool cache_aligned;
    bool raise;        // POOL_RAISE_IF_ALLOCATION_FAILURE
    bool quota_null;   // POOL_QUOTA_FAIL_INSTEAD_OF_RAISE
    bool zero;         // POOL_ZERO_ALLOCATION
};

TypeBits decode(POOL_TYPE type, SIZE_T bytes, ULONG tag, const void* caller)
{
    auto bits = static_cast<ULONG>(type);
    ULONG base = bits & 7;
    if (base == NonPagedPoolMustSucceed || base == NonPagedPoolCacheAlignedMustS)
        iosim::bugcheck(BAD_POOL_CALLER, kMustSucceed, bits, bytes, tag, caller, nullptr,
                        "The driver asked for must-succeed pool (NonPagedPoolMustSucceed), a pool type Windows no "
                        "longer supports: allocate ordinary pool and handle a NULL result.");
    return TypeBits{(base & 1) != 0, (base & 4) != 0, (bits & POOL_RAISE_IF_ALLOCATION_FAILURE) != 0,
                    (bits & POOL_QUOTA_FAIL_INSTEAD_OF_RAISE) != 0, (bits & POOL_ZERO_ALLOCATION) != 0};
}

void* allocate(const iosim::ex::PoolRequest& request, OnFailure on_failure)
{
    void* block = nullptr;
    if (System* sys = System::current())
        block = sys->pool().allocate(request);
    if (block == nullptr && on_failure == OnFailure::Raise)
        iosim::seh::raise(STATUS_INSUFFICIENT_RESOURCES, request.caller);
    return block;
}

// The POOL_TYPE routines. `quota`: the routine charges quota, so it raises by default.
void* allocate_typed(POOL_TYPE type, SIZE_T bytes, ULONG tag, bool zero, bool quota, const void* caller)
{
    TypeBits bits = decode(type, bytes, tag, caller);
    bool raise = bits.raise || (quota && !bits.quota_null);
    return allocate({bits.paged, bytes, tag, caller, zero || bits.zero, bits.cache_aligned},
                    raise ? OnFailure::Raise : OnFailure::ReturnNull);
}

bool valid_priority(ULONG priority)
{
    switch (priority) {
    case LowPoolPriority:
    case LowPoolPrioritySpecialPoolOverrun:
    case LowPoolPrioritySpecialPoolUnderrun:
    case NormalPoolPriority:
    case NormalPoolPrioritySpecialPoolOverrun:
    case NormalPoolPrioritySpecialPoolUnderrun:
    case HighPoolPriority:
    case HighPoolPrioritySpecialPoolOverrun:
    case HighPoolPrioritySpecialPoolUnderrun:
        return true;
    default:
        return false;
    }
}

// ExAllocatePool3's extended parameters: a priority and a NUMA node are understood (one
// node, any priority met); secure pool is not. An unknown or unsupported parameter fails
// the allocation unless it is marked optional.
bool extended_parameters_ok(PCPOOL_EXTENDED_PARAMETER parameters, ULONG count)
{
    if (count != 0 && parameters == nullptr)
        return false;
    for (ULONG i = 0; i < count; ++i) {
        const POOL_EXTENDED_PARAMETER& p = parameters[i];
        bool optional = p.Optional != 0;
        switch (p.Type) {
        case PoolExtendedParameterPriority:
            if (!valid_priority(static_cast<ULONG>(p.Priority)) && !optional)
                return false;
            break;
        case PoolExtendedParameterNumaNode:
            break;
        default:  // PoolExtendedParameterSecurePool, invalid types
            if (!optional)
                return false;
            break;
        }
    }
    return true;
}

// The POOL_FLAGS routines.
void* allocate_flagged(POOL_FLAGS flags, SIZE_T bytes, ULONG tag, PCPOOL_EXTENDED_PARAMETER parameters, ULONG count,
                       const void* caller)
{
    constexpr POOL_FLAGS kKnownRequired = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_SESSION |
                                          POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RESERVED1 | POOL_FLAG_RAISE_ON_FAILURE |
                                          POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    OnFailure on_failure = (flags & POOL_FLAG_RAISE_ON_FAILURE) != 0 ? OnFailure::Raise : OnFailure::ReturnNull;
    const POOL_FLAGS kind = flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    bool valid = (flags & 0xFFFFFFFFULL & ~kKnownRequired) == 0 && tag != 0 && kind != 0 && (kind & (kind - 1)) == 0 &&
                 extended_parameters_ok(parameters, count);
    if (!valid) {
        if (on_failure == OnFailure::Raise)
            iosim::seh::raise(STATUS_INSUFFICIENT_RESOURCES, caller);
        return nullptr;
    }
    return allocate({kind == POOL_FLAG_PAGED, bytes, tag, caller, (flags & POOL_FLAG_UNINITIALIZED) == 0,
                     (flags & POOL_FLAG_CACHE_ALIGNED) != 0},
                    on_failure);
}

void pool_free(void* p, ULONG tag, bool check_tag, const void* caller)
{
    if (System* sys = System::current())
        sys->pool().free(p, tag, check_tag, caller);
}

}  // namespace

#define IOSIM_CALLER __builtin_return_address(0)

extern "C" {

PVOID ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return allocate_typed(PoolType, NumberOfBytes, kTagNone, false, false, IOSIM_CALLER);
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, false, false, IOSIM_CALLER);
}

PVOID ExAllocatePoolWithTagPriority(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, EX_POOL_PRIORITY Priority)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, false, false, IOSIM_CALLER);
}

PVOID ExAllocatePoolWithQuota(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return allocate_typed(PoolType, NumberOfBytes, kTagNone, false, true, IOSIM_CALLER);
}

PVOID ExAllocatePoolWithQuotaTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, false, true, IOSIM_CALLER);
}

PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, true, false, IOSIM_CALLER);
}

PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, false, false, IOSIM_CALLER);
}

PVOID ExAllocatePoolQuotaZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, true, true, IOSIM_CALLER);
}

PVOID ExAllocatePoolQuotaUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, false, true, IOSIM_CALLER);
}

PVOID ExAllocatePoolPriorityZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, EX_POOL_PRIORITY Priority)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, true, false, IOSIM_CALLER);
}

PVOID ExAllocatePoolPriorityUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                          EX_POOL_PRIORITY Priority)
{
    return allocate_typed(PoolType, NumberOfBytes, Tag, false, false, IOSIM_CALLER);
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return allocate_flagged(Flags, NumberOfBytes, Tag, nullptr, 0, IOSIM_CALLER);
}

PVOID ExAllocatePool3(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
                      ULONG ExtendedParametersCount)
{
    return allocate_flagged(Flags, NumberOfBytes, Tag, ExtendedParameters, ExtendedParametersCount, IOSIM_CALLER);
}

void ExFreePool(PVOID P) { pool_free(P, 0, false, IOSIM_CALLER); }

void ExFreePoolWithTag(PVOID P, ULONG Tag) { pool_free(P, Tag, Tag != 0, IOSIM_CALLER); }

// Its extended parameters describe secure pool, which iosim does not have: an ordinary
// block is freed as ExFreePoolWithTag frees it.
void ExFreePool2(PVOID P, ULONG Tag, PCPOOL_EXTENDED_PARAMETER ExtendedParameters, ULONG ExtendedParametersCount)
{
    pool_free(P, Tag, Tag != 0, IOSIM_CALLER);
}

}  // extern "C"
