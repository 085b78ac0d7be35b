/* engine/digest.h — content digests and section checksums.
 *
 * SHA-256 (FIPS 180-4) identifies content: document digests, model fingerprints.
 * CRC-32C (Castagnoli) checks sections of saved contexts for corruption: it runs at
 * memory speed with the SSE4.2 crc32 instruction (a table-driven fallback elsewhere),
 * which matters for gigabytes of KV blocks. */
#ifndef LR_DIGEST_H
#define LR_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct lr_sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	uint8_t buf[64];
	uint32_t n;            /* bytes in buf */
};

void lr_sha256_init(struct lr_sha256 *s);
void lr_sha256_update(struct lr_sha256 *s, const void *data, size_t len);
void lr_sha256_final(struct lr_sha256 *s, uint8_t out[32]);
/* One call: out = SHA-256(data). */
void lr_sha256(const void *data, size_t len, uint8_t out[32]);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void lr_hex(const uint8_t *bytes, size_t n, char *hex);

/* CRC-32C of data, continuing from crc (start with 0). */
uint32_t lr_crc32c(uint32_t crc, const void *data, size_t len);
/* The same without the crc32 instruction (the fallback; exposed for tests). */
uint32_t lr_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
