/* engine/model.c — bind and check the tensors of a Llama- or Qwen2-architecture GGUF.
 * Tensor names follow llama.cpp's converter; they live in this file only. */
#include "engine/model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/quant.h"
#include "engine/types.h"

static int bind_matrix(const struct lr_gguf *g, const char *name, int64_t n_in, int64_t n_out,
                       struct lr_weight *w, struct lr_err *err)
{
	const struct lr_gguf_tensor *t = lr_gguf_find_tensor(g, name);
	const struct lr_type_info *ti;

	if (!t)
		return lr_errf(err, LR_EFORMAT, "tensor '%s' is missing", name);
	if (t->n_dims != 2 || t->ne[0] != n_in || t->ne[1] != n_out)
		return lr_errf(err, LR_EFORMAT, "tensor '%s' has shape [%" PRId64 ", %" PRId64 "], expected "
			"[%" PRId64 ", %" PRId64 "]", name, t->ne[0], t->n_dims > 1 ? t->ne[1] : 1, n_in, n_out);
	ti = lr_type_info(t->type);
	if (!ti->weights_ok)
		return lr_errf(err, LR_EUNSUPPORTED, "tensor '%s' has unsupported type %s (longread "
			"computes with %s)", name, ti->name, lr_type_weight_names());
	w->name = t->name;
	w->type = t->type;
	w->n_in = n_in;
	w->n_out = n_out;
	w->row_bytes = t->n_bytes / (uint64_t)n_out;
	w->data = t->data;
	return 0;
}

/* A 1-D tensor of n values, converted to float32 into dst. */
static int bind_vector(const struct lr_gguf *g, const char *name, int64_t n, float *dst,
                       struct lr_err *err)
{
	const struct lr_gguf_tensor *t = lr_gguf_find_tensor(g, name);

	if (!t)
		return lr_errf(err, LR_EFORMAT, "tensor '%s' is missing", name);
	if (t->n_elements != (uint64_t)n || t->ne[0] != n)
		return lr_errf(err, LR_EFORMAT, "tensor '%s' has %" PRIu64 " elements, expected %" PRId64,
			name, t->n_elements, n);
	if (!lr_type_info(t->type)->weights_ok || lr_dequant_row(t->type, t->data, dst, n) != 0)
		return lr_errf(err, LR_EUNSUPPORTED, "tensor '%s' has type %s, which longread cannot read",
			name, lr_type_name(t->type));
	return 0;
}

int lr_model_from_gguf(struct lr_model **out, struct lr_gguf *g, struct lr_err *err)
{
	struct lr_model *m = NULL;
	const struct lr_hparams *hp;
	int64_t embd, q_dim, kv_dim, v_dim, n_rope;
	uint64_t n_vec;
	float *v;
	char name[96];
	int rc;

	*out = NULL;
	m = calloc(1, sizeof *m);
	if (!m) {
		lr_gguf_close(g);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	m->gguf = g;
	if ((rc = lr_hparams_load(&m->hp, g, err)))
		goto fail;
	hp = &m->hp;
	if (hp->arch == LR_ARCH_QWEN2 && !hp->has_qkv_bias) {
		rc = lr_errf(err, LR_EFORMAT, "tensor 'blk.0.attn_q.bias' is missing (a qwen2 model has "
			"biases on Q, K and V)");
		goto fail;
	}
	embd = hp->n_embd;
	q_dim = (int64_t)hp->n_head * hp->head_dim;
	kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
	v_dim = (int64_t)hp->n_head_kv * hp->head_dim_v;
	n_rope = hp->rope_dim / 2;

	/* all float vectors in one block: 2 norms (and 3 biases) per layer, output norm,
	 * rope factors */
	n_vec = (2 * (uint64_t)hp->n_layer + 1) * (uint64_t)embd + (uint64_t)n_rope;
	if (hp->has_qkv_bias)
		n_vec += (uint64_t)hp->n_layer * (uint64_t)(q_dim + kv_dim + v_dim);
	m->vectors = malloc(n_vec * sizeof(float));
	m->layers = calloc(hp->n_layer, sizeof *m->layers);
	if (!m->vectors || !m->layers) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	v = m->vectors;

	if ((rc = bind_matrix(g, "token_embd.weight", embd, hp->n_vocab, &m->tok_embd, err)))
		goto fail;
	if (hp->tied_output)
		m->output = m->tok_embd;
	else if ((rc = bind_matrix(g, "output.weight", embd, hp->n_vocab, &m->output, err)))
		goto fail;
	if ((rc = bind_vector(g, "output_norm.weight", embd, v, err)))
		goto fail;
	m->output_norm = v;
	v += embd;
	if (hp->has_rope_freqs) {
		if ((rc = bind_vector(g, "rope_freqs.weight", n_rope, v, err)))
			goto fail;
		for (int64_t i = 0; i < n_rope; i++) {
			if (!(v[i] > 0) || v[i] > 1e6f) {
				rc = lr_errf(err, LR_EFORMAT, "rope_freqs.weight[%" PRId64 "] is %g, not a positive "
					"frequency factor", i, v[i]);
				goto fail;
			}
		}
		m->rope_freqs = v;
		v += n_rope;
	}
	for (uint32_t i = 0; i < hp->n_layer; i++) {
		struct lr_layer *l = &m->layers[i];
#define N(suffix) (snprintf(name, sizeof name, "blk.%" PRIu32 "." suffix, i), name)
		if ((rc = bind_vector(g, N("attn_norm.weight"), embd, v, err)))
			goto fail;
		l->attn_norm = v;
		v += embd;
		if ((rc = bind_vector(g, N("ffn_norm.weight"), embd, v, err)))
			goto fail;
		l->ffn_norm = v;
		v += embd;
		if (hp->has_qkv_bias) {
			if ((rc = bind_vector(g, N("attn_q.bias"), q_dim, v, err)) ||
			    (rc = bind_vector(g, N("attn_k.bias"), kv_dim, v + q_dim, err)) ||
			    (rc = bind_vector(g, N("attn_v.bias"), v_dim, v + q_dim + kv_dim, err)))
				goto fail;
			l->bq = v;
			l->bk = v + q_dim;
			l->bv = v + q_dim + kv_dim;
			v += q_dim + kv_dim + v_dim;
		}
		if ((rc = bind_matrix(g, N("attn_q.weight"), embd, q_dim, &l->wq, err)) ||
		    (rc = bind_matrix(g, N("attn_k.weight"), embd, kv_dim, &l->wk, err)) ||
		    (rc = bind_matrix(g, N("attn_v.weight"), embd, v_dim, &l->wv, err)) ||
		    (rc = bind_matrix(g, N("attn_output.weight"), (int64_t)hp->n_head * hp->head_dim_v, embd,
		                      &l->wo, err)) ||
		    (rc = bind_matrix(g, N("ffn_gate.weight"), embd, hp->n_ff, &l->w_gate, err)) ||
		    (rc = bind_matrix(g, N("ffn_up.weight"), embd, hp->n_ff, &l->w_up, err)) ||
		    (rc = bind_matrix(g, N("ffn_down.weight"), hp->n_ff, embd, &l->w_down, err)))
			goto fail;
#undef N
	}
	for (uint64_t i = 0; i < g->n_tensors; i++)
		m->n_params += g->tensors[i].n_elements;
	*out = m;
	return 0;
fail:
	lr_model_close(m);
	return rc;
}

int lr_model_open(struct lr_model **out, const char *path, struct lr_err *err)
{
	struct lr_gguf *g = NULL;
	int rc;

	*out = NULL;
	if ((rc = lr_gguf_open(&g, path, err)))
		return rc;
	rc = lr_model_from_gguf(out, g, err);
	if (rc)
		lr_err_prefix(err, "'%s': ", path);
	return rc;
}

void lr_model_close(struct lr_model *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m->vectors);
	lr_gguf_close(m->gguf);
	free(m);
}
