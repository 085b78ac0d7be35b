/* src/ids.c — integer list files for the logits command and friends. */
#include "src/ids.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lr_read_ints(const char *path, int64_t lo, int64_t hi, int64_t **out, uint32_t *n, struct lr_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[256];
	int64_t *v = NULL;
	uint32_t cap = 0, len = 0;
	unsigned long lineno = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!f)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	while (fgets(line, sizeof line, f)) {
		char *p = line, *end;
		long long x;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = lr_errf(err, LR_EFORMAT, "'%s' line %lu: line too long", path, lineno);
			goto out;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			continue;
		errno = 0;
		x = strtoll(p, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || end == p || *end != '\0' || x < lo || x > hi) {
			p[strcspn(p, "\r\n")] = '\0';
			rc = lr_errf(err, LR_EFORMAT, "'%s' line %lu: '%.40s' is not a whole number from %" PRId64
				" to %" PRId64, path, lineno, p, lo, hi);
			goto out;
		}
		if (len == cap) {
			uint32_t ncap = cap ? 2 * cap : 1024;
			int64_t *nv = ncap > cap ? realloc(v, ncap * sizeof *v) : NULL;
			if (!nv) {
				rc = lr_errf(err, LR_ENOMEM, "out of memory reading '%s'", path);
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[len++] = x;
	}
	if (ferror(f))
		rc = lr_errf_sys(err, errno, "cannot read '%s'", path);
out:
	if (f != stdin)
		fclose(f);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = len;
	return 0;
}
