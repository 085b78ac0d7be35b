/* engine/forward.c — the fast Llama forward pass: batched prefill and single-token
 * decode over the same code, threaded with a persistent pool.
 *
 * Data flow per batch of B tokens (B = 1 when decoding):
 *   embed -> per layer: rmsnorm -> q,k,v matmuls -> rope -> KV store -> attention ->
 *   output matmul (+ residual) -> rmsnorm -> gate,up matmuls -> SwiGLU -> down matmul
 *   (+ residual) -> for the wanted tokens: output norm -> logits matmul.
 * Matmuls split the weight rows over the threads.  For quantized weights they first
 * quantize their input once to 8 bits (a scale per 32 values for the legacy types,
 * per 256 for the k-quants, exactly as llama.cpp does) and use integer kernels
 * (kernels/); float weights use OpenBLAS sgemm in prefill and our FMA kernels in
 * decode.  Every buffer is sized once in lr_ctx_new; lr_eval does not allocate. */
#include "engine/forward.h"

#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attention.h"
#include "engine/pool.h"
#include "engine/quant.h"

#define TOKEN_BLOCK 32   /* tokens per weight-row pass in prefill (activations stay in L2) */
#define ROW_BLOCK 16     /* rows per call of a multi-row kernel (their weights stay in L1) */
#define SGEMM_MIN_TOKENS 16  /* float weights: OpenBLAS from this many tokens on */
#define SGEMM_ROWS 256   /* weight rows per sgemm call, at fixed multiples of 256; thread
                            shares of such a matmul start at multiples of it too, so every
                            call sees the same tiles whatever the thread count and results
                            are bit-identical for any -t (per-row kernels are anyway) */

struct lr_ctx {
	const struct lr_model *m;
	const struct lr_kernels *k;
	const struct lr_attn_kernels *ak;   /* attention's loops, the same instruction set */
	struct lr_pool *pool;
	struct lr_kv kv;
	uint32_t n_ctx, n_batch, pos;
	/* scratch, [n_batch][...] each */
	float *x;          /* [B][n_embd] residual stream */
	float *xn;         /* [B][max(n_embd, n_ff, q_dim)] normalised input of a matmul */
	float *q;          /* [B][q_dim] */
	float *kv_new;     /* [B][kv_dim + v_dim] this batch's keys then values */
	float *att;        /* [B][o_dim] */
	float *gate, *up;  /* [B][n_ff] */
	float *tmp;        /* [B][n_embd] */
	float *rope_cs;    /* [B][rope_dim] cos, sin pairs for this batch's positions */
	float *attn_scratch;
	float *tile;       /* [threads][tile_floats] widened weight rows for sgemm */
	int64_t tile_floats;
	struct lr_q8act *qa;  /* [B] */
	void *qa_mem;
	int64_t w_max;     /* the widest matmul input */
	int bad;           /* a step met a value that is not a finite number (any thread sets it) */
};

/* ------------------------------------------------------------------ matmul */

struct mm_part {
	const struct lr_weight *w;
	float *y;           /* [n_tok][ldy] */
	int64_t ldy;
};

struct mm_job {
	const struct lr_kernels *k;
	struct mm_part part[3];
	int n_part;
	int n_tok;
	const float *x;     /* [n_tok][ldx] float input */
	int64_t ldx;
	const struct lr_q8act *qa;
	int act_block;      /* 0: float inputs only; else the activation block size */
	float *tile;        /* per-thread scratch for dequantized weight rows (sgemm path) */
	int64_t tile_floats;
};

/* Float weights (F32, F16, BF16) in prefill: y[t][r] for rows [a, b) with OpenBLAS
 * sgemm, which beats our own float kernels by ~1.5x on a batch; F16/BF16 rows are
 * widened to float32 a tile at a time (exactly: every half and bfloat16 is a float). */
static void mm_sgemm(const struct mm_job *j, const struct mm_part *pt, int64_t a, int64_t b, float *tile)
{
	const struct lr_weight *w = pt->w;

	for (int64_t r = a; r < b; r = (r / SGEMM_ROWS + 1) * SGEMM_ROWS) {
		int64_t end = (r / SGEMM_ROWS + 1) * SGEMM_ROWS, nr = (b < end ? b : end) - r;
		const float *wf = (const float *)(w->data + (uint64_t)r * w->row_bytes);
		if (w->type != LR_TYPE_F32) {
			lr_dequant_row(w->type, w->data + (uint64_t)r * w->row_bytes, tile, nr * w->n_in);
			wf = tile;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n_tok, (int)nr, (int)w->n_in, 1.0f,
		            j->x, (int)j->ldx, wf, (int)w->n_in, 0.0f, pt->y + r, (int)pt->ldy);
	}
}

static void mm_quantize(void *arg, int ith, int nth)
{
	const struct mm_job *j = arg;
	const int64_t n = j->part[0].w->n_in;

	for (int t = ith; t < j->n_tok; t += nth)
		j->k->quantize_act(j->x + (int64_t)t * j->ldx, n, j->act_block, &j->qa[t]);
}

static void mm_rows(void *arg, int ith, int nth)
{
	const struct mm_job *j = arg;
	int64_t total = 0, r0, r1, base = 0, align;

	for (int p = 0; p < j->n_part; p++)
		total += j->part[p].w->n_out;
	align = j->n_tok >= SGEMM_MIN_TOKENS && !j->act_block ? SGEMM_ROWS : 1;
	r0 = total * ith / nth / align * align;
	r1 = ith == nth - 1 ? total : total * (ith + 1) / nth / align * align;
	for (int p = 0; p < j->n_part; p++) {
		const struct mm_part *pt = &j->part[p];
		const struct lr_weight *w = pt->w;
		int64_t a = r0 > base ? r0 - base : 0, b = r1 - base < w->n_out ? r1 - base : w->n_out;
		lr_dot_fn dot = j->k->dot[w->type];
		lr_rows_fn rows = j->k->rows[w->type];
		lr_gemm_fn gemm = j->k->gemm[w->type];

		if (!j->k->uses_q8[w->type] && j->n_tok >= SGEMM_MIN_TOKENS && a < b) {
			mm_sgemm(j, pt, a, b, j->tile + ith * j->tile_floats);
			base += w->n_out;
			continue;
		}
		if (gemm && j->n_tok >= j->k->gemm_min_tokens) {
			if (a < b)
				gemm(w->n_in, w->data + (uint64_t)a * w->row_bytes, w->row_bytes, (int)(b - a), j->n_tok,
				     j->qa, pt->y + a, pt->ldy, j->tile + ith * j->tile_floats);
			base += w->n_out;
			continue;
		}
		for (int t0 = 0; t0 < j->n_tok; t0 += TOKEN_BLOCK) {
			int nt = j->n_tok - t0 < TOKEN_BLOCK ? j->n_tok - t0 : TOKEN_BLOCK;
			if (rows) {
				for (int64_t r = a; r < b; r += ROW_BLOCK) {
					int nr = b - r < ROW_BLOCK ? (int)(b - r) : ROW_BLOCK;
					rows(w->n_in, w->data + (uint64_t)r * w->row_bytes, w->row_bytes, nr, nt, j->qa + t0,
					     j->x + (int64_t)t0 * j->ldx, j->ldx, pt->y + (int64_t)t0 * pt->ldy + r, pt->ldy);
				}
				continue;
			}
			for (int64_t r = a; r < b; r++)
				dot(w->n_in, w->data + (uint64_t)r * w->row_bytes, nt, j->qa + t0,
				    j->x + (int64_t)t0 * j->ldx, j->ldx, pt->y + (int64_t)t0 * pt->ldy + r, pt->ldy);
		}
		base += w->n_out;
	}
}

/* y_p = x W_p^T for up to three weights sharing the input x ([n_tok][ldx]).  Weights
 * whose kernels want different activation formats are run one at a time. */
static void matmul(struct lr_ctx *c, const float *x, int64_t ldx, int n_tok, int n_part,
                   const struct lr_weight *w0, float *y0, int64_t ld0,
                   const struct lr_weight *w1, float *y1, int64_t ld1,
                   const struct lr_weight *w2, float *y2, int64_t ld2)
{
	struct mm_job j = { .k = c->k, .n_part = n_part, .n_tok = n_tok, .x = x, .ldx = ldx, .qa = c->qa,
	                    .tile = c->tile, .tile_floats = c->tile_floats };
	const struct lr_weight *ws[3] = { w0, w1, w2 };
	float *ys[3] = { y0, y1, y2 };
	int64_t lds[3] = { ld0, ld1, ld2 };

	for (int p = 0; p < n_part; p++) {
		int ab = c->k->uses_q8[ws[p]->type];
		if (p > 0 && ab != j.act_block) {
			for (int q = 0; q < n_part; q++)
				matmul(c, x, ldx, n_tok, 1, ws[q], ys[q], lds[q], NULL, NULL, 0, NULL, NULL, 0);
			return;
		}
		j.part[p] = (struct mm_part){ ws[p], ys[p], lds[p] };
		j.act_block = ab;
	}
	if (j.act_block)
		lr_pool_run(c->pool, mm_quantize, &j);
	lr_pool_run(c->pool, mm_rows, &j);
}

/* ------------------------------------------------------------------ elementwise */

/* @return 0, or 1 when x holds a value that is not finite (or so large that its square
 * is not): out is then garbage, and quantizing it is undefined. */
static int rmsnorm(const float *x, const float *w, float *out, int64_t n, float eps)
{
	float ss = 0;

	for (int64_t i = 0; i < n; i++)
		ss += x[i] * x[i];
	if (!isfinite(ss))
		return 1;
	float scale = 1.0f / sqrtf(ss / (float)n + eps);
	for (int64_t i = 0; i < n; i++)
		out[i] = x[i] * scale * w[i];
	return 0;
}

/* cos/sin of every rotation pair for the batch's positions, computed in float64 once
 * per batch (positions up to 131071 need it: a float32 angle is off by ~0.01 rad). */
static void rope_table(struct lr_ctx *c, uint32_t pos0, uint32_t n)
{
	const uint32_t half = c->m->hp.rope_dim / 2;
	const double ms = lr_rope_mscale(c->m);

	for (uint32_t t = 0; t < n; t++) {
		float *cs = c->rope_cs + (size_t)t * 2 * half;
		for (uint32_t i = 0; i < half; i++) {
			double th = (double)(pos0 + t) * lr_rope_step(c->m, i);
			cs[2 * i] = (float)(cos(th) * ms);
			cs[2 * i + 1] = (float)(sin(th) * ms);
		}
	}
}

/* Rotate one head: adjacent pairs (x[2i], x[2i+1]) for Llama, (x[i], x[i + half]) for
 * NEOX-style models (qwen2). */
static void rope(float *x, const float *cs, uint32_t half, int neox)
{
	const uint32_t st = neox ? 1 : 2, off = neox ? half : 1;

	for (uint32_t i = 0; i < half; i++) {
		float *a = x + i * st, *b = a + off;
		float x0 = *a, x1 = *b, co = cs[2 * i], si = cs[2 * i + 1];
		*a = x0 * co - x1 * si;
		*b = x0 * si + x1 * co;
	}
}

static void add_bias(float *y, const float *b, int64_t n)
{
	for (int64_t i = 0; b && i < n; i++)
		y[i] += b[i];
}

static float silu(float v)
{
	return v / (1.0f + expf(-v));
}

/* ------------------------------------------------------------------ context */

static void *alloc_floats(uint64_t n, uint64_t *total)
{
	*total += n * sizeof(float);
	return aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
}

int lr_ctx_new(struct lr_ctx **out, const struct lr_model *m, const struct lr_ctx_params *p,
               struct lr_err *err)
{
	const struct lr_hparams *hp = &m->hp;
	struct lr_ctx *c;
	uint64_t B, q_dim, kv_dim, v_dim, o_dim, bytes = 0, qa_row;
	int rc, n_threads;

	*out = NULL;
	c = calloc(1, sizeof *c);
	if (!c)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	c->m = m;
	c->k = p->kernels ? p->kernels : lr_kernels_best();
	c->ak = lr_attn_kernels_get(c->k->name);
	if (!c->ak)
		c->ak = &lr_attn_kernels_scalar;
	c->n_ctx = p->n_ctx ? p->n_ctx : hp->n_ctx_train;
	c->n_batch = p->n_batch ? p->n_batch : 256;
	if (c->n_ctx > hp->n_ctx_train) {
		rc = lr_errf(err, LR_ERANGE, "a context of %" PRIu32 " tokens exceeds the model's %" PRIu32,
			c->n_ctx, hp->n_ctx_train);
		goto fail;
	}
	if (c->n_batch > c->n_ctx)
		c->n_batch = c->n_ctx;
	n_threads = p->n_threads > 0 ? p->n_threads : lr_cpu_count();
	/* OpenBLAS is called from our own threads: it must not start threads of its own */
	openblas_set_num_threads(1);
	if ((rc = lr_pool_new(&c->pool, n_threads, err)))
		goto fail;
	if ((rc = lr_kv_init(&c->kv, hp, p->kv_type, c->n_ctx, err)))
		goto fail;

	B = c->n_batch;
	q_dim = (uint64_t)hp->n_head * hp->head_dim;
	kv_dim = (uint64_t)hp->n_head_kv * hp->head_dim;
	v_dim = (uint64_t)hp->n_head_kv * hp->head_dim_v;
	o_dim = (uint64_t)hp->n_head * hp->head_dim_v;
	c->w_max = hp->n_embd;
	if ((int64_t)hp->n_ff > c->w_max) c->w_max = hp->n_ff;
	if ((int64_t)o_dim > c->w_max) c->w_max = (int64_t)o_dim;
	c->x = alloc_floats(B * hp->n_embd, &bytes);
	c->xn = alloc_floats(B * (uint64_t)c->w_max, &bytes);
	c->q = alloc_floats(B * q_dim, &bytes);
	c->kv_new = alloc_floats(B * (kv_dim + v_dim), &bytes);
	c->att = alloc_floats(B * o_dim, &bytes);
	c->gate = alloc_floats(B * hp->n_ff, &bytes);
	c->up = alloc_floats(B * hp->n_ff, &bytes);
	c->tmp = alloc_floats(B * hp->n_embd, &bytes);
	c->rope_cs = alloc_floats(B * hp->rope_dim, &bytes);
	c->attn_scratch = alloc_floats((uint64_t)n_threads * lr_attn_scratch_floats(&c->kv,
	                               hp->n_head / hp->n_head_kv), &bytes);
	c->tile_floats = SGEMM_ROWS * c->w_max;
	if (c->k->gemm_scratch) {   /* the tile is also the gemm kernels' scratch */
		int64_t need = ((int64_t)c->k->gemm_scratch(c->w_max, (int)B) + 63) / 64 * 16;
		if (need > c->tile_floats)
			c->tile_floats = need;
	}
	c->tile = alloc_floats((uint64_t)n_threads * (uint64_t)c->tile_floats, &bytes);
	/* quantized activations: per token, w_max codes + w_max/32 scales + w_max/16 sums */
	qa_row = (uint64_t)c->w_max + (uint64_t)c->w_max / 32 * 4 + (uint64_t)c->w_max / 16 * 2;
	qa_row = (qa_row + 63) / 64 * 64;
	c->qa = calloc(B, sizeof *c->qa);
	c->qa_mem = aligned_alloc(64, B * qa_row);
	if (!c->x || !c->xn || !c->q || !c->kv_new || !c->att || !c->gate || !c->up || !c->tmp ||
	    !c->rope_cs || !c->attn_scratch || !c->tile || !c->qa || !c->qa_mem) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory for %" PRIu64 " MiB of scratch buffers",
			(bytes + B * qa_row) >> 20);
		goto fail;
	}
	for (uint64_t t = 0; t < B; t++) {
		uint8_t *base = (uint8_t *)c->qa_mem + t * qa_row;
		c->qa[t].qs = (int8_t *)base;
		c->qa[t].d = (float *)(base + c->w_max);
		c->qa[t].s16 = (int16_t *)(base + c->w_max + c->w_max / 32 * 4);
	}
	*out = c;
	return 0;
fail:
	lr_ctx_free(c);
	return rc;
}

void lr_ctx_free(struct lr_ctx *c)
{
	if (!c)
		return;
	lr_pool_free(c->pool);
	lr_kv_release(&c->kv);
	free(c->x);
	free(c->xn);
	free(c->q);
	free(c->kv_new);
	free(c->att);
	free(c->gate);
	free(c->up);
	free(c->tmp);
	free(c->rope_cs);
	free(c->attn_scratch);
	free(c->tile);
	free(c->qa);
	free(c->qa_mem);
	free(c);
}

uint32_t lr_ctx_pos(const struct lr_ctx *c) { return c->pos; }
uint32_t lr_ctx_n_ctx(const struct lr_ctx *c) { return c->n_ctx; }
const struct lr_model *lr_ctx_model(const struct lr_ctx *c) { return c->m; }
uint32_t lr_ctx_kv_layout(const struct lr_ctx *c) { (void)c; return LR_KV_LAYOUT; }

int lr_ctx_kv_save(const struct lr_ctx *c, uint32_t n,
                   int (*write)(void *arg, const void *data, uint64_t len, struct lr_err *err), void *arg,
                   struct lr_err *err)
{
	if (n > c->pos)
		return lr_errf(err, LR_ERANGE, "cannot save %" PRIu32 " tokens: %" PRIu32 " are evaluated", n, c->pos);
	return lr_kv_save(&c->kv, n, write, arg, err);
}

int lr_ctx_kv_load(struct lr_ctx *c, uint32_t n, uint32_t n_saved, const void *data, uint64_t len,
                   struct lr_err *err)
{
	int rc = lr_kv_load(&c->kv, n, n_saved, data, len, err);

	c->pos = rc ? 0 : n;
	return rc;
}
const struct lr_kv *lr_ctx_kv(const struct lr_ctx *c) { return &c->kv; }
const struct lr_kernels *lr_ctx_kernels(const struct lr_ctx *c) { return c->k; }
int lr_ctx_threads(const struct lr_ctx *c) { return lr_pool_size(c->pool); }

void lr_ctx_rewind(struct lr_ctx *c, uint32_t pos)
{
	if (pos < c->pos) {
		c->pos = pos;
		lr_kv_rewind(&c->kv, pos);
	}
}

/* ------------------------------------------------------------------ one batch */

/* The per-token steps between matmuls, run on every thread over a share of the
 * batch's tokens so no thread idles while another does elementwise work. */
enum step { PRE_ATTN, ROPE, STORE, PRE_FFN, SWIGLU };

struct step_job {
	struct lr_ctx *c;
	enum step step;
	uint32_t layer, n;
	const float *norm;
	int add;             /* PRE_*: first add c->tmp into the residual stream */
};

static void step_fn(void *arg, int ith, int nth)
{
	const struct step_job *j = arg;
	struct lr_ctx *c = j->c;
	const struct lr_hparams *hp = &c->m->hp;
	const int64_t E = hp->n_embd, F = hp->n_ff, hd = hp->head_dim, hdv = hp->head_dim_v;
	const int64_t q_dim = (int64_t)hp->n_head * hd, kv_dim = (int64_t)hp->n_head_kv * hd;
	const int64_t kvw = kv_dim + (int64_t)hp->n_head_kv * hdv;
	const uint32_t t0 = j->n * (uint32_t)ith / (uint32_t)nth, t1 = j->n * (uint32_t)(ith + 1) / (uint32_t)nth;

	for (uint32_t t = t0; t < t1; t++) {
		switch (j->step) {
		case PRE_ATTN:
		case PRE_FFN: {
			float *x = c->x + t * E;
			if (j->add)
				for (int64_t i = 0; i < E; i++)
					x[i] += c->tmp[t * E + i];
			if (rmsnorm(x, j->norm, c->xn + t * E, E, hp->rms_eps))
				__atomic_store_n(&c->bad, 1, __ATOMIC_RELAXED);
			break;
		}
		case ROPE: {
			const struct lr_layer *L = &c->m->layers[j->layer];
			const float *cs = c->rope_cs + (size_t)t * hp->rope_dim;
			float *kt = c->kv_new + t * kvw;
			add_bias(c->q + t * q_dim, L->bq, q_dim);
			add_bias(kt, L->bk, kv_dim);
			add_bias(kt + kv_dim, L->bv, kvw - kv_dim);
			for (uint32_t h = 0; h < hp->n_head; h++)
				rope(c->q + t * q_dim + h * hd, cs, hp->rope_dim / 2, hp->rope_neox);
			for (uint32_t h = 0; h < hp->n_head_kv; h++)
				rope(kt + h * hd, cs, hp->rope_dim / 2, hp->rope_neox);
			break;
		}
		case STORE: {
			const float *kt = c->kv_new + t * kvw;
			for (uint32_t h = 0; h < hp->n_head_kv; h++)
				lr_kv_put(&c->kv, j->layer, h, c->pos + t, kt + h * hd, kt + kv_dim + h * hdv);
			break;
		}
		case SWIGLU: {
			float probe = 0;   /* v * 0 is 0 for every finite v, NaN otherwise */
			for (int64_t i = t * F; i < (t + 1) * F; i++) {
				c->gate[i] = silu(c->gate[i]) * c->up[i];
				probe += c->gate[i] * 0.0f;
			}
			if (probe != 0)
				__atomic_store_n(&c->bad, 1, __ATOMIC_RELAXED);
			break;
		}
		}
	}
}

static void run_step(struct lr_ctx *c, enum step step, uint32_t layer, uint32_t n, const float *norm, int add)
{
	struct step_job j = { c, step, layer, n, norm, add };

	lr_pool_run(c->pool, step_fn, &j);
}

/* Run the layers over n tokens; leaves the last layer's output in c->tmp, not yet
 * added to the residual stream c->x.  @return 0, or 1 + the layer where a value that is
 * not a finite number appeared (nothing after it is computed: quantizing it is
 * undefined). */
static uint32_t batch(struct lr_ctx *c, const int32_t *ids, uint32_t n)
{
	const struct lr_model *m = c->m;
	const struct lr_hparams *hp = &m->hp;
	const int64_t E = hp->n_embd, F = hp->n_ff, hd = hp->head_dim, hdv = hp->head_dim_v;
	const int64_t q_dim = (int64_t)hp->n_head * hd, kv_dim = (int64_t)hp->n_head_kv * hd;
	const int64_t v_dim = (int64_t)hp->n_head_kv * hdv, o_dim = (int64_t)hp->n_head * hdv;
	const int64_t kvw = kv_dim + v_dim;
	struct lr_attn_job aj = {
		.kv = &c->kv, .kern = c->ak, .n_tok = n, .pos0 = c->pos, .n_head = hp->n_head,
		.group = hp->n_head / hp->n_head_kv, .q = c->q, .out = c->att,
		.scale = 1.0f / sqrtf((float)hd), .scratch = c->attn_scratch,
	};

	for (uint32_t t = 0; t < n; t++)
		lr_dequant_row(m->tok_embd.type, m->tok_embd.data + (uint64_t)ids[t] * m->tok_embd.row_bytes,
		               c->x + (int64_t)t * E, E);
	rope_table(c, c->pos, n);

	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct lr_layer *L = &m->layers[l];

		run_step(c, PRE_ATTN, l, n, L->attn_norm, l > 0);
		if (c->bad)
			return l + 1;
		matmul(c, c->xn, E, (int)n, 3, &L->wq, c->q, q_dim, &L->wk, c->kv_new, kvw,
		       &L->wv, c->kv_new + kv_dim, kvw);
		run_step(c, ROPE, l, n, NULL, 0);
		lr_kv_center(&c->kv, l, c->pos, c->kv_new, n, (uint64_t)kvw);   /* once, when the sinks are in */
		run_step(c, STORE, l, n, NULL, 0);
		aj.layer = l;
		lr_attention_run(c->pool, &aj);
		matmul(c, c->att, o_dim, (int)n, 1, &L->wo, c->tmp, E, NULL, NULL, 0, NULL, NULL, 0);
		run_step(c, PRE_FFN, l, n, L->ffn_norm, 1);
		if (c->bad)
			return l + 1;
		matmul(c, c->xn, E, (int)n, 2, &L->w_gate, c->gate, F, &L->w_up, c->up, F, NULL, NULL, 0);
		run_step(c, SWIGLU, l, n, NULL, 0);
		if (c->bad)
			return l + 1;
		matmul(c, c->gate, F, (int)n, 1, &L->w_down, c->tmp, E, NULL, NULL, 0, NULL, NULL, 0);
	}
	return 0;
}

/* The error for a value that is not finite from layer (1-based) on; the batch's cache
 * entries are dropped. */
static int non_finite(struct lr_ctx *c, uint32_t layer, struct lr_err *err)
{
	c->bad = 0;
	lr_ctx_rewind(c, c->pos);
	return lr_errf(err, LR_EFORMAT, "layer %" PRIu32 " of the model produced values that are not finite "
		"numbers: its weights (or a saved context's cache) are damaged", layer - 1);
}

int lr_eval(struct lr_ctx *c, const int32_t *ids, uint32_t n, const uint8_t *want, float *logits,
            struct lr_err *err)
{
	const struct lr_model *m = c->m;
	const struct lr_hparams *hp = &m->hp;
	const int64_t E = hp->n_embd;

	if (n > c->n_ctx - c->pos)
		return lr_errf(err, LR_ERANGE, "%" PRIu32 " more tokens do not fit: %" PRIu32 " of the window's %"
			PRIu32 " are used", n, c->pos, c->n_ctx);
	for (uint32_t t = 0; t < n; t++)
		if (ids[t] < 0 || (uint32_t)ids[t] >= hp->n_vocab)
			return lr_errf(err, LR_EINVAL, "token id %" PRId32 " is outside the vocabulary (0..%" PRIu32 ")",
				ids[t], hp->n_vocab - 1);

	for (uint32_t t0 = 0; t0 < n; t0 += c->n_batch) {
		uint32_t nb = n - t0 < c->n_batch ? n - t0 : c->n_batch, n_out = 0, bad;

		if ((bad = batch(c, ids + t0, nb)))
			return non_finite(c, bad, err);
		c->pos += nb;
		/* finish the residual stream of the wanted rows, normalise, project */
		for (uint32_t t = 0; t < nb; t++) {
			int wanted = want ? want[t0 + t] : t0 + t == n - 1;
			float *x = c->x + (int64_t)t * E;
			if (!wanted)
				continue;
			for (int64_t i = 0; i < E; i++)
				x[i] += c->tmp[(int64_t)t * E + i];
			if (rmsnorm(x, m->output_norm, c->xn + (int64_t)n_out * E, E, hp->rms_eps))
				return non_finite(c, hp->n_layer, err);
			n_out++;
		}
		if (n_out) {
			matmul(c, c->xn, E, (int)n_out, 1, &m->output, logits, hp->n_vocab, NULL, NULL, 0, NULL,
			       NULL, 0);
			logits += (size_t)n_out * hp->n_vocab;
		}
	}
	return 0;
}
