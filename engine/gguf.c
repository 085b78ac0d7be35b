/* engine/gguf.c — GGUF v2/v3 reader over a read-only map.
 *
 * The header is parsed twice: pass 1 validates everything and counts (metadata pairs,
 * tensors, bytes of names), pass 2 allocates exactly that and fills it in.  Memory use
 * is therefore bounded by what the file really contains, not by the counts it claims.
 * Workload: a 128k-token vocabulary is ~410k strings; both passes take milliseconds. */
#include "engine/gguf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/types.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "longread reads little-endian GGUF files with native loads; port the ld* helpers"
#endif

#define MAX_KEY_LEN        65535u  /* the GGUF spec's limit for keys */
#define MAX_NAME_LEN       1024u   /* ggml itself stops at 63; be generous, not unbounded */
#define MAX_ARRAY_DEPTH    4u
#define HEADER_MIN         24u     /* magic, version, n_tensors, n_kv */

/* ------------------------------------------------------------------------ cursor */

struct rd {
	const uint8_t *p;
	uint64_t size;
	uint64_t pos;
	struct lr_err *err;
};

static uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int need(struct rd *r, uint64_t n, const char *what, uint64_t idx)
{
	if (n <= r->size - r->pos)
		return 0;
	return lr_errf(r->err, LR_EFORMAT,
		"truncated: %s %" PRIu64 " at offset %" PRIu64 " needs %" PRIu64
		" bytes, but the file ends at %" PRIu64, what, idx, r->pos, n, r->size);
}

static int rd_u32(struct rd *r, uint32_t *v, const char *what, uint64_t idx)
{
	int rc = need(r, 4, what, idx);

	if (rc)
		return rc;
	*v = ld32(r->p + r->pos);
	r->pos += 4;
	return 0;
}

static int rd_u64(struct rd *r, uint64_t *v, const char *what, uint64_t idx)
{
	int rc = need(r, 8, what, idx);

	if (rc)
		return rc;
	*v = ld64(r->p + r->pos);
	r->pos += 8;
	return 0;
}

/* A string: u64 length then bytes.  *s points into the map. */
static int rd_str(struct rd *r, const uint8_t **s, uint64_t *len, const char *what, uint64_t idx)
{
	int rc = rd_u64(r, len, what, idx);

	if (rc)
		return rc;
	if (*len > r->size - r->pos)
		return lr_errf(r->err, LR_EFORMAT,
			"truncated: %s %" PRIu64 " has length %" PRIu64 " at offset %" PRIu64
			", past the end of the file (%" PRIu64 " bytes)",
			what, idx, *len, r->pos - 8, r->size);
	*s = r->p + r->pos;
	r->pos += *len;
	return 0;
}

/* ------------------------------------------------------------------------ values */

static const char *const vtype_names[LR_GGUF_VTYPE_COUNT] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
	"string", "array", "u64", "i64", "f64",
};

const char *lr_gguf_vtype_name(uint32_t t)
{
	return t < LR_GGUF_VTYPE_COUNT ? vtype_names[t] : "?";
}

/* Bytes of a fixed-size value, 0 for STRING and ARRAY. */
static uint32_t vsize(uint32_t t)
{
	switch (t) {
	case LR_GGUF_U8: case LR_GGUF_I8: case LR_GGUF_BOOL: return 1;
	case LR_GGUF_U16: case LR_GGUF_I16: return 2;
	case LR_GGUF_U32: case LR_GGUF_I32: case LR_GGUF_F32: return 4;
	case LR_GGUF_U64: case LR_GGUF_I64: case LR_GGUF_F64: return 8;
	}
	return 0;
}

/* Smallest encoding of one element of type t (for bounding counts by the file size). */
static uint64_t vmin(uint32_t t)
{
	if (t == LR_GGUF_STRING)
		return 8;
	if (t == LR_GGUF_ARRAY)
		return 12;
	return vsize(t);
}

static void widen(struct lr_gguf_kv *kv, uint32_t t, const uint8_t *p)
{
	float f32;
	double f64;

	switch (t) {
	case LR_GGUF_U8:   kv->v.u = p[0]; break;
	case LR_GGUF_BOOL: kv->v.u = p[0] != 0; break;
	case LR_GGUF_I8:   kv->v.i = (int8_t)p[0]; break;
	case LR_GGUF_U16:  kv->v.u = ld16(p); break;
	case LR_GGUF_I16:  kv->v.i = (int16_t)ld16(p); break;
	case LR_GGUF_U32:  kv->v.u = ld32(p); break;
	case LR_GGUF_I32:  kv->v.i = (int32_t)ld32(p); break;
	case LR_GGUF_U64:  kv->v.u = ld64(p); break;
	case LR_GGUF_I64:  kv->v.i = (int64_t)ld64(p); break;
	case LR_GGUF_F32:  memcpy(&f32, p, 4); kv->v.f = f32; break;
	case LR_GGUF_F64:  memcpy(&f64, p, 8); kv->v.f = f64; break;
	}
}

/* Validate (and skip) the elements of an array of n elements of type t. */
static int skip_array(struct rd *r, uint32_t t, uint64_t n, unsigned depth, uint64_t kv_idx)
{
	uint64_t esz = vsize(t), len;
	const uint8_t *s;
	int rc;

	if (t >= LR_GGUF_VTYPE_COUNT)
		return lr_errf(r->err, LR_EFORMAT,
			"metadata pair %" PRIu64 ": array of unknown value type %" PRIu32, kv_idx, t);
	if (n > (r->size - r->pos) / vmin(t))
		return lr_errf(r->err, LR_EFORMAT,
			"truncated or corrupt: metadata pair %" PRIu64 ": array claims %" PRIu64
			" elements of type %s, more than the %" PRIu64 " bytes left in the file can hold",
			kv_idx, n, vtype_names[t], r->size - r->pos);
	if (esz) {
		r->pos += n * esz;
		return 0;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (t == LR_GGUF_STRING) {
			if ((rc = rd_str(r, &s, &len, "array string", i)))
				return rc;
			continue;
		}
		uint32_t et;
		uint64_t en;
		if (depth >= MAX_ARRAY_DEPTH)
			return lr_errf(r->err, LR_EUNSUPPORTED,
				"metadata pair %" PRIu64 ": arrays nested deeper than %u", kv_idx,
				MAX_ARRAY_DEPTH);
		if ((rc = rd_u32(r, &et, "nested array type", i)) ||
		    (rc = rd_u64(r, &en, "nested array count", i)) ||
		    (rc = skip_array(r, et, en, depth + 1, kv_idx)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------ parsing */

/* Copy n bytes to the arena with a NUL after them; returns the copy. */
static const char *stash(char **arena, const uint8_t *s, uint64_t n)
{
	char *d = *arena;

	memcpy(d, s, n);
	d[n] = '\0';
	*arena += n + 1;
	return d;
}

/* Pass 1 (fill == 0): validate, count g->n_kv, g->n_tensors and *name_bytes.
 * Pass 2 (fill == 1): g->kv, g->tensors and g->names are allocated; fill them. */
static int parse_header(struct lr_gguf *g, struct rd *r, int fill, uint64_t *name_bytes)
{
	uint64_t n_tensors, n_kv, len;
	const uint8_t *s;
	char *arena = g->names;
	int rc;

	r->pos = 8;
	if ((rc = rd_u64(r, &n_tensors, "tensor count", 0)) || (rc = rd_u64(r, &n_kv, "metadata count", 0)))
		return rc;
	/* Bound the counts by the bytes left before looping on them. */
	if (n_kv > (r->size - r->pos) / 13)
		return lr_errf(r->err, LR_EFORMAT,
			"truncated or corrupt: header claims %" PRIu64 " metadata pairs, more than a %"
			PRIu64 "-byte file can hold",
			n_kv, r->size);
	if (n_tensors > (r->size - r->pos) / 33)
		return lr_errf(r->err, LR_EFORMAT,
			"truncated or corrupt: header claims %" PRIu64 " tensors, more than a %" PRIu64
			"-byte file can hold",
			n_tensors, r->size);
	if (n_kv >= UINT32_MAX / 4 || n_tensors >= UINT32_MAX / 4)
		return lr_errf(r->err, LR_EUNSUPPORTED, "too many metadata pairs or tensors");
	g->n_kv = n_kv;
	g->n_tensors = n_tensors;
	*name_bytes = 0;

	for (uint64_t i = 0; i < n_kv; i++) {
		struct lr_gguf_kv *kv = fill ? &g->kv[i] : NULL;
		uint32_t t;

		if ((rc = rd_str(r, &s, &len, "metadata key", i)))
			return rc;
		if (len == 0 || len > MAX_KEY_LEN || memchr(s, 0, len))
			return lr_errf(r->err, LR_EFORMAT,
				"metadata pair %" PRIu64 ": invalid key (length %" PRIu64 ", empty, "
				"too long or containing NUL)", i, len);
		*name_bytes += len + 1;
		if (kv)
			kv->key = stash(&arena, s, len);
		if ((rc = rd_u32(r, &t, "metadata value type", i)))
			return rc;
		if (t >= LR_GGUF_VTYPE_COUNT)
			return lr_errf(r->err, LR_EFORMAT,
				"metadata key '%.*s' has unknown value type %" PRIu32,
				(int)(len > 200 ? 200 : len), (const char *)s, t);
		if (kv)
			kv->type = (enum lr_gguf_vtype)t;
		if (t == LR_GGUF_STRING) {
			const uint8_t *v;
			uint64_t vlen;
			if ((rc = rd_str(r, &v, &vlen, "string value of metadata pair", i)))
				return rc;
			*name_bytes += vlen + 1;
			if (kv) {
				kv->str = stash(&arena, v, vlen);
				kv->str_len = vlen;
			}
		} else if (t == LR_GGUF_ARRAY) {
			uint32_t et;
			uint64_t n, start;
			if ((rc = rd_u32(r, &et, "array type of metadata pair", i)) ||
			    (rc = rd_u64(r, &n, "array count of metadata pair", i)))
				return rc;
			start = r->pos;
			if ((rc = skip_array(r, et, n, 1, i))) {
				lr_err_prefix(r->err, "metadata key '%.*s': ", (int)(len > 200 ? 200 : len),
				              (const char *)s);
				return rc;
			}
			if (kv) {
				kv->arr_type = (enum lr_gguf_vtype)et;
				kv->arr_n = n;
				kv->arr_data = r->p + start;
				if (et == LR_GGUF_STRING) {
					uint64_t off = start;
					kv->str_off = malloc((n ? n : 1) * sizeof *kv->str_off);
					if (!kv->str_off)
						return lr_errf(r->err, LR_ENOMEM,
							"out of memory for %" PRIu64 " strings of '%s'", n, kv->key);
					for (uint64_t k = 0; k < n; k++) {
						kv->str_off[k] = off;
						off += 8 + ld64(r->p + off);
					}
				}
			}
		} else {
			if ((rc = need(r, vsize(t), "value of metadata pair", i)))
				return rc;
			if (kv)
				widen(kv, t, r->p + r->pos);
			r->pos += vsize(t);
		}
	}

	for (uint64_t i = 0; i < n_tensors; i++) {
		struct lr_gguf_tensor *ti = fill ? &g->tensors[i] : NULL;
		int64_t ne[LR_GGUF_MAX_DIMS] = { 1, 1, 1, 1 };
		uint64_t nel = 1, off, row_bytes;
		uint32_t n_dims, type;
		const struct lr_type_info *info;

		if ((rc = rd_str(r, &s, &len, "tensor name", i)))
			return rc;
		if (len == 0 || len > MAX_NAME_LEN || memchr(s, 0, len))
			return lr_errf(r->err, LR_EFORMAT,
				"tensor %" PRIu64 ": invalid name (length %" PRIu64 ")", i, len);
		*name_bytes += len + 1;
		if ((rc = rd_u32(r, &n_dims, "dimension count of tensor", i)))
			return rc;
		if (n_dims == 0 || n_dims > LR_GGUF_MAX_DIMS)
			return lr_errf(r->err, LR_EFORMAT, "tensor '%.*s' has %" PRIu32 " dimensions (1 to %d allowed)",
				(int)len, (const char *)s, n_dims, LR_GGUF_MAX_DIMS);
		for (uint32_t d = 0; d < n_dims; d++) {
			uint64_t v;
			if ((rc = rd_u64(r, &v, "dimension of tensor", i)))
				return rc;
			if (v > INT64_MAX)
				return lr_errf(r->err, LR_EFORMAT, "tensor '%.*s' has a negative dimension",
					(int)len, (const char *)s);
			if (v != 0 && nel > INT64_MAX / v)
				return lr_errf(r->err, LR_EFORMAT,
					"tensor '%.*s': the product of its dimensions overflows 64 bits",
					(int)len, (const char *)s);
			nel *= v;
			ne[d] = (int64_t)v;
		}
		if ((rc = rd_u32(r, &type, "type of tensor", i)) || (rc = rd_u64(r, &off, "offset of tensor", i)))
			return rc;
		info = lr_type_info(type);
		if (!info)
			return lr_errf(r->err, LR_EUNSUPPORTED, "tensor '%.*s' has unknown type id %" PRIu32,
				(int)len, (const char *)s, type);
		if (lr_type_row_bytes(type, (uint64_t)ne[0], &row_bytes))
			return lr_errf(r->err, LR_EFORMAT,
				"tensor '%.*s': row length %" PRId64 " is not a multiple of %s's block size %" PRIu32,
				(int)len, (const char *)s, ne[0], info->name, info->block_size);
		if (ti) {
			ti->name = stash(&arena, s, len);
			ti->n_dims = n_dims;
			memcpy(ti->ne, ne, sizeof ne);
			ti->type = type;
			ti->offset = off;
			ti->n_elements = nel;
			/* rows * row_bytes <= nel / block_size * type_size: checked by the caller */
			ti->n_bytes = ne[0] ? nel / (uint64_t)ne[0] * row_bytes : 0;
		} else if (ne[0] && nel / (uint64_t)ne[0] > UINT64_MAX / (row_bytes ? row_bytes : 1)) {
			return lr_errf(r->err, LR_EFORMAT, "tensor '%.*s': byte size overflows 64 bits",
				(int)len, (const char *)s);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ index */

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int index_new(uint32_t **tab, uint32_t *mask, uint64_t n)
{
	uint64_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	*tab = calloc(cap, sizeof **tab);
	*mask = (uint32_t)(cap - 1);
	return *tab ? 0 : LR_ENOMEM;
}

/* Insert entry idx with name; returns the index of an existing equal name, or -1. */
static int64_t index_put(uint32_t *tab, uint32_t mask, const char *name, uint32_t idx,
                         const char *(*name_of)(const struct lr_gguf *, uint32_t),
                         const struct lr_gguf *g)
{
	uint32_t h = fnv1a(name) & mask;

	while (tab[h]) {
		if (strcmp(name_of(g, tab[h] - 1), name) == 0)
			return tab[h] - 1;
		h = (h + 1) & mask;
	}
	tab[h] = idx + 1;
	return -1;
}

static int64_t index_get(const uint32_t *tab, uint32_t mask, const char *name,
                         const char *(*name_of)(const struct lr_gguf *, uint32_t),
                         const struct lr_gguf *g)
{
	uint32_t h;

	if (!tab)
		return -1;
	h = fnv1a(name) & mask;
	while (tab[h]) {
		if (strcmp(name_of(g, tab[h] - 1), name) == 0)
			return tab[h] - 1;
		h = (h + 1) & mask;
	}
	return -1;
}

static const char *kv_name(const struct lr_gguf *g, uint32_t i) { return g->kv[i].key; }
static const char *t_name(const struct lr_gguf *g, uint32_t i) { return g->tensors[i].name; }

const struct lr_gguf_kv *lr_gguf_find(const struct lr_gguf *g, const char *key)
{
	int64_t i = index_get(g->kv_hash, g->kv_hash_mask, key, kv_name, g);

	return i < 0 ? NULL : &g->kv[i];
}

const struct lr_gguf_tensor *lr_gguf_find_tensor(const struct lr_gguf *g, const char *name)
{
	int64_t i = index_get(g->t_hash, g->t_hash_mask, name, t_name, g);

	return i < 0 ? NULL : &g->tensors[i];
}

/* ------------------------------------------------------------------------ data */

static int cmp_offset(const void *a, const void *b)
{
	const struct lr_gguf_tensor *x = *(const struct lr_gguf_tensor *const *)a;
	const struct lr_gguf_tensor *y = *(const struct lr_gguf_tensor *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Alignment, data section, tensor placement: every tensor inside the file, aligned,
 * and no two overlapping. */
static int place_tensors(struct lr_gguf *g, uint64_t header_end, struct lr_err *err)
{
	const struct lr_gguf_kv *kv = lr_gguf_find(g, "general.alignment");
	const struct lr_gguf_tensor **order = NULL;
	uint64_t data_size;
	int rc = 0;

	g->alignment = LR_GGUF_DEFAULT_ALIGNMENT;
	if (kv) {
		if (kv->type != LR_GGUF_U32)
			return lr_errf(err, LR_EFORMAT, "general.alignment has type %s, expected u32",
				vtype_names[kv->type]);
		if (kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)) != 0)
			return lr_errf(err, LR_EFORMAT,
				"general.alignment is %" PRIu64 ", not a power of two", kv->v.u);
		g->alignment = (uint32_t)kv->v.u;
	}
	/* header_end < size < 2^63, alignment <= 2^31: cannot overflow */
	g->data_offset = (header_end + g->alignment - 1) / g->alignment * g->alignment;
	if (g->n_tensors == 0)
		return 0;
	if (g->data_offset > g->size)
		return lr_errf(err, LR_EFORMAT,
			"truncated: tensor data should start at offset %" PRIu64 " but the file has %" PRIu64 " bytes",
			g->data_offset, g->size);
	data_size = g->size - g->data_offset;

	order = malloc(g->n_tensors * sizeof *order);
	if (!order)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		struct lr_gguf_tensor *t = &g->tensors[i];

		if (t->offset % g->alignment != 0) {
			rc = lr_errf(err, LR_EFORMAT,
				"tensor '%s' has offset %" PRIu64 ", not a multiple of the alignment %" PRIu32,
				t->name, t->offset, g->alignment);
			goto out;
		}
		if (t->offset > data_size || t->n_bytes > data_size - t->offset) {
			rc = lr_errf(err, LR_EFORMAT,
				"truncated: tensor '%s' (%" PRIu64 " bytes at data offset %" PRIu64
				") runs past the end of the file (%" PRIu64 " bytes of data)",
				t->name, t->n_bytes, t->offset, data_size);
			goto out;
		}
		t->data = g->base + g->data_offset + t->offset;
		order[i] = t;
	}
	qsort(order, g->n_tensors, sizeof *order, cmp_offset);
	for (uint64_t i = 1; i < g->n_tensors; i++) {
		if (order[i - 1]->offset + order[i - 1]->n_bytes > order[i]->offset) {
			rc = lr_errf(err, LR_EFORMAT, "tensors '%s' and '%s' overlap in the file",
				order[i - 1]->name, order[i]->name);
			goto out;
		}
	}
out:
	free(order);
	return rc;
}

/* ------------------------------------------------------------------------ open */

int lr_gguf_parse(struct lr_gguf **out, const void *data, size_t size, struct lr_err *err)
{
	struct lr_gguf *g = NULL;
	struct rd r = { data, size, 0, err };
	uint64_t name_bytes = 0;
	uint32_t version;
	int rc;

	*out = NULL;
	if (size < 4)
		return lr_errf(err, LR_EFORMAT, "not a GGUF file (only %zu bytes)", size);
	if (memcmp(data, "GGUF", 4) != 0) {
		const uint8_t *p = data;
		if (memcmp(p, "FUGG", 4) == 0)
			return lr_errf(err, LR_EUNSUPPORTED, "big-endian GGUF files are not supported");
		/* ggml's pre-GGUF magics 'ggml', 'ggmf', 'ggjt', stored as little-endian u32 */
		if (memcmp(p, "lmgg", 4) == 0 || memcmp(p, "fmgg", 4) == 0 || memcmp(p, "tjgg", 4) == 0)
			return lr_errf(err, LR_EUNSUPPORTED,
				"an old GGML/GGJT model file; convert it to GGUF with llama.cpp");
		return lr_errf(err, LR_EFORMAT,
			"not a GGUF file (starts with bytes %02x %02x %02x %02x, expected \"GGUF\")",
			p[0], p[1], p[2], p[3]);
	}
	if (size < HEADER_MIN)
		return lr_errf(err, LR_EFORMAT, "truncated: the GGUF header needs %u bytes, the file has %zu",
			HEADER_MIN, size);
	version = ld32((const uint8_t *)data + 4);
	if (version == 1)
		return lr_errf(err, LR_EUNSUPPORTED, "GGUF version 1 is not supported (only 2 and 3); "
			"re-convert the model with a current llama.cpp");
	if (version != 2 && version != 3) {
		if ((version & 0xffff) == 0 && (version >> 24) >= 1 && (version >> 24) <= 3)
			return lr_errf(err, LR_EUNSUPPORTED, "big-endian GGUF files are not supported");
		return lr_errf(err, LR_EUNSUPPORTED, "GGUF version %" PRIu32 " is not supported (only 2 and 3)",
			version);
	}

	g = calloc(1, sizeof *g);
	if (!g)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	g->version = version;
	g->base = data;
	g->size = size;

	if ((rc = parse_header(g, &r, 0, &name_bytes)))
		goto fail;
	g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
	g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
	g->names = malloc(name_bytes ? name_bytes : 1);
	if (!g->kv || !g->tensors || !g->names) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory for a header of %" PRIu64 " bytes", r.pos);
		goto fail;
	}
	rc = parse_header(g, &r, 1, &name_bytes);
	if (rc)
		goto fail; /* only allocation can fail the second time */

	if ((rc = index_new(&g->kv_hash, &g->kv_hash_mask, g->n_kv)) ||
	    (rc = index_new(&g->t_hash, &g->t_hash_mask, g->n_tensors))) {
		lr_errf(err, rc, "out of memory");
		goto fail;
	}
	for (uint64_t i = 0; i < g->n_kv; i++) {
		if (index_put(g->kv_hash, g->kv_hash_mask, g->kv[i].key, (uint32_t)i, kv_name, g) >= 0) {
			rc = lr_errf(err, LR_EFORMAT, "duplicate metadata key '%s'", g->kv[i].key);
			goto fail;
		}
	}
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		if (index_put(g->t_hash, g->t_hash_mask, g->tensors[i].name, (uint32_t)i, t_name, g) >= 0) {
			rc = lr_errf(err, LR_EFORMAT, "duplicate tensor name '%s'", g->tensors[i].name);
			goto fail;
		}
	}
	if ((rc = place_tensors(g, r.pos, err)))
		goto fail;
	*out = g;
	return 0;
fail:
	lr_gguf_close(g);
	return rc;
}

int lr_gguf_open(struct lr_gguf **out, const char *path, struct lr_err *err)
{
	struct stat st;
	void *map = MAP_FAILED;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO must not block: refused below */
	if (fd < 0)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	if (fstat(fd, &st) != 0) {
		rc = lr_errf_sys(err, errno, "cannot stat '%s'", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = lr_errf_sys(err, EISDIR, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = lr_errf(err, LR_EFORMAT, "'%s' is not a regular file", path);
		goto out;
	}
	if (st.st_size == 0) {
		rc = lr_errf(err, LR_EFORMAT, "'%s': empty file, not a GGUF model", path);
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = lr_errf_sys(err, errno, "cannot map '%s'", path);
		goto out;
	}
	rc = lr_gguf_parse(out, map, (size_t)st.st_size, err);
	if (rc) {
		munmap(map, (size_t)st.st_size);
		lr_err_prefix(err, "'%s': ", path);
		goto out;
	}
	(*out)->mapped = 1;
out:
	close(fd);
	return rc;
}

void lr_gguf_close(struct lr_gguf *g)
{
	if (!g)
		return;
	if (g->kv)
		for (uint64_t i = 0; i < g->n_kv; i++)
			free(g->kv[i].str_off);
	free(g->kv);
	free(g->tensors);
	free(g->names);
	free(g->kv_hash);
	free(g->t_hash);
	if (g->mapped)
		munmap((void *)g->base, (size_t)g->size);
	free(g);
}

/* ------------------------------------------------------------------------ getters */

static int is_int_type(uint32_t t)
{
	return t == LR_GGUF_U8 || t == LR_GGUF_I8 || t == LR_GGUF_U16 || t == LR_GGUF_I16 ||
	       t == LR_GGUF_U32 || t == LR_GGUF_I32 || t == LR_GGUF_U64 || t == LR_GGUF_I64 ||
	       t == LR_GGUF_BOOL;
}

static int is_unsigned(uint32_t t)
{
	return t == LR_GGUF_U8 || t == LR_GGUF_U16 || t == LR_GGUF_U32 || t == LR_GGUF_U64 ||
	       t == LR_GGUF_BOOL;
}

static int wrong_type(const struct lr_gguf_kv *kv, const char *want, struct lr_err *err)
{
	return lr_errf(err, LR_EFORMAT, "metadata key '%s' has type %s, expected %s",
		kv->key, vtype_names[kv->type], want);
}

static const struct lr_gguf_kv *find_or_err(const struct lr_gguf *g, const char *key, struct lr_err *err)
{
	const struct lr_gguf_kv *kv = lr_gguf_find(g, key);

	if (!kv)
		lr_errf(err, LR_ENOTFOUND, "metadata key '%s' is missing", key);
	return kv;
}

int lr_gguf_get_int(const struct lr_gguf *g, const char *key, int64_t *out, struct lr_err *err)
{
	const struct lr_gguf_kv *kv = find_or_err(g, key, err);

	if (!kv)
		return LR_ENOTFOUND;
	if (!is_int_type(kv->type))
		return wrong_type(kv, "an integer", err);
	if (is_unsigned(kv->type)) {
		if (kv->v.u > INT64_MAX)
			return lr_errf(err, LR_EFORMAT, "metadata key '%s': value %" PRIu64 " is too large",
				key, kv->v.u);
		*out = (int64_t)kv->v.u;
	} else {
		*out = kv->v.i;
	}
	return 0;
}

int lr_gguf_get_u32(const struct lr_gguf *g, const char *key, uint32_t *out, struct lr_err *err)
{
	int64_t v;
	int rc = lr_gguf_get_int(g, key, &v, err);

	if (rc)
		return rc;
	if (v < 0 || v > UINT32_MAX)
		return lr_errf(err, LR_EFORMAT, "metadata key '%s': value %" PRId64 " is out of range",
			key, v);
	*out = (uint32_t)v;
	return 0;
}

int lr_gguf_get_float(const struct lr_gguf *g, const char *key, double *out, struct lr_err *err)
{
	const struct lr_gguf_kv *kv = find_or_err(g, key, err);

	if (!kv)
		return LR_ENOTFOUND;
	if (kv->type == LR_GGUF_F32 || kv->type == LR_GGUF_F64)
		*out = kv->v.f;
	else if (is_int_type(kv->type))
		*out = is_unsigned(kv->type) ? (double)kv->v.u : (double)kv->v.i;
	else
		return wrong_type(kv, "a number", err);
	return 0;
}

int lr_gguf_get_str(const struct lr_gguf *g, const char *key, const char **out, uint64_t *len,
                    struct lr_err *err)
{
	const struct lr_gguf_kv *kv = find_or_err(g, key, err);

	if (!kv)
		return LR_ENOTFOUND;
	if (kv->type != LR_GGUF_STRING)
		return wrong_type(kv, "string", err);
	*out = kv->str;
	if (len)
		*len = kv->str_len;
	return 0;
}

int lr_gguf_get_arr(const struct lr_gguf *g, const char *key, enum lr_gguf_vtype elem,
                    const struct lr_gguf_kv **out, struct lr_err *err)
{
	const struct lr_gguf_kv *kv = find_or_err(g, key, err);

	if (!kv)
		return LR_ENOTFOUND;
	if (kv->type != LR_GGUF_ARRAY || kv->arr_type != elem)
		return lr_errf(err, LR_EFORMAT, "metadata key '%s' has type %s%s%s, expected array of %s",
			key, vtype_names[kv->type], kv->type == LR_GGUF_ARRAY ? " of " : "",
			kv->type == LR_GGUF_ARRAY ? lr_gguf_vtype_name(kv->arr_type) : "",
			vtype_names[elem]);
	*out = kv;
	return 0;
}

int64_t lr_gguf_arr_int(const struct lr_gguf_kv *kv, uint64_t i)
{
	const uint8_t *p;
	struct lr_gguf_kv tmp;

	assert(kv->type == LR_GGUF_ARRAY && is_int_type(kv->arr_type) && i < kv->arr_n);
	p = kv->arr_data + i * vsize(kv->arr_type);
	widen(&tmp, kv->arr_type, p);
	return is_unsigned(kv->arr_type) ? (int64_t)tmp.v.u : tmp.v.i;
}

double lr_gguf_arr_float(const struct lr_gguf_kv *kv, uint64_t i)
{
	struct lr_gguf_kv tmp;

	assert(kv->type == LR_GGUF_ARRAY && (kv->arr_type == LR_GGUF_F32 || kv->arr_type == LR_GGUF_F64)
	       && i < kv->arr_n);
	widen(&tmp, kv->arr_type, kv->arr_data + i * vsize(kv->arr_type));
	return tmp.v.f;
}

const char *lr_gguf_arr_str(const struct lr_gguf *g, const struct lr_gguf_kv *kv, uint64_t i,
                            uint64_t *len)
{
	const uint8_t *p;

	assert(kv->type == LR_GGUF_ARRAY && kv->arr_type == LR_GGUF_STRING && i < kv->arr_n);
	p = g->base + kv->str_off[i];
	*len = ld64(p);
	return (const char *)p + 8;
}
