/* tests/test_quant.c — the reference block conversions (engine/quant.c, engine/fp16.h):
 * half/bfloat16 rounding; dequantization of every golden model checked against the
 * F32 original, and for the k-quant and IQ4 files bit for bit against gguf-py's (the
 * dequantization the golden `exact` logits were computed from); our quantizers
 * bit-identical to llama-quantize for the types whose quantizer is plain rounding, and
 * about as accurate for the others. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/digest.h"
#include "engine/fp16.h"
#include "engine/gguf.h"
#include "engine/quant.h"
#include "engine/types.h"
#include "tests/tap.h"

/* ------------------------------------------------------------------ fp16 / bf16 */

static void test_halfs(void)
{
	int bad = 0;

	/* every finite half survives f16 -> f32 -> f16 */
	for (uint32_t h = 0; h < 65536; h++) {
		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
			continue; /* nan payloads need not survive */
		if (lr_f32_to_f16(lr_f16_to_f32((uint16_t)h)) != h)
			bad++;
	}
	tap_is_int(bad, 0, "f16 round trip is exact for all 63488 non-NaN halves");
	tap_is_int(lr_f32_to_f16(1.0f), 0x3c00, "f16(1) = 0x3c00");
	tap_is_int(lr_f32_to_f16(65504.0f), 0x7bff, "f16(65504) is the largest finite half");
	tap_is_int(lr_f32_to_f16(65520.0f), 0x7c00, "f16(65520) rounds to infinity");
	tap_is_int(lr_f32_to_f16(-1e9f), 0xfc00, "f16(-1e9) is -infinity");
	tap_is_int(lr_f32_to_f16(5.9604645e-8f), 0x0001, "f16 smallest subnormal");
	tap_is_int(lr_f32_to_f16(2.9802322e-8f), 0x0000, "f16 half the smallest subnormal ties to even (0)");
	/* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even -> 1 */
	tap_is_int(lr_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00, "f16 tie rounds to even (down)");
	tap_is_int(lr_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02, "f16 tie rounds to even (up)");
	tap_ok(isnan(lr_f16_to_f32(lr_f32_to_f16(NAN))), "f16 keeps NaN");
	tap_is_int(lr_f32_to_bf16(1.0f), 0x3f80, "bf16(1) = 0x3f80");
	tap_is_int(lr_f32_to_bf16(lr_bits_f32(0x3f808000u)), 0x3f80, "bf16 tie rounds to even (down)");
	tap_is_int(lr_f32_to_bf16(lr_bits_f32(0x3f818000u)), 0x3f82, "bf16 tie rounds to even (up)");
	tap_ok(isnan(lr_bf16_to_f32(lr_f32_to_bf16(NAN))), "bf16 keeps NaN");
}

/* ------------------------------------------------------------------ golden models */

struct model {
	const char *type;       /* file suffix */
	double max_rel;         /* bound on rel L2 (dequantized vs F32) of any tensor */
	int bit_exact;          /* our quantizer reproduces llama-quantize byte for byte */
	double vs_golden;       /* else: our rel error <= this x llama-quantize's */
};

/* Bounds: round-to-nearest with a per-block absmax scale on Gaussian weights has rel
 * RMS error about step / sqrt(12) / sigma, step = 2.5 sigma / 2^(bits-1) for a 32-block
 * (amax ~ 2.5 sigma): ~0.09 at 4 bits, ~0.045 at 5, ~0.006 at 8.  The bounds allow
 * 1.5-2x that; a wrong bit layout gives errors of order 1. */
static const struct model models[] = {
	{ "F16",  0.001, 1, 0 },
	{ "BF16", 0.006, 1, 0 },
	{ "Q8_0", 0.012, 1, 0 },
	{ "Q4_0", 0.18,  1, 0 },
	{ "Q4_1", 0.15,  1, 0 },
	{ "Q5_0", 0.09,  1, 0 },
	{ "Q5_1", 0.08,  1, 0 },
	{ "Q4_K", 0.15,  0, 1.25 },
	{ "Q5_K", 0.08,  0, 1.25 },
	{ "Q6_K", 0.04,  0, 1.25 },
	/* measured 0.30, 0.15, 0.077, 0.077; our quantizers within 1.12x llama-quantize's */
	{ "Q2_K",   0.40, 0, 1.25 },
	{ "Q3_K",   0.22, 0, 1.25 },
	{ "IQ4_NL", 0.12, 0, 1.25 },
	{ "IQ4_XS", 0.12, 0, 1.25 },
};

/* SHA-256 of every 2-D tensor of golden/models/nano-TYPE.gguf dequantized to float32
 * (little-endian, file order, concatenated), as gguf-py's dequantize() computes it
 * (gguf-py/gguf/quants.py, numpy float32: the scale d * sc first, then times the code,
 * minus the minimum), computed once with numpy 1.24 from that code.  Any difference in
 * a single bit of any weight changes the digest. */
static const struct {
	const char *type, *sha256;
} deq_digests[] = {
	{ "Q2_K",   "c33d2e0acc34e8b71a5e71d40c90f25cf94624924c481687fcc0d8ab0d380317" },
	{ "Q3_K",   "40d677f0be66a5895b27a0bff3c8889d042d20bc0fa1f76a96feef659b2568a5" },
	{ "Q3_K_M", "69d3d45f5a00b9478753b36e083548465e3f4bb8c9fae00ad5b4e7302a456afb" },
	{ "IQ4_NL", "977480cdd4ff344a79e29c87461658738da43446576538de3709dea55dda7269" },
	{ "IQ4_XS", "bdf2c0746877b271ae697cd8d16289138e86fdf3631e433b0cfaa6bbd713c9b6" },
	{ "Q4_K",   "2d22724f5e86fa9cc4e5fc1b43d282ce48abcbfd0216ef1394a0beb37ae230e7" },
	{ "Q4_K_M", "b23db3aeef9ed6ad39c9dabcfb4af75af1d834bea04ac25748588ca3b4d690bd" },
};

static struct lr_gguf *open_golden(const char *type)
{
	char path[1024];
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };

	snprintf(path, sizeof path, "%s/golden/models/nano-%s.gguf", tap_shared(), type);
	if (lr_gguf_open(&g, path, &err))
		tap_diag("%s", err.msg);
	return g;
}

static void test_model(const struct lr_gguf *ref, const struct model *m)
{
	struct lr_gguf *g = open_golden(m->type);
	double worst = 0, worst_ratio = 0;
	int n_mat = 0, n_exact = 0, n_types_ok = 0;

	if (!tap_ok(g != NULL, "%s: golden model opens", m->type))
		return;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		const struct lr_gguf_tensor *r = lr_gguf_find_tensor(ref, t->name);
		int64_t n = (int64_t)t->n_elements;
		float *deq, *ours_deq;
		uint8_t *ours;
		uint64_t nb;

		if (t->n_dims != 2)
			continue;
		n_mat++;
		if (!r || r->n_elements != t->n_elements) {
			tap_ok(0, "%s: tensor %s has its F32 twin", m->type, t->name);
			continue;
		}
		n_types_ok += t->type == (uint32_t)lr_type_from_name(m->type);
		deq = malloc((size_t)n * sizeof *deq);
		ours_deq = malloc((size_t)n * sizeof *ours_deq);
		ours = malloc(t->n_bytes);
		lr_dequant_row(t->type, t->data, deq, n);
		double e = tap_rel_l2(deq, r->data, n);
		if (e > worst)
			worst = e;
		/* our quantizer, row by row as a converter would */
		lr_type_row_bytes(t->type, (uint64_t)t->ne[0], &nb);
		for (int64_t row = 0; row < t->ne[1]; row++)
			lr_quant_row(t->type, (const float *)r->data + row * t->ne[0], ours + row * nb, t->ne[0]);
		if (memcmp(ours, t->data, t->n_bytes) == 0)
			n_exact++;
		lr_dequant_row(t->type, ours, ours_deq, n);
		double eo = tap_rel_l2(ours_deq, r->data, n);
		if (e > 0 && eo / e > worst_ratio)
			worst_ratio = eo / e;
		free(deq);
		free(ours_deq);
		free(ours);
	}
	tap_is_int(n_types_ok, n_mat, "%s: every matrix has type %s", m->type, m->type);
	tap_ok(worst < m->max_rel, "%s: dequantized matrices match F32 (worst rel L2 %.4g < %.4g)",
	       m->type, worst, m->max_rel);
	if (m->bit_exact)
		tap_is_int(n_exact, n_mat, "%s: our quantizer reproduces llama-quantize byte for byte", m->type);
	else
		tap_ok(worst_ratio < m->vs_golden,
		       "%s: our quantizer's error is within %.2fx llama-quantize's (worst %.3fx)",
		       m->type, m->vs_golden, worst_ratio);
	lr_gguf_close(g);
}

/* Q4_K_M mixes Q4_K and Q6_K: each tensor dequantizes by its own type. */
static void test_mixed(const struct lr_gguf *ref)
{
	struct lr_gguf *g = open_golden("Q4_K_M");
	int n6 = 0, ok = 1;

	if (!tap_ok(g != NULL, "Q4_K_M: golden model opens"))
		return;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		const struct lr_gguf_tensor *r = lr_gguf_find_tensor(ref, t->name);
		float *deq = malloc(t->n_elements * sizeof *deq);
		if (!r)
			ok = 0;
		else if (lr_dequant_row(t->type, t->data, deq, (int64_t)t->n_elements) ||
		         tap_rel_l2(deq, r->data, (int64_t)t->n_elements) > 0.15)
			ok = 0;
		n6 += t->type == LR_TYPE_Q6_K;
		free(deq);
	}
	tap_is_int(n6, 3, "Q4_K_M: output, blk.1.attn_v and blk.1.ffn_down are Q6_K");
	tap_ok(ok, "Q4_K_M: every tensor dequantizes close to F32");
	lr_gguf_close(g);
}

/* Our dequantization of a golden file's matrices, bit for bit gguf-py's (digest above). */
static void test_digest(const char *type, const char *want)
{
	struct lr_gguf *g = open_golden(type);
	struct lr_sha256 h;
	uint8_t d[LR_SHA256_BYTES];
	char hex[LR_SHA256_HEX];
	int ok = 1;

	if (!tap_ok(g != NULL, "%s: golden model opens", type))
		return;
	lr_sha256_init(&h);
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		float *deq;
		if (t->n_dims != 2)
			continue;
		deq = malloc(t->n_elements * sizeof *deq);
		ok &= lr_dequant_row(t->type, t->data, deq, (int64_t)t->n_elements) == 0;
		lr_sha256_update(&h, deq, t->n_elements * sizeof *deq);   /* x86: little-endian */
		free(deq);
	}
	lr_sha256_final(&h, d);
	lr_sha256_hex(d, hex);
	tap_ok(ok && strcmp(hex, want) == 0, "%s: every matrix dequantizes bit for bit as gguf-py's (sha256 %.12s)",
	       type, hex);
	if (strcmp(hex, want) != 0)
		tap_diag("got sha256 %s, gguf-py's is %s", hex, want);
	lr_gguf_close(g);
}

/* Q3_K_M mixes Q3_K, Q4_K, Q5_K and Q6_K as the golden README says. */
static void test_q3_K_M(void)
{
	struct lr_gguf *g = open_golden("Q3_K_M");
	int n[LR_TYPE_COUNT] = { 0 };

	if (!tap_ok(g != NULL, "Q3_K_M: golden model opens"))
		return;
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].n_dims == 2)
			n[g->tensors[i].type]++;
	tap_ok(n[LR_TYPE_Q3_K] == 9 && n[LR_TYPE_Q4_K] == 4 && n[LR_TYPE_Q5_K] == 2 && n[LR_TYPE_Q6_K] == 1,
	       "Q3_K_M: 9 Q3_K, 4 Q4_K, 2 Q5_K and 1 Q6_K matrices (%d %d %d %d)", n[LR_TYPE_Q3_K],
	       n[LR_TYPE_Q4_K], n[LR_TYPE_Q5_K], n[LR_TYPE_Q6_K]);
	lr_gguf_close(g);
}

/* lr_type_weight_names() names exactly the types with weights_ok. */
static void test_weight_names(void)
{
	const char *list = lr_type_weight_names();
	char padded[256];
	int listed = 0, ok = 1;

	snprintf(padded, sizeof padded, " %s ", list);
	for (uint32_t t = 0; t < LR_TYPE_COUNT; t++) {
		const struct lr_type_info *ti = lr_type_info(t);
		char word[24];
		if (!ti)
			continue;
		snprintf(word, sizeof word, " %s ", ti->name);
		int in = strstr(padded, word) != NULL;
		ok &= in == ti->weights_ok;
		listed += in;
	}
	tap_ok(ok, "the list of computable types (%s) is the table's", list);
	tap_is_int(listed, 15, "15 weight types are computable");
}

static void test_edge_blocks(void)
{
	float zero[256] = { 0 }, out[256], big[256];
	uint8_t q[256 * 4];
	int types[] = { LR_TYPE_Q4_0, LR_TYPE_Q4_1, LR_TYPE_Q5_0, LR_TYPE_Q5_1, LR_TYPE_Q8_0,
	                LR_TYPE_Q4_K, LR_TYPE_Q5_K, LR_TYPE_Q6_K, LR_TYPE_F16, LR_TYPE_BF16,
	                LR_TYPE_Q2_K, LR_TYPE_Q3_K, LR_TYPE_IQ4_NL, LR_TYPE_IQ4_XS };

	for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
		int t = types[k], finite = 1, zeros = 1;
		lr_quant_row((uint32_t)t, zero, q, 256);
		lr_dequant_row((uint32_t)t, q, out, 256);
		for (int i = 0; i < 256; i++)
			zeros &= out[i] == 0.0f;
		tap_ok(zeros, "%s: an all-zero block stays zero", lr_type_name((uint32_t)t));
		for (int i = 0; i < 256; i++)
			big[i] = (i % 7 == 0 ? -1.0f : 1.0f) * 60000.0f * (float)(i % 13) / 13.0f;
		lr_quant_row((uint32_t)t, big, q, 256);
		lr_dequant_row((uint32_t)t, q, out, 256);
		for (int i = 0; i < 256; i++)
			finite &= isfinite(out[i]);
		tap_ok(finite, "%s: values near the f16 range stay finite", lr_type_name((uint32_t)t));
	}
	tap_is_int(lr_dequant_row(LR_TYPE_IQ3_S, q, out, 256), LR_EUNSUPPORTED,
	           "IQ3_S is not computed (unsupported)");
	tap_is_int(lr_quant_row(LR_TYPE_IQ3_S, zero, q, 256), LR_EUNSUPPORTED, "IQ3_S is not written (unsupported)");
}

int main(void)
{
	struct lr_gguf *ref;

	test_halfs();
	test_weight_names();
	test_edge_blocks();
	if (!tap_golden("models/nano-F32.gguf"))
		return tap_done();
	ref = open_golden("F32");
	if (!tap_ok(ref != NULL, "golden nano-F32 opens"))
		return tap_done();
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
		test_model(ref, &models[i]);
	test_mixed(ref);
	test_q3_K_M();
	for (size_t i = 0; i < sizeof deq_digests / sizeof deq_digests[0]; i++)
		test_digest(deq_digests[i].type, deq_digests[i].sha256);
	lr_gguf_close(ref);
	return tap_done();
}
