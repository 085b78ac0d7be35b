/* tests/test_digest.c — SHA-256 against the FIPS 180-4 example vectors, streaming in
 * every split equal to one call, and the model fingerprint: stable for the same file,
 * different when the metadata or a sampled weight byte changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/digest.h"
#include "engine/gguf.h"
#include "tests/tap.h"

static const char *hex_of(const void *data, size_t len)
{
	static char hex[LR_SHA256_HEX];
	uint8_t d[LR_SHA256_BYTES];

	lr_sha256(data, len, d);
	lr_sha256_hex(d, hex);
	return hex;
}

static void vectors(void)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char *million = malloc(1000000);
	struct lr_sha256 s;
	uint8_t d[LR_SHA256_BYTES];
	char hex[LR_SHA256_HEX];

	tap_is_str(hex_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha256 of the empty string");
	tap_is_str(hex_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256 of 'abc'");
	tap_is_str(hex_of(two_blocks, strlen(two_blocks)),
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"sha256 of the 448-bit message (padding spills into a second block)");
	if (!million)
		exit(1);
	memset(million, 'a', 1000000);
	tap_is_str(hex_of(million, 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"sha256 of a million 'a'");
	/* the same bytes fed in uneven pieces */
	lr_sha256_init(&s);
	for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 1000 + 1)
		lr_sha256_update(&s, million + off, off + step > 1000000 ? 1000000 - off : step);
	lr_sha256_final(&s, d);
	lr_sha256_hex(d, hex);
	tap_is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"streaming in pieces of 1..1000 bytes gives the same digest");
	{
		int same = 1;
		for (size_t n = 55; n <= 65; n++) {
			char one[LR_SHA256_HEX];
			snprintf(one, sizeof one, "%s", hex_of(million, n));
			lr_sha256_init(&s);
			lr_sha256_update(&s, million, n / 2);
			lr_sha256_update(&s, million + n / 2, n - n / 2);
			lr_sha256_final(&s, d);
			lr_sha256_hex(d, hex);
			same &= strcmp(one, hex) == 0;
		}
		tap_ok(same, "lengths 55..65 around the padding boundary agree split and whole");
	}
	free(million);
}

static void fingerprint(void)
{
	char path[1024];
	size_t len;
	uint8_t *img, a[32], b[32], c[32];
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };

	if (!tap_golden("models/nano-Q8_0.gguf"))
		return;
	snprintf(path, sizeof path, "%s/golden/models/nano-Q8_0.gguf", tap_shared());
	img = tap_slurp(path, &len);
	if (!img) {
		tap_diag("cannot read %s", path);
		tap_ok(0, "read a golden model");
		return;
	}
	if (lr_gguf_parse(&g, img, len, &err)) {
		tap_ok(0, "parse a golden model: %s", err.msg);
		free(img);
		return;
	}
	lr_gguf_fingerprint(g, a);
	lr_gguf_fingerprint(g, b);
	tap_ok(memcmp(a, b, 32) == 0, "the fingerprint of a file is stable");
	/* a weight byte in the first sample (the data section's first bytes) */
	img[g->data_offset + 5] ^= 1;
	lr_gguf_fingerprint(g, c);
	tap_ok(memcmp(a, c, 32) != 0, "a changed weight byte in a sample changes the fingerprint");
	img[g->data_offset + 5] ^= 1;
	/* a byte of metadata: the model's name string */
	{
		const struct lr_gguf_kv *kv = lr_gguf_find(g, "general.name");
		uint8_t *p = kv ? memmem(img, (size_t)g->data_offset, kv->str, kv->str_len) : NULL;
		if (p) {
			p[0] ^= 0x20;
			lr_gguf_fingerprint(g, c);
			tap_ok(memcmp(a, c, 32) != 0, "changed metadata changes the fingerprint");
			p[0] ^= 0x20;
		} else {
			tap_ok(0, "find general.name in the header");
		}
	}
	lr_gguf_fingerprint(g, c);
	tap_ok(memcmp(a, c, 32) == 0, "restoring the bytes restores the fingerprint");
	lr_gguf_close(g);
	free(img);
}

/* A large data section is sampled: the first and last bytes count, a byte between two
 * samples does not (that is the documented price of reading 4 MiB, not 40 GB). */
static void fingerprint_samples(void)
{
	size_t size = (size_t)10 << 20;
	uint8_t *img = calloc(1, size), a[32], b[32];
	struct lr_gguf g = { 0 };

	if (!img)
		exit(1);
	g.base = img;
	g.size = size;
	g.data_offset = 4096;
	lr_gguf_fingerprint(&g, a);
	img[size - 1] = 1;
	lr_gguf_fingerprint(&g, b);
	tap_ok(memcmp(a, b, 32) != 0, "the last byte of the data is sampled");
	img[size - 1] = 0;
	img[4096] = 1;
	lr_gguf_fingerprint(&g, b);
	tap_ok(memcmp(a, b, 32) != 0, "the first byte of the data is sampled");
	img[4096] = 0;
	img[4096 + (64 << 10) + 100] = 1;
	lr_gguf_fingerprint(&g, b);
	tap_ok(memcmp(a, b, 32) == 0, "a byte between two samples is not read");
	free(img);
}

int main(void)
{
	vectors();
	fingerprint();
	fingerprint_samples();
	return tap_done();
}
