/* tests/tap.c — TAP output and small file helpers for the C tests. */
#include "tests/tap.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static int n_run, n_failed;

static int vreport(int cond, const char *fmt, va_list ap)
{
	n_run++;
	if (!cond)
		n_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", n_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	return cond;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int tap_is_int(int64_t got, int64_t want, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("  got %" PRId64 ", want %" PRId64, got, want);
	return cond;
}

int tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond = got && want && strcmp(got, want) == 0;

	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("  got '%s', want '%s'", got ? got : "(null)", want ? want : "(null)");
	return cond;
}

int tap_done(void)
{
	printf("1..%d\n", n_run);
	if (n_failed)
		tap_diag("%d of %d failed", n_failed, n_run);
	return n_failed ? 1 : 0;
}

int tap_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	return 0;   /* the TAP driver reads the plan; 77 is an error to it */
}

const char *tap_shared(void)
{
	const char *s = getenv("SHARED");

	return s && *s ? s : "../shared";
}

int tap_golden(const char *rel)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/golden/%s", tap_shared(), rel);
	if (access(path, R_OK) == 0)
		return 1;
	printf("ok %d # SKIP no %s (the reference data of ../shared)\n", ++n_run, path);
	return 0;
}

void *tap_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

int tap_read_uints(const char *path, uint32_t **out, uint32_t *n)
{
	char *buf = tap_slurp(path, NULL), *p, *end;
	uint32_t cap = 1024;

	*n = 0;
	*out = NULL;
	if (!buf)
		return -1;
	*out = malloc(cap * sizeof **out);
	for (p = buf; *out; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (*n == cap)
			*out = realloc(*out, (cap *= 2) * sizeof **out);
		if (*out)
			(*out)[(*n)++] = (uint32_t)v;
	}
	free(buf);
	return *out ? 0 : -1;
}

float *tap_read_f32(const char *path, size_t want)
{
	size_t len;
	float *f = tap_slurp(path, &len);

	if (f && len != want * sizeof(float)) {
		free(f);
		return NULL;
	}
	return f;
}

const char *tap_tmpdir(void)
{
	const char *t = getenv("TESTTMP");

	if (!t || !*t)
		t = "tests/tmp";
	mkdir(t, 0777);
	return t;
}

static uint64_t tap_rng = 88172645463325252ull;

void tap_seed(uint64_t seed)
{
	tap_rng = seed ? seed : 88172645463325252ull;
}

static uint64_t tap_next(void)
{
	tap_rng ^= tap_rng << 13;
	tap_rng ^= tap_rng >> 7;
	tap_rng ^= tap_rng << 17;
	return tap_rng;
}

double tap_urand(void)
{
	return ((tap_next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

float tap_frand(void)
{
	return (float)((tap_next() >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

float tap_gauss(void)
{
	double u = tap_urand();
	return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * tap_urand()));
}

double tap_rel_l2(const float *x, const float *r, size_t n)
{
	double num = 0, den = 0;

	for (size_t i = 0; i < n; i++) {
		double d = (double)x[i] - r[i];
		num += d * d;
		den += (double)r[i] * r[i];
	}
	return sqrt(num / den);
}
