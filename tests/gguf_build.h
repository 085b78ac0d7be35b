/* tests/gguf_build.h — build GGUF files for tests and the model generator.
 * Metadata and tensor infos are collected in memory; tensor data is written by the
 * caller after the header, in the order the tensors were added, each padded to the
 * alignment.  Out-of-memory aborts: this is test code. */
#ifndef LR_GGUF_BUILD_H
#define LR_GGUF_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/gguf.h"

struct gbuf {
	uint8_t *p;
	size_t n, cap;
};

void gb_raw(struct gbuf *b, const void *p, size_t n);
void gb_u8(struct gbuf *b, uint8_t v);
void gb_u32(struct gbuf *b, uint32_t v);
void gb_u64(struct gbuf *b, uint64_t v);
void gb_f32(struct gbuf *b, float v);
void gb_str(struct gbuf *b, const char *s);               /* u64 length + bytes */
void gb_strn(struct gbuf *b, const char *s, uint64_t n);
void gb_zero(struct gbuf *b, size_t n);
void gb_free(struct gbuf *b);

struct gw {
	uint32_t version;        /* default 3 */
	uint32_t alignment;      /* default 32; set general.alignment yourself to change it */
	struct gbuf kv;
	uint64_t n_kv;
	struct gbuf ti;
	uint64_t n_tensors;
	uint64_t data_size;      /* bytes of data so far, padded */
};

void gw_init(struct gw *w);
void gw_free(struct gw *w);

void gw_kv_u32(struct gw *w, const char *key, uint32_t v);
void gw_kv_i32(struct gw *w, const char *key, int32_t v);
void gw_kv_u64(struct gw *w, const char *key, uint64_t v);
void gw_kv_f32(struct gw *w, const char *key, float v);
void gw_kv_bool(struct gw *w, const char *key, int v);
void gw_kv_str(struct gw *w, const char *key, const char *v);
void gw_kv_arr_str(struct gw *w, const char *key, const char *const *v, uint64_t n);
void gw_kv_arr_i32(struct gw *w, const char *key, const int32_t *v, uint64_t n);
void gw_kv_arr_f32(struct gw *w, const char *key, const float *v, uint64_t n);
/* Re-encode metadata pair kv of g (any type) under its own key. */
void gw_kv_copy(struct gw *w, const struct lr_gguf *g, const struct lr_gguf_kv *kv);

/* Add a tensor info; returns its data offset.  Fails (returns UINT64_MAX) if the row
 * length does not fit the type's blocks. */
uint64_t gw_tensor(struct gw *w, const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne);

/* The header: magic, version, counts, metadata, tensor infos, padding. */
void gw_header(const struct gw *w, struct gbuf *out);

/* Write header then zero padding: helpers for streaming data to a file. */
int gw_write_header(const struct gw *w, FILE *f);
int gw_write_pad(FILE *f, uint64_t n_written, uint32_t alignment);

/* The GGUF (GPT-2 byte-to-unicode) spelling of the token for byte b: printable bytes
 * stand for themselves, the others are shifted to U+0100 upwards; UTF-8, NUL-terminated
 * (out: at least 3 bytes). */
void gb_byte_token(unsigned b, char out[4]);

/* A whole file in memory: header, then every tensor's data from fill(i, dst, bytes)
 * (or zeros if fill is NULL). */
void gw_image(const struct gw *w, struct gbuf *out,
              void (*fill)(uint64_t i, uint8_t *dst, uint64_t bytes, void *ctx), void *ctx);

#endif
