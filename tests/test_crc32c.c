/* tests/test_crc32c.c — CRC-32C against RFC 3720's vectors and the usual check value,
 * the instruction and table paths alike, at every length and alignment. */
#include <string.h>

#include "engine/crc32c.h"
#include "tests/tap.h"

int main(void)
{
	uint8_t zeros[32] = { 0 }, ones[32], buf[4099];
	int same = 1;

	memset(ones, 0xff, sizeof ones);
	tap_is_int(lr_crc32c(0, "123456789", 9), 0xe3069283, "CRC-32C check value of '123456789'");
	tap_is_int(lr_crc32c(0, zeros, 32), 0x8a9136aa, "CRC-32C of 32 zero bytes (RFC 3720 B.4)");
	tap_is_int(lr_crc32c(0, ones, 32), 0x62a8ab43, "CRC-32C of 32 0xff bytes (RFC 3720 B.4)");
	tap_is_int(lr_crc32c(lr_crc32c(0, "12345", 5), "6789", 4), 0xe3069283, "CRC-32C continues across calls");
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n + 5 < sizeof buf; n += 97)
		same &= lr_crc32c(0x1234, buf + (n % 5), n) == lr_crc32c_portable(0x1234, buf + (n % 5), n);
	tap_ok(same && lr_crc32c_portable(0, "123456789", 9) == 0xe3069283,
	       "the portable CRC-32C equals the instruction path at every length and alignment");
	return tap_done();
}
