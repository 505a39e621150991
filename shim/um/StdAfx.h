/* StdAfx.h - iosim shim: forwards to stdafx.h (Windows file names are case-insensitive). */
#include "stdafx.h"
