/* engine/tok.c — building the tokenizer from GGUF metadata, the vocabulary accessors,
 * and decoding (whole and streaming).  Encoding is in engine/tok_encode.c.
 * Workload: one build per model load (Llama 3: 128,256 tokens and 280,147 merges, all
 * validated and hashed once, tens of milliseconds); decoding is per generated token. */
#include "engine/tok_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/utf8.h"

/* Pre-tokenizer names that llama.cpp maps to its LLAMA3 pre-tokenizer (the regex in
 * tok_encode.c, whole-word lookup before merging).  Others use other regexes. */
static const char *const llama3_pre[] = { "llama-bpe", "llama3", "llama-v3" };

/* ------------------------------------------------------------------ helpers */

/* For messages: s[0..n) quoted-safe, at most ~40 bytes, control bytes and invalid
 * UTF-8 as \xNN, so a hostile vocabulary cannot put a newline in an error. */
static const char *show(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0, i = 0;

	while (i < n && o + 8 < size) {
		unsigned char c = (unsigned char)s[i];
		size_t cl = lr_utf8_len(c);

		if (i >= 40) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c >= 0x80 && cl > 1 && cl <= n - i && lr_utf8_valid_prefix(s + i, cl) == cl) {
			memcpy(buf + o, s + i, cl);
			o += cl;
			i += cl;
			continue;
		}
		if (c < 0x20 || c >= 0x7F)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
		else
			buf[o++] = (char)c;
		i++;
	}
	buf[o] = '\0';
	return buf;
}

/* GPT-2's byte-level spelling: bytes 33..126, 161..172 and 174..255 stand for
 * themselves; the 68 others (0..32, 127..160, 173) are U+0100.. in byte order.
 * Returns the byte a code point stands for, or -1. */
static int byte_of_cp(uint32_t cp)
{
	if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255))
		return (int)cp;
	if (cp >= 256 && cp <= 288)
		return (int)(cp - 256);          /* 0..32 */
	if (cp >= 289 && cp <= 322)
		return (int)(cp - 289 + 127);    /* 127..160 */
	if (cp == 323)
		return 173;
	return -1;
}

/* Undo the byte-level spelling of s[0..n) into out (room for n bytes).  Returns the
 * number of bytes, or -1 if s is not made of byte-level characters. */
static long unspell(const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < n) {
		uint32_t cp;
		int b;

		if (p[i] < 0x80) {
			cp = p[i++];
		} else if ((p[i] & 0xE0) == 0xC0 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
			cp = (uint32_t)(p[i] & 0x1F) << 6 | (p[i + 1] & 0x3F);
			i += 2;
		} else {
			return -1;
		}
		if ((b = byte_of_cp(cp)) < 0)
			return -1;
		out[o++] = (char)b;
	}
	return (long)o;
}

static int is_textlike(uint8_t type)
{
	return type == LR_TOK_NORMAL || type == LR_TOK_UNDEFINED || type == LR_TOK_BYTE;
}

static uint32_t table_size(uint64_t n)
{
	uint32_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

/* ------------------------------------------------------------------ building */

static int check_kind(const struct lr_gguf *g, enum lr_tok_pre *kind, struct lr_err *err)
{
	const char *model, *pre;
	int rc;

	rc = lr_gguf_get_str(g, "tokenizer.ggml.model", &model, NULL, err);
	if (rc == LR_ENOTFOUND)
		return lr_errf(err, LR_ENOTFOUND, "no tokenizer (tokenizer.ggml.model is missing)");
	if (rc)
		return rc;
	if (strcmp(model, "gpt2") != 0)
		return lr_errf(err, LR_EUNSUPPORTED, "tokenizer model '%s' is not supported "
			"(only 'gpt2' byte-level BPE, with the Llama 3 or Qwen2 pre-tokenizer)", model);
	rc = lr_gguf_get_str(g, "tokenizer.ggml.pre", &pre, NULL, err);
	if (rc == LR_ENOTFOUND)
		return lr_errf(err, LR_EUNSUPPORTED, "no pre-tokenizer named (tokenizer.ggml.pre is "
			"missing; convert the model again with a current llama.cpp)");
	if (rc)
		return rc;
	*kind = LR_TOK_PRE_LLAMA3;
	for (size_t i = 0; i < sizeof llama3_pre / sizeof llama3_pre[0]; i++)
		if (strcmp(pre, llama3_pre[i]) == 0)
			return 0;
	*kind = LR_TOK_PRE_QWEN2;
	if (strcmp(pre, "qwen2") == 0)
		return 0;
	return lr_errf(err, LR_EUNSUPPORTED, "pre-tokenizer '%s' is not supported "
		"(supported: Llama 3's 'llama-bpe' and 'qwen2')", pre);
}

/* token_type: optional (all normal without it); one integer per token. */
static int load_types(struct lr_tok *t, const struct lr_gguf *g, struct lr_err *err)
{
	const struct lr_gguf_kv *kv = lr_gguf_find(g, "tokenizer.ggml.token_type");

	if (!kv)
		return 0;
	if (kv->type != LR_GGUF_ARRAY || kv->arr_type == LR_GGUF_STRING || kv->arr_type == LR_GGUF_ARRAY
	    || kv->arr_type == LR_GGUF_F32 || kv->arr_type == LR_GGUF_F64)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.token_type is not an array of integers");
	if (kv->arr_n != t->n_vocab)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.token_type has %" PRIu64 " entries for "
			"%" PRIu32 " tokens", kv->arr_n, t->n_vocab);
	for (uint32_t i = 0; i < t->n_vocab; i++) {
		int64_t v = lr_gguf_arr_int(kv, i);
		if (v < LR_TOK_UNDEFINED || v > LR_TOK_BYTE)
			return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.token_type[%" PRIu32 "] = %" PRId64
				" is not a token type (0..6)", i, v);
		t->type[i] = (uint8_t)v;
	}
	return 0;
}

/* Pieces: normal tokens are decoded from byte-level spelling, others kept as text. */
static int load_pieces(struct lr_tok *t, const struct lr_gguf *g, const struct lr_gguf_kv *kv,
                       struct lr_err *err)
{
	uint64_t total = 0, n;
	char b[128];

	for (uint32_t i = 0; i < t->n_vocab; i++) {
		lr_gguf_arr_str(g, kv, i, &n);
		total += n;
	}
	if (total > UINT32_MAX - 1)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.tokens: %" PRIu64 " bytes of token "
			"text is more than longread handles", total);
	if (!(t->pieces = malloc(total + 1)))
		return lr_errf(err, LR_ENOMEM, "out of memory for the vocabulary");
	total = 0;
	for (uint32_t i = 0; i < t->n_vocab; i++) {
		const char *s = lr_gguf_arr_str(g, kv, i, &n);
		long len = (long)n;

		t->off[i] = (uint32_t)total;
		if (is_textlike(t->type[i])) {
			if ((len = unspell(s, n, t->pieces + total)) < 0)
				return lr_errf(err, LR_EFORMAT, "token %" PRIu32 " '%s' is not in byte-level "
					"(GPT-2) spelling", i, show(s, n, b, sizeof b));
		} else {
			memcpy(t->pieces + total, s, n);
		}
		total += (uint64_t)len;
		if ((uint64_t)len > t->max_piece)
			t->max_piece = (uint32_t)len;
	}
	t->off[t->n_vocab] = (uint32_t)total;
	t->pieces[total] = '\0';
	return 0;
}

static void words_insert(struct lr_tok *t, int32_t id)
{
	const char *s = t->pieces + t->off[id];
	size_t n = t->off[id + 1] - t->off[id];
	uint64_t h = tok_hash(s, n);
	uint32_t i = (uint32_t)h & t->words_mask;

	for (;; i = (i + 1) & t->words_mask) {
		struct tok_word_slot *w = &t->words[i];
		if (w->id < 0 || (w->h == (uint32_t)h && t->off[w->id + 1] - t->off[w->id] == n
		                  && memcmp(t->pieces + t->off[w->id], s, n) == 0)) {
			/* a later duplicate wins, as in llama.cpp */
			w->h = (uint32_t)h;
			w->id = id;
			return;
		}
	}
}

static int build_words(struct lr_tok *t, struct lr_err *err)
{
	uint32_t size = table_size(t->n_vocab);

	if (!(t->words = malloc((size_t)size * sizeof *t->words)))
		return lr_errf(err, LR_ENOMEM, "out of memory for the vocabulary");
	t->words_mask = size - 1;
	for (uint32_t i = 0; i < size; i++)
		t->words[i].id = -1;
	for (uint32_t i = 0; i < t->n_vocab; i++)
		if (is_textlike(t->type[i]) && t->off[i + 1] > t->off[i])
			words_insert(t, (int32_t)i);
	for (int b = 0; b < 256; b++) {
		char c = (char)b;
		if ((t->byte_id[b] = tok_word_find(t, &c, 1, tok_hash(&c, 1))) < 0)
			return lr_errf(err, LR_EFORMAT, "the vocabulary has no token for byte 0x%02X "
				"(byte-level BPE needs all 256)", b);
	}
	return 0;
}

/* Merges: "left right" in byte-level spelling, rank = index.  Both sides and their
 * concatenation must be tokens (as Hugging Face tokenizers also requires).
 * Three passes so that the random lookups (280,147 of them for Llama 3, each a cache
 * miss) can be prefetched a few merges ahead: parse and find both sides (frequent,
 * cache-hot tokens); find each result; insert each pair. */
struct merge_rec {
	int32_t a, b, c;             /* left, right, result ids */
	uint32_t h;                  /* low bits of the result's hash */
	uint32_t off, len;           /* the result's bytes in the scratch arena */
};

#define PREFETCH_AHEAD 8

static int merge_error(const struct lr_gguf *g, const struct lr_gguf_kv *kv, uint32_t r,
                       const char *what, struct lr_err *err)
{
	char b1[128], b2[128];
	uint64_t n;
	const char *s = lr_gguf_arr_str(g, kv, r, &n);
	const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;

	if (strcmp(what, "space") == 0)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges[%" PRIu32 "] '%s' is not two "
			"tokens separated by a space", r, show(s, n, b1, sizeof b1));
	if (strcmp(what, "spelling") == 0)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges[%" PRIu32 "] '%s' is not in "
			"byte-level (GPT-2) spelling", r, show(s, n, b1, sizeof b1));
	if (strcmp(what, "result") == 0)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges[%" PRIu32 "] '%s' makes a "
			"string that is not a token", r, show(s, n, b1, sizeof b1));
	/* "left" or "right" */
	if (strcmp(what, "left") == 0)
		show(s, (size_t)(sp - s), b2, sizeof b2);
	else
		show(sp + 1, (size_t)(s + n - sp - 1), b2, sizeof b2);
	return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges[%" PRIu32 "] '%s' refers to '%s', "
		"which is not a token", r, show(s, n, b1, sizeof b1), b2);
}

static int load_merges(struct lr_tok *t, const struct lr_gguf *g, struct lr_err *err)
{
	const struct lr_gguf_kv *kv;
	struct merge_rec *rec = NULL;
	char *arena = NULL;
	uint64_t arena_size = 0;
	size_t used = 0;
	uint32_t n_m, size;
	int rc;

	rc = lr_gguf_get_arr(g, "tokenizer.ggml.merges", LR_GGUF_STRING, &kv, err);
	if (rc == LR_ENOTFOUND)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges is missing (a BPE vocabulary "
			"needs its merges, even an empty list)");
	if (rc)
		return rc;
	if (kv->arr_n > UINT32_MAX / 4)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges: %" PRIu64 " merges is more "
			"than longread handles", kv->arr_n);
	n_m = t->n_merges = (uint32_t)kv->arr_n;
	size = table_size(n_m);
	for (uint32_t r = 0; r < n_m; r++) {
		uint64_t n;
		lr_gguf_arr_str(g, kv, r, &n);
		arena_size += n;
	}
	if (arena_size > UINT32_MAX)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.merges: %" PRIu64 " bytes of merges is "
			"more than longread handles", arena_size);
	t->merges = malloc((size_t)size * sizeof *t->merges);
	rec = malloc(((size_t)n_m + 1) * sizeof *rec);
	arena = malloc(arena_size + 1);
	if (!t->merges || !rec || !arena) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory for the merges");
		goto out;
	}
	t->merges_mask = size - 1;
	for (uint32_t i = 0; i < size; i++)
		t->merges[i].key = TOK_NO_KEY;

	/* 1: split, undo the spelling, find both sides */
	for (uint32_t r = 0; r < n_m; r++) {
		uint64_t n;
		const char *s = lr_gguf_arr_str(g, kv, r, &n);
		const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;
		char *buf = arena + used;
		long ln, rn;

		if (!sp || sp + 1 == s + n) {
			rc = merge_error(g, kv, r, "space", err);
			goto out;
		}
		ln = unspell(s, (size_t)(sp - s), buf);
		rn = ln < 0 ? -1 : unspell(sp + 1, (size_t)(s + n - sp - 1), buf + ln);
		if (ln < 0 || rn < 0) {
			rc = merge_error(g, kv, r, "spelling", err);
			goto out;
		}
		rec[r].a = tok_word_find(t, buf, (size_t)ln, tok_hash(buf, (size_t)ln));
		rec[r].b = tok_word_find(t, buf + ln, (size_t)rn, tok_hash(buf + ln, (size_t)rn));
		if (rec[r].a < 0 || rec[r].b < 0) {
			rc = merge_error(g, kv, r, rec[r].a < 0 ? "left" : "right", err);
			goto out;
		}
		rec[r].off = (uint32_t)used;
		rec[r].len = (uint32_t)(ln + rn);
		rec[r].h = (uint32_t)tok_hash(buf, (size_t)(ln + rn));
		used += (size_t)(ln + rn);
	}
	/* 2: find each result */
	for (uint32_t r = 0; r < n_m; r++) {
		if (r + PREFETCH_AHEAD < n_m)
			__builtin_prefetch(&t->words[rec[r + PREFETCH_AHEAD].h & t->words_mask]);
		rec[r].c = tok_word_find(t, arena + rec[r].off, rec[r].len, rec[r].h);
		if (rec[r].c < 0) {
			rc = merge_error(g, kv, r, "result", err);
			goto out;
		}
	}
	/* 3: insert; a repeated pair keeps its first (lowest) rank, as in llama.cpp */
	for (uint32_t r = 0; r < n_m; r++) {
		uint64_t key = (uint64_t)(uint32_t)rec[r].a << 32 | (uint32_t)rec[r].b;
		uint32_t i = tok_pair_slot(key, t->merges_mask);

		if (r + PREFETCH_AHEAD < n_m) {
			const struct merge_rec *q = &rec[r + PREFETCH_AHEAD];
			__builtin_prefetch(&t->merges[tok_pair_slot((uint64_t)(uint32_t)q->a << 32 | (uint32_t)q->b,
			                                            t->merges_mask)], 1);
		}
		while (t->merges[i].key != TOK_NO_KEY && t->merges[i].key != key)
			i = (i + 1) & t->merges_mask;
		if (t->merges[i].key == TOK_NO_KEY) {
			t->merges[i].key = key;
			t->merges[i].rank = r;
			t->merges[i].result = rec[r].c;
		}
	}
	rc = 0;
out:
	free(arena);
	free(rec);
	return rc;
}

static int cmp_prio(const void *pa, const void *pb, void *ctx)
{
	const struct lr_tok *t = ctx;
	int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
	uint32_t la = t->off[a + 1] - t->off[a], lb = t->off[b + 1] - t->off[b];

	if (la != lb)
		return la > lb ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* The special tokens in matching priority order, and a trie of their texts. */
static int build_specials(struct lr_tok *t, struct lr_err *err)
{
	uint64_t nodes = 1;

	for (uint32_t i = 0; i < t->n_vocab; i++) {
		uint8_t ty = t->type[i];
		uint32_t n = t->off[i + 1] - t->off[i];
		if ((ty == LR_TOK_CONTROL || ty == LR_TOK_USER_DEFINED || ty == LR_TOK_UNKNOWN) && n > 0
		    && lr_utf8_valid_prefix(t->pieces + t->off[i], n) == n) {
			t->n_special++;
			nodes += n;
		}
	}
	if (nodes > INT32_MAX)
		return lr_errf(err, LR_EFORMAT, "special tokens too long");
	t->special = malloc((t->n_special ? t->n_special : 1) * sizeof *t->special);
	t->trie = malloc((size_t)nodes * sizeof *t->trie);
	if (!t->special || !t->trie)
		return lr_errf(err, LR_ENOMEM, "out of memory for the special tokens");
	t->n_special = 0;
	for (uint32_t i = 0; i < t->n_vocab; i++) {
		uint8_t ty = t->type[i];
		uint32_t n = t->off[i + 1] - t->off[i];
		if ((ty == LR_TOK_CONTROL || ty == LR_TOK_USER_DEFINED || ty == LR_TOK_UNKNOWN) && n > 0
		    && lr_utf8_valid_prefix(t->pieces + t->off[i], n) == n) {
			t->special[t->n_special++] = (int32_t)i;
			t->has_user |= ty == LR_TOK_USER_DEFINED;
		}
	}
	qsort_r(t->special, t->n_special, sizeof *t->special, cmp_prio, t);

	t->trie[0] = (struct tok_trie_node){ .child = -1, .sibling = -1, .prio = -1 };
	t->n_trie = 1;
	for (uint32_t k = 0; k < t->n_special; k++) {
		const unsigned char *s = (const unsigned char *)t->pieces + t->off[t->special[k]];
		uint32_t n = t->off[t->special[k] + 1] - t->off[t->special[k]];
		int32_t node = 0;

		t->special_first[s[0]] = 1;
		for (uint32_t j = 0; j < n; j++) {
			int32_t c = t->trie[node].child;
			while (c >= 0 && t->trie[c].byte != s[j])
				c = t->trie[c].sibling;
			if (c < 0) {
				c = (int32_t)t->n_trie++;
				t->trie[c] = (struct tok_trie_node){ .child = -1, .sibling = t->trie[node].child,
				                                     .prio = -1, .byte = s[j] };
				t->trie[node].child = c;
			}
			node = c;
		}
		if (t->trie[node].prio < 0)   /* duplicates: the first in priority order */
			t->trie[node].prio = (int32_t)k;
	}
	return 0;
}

static int load_id(const struct lr_tok *t, const struct lr_gguf *g, const char *key, int32_t *id,
                   struct lr_err *err)
{
	int64_t v;
	int rc;

	*id = -1;
	if (!lr_gguf_find(g, key))
		return 0;
	if ((rc = lr_gguf_get_int(g, key, &v, err)))
		return rc;
	if (v < 0 || v >= t->n_vocab)
		return lr_errf(err, LR_EFORMAT, "%s = %" PRId64 " is out of range (the vocabulary has "
			"%" PRIu32 " tokens)", key, v, t->n_vocab);
	*id = (int32_t)v;
	return 0;
}

int lr_tok_new(struct lr_tok **out, const struct lr_gguf *g, struct lr_err *err)
{
	const struct lr_gguf_kv *kv;
	struct lr_tok *t = NULL;
	enum lr_tok_pre pre;
	int rc;

	*out = NULL;
	if ((rc = check_kind(g, &pre, err)))
		return rc;
	rc = lr_gguf_get_arr(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, &kv, err);
	if (rc == LR_ENOTFOUND)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.tokens is missing");
	if (rc)
		return rc;
	if (kv->arr_n == 0 || kv->arr_n > INT32_MAX - 1)
		return lr_errf(err, LR_EFORMAT, "tokenizer.ggml.tokens has %" PRIu64 " tokens",
			kv->arr_n);

	if (!(t = calloc(1, sizeof *t)))
		return lr_errf(err, LR_ENOMEM, "out of memory for the tokenizer");
	t->n_vocab = (uint32_t)kv->arr_n;
	t->pre = pre;
	t->add_bos = 1;
	if (lr_gguf_find(g, "tokenizer.ggml.add_bos_token")) {
		int64_t v;
		if ((rc = lr_gguf_get_int(g, "tokenizer.ggml.add_bos_token", &v, err)))
			goto out;
		t->add_bos = v != 0;
	}
	t->type = malloc(t->n_vocab);
	t->off = malloc(((size_t)t->n_vocab + 1) * sizeof *t->off);
	if (!t->type || !t->off) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory for the vocabulary");
		goto out;
	}
	memset(t->type, LR_TOK_NORMAL, t->n_vocab);
	if ((rc = load_types(t, g, err)) || (rc = load_pieces(t, g, kv, err))
	    || (rc = build_words(t, err)) || (rc = load_merges(t, g, err))
	    || (rc = build_specials(t, err)))
		goto out;
	if ((rc = load_id(t, g, "tokenizer.ggml.bos_token_id", &t->bos, err))
	    || (rc = load_id(t, g, "tokenizer.ggml.eos_token_id", &t->eos, err))
	    || (rc = load_id(t, g, "tokenizer.ggml.eot_token_id", &t->eot, err)))
		goto out;
	if (t->eot < 0)
		t->eot = lr_tok_find_special(t, "<|eot_id|>");
	if ((rc = lr_tok_regex_compile(t, err)))
		goto out;
	*out = t;
	t = NULL;
out:
	lr_tok_free(t);
	return rc;
}

void lr_tok_free(struct lr_tok *t)
{
	if (!t)
		return;
	pcre2_code_free(t->re);
	free(t->trie);
	free(t->special);
	free(t->merges);
	free(t->words);
	free(t->pieces);
	free(t->off);
	free(t->type);
	free(t);
}

/* ------------------------------------------------------------------ the vocabulary */

uint32_t lr_tok_n_vocab(const struct lr_tok *t)
{
	return t->n_vocab;
}

const char *lr_tok_piece(const struct lr_tok *t, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= t->n_vocab) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = t->off[id + 1] - t->off[id];
	return t->pieces + t->off[id];
}

enum lr_tok_type lr_tok_token_type(const struct lr_tok *t, int32_t id)
{
	if (id < 0 || (uint32_t)id >= t->n_vocab)
		return LR_TOK_UNDEFINED;
	return (enum lr_tok_type)t->type[id];
}

int32_t lr_tok_bos(const struct lr_tok *t) { return t->bos; }
int32_t lr_tok_eos(const struct lr_tok *t) { return t->eos; }
int32_t lr_tok_eot(const struct lr_tok *t) { return t->eot; }
int lr_tok_add_bos(const struct lr_tok *t) { return t->add_bos; }
enum lr_tok_pre lr_tok_pre(const struct lr_tok *t) { return t->pre; }

int32_t lr_tok_find_special(const struct lr_tok *t, const char *text)
{
	size_t n = strlen(text);

	for (uint32_t k = 0; k < t->n_special; k++) {
		int32_t id = t->special[k];
		if (t->off[id + 1] - t->off[id] == n && memcmp(t->pieces + t->off[id], text, n) == 0)
			return id;
	}
	return -1;
}

/* ------------------------------------------------------------------ ids */

void lr_tok_ids_init(struct lr_tok_ids *ids)
{
	ids->v = NULL;
	ids->n = ids->cap = 0;
}

void lr_tok_ids_release(struct lr_tok_ids *ids)
{
	free(ids->v);
	lr_tok_ids_init(ids);
}

int lr_tok_ids_push(struct lr_tok_ids *ids, int32_t id, struct lr_err *err)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? 2 * ids->cap : 256;
		int32_t *v = cap > SIZE_MAX / sizeof *v ? NULL : realloc(ids->v, cap * sizeof *v);
		if (!v)
			return lr_errf(err, LR_ENOMEM, "out of memory for token ids");
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

/* ------------------------------------------------------------------ decoding */

static int skipped(const struct lr_tok *t, int32_t id, unsigned flags)
{
	uint8_t ty = t->type[id];

	return (flags & LR_TOK_SKIP_SPECIAL)
	       && (ty == LR_TOK_CONTROL || ty == LR_TOK_UNKNOWN || ty == LR_TOK_UNUSED);
}

int lr_tok_decode(const struct lr_tok *t, const int32_t *ids, size_t n, unsigned flags,
                  char **out, size_t *out_len, struct lr_err *err)
{
	size_t total = 0, o = 0;
	char *buf;

	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_vocab)
			return lr_errf(err, LR_EINVAL, "token id %" PRId32 " is out of range (the vocabulary "
				"has %" PRIu32 " tokens)", ids[i], t->n_vocab);
		if (!skipped(t, ids[i], flags)) {
			size_t len = t->off[ids[i] + 1] - t->off[ids[i]];
			if (total > SIZE_MAX - 1 - len)
				return lr_errf(err, LR_ENOMEM, "decoding %zu tokens needs too much memory", n);
			total += len;
		}
	}
	if (!(buf = malloc(total + 1)))
		return lr_errf(err, LR_ENOMEM, "out of memory decoding %zu tokens", n);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (skipped(t, ids[i], flags))
			continue;
		len = t->off[ids[i] + 1] - t->off[ids[i]];
		memcpy(buf + o, t->pieces + t->off[ids[i]], len);
		o += len;
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	return 0;
}

int lr_tok_stream_init(struct lr_tok_stream *s, const struct lr_tok *t, unsigned flags,
                       struct lr_err *err)
{
	memset(s, 0, sizeof *s);
	s->tok = t;
	s->flags = flags;
	lr_utf8_dec_init(&s->dec);
	s->cap = lr_utf8_dec_bound(t->max_piece);
	if (!(s->buf = malloc(s->cap)))
		return lr_errf(err, LR_ENOMEM, "out of memory for a token stream");
	return 0;
}

void lr_tok_stream_release(struct lr_tok_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

int lr_tok_stream_push(struct lr_tok_stream *s, int32_t id, const char **text, size_t *len,
                       struct lr_err *err)
{
	const struct lr_tok *t = s->tok;

	*text = s->buf;
	*len = 0;
	if (id < 0 || (uint32_t)id >= t->n_vocab)
		return lr_errf(err, LR_EINVAL, "token id %" PRId32 " is out of range (the vocabulary "
			"has %" PRIu32 " tokens)", id, t->n_vocab);
	if (skipped(t, id, s->flags))
		return 0;
	*len = lr_utf8_dec_push(&s->dec, t->pieces + t->off[id], t->off[id + 1] - t->off[id], s->buf);
	return 0;
}

void lr_tok_stream_flush(struct lr_tok_stream *s, const char **text, size_t *len)
{
	*text = s->buf;
	*len = lr_utf8_dec_flush(&s->dec, s->buf);
}
