/* engine/gguf.h — read GGUF v2/v3 model files (the format Llama 3.x is distributed in).
 *
 * The file is mapped read-only and never copied: tensor data, metadata arrays and
 * string values point into the map.  Everything in the file is untrusted: every count,
 * length, offset and size is checked against the file size (64-bit, overflow-checked)
 * before it is used, so a malformed file yields LR_EFORMAT or LR_EUNSUPPORTED with a
 * message, never a crash.  Tensor types must be ggml type ids known to engine/types.h;
 * whether longread can compute with them is checked by the model loader, not here.
 *
 * Layout (little-endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 * n_kv × (string key, u32 type, value), n_tensors × (string name, u32 n_dims,
 * u64 ne[n_dims], u32 type, u64 offset), padding to general.alignment (default 32),
 * tensor data.  A string is u64 length + bytes (no NUL).  An array is u32 element
 * type + u64 count + elements. */
#ifndef LR_GGUF_H
#define LR_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

enum lr_gguf_vtype {
	LR_GGUF_U8 = 0, LR_GGUF_I8 = 1, LR_GGUF_U16 = 2, LR_GGUF_I16 = 3,
	LR_GGUF_U32 = 4, LR_GGUF_I32 = 5, LR_GGUF_F32 = 6, LR_GGUF_BOOL = 7,
	LR_GGUF_STRING = 8, LR_GGUF_ARRAY = 9, LR_GGUF_U64 = 10, LR_GGUF_I64 = 11,
	LR_GGUF_F64 = 12,
	LR_GGUF_VTYPE_COUNT
};

#define LR_GGUF_MAX_DIMS 4
#define LR_GGUF_DEFAULT_ALIGNMENT 32

/* One metadata key/value pair.  Read-only for users. */
struct lr_gguf_kv {
	const char *key;             /* NUL-terminated copy, owned by the lr_gguf */
	enum lr_gguf_vtype type;
	/* scalar values (type not STRING/ARRAY), widened: */
	union {
		uint64_t u;              /* U8, U16, U32, U64, BOOL (0/1) */
		int64_t i;               /* I8, I16, I32, I64 */
		double f;                /* F32, F64 */
	} v;
	/* STRING: a NUL-terminated copy (may contain NULs; str_len is authoritative) */
	const char *str;
	uint64_t str_len;
	/* ARRAY: element type, count, and where the elements start in the map.  Fixed-size
	 * elements are packed little-endian and may be unaligned: use the accessors below.
	 * For arrays of strings, str_off[i] is the offset in the map of element i's
	 * length prefix.  Arrays of arrays are validated but their elements are opaque. */
	enum lr_gguf_vtype arr_type;
	uint64_t arr_n;
	const uint8_t *arr_data;
	uint64_t *str_off;
};

/* One tensor info.  Read-only for users. */
struct lr_gguf_tensor {
	const char *name;            /* NUL-terminated copy, owned by the lr_gguf */
	uint32_t n_dims;
	int64_t ne[LR_GGUF_MAX_DIMS];/* ggml order: ne[0] is the contiguous (row) length;
	                                unused dimensions are 1 */
	uint32_t type;               /* ggml type id (engine/types.h) */
	uint64_t offset;             /* from the start of the data section */
	uint64_t n_elements;
	uint64_t n_bytes;
	const void *data;            /* into the map; valid until lr_gguf_close */
};

struct lr_gguf {
	uint32_t version;            /* 2 or 3 */
	uint64_t n_kv;
	struct lr_gguf_kv *kv;       /* [n_kv], file order */
	uint64_t n_tensors;
	struct lr_gguf_tensor *tensors; /* [n_tensors], file order */
	uint32_t alignment;          /* general.alignment or 32 */
	uint64_t data_offset;        /* start of the tensor data section in the file */
	const uint8_t *base;         /* the whole file, read-only */
	uint64_t size;               /* its size in bytes */
	/* private */
	int mapped;
	uint32_t *kv_hash, *t_hash;  /* open-addressing indexes, entries are index + 1 */
	uint32_t kv_hash_mask, t_hash_mask;
	char *names;                 /* one allocation for keys, names and string values */
};

/* Open and validate a GGUF file.  On success *out is a new object; close it with
 * lr_gguf_close.  Errors: LR_EIO (cannot open or map), LR_EFORMAT (malformed),
 * LR_EUNSUPPORTED (version 1, big-endian, ...), LR_ENOMEM.  The message names path. */
int lr_gguf_open(struct lr_gguf **out, const char *path, struct lr_err *err);

/* Parse a GGUF image already in memory (borrowed: must outlive the object).  Same
 * checks and errors as lr_gguf_open; used by the fuzz target and tests. */
int lr_gguf_parse(struct lr_gguf **out, const void *data, size_t size, struct lr_err *err);

/* Release everything (unmaps the file).  Accepts NULL. */
void lr_gguf_close(struct lr_gguf *g);

/* Lookup by exact name; NULL if absent.  O(1). */
const struct lr_gguf_kv *lr_gguf_find(const struct lr_gguf *g, const char *key);
const struct lr_gguf_tensor *lr_gguf_find_tensor(const struct lr_gguf *g, const char *name);

/* Typed getters.  Return 0 and store the value; LR_ENOTFOUND if the key is absent;
 * LR_EFORMAT (with a message naming the key) if it has an incompatible type or the
 * value does not fit.  get_int accepts any integer type (and BOOL), get_float any
 * float or integer type, get_str only STRING (the pointer is borrowed, NUL-terminated;
 * len may be NULL). */
int lr_gguf_get_int(const struct lr_gguf *g, const char *key, int64_t *out, struct lr_err *err);
int lr_gguf_get_u32(const struct lr_gguf *g, const char *key, uint32_t *out, struct lr_err *err);
int lr_gguf_get_float(const struct lr_gguf *g, const char *key, double *out, struct lr_err *err);
int lr_gguf_get_str(const struct lr_gguf *g, const char *key, const char **out, uint64_t *len,
                    struct lr_err *err);
/* An array of the given element type: its count and the kv (for the accessors). */
int lr_gguf_get_arr(const struct lr_gguf *g, const char *key, enum lr_gguf_vtype elem,
                    const struct lr_gguf_kv **out, struct lr_err *err);

/* Array element accessors; i must be < kv->arr_n and the element type must match
 * (these are our own invariants, asserted). */
int64_t lr_gguf_arr_int(const struct lr_gguf_kv *kv, uint64_t i);     /* any integer type */
double lr_gguf_arr_float(const struct lr_gguf_kv *kv, uint64_t i);    /* F32 or F64 */
/* Element i of a string array: pointer into the map (not NUL-terminated) and length. */
const char *lr_gguf_arr_str(const struct lr_gguf *g, const struct lr_gguf_kv *kv, uint64_t i,
                            uint64_t *len);

/* Name of a metadata value type ("u32", "string", ...). */
const char *lr_gguf_vtype_name(uint32_t t);

#endif
