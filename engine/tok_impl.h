/* engine/tok_impl.h — private to engine/tok*.c: the tokenizer's tables and the
 * helpers its two halves (tok.c builds and decodes, tok_encode.c encodes) share. */
#ifndef LR_TOK_IMPL_H
#define LR_TOK_IMPL_H

#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine/tok.h"

/* One entry of the piece -> id table (open addressing, linear probing). */
struct tok_word_slot {
	uint32_t h;                  /* low 32 bits of the piece's hash */
	int32_t id;                  /* -1: empty */
};

/* One entry of the (left id, right id) -> merge table. */
struct tok_merge_slot {
	uint64_t key;                /* (uint64_t)left << 32 | right; TOK_NO_KEY: empty */
	uint32_t rank;               /* index in tokenizer.ggml.merges: lower merges first */
	int32_t result;              /* the token left+right makes */
};
#define TOK_NO_KEY UINT64_MAX

/* A node of the trie of special-token texts (for LR_TOK_SPECIAL). */
struct tok_trie_node {
	int32_t child;               /* first child, -1 if none */
	int32_t sibling;             /* next child of the same parent, -1 if none */
	int32_t prio;                /* index in special[] of the token ending here, or -1 */
	unsigned char byte;          /* the byte leading here from the parent */
};

struct lr_tok {
	uint32_t n_vocab;
	uint8_t *type;               /* [n_vocab] enum lr_tok_type */
	uint32_t *off;               /* [n_vocab + 1]: piece i is pieces[off[i] .. off[i+1]) */
	char *pieces;                /* every piece, concatenated */
	uint32_t max_piece;          /* longest piece, bytes */

	/* BPE: pieces of normal tokens -> id, byte -> its token, merges by pair */
	struct tok_word_slot *words; /* [words_mask + 1] */
	uint32_t words_mask;
	int32_t byte_id[256];
	struct tok_merge_slot *merges; /* [merges_mask + 1] */
	uint32_t merges_mask;
	uint32_t n_merges;

	/* special tokens: control, user-defined and unknown tokens with a non-empty,
	 * valid UTF-8 text, longest first (ties: lower id first) = matching priority */
	int32_t *special;            /* [n_special] ids */
	uint32_t n_special;
	struct tok_trie_node *trie;  /* [n_trie], node 0 is the root */
	uint32_t n_trie;
	uint8_t special_first[256];  /* 1 if some special text starts with this byte */

	int32_t bos, eos, eot;       /* -1 if none */
	int has_user;                /* some special token is user-defined (always matched) */
	int add_bos;                 /* tokenizer.ggml.add_bos_token (default 1) */

	enum lr_tok_pre pre;

	/* the pre-tokenizer: compiled once, shared read-only by all threads */
	pcre2_code *re;
	int jit;                     /* JIT compiled: use pcre2_jit_match */
};

/* Compile the pre-tokenizer regex of tok->pre into tok->re (tok_encode.c). */
int lr_tok_regex_compile(struct lr_tok *tok, struct lr_err *err);

/* A fast hash of a short byte string (in-memory only: the value is not stable across
 * byte orders). */
static inline uint64_t tok_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
	uint64_t v;

	while (n >= 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	v = 0;
	memcpy(&v, s, n);
	h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
	h ^= h >> 29;
	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 32);
}

static inline uint32_t tok_pair_slot(uint64_t key, uint32_t mask)
{
	key *= 0x9E3779B97F4A7C15ull;
	return (uint32_t)(key >> 32) & mask;
}

/* The normal token whose piece is s[0..n), or -1.  h = tok_hash(s, n). */
static inline int32_t tok_word_find(const struct lr_tok *t, const char *s, size_t n, uint64_t h)
{
	uint32_t i = (uint32_t)h & t->words_mask;
	uint32_t h32 = (uint32_t)h;

	for (;; i = (i + 1) & t->words_mask) {
		const struct tok_word_slot *w = &t->words[i];
		if (w->id < 0)
			return -1;
		if (w->h == h32) {
			uint32_t a = t->off[w->id], b = t->off[w->id + 1];
			if (b - a == n && memcmp(t->pieces + a, s, n) == 0)
				return w->id;
		}
	}
}

/* The merge of tokens a and b, or NULL. */
static inline const struct tok_merge_slot *tok_merge_find(const struct lr_tok *t, int32_t a,
                                                          int32_t b)
{
	uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
	uint32_t i = tok_pair_slot(key, t->merges_mask);

	for (;; i = (i + 1) & t->merges_mask) {
		const struct tok_merge_slot *m = &t->merges[i];
		if (m->key == key)
			return m;
		if (m->key == TOK_NO_KEY)
			return NULL;
	}
}

#endif
