/* engine/utf8.c — strict UTF-8 validation and WHATWG-style repair.
 * Workload: every document goes through lr_utf8_valid_prefix once before it is
 * tokenized (almost always valid, mostly ASCII: checked 8 bytes at a time); repair
 * runs only on the rare invalid input and on decoded token streams. */
#include "engine/utf8.h"

#include <string.h>

/* Table 3-7 of the Unicode Standard ("well-formed UTF-8 byte sequences"), by lead
 * byte: sequence length (0 = never valid) and the range of the second byte. */
static int lead_info(unsigned char c, unsigned *len, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (c < 0x80) { *len = 1; return 1; }
	if (c < 0xC2) return 0;                 /* continuation bytes, C0/C1 overlongs */
	if (c < 0xE0) { *len = 2; return 1; }
	if (c < 0xF0) {
		*len = 3;
		if (c == 0xE0) *lo = 0xA0;          /* overlong 3-byte forms */
		if (c == 0xED) *hi = 0x9F;          /* surrogates */
		return 1;
	}
	if (c < 0xF5) {
		*len = 4;
		if (c == 0xF0) *lo = 0x90;          /* overlong 4-byte forms */
		if (c == 0xF4) *hi = 0x8F;          /* above U+10FFFF */
		return 1;
	}
	return 0;                               /* F5..FF */
}

size_t lr_utf8_valid_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned len, k;
		unsigned char lo, hi;

		/* ASCII fast path, 8 bytes at a time */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!lead_info(p[i], &len, &lo, &hi) || n - i < len)
			return i;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return i;
		for (k = 2; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return i;
		i += len;
	}
	return n;
}

void lr_utf8_dec_init(struct lr_utf8_dec *d)
{
	memset(d, 0, sizeof *d);
}

static size_t put_fffd(char *out)
{
	memcpy(out, LR_UTF8_REPLACEMENT, 3);
	return 3;
}

size_t lr_utf8_dec_push(struct lr_utf8_dec *d, const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;

	while (i < n) {
		unsigned char c = p[i];

		if (d->need == 0) {
			unsigned len;
			unsigned char lo, hi;

			if (c < 0x80) {
				out[o++] = (char)c;
			} else if (!lead_info(c, &len, &lo, &hi)) {
				o += put_fffd(out + o);
			} else {
				d->pend[0] = c;
				d->n_pend = 1;
				d->need = len;
				d->lo = lo;
				d->hi = hi;
			}
			i++;
			continue;
		}
		if (c < d->lo || c > d->hi) {
			/* the held-back bytes are a maximal invalid subpart; c starts afresh */
			o += put_fffd(out + o);
			d->need = d->n_pend = 0;
			continue;
		}
		d->pend[d->n_pend++] = c;
		d->lo = 0x80;
		d->hi = 0xBF;
		i++;
		if (d->n_pend == d->need) {
			memcpy(out + o, d->pend, d->n_pend);
			o += d->n_pend;
			d->need = d->n_pend = 0;
		}
	}
	return o;
}

size_t lr_utf8_dec_flush(struct lr_utf8_dec *d, char *out)
{
	if (d->need == 0)
		return 0;
	d->need = d->n_pend = 0;
	return put_fffd(out);
}

size_t lr_utf8_repair(const char *s, size_t n, char *out)
{
	struct lr_utf8_dec d;
	size_t o;

	lr_utf8_dec_init(&d);
	o = lr_utf8_dec_push(&d, s, n, out);
	return o + lr_utf8_dec_flush(&d, out + o);
}
