/* engine/kv.h — the KV cache: every layer's keys and values for the whole window,
 * reserved up front, stored in one of four element types.
 *
 * Types: f32 (the reference), f16, q8 (int8 codes + an f16 scale per 32 values, 8.5
 * bits) and q4 (4-bit codes into a 16-level table + an f16 scale per 32 values, 4.5
 * bits).  q8 and q4 rotate every key, value and query vector of a head by a fixed
 * orthogonal matrix (random signs, then a Walsh-Hadamard transform) before quantizing:
 * q.k is unchanged, but an outlier channel is spread over the whole head instead of
 * stretching one block's scale.  Attention (engine/attention.c) undoes the rotation
 * on its output.  The first LR_KV_SINKS tokens (the attention sinks of trained models:
 * BOS and the chat header) stay in f16, and their mean key becomes a fixed per-head
 * centre subtracted from every later key: softmax does not change when the same q.c
 * is taken from every score of a query, and the large, nearly constant channels real
 * key caches have no longer inflate every block's scale.
 *
 * Layout per layer and KV head (one head's data contiguous, in token order):
 *   keys:   panels of LR_KV_PANEL = 16 consecutive tokens, transposed inside the panel
 *           so a SIMD register holds one dimension (or pair of dimensions) of 16 keys;
 *   values: one row per token (head_dim_v values in the cache type).
 * Workload: written once per token (lr_kv_put); read in full by attention for every
 * query tile, so reads dominate by a factor of the number of query tiles. */
#ifndef LR_KV_H
#define LR_KV_H

#include <assert.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/hparams.h"

enum lr_kv_type {
	LR_KV_F32 = 0,
	LR_KV_F16 = 1,
	LR_KV_Q8  = 2,
	LR_KV_Q4  = 3,
	LR_KV_TYPE_COUNT
};

#define LR_KV_PANEL 16       /* keys per panel */
#define LR_KV_SINKS 16       /* q8, q4: the first tokens, kept in f16 (one panel) */
#define LR_KV_BLOCK 32       /* values per quantization block (q8, q4) */

/* ------------------------------------------------------------------ storage blocks */

/* q8 keys: one 32-dimension block of a panel of 16 keys.  Key k's value for dimension
 * 2p + e (p < 16, e < 2) is d[k] * qs[p][k][e]; codes are in -127..127.
 * 544 bytes for 512 values: 8.5 bits per value. */
struct lr_kq8 {
	uint16_t d[LR_KV_PANEL];            /* f16 scales */
	int8_t qs[16][LR_KV_PANEL][2];
};
static_assert(sizeof(struct lr_kq8) == 544, "lr_kq8 is 16 keys x 34 bytes");

/* q4 keys: one 32-dimension block of a panel of 16 keys.  Byte qs[g][k][e] holds key
 * k's code for dimension 2g + e in its low nibble and for dimension 16 + 2g + e in its
 * high nibble; the value is d[k] * lr_kv_q4_levels[code].
 * 288 bytes for 512 values: 4.5 bits per value. */
struct lr_kq4 {
	uint16_t d[LR_KV_PANEL];
	uint8_t qs[8][LR_KV_PANEL][2];
};
static_assert(sizeof(struct lr_kq4) == 288, "lr_kq4 is 16 keys x 18 bytes");

/* q8 values: 32 values of one token, x[j] = d * qs[j].  34 bytes: 8.5 bits per value. */
struct lr_vq8 {
	uint16_t d;
	int8_t qs[32];
};
static_assert(sizeof(struct lr_vq8) == 34, "lr_vq8 is 34 bytes");

/* q4 values: 32 values of one token; low nibble of qs[j] = code of x[j], high nibble
 * = code of x[j + 16]; x = d * lr_kv_q4_levels[code].  18 bytes: 4.5 bits per value. */
struct lr_vq4 {
	uint16_t d;
	uint8_t qs[16];
};
static_assert(sizeof(struct lr_vq4) == 18, "lr_vq4 is 18 bytes");

/* The 16 levels of a q4 code, as int8 (a 4-bit Lloyd-Max quantizer for a Gaussian,
 * scaled so the largest level is 127): after the rotation a head's values are close
 * to Gaussian, and these levels give ~19% less squared error than evenly spaced ones
 * (docs/kv-cache.md). */
extern const int8_t lr_kv_q4_levels[16];

/* ------------------------------------------------------------------ types and sizes */

/* "f32", "f16", "q8", "q4". */
const char *lr_kv_type_name(enum lr_kv_type t);

/* Parse a name as above; returns 0, or LR_EINVAL for anything else. */
int lr_kv_type_parse(const char *s, enum lr_kv_type *out);

/* Bytes of a K and V cache for n_ctx tokens of this model (all layers), exactly as
 * lr_kv_init allocates them (keys in whole panels of 16 tokens; q8/q4 add the f16
 * copy of the first 16 tokens).  hparams are
 * validated, so the result cannot overflow for n_ctx < 2^32.  For q8/q4 head
 * dimensions must be multiples of 32 (lr_kv_supported); the size is computed anyway. */
uint64_t lr_kv_bytes(const struct lr_hparams *hp, enum lr_kv_type t, uint64_t n_ctx);

/* The memory a cache may reserve without pushing others out, in bytes: MemAvailable
 * from /proc/meminfo, or less when this process's cgroup (v2 memory.max, v1
 * memory.limit_in_bytes, of its group or any above it) leaves less room — in a
 * container that limit is what kills.  0 if nothing can be read (not Linux). */
uint64_t lr_mem_available(void);
/* The same, reading "PROC/self/cgroup", "PROC/meminfo" and "SYS/fs/cgroup/..." (tests). */
uint64_t lr_mem_available_at(const char *proc, const char *sys);

/* 0 if this model can use cache type t, else LR_EUNSUPPORTED with the reason. */
int lr_kv_supported(const struct lr_hparams *hp, enum lr_kv_type t, struct lr_err *err);

/* ------------------------------------------------------------------ the cache */

struct lr_kv {
	enum lr_kv_type type;
	uint32_t n_ctx, n_layer, n_head_kv, head_dim, head_dim_v;
	uint32_t n_panels;           /* key panels per layer and head: ceil(n_ctx / 16) */
	uint64_t k_panel;            /* bytes of one key panel (16 tokens, one head) */
	uint64_t v_row;              /* bytes of one token's value vector for one head */
	uint8_t *k;                  /* [n_layer][n_head_kv][n_panels][k_panel] */
	uint8_t *v;                  /* [n_layer][n_head_kv][n_ctx][v_row] */
	uint64_t k_bytes, v_bytes;   /* as mapped */
	uint64_t bytes;              /* both */
	int rotated;                 /* q8, q4: vectors are stored rotated (lr_kv_rotate) */
	float *rot_sign;             /* [max(head_dim, head_dim_v)]: +-1/sqrt(block) per element */
	uint32_t rot_block;          /* the Hadamard size: the largest power of two <= 1024
	                                dividing both head dimensions */
	void (*quant_q4)(const float *x, uint16_t *d, uint8_t *code);   /* lr_kv_quant_q4 or a SIMD twin */
	/* q8, q4 only (else NULL): */
	uint8_t *sink_k;             /* [n_layer][n_head_kv]: an f16 key panel of tokens 0..15, rotated */
	uint8_t *sink_v;             /* [n_layer][n_head_kv][16][head_dim_v] f16 values, rotated */
	uint64_t sink_panel, sink_row;   /* bytes of one f16 key panel / value row */
	float *kcenter;              /* [n_layer][n_head_kv][head_dim], rotated: the sinks' mean
	                                key, subtracted from every later key (lr_kv_center) */
	uint8_t *centered;           /* [n_layer]: kcenter is set */
};

/* Reserve the whole cache for n_ctx tokens (1 <= n_ctx < 2^31) up front: the memory is
 * checked against what the system has available (MemAvailable on Linux) and then
 * committed page by page before returning, so a cache that cannot fit fails here,
 * cleanly, instead of the process being killed hours into a prefill.
 * Errors: LR_EUNSUPPORTED (lr_kv_supported), LR_ENOMEM (message gives the sizes). */
int lr_kv_init(struct lr_kv *kv, const struct lr_hparams *hp, enum lr_kv_type t, uint32_t n_ctx,
               struct lr_err *err);

/* Unmap; safe on a zeroed or already released cache. */
void lr_kv_release(struct lr_kv *kv);

/* Key panel p (tokens 16p .. 16p + 15) of one layer and head. */
static inline uint8_t *lr_kv_kpanel(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t p)
{
	return kv->k + (((uint64_t)layer * kv->n_head_kv + head) * kv->n_panels + p) * kv->k_panel;
}

/* The f16 key panel and value rows of the first LR_KV_SINKS tokens (q8, q4). */
static inline uint8_t *lr_kv_sink_kpanel(const struct lr_kv *kv, uint32_t layer, uint32_t head)
{
	return kv->sink_k + ((uint64_t)layer * kv->n_head_kv + head) * kv->sink_panel;
}
static inline uint8_t *lr_kv_sink_vrow(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos)
{
	return kv->sink_v + (((uint64_t)layer * kv->n_head_kv + head) * LR_KV_SINKS + pos) * kv->sink_row;
}

/* A token's value row for one layer and head. */
static inline uint8_t *lr_kv_vrow(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos)
{
	return kv->v + (((uint64_t)layer * kv->n_head_kv + head) * kv->n_ctx + pos) * kv->v_row;
}

/* Store one head's key and value vectors (float32, after RoPE) for a token: rotated
 * if the type does that, centred past the sinks, then converted.  pos < n_ctx.  For
 * q8/q4, a key past the sinks must be stored after its layer's lr_kv_center. */
void lr_kv_put(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos,
               const float *k, const float *v);

/* Before storing the keys of positions pos0 .. pos0 + n - 1 of one layer (k[t * ld +
 * head * head_dim + i], float32 after RoPE): once all LR_KV_SINKS sink keys are
 * known, from earlier batches or this one, set each head's centre to their mean (as
 * stored, in f16), unless it is set.  The result depends only on the sink keys, not
 * on how tokens were batched.  Nothing to do for f32/f16 caches. */
void lr_kv_center(const struct lr_kv *kv, uint32_t layer, uint32_t pos0, const float *k, uint32_t n,
                  uint64_t ld);

/* Forget every token from position pos on (a centre computed from sinks at or past
 * pos is dropped). */
void lr_kv_rewind(const struct lr_kv *kv, uint32_t pos);

/* Read back what lr_kv_put stored, as float32 in the original (unrotated) basis.
 * For tests and tools; attention never does this. */
void lr_kv_get(const struct lr_kv *kv, uint32_t layer, uint32_t head, uint32_t pos, float *k, float *v);

/* The rotation of the q8/q4 types on one vector of n values (n = head_dim or
 * head_dim_v): x <- H D x per block of rot_block values, H the normalised
 * Walsh-Hadamard matrix, D the fixed random signs.  lr_kv_unrotate is its inverse
 * (and transpose).  Both do nothing for unrotated caches. */
void lr_kv_rotate(const struct lr_kv *kv, float *x, uint32_t n);
void lr_kv_unrotate(const struct lr_kv *kv, float *x, uint32_t n);

/* ------------------------------------------------------------------ saving */

#define LR_KV_LAYOUT 1       /* version of lr_kv_save's format (append-only) */

/* Bytes lr_kv_save writes for the first n tokens. */
uint64_t lr_kv_saved_bytes(const struct lr_kv *kv, uint32_t n);

/* Write the cache of positions 0..n-1 through write(arg, data, len, err) in chunks:
 * a prologue (type, n, rotation block, the key centres), then per layer and head the
 * key panels, the value rows and, for q8/q4, the f16 sinks, exactly as stored.  The
 * rotation signs are not saved: they are fixed (seeded), and the prologue's rotation
 * block checks that the loading cache uses the same. */
int lr_kv_save(const struct lr_kv *kv, uint32_t n,
               int (*write)(void *arg, const void *data, uint64_t len, struct lr_err *err), void *arg,
               struct lr_err *err);

/* Load positions 0..n-1 from what lr_kv_save wrote for n_saved >= n tokens (data of
 * len bytes, untrusted: every size is checked first).  Errors: LR_EMISMATCH (another
 * type, shape or rotation), LR_EFORMAT (sizes do not add up), LR_ERANGE (n > n_saved
 * or > n_ctx). */
int lr_kv_load(const struct lr_kv *kv, uint32_t n, uint32_t n_saved, const void *data, uint64_t len,
               struct lr_err *err);

/* ------------------------------------------------------------------ quantizers */

/* Quantize 32 values into a q8 / q4 block: scale and codes (code[i] in -127..127 for
 * q8, 0..15 for q4, value = d * code or d * lr_kv_q4_levels[code]).  q8 uses
 * d = max|x| / 127; q4 tries the scales of lr_kv_q4_scales and keeps the one with
 * the least squared error (the first of equals), each value on its nearest level.
 * lr_kv_quant_q4 is the reference; kernel sets carry bit-identical twins. */
void lr_kv_quant_q8(const float *x, uint16_t *d, int8_t *code);
void lr_kv_quant_q4(const float *x, uint16_t *d, uint8_t *code);

/* The f16 scales q4 tries for a block whose largest magnitude is amax, in order:
 * amax / (127 f) for 16 values of f from 0.75 to 1.05, zeros left out; returns how many. */
#define LR_KV_Q4_SCALES 16
int lr_kv_q4_scales(float amax, uint16_t *cand);

/* Midpoints between adjacent q4 levels: a value v (in level units) gets the code
 * c = the number of m in lr_kv_q4_mid[1..15] with v > m. */
extern const float lr_kv_q4_mid[16];

#endif
