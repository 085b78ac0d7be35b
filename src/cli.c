/* src/cli.c — diagnostics and option helpers shared by the commands. */
#include "src/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_code(int lr_code)
{
	switch (lr_code) {
	case LR_OK:           return LR_EXIT_OK;
	case LR_EINVAL:       return LR_EXIT_USAGE;
	case LR_ENOMEM:       return LR_EXIT_NOMEM;
	case LR_EIO:          return LR_EXIT_IO;
	case LR_EFORMAT:      return LR_EXIT_BADINPUT;
	case LR_EUNSUPPORTED: return LR_EXIT_UNSUPPORTED;
	case LR_ENOTFOUND:    return LR_EXIT_BADINPUT;
	case LR_ERANGE:       return LR_EXIT_USAGE;
	case LR_ENOFIT:       return LR_EXIT_NOFIT;
	case LR_EMISMATCH:    return LR_EXIT_MISMATCH;
	case LR_EPASSWORD:    return LR_EXIT_PASSWORD;
	case LR_EINTR:        return LR_EXIT_INTERRUPTED;
	case LR_ENET:         return LR_EXIT_NET;
	case LR_ESERVER:      return LR_EXIT_SERVER;
	case LR_EREPLY:       return LR_EXIT_REPLY;
	}
	return LR_EXIT_ERROR;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "longread: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int cli_fail(const struct lr_err *err)
{
	cli_error("%s", err->msg[0] ? err->msg : lr_strerror(err->code));
	return cli_exit_code(err->code);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "Try 'longread %s --help'.\n", cmd);
	else
		fprintf(stderr, "Try 'longread --help'.\n");
	return LR_EXIT_USAGE;
}

int cli_opt_error(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];
	int is_long = strncmp(arg, "--", 2) == 0;

	if (c == ':') {
		if (is_long)
			return cli_usage(cmd, "option '%.*s' requires an argument",
				(int)strcspn(arg, "="), arg);
		return cli_usage(cmd, "option '-%c' requires an argument", optopt);
	}
	if (is_long)
		return cli_usage(cmd, "unrecognized option '%s'", arg);
	return cli_usage(cmd, "invalid option -- '%c'", optopt);
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
                  uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < lo || v > hi)
		goto bad;
	*out = v;
	return 0;
bad:
	return cli_usage(cmd, "invalid value '%s' for %s (expected a whole number from %llu to %llu)",
		s, opt, (unsigned long long)lo, (unsigned long long)hi);
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return cli_usage(cmd, "invalid value '%s' for %s (expected a number from %g to %g)",
			s, opt, lo, hi);
	*out = v;
	return 0;
}

const char *cli_bytes(uint64_t n, char *buf, unsigned size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}
