/* buggy_public.h - control codes shared by the buggy driver and its client. */
#ifndef BUGGY_PUBLIC_H
#define BUGGY_PUBLIC_H
#define IOCTL_BUGGY_DOUBLE_COMPLETE CTL_CODE(0x8001, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_BUGGY_NULL_POINTER CTL_CODE(0x8001, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS)
#endif
