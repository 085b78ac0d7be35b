/* engine/err.h — error codes and error details shared by libengine and libextract.
 *
 * Fallible functions return int: 0 on success, a negative LR_E* code on failure.  When
 * the caller passes a struct lr_err, it receives a one-line, human-readable message
 * (no trailing newline, no program name) that the program prints as is.
 * Codes are append-only: never renumber, never reuse. */
#ifndef LR_ERR_H
#define LR_ERR_H

#include <stddef.h>

enum lr_errcode {
	LR_OK           = 0,
	LR_EINVAL       = -1,  /* invalid argument or option value */
	LR_ENOMEM       = -2,  /* out of memory */
	LR_EIO          = -3,  /* the OS refused: open, read, write, mmap (sys_errno says why) */
	LR_EFORMAT      = -4,  /* input is malformed, truncated or corrupt */
	LR_EUNSUPPORTED = -5,  /* well-formed, but a version, type or architecture we do not handle */
	LR_ENOTFOUND    = -6,  /* a key, tensor or item that is not there */
	LR_ERANGE       = -7,  /* a value outside what is allowed (e.g. context too long) */
	LR_ENOFIT       = -8,  /* the input does not fit in the context window */
	LR_EMISMATCH    = -9,  /* a saved context does not belong to this model or settings */
	LR_EPASSWORD    = -10, /* encrypted input and no (or a wrong) password */
	LR_EINTR        = -11, /* interrupted by the user */
	LR_ENET         = -12, /* a server could not be reached: name lookup, connection, TLS,
	                          connect timeout */
	LR_ESERVER      = -13, /* a server answered with an error status (its message kept) */
	LR_EREPLY       = -14, /* a server's reply stalled, was cut off, or is malformed */
};

struct lr_err {
	int code;        /* the LR_E* code of the last failure, 0 if none */
	int sys_errno;   /* errno for LR_EIO, else 0 */
	char msg[512];   /* one line, NUL-terminated, possibly truncated */
};

/* Record a failure in err (which may be NULL) and return code, so callers can write
 * `return lr_errf(err, LR_EFORMAT, "bad magic");`. */
int lr_errf(struct lr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like lr_errf for LR_EIO, appending ": <strerror(errnum)>" and keeping errnum. */
int lr_errf_sys(struct lr_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "<prefix>" in front of the message already in err (for adding a file name to
 * an error raised deeper down).  Does nothing if err is NULL. */
void lr_err_prefix(struct lr_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A short, static description of an LR_E* code ("malformed input"). */
const char *lr_strerror(int code);

#endif
