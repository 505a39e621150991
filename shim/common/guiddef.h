/*
 * guiddef.h - iosim shim: GUID helpers and DEFINE_GUID, for kernel and user code alike.
 *
 * GUID itself is in iosim_basetypes.h. DEFINE_GUID(name, ...) only declares `name`
 * (extern const GUID) unless INITGUID is defined, in which case it defines it, exactly as
 * the Windows header does; #include <initguid.h> before a header full of DEFINE_GUIDs
 * defines them in that translation unit. The DEFINE_GUID part of this file is outside the
 * include guard on purpose: initguid.h re-includes it to switch the macro.
 * Definitions are weak (DECLSPEC_SELECTANY), so two files of one module may both define
 * the same GUID, as __declspec(selectany) allows on Windows.
 */
#ifndef IOSIM_GUIDDEF_H
#define IOSIM_GUIDDEF_H

#include <string.h>

#include "iosim_basetypes.h"

typedef GUID IID, *LPIID;
typedef GUID CLSID, *LPCLSID;
typedef GUID FMTID, *LPFMTID;

#ifdef __cplusplus
#define REFGUID const GUID &
#define REFIID const IID &
#define REFCLSID const IID &
#define REFFMTID const IID &
extern "C++" {
inline int IsEqualGUID(REFGUID rguid1, REFGUID rguid2) { return !memcmp(&rguid1, &rguid2, sizeof(GUID)); }
inline int InlineIsEqualGUID(REFGUID rguid1, REFGUID rguid2) { return !memcmp(&rguid1, &rguid2, sizeof(GUID)); }
inline bool operator==(REFGUID guidOne, REFGUID guidOther) { return !!IsEqualGUID(guidOne, guidOther); }
inline bool operator!=(REFGUID guidOne, REFGUID guidOther) { return !(guidOne == guidOther); }
}
#else
#define REFGUID const GUID *
#define REFIID const IID *
#define REFCLSID const IID *
#define REFFMTID const IID *
/* In C, as on Windows, the arguments are pointers: IsEqualGUID(&a, &b). */
#define IsEqualGUID(rguid1, rguid2) (!memcmp((rguid1), (rguid2), sizeof(GUID)))
#define InlineIsEqualGUID(rguid1, rguid2) IsEqualGUID(rguid1, rguid2)
#endif
#define IsEqualIID(riid1, riid2) IsEqualGUID(riid1, riid2)
#define IsEqualCLSID(rclsid1, rclsid2) IsEqualGUID(rclsid1, rclsid2)

#endif /* IOSIM_GUIDDEF_H */

#ifdef DEFINE_GUID
#undef DEFINE_GUID
#endif
#ifdef INITGUID
#ifdef __cplusplus
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    extern "C" const GUID DECLSPEC_SELECTANY name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
#else
/* (A C const object at file scope has external linkage already; "extern" with an
   initializer would only draw a warning.) */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    const GUID DECLSPEC_SELECTANY name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
#endif
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) IOSIM_EXTERN_C const GUID name
#endif
#ifndef DEFINE_OLEGUID
#define DEFINE_OLEGUID(name, l, w1, w2) DEFINE_GUID(name, l, w1, w2, 0xC0, 0, 0, 0, 0, 0, 0, 0x46)
#endif
