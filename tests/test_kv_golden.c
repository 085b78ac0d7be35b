/* tests/test_kv_golden.c — what each KV cache type does to the logits of the golden
 * nano-F32 model (../shared/golden/models), against the same pass with an f32 cache,
 * next to what llama.cpp's own caches do (its kv-f16, kv-q8_0 and kv-q4_0 files
 * against its f32-cache logits), on all three golden sequences (64, 1000 and 9000
 * tokens).
 *
 * Per the issue: f16 and q8 at least as accurate as llama.cpp's f16 and q8_0 caches
 * (rel L2 of all stored logits, per sequence); q4 more accurate than its q4_0 on
 * every sequence; q8 changes the argmax at no more positions than q8_0 does, counting
 * only positions whose f32-cache top-2 margin is at least NEAR_TIE (these random
 * models amplify small errors, and a near tie flips under any perturbation).  The
 * numbers are printed for the issue notes.  LR_GOLDEN_SEQS=s1,s2 runs fewer sequences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "engine/model.h"
#include "tests/tap.h"

#define NEAR_TIE 0.01
#define V 512

struct cmp {
	double num, den;   /* squared error and squared reference, all positions */
	int flips;         /* argmax differs where the reference's margin >= NEAR_TIE */
};

static void compare(const float *x, const float *ref, uint32_t n_pos, struct cmp *c)
{
	for (uint32_t p = 0; p < n_pos; p++) {
		const float *a = x + (size_t)p * V, *r = ref + (size_t)p * V;
		uint32_t ia = 0, ir = 0, ir2;
		for (uint32_t i = 0; i < V; i++) {
			c->num += ((double)a[i] - r[i]) * ((double)a[i] - r[i]);
			c->den += (double)r[i] * r[i];
			if (a[i] > a[ia])
				ia = i;
			if (r[i] > r[ir])
				ir = i;
		}
		ir2 = ir == 0 ? 1 : 0;
		for (uint32_t i = 0; i < V; i++)
			if (i != ir && r[i] > r[ir2])
				ir2 = i;
		if (ia != ir && r[ir] - r[ir2] >= NEAR_TIE)
			c->flips++;
	}
}

static double rel(const struct cmp *c)
{
	return sqrt(c->num / c->den);
}

static int eval(const struct lr_model *m, const int32_t *ids, uint32_t n, const uint8_t *want, enum lr_kv_type t,
                float *out)
{
	struct lr_ctx_params cp = { .n_ctx = n, .n_threads = 2, .kv_type = t };
	struct lr_ctx *c = NULL;
	struct lr_err err = { 0 };
	int rc = lr_ctx_new(&c, m, &cp, &err);

	if (!rc)
		rc = lr_eval(c, ids, n, want, out, &err);
	if (rc)
		tap_diag("%s", err.msg);
	lr_ctx_free(c);
	return rc;
}

int main(void)
{
	static const char *const seqs[] = { "s1", "s2", "s3" };
	static const char *const theirs[LR_KV_TYPE_COUNT] = { NULL, "kv-f16", "kv-q8_0", "kv-q4_0" };
	const char *env = getenv("LR_GOLDEN_SEQS");
	struct cmp tot_ours[LR_KV_TYPE_COUNT], tot_theirs[LR_KV_TYPE_COUNT];
	struct lr_model *m = NULL;
	struct lr_err err = { 0 };
	char path[1024];

	memset(tot_ours, 0, sizeof tot_ours);
	memset(tot_theirs, 0, sizeof tot_theirs);
	if (!tap_golden("models/nano-F32.gguf"))
		return tap_done();
	snprintf(path, sizeof path, "%s/golden/models/nano-F32.gguf", tap_shared());
	if (!tap_ok(lr_model_open(&m, path, &err) == 0, "nano-F32 loads")) {
		tap_diag("%s", err.msg);
		return tap_done();
	}
	for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
		uint32_t *ids = NULL, *pos = NULL, n = 0, n_pos = 0;
		uint8_t *want;
		float *f32, *ours, *llama_f32;

		if (env && *env && !strstr(env, seqs[s]))
			continue;
		snprintf(path, sizeof path, "%s/golden/models/%s.ids", tap_shared(), seqs[s]);
		if (tap_read_uints(path, &ids, &n))
			break;
		snprintf(path, sizeof path, "%s/golden/models/%s.positions", tap_shared(), seqs[s]);
		if (tap_read_uints(path, &pos, &n_pos))
			break;
		want = calloc(n, 1);
		for (uint32_t i = 0; i < n_pos; i++)
			want[pos[i]] = 1;
		f32 = malloc(sizeof(float) * n_pos * V);
		ours = malloc(sizeof(float) * n_pos * V);
		snprintf(path, sizeof path, "%s/golden/models/nano-F32.%s.llamacpp.logits.f32", tap_shared(), seqs[s]);
		llama_f32 = tap_read_f32(path, (size_t)n_pos * V);
		if (tap_ok(llama_f32 && eval(m, (int32_t *)ids, n, want, LR_KV_F32, f32) == 0,
		           "%s: f32-cache logits and llama.cpp's f32-cache file", seqs[s])) {
			for (int t = LR_KV_F16; t < LR_KV_TYPE_COUNT; t++) {
				struct cmp o = { 0, 0, 0 }, l = { 0, 0, 0 };
				float *ref;
				snprintf(path, sizeof path, "%s/golden/models/nano-F32.%s.%s.logits.f32", tap_shared(), seqs[s],
				         theirs[t]);
				ref = tap_read_f32(path, (size_t)n_pos * V);
				if (!tap_ok(ref && eval(m, (int32_t *)ids, n, want, (enum lr_kv_type)t, ours) == 0,
				            "%s: %s cache evaluated, %s read", seqs[s], lr_kv_type_name((enum lr_kv_type)t),
				            theirs[t])) {
					free(ref);
					continue;
				}
				compare(ours, f32, n_pos, &o);
				compare(ref, llama_f32, n_pos, &l);
				tap_ok(rel(&o) <= rel(&l), "%s: %s cache vs f32 cache: rel L2 %.4g, llama.cpp %s %.4g (ratio %.2f); "
				       "argmax changes %d, llama.cpp %d", seqs[s], lr_kv_type_name((enum lr_kv_type)t), rel(&o),
				       theirs[t], rel(&l), rel(&o) / rel(&l), o.flips, l.flips);
				tot_ours[t].num += o.num;
				tot_ours[t].den += o.den;
				tot_ours[t].flips += o.flips;
				tot_theirs[t].num += l.num;
				tot_theirs[t].den += l.den;
				tot_theirs[t].flips += l.flips;
				free(ref);
			}
		}
		free(ids);
		free(pos);
		free(want);
		free(f32);
		free(ours);
		free(llama_f32);
	}
	for (int t = LR_KV_F16; t < LR_KV_TYPE_COUNT; t++)
		if (tot_ours[t].den > 0)
			tap_diag("all sequences: %s rel L2 %.4g vs llama.cpp %s %.4g (ratio %.2f); argmax changes %d vs %d",
			         lr_kv_type_name((enum lr_kv_type)t), rel(&tot_ours[t]), theirs[t], rel(&tot_theirs[t]),
			         rel(&tot_ours[t]) / rel(&tot_theirs[t]), tot_ours[t].flips, tot_theirs[t].flips);
	if (tot_ours[LR_KV_Q8].den > 0)
		tap_ok(tot_ours[LR_KV_Q8].flips <= tot_theirs[LR_KV_Q8].flips,
		       "q8 changes the argmax (beyond near ties) at %d positions, llama.cpp's q8_0 at %d",
		       tot_ours[LR_KV_Q8].flips, tot_theirs[LR_KV_Q8].flips);
	lr_model_close(m);
	return tap_done();
}
