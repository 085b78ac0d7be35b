/* tests/genmodel.c — lr-genmodel: write a valid Llama-architecture GGUF with
 * deterministic random weights, at any shape (including the real Llama 3.2 1B/3B,
 * 3.1 8B and 3.3 70B shapes) and in any weight type longread computes with.
 * Tests and benchmarks use it because no real weights can be downloaded here.
 *
 * Weights: matrices ~ N(0, 0.05) (attn_q/attn_k N(0, 0.1)), norms 1 + N(0, 0.1), like
 * the golden models.  Each tensor has its own random stream (seed, tensor name), so a
 * tensor's values do not depend on the type or order of the others.  Data is streamed
 * row by row: an 8B-shape file needs no more memory than one row. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/gguf.h"
#include "engine/quant.h"
#include "engine/types.h"
#include "tests/gguf_build.h"

struct shape {
	const char *name;
	uint32_t n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
	int tied;
	float rope_factor;   /* llama3 rope scaling factor; 0 = no rope_freqs */
};

/* Real shapes from the models' config.json files. */
static const struct shape shapes[] = {
	{ "nano",   2,  256,  4, 2,  64,   768,    512, 131072, 0,  8 },
	{ "micro",  4,  512,  8, 2,  64,  1536,   1024, 131072, 0,  8 },
	{ "1b",    16, 2048, 32, 8,  64,  8192, 128256, 131072, 1, 32 },
	{ "3b",    28, 3072, 24, 8, 128,  8192, 128256, 131072, 1, 32 },
	{ "8b",    32, 4096, 32, 8, 128, 14336, 128256, 131072, 0,  8 },
	{ "70b",   80, 8192, 64, 8, 128, 28672, 128256, 131072, 0,  8 },
};

static const char *const specials[] = {
	"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
	"<|end_header_id|>", "<|eot_id|>", "<|eom_id|>",
};
#define N_SPECIALS 6

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: lr-genmodel -o OUT.gguf [options]\n"
		"\n"
		"Write a Llama-architecture GGUF with deterministic random weights.\n"
		"\n"
		"  -o, --output FILE     where to write (written to FILE.tmp, then renamed)\n"
		"  -s, --shape NAME      nano (default), micro, 1b, 3b, 8b, 70b\n"
		"  -t, --type TYPE       weight type: F32 (default), F16, BF16, Q8_0, Q4_0, Q4_1,\n"
		"                        Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS,\n"
		"                        or the mixes Q3_K_M, Q4_K_M, Q5_K_M\n"
		"      --seed N          random seed (default 1001)\n"
		"      --layers N --embd N --heads N --kv-heads N --head-dim N --ff N\n"
		"      --vocab N --ctx N  override the shape\n"
		"      --vocab-from FILE copy the tokenizer (tokenizer.* keys) from a GGUF;\n"
		"                        default: a byte-level vocabulary (256 byte tokens, the\n"
		"                        Llama 3 special tokens last, unused fillers between)\n"
		"      --vocab-cut N     with --vocab-from: keep only its first N ordinary tokens\n"
		"                        (bytes, then merge order), the merges among them, and\n"
		"                        its first 16 special tokens, renumbered after them\n"
		"      --weights FILE    take the weights from FILE (float32 tensors by name, as\n"
		"                        tests/reader/train.py exports them) instead of random\n"
		"      --tied            no output.weight (logits use token_embd)\n"
		"      --untied          with output.weight\n"
		"      --rope-factor F   llama3 rope scaling factor; 0 = no rope_freqs tensor\n"
		"      --name TEXT       general.name\n"
		"      --chat-template T write tokenizer.chat_template = T (replacing a copied one)\n"
		"      --no-chat-tokens  the built-in vocabulary without <|start_header_id|> and\n"
		"                        <|end_header_id|> (a model that cannot chat)\n"
		"      --describe        print the tensor plan and parameter counts; write nothing\n");
}

/* ------------------------------------------------------------------ random */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Approximately standard normal: Irwin-Hall with 4 uniforms from one 64-bit draw. */
static float gauss(uint64_t *s)
{
	uint64_t r = splitmix(s);
	float sum = (float)(r & 0xffff) + (float)((r >> 16) & 0xffff) +
	            (float)((r >> 32) & 0xffff) + (float)(r >> 48);

	return (sum / 65536.0f - 2.0f) * 1.7320508f;
}

static uint64_t name_seed(uint64_t seed, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ seed;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 1099511628211ull;
	return h;
}

/* ------------------------------------------------------------------ tensors */

enum kind { K_MATRIX, K_NORM, K_ROPE };

struct tensor {
	char name[64];
	enum kind kind;
	uint32_t type;
	int64_t ne[2];
	uint32_t n_dims;
	float std;
};

/* ------------------------------------------------------------------ trained weights */

/* A weights file (--weights): "LRWT", u32 version 1, u32 count, then per tensor u32
 * name length, the name, u32 n_dims, n_dims x u64 sizes (GGUF order: ne[0] first) and
 * the float32 values, all little-endian.  tests/reader/train.py writes it. */
struct wtensor {
	char name[64];
	uint32_t n_dims;
	uint64_t ne[2];
	float *v;
	int used;
};

struct weights {
	struct wtensor *t;
	uint32_t n;
};

static void weights_free(struct weights *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; i < w->n; i++)
		free(w->t[i].v);
	free(w->t);
	free(w);
}

static int read_u32(FILE *f, uint32_t *v)
{
	return fread(v, 4, 1, f) == 1 ? 0 : -1;
}

static struct weights *weights_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct weights *w = calloc(1, sizeof *w);
	char magic[4];
	uint32_t version, n = 0;

	if (!f || !w) {
		fprintf(stderr, "lr-genmodel: cannot open '%s': %s\n", path, strerror(errno));
		goto fail;
	}
	if (fread(magic, 4, 1, f) != 1 || memcmp(magic, "LRWT", 4) || read_u32(f, &version) ||
	    version != 1 || read_u32(f, &n) || n > 4096)
		goto bad;
	w->t = calloc(n ? n : 1, sizeof *w->t);
	if (!w->t)
		goto bad;
	for (; w->n < n; w->n++) {
		struct wtensor *t = &w->t[w->n];
		uint32_t len;
		uint64_t count = 1;
		if (read_u32(f, &len) || len == 0 || len >= sizeof t->name ||
		    fread(t->name, 1, len, f) != len || read_u32(f, &t->n_dims) || t->n_dims < 1 ||
		    t->n_dims > 2)
			goto bad;
		t->ne[1] = 1;
		for (uint32_t d = 0; d < t->n_dims; d++) {
			if (fread(&t->ne[d], 8, 1, f) != 1 || t->ne[d] == 0 || t->ne[d] > (1u << 24))
				goto bad;
			count *= t->ne[d];
		}
		t->v = malloc(count * sizeof *t->v);
		if (!t->v || fread(t->v, sizeof *t->v, count, f) != count)
			goto bad;
	}
	if (fgetc(f) != EOF)
		goto bad;
	fclose(f);
	return w;
bad:
	fprintf(stderr, "lr-genmodel: '%s' is not a weights file (or is truncated)\n", path);
	if (w->t && w->n < n)
		free(w->t[w->n].v);     /* the tensor being read (not yet counted in w->n) */
fail:
	if (f)
		fclose(f);
	weights_free(w);
	return NULL;
}

static struct wtensor *weights_find(struct weights *w, const char *name)
{
	for (uint32_t i = 0; i < w->n; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return &w->t[i];
	return NULL;
}

struct model {
	struct shape s;
	uint64_t seed;
	struct tensor *t;
	size_t n_t;
	float *rope_freqs;      /* [head_dim / 2] */
	struct weights *w;      /* trained weights, or NULL for random ones */
};

static void add(struct model *m, enum kind k, uint32_t type, const char *name, int64_t ne0,
                int64_t ne1, float std)
{
	struct tensor *t = &m->t[m->n_t++];

	snprintf(t->name, sizeof t->name, "%s", name);
	t->kind = k;
	t->type = type;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->n_dims = ne1 ? 2 : 1;
	t->std = std;
}

/* llama.cpp's Q4_K_M / Q5_K_M rule for attn_v and ffn_down: more bits in the first
 * and last eighth of the layers and every third layer between. */
static int more_bits(uint32_t i, uint32_t n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* Llama 3.1 "llama3" rope scaling as frequency divisors, as llama.cpp's converter
 * computes them (low_freq_factor 1, high_freq_factor 4, original context 8192). */
static void rope_factors(float *out, uint32_t dim, float base, float factor)
{
	const double orig = 8192, low = 1, high = 4;
	const double low_wl = orig / low, high_wl = orig / high;

	for (uint32_t i = 0; i < dim / 2; i++) {
		double freq = pow(base, -2.0 * i / dim);
		double wl = 2 * M_PI / freq;
		if (wl < high_wl) {
			out[i] = 1.0f;
		} else if (wl > low_wl) {
			out[i] = factor;
		} else {
			double smooth = (orig / wl - low) / (high - low);
			out[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
		}
	}
}

static int plan(struct model *m, const char *type_name)
{
	const struct shape *s = &m->s;
	int mix = 0, q3m = 0;
	int type;
	uint32_t base_type, hi_type = LR_TYPE_Q6_K;
	char name[64];

	if (strcasecmp(type_name, "Q3_K_M") == 0) {
		mix = q3m = 1;
		base_type = LR_TYPE_Q3_K;
	} else if (strcasecmp(type_name, "Q4_K_M") == 0) {
		mix = 1;
		base_type = LR_TYPE_Q4_K;
	} else if (strcasecmp(type_name, "Q5_K_M") == 0) {
		mix = 1;
		base_type = LR_TYPE_Q5_K;
	} else {
		type = lr_type_from_name(type_name);
		if (type < 0 || !lr_type_info((uint32_t)type)->weights_ok) {
			fprintf(stderr, "lr-genmodel: unsupported weight type '%s'\n", type_name);
			return -1;
		}
		base_type = (uint32_t)type;
		hi_type = base_type;
	}
	m->t = calloc(4 + 9 * (size_t)s->n_layer, sizeof *m->t);
	if (!m->t)
		return -1;
	/* with tied embeddings token_embd is also the output matrix: llama.cpp then gives it
	 * the output's type */
	add(m, K_MATRIX, mix && s->tied ? hi_type : base_type, "token_embd.weight", s->n_embd,
	    s->n_vocab, 0.05f);
	if (s->rope_factor > 0)
		add(m, K_ROPE, LR_TYPE_F32, "rope_freqs.weight", s->head_dim / 2, 0, 0);
	for (uint32_t i = 0; i < s->n_layer; i++) {
		uint32_t vt = mix && more_bits(i, s->n_layer) ? hi_type : base_type, dt = vt, ot = base_type;
		/* Q3_K_M: attn_v Q5_K in the first two layers, Q4_K after; ffn_down Q5_K in the
		 * first sixteenth, Q4_K after; attn_output Q4_K (llama.cpp's rule for Llama) */
		if (q3m) {
			vt = i < 2 ? LR_TYPE_Q5_K : LR_TYPE_Q4_K;
			dt = i < s->n_layer / 16 ? LR_TYPE_Q5_K : LR_TYPE_Q4_K;
			ot = LR_TYPE_Q4_K;
		}
#define T(suffix) (snprintf(name, sizeof name, "blk.%" PRIu32 ".%s", i, suffix), name)
		add(m, K_NORM, LR_TYPE_F32, T("attn_norm.weight"), s->n_embd, 0, 0.1f);
		add(m, K_MATRIX, base_type, T("attn_q.weight"), s->n_embd, (int64_t)s->n_head * s->head_dim, 0.1f);
		add(m, K_MATRIX, base_type, T("attn_k.weight"), s->n_embd, (int64_t)s->n_head_kv * s->head_dim, 0.1f);
		add(m, K_MATRIX, vt, T("attn_v.weight"), s->n_embd, (int64_t)s->n_head_kv * s->head_dim, 0.05f);
		add(m, K_MATRIX, ot, T("attn_output.weight"), (int64_t)s->n_head * s->head_dim, s->n_embd, 0.05f);
		add(m, K_NORM, LR_TYPE_F32, T("ffn_norm.weight"), s->n_embd, 0, 0.1f);
		add(m, K_MATRIX, base_type, T("ffn_gate.weight"), s->n_embd, s->n_ff, 0.05f);
		add(m, K_MATRIX, base_type, T("ffn_up.weight"), s->n_embd, s->n_ff, 0.05f);
		add(m, K_MATRIX, dt, T("ffn_down.weight"), s->n_ff, s->n_embd, 0.05f);
#undef T
	}
	add(m, K_NORM, LR_TYPE_F32, "output_norm.weight", s->n_embd, 0, 0.1f);
	if (!s->tied)
		add(m, K_MATRIX, mix ? hi_type : base_type, "output.weight", s->n_embd, s->n_vocab, 0.05f);
	for (size_t i = 0; i < m->n_t; i++) {
		uint32_t bs = lr_type_info(m->t[i].type)->block_size;
		if (m->t[i].ne[0] % bs != 0) {
			fprintf(stderr, "lr-genmodel: tensor '%s' has rows of %" PRId64 ", not a multiple "
				"of %s's block size %" PRIu32 "\n", m->t[i].name, m->t[i].ne[0],
				lr_type_name(m->t[i].type), bs);
			return -1;
		}
	}
	return 0;
}

/* llama.cpp's general.file_type for what we write. */
static uint32_t file_type(const char *type_name)
{
	static const struct { const char *n; uint32_t ft; } map[] = {
		{ "F32", 0 }, { "F16", 1 }, { "Q4_0", 2 }, { "Q4_1", 3 }, { "Q8_0", 7 },
		{ "Q5_0", 8 }, { "Q5_1", 9 }, { "Q2_K", 10 }, { "Q3_K", 11 }, { "Q3_K_M", 12 },
		{ "Q4_K", 14 }, { "Q4_K_M", 15 }, { "Q5_K", 16 }, { "Q5_K_M", 17 }, { "Q6_K", 18 },
		{ "IQ4_NL", 25 }, { "IQ4_XS", 30 }, { "BF16", 32 },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(map[i].n, type_name) == 0)
			return map[i].ft;
	return 0;
}

/* ------------------------------------------------------------------ vocabulary */

/* --vocab-cut: the first n_keep ordinary tokens of g (a byte-level BPE vocabulary lists
 * its 256 byte tokens first and every other token after the two it merges, so any prefix
 * is a vocabulary of its own), the merges whose parts and result are all kept, in their
 * order, and the first N_CUT_SPECIALS control tokens, renumbered after the others.
 * Special-token ids (bos, eos, ...) are remapped; a dropped one is left out. */
#define N_CUT_SPECIALS 16

struct strset {
	const char **s;
	uint64_t *len;
	size_t cap;
};

static uint64_t str_hash(const char *s, uint64_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static int strset_has(const struct strset *set, const char *s, uint64_t n)
{
	for (size_t i = str_hash(s, n) & (set->cap - 1); set->s[i]; i = (i + 1) & (set->cap - 1))
		if (set->len[i] == n && memcmp(set->s[i], s, n) == 0)
			return 1;
	return 0;
}

static void strset_add(struct strset *set, const char *s, uint64_t n)
{
	size_t i = str_hash(s, n) & (set->cap - 1);

	while (set->s[i])
		i = (i + 1) & (set->cap - 1);
	set->s[i] = s;
	set->len[i] = n;
}

static int write_cut_vocab(struct gw *w, const struct lr_gguf *g, uint32_t n_keep, int own_template)
{
	const struct lr_gguf_kv *tk, *ty, *mg;
	struct lr_err err = { 0 };
	uint32_t n_out = n_keep + N_CUT_SPECIALS, k = 0, n_merge = 0;
	uint64_t *old_id = calloc(n_out, sizeof *old_id);
	char **tok = calloc(n_out, sizeof *tok), **merge = NULL;
	int32_t *type = calloc(n_out, sizeof *type);
	struct strset set = { 0 };
	int rc = -1;

	if (lr_gguf_get_arr(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, &tk, &err) ||
	    lr_gguf_get_arr(g, "tokenizer.ggml.token_type", LR_GGUF_I32, &ty, &err) ||
	    lr_gguf_get_arr(g, "tokenizer.ggml.merges", LR_GGUF_STRING, &mg, &err)) {
		fprintf(stderr, "lr-genmodel: %s\n", err.msg);
		goto out;
	}
	for (set.cap = 1; set.cap < 2 * (size_t)n_keep; set.cap *= 2)
		;
	set.s = calloc(set.cap, sizeof *set.s);
	set.len = calloc(set.cap, sizeof *set.len);
	merge = calloc(mg->arr_n ? mg->arr_n : 1, sizeof *merge);
	if (!old_id || !tok || !type || !set.s || !set.len || !merge)
		goto out;
	for (uint64_t i = 0; i < tk->arr_n && k < n_out; i++) {
		int32_t t = (int32_t)lr_gguf_arr_int(ty, i);
		uint64_t len;
		const char *p = lr_gguf_arr_str(g, tk, i, &len);
		if ((t == 3 && k >= n_keep) || (t != 3 && k < n_keep)) {
			if (t != 3)
				strset_add(&set, p, len);
			old_id[k] = i;
			type[k] = t;
			tok[k++] = strndup(p, len);
		}
	}
	if (k != n_out) {
		fprintf(stderr, "lr-genmodel: the vocabulary has fewer than %" PRIu32 " ordinary and %d "
			"control tokens\n", n_keep, N_CUT_SPECIALS);
		goto out;
	}
	for (uint64_t i = 0; i < mg->arr_n; i++) {
		uint64_t len;
		const char *p = lr_gguf_arr_str(g, mg, i, &len), *sp = memchr(p, ' ', len);
		char *joined;
		if (!sp)
			continue;
		if (!strset_has(&set, p, (uint64_t)(sp - p)) ||
		    !strset_has(&set, sp + 1, len - (uint64_t)(sp - p) - 1))
			continue;
		joined = malloc(len);
		memcpy(joined, p, (size_t)(sp - p));
		memcpy(joined + (sp - p), sp + 1, len - (uint64_t)(sp - p) - 1);
		if (strset_has(&set, joined, len - 1))
			merge[n_merge++] = strndup(p, len);
		free(joined);
	}
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const char *key = g->kv[i].key;
		size_t kl = strlen(key);
		if (strncmp(key, "tokenizer.", 10) != 0 || strcmp(key, "tokenizer.ggml.tokens") == 0 ||
		    strcmp(key, "tokenizer.ggml.token_type") == 0 || strcmp(key, "tokenizer.ggml.merges") == 0 ||
		    (own_template && strcmp(key, "tokenizer.chat_template") == 0))
			continue;
		if (kl > 9 && strcmp(key + kl - 9, "_token_id") == 0) {
			for (uint32_t j = 0; j < n_out; j++)
				if (old_id[j] == g->kv[i].v.u)
					gw_kv_u32(w, key, j);
			continue;
		}
		gw_kv_copy(w, g, &g->kv[i]);
	}
	gw_kv_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, n_out);
	gw_kv_arr_i32(w, "tokenizer.ggml.token_type", type, n_out);
	gw_kv_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merge, n_merge);
	rc = 0;
out:
	for (uint32_t i = 0; tok && i < n_out; i++)
		free(tok[i]);
	for (uint32_t i = 0; merge && i < n_merge; i++)
		free(merge[i]);
	free(tok);
	free(merge);
	free(type);
	free(old_id);
	free(set.s);
	free(set.len);
	return rc;
}

static int write_vocab(struct gw *w, const struct model *m, const char *vocab_from,
                       uint32_t vocab_cut, const char *chat_template, int no_chat_tokens)
{
	if (chat_template)
		gw_kv_str(w, "tokenizer.chat_template", chat_template);
	if (vocab_from) {
		struct lr_gguf *g = NULL;
		struct lr_err err = { 0 };
		int rc = 0;
		if (lr_gguf_open(&g, vocab_from, &err)) {
			fprintf(stderr, "lr-genmodel: %s\n", err.msg);
			return -1;
		}
		if (vocab_cut)
			rc = write_cut_vocab(w, g, vocab_cut, chat_template != NULL);
		else
			for (uint64_t i = 0; i < g->n_kv; i++)
				if (strncmp(g->kv[i].key, "tokenizer.", 10) == 0 &&
				    !(chat_template && strcmp(g->kv[i].key, "tokenizer.chat_template") == 0))
					gw_kv_copy(w, g, &g->kv[i]);
		lr_gguf_close(g);
		return rc;
	}

	uint32_t n = m->s.n_vocab;
	char **tok = calloc(n, sizeof *tok);
	int32_t *type = calloc(n, sizeof *type);
	if (!tok || !type)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		tok[i] = malloc(32);
		if (i < 256) {
			gb_byte_token(i, tok[i]);
			type[i] = 1;
		} else if (i >= n - N_SPECIALS) {
			uint32_t k = i - (n - N_SPECIALS);
			if (no_chat_tokens && (k == 2 || k == 3))   /* the header tokens */
				snprintf(tok[i], 32, "<|reserved_special_token_%" PRIu32 "|>", k);
			else
				snprintf(tok[i], 32, "%s", specials[k]);
			type[i] = 3;
		} else {
			snprintf(tok[i], 32, "<|unused_%" PRIu32 "|>", i);
			type[i] = 5;
		}
	}
	gw_kv_str(w, "tokenizer.ggml.model", "gpt2");
	gw_kv_str(w, "tokenizer.ggml.pre", "llama-bpe");
	gw_kv_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, n);
	gw_kv_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	gw_kv_arr_str(w, "tokenizer.ggml.merges", NULL, 0);
	gw_kv_u32(w, "tokenizer.ggml.bos_token_id", n - N_SPECIALS);
	gw_kv_u32(w, "tokenizer.ggml.eos_token_id", n - N_SPECIALS + 4);
	for (uint32_t i = 0; i < n; i++)
		free(tok[i]);
	free(tok);
	free(type);
	return 0;
}

/* Every planned tensor (but rope_freqs, which is computed) must be in the weights file
 * with the planned shape, and every tensor there must be planned. */
static int weights_check(struct model *m)
{
	for (size_t i = 0; i < m->n_t; i++) {
		const struct tensor *t = &m->t[i];
		struct wtensor *wt;
		if (t->kind == K_ROPE)
			continue;
		wt = weights_find(m->w, t->name);
		if (!wt) {
			fprintf(stderr, "lr-genmodel: the weights have no tensor '%s'\n", t->name);
			return -1;
		}
		if (wt->ne[0] != (uint64_t)t->ne[0] || wt->ne[1] != (uint64_t)(t->n_dims == 2 ? t->ne[1] : 1)) {
			fprintf(stderr, "lr-genmodel: tensor '%s' is %" PRIu64 " x %" PRIu64 " in the weights, "
				"%" PRId64 " x %" PRId64 " in the shape\n", t->name, wt->ne[0], wt->ne[1],
				t->ne[0], t->n_dims == 2 ? t->ne[1] : 1);
			return -1;
		}
		wt->used = 1;
	}
	for (uint32_t i = 0; i < m->w->n; i++)
		if (!m->w->t[i].used) {
			fprintf(stderr, "lr-genmodel: the shape has no tensor '%s' (tied or untied?)\n",
				m->w->t[i].name);
			return -1;
		}
	return 0;
}

/* ------------------------------------------------------------------ writing */

static int write_data(FILE *f, const struct model *m)
{
	int64_t max_row = 0;
	float *row;
	uint8_t *q;
	int rc = -1;

	for (size_t i = 0; i < m->n_t; i++)
		if (m->t[i].ne[0] > max_row)
			max_row = m->t[i].ne[0];
	row = malloc((size_t)max_row * sizeof *row);
	q = malloc((size_t)max_row * sizeof *row); /* no type is wider than f32 */

	if (!row || !q)
		goto out;
	for (size_t i = 0; i < m->n_t; i++) {
		const struct tensor *t = &m->t[i];
		uint64_t rng = name_seed(m->seed, t->name), rb, written = 0;
		int64_t rows = t->n_dims == 2 ? t->ne[1] : 1;

		const struct wtensor *wt = m->w && t->kind != K_ROPE ? weights_find(m->w, t->name) : NULL;

		lr_type_row_bytes(t->type, (uint64_t)t->ne[0], &rb);
		for (int64_t r = 0; r < rows; r++) {
			for (int64_t c = 0; c < t->ne[0]; c++) {
				if (wt)
					row[c] = wt->v[r * t->ne[0] + c];
				else if (t->kind == K_ROPE)
					row[c] = m->rope_freqs[c];
				else if (t->kind == K_NORM)
					row[c] = 1.0f + t->std * gauss(&rng);
				else
					row[c] = t->std * gauss(&rng);
			}
			lr_quant_row(t->type, row, q, t->ne[0]);
			if (fwrite(q, 1, (size_t)rb, f) != rb)
				goto out;
			written += rb;
		}
		if (gw_write_pad(f, written, LR_GGUF_DEFAULT_ALIGNMENT))
			goto out;
	}
	rc = 0;
out:
	free(row);
	free(q);
	return rc;
}

int main(int argc, char **argv)
{
	enum { O_SEED = 256, O_LAYERS, O_EMBD, O_HEADS, O_KV_HEADS, O_HEAD_DIM, O_FF, O_VOCAB,
	       O_CTX, O_VOCAB_FROM, O_TIED, O_UNTIED, O_ROPE, O_NAME, O_DESCRIBE, O_TEMPLATE, O_NOCHAT,
	       O_VOCAB_CUT, O_WEIGHTS };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "shape", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' }, { "seed", required_argument, NULL, O_SEED },
		{ "layers", required_argument, NULL, O_LAYERS }, { "embd", required_argument, NULL, O_EMBD },
		{ "heads", required_argument, NULL, O_HEADS }, { "kv-heads", required_argument, NULL, O_KV_HEADS },
		{ "head-dim", required_argument, NULL, O_HEAD_DIM }, { "ff", required_argument, NULL, O_FF },
		{ "vocab", required_argument, NULL, O_VOCAB }, { "ctx", required_argument, NULL, O_CTX },
		{ "vocab-from", required_argument, NULL, O_VOCAB_FROM }, { "tied", no_argument, NULL, O_TIED },
		{ "untied", no_argument, NULL, O_UNTIED }, { "rope-factor", required_argument, NULL, O_ROPE },
		{ "name", required_argument, NULL, O_NAME }, { "help", no_argument, NULL, 'h' },
		{ "describe", no_argument, NULL, O_DESCRIBE },
		{ "chat-template", required_argument, NULL, O_TEMPLATE },
		{ "no-chat-tokens", no_argument, NULL, O_NOCHAT },
		{ "vocab-cut", required_argument, NULL, O_VOCAB_CUT },
		{ "weights", required_argument, NULL, O_WEIGHTS },
		{ NULL, 0, NULL, 0 },
	};
	struct model m = { .s = shapes[0], .seed = 1001 };
	const char *out = NULL, *type = "F32", *vocab_from = NULL, *name = NULL, *chat_template = NULL;
	const char *weights = NULL;
	uint32_t *field, vocab_cut = 0;
	struct gw w;
	char tmp[4096], gname[128];
	FILE *f = NULL;
	int c, rc = 1, describe = 0, no_chat_tokens = 0;

	while ((c = getopt_long(argc, argv, "o:s:t:h", opts, NULL)) != -1) {
		field = NULL;
		switch (c) {
		case 'o': out = optarg; break;
		case 't': type = optarg; break;
		case 's': {
			size_t i;
			for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
				if (strcmp(shapes[i].name, optarg) == 0)
					break;
			if (i == sizeof shapes / sizeof shapes[0]) {
				fprintf(stderr, "lr-genmodel: unknown shape '%s'\n", optarg);
				return 2;
			}
			m.s = shapes[i];
			break;
		}
		case O_SEED: m.seed = strtoull(optarg, NULL, 10); break;
		case O_LAYERS: field = &m.s.n_layer; break;
		case O_EMBD: field = &m.s.n_embd; break;
		case O_HEADS: field = &m.s.n_head; break;
		case O_KV_HEADS: field = &m.s.n_head_kv; break;
		case O_HEAD_DIM: field = &m.s.head_dim; break;
		case O_FF: field = &m.s.n_ff; break;
		case O_VOCAB: field = &m.s.n_vocab; break;
		case O_CTX: field = &m.s.n_ctx; break;
		case O_VOCAB_FROM: vocab_from = optarg; break;
		case O_TIED: m.s.tied = 1; break;
		case O_UNTIED: m.s.tied = 0; break;
		case O_ROPE: m.s.rope_factor = strtof(optarg, NULL); break;
		case O_NAME: name = optarg; break;
		case O_DESCRIBE: describe = 1; break;
		case O_TEMPLATE: chat_template = optarg; break;
		case O_NOCHAT: no_chat_tokens = 1; break;
		case O_VOCAB_CUT: field = &vocab_cut; break;
		case O_WEIGHTS: weights = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (field) {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > (1ul << 24)) {
				fprintf(stderr, "lr-genmodel: bad number '%s'\n", optarg);
				return 2;
			}
			*field = (uint32_t)v;
		}
	}
	if ((!out && !describe) || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (vocab_from) {
		struct lr_gguf *g = NULL;
		struct lr_err err = { 0 };
		const struct lr_gguf_kv *kv;
		if (lr_gguf_open(&g, vocab_from, &err)) {
			fprintf(stderr, "lr-genmodel: %s\n", err.msg);
			return 1;
		}
		if (lr_gguf_get_arr(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, &kv, &err)) {
			fprintf(stderr, "lr-genmodel: '%s': %s\n", vocab_from, err.msg);
			lr_gguf_close(g);
			return 1;
		}
		m.s.n_vocab = vocab_cut ? vocab_cut + N_CUT_SPECIALS : (uint32_t)kv->arr_n;
		lr_gguf_close(g);
	} else if (vocab_cut) {
		fprintf(stderr, "lr-genmodel: --vocab-cut needs --vocab-from\n");
		return 2;
	}
	if (m.s.n_vocab < 256 + N_SPECIALS || m.s.n_head % m.s.n_head_kv || m.s.head_dim % 2) {
		fprintf(stderr, "lr-genmodel: inconsistent shape (vocab >= 262, heads a multiple of "
			"KV heads, even head dim)\n");
		return 2;
	}
	if (plan(&m, type)) {
		free(m.t);
		return 2;
	}
	if (weights && (!(m.w = weights_load(weights)) || weights_check(&m))) {
		weights_free(m.w);
		free(m.t);
		return 1;
	}
	if (describe) {
		uint64_t total = 0, rope = 0;
		for (size_t i = 0; i < m.n_t; i++) {
			uint64_t n = (uint64_t)m.t[i].ne[0] * (uint64_t)(m.t[i].n_dims == 2 ? m.t[i].ne[1] : 1);
			printf("tensor %s %s %" PRId64 " %" PRId64 "\n", m.t[i].name, lr_type_name(m.t[i].type),
			       m.t[i].ne[0], m.t[i].n_dims == 2 ? m.t[i].ne[1] : 1);
			total += n;
			if (m.t[i].kind == K_ROPE)
				rope += n;
		}
		/* "model" parameters as Hugging Face counts them: rope_freqs is GGUF-only */
		printf("tensors %zu\nparameters %" PRIu64 "\nmodel_parameters %" PRIu64 "\n",
		       m.n_t, total, total - rope);
		free(m.t);
		return 0;
	}
	if (m.s.rope_factor > 0) {
		m.rope_freqs = malloc(m.s.head_dim / 2 * sizeof(float));
		rope_factors(m.rope_freqs, m.s.head_dim, 500000.0f, m.s.rope_factor);
	}

	gw_init(&w);
	snprintf(gname, sizeof gname, "%s", name ? name : "");
	if (!name)
		snprintf(gname, sizeof gname, "lr-genmodel %s %s seed %" PRIu64, m.s.name, type, m.seed);
	gw_kv_str(&w, "general.architecture", "llama");
	gw_kv_str(&w, "general.type", "model");
	gw_kv_str(&w, "general.name", gname);
	gw_kv_u32(&w, "llama.block_count", m.s.n_layer);
	gw_kv_u32(&w, "llama.context_length", m.s.n_ctx);
	gw_kv_u32(&w, "llama.embedding_length", m.s.n_embd);
	gw_kv_u32(&w, "llama.feed_forward_length", m.s.n_ff);
	gw_kv_u32(&w, "llama.attention.head_count", m.s.n_head);
	gw_kv_u32(&w, "llama.attention.head_count_kv", m.s.n_head_kv);
	gw_kv_f32(&w, "llama.rope.freq_base", 500000.0f);
	gw_kv_f32(&w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
	gw_kv_u32(&w, "llama.attention.key_length", m.s.head_dim);
	gw_kv_u32(&w, "llama.attention.value_length", m.s.head_dim);
	gw_kv_u32(&w, "general.file_type", file_type(type));
	gw_kv_u32(&w, "llama.vocab_size", m.s.n_vocab);
	gw_kv_u32(&w, "llama.rope.dimension_count", m.s.head_dim);
	if (write_vocab(&w, &m, vocab_from, vocab_cut, chat_template, no_chat_tokens))
		goto out;
	gw_kv_u32(&w, "general.quantization_version", 2);
	for (size_t i = 0; i < m.n_t; i++)
		gw_tensor(&w, m.t[i].name, m.t[i].type, m.t[i].n_dims, m.t[i].ne);

	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	f = fopen(tmp, "wb");
	if (!f) {
		fprintf(stderr, "lr-genmodel: cannot create '%s': %s\n", tmp, strerror(errno));
		goto out;
	}
	if (gw_write_header(&w, f) || write_data(f, &m) || fflush(f) || ferror(f)) {
		fprintf(stderr, "lr-genmodel: write error on '%s': %s\n", tmp, strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		fprintf(stderr, "lr-genmodel: write error on '%s': %s\n", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, out) != 0) {
		fprintf(stderr, "lr-genmodel: cannot rename to '%s': %s\n", out, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	gw_free(&w);
	free(m.t);
	free(m.rope_freqs);
	weights_free(m.w);
	return rc;
}
