// physical_memory.cpp - page frames in a memfd, scrambled allocation order, reference counts.
#include "mm/physical_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>

namespace iosim::mm {

namespace {
constexpr size_t kGrowFrames = 512;  // 2 MiB of file at a time (sparse until touched)
}

PhysicalMemory::PhysicalMemory()
{
    fd_ = memfd_create("iosim-physical-memory", MFD_CLOEXEC);
    if (fd_ < 0)
        throw std::runtime_error("iosim: memfd_create failed: simulated physical memory needs it");
}

PhysicalMemory::~PhysicalMemory()
{
    if (fd_ >= 0)
        close(fd_);
}

void PhysicalMemory::grow()
{
    size_t first = refs_.size();
    size_t count = kGrowFrames;
    if (ftruncate(fd_, static_cast<off_t>((first + count) * kPageSize)) != 0)
        throw std::runtime_error("iosim: cannot grow simulated physical memory");
    refs_.resize(first + count, 0);
    // A deterministic shuffle (xorshift) of the new frames: consecutive allocations get
    // scattered frames, the same on every run.
    std::vector<uint32_t> batch;
    batch.reserve(count);
    for (size_t i = 0; i < count; ++i)
        batch.push_back(static_cast<uint32_t>(first + i));
    for (size_t i = count - 1; i > 0; --i) {
        scramble_ ^= scramble_ << 13;
        scramble_ ^= scramble_ >> 7;
        scramble_ ^= scramble_ << 17;
        std::swap(batch[i], batch[scramble_ % (i + 1)]);
    }
    // free_ pops from the back: put the batch in so the first frames handed out are the
    // batch's first entries.
    free_.insert(free_.begin(), batch.rbegin(), batch.rend());
}

Pfn PhysicalMemory::allocate()
{
    std::lock_guard guard(lock_);
    if (free_.empty())
        grow();
    uint32_t index = free_.back();
    free_.pop_back();
    refs_[index] = 1;
    ++in_use_;
    return kFirstPfn + index;
}

bool PhysicalMemory::valid(Pfn pfn) const
{
    std::lock_guard guard(lock_);
    return pfn >= kFirstPfn && pfn - kFirstPfn < refs_.size() && refs_[pfn - kFirstPfn] != 0;
}

void PhysicalMemory::add_ref(Pfn pfn)
{
    std::lock_guard guard(lock_);
    ++refs_.at(pfn - kFirstPfn);
}

uint32_t PhysicalMemory::refs(Pfn pfn) const
{
    std::lock_guard guard(lock_);
    return pfn >= kFirstPfn && pfn - kFirstPfn < refs_.size() ? refs_[pfn - kFirstPfn] : 0;
}

void PhysicalMemory::release(Pfn pfn)
{
    std::lock_guard guard(lock_);
    uint32_t& count = refs_.at(pfn - kFirstPfn);
    if (count == 0)
        return;
    if (--count == 0) {
        // Give the page back to the host; a reused frame reads as zeros.
        fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>((pfn - kFirstPfn) * kPageSize),
                  kPageSize);
        free_.push_back(static_cast<uint32_t>(pfn - kFirstPfn));
        --in_use_;
    }
}

bool PhysicalMemory::map(Pfn pfn, void* address, int prot) const
{
    void* at = mmap(address, kPageSize, prot, MAP_SHARED | MAP_FIXED, fd_, static_cast<off_t>((pfn - kFirstPfn) * kPageSize));
    return at == address;
}

size_t PhysicalMemory::frames_in_use() const
{
    std::lock_guard guard(lock_);
    return in_use_;
}

}  // namespace iosim::mm
