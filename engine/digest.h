/* engine/digest.h — SHA-256 (FIPS 180-4) and the fingerprints longread records: of a
 * model file (cheap: the header and a fixed sample of the weights, not every byte) and
 * of documents and token sequences (every byte).  Used by `ask --json` records and by
 * saved contexts to tell whether a model or a document changed.
 *
 * Workload: a document corpus of up to a few MB per run, and one model fingerprint per
 * run; a plain portable implementation (about 200-300 MB/s) is enough. */
#ifndef LR_DIGEST_H
#define LR_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gguf.h"

#define LR_SHA256_BYTES 32
#define LR_SHA256_HEX   65   /* 64 hex digits and a NUL */

/* Streaming state; zero-initialise nothing, call lr_sha256_init. */
struct lr_sha256 {
	uint32_t h[8];
	uint64_t n;          /* bytes hashed so far */
	uint8_t buf[64];     /* a partial block */
	size_t used;
};

void lr_sha256_init(struct lr_sha256 *s);
void lr_sha256_update(struct lr_sha256 *s, const void *data, size_t len);
/* Finish: writes the 32-byte digest.  s must be initialised again before reuse. */
void lr_sha256_final(struct lr_sha256 *s, uint8_t out[LR_SHA256_BYTES]);

/* The digest of data[0..len) in one call. */
void lr_sha256(const void *data, size_t len, uint8_t out[LR_SHA256_BYTES]);

/* Lower-case hex of a digest into hex (LR_SHA256_HEX bytes, NUL-terminated). */
void lr_sha256_hex(const uint8_t d[LR_SHA256_BYTES], char hex[LR_SHA256_HEX]);

/* A model file's fingerprint: SHA-256 over the file size (u64, little-endian), every
 * byte before the tensor data (header, metadata with the whole tokenizer, tensor
 * table) and 64 samples of 64 KiB spread evenly over the tensor data (the whole data
 * when it is smaller than that).  Two files with the same fingerprint have the same
 * metadata and tensor layout and agree on 4 MiB of weights; it reads at most
 * data_offset + 4 MiB, so it costs milliseconds even for a 40 GB file.  It is not a
 * digest of the whole file (sha256sum gives that). */
void lr_gguf_fingerprint(const struct lr_gguf *g, uint8_t out[LR_SHA256_BYTES]);

#endif
