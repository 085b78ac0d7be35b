/* tests/test_golden_logits.c — the fast forward pass against the golden references
 * (../shared/golden/models, produced by llama.cpp and a float64 numpy pass), for every
 * model and every sequence, positions 8192 and beyond included (rope scaling).
 *
 * Per the issue: "rel L2" of each position's logit vector against the reference —
 *   F32 weights: against the float64 pass (f64), within max(1e-4, 1.5 x llama.cpp's own
 *     error against it);
 *   other types: against `exact` (llama.cpp on the dequantized weights), within
 *     max(1e-3, 1.5 x llama.cpp's own quantized run's error against exact);
 * checked for the worst position and for all positions together.
 * Argmax: with float activations (F32, F16, BF16 weights) the same argmax at every
 * position whose reference top-2 margin is at least 0.01.  With 8-bit activations (the
 * quantized types) the reference implementation itself changes the argmax at such
 * positions (34 times over these 27 runs); we quantize activations exactly as it does,
 * and require no more such changes than it makes on the same model and sequences, with
 * a slack of ARGMAX_SLACK positions (of 92) for its different summation order.
 * Set LR_GOLDEN_SEQS=s1,s2 to run fewer sequences (default: all three), and
 * LR_GOLDEN_TYPES=Q2_K,IQ4_XS fewer models (exact names, as in the file names). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "engine/model.h"
#include "engine/types.h"
#include "tests/tap.h"

#define NEAR_TIE 0.01
#define ARGMAX_SLACK 3

struct seq {
	const char *name;
	int32_t *ids;
	uint32_t n;
	uint32_t *pos;
	uint32_t n_pos;
};

struct err_stats {
	double overall, max_pos;
	int flips;          /* argmax differs and the reference margin >= NEAR_TIE */
	uint32_t diff;      /* argmax differs */
};

static struct err_stats compare(const float *x, const float *ref, uint32_t n_pos, uint32_t V)
{
	struct err_stats e = { 0, 0, 0, 0 };
	double num = 0, den = 0;

	for (uint32_t p = 0; p < n_pos; p++) {
		const float *a = x + (size_t)p * V, *r = ref + (size_t)p * V;
		double pn = 0, pd = 0;
		uint32_t ia = 0, ir = 0, ir2 = UINT32_MAX;
		for (uint32_t i = 0; i < V; i++) {
			double d = (double)a[i] - r[i];
			pn += d * d;
			pd += (double)r[i] * r[i];
			if (a[i] > a[ia])
				ia = i;
			if (r[i] > r[ir])
				ir = i;
		}
		for (uint32_t i = 0; i < V; i++)
			if (i != ir && (ir2 == UINT32_MAX || r[i] > r[ir2]))
				ir2 = i;
		num += pn;
		den += pd;
		if (sqrt(pn / pd) > e.max_pos)
			e.max_pos = sqrt(pn / pd);
		if (ia != ir && r[ir] - r[ir2] >= NEAR_TIE)
			e.flips++;
		e.diff += ia != ir;
	}
	e.overall = sqrt(num / den);
	return e;
}

static int want_seq(const char *name)
{
	const char *env = getenv("LR_GOLDEN_SEQS");

	return !env || !*env || strstr(env, name) != NULL;
}

/* name is in the comma-separated $LR_GOLDEN_TYPES, or that is unset */
static int want_type(const char *name)
{
	const char *env = getenv("LR_GOLDEN_TYPES");
	size_t n = strlen(name);

	if (!env || !*env)
		return 1;
	for (const char *p = env; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
			return 1;
	}
	return 0;
}

/* The model dir/shape-type.gguf (dir under golden/: "models" for Llama, "qwen2/models"
 * for Qwen2.5) against its reference logits. */
static void run_model(const char *dir, const char *shape, const char *type, struct seq *seqs, int n_seqs)
{
	char path[1024], refsrc[16];
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };
	size_t tl = strlen(type);
	int is_f32 = tl >= 3 && strcmp(type + tl - 3, "F32") == 0;
	int float_acts = is_f32 || strcmp(type, "F16") == 0 || strcmp(type, "BF16") == 0;
	double floor_ = is_f32 ? 1e-4 : 1e-3;
	int flips_ours = 0, flips_ref = 0;

	snprintf(refsrc, sizeof refsrc, "%s", is_f32 ? "f64" : "exact");
	snprintf(path, sizeof path, "%s/golden/%s/%s-%s.gguf", tap_shared(), dir, shape, type);
	if (!tap_ok(lr_model_open(&m, path, &err) == 0, "%s-%s loads", shape, type)) {
		tap_diag("%s", err.msg);
		return;
	}
	for (int s = 0; s < n_seqs; s++) {
		struct seq *q = &seqs[s];
		const uint32_t V = m->hp.n_vocab;
		struct lr_ctx_params cp = { .n_ctx = q->n, .n_threads = 2 };
		struct lr_ctx *ctx = NULL;
		uint8_t *want = calloc(q->n, 1);
		float *ours = malloc(sizeof(float) * q->n_pos * V), *ref, *llama;
		char rp[1024], lp[1024];

		if (!want_seq(q->name)) {
			free(want);
			free(ours);
			continue;
		}
		for (uint32_t i = 0; i < q->n_pos; i++)
			want[q->pos[i]] = 1;   /* the golden positions are ascending */
		snprintf(rp, sizeof rp, "%s/golden/%s/%s-%s.%s.%s.logits.f32", tap_shared(), dir, shape, type, q->name,
		         refsrc);
		snprintf(lp, sizeof lp, "%s/golden/%s/%s-%s.%s.llamacpp.logits.f32", tap_shared(), dir, shape, type,
		         q->name);
		ref = tap_read_f32(rp, (size_t)q->n_pos * V);
		llama = tap_read_f32(lp, (size_t)q->n_pos * V);
		if (!tap_ok(ref && llama, "%s-%s %s: reference files read", shape, type, q->name) ||
		    !tap_ok(lr_ctx_new(&ctx, m, &cp, &err) == 0 && lr_eval(ctx, q->ids, q->n, want, ours, &err) == 0,
		            "%s-%s %s: %u tokens evaluated", shape, type, q->name, q->n)) {
			tap_diag("%s", err.msg);
		} else {
			struct err_stats e = compare(ours, ref, q->n_pos, V), l = compare(llama, ref, q->n_pos, V);
			double lim_pos = fmax(floor_, 1.5 * l.max_pos), lim_all = fmax(floor_, 1.5 * l.overall);
			tap_ok(e.max_pos <= lim_pos && e.overall <= lim_all,
			       "%s-%s %s vs %s: rel L2 %.3g (worst position %.3g); llama.cpp %.3g (%.3g); limits %.3g (%.3g)",
			       shape, type, q->name, refsrc, e.overall, e.max_pos, l.overall, l.max_pos, lim_all, lim_pos);
			struct err_stats v = compare(ours, llama, q->n_pos, V);
			tap_diag("%s-%s %s vs llama.cpp's own logits: rel L2 %.3g (worst position %.3g), argmax agrees "
			         "at %u of %u positions", shape, type, q->name, v.overall, v.max_pos, q->n_pos - v.diff,
			         q->n_pos);
			if (float_acts)
				tap_is_int(e.flips, 0, "%s-%s %s: same argmax as %s except near ties", shape, type, q->name,
				           refsrc);
			flips_ours += e.flips;
			flips_ref += l.flips;
		}
		lr_ctx_free(ctx);
		free(want);
		free(ours);
		free(ref);
		free(llama);
	}
	if (!float_acts)
		tap_ok(flips_ours <= flips_ref + ARGMAX_SLACK,
		       "%s-%s: argmax changes against exact beyond near ties: %d (llama.cpp: %d)",
		       shape, type, flips_ours, flips_ref);
	lr_model_close(m);
}

/* The sequences s1..s3 of golden/dir.  @return 1, or 0 after a failed check. */
static int read_seqs(const char *dir, struct seq *seqs)
{
	static const char *const names[] = { "s1", "s2", "s3" };

	memset(seqs, 0, 3 * sizeof *seqs);
	for (int s = 0; s < 3; s++) {
		char path[1024];
		uint32_t *ids;
		seqs[s].name = names[s];
		snprintf(path, sizeof path, "%s/golden/%s/%s.ids", tap_shared(), dir, names[s]);
		if (!tap_ok(tap_read_uints(path, &ids, &seqs[s].n) == 0, "%s/%s.ids read", dir, names[s]))
			return 0;
		seqs[s].ids = (int32_t *)ids;
		snprintf(path, sizeof path, "%s/golden/%s/%s.positions", tap_shared(), dir, names[s]);
		if (!tap_ok(tap_read_uints(path, &seqs[s].pos, &seqs[s].n_pos) == 0, "%s/%s.positions read", dir,
		            names[s]))
			return 0;
	}
	return 1;
}

int main(void)
{
	static const char *const types[] = {
		"F32", "tied-F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
		"Q4_K", "Q5_K", "Q6_K", "Q4_K_M", "Q2_K", "Q3_K", "Q3_K_M", "IQ4_NL", "IQ4_XS",
	};
	static const char *const qwen2_types[] = {
		"F32", "tied-F32", "yarn-F32", "F16", "Q8_0", "Q6_K", "Q4_K_M", "tied-Q4_K_M",
	};
	struct seq seqs[3], qseqs[3];

	if (!tap_golden("models/s1.ids"))
		return tap_done();
	if (!read_seqs("models", seqs) || !read_seqs("qwen2/models", qseqs))
		return tap_done();
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
		if (want_type(types[t]))
			run_model("models", "nano", types[t], seqs, 3);
	for (size_t t = 0; t < sizeof qwen2_types / sizeof qwen2_types[0]; t++)
		if (want_type(qwen2_types[t]))
			run_model("qwen2/models", "qnano", qwen2_types[t], qseqs, 3);
	for (int s = 0; s < 3; s++) {
		free(seqs[s].ids);
		free(seqs[s].pos);
		free(qseqs[s].ids);
		free(qseqs[s].pos);
	}
	return tap_done();
}
