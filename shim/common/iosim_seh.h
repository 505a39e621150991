#ifndef IOSIM_SEH_H
#define IOSIM_SEH_H
#endif
