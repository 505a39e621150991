// nt.h - how iosim's own C++ code sees the Windows types.
//
// iosim is built without -fshort-wchar, so WCHAR is char16_t here (same size and ABI as
// the drivers' 16-bit wchar_t). Defining IOSIM_IMPLEMENTATION also keeps the shim's
// C-runtime redirections (printf -> iosim_printf, wcslen -> iosim_wcslen, ...) out of
// iosim's own code: they are meant for Windows sources only.
#pragma once

#ifndef IOSIM_IMPLEMENTATION
#define IOSIM_IMPLEMENTATION 1
#endif
#include "ntdef.h"
#include "ntstatus.h"
