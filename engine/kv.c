/* engine/kv.c — the KV cache: sizing, reserving, the per-token store (sinks, centre,
 * rotation, quantization) and the inverse for tests.
 * Workload: lr_kv_put runs once per token, layer and KV head (n_layer * n_head_kv
 * times per token, a few hundred values each): cheap next to attention, which reads
 * every stored row once per query tile, so the code here is plain C, but for the q4
 * scale search (16 trial scales a block), which has SIMD twins in kernels/. */
#include "engine/kv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/fp16.h"
#include "engine/kernels/attn.h"
#include "engine/kernels/kernels.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23    /* Linux 5.14; older kernels answer EINVAL */
#endif

#define MAX_DIM 1024              /* hparams cap on head dimensions */

static const char *const names[LR_KV_TYPE_COUNT] = { "f32", "f16", "q8", "q4" };

/* Lloyd-Max levels of a 16-level quantizer for N(0, 1), +-0.1284 ... +-2.7326
 * (Max 1960), scaled by 127 / 2.7326 and rounded; the inner levels were then nudged by
 * two Lloyd iterations on blocks of 32 Gaussian values with the per-block scale
 * search below (mean squared error 0.00595 of the signal, vs 0.00737 for llama.cpp's
 * q4_0 rounding on the same blocks). */
const int8_t lr_kv_q4_levels[16] = {
	-127, -99, -77, -60, -45, -31, -18, -6, 6, 18, 31, 45, 60, 77, 99, 127,
};

const char *lr_kv_type_name(enum lr_kv_type t)
{
	return (unsigned)t < LR_KV_TYPE_COUNT ? names[t] : "?";
}

int lr_kv_type_parse(const char *s, enum lr_kv_type *out)
{
	for (int t = 0; t < LR_KV_TYPE_COUNT; t++) {
		if (strcmp(s, names[t]) == 0) {
			*out = (enum lr_kv_type)t;
			return 0;
		}
	}
	return LR_EINVAL;
}

/* bytes of one key panel (16 tokens) and one value row, for one head */
static uint64_t panel_bytes(enum lr_kv_type t, uint64_t hd)
{
	switch (t) {
	case LR_KV_F32: return hd * LR_KV_PANEL * 4;
	case LR_KV_F16: return hd * LR_KV_PANEL * 2;
	case LR_KV_Q8: return (hd + 31) / 32 * sizeof(struct lr_kq8);
	default: return (hd + 31) / 32 * sizeof(struct lr_kq4);
	}
}

static uint64_t row_bytes(enum lr_kv_type t, uint64_t hdv)
{
	switch (t) {
	case LR_KV_F32: return hdv * 4;
	case LR_KV_F16: return hdv * 2;
	case LR_KV_Q8: return (hdv + 31) / 32 * sizeof(struct lr_vq8);
	default: return (hdv + 31) / 32 * sizeof(struct lr_vq4);
	}
}

/* the f16 copy of the sinks per layer and head (q8, q4) */
static uint64_t sink_bytes(enum lr_kv_type t, const struct lr_hparams *hp)
{
	if (t != LR_KV_Q8 && t != LR_KV_Q4)
		return 0;
	return panel_bytes(LR_KV_F16, hp->head_dim) + LR_KV_SINKS * row_bytes(LR_KV_F16, hp->head_dim_v);
}

uint64_t lr_kv_bytes(const struct lr_hparams *hp, enum lr_kv_type t, uint64_t n_ctx)
{
	uint64_t heads = (uint64_t)hp->n_layer * hp->n_head_kv;
	uint64_t panels = (n_ctx + LR_KV_PANEL - 1) / LR_KV_PANEL;

	return heads * (panels * panel_bytes(t, hp->head_dim) + n_ctx * row_bytes(t, hp->head_dim_v) +
	                sink_bytes(t, hp));
}

int lr_kv_supported(const struct lr_hparams *hp, enum lr_kv_type t, struct lr_err *err)
{
	if ((unsigned)t >= LR_KV_TYPE_COUNT)
		return lr_errf(err, LR_EUNSUPPORTED, "unknown KV cache type %d", (int)t);
	if ((t == LR_KV_Q8 || t == LR_KV_Q4) && (hp->head_dim % 32 || hp->head_dim_v % 32))
		return lr_errf(err, LR_EUNSUPPORTED, "a %s KV cache needs head dimensions that are multiples "
			"of 32 (this model's: %" PRIu32 ", %" PRIu32 "); use f16", names[t], hp->head_dim,
			hp->head_dim_v);
	return 0;
}

/* ------------------------------------------------------------------ reserving */

/* A number from the first line of a file ("max" and absurd values: no limit). */
static uint64_t read_num(const char *path, uint64_t none)
{
	FILE *f = fopen(path, "r");
	uint64_t v = none;

	if (f) {
		if (fscanf(f, "%" SCNu64, &v) != 1)
			v = none;
		fclose(f);
	}
	return v >= (UINT64_C(1) << 62) ? none : v;
}

/* key's value in a memory.stat file, 0 if absent. */
static uint64_t stat_key(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char k[64];
	uint64_t v, out = 0;

	if (!f)
		return 0;
	while (fscanf(f, "%63s %" SCNu64, k, &v) == 2)
		if (strcmp(k, key) == 0) {
			out = v;
			break;
		}
	fclose(f);
	return out;
}

/* Room left under the limits of dir and every directory above it up to root (v2:
 * memory.max / memory.current; v1: memory.limit_in_bytes / memory.usage_in_bytes),
 * counting inactive file pages as free (the kernel reclaims them first). */
static uint64_t cgroup_room(const char *root, const char *rel, int v2)
{
	char dir[4096], path[4200];
	uint64_t room = UINT64_MAX;
	size_t n;

	snprintf(dir, sizeof dir, "%s%s", root, rel);
	for (;;) {
		uint64_t lim, use, inactive;
		snprintf(path, sizeof path, "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
		lim = read_num(path, UINT64_MAX);
		if (lim != UINT64_MAX) {
			snprintf(path, sizeof path, "%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
			use = read_num(path, 0);
			snprintf(path, sizeof path, "%s/memory.stat", dir);
			inactive = stat_key(path, v2 ? "inactive_file" : "total_inactive_file");
			use = use > inactive ? use - inactive : 0;
			if (lim - (lim > use ? use : lim) < room)
				room = lim > use ? lim - use : 0;
		}
		n = strlen(dir);
		if (n <= strlen(root))
			break;
		while (n > strlen(root) && dir[n - 1] != '/')
			n--;
		if (n > 0 && dir[n - 1] == '/')
			n--;
		dir[n] = '\0';
	}
	return room;
}

uint64_t lr_mem_available_at(const char *proc, const char *sys)
{
	char path[4096], line[4096], root[4096];
	uint64_t kib = 0, avail, room;
	FILE *f;

	snprintf(path, sizeof path, "%s/meminfo", proc);
	if ((f = fopen(path, "r"))) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kib) == 1)
				break;
		fclose(f);
	}
	avail = kib * 1024;
	/* "0::/path" (v2), "N:memory:/path" or "N:cpu,memory:/path" (v1) */
	snprintf(path, sizeof path, "%s/self/cgroup", proc);
	if (!(f = fopen(path, "r")))
		return avail;
	while (fgets(line, sizeof line, f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL, *nl;
		int v2;
		if (!b)
			continue;
		if ((nl = strchr(b, '\n')))
			*nl = '\0';
		v2 = a == line + 1 && line[0] == '0' && a + 1 == b;
		*b = '\0';
		if (!v2 && !strstr(a + 1, "memory"))
			continue;
		snprintf(root, sizeof root, "%s/fs/cgroup%s", sys, v2 ? "" : "/memory");
		room = cgroup_room(root, strcmp(b + 1, "/") == 0 ? "" : b + 1, v2);
		/* inside a container the group's own directory is the mount's root */
		if (room == UINT64_MAX)
			room = cgroup_room(root, "", v2);
		if (room < avail || !avail)
			avail = room == UINT64_MAX ? avail : room;
	}
	fclose(f);
	return avail;
}

uint64_t lr_mem_available(void)
{
	return lr_mem_available_at("/proc", "/sys");
}

/* Commit every page of an anonymous mapping now.  MADV_POPULATE_WRITE reports a
 * failure as an error; on kernels without it, touch one byte per page. */
static int populate(uint8_t *p, uint64_t n)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (n == 0)
		return 0;
	if (madvise(p, n, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	for (uint64_t i = 0; i < n; i += (uint64_t)(pg > 0 ? pg : 4096))
		((volatile uint8_t *)p)[i] = 0;
	return 0;
}

static void gib(char *buf, size_t n, uint64_t bytes)
{
	if (bytes >= (1ull << 40))
		snprintf(buf, n, "%.1f TiB", (double)bytes / (1ull << 40));
	else if (bytes >= (1ull << 30))
		snprintf(buf, n, "%.1f GiB", (double)bytes / (1ull << 30));
	else
		snprintf(buf, n, "%.1f MiB", (double)bytes / (1ull << 20));
}

/* fixed random signs: bit i of a splitmix64 stream seeded with LR_KV_ROT_SEED.  Saved
 * caches depend on these values: never change the seed or the generator. */
#define LR_KV_ROT_SEED 0x6c6f6e6772656164ull   /* "longread" */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int lr_kv_init(struct lr_kv *kv, const struct lr_hparams *hp, enum lr_kv_type t, uint32_t n_ctx,
               struct lr_err *err)
{
	uint64_t heads, avail;
	void *k = MAP_FAILED, *v = MAP_FAILED;
	char need[32], have[32];
	int rc;

	memset(kv, 0, sizeof *kv);
	if ((rc = lr_kv_supported(hp, t, err)))
		return rc;
	if (n_ctx == 0 || n_ctx > (1u << 31))
		return lr_errf(err, LR_ERANGE, "a KV cache of %" PRIu32 " tokens is not possible", n_ctx);
	kv->type = t;
	kv->n_ctx = n_ctx;
	kv->n_layer = hp->n_layer;
	kv->n_head_kv = hp->n_head_kv;
	kv->head_dim = hp->head_dim;
	kv->head_dim_v = hp->head_dim_v;
	kv->n_panels = (n_ctx + LR_KV_PANEL - 1) / LR_KV_PANEL;
	kv->k_panel = panel_bytes(t, hp->head_dim);
	kv->v_row = row_bytes(t, hp->head_dim_v);
	heads = (uint64_t)hp->n_layer * hp->n_head_kv;
	kv->k_bytes = heads * kv->n_panels * kv->k_panel;
	kv->v_bytes = heads * n_ctx * kv->v_row;
	kv->bytes = kv->k_bytes + kv->v_bytes + heads * sink_bytes(t, hp);
	gib(need, sizeof need, kv->bytes);

	avail = lr_mem_available();
	if (avail && kv->bytes > avail) {
		gib(have, sizeof have, avail);
		rc = lr_errf(err, LR_ENOMEM, "the KV cache (%s, %" PRIu32 " tokens) needs %s; only %s of memory "
			"is available (try a smaller context or a smaller cache type)", names[t], n_ctx, need, have);
		goto fail;
	}
	k = mmap(NULL, kv->k_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v = mmap(NULL, kv->v_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k == MAP_FAILED || v == MAP_FAILED || populate(k, kv->k_bytes) || populate(v, kv->v_bytes)) {
		rc = lr_errf(err, LR_ENOMEM, "cannot reserve %s for the KV cache (%s, %" PRIu32 " tokens)", need,
			names[t], n_ctx);
		goto fail;
	}
	kv->k = k;
	kv->v = v;

	if (t == LR_KV_Q8 || t == LR_KV_Q4) {
		const struct lr_attn_kernels *K = lr_attn_kernels_get(lr_kernels_best()->name);
		uint32_t dmax = hp->head_dim > hp->head_dim_v ? hp->head_dim : hp->head_dim_v;
		uint64_t s = LR_KV_ROT_SEED, bits = 0;
		float norm;

		kv->quant_q4 = K ? K->quant_q4 : lr_kv_quant_q4;
		kv->rotated = 1;
		kv->rot_block = 1;
		while (kv->rot_block < MAX_DIM && hp->head_dim % (kv->rot_block * 2) == 0 &&
		       hp->head_dim_v % (kv->rot_block * 2) == 0)
			kv->rot_block *= 2;
		norm = 1.0f / sqrtf((float)kv->rot_block);
		kv->rot_sign = malloc(sizeof(float) * dmax);
		kv->sink_panel = panel_bytes(LR_KV_F16, hp->head_dim);
		kv->sink_row = row_bytes(LR_KV_F16, hp->head_dim_v);
		kv->sink_k = calloc(heads, kv->sink_panel);
		kv->sink_v = calloc(heads * LR_KV_SINKS, kv->sink_row);
		kv->kcenter = calloc(heads * hp->head_dim, sizeof(float));
		kv->centered = calloc(hp->n_layer, 1);
		if (!kv->rot_sign || !kv->sink_k || !kv->sink_v || !kv->kcenter || !kv->centered) {
			rc = lr_errf(err, LR_ENOMEM, "out of memory");
			goto fail_mapped;
		}
		for (uint32_t i = 0; i < dmax; i++) {
			if (i % 64 == 0)
				bits = splitmix64(&s);
			kv->rot_sign[i] = (bits >> (i % 64)) & 1 ? -norm : norm;
		}
	}
	return 0;
fail:
	if (k != MAP_FAILED)
		munmap(k, kv->k_bytes);
	if (v != MAP_FAILED)
		munmap(v, kv->v_bytes);
	memset(kv, 0, sizeof *kv);
	return rc;
fail_mapped:
	lr_kv_release(kv);
	return rc;
}

void lr_kv_release(struct lr_kv *kv)
{
	if (kv->k)
		munmap(kv->k, kv->k_bytes);
	if (kv->v)
		munmap(kv->v, kv->v_bytes);
	free(kv->rot_sign);
	free(kv->sink_k);
	free(kv->sink_v);
	free(kv->kcenter);
	free(kv->centered);
	memset(kv, 0, sizeof *kv);
}

/* ------------------------------------------------------------------ rotation */

/* in-place unnormalised Walsh-Hadamard transform of n = 2^k values */
static void fwht(float *x, uint32_t n)
{
	for (uint32_t h = 1; h < n; h *= 2)
		for (uint32_t i = 0; i < n; i += 2 * h)
			for (uint32_t j = i; j < i + h; j++) {
				float a = x[j], b = x[j + h];
				x[j] = a + b;
				x[j + h] = a - b;
			}
}

void lr_kv_rotate(const struct lr_kv *kv, float *x, uint32_t n)
{
	if (!kv->rotated)
		return;
	for (uint32_t i = 0; i < n; i++)
		x[i] *= kv->rot_sign[i];
	for (uint32_t b = 0; b < n; b += kv->rot_block)
		fwht(x + b, kv->rot_block);
}

void lr_kv_unrotate(const struct lr_kv *kv, float *x, uint32_t n)
{
	if (!kv->rotated)
		return;
	for (uint32_t b = 0; b < n; b += kv->rot_block)
		fwht(x + b, kv->rot_block);
	for (uint32_t i = 0; i < n; i++)
		x[i] *= kv->rot_sign[i];
}

/* ------------------------------------------------------------------ quantizers */

static float amax32(const float *x)
{
	float m = 0;

	for (int i = 0; i < 32; i++)
		if (fabsf(x[i]) > m)
			m = fabsf(x[i]);
	return m;
}

void lr_kv_quant_q8(const float *x, uint16_t *d, int8_t *code)
{
	float m = amax32(x), df, id;

	*d = lr_f32_to_f16(m / 127.0f);
	df = lr_f16_to_f32(*d);
	id = df > 0 ? 1.0f / df : 0.0f;
	for (int i = 0; i < 32; i++) {
		float q = nearbyintf(x[i] * id);
		code[i] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
	}
}

/* midpoints between adjacent levels: mid[c] between levels c - 1 and c (mid[0] unused) */
const float lr_kv_q4_mid[16] = {
	0, -113, -88, -68.5f, -52.5f, -38, -24.5f, -12, 0, 12, 24.5f, 38, 52.5f, 68.5f, 88, 113,
};

/* the nearest level to v (in level units): the number of midpoints below v (NaN
 * counts none); counted without branches, which mispredict half the time here */
static uint8_t q4_nearest(float v)
{
	int c = 0;

	for (int m = 1; m < 16; m++)
		c += v > lr_kv_q4_mid[m];
	return (uint8_t)c;
}

int lr_kv_q4_scales(float amax, uint16_t *cand)
{
	int n = 0;

	/* the largest value need not sit on the outermost level: clipping it a little
	 * buys a finer grid for the other 31 */
	for (int s = 0; s < LR_KV_Q4_SCALES; s++) {
		float f = 0.75f + 0.30f * (float)s / (LR_KV_Q4_SCALES - 1);
		uint16_t hd = lr_f32_to_f16(amax / (127.0f * f));
		if (lr_f16_to_f32(hd) > 0)
			cand[n++] = hd;
	}
	return n;
}

void lr_kv_quant_q4(const float *x, uint16_t *d, uint8_t *code)
{
	uint16_t cand[LR_KV_Q4_SCALES];
	int n = lr_kv_q4_scales(amax32(x), cand);
	float best_err = INFINITY, df, id;

	*d = 0;
	for (int s = 0; s < n; s++) {
		/* squared error in level units: lane l sums values l and l + 16, then the
		 * lanes in order (the SIMD twin's order, so both pick the same scale) */
		float lane[16], e = 0;
		df = lr_f16_to_f32(cand[s]);
		id = 1.0f / df;
		for (int i = 0; i < 32; i++) {
			float v = x[i] * id, r = fmaf(x[i], id, -(float)lr_kv_q4_levels[q4_nearest(v)]);
			lane[i % 16] = i < 16 ? r * r : fmaf(r, r, lane[i % 16]);
		}
		for (int l = 0; l < 16; l++)
			e += lane[l];
		e = e * df * df;
		if (e < best_err) {
			best_err = e;
			*d = cand[s];
		}
	}
	df = lr_f16_to_f32(*d);
	id = df > 0 ? 1.0f / df : 0.0f;
	for (int i = 0; i < 32; i++)
		code[i] = q4_nearest(x[i] * id);
}

/* ------------------------------------------------------------------ store and load */

static void put_f16(uint8_t *dst, uint64_t stride, const float *x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint16_t h = lr_f32_to_f16(x[i]);
		memcpy(dst + i * stride, &h, 2);
	}
}

static void get_f16(const uint8_t *src, uint64_t stride, float *x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint16_t h;
		memcpy(&h, src + i * stride, 2);
		x[i] = lr_f16_to_f32(h);
	}
}

/* a sink key, rotated, into the f16 sink panel */
static void put_sink_key(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos, const float *k)
{
	float kr[MAX_DIM];

	memcpy(kr, k, sizeof(float) * kv->head_dim);
	lr_kv_rotate(kv, kr, kv->head_dim);
	put_f16(lr_kv_sink_kpanel(kv, layer, head) + (uint64_t)pos * 2, LR_KV_PANEL * 2, kr, kv->head_dim);
}

void lr_kv_center(const struct lr_kv *kv, uint32_t layer, uint32_t pos0, const float *k, uint32_t n,
                  uint64_t ld)
{
	const uint32_t hd = kv->head_dim;

	if (!kv->centered || kv->centered[layer] || (uint64_t)pos0 + n < LR_KV_SINKS)
		return;
	/* this batch's sinks first (STORE writes them again, identically), so the mean is
	 * taken over the stored f16 values however the tokens were batched */
	for (uint32_t p = pos0; p < LR_KV_SINKS; p++)
		for (uint32_t h = 0; h < kv->n_head_kv; h++)
			put_sink_key(kv, layer, h, p, k + (uint64_t)(p - pos0) * ld + (uint64_t)h * hd);
	for (uint32_t h = 0; h < kv->n_head_kv; h++) {
		const uint8_t *panel = lr_kv_sink_kpanel(kv, layer, h);
		float *c = kv->kcenter + ((uint64_t)layer * kv->n_head_kv + h) * hd, row[LR_KV_SINKS];
		for (uint32_t i = 0; i < hd; i++) {
			double sum = 0;
			get_f16(panel + (uint64_t)i * LR_KV_PANEL * 2, 2, row, LR_KV_SINKS);
			for (uint32_t t = 0; t < LR_KV_SINKS; t++)
				sum += row[t];
			c[i] = (float)(sum / LR_KV_SINKS);
		}
	}
	kv->centered[layer] = 1;
}

void lr_kv_rewind(const struct lr_kv *kv, uint32_t pos)
{
	if (kv->centered && pos < LR_KV_SINKS) {
		memset(kv->centered, 0, kv->n_layer);
		memset(kv->kcenter, 0, sizeof(float) * kv->n_layer * kv->n_head_kv * kv->head_dim);
	}
}

void lr_kv_put(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos,
               const float *k, const float *v)
{
	uint8_t *kp = lr_kv_kpanel(kv, layer, head, pos / LR_KV_PANEL), *vr = lr_kv_vrow(kv, layer, head, pos);
	const uint32_t slot = pos % LR_KV_PANEL, hd = kv->head_dim, hdv = kv->head_dim_v;
	float kr[MAX_DIM], vrot[MAX_DIM];

	switch (kv->type) {
	case LR_KV_F32:
		for (uint32_t i = 0; i < hd; i++)
			memcpy(kp + ((uint64_t)i * LR_KV_PANEL + slot) * 4, &k[i], 4);
		memcpy(vr, v, (size_t)hdv * 4);
		return;
	case LR_KV_F16:
		put_f16(kp + (uint64_t)slot * 2, LR_KV_PANEL * 2, k, hd);
		put_f16(vr, 2, v, hdv);
		return;
	default:
		break;
	}
	memcpy(vrot, v, sizeof(float) * hdv);
	lr_kv_rotate(kv, vrot, hdv);
	if (pos < LR_KV_SINKS) {
		put_sink_key(kv, layer, head, pos, k);
		put_f16(lr_kv_sink_vrow(kv, layer, head, pos), 2, vrot, hdv);
		return;
	}
	memcpy(kr, k, sizeof(float) * hd);
	lr_kv_rotate(kv, kr, hd);
	{
		const float *c = kv->kcenter + ((uint64_t)layer * kv->n_head_kv + head) * hd;
		for (uint32_t i = 0; i < hd; i++)
			kr[i] -= c[i];
	}
	if (kv->type == LR_KV_Q8) {
		struct lr_kq8 *kb = (struct lr_kq8 *)kp;
		struct lr_vq8 *vb = (struct lr_vq8 *)vr;
		int8_t c[32];
		for (uint32_t b = 0; b < hd / 32; b++) {
			lr_kv_quant_q8(kr + 32 * b, &kb[b].d[slot], c);
			for (int p = 0; p < 16; p++) {
				kb[b].qs[p][slot][0] = c[2 * p];
				kb[b].qs[p][slot][1] = c[2 * p + 1];
			}
		}
		for (uint32_t b = 0; b < hdv / 32; b++)
			lr_kv_quant_q8(vrot + 32 * b, &vb[b].d, vb[b].qs);
	} else {
		struct lr_kq4 *kb = (struct lr_kq4 *)kp;
		struct lr_vq4 *vb = (struct lr_vq4 *)vr;
		uint8_t c[32];
		for (uint32_t b = 0; b < hd / 32; b++) {
			kv->quant_q4(kr + 32 * b, &kb[b].d[slot], c);
			for (int g = 0; g < 8; g++)
				for (int e = 0; e < 2; e++)
					kb[b].qs[g][slot][e] = (uint8_t)(c[2 * g + e] | c[16 + 2 * g + e] << 4);
		}
		for (uint32_t b = 0; b < hdv / 32; b++) {
			kv->quant_q4(vrot + 32 * b, &vb[b].d, c);
			for (int j = 0; j < 16; j++)
				vb[b].qs[j] = (uint8_t)(c[j] | c[j + 16] << 4);
		}
	}
}

void lr_kv_get(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos, float *k, float *v)
{
	const uint8_t *kp = lr_kv_kpanel(kv, layer, head, pos / LR_KV_PANEL), *vr = lr_kv_vrow(kv, layer, head, pos);
	const uint32_t slot = pos % LR_KV_PANEL, hd = kv->head_dim, hdv = kv->head_dim_v;

	switch (kv->type) {
	case LR_KV_F32:
		for (uint32_t i = 0; i < hd; i++)
			memcpy(&k[i], kp + ((uint64_t)i * LR_KV_PANEL + slot) * 4, 4);
		memcpy(v, vr, (size_t)hdv * 4);
		return;
	case LR_KV_F16:
		get_f16(kp + (uint64_t)slot * 2, LR_KV_PANEL * 2, k, hd);
		get_f16(vr, 2, v, hdv);
		return;
	default:
		break;
	}
	if (pos < LR_KV_SINKS) {
		get_f16(lr_kv_sink_kpanel(kv, layer, head) + (uint64_t)pos * 2, LR_KV_PANEL * 2, k, hd);
		get_f16(lr_kv_sink_vrow(kv, layer, head, pos), 2, v, hdv);
		lr_kv_unrotate(kv, k, hd);
		lr_kv_unrotate(kv, v, hdv);
		return;
	}
	if (kv->type == LR_KV_Q8) {
		const struct lr_kq8 *kb = (const struct lr_kq8 *)kp;
		const struct lr_vq8 *vb = (const struct lr_vq8 *)vr;
		for (uint32_t i = 0; i < hd; i++) {
			const struct lr_kq8 *b = &kb[i / 32];
			k[i] = lr_f16_to_f32(b->d[slot]) * b->qs[i % 32 / 2][slot][i % 2];
		}
		for (uint32_t i = 0; i < hdv; i++)
			v[i] = lr_f16_to_f32(vb[i / 32].d) * vb[i / 32].qs[i % 32];
	} else {
		const struct lr_kq4 *kb = (const struct lr_kq4 *)kp;
		const struct lr_vq4 *vb = (const struct lr_vq4 *)vr;
		for (uint32_t i = 0; i < hd; i++) {
			const struct lr_kq4 *b = &kb[i / 32];
			uint32_t j = i % 32;
			uint8_t byte = b->qs[j % 16 / 2][slot][j % 2];
			k[i] = lr_f16_to_f32(b->d[slot]) * lr_kv_q4_levels[j < 16 ? byte & 15 : byte >> 4];
		}
		for (uint32_t i = 0; i < hdv; i++) {
			uint32_t j = i % 32;
			uint8_t byte = vb[i / 32].qs[j % 16];
			v[i] = lr_f16_to_f32(vb[i / 32].d) * lr_kv_q4_levels[j < 16 ? byte & 15 : byte >> 4];
		}
	}
	{
		const float *c = kv->kcenter + ((uint64_t)layer * kv->n_head_kv + head) * hd;
		for (uint32_t i = 0; i < hd; i++)
			k[i] += c[i];
	}
	lr_kv_unrotate(kv, k, hd);
	lr_kv_unrotate(kv, v, hdv);
}

/* ------------------------------------------------------------------ saving */

#define PROLOGUE 16u   /* u32 type, n, rot_block, heads */

static uint64_t per_head(const struct lr_kv *kv, uint32_t n)
{
	uint64_t b = (uint64_t)((n + LR_KV_PANEL - 1) / LR_KV_PANEL) * kv->k_panel + (uint64_t)n * kv->v_row;

	if (kv->sink_k)
		b += kv->sink_panel + (uint64_t)LR_KV_SINKS * kv->sink_row;
	return b;
}

static uint64_t centres_bytes(const struct lr_kv *kv)
{
	if (!kv->kcenter)
		return 0;
	return ((uint64_t)kv->n_layer + 7) / 8 * 8 + sizeof(float) * (uint64_t)kv->n_layer * kv->n_head_kv * kv->head_dim;
}

uint64_t lr_kv_saved_bytes(const struct lr_kv *kv, uint32_t n)
{
	return PROLOGUE + centres_bytes(kv) + (uint64_t)kv->n_layer * kv->n_head_kv * per_head(kv, n);
}

int lr_kv_save(const struct lr_kv *kv, uint32_t n,
               int (*write)(void *arg, const void *data, uint64_t len, struct lr_err *err), void *arg,
               struct lr_err *err)
{
	uint32_t pro[4] = { kv->type, n, kv->rotated ? kv->rot_block : 0, kv->n_layer * kv->n_head_kv };
	const uint32_t n_panels = (n + LR_KV_PANEL - 1) / LR_KV_PANEL;
	int rc;

	if (n > kv->n_ctx)
		return lr_errf(err, LR_ERANGE, "cannot save %u tokens of a %u-token cache", n, kv->n_ctx);
	if ((rc = write(arg, pro, sizeof pro, err)))
		return rc;
	if (kv->kcenter) {
		uint8_t flags[8] = { 0 };
		for (uint32_t l = 0; l < kv->n_layer; l += 8) {
			for (uint32_t i = 0; i < 8; i++)
				flags[i] = l + i < kv->n_layer ? kv->centered[l + i] : 0;
			if ((rc = write(arg, flags, 8, err)))
				return rc;
		}
		if ((rc = write(arg, kv->kcenter, sizeof(float) * (uint64_t)kv->n_layer * kv->n_head_kv * kv->head_dim, err)))
			return rc;
	}
	for (uint32_t l = 0; l < kv->n_layer; l++) {
		for (uint32_t h = 0; h < kv->n_head_kv; h++) {
			/* one head's panels and rows are contiguous in the cache */
			if ((rc = write(arg, lr_kv_kpanel(kv, l, h, 0), (uint64_t)n_panels * kv->k_panel, err)) ||
			    (rc = write(arg, lr_kv_vrow(kv, l, h, 0), (uint64_t)n * kv->v_row, err)))
				return rc;
			if (kv->sink_k && ((rc = write(arg, lr_kv_sink_kpanel(kv, l, h), kv->sink_panel, err)) ||
			                   (rc = write(arg, lr_kv_sink_vrow(kv, l, h, 0), (uint64_t)LR_KV_SINKS * kv->sink_row, err))))
				return rc;
		}
	}
	return 0;
}

int lr_kv_load(const struct lr_kv *kv, uint32_t n, uint32_t n_saved, const void *data, uint64_t len,
               struct lr_err *err)
{
	const uint8_t *p = data;
	const uint32_t n_panels = (n + LR_KV_PANEL - 1) / LR_KV_PANEL;
	const uint32_t saved_panels = (n_saved + LR_KV_PANEL - 1) / LR_KV_PANEL;
	uint32_t pro[4];

	if (n > n_saved || n > kv->n_ctx)
		return lr_errf(err, LR_ERANGE, "cannot load %u tokens: %u are saved, the cache holds %u", n, n_saved,
			kv->n_ctx);
	if (len < PROLOGUE)
		return lr_errf(err, LR_EFORMAT, "saved KV cache is cut short");
	memcpy(pro, p, sizeof pro);
	if (pro[0] != kv->type || pro[2] != (kv->rotated ? kv->rot_block : 0) || pro[3] != kv->n_layer * kv->n_head_kv)
		return lr_errf(err, LR_EMISMATCH, "the saved KV cache is of another type or shape (%s, rotation %u)",
			lr_kv_type_name((enum lr_kv_type)(pro[0] < LR_KV_TYPE_COUNT ? pro[0] : 0)), pro[2]);
	if (pro[1] != n_saved || len != lr_kv_saved_bytes(kv, n_saved))
		return lr_errf(err, LR_EFORMAT, "the saved KV cache has %" PRIu64 " bytes; %u tokens take %" PRIu64,
			len, n_saved, lr_kv_saved_bytes(kv, n_saved));
	p += PROLOGUE;
	if (kv->kcenter) {
		for (uint32_t l = 0; l < kv->n_layer; l++)
			kv->centered[l] = p[l] != 0;
		p += ((uint64_t)kv->n_layer + 7) / 8 * 8;
		memcpy(kv->kcenter, p, sizeof(float) * (uint64_t)kv->n_layer * kv->n_head_kv * kv->head_dim);
		p += sizeof(float) * (uint64_t)kv->n_layer * kv->n_head_kv * kv->head_dim;
	}
	for (uint32_t l = 0; l < kv->n_layer; l++) {
		for (uint32_t h = 0; h < kv->n_head_kv; h++) {
			memcpy(lr_kv_kpanel(kv, l, h, 0), p, (uint64_t)n_panels * kv->k_panel);
			p += (uint64_t)saved_panels * kv->k_panel;
			memcpy(lr_kv_vrow(kv, l, h, 0), p, (uint64_t)n * kv->v_row);
			p += (uint64_t)n_saved * kv->v_row;
			if (kv->sink_k) {
				memcpy(lr_kv_sink_kpanel(kv, l, h), p, kv->sink_panel);
				p += kv->sink_panel;
				memcpy(lr_kv_sink_vrow(kv, l, h, 0), p, (uint64_t)LR_KV_SINKS * kv->sink_row);
				p += (uint64_t)LR_KV_SINKS * kv->sink_row;
			}
		}
	}
	lr_kv_rewind(kv, n);   /* a prefix shorter than the sinks has no centre yet */
	return 0;
}
