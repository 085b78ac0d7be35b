/* src/cli.c — diagnostics and option helpers shared by the commands. */
#include "src/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/progress.h"

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

static FILE *err_stream;   /* --quiet: stderr's old self, where errors still go */
static const struct option *cur_opts;

static FILE *errs(void)
{
	return err_stream ? err_stream : stderr;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	FILE *f = errs();

	fflush(stdout);
	lr_progress_clear();
	fprintf(f, "longread: %s", prefix);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

int cli_quiet(void)
{
	int keep = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FILE *f = keep >= 0 ? fdopen(keep, "w") : NULL;

	if (!f || null < 0 || dup2(null, STDERR_FILENO) < 0) {
		if (f)
			fclose(f);
		else if (keep >= 0)
			close(keep);
		if (null >= 0)
			close(null);
		return -1;
	}
	close(null);
	setvbuf(f, NULL, _IOLBF, 0);
	err_stream = f;
	return 0;
}

void cli_options(const struct option *opts)
{
	cur_opts = opts;
}

/* Levenshtein distance of a and b, stopping at 3 (more is never a typo here). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

const char *cli_closest(const char *word, const char *const *names)
{
	const char *best = NULL;
	size_t best_d = 3, n = strlen(word);

	for (size_t i = 0; names[i]; i++) {
		size_t d = distance(word, names[i]);
		if (n >= 3 && strncmp(names[i], word, n) == 0 && d > 1)
			d = 1;   /* an abbreviation */
		if (d < best_d || (d == best_d && best && strcmp(names[i], best) < 0 && d < 3)) {
			best_d = d;
			best = names[i];
		}
	}
	return best_d <= 2 && n > 1 ? best : NULL;
}

/* The long option closest to the unrecognised one ("--tempp" -> "temp"), or NULL. */
static const char *closest_option(const char *arg)
{
	const char *names[256];
	char word[64];
	size_t n = 0, len = strcspn(arg + 2, "=");

	if (!cur_opts || len >= sizeof word)
		return NULL;
	memcpy(word, arg + 2, len);
	word[len] = '\0';
	for (size_t i = 0; cur_opts[i].name && n < 255; i++)
		names[n++] = cur_opts[i].name;
	names[n] = NULL;
	return cli_closest(word, names);
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

	if (err_stream)
		return;   /* --quiet */
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
		fprintf(errs(), "Try 'longread %s --help'.\n", cmd);
	else
		fprintf(errs(), "Try 'longread --help'.\n");
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
	if (is_long) {
		const char *near = closest_option(arg);
		if (near)
			return cli_usage(cmd, "unrecognized option '%.*s'; did you mean '--%s'?", (int)strcspn(arg, "="),
			                 arg, near);
		return cli_usage(cmd, "unrecognized option '%s'", arg);
	}
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
