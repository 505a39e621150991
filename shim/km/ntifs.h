/*
 * ntifs.h - iosim shim: the file-system and filter kit header (a superset of ntddk.h).
 * iosim's only file system is the named-pipe file system (\Device\NamedPipe); this header
 * adds its interface (FSCTL_PIPE_*, FILE_PIPE_*, iosim_pipe.h) to ntddk.h's declarations,
 * which already hold the extra process and object routines sources include ntifs.h for.
 */
#ifndef IOSIM_NTIFS_H
#define IOSIM_NTIFS_H
#include "ntddk.h"
#include "iosim_pipe.h"
#endif
