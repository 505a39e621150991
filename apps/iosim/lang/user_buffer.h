// user_buffer.h - the pieces a script's request is made of (internal to apps/iosim/lang):
// RequestScope runs a request as the process's main thread, and UserBuffer is an app's
// buffer in that process's user space. requests.cpp (open, read, write, ioctl),
// overlapped.cpp (named overlapped requests, wait, cancel) and filter_commands.cpp share them.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "lang/session_impl.h"
#include "mm/memory_manager.h"
#include "ps/process.h"

namespace iosim::lang {

// The request runs in `process`; IRP numbers seen meanwhile are noted (breakpoints.cpp).
class RequestScope {
public:
    RequestScope(Session::Impl& impl, Process* process)
        : impl_(impl), in_process_(impl.machine.system().main_thread(process))
    {
        impl_.collecting = true;
    }
    ~RequestScope() { impl_.collecting = false; }

private:
    Session::Impl& impl_;
    ThreadSwitch in_process_;
};

// A request's buffer in the requesting process's user space (its heap), as an app's own
// buffer would be: the driver sees the address the app would, direct I/O maps its frames,
// and METHOD_NEITHER code touching it from another process's context faults. Create it,
// and read it, inside a RequestScope (the process's pages are visible there); letting it
// go touches no process memory, so an overlapped request's buffers outlive the scope.
// The memory stays allocated until the process ends, like an app's global buffer: a
// driver that kept the address (the METHOD_NEITHER hazard) still finds the request's
// bytes there in the right context, instead of a heap block already reused.
class UserBuffer {
public:
    UserBuffer(Process* process, size_t size, std::string_view initial = {}) : process_(process), size_(size)
    {
        if (size_ == 0)
            return;
        if (process_->memory != nullptr)
            data_ = static_cast<char*>(process_->memory->heap->allocate(size_, true));
        if (data_ == nullptr) {
            host_.assign(size_, '\0');
            data_ = host_.data();
        }
        if (!initial.empty())
            std::memcpy(data_, initial.data(), std::min(initial.size(), size_));
    }
    UserBuffer(const UserBuffer&) = delete;
    UserBuffer& operator=(const UserBuffer&) = delete;

    char* data() { return data_; }
    size_t size() const { return size_; }
    std::string contents(size_t n) const { return data_ != nullptr ? std::string(data_, std::min(n, size_)) : std::string(); }

private:
    Process* process_;
    size_t size_;
    char* data_ = nullptr;
    std::string host_;  // fallback when the process has no user space
};

}  // namespace iosim::lang
