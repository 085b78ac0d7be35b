/* tests/test_kv.c — the KV cache (engine/kv.c): type names, the allocated sizes for
 * the real Llama shapes, the rotation (orthogonal, inverted exactly by unrotate), the
 * quantizers (error bounds, q4 better than llama.cpp's q4_0 rounding), storing and
 * reading back every type, and the clean failures (head dimensions a quantized type
 * cannot take, a cache larger than the machine's memory). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fp16.h"
#include "engine/kv.h"
#include "tests/tap.h"

static struct lr_hparams shape(uint32_t layers, uint32_t kv_heads, uint32_t hd)
{
	struct lr_hparams hp;

	memset(&hp, 0, sizeof hp);
	hp.n_layer = layers;
	hp.n_head_kv = kv_heads;
	hp.n_head = kv_heads * 4;
	hp.head_dim = hp.head_dim_v = hd;
	hp.n_ctx_train = 131072;
	return hp;
}

static void names(void)
{
	enum lr_kv_type t;

	for (int i = 0; i < LR_KV_TYPE_COUNT; i++)
		tap_ok(lr_kv_type_parse(lr_kv_type_name((enum lr_kv_type)i), &t) == 0 && (int)t == i,
		       "type %s parses back", lr_kv_type_name((enum lr_kv_type)i));
	tap_ok(lr_kv_type_parse("q5", &t) == LR_EINVAL, "an unknown type name is refused");
}

/* bytes at 131072 tokens: 2 (K and V) x layers x KV heads x head_dim x bits / 8 per
 * token, and for q8/q4 the f16 copy of the first 16 tokens */
static void sizes(void)
{
	static const struct { const char *name; uint32_t layers, kv, hd; } shapes[] = {
		{ "Llama-3.2-1B", 16, 8, 64 }, { "Llama-3.1-8B", 32, 8, 128 }, { "Llama-3.3-70B", 80, 8, 128 },
	};
	static const double bits[LR_KV_TYPE_COUNT] = { 32, 16, 8.5, 4.5 };

	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		struct lr_hparams hp = shape(shapes[s].layers, shapes[s].kv, shapes[s].hd);
		for (int t = 0; t < LR_KV_TYPE_COUNT; t++) {
			double want = 2.0 * hp.n_layer * hp.n_head_kv * hp.head_dim * bits[t] / 8 * 131072 +
			              (t >= LR_KV_Q8 ? 2.0 * hp.n_layer * hp.n_head_kv * hp.head_dim * 2 * 16 : 0);
			uint64_t got = lr_kv_bytes(&hp, (enum lr_kv_type)t, 131072);
			tap_ok((double)got == want, "%s %s cache at 131072 tokens: %.2f GiB", shapes[s].name,
			       lr_kv_type_name((enum lr_kv_type)t), (double)got / (1 << 30));
		}
	}
	/* keys come in whole panels of 16 tokens */
	{
		struct lr_hparams hp = shape(1, 1, 64);
		tap_is_int((int64_t)lr_kv_bytes(&hp, LR_KV_Q8, 17), 2 * 16 * 68 + 17 * 68 + 2 * 16 * 64 * 2,
		           "a q8 cache of 17 tokens holds two key panels, 17 value rows and 16 f16 sinks");
	}
}

/* a small cache with one layer and one head */
static int small(struct lr_kv *kv, enum lr_kv_type t, uint32_t hd, uint32_t n_ctx)
{
	struct lr_hparams hp = shape(1, 1, hd);
	struct lr_err err = { 0 };
	int rc = lr_kv_init(kv, &hp, t, n_ctx, &err);

	if (rc)
		tap_diag("%s", err.msg);
	return rc;
}

static void rotation(void)
{
	struct lr_kv kv;
	float x[128], y[128], z[128], w[128];
	double nx = 0, ny = 0, dot0 = 0, dot1 = 0, back = 0;

	if (!tap_ok(small(&kv, LR_KV_Q4, 128, 16) == 0, "q4 cache for the rotation test"))
		return;
	tap_is_int(kv.rot_block, 128, "the rotation covers a whole 128-value head");
	for (int i = 0; i < 128; i++) {
		x[i] = y[i] = tap_gauss();
		z[i] = w[i] = tap_gauss();
		dot0 += (double)x[i] * z[i];
		nx += (double)x[i] * x[i];
	}
	lr_kv_rotate(&kv, y, 128);
	lr_kv_rotate(&kv, w, 128);
	for (int i = 0; i < 128; i++) {
		ny += (double)y[i] * y[i];
		dot1 += (double)y[i] * w[i];
	}
	lr_kv_unrotate(&kv, y, 128);
	for (int i = 0; i < 128; i++)
		back = fmax(back, fabs(y[i] - x[i]));
	tap_ok(fabs(ny - nx) <= 1e-5 * nx, "rotation keeps the norm (%.6g vs %.6g)", ny, nx);
	tap_ok(fabs(dot1 - dot0) <= 1e-5 * nx, "rotation keeps dot products (%.6g vs %.6g)", dot1, dot0);
	tap_ok(back <= 1e-5, "unrotate inverts rotate (max error %.2g)", back);
	/* an outlier channel is spread over the whole head */
	memset(x, 0, sizeof x);
	x[5] = 50;
	lr_kv_rotate(&kv, x, 128);
	nx = 0;
	for (int i = 0; i < 128; i++)
		nx = fmax(nx, fabs(x[i]));
	tap_ok(fabs(nx - 50 / sqrt(128.0)) < 1e-4, "a single spike becomes 128 values of 50/sqrt(128) (max %.4g)", nx);
	lr_kv_release(&kv);

	if (tap_ok(small(&kv, LR_KV_F16, 128, 16) == 0, "f16 cache")) {
		memcpy(y, z, sizeof y);
		lr_kv_rotate(&kv, y, 128);
		tap_ok(memcmp(y, z, sizeof y) == 0, "unquantized caches are not rotated");
		lr_kv_release(&kv);
	}
}

/* llama.cpp's q4_0 rounding (max value on code -8), for comparison */
static double q4_0_sqerr(const float *x)
{
	float amax = 0, mx = 0, d, id;
	double e = 0;

	for (int i = 0; i < 32; i++)
		if (fabsf(x[i]) > amax) {
			amax = fabsf(x[i]);
			mx = x[i];
		}
	d = lr_f16_to_f32(lr_f32_to_f16(mx / -8));
	id = d ? 1 / d : 0;
	for (int i = 0; i < 32; i++) {
		int q = (int)(x[i] * id + 8.5f);
		q = q > 15 ? 15 : q < 0 ? 0 : q;
		e += (x[i] - (q - 8) * d) * (x[i] - (q - 8) * d);
	}
	return e;
}

static void quantizers(void)
{
	const int blocks = 4000;
	double e8 = 0, e4 = 0, e40 = 0, ex = 0;
	int nearest = 1, bound8 = 1;

	for (int b = 0; b < blocks; b++) {
		float x[32];
		uint16_t d8, d4;
		int8_t c8[32];
		uint8_t c4[32];
		for (int i = 0; i < 32; i++) {
			x[i] = tap_gauss();
			ex += (double)x[i] * x[i];
		}
		lr_kv_quant_q8(x, &d8, c8);
		lr_kv_quant_q4(x, &d4, c4);
		e40 += q4_0_sqerr(x);
		for (int i = 0; i < 32; i++) {
			float y8 = lr_f16_to_f32(d8) * c8[i], y4 = lr_f16_to_f32(d4) * lr_kv_q4_levels[c4[i]];
			float best = INFINITY;
			e8 += (double)(x[i] - y8) * (x[i] - y8);
			e4 += (double)(x[i] - y4) * (x[i] - y4);
			/* q8: round to nearest on the block's grid (the scale rounds to f16, so the
			 * largest value may land a little past its code) */
			if (fabsf(x[i] - y8) > 0.5f * lr_f16_to_f32(d8) * 1.01f + 1e-7f)
				bound8 = 0;
			/* q4: no other level is closer for the scale chosen */
			for (int c = 0; c < 16; c++)
				best = fminf(best, fabsf(x[i] - lr_f16_to_f32(d4) * lr_kv_q4_levels[c]));
			if (fabsf(x[i] - y4) > best + 1e-6f)
				nearest = 0;
		}
	}
	tap_ok(bound8, "q8 codes are within half a step of every value");
	tap_ok(nearest, "q4 codes are the nearest level for the chosen scale");
	/* q8 on Gaussian blocks of 32: step max|x|/127 ~ 2.0/127, error step^2/12 ~ 2.1e-5 */
	tap_ok(e8 / ex < 4e-5, "q8 relative squared error on Gaussian blocks: %.3g (< 4e-5)", e8 / ex);
	tap_ok(e4 / ex < 0.9 * e40 / ex, "q4 relative squared error %.4g, below 0.9 x llama.cpp q4_0 rounding's %.4g",
	       e4 / ex, e40 / ex);
	{
		float z[32] = { 0 };
		uint16_t d;
		uint8_t c[32];
		lr_kv_quant_q4(z, &d, c);
		tap_ok(d == 0 && lr_kv_q4_levels[c[0]] * lr_f16_to_f32(d) == 0, "an all-zero block stays zero");
	}
}

static void store_load(enum lr_kv_type t, uint32_t hd, double tol)
{
	struct lr_kv kv;
	struct lr_hparams hp = shape(2, 3, hd);
	struct lr_err err = { 0 };
	const uint32_t n = 40;
	double num = 0, den = 0;
	float *in = malloc(sizeof(float) * 2 * 3 * n * 2 * hd), k[256], v[256];

	if (!tap_ok(lr_kv_init(&kv, &hp, t, n, &err) == 0, "%s cache, head dim %u: init (%s)", lr_kv_type_name(t),
	            hd, err.msg)) {
		free(in);
		return;
	}
	tap_ok(kv.bytes == lr_kv_bytes(&hp, t, n), "%s, head dim %u: the cache reserves lr_kv_bytes() bytes",
	       lr_kv_type_name(t), hd);
	for (uint32_t i = 0; i < 2 * 3 * n * 2 * hd; i++)
		in[i] = tap_gauss() * (i % 7 == 3 ? 8.0f : 1.0f);
	for (uint32_t l = 0; l < 2; l++)
		for (uint32_t h = 0; h < 3; h++)
			for (uint32_t p = 0; p < n; p++) {
				const float *src = in + (((size_t)l * 3 + h) * n + p) * 2 * hd;
				lr_kv_put(&kv, l, h, p, src, src + hd);
			}
	/* read back in another order: slots must not overlap */
	for (uint32_t p = n; p-- > 0;)
		for (uint32_t l = 0; l < 2; l++)
			for (uint32_t h = 0; h < 3; h++) {
				const float *src = in + (((size_t)l * 3 + h) * n + p) * 2 * hd;
				lr_kv_get(&kv, l, h, p, k, v);
				for (uint32_t i = 0; i < hd; i++) {
					num += (double)(k[i] - src[i]) * (k[i] - src[i]) + (double)(v[i] - src[hd + i]) * (v[i] - src[hd + i]);
					den += (double)src[i] * src[i] + (double)src[hd + i] * src[hd + i];
				}
			}
	if (tol == 0)
		tap_ok(num == 0, "%s, head dim %u: values read back exactly", lr_kv_type_name(t), hd);
	else
		tap_ok(sqrt(num / den) < tol, "%s, head dim %u: values read back within rel L2 %.3g (< %.2g)",
		       lr_kv_type_name(t), hd, sqrt(num / den), tol);
	lr_kv_release(&kv);
	free(in);
}

/* Feed n tokens of keys/values (layer 0, 3 heads) in batches of `batch`, the way the
 * forward pass does: centre, then store. */
static void feed(struct lr_kv *kv, const float *k, const float *v, uint32_t pos0, uint32_t n, uint32_t batch)
{
	const uint32_t hd = kv->head_dim, ld = 3 * hd;

	for (uint32_t t0 = 0; t0 < n; t0 += batch) {
		uint32_t nb = n - t0 < batch ? n - t0 : batch;
		lr_kv_center(kv, 0, pos0 + t0, k + (uint64_t)t0 * ld, nb, ld);
		for (uint32_t t = t0; t < t0 + nb; t++)
			for (uint32_t h = 0; h < 3; h++)
				lr_kv_put(kv, 0, h, pos0 + t, k + (uint64_t)t * ld + h * hd, v + (uint64_t)t * ld + h * hd);
	}
}

static int same_cache(const struct lr_kv *a, const struct lr_kv *b)
{
	return memcmp(a->k, b->k, a->k_bytes) == 0 && memcmp(a->v, b->v, a->v_bytes) == 0 &&
	       memcmp(a->sink_k, b->sink_k, a->n_layer * a->n_head_kv * a->sink_panel) == 0 &&
	       memcmp(a->sink_v, b->sink_v, a->n_layer * a->n_head_kv * LR_KV_SINKS * a->sink_row) == 0 &&
	       memcmp(a->kcenter, b->kcenter, sizeof(float) * a->n_layer * a->n_head_kv * a->head_dim) == 0;
}

/* the centre comes from the sinks alone: batching and rewinding do not change it */
static void centring(enum lr_kv_type t)
{
	struct lr_hparams hp = shape(1, 3, 64);
	struct lr_kv a, b;
	struct lr_err err = { 0 };
	const uint32_t n = 60, ld = 3 * 64;
	float *k = malloc(sizeof(float) * n * ld), *v = malloc(sizeof(float) * n * ld);
	float *k2 = malloc(sizeof(float) * n * ld);

	for (uint32_t i = 0; i < n * ld; i++) {
		k[i] = tap_gauss() + (i % 64 == 7 ? 30.0f : 0.0f);   /* a constant outlier channel */
		v[i] = tap_gauss();
		k2[i] = tap_gauss();
	}
	if (lr_kv_init(&a, &hp, t, n, &err) || lr_kv_init(&b, &hp, t, n, &err)) {
		tap_ok(0, "%s caches for the centring test: %s", lr_kv_type_name(t), err.msg);
		return;
	}
	feed(&a, k, v, 0, n, n);
	feed(&b, k, v, 0, n, 7);
	tap_ok(same_cache(&a, &b), "%s: one batch of 60 and batches of 7 store the same bytes", lr_kv_type_name(t));
	/* b: rewind to 10, store other tokens, then the real ones again */
	lr_kv_rewind(&b, 10);
	feed(&b, k2 + 10 * ld, k2 + 10 * ld, 10, n - 10, 9);
	lr_kv_rewind(&b, 10);
	feed(&b, k + 10 * ld, v + 10 * ld, 10, n - 10, 1);
	tap_ok(same_cache(&a, &b), "%s: rewinding into the sinks and storing again gives the same bytes",
	       lr_kv_type_name(t));
	{
		const float *c = a.kcenter;
		double mean = 0;
		for (uint32_t p = 0; p < LR_KV_SINKS; p++)
			mean += k[p * ld + 7];
		mean /= LR_KV_SINKS;
		/* the centre is rotated: rotate the plain mean of the first 16 keys to compare */
		{
			float m[64];
			double worst = 0;
			for (uint32_t i = 0; i < 64; i++) {
				double s = 0;
				for (uint32_t p = 0; p < LR_KV_SINKS; p++)
					s += k[p * ld + i];
				m[i] = (float)(s / LR_KV_SINKS);
			}
			lr_kv_rotate(&a, m, 64);
			for (uint32_t i = 0; i < 64; i++)
				worst = fmax(worst, fabs(c[i] - m[i]));
			tap_ok(worst < 0.01 * mean, "%s: the centre is the mean of the 16 sink keys (max diff %.2g)",
			       lr_kv_type_name(t), worst);
		}
	}
	lr_kv_release(&a);
	lr_kv_release(&b);
	free(k);
	free(v);
	free(k2);
}

static void failures(void)
{
	struct lr_hparams hp = shape(1, 1, 48);
	struct lr_kv kv;
	struct lr_err err = { 0 };

	tap_is_int(lr_kv_init(&kv, &hp, LR_KV_Q8, 64, &err), LR_EUNSUPPORTED, "q8 refuses head dimension 48: %s",
	           err.msg);
	tap_is_int(lr_kv_init(&kv, &hp, LR_KV_F16, 64, &err), 0, "f16 takes head dimension 48");
	lr_kv_release(&kv);
	lr_kv_release(&kv);                  /* twice is harmless */
	/* 70B shape, f32, 2^31 tokens: 5 PiB */
	hp = shape(80, 8, 128);
	tap_is_int(lr_kv_init(&kv, &hp, LR_KV_F32, 1u << 31, &err), LR_ENOMEM,
	           "a cache larger than the machine fails cleanly: %s", err.msg);
	tap_ok(kv.k == NULL && kv.v == NULL, "nothing stays mapped after the failure");
}

/* write text to root/rel, making the directories */
static void put(const char *root, const char *rel, const char *text)
{
	char path[2048], cmd[2200];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0 || !(f = fopen(path, "w")))
		return;
	fputs(text, f);
	fclose(f);
}

/* The memory a cache may take: MemAvailable, or less under a cgroup's limit (its own or
 * a parent's), v2 and v1, inactive file pages counted free; on a fake /proc and /sys. */
static void memory_limits(void)
{
	char root[1024], proc[1100], sys[1100], cmd[1200];
	const uint64_t G = 1ull << 30;

	snprintf(root, sizeof root, "%s/memfake", tap_tmpdir());
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return;
	snprintf(proc, sizeof proc, "%s/proc", root);
	snprintf(sys, sizeof sys, "%s/sys", root);
	put(root, "proc/meminfo", "MemTotal: 33554432 kB\nMemFree: 1000 kB\nMemAvailable: 20971520 kB\n");
	put(root, "proc/self/cgroup", "0::/\n");
	tap_is_int((int64_t)lr_mem_available_at(proc, sys), (int64_t)(20 * G), "no cgroup limit: MemAvailable (20 GiB)");

	put(root, "proc/self/cgroup", "0::/box/job\n");
	put(root, "sys/fs/cgroup/box/job/memory.max", "8589934592\n");
	put(root, "sys/fs/cgroup/box/job/memory.current", "3221225472\n");
	put(root, "sys/fs/cgroup/box/job/memory.stat", "anon 2147483648\ninactive_file 1073741824\nactive_file 0\n");
	put(root, "sys/fs/cgroup/box/memory.max", "max\n");
	tap_is_int((int64_t)lr_mem_available_at(proc, sys), (int64_t)(6 * G),
	           "cgroup v2: 8 GiB limit, 3 GiB used of which 1 GiB inactive file: 6 GiB");
	put(root, "sys/fs/cgroup/box/memory.max", "4294967296\n");
	put(root, "sys/fs/cgroup/box/memory.current", "1073741824\n");
	tap_is_int((int64_t)lr_mem_available_at(proc, sys), (int64_t)(3 * G), "... a parent's 4 GiB limit, 1 GiB used: 3 GiB");

	put(root, "proc/self/cgroup", "12:pids:/docker/abc\n4:cpu,memory:/docker/abc\n");
	put(root, "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "2147483648\n");
	put(root, "sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "1610612736\n");
	put(root, "sys/fs/cgroup/memory/docker/abc/memory.stat", "cache 0\ntotal_inactive_file 536870912\n");
	put(root, "sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "9223372036854771712\n");
	tap_is_int((int64_t)lr_mem_available_at(proc, sys), (int64_t)G,
	           "cgroup v1: 2 GiB limit, 1.5 GiB used, 0.5 GiB inactive file: 1 GiB");
	/* inside the container the group is mounted as the root: its path is not there */
	put(root, "proc/self/cgroup", "4:memory:/docker/zzz\n");
	put(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "1073741824\n");
	put(root, "sys/fs/cgroup/memory/memory.usage_in_bytes", "268435456\n");
	tap_is_int((int64_t)lr_mem_available_at(proc, sys), (int64_t)(768ull << 20),
	           "cgroup v1 seen from inside its container (the mount's root): 768 MiB");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", root);
}

int main(void)
{
	tap_seed(0x9e3779b97f4a7c15ull);
	memory_limits();
	names();
	sizes();
	rotation();
	quantizers();
	store_load(LR_KV_F32, 64, 0);
	store_load(LR_KV_F32, 6, 0);
	/* f16: relative rounding 2^-11 */
	store_load(LR_KV_F16, 64, 6e-4);
	store_load(LR_KV_F16, 10, 6e-4);
	/* q8: about (max/127)/sqrt(12) per value, ~1% of rms with these 8x spikes */
	store_load(LR_KV_Q8, 64, 0.02);
	store_load(LR_KV_Q8, 128, 0.02);
	/* q4: ~7.7% rms for Gaussian values after rotation */
	store_load(LR_KV_Q4, 64, 0.10);
	store_load(LR_KV_Q4, 96, 0.10);
	centring(LR_KV_Q8);
	centring(LR_KV_Q4);
	failures();
	return tap_done();
}
