/* tests/gguf_build.c — GGUF writer for tests and tests/genmodel.c. */
#include "tests/gguf_build.h"

#include <stdlib.h>
#include <string.h>

#include "engine/types.h"

void gb_raw(struct gbuf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			fprintf(stderr, "gguf_build: out of memory\n");
			abort();
		}
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

void gb_u8(struct gbuf *b, uint8_t v) { gb_raw(b, &v, 1); }
void gb_u32(struct gbuf *b, uint32_t v) { gb_raw(b, &v, 4); }
void gb_u64(struct gbuf *b, uint64_t v) { gb_raw(b, &v, 8); }
void gb_f32(struct gbuf *b, float v) { gb_raw(b, &v, 4); }

void gb_strn(struct gbuf *b, const char *s, uint64_t n)
{
	gb_u64(b, n);
	gb_raw(b, s, (size_t)n);
}

void gb_str(struct gbuf *b, const char *s) { gb_strn(b, s, strlen(s)); }

void gb_zero(struct gbuf *b, size_t n)
{
	static const uint8_t z[256];

	while (n) {
		size_t k = n < sizeof z ? n : sizeof z;
		gb_raw(b, z, k);
		n -= k;
	}
}

void gb_free(struct gbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void gw_init(struct gw *w)
{
	memset(w, 0, sizeof *w);
	w->version = 3;
	w->alignment = LR_GGUF_DEFAULT_ALIGNMENT;
}

void gw_free(struct gw *w)
{
	gb_free(&w->kv);
	gb_free(&w->ti);
}

static void key(struct gw *w, const char *k, uint32_t type)
{
	gb_str(&w->kv, k);
	gb_u32(&w->kv, type);
	w->n_kv++;
}

void gw_kv_u32(struct gw *w, const char *k, uint32_t v) { key(w, k, LR_GGUF_U32); gb_u32(&w->kv, v); }
void gw_kv_i32(struct gw *w, const char *k, int32_t v) { key(w, k, LR_GGUF_I32); gb_u32(&w->kv, (uint32_t)v); }
void gw_kv_u64(struct gw *w, const char *k, uint64_t v) { key(w, k, LR_GGUF_U64); gb_u64(&w->kv, v); }
void gw_kv_f32(struct gw *w, const char *k, float v) { key(w, k, LR_GGUF_F32); gb_f32(&w->kv, v); }
void gw_kv_bool(struct gw *w, const char *k, int v) { key(w, k, LR_GGUF_BOOL); gb_u8(&w->kv, v != 0); }
void gw_kv_str(struct gw *w, const char *k, const char *v) { key(w, k, LR_GGUF_STRING); gb_str(&w->kv, v); }

void gw_kv_arr_str(struct gw *w, const char *k, const char *const *v, uint64_t n)
{
	key(w, k, LR_GGUF_ARRAY);
	gb_u32(&w->kv, LR_GGUF_STRING);
	gb_u64(&w->kv, n);
	for (uint64_t i = 0; i < n; i++)
		gb_str(&w->kv, v[i]);
}

void gw_kv_arr_i32(struct gw *w, const char *k, const int32_t *v, uint64_t n)
{
	key(w, k, LR_GGUF_ARRAY);
	gb_u32(&w->kv, LR_GGUF_I32);
	gb_u64(&w->kv, n);
	gb_raw(&w->kv, v, (size_t)n * 4);
}

void gw_kv_arr_f32(struct gw *w, const char *k, const float *v, uint64_t n)
{
	key(w, k, LR_GGUF_ARRAY);
	gb_u32(&w->kv, LR_GGUF_F32);
	gb_u64(&w->kv, n);
	gb_raw(&w->kv, v, (size_t)n * 4);
}

static unsigned scalar_size(uint32_t t)
{
	switch (t) {
	case LR_GGUF_U8: case LR_GGUF_I8: case LR_GGUF_BOOL: return 1;
	case LR_GGUF_U16: case LR_GGUF_I16: return 2;
	case LR_GGUF_U32: case LR_GGUF_I32: case LR_GGUF_F32: return 4;
	default: return 8;
	}
}

void gw_kv_copy(struct gw *w, const struct lr_gguf *g, const struct lr_gguf_kv *kv)
{
	key(w, kv->key, kv->type);
	if (kv->type == LR_GGUF_STRING) {
		gb_strn(&w->kv, kv->str, kv->str_len);
	} else if (kv->type == LR_GGUF_ARRAY) {
		gb_u32(&w->kv, kv->arr_type);
		gb_u64(&w->kv, kv->arr_n);
		if (kv->arr_type == LR_GGUF_STRING) {
			for (uint64_t i = 0; i < kv->arr_n; i++) {
				uint64_t n;
				const char *s = lr_gguf_arr_str(g, kv, i, &n);
				gb_strn(&w->kv, s, n);
			}
		} else if (kv->arr_type != LR_GGUF_ARRAY) {
			gb_raw(&w->kv, kv->arr_data, (size_t)(kv->arr_n * scalar_size(kv->arr_type)));
		} else {
			fprintf(stderr, "gguf_build: cannot copy nested arrays\n");
			abort();
		}
	} else {
		/* re-encode the widened scalar in its own width (little-endian host) */
		uint64_t raw = kv->type == LR_GGUF_F32 ? 0 : kv->v.u;
		if (kv->type == LR_GGUF_F32) {
			float f = (float)kv->v.f;
			memcpy(&raw, &f, 4);
		} else if (kv->type == LR_GGUF_F64) {
			memcpy(&raw, &kv->v.f, 8);
		}
		gb_raw(&w->kv, &raw, scalar_size(kv->type));
	}
}

static uint64_t align_up(uint64_t v, uint32_t a) { return (v + a - 1) / a * a; }

uint64_t gw_tensor(struct gw *w, const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne)
{
	uint64_t nel = 1, row, off = w->data_size;

	for (uint32_t d = 0; d < n_dims; d++)
		nel *= (uint64_t)ne[d];
	if (lr_type_row_bytes(type, (uint64_t)ne[0], &row))
		return UINT64_MAX;
	gb_str(&w->ti, name);
	gb_u32(&w->ti, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		gb_u64(&w->ti, (uint64_t)ne[d]);
	gb_u32(&w->ti, type);
	gb_u64(&w->ti, off);
	w->n_tensors++;
	w->data_size = align_up(off + (ne[0] ? nel / (uint64_t)ne[0] * row : 0), w->alignment);
	return off;
}

void gw_header(const struct gw *w, struct gbuf *out)
{
	gb_raw(out, "GGUF", 4);
	gb_u32(out, w->version);
	gb_u64(out, w->n_tensors);
	gb_u64(out, w->n_kv);
	gb_raw(out, w->kv.p, w->kv.n);
	gb_raw(out, w->ti.p, w->ti.n);
	gb_zero(out, (size_t)(align_up(out->n, w->alignment) - out->n));
}

int gw_write_header(const struct gw *w, FILE *f)
{
	struct gbuf h = { 0 };
	int ok;

	gw_header(w, &h);
	ok = fwrite(h.p, 1, h.n, f) == h.n;
	gb_free(&h);
	return ok ? 0 : -1;
}

int gw_write_pad(FILE *f, uint64_t n_written, uint32_t alignment)
{
	static const uint8_t z[64];
	uint64_t pad = align_up(n_written, alignment) - n_written;

	while (pad) {
		size_t k = pad < sizeof z ? (size_t)pad : sizeof z;
		if (fwrite(z, 1, k, f) != k)
			return -1;
		pad -= k;
	}
	return 0;
}

void gw_image(const struct gw *w, struct gbuf *out,
              void (*fill)(uint64_t i, uint8_t *dst, uint64_t bytes, void *ctx), void *ctx)
{
	size_t start;

	gw_header(w, out);
	start = out->n;
	gb_zero(out, (size_t)w->data_size);
	if (fill) {
		/* walk the tensor infos again to find each one's offset and size */
		struct lr_gguf *g = NULL;
		if (lr_gguf_parse(&g, out->p, out->n, NULL) == 0) {
			for (uint64_t i = 0; i < g->n_tensors; i++)
				fill(i, out->p + start + g->tensors[i].offset, g->tensors[i].n_bytes, ctx);
		}
		lr_gguf_close(g);
	}
}

static int printable(unsigned b)
{
	return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

void gb_byte_token(unsigned b, char out[4])
{
	unsigned cp = b;

	if (!printable(b)) {
		unsigned k = 0;
		for (unsigned x = 0; x < b; x++)
			k += !printable(x);
		cp = 256 + k;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = 0;
	} else {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		out[2] = 0;
	}
}
