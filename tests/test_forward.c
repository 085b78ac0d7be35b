/* tests/test_forward.c — the fast forward pass (engine/forward.c) against the plain
 * reference pass (engine/forward_ref.c) on generated models of several shapes, and
 * the properties the rest of longread relies on: the same logits whatever the batch
 * size, thread count or rewinding; clean errors for bad ids, overflowing windows and
 * broken model files.  Models come from $GENMODEL (tests/lr-genmodel). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "engine/model.h"
#include "engine/types.h"
#include "tests/gguf_build.h"
#include "tests/tap.h"

#define N_TOK 40

static const char *genmodel(void)
{
	const char *g = getenv("GENMODEL");

	return g && *g ? g : "tests/lr-genmodel";
}

static struct lr_model *make_model(const char *name, const char *args)
{
	char path[1024], cmd[4096];
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };

	snprintf(path, sizeof path, "%s/fwd-%s.gguf", tap_tmpdir(), name);
	snprintf(cmd, sizeof cmd, "'%s' -o '%s' %s", genmodel(), path, args);
	if (system(cmd) != 0) {
		tap_diag("cannot run: %s", cmd);
		return NULL;
	}
	if (lr_model_open(&m, path, &err)) {
		tap_diag("%s", err.msg);
		return NULL;
	}
	return m;
}

static void ids_for(const struct lr_model *m, int32_t *ids, int n, uint32_t seed)
{
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		ids[i] = (int32_t)((seed >> 8) % m->hp.n_vocab);
	}
}

/* all logits of n tokens through the fast pass, evaluated in chunks of `chunk` */
static int fast(const struct lr_model *m, const int32_t *ids, int n, int chunk, int threads,
                enum lr_kv_type kv, float *out)
{
	struct lr_ctx_params cp = { .n_ctx = (uint32_t)n, .n_threads = threads, .kv_type = kv,
	                            .n_batch = (uint32_t)chunk };
	struct lr_ctx *c = NULL;
	struct lr_err err = { 0 };
	uint8_t want[N_TOK * 4];
	int rc;

	memset(want, 1, sizeof want);
	if ((rc = lr_ctx_new(&c, m, &cp, &err)) != 0) {
		tap_diag("%s", err.msg);
		return rc;
	}
	for (int t0 = 0; t0 < n && !rc; t0 += chunk) {
		int nb = n - t0 < chunk ? n - t0 : chunk;
		rc = lr_eval(c, ids + t0, (uint32_t)nb, want, out + (size_t)t0 * m->hp.n_vocab, &err);
	}
	lr_ctx_free(c);
	return rc;
}

/* fast vs reference on one model; float weights must agree closely, quantized ones
 * within 8-bit activation error */
static void compare_passes(const char *name, struct lr_model *m, double tol)
{
	int32_t ids[N_TOK];
	float *a, *b;
	struct lr_err err = { 0 };
	size_t nv;

	if (!tap_ok(m != NULL, "%s: model loads", name))
		return;
	nv = (size_t)N_TOK * m->hp.n_vocab;
	a = malloc(nv * sizeof *a);
	b = malloc(nv * sizeof *b);
	ids_for(m, ids, N_TOK, 7);
	if (tap_ok(lr_forward_ref(m, ids, N_TOK, NULL, b, &err) == 0, "%s: reference pass", name) &&
	    tap_ok(fast(m, ids, N_TOK, N_TOK, 2, LR_KV_F32, a) == 0, "%s: fast pass", name)) {
		double e = tap_rel_l2(a, b, nv);
		tap_ok(e < tol, "%s: fast pass matches the reference (rel L2 %.3g < %.0g)", name, e, tol);
	}
	free(a);
	free(b);
	lr_model_close(m);
}

static void versus_reference(const char *name, const char *args, double tol)
{
	compare_passes(name, make_model(name, args), tol);
}

/* The same on a golden file (golden/PATH): the qwen2 models, which lr-genmodel does
 * not make (biases, NEOX rotation, YaRN). */
static void versus_reference_golden(const char *name, const char *path, double tol)
{
	char full[1024];
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };

	if (!tap_golden(path))
		return;
	snprintf(full, sizeof full, "%s/golden/%s", tap_shared(), path);
	if (lr_model_open(&m, full, &err))
		tap_diag("%s", err.msg);
	compare_passes(name, m, tol);
}

/* Float weights: batching must not change the logits beyond float rounding.  (With
 * 8-bit activations a rounding difference can flip an activation code, which the
 * random models amplify; those are checked for thread invariance, bit for bit.) */
static void invariances(const char *name, const char *args, double tol_batch, double tol_f16)
{
	struct lr_model *m = make_model(name, args);
	int32_t ids[N_TOK];
	float *all, *chunked, *one, *t1, *t3, *kv16;
	size_t nv;

	if (!tap_ok(m != NULL, "invariance model loads"))
		return;
	nv = (size_t)N_TOK * m->hp.n_vocab;
	all = malloc(nv * 4); chunked = malloc(nv * 4); one = malloc(nv * 4);
	t1 = malloc(nv * 4); t3 = malloc(nv * 4); kv16 = malloc(nv * 4);
	ids_for(m, ids, N_TOK, 99);
	fast(m, ids, N_TOK, N_TOK, 2, LR_KV_F32, all);
	fast(m, ids, N_TOK, 7, 2, LR_KV_F32, chunked);
	fast(m, ids, N_TOK, 1, 2, LR_KV_F32, one);
	fast(m, ids, N_TOK, N_TOK, 1, LR_KV_F32, t1);
	fast(m, ids, N_TOK, N_TOK, 3, LR_KV_F32, t3);
	fast(m, ids, N_TOK, N_TOK, 2, LR_KV_F16, kv16);
	tap_ok(tap_rel_l2(chunked, all, nv) < tol_batch, "%s: batches of 7 give the logits of one batch (%.2g)",
	       name, tap_rel_l2(chunked, all, nv));
	tap_ok(tap_rel_l2(one, all, nv) < tol_batch, "%s: token-by-token decode gives the logits of one batch (%.2g)",
	       name, tap_rel_l2(one, all, nv));
	tap_ok(memcmp(t1, all, nv * 4) == 0 && memcmp(t3, all, nv * 4) == 0,
	       "%s: 1, 2 and 3 threads give bit-identical logits", name);
	tap_ok(tap_rel_l2(kv16, all, nv) < tol_f16, "%s: an f16 KV cache stays close to f32 (%.2g)", name,
	       tap_rel_l2(kv16, all, nv));
	/* quantized caches: the same cache contents whatever the batching (the key centre
	 * comes from the first 16 tokens alone), so only bf16 probability rounding in the
	 * value products differs between batchings */
	for (int t = LR_KV_Q8; t <= LR_KV_Q4; t++) {
		float *qa = malloc(nv * 4), *qb = malloc(nv * 4);
		fast(m, ids, N_TOK, N_TOK, 2, (enum lr_kv_type)t, qa);
		fast(m, ids, N_TOK, 1, 2, (enum lr_kv_type)t, qb);
		tap_ok(tap_rel_l2(qb, qa, nv) < tol_batch + 4e-3, "%s: %s cache, token-by-token decode gives the logits of "
		       "one batch (%.2g)", name, lr_kv_type_name((enum lr_kv_type)t), tap_rel_l2(qb, qa, nv));
		free(qa);
		free(qb);
	}

	/* rewind: 30 tokens, back to 20, 10 others == 20 + those 10 fresh */
	{
		struct lr_ctx_params cp = { .n_ctx = N_TOK, .n_threads = 2 };
		struct lr_ctx *c = NULL;
		struct lr_err err = { 0 };
		int32_t other[N_TOK];
		float *x = malloc(10 * m->hp.n_vocab * 4), *y = malloc(nv * 4);
		uint8_t want[N_TOK];
		memcpy(other, ids, sizeof other);
		for (int i = 20; i < 30; i++)
			other[i] = (ids[i] + 1) % (int32_t)m->hp.n_vocab;
		memset(want, 1, sizeof want);
		lr_ctx_new(&c, m, &cp, &err);
		lr_eval(c, ids, 30, NULL, y, &err);
		lr_ctx_rewind(c, 20);
		tap_is_int(lr_ctx_pos(c), 20, "rewind moves the position back");
		lr_eval(c, other + 20, 10, want, x, &err);
		lr_ctx_free(c);
		fast(m, other, 30, 30, 2, LR_KV_F32, y);
		tap_ok(tap_rel_l2(x, y + 20 * (size_t)m->hp.n_vocab, 10 * (size_t)m->hp.n_vocab) < tol_batch,
		       "%s: after rewinding, new tokens see only the kept prefix", name);
		free(x);
		free(y);
	}
	/* errors */
	{
		struct lr_ctx_params cp = { .n_ctx = 8, .n_threads = 2 };
		struct lr_ctx *c = NULL;
		struct lr_err err = { 0 };
		int32_t bad[2] = { 1, (int32_t)m->hp.n_vocab };
		float *x = malloc(m->hp.n_vocab * 4);
		lr_ctx_new(&c, m, &cp, &err);
		tap_ok(lr_eval(c, bad, 2, NULL, x, &err) == LR_EINVAL && strstr(err.msg, "outside the vocabulary") &&
		       lr_ctx_pos(c) == 0, "an id outside the vocabulary is refused before anything runs (%s)", err.msg);
		tap_ok(lr_eval(c, ids, 9, NULL, x, &err) == LR_ERANGE && lr_ctx_pos(c) == 0,
		       "9 tokens do not fit a window of 8 (%s)", err.msg);
		lr_ctx_free(c);
		cp.n_ctx = m->hp.n_ctx_train + 1;
		tap_ok(lr_ctx_new(&c, m, &cp, &err) == LR_ERANGE && c == NULL,
		       "a window longer than the model's context is refused (%s)", err.msg);
		free(x);
	}
	free(all); free(chunked); free(one); free(t1); free(t3); free(kv16);
	lr_model_close(m);
}

/* A model file with one defect: the loader names it. */
/* A one-layer, 64-wide F32 model into w (weights zero): tensor drop left out, tensor
 * reshape one row too many, attn_q in type_of_q. */
static void tiny_model(struct gw *w, const char *drop, const char *reshape, uint32_t type_of_q)
{
	static const char *const names[] = {
		"token_embd.weight", "output_norm.weight", "output.weight", "blk.0.attn_norm.weight",
		"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.0.attn_output.weight",
		"blk.0.ffn_norm.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight",
	};
	int64_t shapes[][2] = { { 64, 300 }, { 64, 0 }, { 64, 300 }, { 64, 0 }, { 64, 64 }, { 64, 32 },
	                        { 64, 32 }, { 64, 64 }, { 64, 0 }, { 64, 96 }, { 64, 96 }, { 96, 64 } };

	gw_init(w);
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_u32(w, "llama.block_count", 1);
	gw_kv_u32(w, "llama.embedding_length", 64);
	gw_kv_u32(w, "llama.feed_forward_length", 96);
	gw_kv_u32(w, "llama.attention.head_count", 2);
	gw_kv_u32(w, "llama.attention.head_count_kv", 1);
	gw_kv_u32(w, "llama.context_length", 256);
	gw_kv_u32(w, "llama.vocab_size", 300);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		int64_t ne[2] = { shapes[i][0], shapes[i][1] };
		uint32_t type = LR_TYPE_F32;
		if (drop && strcmp(drop, names[i]) == 0)
			continue;
		if (reshape && strcmp(reshape, names[i]) == 0)
			ne[1] += 1;
		if (strcmp(names[i], "blk.0.attn_q.weight") == 0)
			type = type_of_q;
		gw_tensor(w, names[i], type, ne[1] ? 2 : 1, ne);
	}
}

static void broken(const char *name, int code, const char *needle, const char *drop, const char *reshape,
                   uint32_t type_of_q)
{
	struct gw w;
	struct gbuf img = { 0 };
	struct lr_gguf *g = NULL;
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };
	int rc;

	tiny_model(&w, drop, reshape, type_of_q);
	gw_image(&w, &img, NULL, NULL);
	rc = lr_gguf_parse(&g, img.p, img.n, &err);
	if (rc == 0)
		rc = lr_model_from_gguf(&m, g, &err);
	tap_ok(rc == code && strstr(err.msg, needle), "broken model, %s: code %d (%s)", name, rc, err.msg);
	lr_model_close(m);
	gb_free(&img);
	gw_free(&w);
}

/* Values that are not finite numbers (a damaged file: NaN weights, or weights so large
 * that activations overflow) end the evaluation with an error naming the layer, before
 * anything quantizes them (undefined behaviour in the SIMD conversions); the context
 * stays usable for good tokens. */
static void non_finite(void)
{
	struct gw w;
	struct gbuf img = { 0 };
	struct lr_gguf *g = NULL;
	struct lr_model *m = NULL;
	struct lr_ctx *c = NULL;
	struct lr_ctx_params cp = { .n_ctx = 64, .n_threads = 2 };
	struct lr_err err = { 0 };
	const struct lr_gguf_tensor *t;
	float *logits = malloc(300 * sizeof *logits), *row;
	int32_t id;
	int rc;

	tiny_model(&w, "output.weight", NULL, LR_TYPE_F32);   /* tied: the logits use token_embd */
	gw_image(&w, &img, NULL, NULL);
	if (!tap_ok(lr_gguf_parse(&g, img.p, img.n, &err) == 0, "non-finite: the model parses")) {
		gb_free(&img);
		gw_free(&w);
		free(logits);
		return;
	}
	/* token 5's embedding is NaN, token 6's so large that its square overflows */
	t = lr_gguf_find_tensor(g, "token_embd.weight");
	row = (float *)(uintptr_t)t->data;
	for (int i = 0; i < 64; i++) {
		row[5 * 64 + i] = NAN;
		row[6 * 64 + i] = 1e30f;
		row[7 * 64 + i] = 0.5f;
	}
	if (lr_model_from_gguf(&m, g, &err) || lr_ctx_new(&c, m, &cp, &err)) {
		tap_ok(0, "non-finite: the model opens (%s)", err.msg);
	} else {
		id = 5;
		rc = lr_eval(c, &id, 1, NULL, logits, &err);
		tap_ok(rc == LR_EFORMAT && strstr(err.msg, "layer 0 of the model produced values that are not finite"),
		       "a NaN embedding: LR_EFORMAT naming layer 0 (%s)", err.msg);
		id = 6;
		rc = lr_eval(c, &id, 1, NULL, logits, &err);
		tap_ok(rc == LR_EFORMAT && strstr(err.msg, "layer 0"), "an embedding whose square overflows: the same");
		id = 7;
		rc = lr_eval(c, &id, 1, NULL, logits, &err);
		tap_ok(rc == 0 && lr_ctx_pos(c) == 1 && isfinite(logits[0]),
		       "... and the context still evaluates a good token at position 0");
	}
	lr_ctx_free(c);
	lr_model_close(m);
	gb_free(&img);
	gw_free(&w);
	free(logits);
}

/* A golden file whose tensors longread cannot compute with is refused, naming the type. */
static void unsupported_golden(const char *path, const char *want)
{
	char full[1024];
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };
	int rc;

	if (!tap_golden(path))
		return;
	snprintf(full, sizeof full, "%s/golden/%s", tap_shared(), path);
	rc = lr_model_open(&m, full, &err);
	tap_ok(rc == LR_EUNSUPPORTED && strstr(err.msg, want) != NULL, "%s is refused: %s", path, err.msg);
	lr_model_close(m);
}

int main(void)
{
	versus_reference("nano-F32", "", 1e-5);
	versus_reference("mha-F32", "--heads 4 --kv-heads 4", 1e-5);
	versus_reference("gqa8-hd128-F32", "--embd 512 --heads 8 --kv-heads 1 --head-dim 128 --ff 512", 1e-5);
	versus_reference("tied-norope-F32", "--tied --rope-factor 0 --layers 3", 1e-5);
	versus_reference("nano-F16", "--type F16", 1e-5);
	versus_reference("nano-BF16", "--type BF16", 1e-5);
	/* 8-bit activations: the random nano models amplify the ~0.4% activation rounding
	 * to ~4% on the logits (see test_golden_logits); a layout bug gives ~100% */
	versus_reference("nano-Q8_0", "--type Q8_0", 0.1);
	versus_reference("nano-Q4_0", "--type Q4_0", 0.1);
	versus_reference("nano-Q5_1", "--type Q5_1", 0.1);
	versus_reference("nano-Q4_K_M", "--type Q4_K_M --layers 4", 0.1);
	versus_reference("nano-Q5_K", "--type Q5_K", 0.1);
	versus_reference("nano-Q2_K", "--type Q2_K", 0.1);
	versus_reference("nano-Q3_K_M", "--type Q3_K_M --layers 4", 0.1);
	versus_reference("nano-IQ4_NL", "--type IQ4_NL", 0.1);
	versus_reference("nano-IQ4_XS", "--type IQ4_XS", 0.1);
	versus_reference_golden("qnano-F32", "qwen2/models/qnano-F32.gguf", 1e-5);
	versus_reference_golden("qnano-yarn-F32", "qwen2/models/qnano-yarn-F32.gguf", 1e-5);
	versus_reference_golden("qnano-Q4_K_M", "qwen2/models/qnano-Q4_K_M.gguf", 0.1);
	invariances("inv-F32", "--layers 3", 1e-5, 2e-3);
	non_finite();
	invariances("inv-Q4_K", "--type Q4_K", 2e-2, 5e-2);
	broken("no attn_v", LR_EFORMAT, "'blk.0.attn_v.weight' is missing", "blk.0.attn_v.weight", NULL, LR_TYPE_F32);
	broken("no output norm", LR_EFORMAT, "'output_norm.weight' is missing", "output_norm.weight", NULL, LR_TYPE_F32);
	broken("misshapen ffn_up", LR_EFORMAT, "'blk.0.ffn_up.weight' has shape [64, 97], expected [64, 96]", NULL,
	       "blk.0.ffn_up.weight", LR_TYPE_F32);
	broken("unsupported type", LR_EUNSUPPORTED, "unsupported type I32", NULL, NULL, LR_TYPE_I32);
	unsupported_golden("models/nano-IQ3_S.gguf", "tensor 'token_embd.weight' has unsupported type IQ3_S");
	return tap_done();
}
