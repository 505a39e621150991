// semaphore_object.cpp - the Semaphore object type (*ExSemaphoreObjectType).
//
// A Semaphore object's body is a KSEMAPHORE, as Windows' is, so a driver that references an
// app's semaphore by handle (ObReferenceObjectByHandle(h, SEMAPHORE_MODIFY_STATE,
// *ExSemaphoreObjectType, UserMode, ...)) gets a PKSEMAPHORE it can pass to
// KeReleaseSemaphore or wait on. The objects are created by kernel32 (CreateSemaphore,
// sim_io_manager/win32/semaphore.cpp), which finds the type through this export: the body
// is initialised with KeInitializeSemaphore (count and limit), and the dispatcher rules
// (ke/dispatcher.h) make each satisfied wait take one unit of the count.
// NT counterparts: ExSemaphoreObjectType, KSEMAPHORE, NtCreateSemaphore's object.
#include <fmt/format.h>

#include "ob/object.h"
#include "wdm_impl.h"

namespace {

// One line for listings (!object, the shutdown report): the count and the limit.
std::string describe_semaphore(void* body)
{
    auto* semaphore = static_cast<KSEMAPHORE*>(body);
    return fmt::format("count {} of {}", semaphore->Header.SignalState, semaphore->Limit);
}

iosim::ob::ObjectType g_semaphore_type{.name = "Semaphore", .describe = describe_semaphore};
POBJECT_TYPE g_semaphore_type_ptr = reinterpret_cast<POBJECT_TYPE>(&g_semaphore_type);

}  // namespace

extern "C" {

POBJECT_TYPE* ExSemaphoreObjectType = &g_semaphore_type_ptr;

}  // extern "C"
