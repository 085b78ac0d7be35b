/* engine/hparams.h — a model's hyper-parameters, read from GGUF metadata and checked.
 *
 * Everything later sizes buffers from these numbers, so they are validated here once:
 * positive, mutually consistent (heads divide the embedding, KV heads divide heads,
 * even head dimension for RoPE), and below caps that keep all size arithmetic in
 * 64 bits.  Supported architectures: "llama" (Llama 2/3.x and derivatives). */
#ifndef LR_HPARAMS_H
#define LR_HPARAMS_H

#include <stdint.h>

#include "engine/err.h"
#include "engine/gguf.h"

enum lr_arch {
	LR_ARCH_LLAMA = 1,
	LR_ARCH_QWEN2,
};

enum lr_rope_scaling {
	LR_ROPE_SCALING_NONE = 0,
	LR_ROPE_SCALING_LINEAR,     /* positions divided by a factor */
	LR_ROPE_SCALING_YARN,       /* YaRN (static, as llama.cpp and Hugging Face apply it) */
};

struct lr_hparams {
	enum lr_arch arch;
	char arch_name[32];
	char name[128];            /* general.name, or "" */
	uint32_t n_layer;
	uint32_t n_embd;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim;         /* attention.key_length, default n_embd / n_head */
	uint32_t head_dim_v;       /* attention.value_length, default head_dim */
	uint32_t n_ff;
	uint32_t n_ctx_train;      /* context_length */
	uint32_t n_vocab;
	uint32_t rope_dim;         /* rope.dimension_count, default head_dim */
	float rope_base;           /* rope.freq_base, default 10000 */
	float rms_eps;             /* attention.layer_norm_rms_epsilon */
	enum lr_rope_scaling rope_scaling;
	float rope_scale;          /* rope.scaling.factor (linear/yarn), 1 if none */
	uint32_t rope_orig_ctx;    /* rope.scaling.original_context_length, 0 if absent */
	int has_rope_freqs;        /* rope_freqs.weight present (Llama 3.1+ frequency factors) */
	int rope_neox;             /* rotate pairs (x[i], x[i + rope_dim/2]), not (x[2i], x[2i+1]) */
	int has_qkv_bias;          /* attn_{q,k,v}.bias present (qwen2) */
	uint32_t n_ctx_file;       /* context_length as the file says (n_ctx_train may be raised
	                              by lr_hparams_set_rope) */
	int tied_output;           /* no output.weight: logits use token_embd.weight */
	int64_t file_type;         /* general.file_type, -1 if absent */
};

/* Read and validate.  Errors: LR_EUNSUPPORTED for an architecture other than those
 * above (message names it), LR_EFORMAT for missing or inconsistent values. */
int lr_hparams_load(struct lr_hparams *hp, const struct lr_gguf *g, struct lr_err *err);

/* Set the RoPE scaling a file lacks or gets wrong (llama.cpp's --rope-scaling,
 * --rope-scale, --yarn-orig-ctx): YaRN or linear scaling by factor over orig_ctx
 * trained positions (0: the file's context length).  The usable context becomes
 * factor x orig_ctx when that is more than the file's.  LR_EINVAL for a factor below 1
 * or above 64. */
int lr_hparams_set_rope(struct lr_hparams *hp, enum lr_rope_scaling type, float factor, uint32_t orig_ctx,
                        struct lr_err *err);

/* "none", "linear", "yarn"; and back (-1 for another name) */
const char *lr_rope_scaling_name(enum lr_rope_scaling r);
int lr_rope_scaling_parse(const char *name);

/* llama.cpp's general.file_type names ("Q4_K_M"), or NULL for unknown values. */
const char *lr_file_type_name(int64_t ft);

#endif
