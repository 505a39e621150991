#ifndef IOSIM_KM_PNP_H
#define IOSIM_KM_PNP_H
#endif
