/* tests/test_utf8.c — engine/utf8: strict validation and WHATWG repair.
 * Expected outputs are worked out by hand from the WHATWG Encoding Standard's UTF-8
 * decoder (one U+FFFD per maximal invalid subpart); they protect the tokenizer's
 * invalid-input behaviour and the streaming decoder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/utf8.h"
#include "tests/tap.h"

#define R "\xEF\xBF\xBD"   /* U+FFFD */

struct vec {
	const char *name;
	const char *in;
	size_t in_len;           /* 0: strlen(in) */
	const char *want;
	size_t want_len;         /* 0: strlen(want) */
};

static const struct vec vecs[] = {
	{ "ascii", "abc", 0, "abc", 0 },
	{ "NUL bytes kept", "a\0b", 3, "a\0b", 3 },
	{ "valid 2/3/4-byte", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 0, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 0 },
	{ "U+10FFFF valid", "\xF4\x8F\xBF\xBF", 0, "\xF4\x8F\xBF\xBF", 0 },
	{ "U+FFFD itself", R, 0, R, 0 },
	{ "truncated 3-byte then space: one U+FFFD", "\xE2\x82 x", 0, R " x", 0 },
	{ "truncated 4-byte at end: one U+FFFD", "x\xF0\x9F\x98", 0, "x" R, 0 },
	{ "lone continuation bytes", "\x80\x80", 0, R R, 0 },
	{ "FF FE", "\xFF\xFE", 0, R R, 0 },
	{ "C3 followed by ASCII", "\xC3(", 0, R "(", 0 },
	{ "overlong 2-byte C0 AF", "\xC0\xAF", 0, R R, 0 },
	{ "overlong 3-byte E0 80 AF", "\xE0\x80\xAF", 0, R R R, 0 },
	{ "overlong 4-byte F0 80 80 AF", "\xF0\x80\x80\xAF", 0, R R R R, 0 },
	{ "surrogate ED A0 80", "\xED\xA0\x80", 0, R R R, 0 },
	{ "surrogate pair ED A0 80 ED B0 80", "\xED\xA0\x80\xED\xB0\x80", 0, R R R R R R, 0 },
	{ "above U+10FFFF F4 90 80 80", "\xF4\x90\x80\x80", 0, R R R R, 0 },
	{ "F7 BF BF BF", "\xF7\xBF\xBF\xBF", 0, R R R R, 0 },
	{ "5-byte form F8 88 80 80 80", "\xF8\x88\x80\x80\x80", 0, R R R R R, 0 },
	{ "E1 80 at end", "\xE1\x80", 0, R, 0 },
	{ "valid after invalid lead", "\xE2\xE2\x82\xAC", 0, R "\xE2\x82\xAC", 0 },
	{ "F0 9F then valid 2-byte", "\xF0\x9F\xC3\xA9", 0, R "\xC3\xA9", 0 },
};
#define N_VECS (sizeof vecs / sizeof vecs[0])

static uint64_t rng = 88172645463325252ull;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

int main(void)
{
	char out[256];

	for (size_t i = 0; i < N_VECS; i++) {
		const struct vec *v = &vecs[i];
		size_t in_len = v->in_len ? v->in_len : strlen(v->in);
		size_t want_len = v->want_len ? v->want_len : strlen(v->want);
		size_t n = lr_utf8_repair(v->in, in_len, out);
		int same = n == want_len && memcmp(out, v->want, n) == 0;
		struct lr_utf8_dec d;
		size_t o = 0;

		tap_ok(same, "repair: %s", v->name);
		tap_is_int(lr_utf8_valid_prefix(v->in, in_len) == in_len,
		           in_len == want_len && memcmp(v->in, v->want, in_len) == 0,
		           "valid iff unchanged: %s", v->name);
		/* byte by byte through the streaming decoder: the same bytes */
		lr_utf8_dec_init(&d);
		for (size_t k = 0; k < in_len; k++)
			o += lr_utf8_dec_push(&d, v->in + k, 1, out + o);
		o += lr_utf8_dec_flush(&d, out + o);
		tap_ok(o == want_len && memcmp(out, v->want, o) == 0, "byte-by-byte stream: %s", v->name);
	}

	tap_is_int((int64_t)lr_utf8_valid_prefix("ab\xC3", 3), 2, "valid prefix stops before a cut character");
	tap_is_int((int64_t)lr_utf8_valid_prefix("abc\xED\xA0\x80", 6), 3, "valid prefix stops at a surrogate");
	tap_is_int((int64_t)lr_utf8_valid_prefix("0123456789abcdef\xC3\xA9xyz", 21), 21,
	           "valid prefix: long ASCII run then 2-byte character");
	tap_is_int((int64_t)lr_utf8_valid_prefix("0123456789\xFF", 11), 10,
	           "valid prefix: invalid byte after the 8-byte fast path");

	/* Random bytes, biased towards the interesting ones: repair always gives valid
	 * UTF-8, valid input is left alone, and any split of the input into pushes gives
	 * the same output as one push. */
	{
		static const unsigned char pick[] = { 0x00, 0x41, 0x20, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
			0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0,
			0xF1, 0xF4, 0xF5, 0xF8, 0xFF };
		int ok_valid = 1, ok_split = 1, ok_ident = 1;
		unsigned char in[64];
		char whole[64 * 3 + 12], parts[64 * 3 + 12], again[64 * 3 + 12];

		for (int it = 0; it < 20000; it++) {
			size_t n = next_rand() % sizeof in, w, p = 0, a, at = 0;
			struct lr_utf8_dec d;

			for (size_t k = 0; k < n; k++)
				in[k] = next_rand() % 4 ? pick[next_rand() % sizeof pick] : (unsigned char)next_rand();
			w = lr_utf8_repair((const char *)in, n, whole);
			if (lr_utf8_valid_prefix(whole, w) != w)
				ok_valid = 0;
			a = lr_utf8_repair(whole, w, again);
			if (a != w || memcmp(again, whole, w) != 0)
				ok_ident = 0;
			lr_utf8_dec_init(&d);
			while (at < n) {
				size_t step = 1 + next_rand() % 5;
				if (step > n - at)
					step = n - at;
				p += lr_utf8_dec_push(&d, (const char *)in + at, step, parts + p);
				at += step;
			}
			p += lr_utf8_dec_flush(&d, parts + p);
			if (p != w || memcmp(parts, whole, w) != 0)
				ok_split = 0;
		}
		tap_ok(ok_valid, "random bytes: repair output is always valid UTF-8");
		tap_ok(ok_ident, "random bytes: repairing repaired text changes nothing");
		tap_ok(ok_split, "random bytes: pushing in random pieces equals one push");
	}
	return tap_done();
}
