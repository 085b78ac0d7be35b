/* src/json.c — streaming JSON writer. */
#include "src/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(struct json *j, FILE *f, int pretty)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->pretty = pretty;
}

static void newline(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator and indentation before a value or a key. */
static void pre(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0) {
		if (j->count[j->depth]++)
			fputc(',', j->f);
		newline(j);
	}
}

static void open_(struct json *j, int c)
{
	pre(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->count[j->depth] = 0;
}

static void close_(struct json *j, int c)
{
	int had = j->count[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		newline(j);
	fputc(c, j->f);
}

void json_obj(struct json *j) { open_(j, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr(struct json *j) { open_(j, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80) return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void json_strn(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	pre(j);
	fputc('"', j->f);
	while (i < n) {
		unsigned c = s[i];
		size_t len;

		if (c == '"' || c == '\\') {
			fputc('\\', j->f);
			fputc((int)c, j->f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", j->f); break;
			case '\t': fputs("\\t", j->f); break;
			case '\r': fputs("\\r", j->f); break;
			default: fprintf(j->f, "\\u%04x", c); break;
			}
			i++;
		} else if ((len = utf8_len(s + i, n - i)) != 0) {
			fwrite(s + i, 1, len, j->f);
			i += len;
		} else {
			fputs("\\ufffd", j->f);
			i++;
		}
	}
	fputc('"', j->f);
}

void json_str(struct json *j, const char *s)
{
	json_strn(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
	json_str(j, key);
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = 1;
}

void json_int(struct json *j, int64_t v) { pre(j); fprintf(j->f, "%" PRId64, v); }
void json_uint(struct json *j, uint64_t v) { pre(j); fprintf(j->f, "%" PRIu64, v); }
void json_bool(struct json *j, int v) { pre(j); fputs(v ? "true" : "false", j->f); }
void json_nil(struct json *j) { pre(j); fputs("null", j->f); }

void json_num(struct json *j, double v)
{
	pre(j);
	if (isfinite(v))
		fprintf(j->f, "%.9g", v);
	else
		fputs("null", j->f);
}

void json_f32(struct json *j, float v)
{
	pre(j);
	if (isfinite(v))
		fprintf(j->f, "%.7g", (double)v);
	else
		fputs("null", j->f);
}

void json_end(struct json *j)
{
	fputc('\n', j->f);
}
