/* engine/types.h — the tensor element types of GGUF files (ggml's numbering), with
 * their block geometry.  One table; everything that needs a type's size asks here.
 *
 * Block layouts themselves (the on-disk structs) live in engine/quant.h. */
#ifndef LR_TYPES_H
#define LR_TYPES_H

#include <stdint.h>

/* ggml's type ids as stored in GGUF tensor infos.  Ids 4, 5, 31..33 and 36..38 were
 * removed from ggml and never appear in valid files. */
enum lr_type {
	LR_TYPE_F32     = 0,
	LR_TYPE_F16     = 1,
	LR_TYPE_Q4_0    = 2,
	LR_TYPE_Q4_1    = 3,
	LR_TYPE_Q5_0    = 6,
	LR_TYPE_Q5_1    = 7,
	LR_TYPE_Q8_0    = 8,
	LR_TYPE_Q8_1    = 9,
	LR_TYPE_Q2_K    = 10,
	LR_TYPE_Q3_K    = 11,
	LR_TYPE_Q4_K    = 12,
	LR_TYPE_Q5_K    = 13,
	LR_TYPE_Q6_K    = 14,
	LR_TYPE_Q8_K    = 15,
	LR_TYPE_IQ2_XXS = 16,
	LR_TYPE_IQ2_XS  = 17,
	LR_TYPE_IQ3_XXS = 18,
	LR_TYPE_IQ1_S   = 19,
	LR_TYPE_IQ4_NL  = 20,
	LR_TYPE_IQ3_S   = 21,
	LR_TYPE_IQ2_S   = 22,
	LR_TYPE_IQ4_XS  = 23,
	LR_TYPE_I8      = 24,
	LR_TYPE_I16     = 25,
	LR_TYPE_I32     = 26,
	LR_TYPE_I64     = 27,
	LR_TYPE_F64     = 28,
	LR_TYPE_IQ1_M   = 29,
	LR_TYPE_BF16    = 30,
	LR_TYPE_TQ1_0   = 34,
	LR_TYPE_TQ2_0   = 35,
	LR_TYPE_MXFP4   = 39,
	LR_TYPE_COUNT   = 40   /* one past the largest id in the table */
};

struct lr_type_info {
	const char *name;      /* "Q4_K"; NULL for ids that are not types */
	uint32_t block_size;   /* elements per block (1 for plain types) */
	uint32_t type_size;    /* bytes per block */
	int weights_ok;        /* 1 if longread can compute with weights of this type */
};

/* The table entry for id t, or NULL if t is not a ggml type id (unknown or removed). */
const struct lr_type_info *lr_type_info(uint32_t t);

/* The type's name, or "?" for an unknown id. */
const char *lr_type_name(uint32_t t);

/* The names of the types longread computes with (weights_ok), space-separated, for
 * messages.  A static string. */
const char *lr_type_weight_names(void);

/* Look up a type by name, case-insensitive ("q4_k", "F16").  Returns the id, or -1. */
int lr_type_from_name(const char *name);

/* Bytes of a row of n elements of type t.  Returns 0 and stores the size; LR_EFORMAT
 * if n is not a multiple of the block size; LR_EUNSUPPORTED for an unknown t. */
int lr_type_row_bytes(uint32_t t, uint64_t n, uint64_t *bytes);

#endif
