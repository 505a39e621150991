// memory_manager.cpp - physical memory, system space, per-process user spaces and switching.
#include "mm/memory_manager.h"

#include "ldr/module.h"
#include "ps/process.h"

namespace iosim::mm {

namespace {

MemoryManager* g_current = nullptr;

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IOSIM_MM_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IOSIM_MM_SANITIZED 1
#endif

// Where spaces are placed. Without sanitizers, at fixed-looking addresses (user spaces
// at 0x0000'01xx'..., system space at 0x0000'7E00'...) so that addresses are easy to tell
// apart in traces; the sanitizers own parts of the address space, so there the host
// chooses (still deterministic with address randomisation off, as iosim runs itself).
#ifdef IOSIM_MM_SANITIZED
constexpr uintptr_t kSystemHint = 0;
constexpr uintptr_t kUserHintBase = 0;
constexpr uintptr_t kUserHintStride = 0;
#else
constexpr uintptr_t kSystemHint = 0x00007E0000000000ull;
constexpr uintptr_t kUserHintBase = 0x0000010000000000ull;
constexpr uintptr_t kUserHintStride = 0x0000000100000000ull;
#endif
constexpr size_t kSystemSpaceBytes = size_t{16} << 30;
constexpr size_t kUserSpaceBytes = size_t{2} << 30;

// The reservation holding the current stack, so hiding a space never pulls the stack
// out from under the code doing it.
std::pair<uintptr_t, uintptr_t> current_stack_vad(const AddressSpace& space)
{
    int marker = 0;
    const void* sp = &marker;
    if (!space.contains(sp))
        return {0, 0};
    PageInfo info = space.lookup(sp);
    if (!info.reserved)
        return {0, 0};
    return {info.vad.base, info.vad.end()};
}

}  // namespace

const char* region_name(Region region)
{
    switch (region) {
    case Region::Unknown:
        return "unattributed host memory";
    case Region::NullPage:
        return "the NULL page";
    case Region::User:
        return "user space";
    case Region::AppImage:
        return "an app image";
    case Region::System:
        return "system space";
    case Region::DriverImage:
        return "a driver image";
    }
    return "?";
}

MemoryManager* current() { return g_current; }
void set_current(MemoryManager* manager) { g_current = manager; }

MemoryManager::MemoryManager()
{
    system_ = std::make_unique<AddressSpace>(physical_, AddressSpace::Kind::System, nullptr, kSystemSpaceBytes,
                                             kSystemHint);
}

MemoryManager::~MemoryManager()
{
    std::lock_guard guard(lock_);
    processes_.clear();
    system_.reset();
}

ProcessMemory* MemoryManager::create_process_memory(Process* process)
{
    auto memory = std::make_unique<ProcessMemory>();
    size_t slot;
    {
        std::lock_guard guard(lock_);
        slot = next_slot_++;
    }
    uintptr_t hint = kUserHintStride == 0 ? 0 : kUserHintBase + (slot % 64) * kUserHintStride;
    memory->space = std::make_unique<AddressSpace>(physical_, AddressSpace::Kind::User, process, kUserSpaceBytes, hint);
    memory->heap = std::make_unique<UserHeap>(*memory->space);
    ProcessMemory* raw = memory.get();
    // A new space starts hidden unless its process is the one running.
    if (active_ != process)
        raw->space->hide();
    std::lock_guard guard(lock_);
    processes_[process] = std::move(memory);
    process->memory = raw;
    return raw;
}

void MemoryManager::destroy_process_memory(Process* process)
{
    if (before_hide_)
        before_hide_();
    std::unique_ptr<ProcessMemory> memory;
    {
        std::lock_guard guard(lock_);
        auto it = processes_.find(process);
        if (it == processes_.end())
            return;
        memory = std::move(it->second);
        processes_.erase(it);
        if (active_ == process)
            active_ = nullptr;
    }
    process->memory = nullptr;
    memory.reset();
}

void MemoryManager::activate(Process* process)
{
    if (process == active_)
        return;
    std::vector<std::pair<uintptr_t, uintptr_t>> keep;
    if (active_ != nullptr && before_hide_)
        keep = before_hide_();
    AddressSpace* from = nullptr;
    AddressSpace* to = nullptr;
    {
        std::lock_guard guard(lock_);
        if (active_ != nullptr) {
            auto it = processes_.find(active_);
            if (it != processes_.end())
                from = it->second->space.get();
        }
        if (process != nullptr) {
            auto it = processes_.find(process);
            if (it != processes_.end())
                to = it->second->space.get();
        }
        active_ = process;
    }
    if (to != nullptr)
        to->reveal();
    if (from != nullptr) {
        auto [keep_begin, keep_end] = current_stack_vad(*from);
        if (keep_end > keep_begin)
            keep.emplace_back(keep_begin, keep_end);
        from->hide(keep);
    }
}

AddressSpace* MemoryManager::user_space_of(const void* address) const
{
    std::unique_lock guard(lock_, std::try_to_lock);
    if (!guard.owns_lock())
        return nullptr;
    for (const auto& [process, memory] : processes_)
        if (memory->space->contains(address))
            return memory->space.get();
    return nullptr;
}

AddressInfo MemoryManager::classify(const void* address) const
{
    AddressInfo info;
    uintptr_t a = addr(address);
    if (a < 0x10000) {
        info.region = Region::NullPage;
        info.accessible_now = false;
        return info;
    }
    if (system_->contains(address)) {
        info.region = Region::System;
        if (auto page = system_->try_lookup(address))
            info.page = *page;
        info.accessible_now = info.page.committed;
        return info;
    }
    if (AddressSpace* space = user_space_of(address)) {
        info.region = Region::User;
        info.owner = space->owner();
        if (auto page = space->try_lookup(address))
            info.page = *page;
        info.accessible_now = info.page.committed && !space->hidden();
        return info;
    }
    if (ldr::Module* module = ldr::module_for_address(address)) {
        if (module->kind == ldr::ModuleKind::Driver) {
            info.region = Region::DriverImage;
        } else {
            info.region = Region::AppImage;
            info.owner = static_cast<Process*>(module->process);
        }
    }
    return info;
}

std::optional<Pfn> MemoryManager::pfn_of(const void* address) const
{
    if (system_->contains(address))
        return system_->pfn_of(address);
    if (AddressSpace* space = user_space_of(address))
        return space->pfn_of(address);
    return std::nullopt;
}

}  // namespace iosim::mm
