/* engine/hparams.c — read `<arch>.*` metadata into struct lr_hparams, with checks. */
#include "engine/hparams.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Caps well above every released model, low enough that products of any three of
 * them stay far inside 64 bits. */
#define CAP_LAYERS   1024u
#define CAP_EMBD     (1u << 17)
#define CAP_HEADS    4096u
#define CAP_HEAD_DIM 1024u
#define CAP_FF       (1u << 20)
#define CAP_VOCAB    (1u << 22)
#define CAP_CTX      (1u << 24)

static int get_u32(const struct lr_gguf *g, const char *arch, const char *suffix, uint32_t *out,
                   int required, uint32_t lo, uint32_t hi, struct lr_err *err)
{
	char key[128];
	int rc;

	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	rc = lr_gguf_get_u32(g, key, out, err);
	if (rc == LR_ENOTFOUND && !required)
		return 0;
	if (rc)
		return rc;
	if (*out < lo || *out > hi)
		return lr_errf(err, LR_EFORMAT, "metadata key '%s' is %" PRIu32 ", expected %" PRIu32
			" to %" PRIu32, key, *out, lo, hi);
	return 0;
}

static int get_f32(const struct lr_gguf *g, const char *arch, const char *suffix, float *out,
                   struct lr_err *err)
{
	char key[128];
	double v;
	int rc;

	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	rc = lr_gguf_get_float(g, key, &v, err);
	if (rc == LR_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (!isfinite(v) || v <= 0 || v > 1e30)
		return lr_errf(err, LR_EFORMAT, "metadata key '%s' is %g, expected a positive number", key, v);
	*out = (float)v;
	return 0;
}

int lr_hparams_load(struct lr_hparams *hp, const struct lr_gguf *g, struct lr_err *err)
{
	const struct lr_gguf_kv *kv;
	const struct lr_gguf_tensor *t;
	const char *arch, *s;
	uint64_t len;
	int rc;

	memset(hp, 0, sizeof *hp);
	rc = lr_gguf_get_str(g, "general.architecture", &arch, &len, err);
	if (rc == LR_ENOTFOUND)
		return lr_errf(err, LR_EFORMAT, "no general.architecture: not a model file");
	if (rc)
		return rc;
	if (strcmp(arch, "llama") == 0)
		hp->arch = LR_ARCH_LLAMA;
	else if (strcmp(arch, "qwen2") == 0)
		hp->arch = LR_ARCH_QWEN2;
	else
		return lr_errf(err, LR_EUNSUPPORTED,
			"architecture '%.*s' is not supported (supported: llama, qwen2)",
			(int)(len > 64 ? 64 : len), arch);
	hp->rope_neox = hp->arch == LR_ARCH_QWEN2;
	snprintf(hp->arch_name, sizeof hp->arch_name, "%s", arch);
	if (lr_gguf_get_str(g, "general.name", &s, NULL, NULL) == 0)
		snprintf(hp->name, sizeof hp->name, "%s", s);

	if ((rc = get_u32(g, arch, "block_count", &hp->n_layer, 1, 1, CAP_LAYERS, err)) ||
	    (rc = get_u32(g, arch, "embedding_length", &hp->n_embd, 1, 1, CAP_EMBD, err)) ||
	    (rc = get_u32(g, arch, "feed_forward_length", &hp->n_ff, 1, 1, CAP_FF, err)) ||
	    (rc = get_u32(g, arch, "attention.head_count", &hp->n_head, 1, 1, CAP_HEADS, err)) ||
	    (rc = get_u32(g, arch, "context_length", &hp->n_ctx_train, 1, 1, CAP_CTX, err)))
		return rc;
	hp->n_head_kv = hp->n_head;
	hp->head_dim = hp->n_embd / hp->n_head;
	if ((rc = get_u32(g, arch, "attention.head_count_kv", &hp->n_head_kv, 0, 1, CAP_HEADS, err)) ||
	    (rc = get_u32(g, arch, "attention.key_length", &hp->head_dim, 0, 1, CAP_HEAD_DIM, err)))
		return rc;
	hp->head_dim_v = hp->head_dim;
	hp->rope_dim = hp->head_dim;
	if ((rc = get_u32(g, arch, "attention.value_length", &hp->head_dim_v, 0, 1, CAP_HEAD_DIM, err)) ||
	    (rc = get_u32(g, arch, "rope.dimension_count", &hp->rope_dim, 0, 2, CAP_HEAD_DIM, err)))
		return rc;
	hp->rope_base = 10000.0f;
	hp->rms_eps = 1e-5f;
	hp->rope_scale = 1.0f;
	if ((rc = get_f32(g, arch, "rope.freq_base", &hp->rope_base, err)) ||
	    (rc = get_f32(g, arch, "attention.layer_norm_rms_epsilon", &hp->rms_eps, err)))
		return rc;

	{
		char key[128];
		snprintf(key, sizeof key, "%s.attention.key_length", arch);
		if (hp->n_embd % hp->n_head != 0 && !lr_gguf_find(g, key))
			return lr_errf(err, LR_EFORMAT, "embedding length %" PRIu32 " is not a multiple of "
				"the head count %" PRIu32, hp->n_embd, hp->n_head);
	}
	if (hp->n_head % hp->n_head_kv != 0)
		return lr_errf(err, LR_EFORMAT, "head count %" PRIu32 " is not a multiple of the KV "
			"head count %" PRIu32, hp->n_head, hp->n_head_kv);
	if (hp->head_dim % 2 != 0 || hp->rope_dim % 2 != 0 || hp->rope_dim > hp->head_dim)
		return lr_errf(err, LR_EFORMAT, "head dimension %" PRIu32 " / rope dimension %" PRIu32
			" must be even, rope no larger than head", hp->head_dim, hp->rope_dim);

	/* RoPE scaling.  Llama 3.1+ carries its "llama3" scaling as the rope_freqs tensor. */
	{
		char key[128];
		snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
		rc = lr_gguf_get_str(g, key, &s, NULL, err);
		if (rc == 0) {
			if (strcmp(s, "linear") == 0)
				hp->rope_scaling = LR_ROPE_SCALING_LINEAR;
			else if (strcmp(s, "yarn") == 0)
				hp->rope_scaling = LR_ROPE_SCALING_YARN;
			else if (strcmp(s, "none") != 0)
				return lr_errf(err, LR_EUNSUPPORTED, "rope scaling type '%.40s' is not supported", s);
		} else if (rc != LR_ENOTFOUND) {
			return rc;
		}
		if ((rc = get_f32(g, arch, "rope.scaling.factor", &hp->rope_scale, err)))
			return rc;
		if ((rc = get_u32(g, arch, "rope.scaling.original_context_length", &hp->rope_orig_ctx,
		                  0, 0, CAP_CTX, err)))
			return rc;
	}
	if (hp->rope_scaling == LR_ROPE_SCALING_YARN && hp->rope_scale < 1)
		return lr_errf(err, LR_EFORMAT, "YaRN rope scaling factor %g is below 1", hp->rope_scale);
	hp->n_ctx_file = hp->n_ctx_train;
	t = lr_gguf_find_tensor(g, "rope_freqs.weight");
	hp->has_rope_freqs = t != NULL;
	hp->has_qkv_bias = lr_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
	hp->tied_output = lr_gguf_find_tensor(g, "output.weight") == NULL;

	/* Vocabulary size: the tokenizer's token list, else llama.vocab_size, else token_embd. */
	if (lr_gguf_get_arr(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, &kv, NULL) == 0) {
		if (kv->arr_n == 0 || kv->arr_n > CAP_VOCAB)
			return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.tokens has %" PRIu64 " entries", kv->arr_n);
		hp->n_vocab = (uint32_t)kv->arr_n;
	} else if ((rc = get_u32(g, arch, "vocab_size", &hp->n_vocab, 0, 1, CAP_VOCAB, err))) {
		return rc;
	} else if (hp->n_vocab == 0) {
		t = lr_gguf_find_tensor(g, "token_embd.weight");
		if (!t || t->n_dims != 2 || t->ne[1] < 1 || t->ne[1] > (int64_t)CAP_VOCAB)
			return lr_errf(err, LR_EFORMAT, "cannot tell the vocabulary size: no tokenizer, "
				"no vocab_size, no usable token_embd.weight");
		hp->n_vocab = (uint32_t)t->ne[1];
	}

	hp->file_type = -1;
	if (lr_gguf_find(g, "general.file_type") &&
	    (rc = lr_gguf_get_int(g, "general.file_type", &hp->file_type, err)))
		return rc;
	return 0;
}

int lr_hparams_set_rope(struct lr_hparams *hp, enum lr_rope_scaling type, float factor, uint32_t orig_ctx,
                        struct lr_err *err)
{
	uint64_t ctx;

	if (type == LR_ROPE_SCALING_NONE) {
		hp->rope_scaling = type;
		hp->rope_scale = 1.0f;
		hp->rope_orig_ctx = 0;
		hp->n_ctx_train = hp->n_ctx_file;
		return 0;
	}
	if (!(factor >= 1.0f && factor <= 64.0f))
		return lr_errf(err, LR_EINVAL, "rope scaling factor %g is out of range (1 to 64)", factor);
	if (!orig_ctx)
		orig_ctx = hp->rope_orig_ctx ? hp->rope_orig_ctx : hp->n_ctx_file;
	hp->rope_scaling = type;
	hp->rope_scale = factor;
	hp->rope_orig_ctx = orig_ctx;
	ctx = (uint64_t)((double)orig_ctx * factor);
	if (ctx > CAP_CTX)
		ctx = CAP_CTX;
	hp->n_ctx_train = ctx > hp->n_ctx_file ? (uint32_t)ctx : hp->n_ctx_file;
	return 0;
}

const char *lr_rope_scaling_name(enum lr_rope_scaling r)
{
	return r == LR_ROPE_SCALING_LINEAR ? "linear" : r == LR_ROPE_SCALING_YARN ? "yarn" : "none";
}

int lr_rope_scaling_parse(const char *name)
{
	for (int r = LR_ROPE_SCALING_NONE; r <= LR_ROPE_SCALING_YARN; r++)
		if (strcmp(name, lr_rope_scaling_name((enum lr_rope_scaling)r)) == 0)
			return r;
	return -1;
}

const char *lr_file_type_name(int64_t ft)
{
	static const char *const names[] = {
		[0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0",
		[9] = "Q5_1", [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L",
		[14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K",
		[19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS", [23] = "IQ3_XXS",
		[24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M", [28] = "IQ2_S",
		[29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16", [36] = "TQ1_0",
		[37] = "TQ2_0",
	};

	if (ft < 0 || ft >= (int64_t)(sizeof names / sizeof names[0]))
		return NULL;
	return names[ft];
}
