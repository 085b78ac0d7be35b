/* src/progress.c — prefill speed model and record, and the progress line. */
#include "src/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/buf.h"

/* ------------------------------------------------------------------ the model */

void lr_speed_add(struct lr_speed *s, uint64_t p0, uint64_t p1, double t)
{
	double x1 = (double)(p1 - p0), x2 = ((double)p0 + (double)p1 - 1) * x1 / 2;

	if (p1 <= p0 || !(t > 0))
		return;
	s->s11 += x1 * x1;
	s->s12 += x1 * x2;
	s->s22 += x2 * x2;
	s->s1t += x1 * t;
	s->s2t += x2 * t;
	s->st += t;
	s->n += p1 - p0;
	if (p1 > s->tokens)
		s->tokens = p1;
}

int lr_speed_fit(struct lr_speed *s)
{
	double det = s->s11 * s->s22 - s->s12 * s->s12;

	if (!s->n)
		return -1;
	/* least squares without intercept; fall back to a constant cost per token when the
	 * depths barely differ or the fit says attention is free */
	if (det > 1e-9 * s->s11 * s->s22) {
		s->a = (s->s1t * s->s22 - s->s2t * s->s12) / det;
		s->b = (s->s11 * s->s2t - s->s12 * s->s1t) / det;
		if (s->a > 0 && s->b >= 0)
			return 0;
	}
	s->a = s->st / (double)s->n;
	s->b = 0;
	return 0;
}

double lr_speed_predict(const struct lr_speed *s, uint64_t p0, uint64_t p1)
{
	double n = p1 > p0 ? (double)(p1 - p0) : 0;

	return s->a * n + s->b * ((double)p0 + (double)p1 - 1) * n / 2;
}

/* ------------------------------------------------------------------ the record */

static int record_path(char *buf, size_t size, int make)
{
	const char *dir = getenv("LONGREAD_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
	           *home = getenv("HOME");
	char d[PATH_MAX];

	if (dir && *dir)
		snprintf(d, sizeof d, "%s", dir);
	else if (xdg && *xdg)
		snprintf(d, sizeof d, "%s/longread", xdg);
	else if (home && *home)
		snprintf(d, sizeof d, "%s/.cache/longread", home);
	else
		return -1;
	if (make) {
		char *slash = d;
		/* mkdir -p */
		while ((slash = strchr(slash + 1, '/')) != NULL) {
			*slash = '\0';
			mkdir(d, 0755);
			*slash = '/';
		}
		if (mkdir(d, 0755) != 0 && errno != EEXIST)
			return -1;
	}
	return snprintf(buf, size, "%s/speed.tsv", d) < (int)size ? 0 : -1;
}

/* Parse a record line: fingerprint kv threads a b tokens when. */
static int parse_line(const char *line, char *fp, size_t fpn, char *kv, size_t kvn, struct lr_speed *s)
{
	char f[80], k[16];
	long long when;
	unsigned long long tokens;

	if (sscanf(line, "%79s %15s %d %lf %lf %llu %lld", f, k, &s->threads, &s->a, &s->b, &tokens, &when) != 7 ||
	    !(s->a > 0) || !(s->b >= 0) || s->threads < 1)
		return -1;
	s->tokens = tokens;
	s->when = when;
	snprintf(fp, fpn, "%s", f);
	snprintf(kv, kvn, "%s", k);
	return 0;
}

int lr_speed_load(const char *fingerprint, const char *kv, struct lr_speed *out)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int rc = LR_ENOTFOUND;

	if (record_path(path, sizeof path, 0) || !(f = fopen(path, "r")))
		return LR_ENOTFOUND;
	while (fgets(line, sizeof line, f)) {
		char fp[80], k[16];
		struct lr_speed s;
		memset(&s, 0, sizeof s);
		if (parse_line(line, fp, sizeof fp, k, sizeof k, &s) == 0 && strcmp(fp, fingerprint) == 0 &&
		    strcmp(k, kv) == 0) {
			*out = s;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

int lr_speed_save(const char *fingerprint, const char *kv, const struct lr_speed *s)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], line[512];
	struct lr_buf b = { 0 };
	FILE *f;
	int rc = -1, fd;

	if (!(s->a > 0) || record_path(path, sizeof path, 1))
		return -1;
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f)) {
			char fp[80], k[16];
			struct lr_speed old;
			memset(&old, 0, sizeof old);
			if (parse_line(line, fp, sizeof fp, k, sizeof k, &old))
				continue;
			if (strcmp(fp, fingerprint) == 0 && strcmp(k, kv) == 0) {
				if (old.tokens > 2 * s->tokens) {   /* keep the deeper measurement */
					fclose(f);
					lr_buf_release(&b);
					return 0;
				}
				continue;
			}
			lr_buf_str(&b, line);
		}
		fclose(f);
	}
	lr_buf_printf(&b, "%s %s %d %.6e %.6e %" PRIu64 " %lld\n", fingerprint, kv, s->threads, s->a, s->b,
	              s->tokens, (long long)time(NULL));
	snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
	if (!lr_buf_failed(&b) && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		ssize_t w = write(fd, b.p, b.n);
		if (close(fd) == 0 && w == (ssize_t)b.n && rename(tmp, path) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	lr_buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ the progress line */

const char *lr_duration(double s, char *buf, unsigned size)
{
	uint64_t t;

	if (!(s >= 0) || s > 1e9)
		snprintf(buf, size, "?");
	else if (s < 60)
		snprintf(buf, size, "%.1f s", s);
	else if ((t = (uint64_t)(s + 0.5)) < 3600)
		snprintf(buf, size, "%" PRIu64 ":%02" PRIu64, t / 60, t % 60);
	else
		snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, t / 3600, t / 60 % 60, t % 60);
	return buf;
}

const char *lr_count(uint64_t n, char *buf, unsigned size)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%" PRIu64, n), k = 0;

	for (int i = 0; i < len && k + 2 < (int)size; i++) {
		if (i && (len - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = digits[i];
	}
	buf[k] = '\0';
	return buf;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A progress line is on the terminal, not ended by a newline (for lr_progress_clear).
 * A flag, not a pointer to the line: a prefill that fails returns without ending its
 * line, and the message that says so must not read the caller's dead struct. */
static int line_open;

void lr_progress_clear(void)
{
	if (line_open) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		line_open = 0;
	}
}

void lr_progress_start(struct lr_progress *pg, const char *what, uint64_t total, int force)
{
	memset(pg, 0, sizeof *pg);
	pg->tty = isatty(STDERR_FILENO);
	pg->on = pg->tty || force;
	pg->what = what;
	pg->total = total;
	pg->t0 = pg->last = now();
}

static void draw(struct lr_progress *pg, uint64_t done, double eta, int final)
{
	char d[32], t[32], e[32];
	double el = now() - pg->t0;
	double rate = el > 0 ? (double)done / el : 0;

	if (eta < 0)
		eta = rate > 0 ? (double)(pg->total - done) / rate : -1;
	fflush(stdout);
	fprintf(stderr, "%slongread: %s %s/%s tokens (%3.0f%%), %.0f tok/s, %s %s%s",
	        pg->tty ? "\r" : "", pg->what, lr_count(done, d, sizeof d), lr_count(pg->total, t, sizeof t),
	        pg->total ? 100.0 * (double)done / (double)pg->total : 100.0, rate,
	        final ? "took" : "ETA", lr_duration(final ? el : eta, e, sizeof e),
	        pg->tty ? "\033[K" : "\n");
	fflush(stderr);
	line_open = pg->tty;
}

void lr_progress_update(struct lr_progress *pg, uint64_t done, double eta)
{
	double t = now();

	if (!pg->on || (t - pg->last < (pg->tty ? 0.1 : 1.0)))
		return;
	pg->last = t;
	draw(pg, done, eta, 0);
}

void lr_progress_end(struct lr_progress *pg, uint64_t done)
{
	if (pg->on && !pg->tty)
		draw(pg, done, 0, 1);   /* a log of lines: the last says it is done */
	lr_progress_clear();        /* a terminal: the caller's summary line takes its place */
}
