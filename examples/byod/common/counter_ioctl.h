/* counter_ioctl.h - the control code shared by the counter driver and its client. */
#ifndef COUNTER_IOCTL_H
#define COUNTER_IOCTL_H
#define IOCTL_COUNTER_NEXT CTL_CODE(0x9000, 0x801, METHOD_BUFFERED, FILE_READ_ACCESS)
#endif
