/* tests/test_digest.c — SHA-256 against the FIPS 180-4 / NIST example vectors, in
 * one call and fed in pieces; CRC-32C against RFC 3720's and the usual check value,
 * hardware and table paths alike. */
#include <stdlib.h>
#include <string.h>

#include "engine/digest.h"
#include "tests/tap.h"

static int sha_is(const void *data, size_t len, const char *want)
{
	uint8_t d[32];
	char hex[65];

	lr_sha256(data, len, d);
	lr_hex(d, 32, hex);
	if (strcmp(hex, want))
		tap_diag("  got %s", hex);
	return strcmp(hex, want) == 0;
}

int main(void)
{
	static const char *abc = "abc";
	static const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char *million = malloc(1000000);
	uint8_t d1[32], d2[32], zeros[32] = { 0 }, ones[32];
	struct lr_sha256 s;

	tap_ok(sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "SHA-256 of the empty string");
	tap_ok(sha_is(abc, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "SHA-256 of 'abc'");
	tap_ok(sha_is(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
	       "SHA-256 of the 448-bit message");
	memset(million, 'a', 1000000);
	tap_ok(sha_is(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
	       "SHA-256 of a million 'a'");
	/* the same in uneven pieces crossing block boundaries */
	lr_sha256_init(&s);
	for (size_t off = 0, k = 1; off < 1000000; off += k, k = k * 3 % 97 + 1)
		lr_sha256_update(&s, million + off, off + k > 1000000 ? 1000000 - off : k);
	lr_sha256_final(&s, d1);
	lr_sha256(million, 1000000, d2);
	tap_ok(memcmp(d1, d2, 32) == 0, "SHA-256 fed in pieces equals one call");
	free(million);

	tap_is_int(lr_crc32c(0, "123456789", 9), 0xe3069283, "CRC-32C check value of '123456789'");
	tap_is_int(lr_crc32c(0, zeros, 32), 0x8a9136aa, "CRC-32C of 32 zero bytes (RFC 3720 B.4)");
	memset(ones, 0xff, 32);
	tap_is_int(lr_crc32c(0, ones, 32), 0x62a8ab43, "CRC-32C of 32 0xff bytes (RFC 3720 B.4)");
	tap_is_int(lr_crc32c(lr_crc32c(0, "12345", 5), "6789", 4), 0xe3069283, "CRC-32C continues across calls");
	{
		uint8_t buf[4099];
		int same = 1;
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (uint8_t)(i * 131 + 7);
		for (size_t n = 0; n < sizeof buf; n += 97)
			same &= lr_crc32c(0x1234, buf + (n % 5), n) == lr_crc32c_portable(0x1234, buf + (n % 5), n);
		tap_ok(same && lr_crc32c_portable(0, "123456789", 9) == 0xe3069283,
		       "the portable CRC-32C equals the instruction path at every length and alignment");
	}
	return tap_done();
}
