// SPDX-License-Identifier: MIT
/*
 * names.c - the names the language shares across verbs: what each kind
 * of name is called in messages and which commands define it, and every
 * Linux errno name (include/uapi/asm-generic/errno-base.h and errno.h)
 * for `expect error` and the runner's messages.
 */
#include <errno.h>
#include <string.h>

#include "runner.h"

const struct zr_kind_info zr_kinds[ZR_NR_KINDS] = {
	[ZR_PROCESS] = { "process", "'process' or 'fork'" },
	[ZR_REGION] = { "region", "'mmap' or 'mremap'" },
	[ZR_DEVICE] = { "device", "'device'" },
	[ZR_FILE] = { "file", "'file'" },
	[ZR_SET] = { "reference set", "'devalloc', 'gup' or 'pin'" },
	[ZR_THREAD] = { "thread", "'thread'" },
	[ZR_FRAME] = { "frame", "'expect page ... frame='" },
};

/*
 * Every Linux errno name (asm-generic/errno-base.h and errno.h), so any
 * error the library returns can be expected by name. Canonical names come
 * first; the aliases after them are accepted and print as their canonical
 * name (EWOULDBLOCK as EAGAIN).
 */
static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH }, { "EINTR", EINTR },
	{ "EIO", EIO }, { "ENXIO", ENXIO }, { "E2BIG", E2BIG }, { "ENOEXEC", ENOEXEC },
	{ "EBADF", EBADF }, { "ECHILD", ECHILD }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES }, { "EFAULT", EFAULT }, { "ENOTBLK", ENOTBLK }, { "EBUSY", EBUSY },
	{ "EEXIST", EEXIST }, { "EXDEV", EXDEV }, { "ENODEV", ENODEV }, { "ENOTDIR", ENOTDIR },
	{ "EISDIR", EISDIR }, { "EINVAL", EINVAL }, { "ENFILE", ENFILE }, { "EMFILE", EMFILE },
	{ "ENOTTY", ENOTTY }, { "ETXTBSY", ETXTBSY }, { "EFBIG", EFBIG }, { "ENOSPC", ENOSPC },
	{ "ESPIPE", ESPIPE }, { "EROFS", EROFS }, { "EMLINK", EMLINK }, { "EPIPE", EPIPE },
	{ "EDOM", EDOM }, { "ERANGE", ERANGE }, { "EDEADLK", EDEADLK },
	{ "ENAMETOOLONG", ENAMETOOLONG }, { "ENOLCK", ENOLCK }, { "ENOSYS", ENOSYS },
	{ "ENOTEMPTY", ENOTEMPTY }, { "ELOOP", ELOOP }, { "ENOMSG", ENOMSG },
	{ "EIDRM", EIDRM }, { "ECHRNG", ECHRNG }, { "EL2NSYNC", EL2NSYNC },
	{ "EL3HLT", EL3HLT }, { "EL3RST", EL3RST }, { "ELNRNG", ELNRNG },
	{ "EUNATCH", EUNATCH }, { "ENOCSI", ENOCSI }, { "EL2HLT", EL2HLT }, { "EBADE", EBADE },
	{ "EBADR", EBADR }, { "EXFULL", EXFULL }, { "ENOANO", ENOANO }, { "EBADRQC", EBADRQC },
	{ "EBADSLT", EBADSLT }, { "EBFONT", EBFONT }, { "ENOSTR", ENOSTR },
	{ "ENODATA", ENODATA }, { "ETIME", ETIME }, { "ENOSR", ENOSR }, { "ENONET", ENONET },
	{ "ENOPKG", ENOPKG }, { "EREMOTE", EREMOTE }, { "ENOLINK", ENOLINK }, { "EADV", EADV },
	{ "ESRMNT", ESRMNT }, { "ECOMM", ECOMM }, { "EPROTO", EPROTO },
	{ "EMULTIHOP", EMULTIHOP }, { "EDOTDOT", EDOTDOT }, { "EBADMSG", EBADMSG },
	{ "EOVERFLOW", EOVERFLOW }, { "ENOTUNIQ", ENOTUNIQ }, { "EBADFD", EBADFD },
	{ "EREMCHG", EREMCHG }, { "ELIBACC", ELIBACC }, { "ELIBBAD", ELIBBAD },
	{ "ELIBSCN", ELIBSCN }, { "ELIBMAX", ELIBMAX }, { "ELIBEXEC", ELIBEXEC },
	{ "EILSEQ", EILSEQ }, { "ERESTART", ERESTART }, { "ESTRPIPE", ESTRPIPE },
	{ "EUSERS", EUSERS }, { "ENOTSOCK", ENOTSOCK }, { "EDESTADDRREQ", EDESTADDRREQ },
	{ "EMSGSIZE", EMSGSIZE }, { "EPROTOTYPE", EPROTOTYPE }, { "ENOPROTOOPT", ENOPROTOOPT },
	{ "EPROTONOSUPPORT", EPROTONOSUPPORT }, { "ESOCKTNOSUPPORT", ESOCKTNOSUPPORT },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "EPFNOSUPPORT", EPFNOSUPPORT },
	{ "EAFNOSUPPORT", EAFNOSUPPORT }, { "EADDRINUSE", EADDRINUSE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENETDOWN", ENETDOWN },
	{ "ENETUNREACH", ENETUNREACH }, { "ENETRESET", ENETRESET },
	{ "ECONNABORTED", ECONNABORTED }, { "ECONNRESET", ECONNRESET }, { "ENOBUFS", ENOBUFS },
	{ "EISCONN", EISCONN }, { "ENOTCONN", ENOTCONN }, { "ESHUTDOWN", ESHUTDOWN },
	{ "ETOOMANYREFS", ETOOMANYREFS }, { "ETIMEDOUT", ETIMEDOUT },
	{ "ECONNREFUSED", ECONNREFUSED }, { "EHOSTDOWN", EHOSTDOWN },
	{ "EHOSTUNREACH", EHOSTUNREACH }, { "EALREADY", EALREADY },
	{ "EINPROGRESS", EINPROGRESS }, { "ESTALE", ESTALE }, { "EUCLEAN", EUCLEAN },
	{ "ENOTNAM", ENOTNAM }, { "ENAVAIL", ENAVAIL }, { "EISNAM", EISNAM },
	{ "EREMOTEIO", EREMOTEIO }, { "EDQUOT", EDQUOT }, { "ENOMEDIUM", ENOMEDIUM },
	{ "EMEDIUMTYPE", EMEDIUMTYPE }, { "ECANCELED", ECANCELED }, { "ENOKEY", ENOKEY },
	{ "EKEYEXPIRED", EKEYEXPIRED }, { "EKEYREVOKED", EKEYREVOKED },
	{ "EKEYREJECTED", EKEYREJECTED }, { "EOWNERDEAD", EOWNERDEAD },
	{ "ENOTRECOVERABLE", ENOTRECOVERABLE }, { "ERFKILL", ERFKILL },
	{ "EHWPOISON", EHWPOISON },
	/* aliases */
	{ "EWOULDBLOCK", EWOULDBLOCK }, { "EDEADLOCK", EDEADLOCK }, { "ENOTSUP", ENOTSUP },
};

int zr_errno_from_name(const char *s)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, s))
			return errnos[i].err;
	return 0;
}

const char *zr_errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
}
