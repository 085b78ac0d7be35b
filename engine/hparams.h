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
};

enum lr_rope_scaling {
	LR_ROPE_SCALING_NONE = 0,
	LR_ROPE_SCALING_LINEAR,     /* positions divided by a factor */
	LR_ROPE_SCALING_YARN,       /* not computed by longread yet: rejected by the model loader */
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
	int tied_output;           /* no output.weight: logits use token_embd.weight */
	int64_t file_type;         /* general.file_type, -1 if absent */
};

/* Read and validate.  Errors: LR_EUNSUPPORTED for an architecture other than those
 * above (message names it), LR_EFORMAT for missing or inconsistent values. */
int lr_hparams_load(struct lr_hparams *hp, const struct lr_gguf *g, struct lr_err *err);

/* llama.cpp's general.file_type names ("Q4_K_M"), or NULL for unknown values. */
const char *lr_file_type_name(int64_t ft);

#endif
