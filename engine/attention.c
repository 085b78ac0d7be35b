/* engine/attention.c — tiled online-softmax attention over the KV cache: items,
 * tiles, the softmax bookkeeping, key-range splits and their merge.  The arithmetic is
 * in engine/kernels/attn_*.c.
 * Workload: prefill runs (n_tok / block) x n_head_kv items over up to n_ctx keys each,
 * arithmetic-bound; decode runs n_head_kv items (times the key-range splits) of one
 * token, bound by reading the cache. */
#include "engine/attention.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_KEYS 4096      /* keys per range when one block's heads are split... */
#define SPLIT_MAX 16         /* ...into at most this many ranges */
#define MAX_DIM 1024

/* tokens per item: as many as give at most LR_ATTN_ROWS rows, at least one */
static uint32_t tokens_per_item(uint32_t group)
{
	uint32_t t = LR_ATTN_ROWS / group;

	return t ? t : 1;
}

static uint32_t max_rows(uint32_t group)
{
	return tokens_per_item(group) * group;
}

static uint64_t align64(uint64_t n)
{
	return (n + 63) / 64 * 64;
}

/* bf16 products of P and a block's value scales, for a register block of rows */
static uint64_t pb_bytes(const struct lr_kv *kv)
{
	return 8ull * (kv->head_dim_v / 32 + 1) * LR_ATTN_TILE * 2;
}

/* per-thread scratch, in bytes; laid out by thread_scratch() */
static uint64_t thread_bytes(const struct lr_kv *kv, uint32_t group)
{
	uint64_t R = max_rows(group), hd = kv->head_dim, hdv = kv->head_dim_v;

	return align64(R * hd * 4) + align64(R * hd * 2) + align64(R * 4) * 3 +
	       align64(R * LR_ATTN_TILE * 4) + align64(R * hdv * 4) + align64((uint64_t)LR_ATTN_TILE * hdv * 4) +
	       align64(MAX_DIM * 4) + align64((hdv / 32 + 1) * LR_ATTN_TILE * 4) + align64(pb_bytes(kv));
}

static uint32_t max_splits(const struct lr_kv *kv)
{
	uint32_t n = (kv->n_ctx + SPLIT_KEYS - 1) / SPLIT_KEYS;

	return n < SPLIT_MAX ? n : SPLIT_MAX;
}

/* partial results of split items (one query token: group rows per KV head): per
 * (KV head, split, row) the maximum, the sum and the unnormalised output */
static uint64_t partial_floats(const struct lr_kv *kv, uint32_t group)
{
	return (uint64_t)kv->n_head_kv * max_splits(kv) * group * (kv->head_dim_v + 2);
}

/* Each thread's share holds room for the partial results too, but only thread 0's is
 * used: the total is a multiple of the per-thread size, as callers allocate it. */
uint64_t lr_attn_scratch_floats(const struct lr_kv *kv, uint32_t group)
{
	return (thread_bytes(kv, group) + align64(partial_floats(kv, group) * 4)) / 4;
}

struct scratch {
	float *qf;           /* [R][hd] scaled (and rotated) queries */
	int16_t *q16;        /* [R][hd] their int16 codes (q8, q4) */
	float *qd;           /* [R] code scales */
	float *m, *l;        /* [R] running maximum and sum */
	float *S;            /* [R][TILE] scores, then probabilities */
	float *acc;          /* [R][hdv] unnormalised output */
	float *vt;           /* [TILE][hdv] one tile of values as float32, or as bf16 pairs */
	float *row;          /* [MAX_DIM]: an output row, or the sinks' per-row score shift */
	float *dv;           /* [hdv / 32][TILE] value scales (bf16 pairs) */
	uint16_t *pb;        /* pv_pairs scratch */
};

static struct scratch thread_scratch(const struct lr_attn_job *j, int ith)
{
	const struct lr_kv *kv = j->kv;
	uint64_t R = max_rows(j->group), hd = kv->head_dim, hdv = kv->head_dim_v;
	uint8_t *p = (uint8_t *)j->scratch + (uint64_t)ith * lr_attn_scratch_floats(kv, j->group) * 4;
	struct scratch s;

	s.qf = (float *)p; p += align64(R * hd * 4);
	s.q16 = (int16_t *)p; p += align64(R * hd * 2);
	s.qd = (float *)p; p += align64(R * 4);
	s.m = (float *)p; p += align64(R * 4);
	s.l = (float *)p; p += align64(R * 4);
	s.S = (float *)p; p += align64(R * LR_ATTN_TILE * 4);
	s.acc = (float *)p; p += align64(R * hdv * 4);
	s.vt = (float *)p; p += align64((uint64_t)LR_ATTN_TILE * hdv * 4);
	s.row = (float *)p; p += align64(MAX_DIM * 4);
	s.dv = (float *)p; p += align64((hdv / 32 + 1) * LR_ATTN_TILE * 4);
	s.pb = (uint16_t *)p;
	return s;
}

/* ------------------------------------------------------------------ plan */

struct plan {
	const struct lr_attn_job *j;
	const struct lr_attn_kernels *k;
	uint32_t tpi;          /* tokens per item */
	uint32_t n_blocks;     /* blocks of query tokens */
	uint32_t n_split;      /* key ranges per (block, head); > 1 only for a single query token */
	uint32_t n_items;
	float *partial;
	atomic_uint next;      /* the next item to hand out */
};

/* Item it in cost order (the last query blocks see the most keys, so they go first):
 * block, KV head and key range. */
static void item_of(const struct plan *pl, uint32_t it, uint32_t *blk, uint32_t *g, uint32_t *split)
{
	const uint32_t n_kv = pl->j->kv->n_head_kv, per_block = n_kv * pl->n_split;
	uint32_t k = it % per_block;

	*blk = pl->n_blocks - 1 - it / per_block;
	*g = k / pl->n_split;
	*split = k % pl->n_split;
}

/* ------------------------------------------------------------------ one item */

/* Scale, rotate and (for q8, q4) quantize the item's query rows. */
static void prepare_queries(const struct lr_attn_job *j, const struct scratch *s, uint32_t t0, uint32_t R,
                            uint32_t g)
{
	const struct lr_kv *kv = j->kv;
	const uint32_t hd = kv->head_dim, G = j->group;
	const float scale = j->scale * 1.44269504088896341f;   /* softmax in base 2 */
	const int ints = kv->type == LR_KV_Q8 || kv->type == LR_KV_Q4;

	for (uint32_t r = 0; r < R; r++) {
		const float *src = j->q + ((size_t)(t0 + r / G) * j->n_head + (size_t)g * G + r % G) * hd;
		float *qf = s->qf + (size_t)r * hd, amax = 0;
		for (uint32_t i = 0; i < hd; i++)
			qf[i] = src[i] * scale;
		lr_kv_rotate(kv, qf, hd);
		s->m[r] = -INFINITY;
		s->l[r] = 0;
		if (!ints)
			continue;
		for (uint32_t i = 0; i < hd; i++)
			amax = fabsf(qf[i]) > amax ? fabsf(qf[i]) : amax;
		s->qd[r] = amax / 32767.0f;
		{
			float id = amax > 0 ? 32767.0f / amax : 0.0f;
			for (uint32_t i = 0; i < hd; i++) {
				float c = nearbyintf(qf[i] * id);
				s->q16[(size_t)r * hd + i] = (int16_t)(c > 32767 ? 32767 : c < -32767 ? -32767 : c);
			}
		}
	}
}

/* Ask for the next tile's keys and values while this one is computed: decoding does
 * little arithmetic per byte of cache (about 8% faster decode measured with this). */
static void prefetch_tile(const struct lr_kv *kv, const uint8_t *kbase, const uint8_t *vbase, uint32_t p0,
                          uint32_t k1)
{
	const uint32_t n = k1 - p0 < LR_ATTN_TILE ? k1 - p0 : LR_ATTN_TILE;
	const uint8_t *k = kbase + (uint64_t)(p0 / LR_KV_PANEL) * kv->k_panel, *v = vbase + (uint64_t)p0 * kv->v_row;
	const uint64_t kb = (uint64_t)(n + LR_KV_PANEL - 1) / LR_KV_PANEL * kv->k_panel, vb = (uint64_t)n * kv->v_row;

	for (uint64_t o = 0; o < kb; o += 64)
		__builtin_prefetch(k + o);
	for (uint64_t o = 0; o < vb; o += 64)
		__builtin_prefetch(v + o);
}

/* Where one tile's keys and values come from: the cache in its type, or (q8/q4, the
 * first LR_KV_SINKS tokens) the f16 sink copy. */
struct source {
	enum lr_kv_type type;
	const uint8_t *panels;     /* the tile's first key panel */
	uint64_t panel_bytes;
	const uint8_t *rows;       /* the tile's first value row */
	uint64_t row_bytes;
};

/* One tile: keys p0 .. p0 + n - 1 for rows of positions first_pos + r / G; shift
 * (NULL: none) is taken from every score of row r. */
static void tile(const struct plan *pl, const struct scratch *s, const struct lr_attn_q *q, const struct source *src,
                 uint32_t p0, uint32_t n, uint32_t first_pos, const float *shift)
{
	const struct lr_attn_kernels *K = pl->k;
	const uint32_t R = (uint32_t)q->R, G = pl->j->group, hdv = pl->j->kv->head_dim_v;

	K->qk[src->type](q, src->panels, src->panel_bytes, (int)((n + LR_KV_PANEL - 1) / LR_KV_PANEL), s->S,
	                 LR_ATTN_TILE);
	for (uint32_t r = 0; r < R; r++) {
		float *S = s->S + (size_t)r * LR_ATTN_TILE, mx, corr = 1.0f;
		uint32_t pos = first_pos + r / G;
		uint32_t valid = pos >= p0 + n ? n : pos >= p0 ? pos + 1 - p0 : 0;

		if (valid == 0) {
			memset(S, 0, sizeof(float) * n);
			continue;
		}
		if (shift)
			for (uint32_t i = 0; i < valid; i++)
				S[i] -= shift[r];
		mx = K->row_max(S, (int)valid);
		if (mx > s->m[r]) {
			corr = lr_attn_exp2(s->m[r] - mx);   /* 0 for the first tile (m = -inf) */
			s->m[r] = mx;
		}
		s->l[r] = s->l[r] * corr + K->exp2_sum(S, (int)valid, s->m[r]);
		if (valid < n)
			memset(S + valid, 0, sizeof(float) * (n - valid));
		if (corr != 1.0f) {
			float *a = s->acc + (size_t)r * hdv;
			for (uint32_t e = 0; e < hdv; e++)
				a[e] *= corr;
		}
	}
	if (K->pv_pairs && K->v_pairs[src->type]) {
		uint16_t *vp = (uint16_t *)s->vt;
		K->v_pairs[src->type](src->rows, src->row_bytes, (int)n, (int)hdv, vp, s->dv);
		K->pv_pairs(s->S, LR_ATTN_TILE, (int)R, (int)n, vp, s->dv, (int)hdv, s->acc, (int)hdv, s->pb);
	} else {
		const float *vt = K->v_tile[src->type](src->rows, src->row_bytes, (int)n, (int)hdv, s->vt);
		K->pv(s->S, LR_ATTN_TILE, (int)R, (int)n, vt, (int)hdv, s->acc, (int)hdv);
	}
}

/* Attend rows t0.. (R rows, r = token * G + head in group) of KV head g to keys
 * [k0, k1) (k0 a multiple of the tile size); leaves m, l, acc in the scratch. */
static void attend(const struct plan *pl, const struct scratch *s, uint32_t t0, uint32_t R, uint32_t g,
                   uint32_t k0, uint32_t k1)
{
	const struct lr_attn_job *j = pl->j;
	const struct lr_kv *kv = j->kv;
	const uint32_t first_pos = j->pos0 + t0;          /* row r sees keys 0 .. first_pos + r / G */
	const struct lr_attn_q q = { (int)R, (int)kv->head_dim, s->qf, s->q16, s->qd };
	const uint8_t *kbase = lr_kv_kpanel(kv, j->layer, g, 0);
	const uint8_t *vbase = lr_kv_vrow(kv, j->layer, g, 0);
	uint32_t p0 = k0;

	memset(s->acc, 0, sizeof(float) * R * kv->head_dim_v);
	if (kv->sink_k && k0 == 0) {
		/* the sinks, in f16, as one short tile; they are stored as they are while every
		 * later key has the centre c taken off, so their scores lose q.c as well */
		const struct source sink = { LR_KV_F16, lr_kv_sink_kpanel(kv, j->layer, g), kv->sink_panel,
		                             lr_kv_sink_vrow(kv, j->layer, g, 0), kv->sink_row };
		const float *c = kv->kcenter + ((uint64_t)j->layer * kv->n_head_kv + g) * kv->head_dim;
		for (uint32_t r = 0; r < R; r++) {
			float qc = 0;
			for (uint32_t i = 0; i < kv->head_dim; i++)
				qc += s->qf[(size_t)r * kv->head_dim + i] * c[i];
			s->row[r] = qc;
		}
		p0 = k1 < LR_KV_SINKS ? k1 : LR_KV_SINKS;
		tile(pl, s, &q, &sink, 0, p0, first_pos, s->row);
	}
	while (p0 < k1) {
		/* tiles end at multiples of the tile size (the first one, after the sinks, is short) */
		const uint32_t end = (p0 / LR_ATTN_TILE + 1) * LR_ATTN_TILE, n = (k1 < end ? k1 : end) - p0;
		const struct source src = { kv->type, kbase + (uint64_t)(p0 / LR_KV_PANEL) * kv->k_panel, kv->k_panel,
		                            vbase + (uint64_t)p0 * kv->v_row, kv->v_row };
		if (p0 + n < k1)
			prefetch_tile(kv, kbase, vbase, p0 + n, k1);
		tile(pl, s, &q, &src, p0, n, first_pos, NULL);
		p0 += n;
	}
}

/* out = acc / l in the original basis, for rows of token block t0 and KV head g */
static void finish_rows(const struct lr_attn_job *j, const float *acc, const float *l, uint32_t t0, uint32_t R,
                        uint32_t g, float *row)
{
	const struct lr_kv *kv = j->kv;
	const uint32_t hdv = kv->head_dim_v, G = j->group;

	for (uint32_t r = 0; r < R; r++) {
		float *o = j->out + ((size_t)(t0 + r / G) * j->n_head + (size_t)g * G + r % G) * hdv;
		float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
		for (uint32_t e = 0; e < hdv; e++)
			row[e] = acc[(size_t)r * hdv + e] * inv;
		lr_kv_unrotate(kv, row, hdv);
		memcpy(o, row, sizeof(float) * hdv);
	}
}

static void run_items(void *arg, int ith, int nth)
{
	struct plan *pl = arg;
	const struct lr_attn_job *j = pl->j;
	const struct scratch s = thread_scratch(j, ith);
	const uint32_t G = j->group, hdv = j->kv->head_dim_v;
	uint32_t it;

	(void)nth;
	while ((it = atomic_fetch_add_explicit(&pl->next, 1, memory_order_relaxed)) < pl->n_items) {
		uint32_t blk, g, split, t0, nt, R, k1, k0;

		item_of(pl, it, &blk, &g, &split);
		t0 = blk * pl->tpi;
		nt = j->n_tok - t0 < pl->tpi ? j->n_tok - t0 : pl->tpi;
		R = nt * G;
		k1 = j->pos0 + t0 + nt;                  /* keys the last row sees */
		k0 = 0;
		if (pl->n_split > 1) {
			uint32_t per = (k1 + pl->n_split - 1) / pl->n_split;
			per = (per + LR_ATTN_TILE - 1) / LR_ATTN_TILE * LR_ATTN_TILE;
			k0 = split * per;
			k1 = k0 + per < k1 ? k0 + per : k1;
		}
		prepare_queries(j, &s, t0, R, g);
		if (k0 < k1)
			attend(pl, &s, t0, R, g, k0, k1);
		else
			memset(s.acc, 0, sizeof(float) * R * hdv);
		if (pl->n_split == 1) {
			finish_rows(j, s.acc, s.l, t0, R, g, s.row);
		} else {
			float *p = pl->partial + ((size_t)g * pl->n_split + split) * R * (hdv + 2);
			memcpy(p, s.m, sizeof(float) * R);
			memcpy(p + R, s.l, sizeof(float) * R);
			memcpy(p + 2 * R, s.acc, sizeof(float) * R * hdv);
		}
	}
}

/* combine the key ranges of each KV head (one query block): row r's result is
 * sum_s acc_s 2^(m_s - M) / sum_s l_s 2^(m_s - M), M the largest m_s */
static void merge_splits(void *arg, int ith, int nth)
{
	struct plan *pl = arg;
	const struct lr_attn_job *j = pl->j;
	const struct scratch s = thread_scratch(j, ith);
	const uint32_t G = j->group, hdv = j->kv->head_dim_v, R = j->n_tok * G, ns = pl->n_split;
	const uint64_t stride = (uint64_t)R * (hdv + 2);

	for (uint32_t g = (uint32_t)ith; g < j->kv->n_head_kv; g += (uint32_t)nth) {
		const float *base = pl->partial + (size_t)g * ns * stride;
		for (uint32_t r = 0; r < R; r++) {
			float M = -INFINITY, L = 0, *a = s.acc + (size_t)r * hdv;
			for (uint32_t sp = 0; sp < ns; sp++)
				M = base[sp * stride + r] > M ? base[sp * stride + r] : M;
			memset(a, 0, sizeof(float) * hdv);
			for (uint32_t sp = 0; sp < ns; sp++) {
				const float *p = base + sp * stride;
				float w;
				if (p[R + r] == 0)
					continue;                     /* this range held no key the row sees */
				w = lr_attn_exp2(p[r] - M);
				L += p[R + r] * w;
				for (uint32_t e = 0; e < hdv; e++)
					a[e] += p[2 * R + (size_t)r * hdv + e] * w;
			}
			s.l[r] = L;
		}
		finish_rows(j, s.acc, s.l, 0, R, g, s.row);
	}
}

void lr_attention_run(struct lr_pool *pool, const struct lr_attn_job *j)
{
	struct plan pl = { .j = j, .k = j->kern ? j->kern : &lr_attn_kernels_scalar };
	const struct lr_kv *kv = j->kv;

	pl.tpi = tokens_per_item(j->group);
	pl.n_blocks = (j->n_tok + pl.tpi - 1) / pl.tpi;
	pl.n_split = 1;
	if (j->n_tok == 1) {
		/* one query token: split long key ranges so several threads share each head
		 * (the count depends only on the length, so results do not depend on threads) */
		uint32_t keys = j->pos0 + j->n_tok;
		pl.n_split = (keys + SPLIT_KEYS - 1) / SPLIT_KEYS;
		if (pl.n_split > max_splits(kv))
			pl.n_split = max_splits(kv);
		if (pl.n_split < 1)
			pl.n_split = 1;
	}
	pl.n_items = pl.n_blocks * kv->n_head_kv * pl.n_split;
	pl.partial = (float *)((uint8_t *)j->scratch + thread_bytes(kv, j->group));
	atomic_init(&pl.next, 0);
	lr_pool_run(pool, run_items, &pl);
	if (pl.n_split > 1)
		lr_pool_run(pool, merge_splits, &pl);
}
