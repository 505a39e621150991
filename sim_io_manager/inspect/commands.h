// commands.h - the inspection commands, one file each (internal to sim_io_manager/inspect).
// inspect.cpp routes a command line to these; see inspect.h for the rules they keep.
#pragma once

#include <string>

#include "inspect/support.h"

namespace iosim::inspect::detail {

bool drvobj(const Args& args, std::string& out, std::string& error);     // drvobj.cpp
bool devobj(const Args& args, std::string& out, std::string& error);     // devobj.cpp
bool devstack(const Args& args, std::string& out, std::string& error);   // devstack.cpp
bool irp(const Args& args, std::string& out, std::string& error);        // irps.cpp
bool object(const Args& args, std::string& out, std::string& error);     // object.cpp
bool handle(const Args& args, std::string& out, std::string& error);     // handle.cpp
bool poolused(const Args& args, std::string& out, std::string& error);   // poolused.cpp
bool process(const Args& args, std::string& out, std::string& error);    // process.cpp
bool thread(const Args& args, std::string& out, std::string& error);     // process.cpp
bool irql(const Args& args, std::string& out, std::string& error);       // process.cpp
bool timer(const Args& args, std::string& out, std::string& error);      // scheduler.cpp
bool dpcs(const Args& args, std::string& out, std::string& error);       // scheduler.cpp
bool devnode(const Args& args, std::string& out, std::string& error);    // devnode.cpp

// The "!DevNode" lines !devstack prints under a stack whose bottom device is a PDO the PnP
// manager knows ("" for a legacy stack); devnode.cpp.
std::string devnode_of_stack(DEVICE_OBJECT* bottom);

// The body of !devobj for one device (used by "!drvobj <driver> 4" too); `indent` prefixes every line.
void describe_device(DEVICE_OBJECT* device, std::string& out, const std::string& indent = "");

// Resolves a device argument: an address (0x...) of a live device object, an object
// path (links are followed) or a bare name taken as \Device\<name>. On failure sets
// `error` ("<command>: ...") and returns nullptr. No reference is kept (the counts that
// !devobj prints are the machine's own): use the device before anything else runs.
DEVICE_OBJECT* resolve_device(const std::string& arg, const char* command, std::string& error);

}  // namespace iosim::inspect::detail
