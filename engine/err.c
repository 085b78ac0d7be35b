/* engine/err.c — the one place error codes become words. */
#include "engine/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(struct lr_err *err, int code, int errnum, const char *fmt, va_list ap)
{
	err->code = code;
	err->sys_errno = errnum;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int lr_errf(struct lr_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int lr_errf_sys(struct lr_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return LR_EIO;
	va_start(ap, fmt);
	vset(err, LR_EIO, errnum, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
	return LR_EIO;
}

void lr_err_prefix(struct lr_err *err, const char *fmt, ...)
{
	char old[sizeof err->msg];
	va_list ap;
	int n;

	if (!err)
		return;
	memcpy(old, err->msg, sizeof old);
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof err->msg)
		return;
	snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%s", old);
}

const char *lr_strerror(int code)
{
	switch (code) {
	case LR_OK:           return "success";
	case LR_EINVAL:       return "invalid argument";
	case LR_ENOMEM:       return "out of memory";
	case LR_EIO:          return "input/output error";
	case LR_EFORMAT:      return "malformed input";
	case LR_EUNSUPPORTED: return "unsupported input";
	case LR_ENOTFOUND:    return "not found";
	case LR_ERANGE:       return "value out of range";
	case LR_ENOFIT:       return "does not fit in the context window";
	case LR_EMISMATCH:    return "does not match this model or settings";
	case LR_EPASSWORD:    return "encrypted; password missing or wrong";
	case LR_EINTR:        return "interrupted";
	case LR_ENET:         return "cannot reach the server";
	case LR_ESERVER:      return "the server answered with an error";
	case LR_EREPLY:       return "the server's reply is broken or incomplete";
	}
	return "unknown error";
}
