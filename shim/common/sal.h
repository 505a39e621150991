/*
 * sal.h - iosim shim: Microsoft source-code annotation language (SAL).
 *
 * WDK and Win32 sources are full of _In_, _Out_opt_, _Dispatch_type_(...) and
 * friends. They only inform static analysis on Windows, so every one of them
 * expands to nothing here. The list covers the annotations the WDK samples and
 * the seed documents use; add more as sources need them (an unknown one shows up
 * as a compile error naming it, never as silent misbehaviour).
 */
#ifndef IOSIM_SAL_H
#define IOSIM_SAL_H

#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(s)
#define _In_reads_opt_(s)
#define _In_reads_bytes_(s)
#define _In_reads_bytes_opt_(s)
#define _In_range_(l, h)
#define _Out_
#define _Out_opt_
#define _Out_writes_(s)
#define _Out_writes_opt_(s)
#define _Out_writes_bytes_(s)
#define _Out_writes_bytes_opt_(s)
#define _Out_writes_bytes_to_(s, c)
#define _Out_writes_bytes_to_opt_(s, c)
#define _Out_writes_to_(s, c)
#define _Out_writes_z_(s)
#define _Out_writes_bytes_all_(s)
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _Inout_updates_(s)
#define _Inout_updates_bytes_(s)
#define _Inout_updates_opt_(s)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_result_bytebuffer_(s)
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_z_
#define _Ret_range_(l, h)
#define _Success_(e)
#define _Check_return_
#define _Must_inspect_result_
#define _Use_decl_annotations_
#define _Function_class_(n)
#define _Dispatch_type_(t)
#define _IRQL_requires_(l)
#define _IRQL_requires_max_(l)
#define _IRQL_requires_min_(l)
#define _IRQL_requires_same_
#define _IRQL_raises_(l)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(k, v)
#define _IRQL_restores_global_(k, v)
#define _IRQL_always_function_min_(l)
#define _IRQL_always_function_max_(l)
#define _IRQL_uses_cancel_
#define _IRQL_is_cancel_
#define _Requires_lock_held_(l)
#define _Requires_lock_not_held_(l)
#define _Acquires_lock_(l)
#define _Releases_lock_(l)
#define _Kernel_requires_resource_held_(r)
#define _Kernel_clear_do_init_(b)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _When_(c, a)
#define _At_(t, a)
#define _Pre_
#define _Post_
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Post_invalid_
#define _Post_ptr_invalid_
#define _Post_writable_byte_size_(s)
#define _Post_maybenull_
#define _Post_satisfies_(e)
#define _Null_terminated_
#define _NullNull_terminated_
#define _Field_size_(s)
#define _Field_size_opt_(s)
#define _Field_size_bytes_(s)
#define _Field_size_bytes_opt_(s)
#define _Field_size_part_(s, c)
#define _Field_size_bytes_part_(s, c)
#define _Field_range_(l, h)
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Analysis_assume_(e)
#define _Analysis_mode_(m)
#define _Printf_format_string_
#define _Reserved_
#define _Notliteral_
#define _Strict_type_match_
#define _Literal_
#define _Points_to_data_
#define _Interlocked_operand_
#define _Unreferenced_parameter_
#define _Enum_is_bitflag_
#define _Struct_size_bytes_(s)
#define _Writable_bytes_(s)
#define _Readable_bytes_(s)
#define _Maybenull_
#define _Notnull_
#define _Deref_out_range_(l, h)
#define _Out_range_(l, h)
#define _Inexpressible_(e)
#define _Always_(a)

/* Older (pre-_X_) spellings still found in books and blog posts. libstdc++ uses __in,
 * __out and __inout as its own identifiers (they are reserved names), so in C++ these
 * would break <algorithm>, <utility> and friends: they are defined for C sources, and for
 * C++ sources only on request (-DIOSIM_LEGACY_SAL, with no standard C++ header included
 * after the shim). */
#if !defined(__cplusplus) || defined(IOSIM_LEGACY_SAL)
#define __in
#define __in_opt
#define __out
#define __out_opt
#define __inout
#define __inout_opt
#endif
#define __drv_dispatchType(t)
#define __drv_maxIRQL(l)
#define __drv_requiresIRQL(l)
#define __drv_aliasesMem
#define __drv_allocatesMem(k)
#define __drv_freesMem(k)

#endif /* IOSIM_SAL_H */
