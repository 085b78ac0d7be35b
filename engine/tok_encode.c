/* engine/tok_encode.c — text to token ids: UTF-8 repair, special-token matching (only
 * when asked), the Llama 3 pre-tokenizer regex, and byte-level BPE merging.
 * Workload: whole documents, hundreds of KB to MB at a time, ~4 bytes per word; most
 * words are one token found by a single hash lookup, repeated multi-token words come
 * from a per-call cache, and the rest are merged with a heap (O(n log n) per word). */
#include "engine/tok_impl.h"

#include <stdlib.h>
#include <string.h>

#include "engine/utf8.h"

/* ------------------------------------------------------------------ the regex */

/* The Llama 3 pre-tokenizer, from the "pre_tokenizer" Split pattern of Meta's
 * tokenizer.json (meta-llama/Meta-Llama-3-8B and every Llama 3.x release since):
 *
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *
 * (one line; the fourth alternative starts with a space).  Two spellings are changed
 * so that PCRE2 means what the reference (llama.cpp) means, alternative by alternative:
 *  - (?i:'s|...) becomes ASCII-only classes ('[sS]|'[tT]|'[rR][eE]...): PCRE2's
 *    caseless UTF matching would also take U+017F (long s) for 's'; llama.cpp lowercases
 *    with Unicode tables, under which only 'S' lowers to 's'.
 *  - \s becomes the Unicode White_Space set, written out (WS below): PCRE2's \s under
 *    UCP is \p{Z} plus \h and \v, which adds U+180E and misses nothing else; llama.cpp
 *    uses exactly White_Space.  U+0085 (NEL) is in it — the golden case nel_u0085 —
 *    while JavaScript's \s lacks it and has U+FEFF instead (docs/tokenizer.md).
 * \p{L} and \p{N} are PCRE2's own (Unicode 14 in PCRE2 10.42; llama.cpp's tables are
 * newer, so letters added to Unicode since may split differently).
 * The pattern is compiled anchored: every character starts some alternative, so each
 * match begins where the previous one ended. */
#define WS "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}" \
           "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char llama3_regex[] =
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
	"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
	"|\\p{N}{1,3}"
	"| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
	"|[" WS "]*[\\r\\n]+"
	"|[" WS "]+(?![^" WS "])"
	"|[" WS "]+";

/* Qwen2's (tokenizer.ggml.pre = "qwen2", from Qwen2.5's tokenizer.json), spelled the same
 * way: Llama 3's but for \p{N} taking one digit at a time. */
static const char qwen2_regex[] =
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
	"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
	"|\\p{N}"
	"| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
	"|[" WS "]*[\\r\\n]+"
	"|[" WS "]+(?![^" WS "])"
	"|[" WS "]+";

int lr_tok_regex_compile(struct lr_tok *t, struct lr_err *err)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE at;
	int code;

	t->re = pcre2_compile((PCRE2_SPTR)(t->pre == LR_TOK_PRE_QWEN2 ? qwen2_regex : llama3_regex),
	                      PCRE2_ZERO_TERMINATED,
	                      PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK,
	                      &code, &at, NULL);
	if (!t->re) {
		pcre2_get_error_message(code, msg, sizeof msg);
		return lr_errf(err, LR_EUNSUPPORTED, "the pre-tokenizer regex does not compile with "
			"this PCRE2 (at offset %zu: %s)", (size_t)at, (char *)msg);
	}
	/* without JIT support (some platforms) the interpreter gives the same matches */
	t->jit = pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

/* ------------------------------------------------------------------ per-call state */

struct sym {
	int32_t id;              /* current token; -1 once merged into its left neighbour */
	int32_t prev, next;      /* neighbours in the word, -1 at the ends */
};

/* A possible merge of sym[left] and its right neighbour.  It is stale once either has
 * merged with something else: left's id changes whenever its neighbour changes, and
 * the neighbour's id changes when it merges to its right. */
struct cand {
	uint32_t rank;
	int32_t left;
	int32_t lid, rid;        /* the ids of the pair when queued */
};

struct cache_ent {           /* a word that needed merging, and its ids */
	uint64_t h;
	uint32_t key_off, key_len;
	uint32_t ids_off, ids_n;
};

#define CACHE_MAX_WORD 64    /* longer words are rare and not worth keeping */
#define CACHE_MAX_ENTS (1u << 16)

struct enc {
	const struct lr_tok *tok;
	struct lr_tok_ids *out;  /* NULL: only count */
	size_t count;
	struct lr_err *err;

	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;

	struct sym *sym;         /* [sym_cap] the word being merged */
	int32_t *wids;           /* [sym_cap] its ids once merged */
	size_t sym_cap;
	struct cand *heap;
	size_t heap_cap, heap_n;

	struct cache_ent *cache; /* [cache_mask + 1], ids_n == 0: empty */
	uint32_t cache_mask, cache_n;
	char *keys;
	size_t keys_n, keys_cap;
	int32_t *cids;
	size_t cids_n, cids_cap;
};

/* Make room for need elements of elem bytes in the array whose pointer is at pp
 * (capacity *cap), doubling.  The pointer is read and written with memcpy, so any
 * object pointer type can be passed without aliasing tricks. */
static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 64;
	void *p, *q;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			return LR_ENOMEM;
		c *= 2;
	}
	memcpy(&p, pp, sizeof p);
	if (!(q = realloc(p, c * elem)))
		return LR_ENOMEM;
	memcpy(pp, &q, sizeof q);
	*cap = c;
	return 0;
}

static inline int emit(struct enc *e, int32_t id)
{
	struct lr_tok_ids *o = e->out;

	if (o) {
		if (o->n == o->cap && grow(&o->v, &o->cap, o->n + 1, sizeof *o->v))
			return LR_ENOMEM;
		o->v[o->n++] = id;
	}
	e->count++;
	return 0;
}

static void enc_release(struct enc *e)
{
	free(e->cids);
	free(e->keys);
	free(e->cache);
	free(e->heap);
	free(e->wids);
	free(e->sym);
	pcre2_jit_stack_free(e->jstack);
	pcre2_match_context_free(e->mctx);
	pcre2_match_data_free(e->md);
}

/* ------------------------------------------------------------------ word cache */

static const struct cache_ent *cache_find(const struct enc *e, const char *w, size_t n, uint64_t h)
{
	uint32_t i;

	if (!e->cache)
		return NULL;
	for (i = (uint32_t)h & e->cache_mask;; i = (i + 1) & e->cache_mask) {
		const struct cache_ent *c = &e->cache[i];
		if (c->ids_n == 0)
			return NULL;
		if (c->h == h && c->key_len == n && memcmp(e->keys + c->key_off, w, n) == 0)
			return c;
	}
}

static int cache_rehash(struct enc *e, uint32_t size)
{
	struct cache_ent *old = e->cache, *t;
	uint32_t old_size = old ? e->cache_mask + 1 : 0;

	if (!(t = calloc(size, sizeof *t)))
		return LR_ENOMEM;
	for (uint32_t k = 0; k < old_size; k++) {
		uint32_t i;
		if (old[k].ids_n == 0)
			continue;
		for (i = (uint32_t)old[k].h & (size - 1); t[i].ids_n; i = (i + 1) & (size - 1))
			;
		t[i] = old[k];
	}
	free(old);
	e->cache = t;
	e->cache_mask = size - 1;
	return 0;
}

/* Remember word w -> ids.  Failing to remember is not an error: the cache is only
 * a shortcut, so a full cache or a failed allocation just stops it growing. */
static void cache_add(struct enc *e, const char *w, size_t n, uint64_t h, const int32_t *ids,
                      size_t n_ids)
{
	uint32_t size = e->cache ? e->cache_mask + 1 : 0, i;

	if (n > CACHE_MAX_WORD || e->cache_n >= CACHE_MAX_ENTS)
		return;
	if (2 * (e->cache_n + 1) > size && cache_rehash(e, size ? 2 * size : 1024))
		return;
	if (grow(&e->keys, &e->keys_cap, e->keys_n + n, 1)
	    || grow(&e->cids, &e->cids_cap, e->cids_n + n_ids, sizeof *e->cids))
		return;
	for (i = (uint32_t)h & e->cache_mask; e->cache[i].ids_n; i = (i + 1) & e->cache_mask)
		;
	memcpy(e->keys + e->keys_n, w, n);
	memcpy(e->cids + e->cids_n, ids, n_ids * sizeof *ids);
	e->cache[i] = (struct cache_ent){ h, (uint32_t)e->keys_n, (uint32_t)n, (uint32_t)e->cids_n,
	                                  (uint32_t)n_ids };
	e->keys_n += n;
	e->cids_n += n_ids;
	e->cache_n++;
}

/* ------------------------------------------------------------------ BPE */

static inline int cand_less(const struct cand *a, const struct cand *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static int heap_push(struct enc *e, struct cand c)
{
	size_t i;

	if (e->heap_n == e->heap_cap && grow(&e->heap, &e->heap_cap, e->heap_n + 1, sizeof *e->heap))
		return LR_ENOMEM;
	i = e->heap_n++;

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!cand_less(&c, &e->heap[p]))
			break;
		e->heap[i] = e->heap[p];
		i = p;
	}
	e->heap[i] = c;
	return 0;
}

static struct cand heap_pop(struct enc *e)
{
	struct cand top = e->heap[0], last = e->heap[--e->heap_n];
	size_t i = 0, n = e->heap_n;

	for (;;) {
		size_t l = 2 * i + 1, m;
		if (l >= n)
			break;
		m = l + 1 < n && cand_less(&e->heap[l + 1], &e->heap[l]) ? l + 1 : l;
		if (!cand_less(&e->heap[m], &last))
			break;
		e->heap[i] = e->heap[m];
		i = m;
	}
	if (n)
		e->heap[i] = last;
	return top;
}

static int try_pair(struct enc *e, int32_t l, int32_t r)
{
	const struct tok_merge_slot *m;

	if (l < 0 || r < 0)
		return 0;
	m = tok_merge_find(e->tok, e->sym[l].id, e->sym[r].id);
	return m ? heap_push(e, (struct cand){ m->rank, l, e->sym[l].id, e->sym[r].id }) : 0;
}

/* Merge the bytes of w[0..n) (n >= 2) by rank, lowest first and leftmost first among
 * equals, as every byte-level BPE does.  Leaves the result as a list in e->sym from
 * index 0.  Memory: 12 bytes per byte of the word, plus ~16 per queued pair. */
static int bpe(struct enc *e, const unsigned char *w, size_t n)
{
	const struct lr_tok *t = e->tok;

	if (n > INT32_MAX)
		return LR_ENOMEM;
	if (n > e->sym_cap) {
		size_t cap = e->sym_cap;
		if (grow(&e->sym, &cap, n, sizeof *e->sym))
			return LR_ENOMEM;
		free(e->wids);
		if (!(e->wids = malloc(cap * sizeof *e->wids)))
			return LR_ENOMEM;
		e->sym_cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		e->sym[i] = (struct sym){ t->byte_id[w[i]], (int32_t)i - 1, (int32_t)i + 1 };
	e->sym[n - 1].next = -1;
	e->heap_n = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (try_pair(e, (int32_t)i, (int32_t)i + 1))
			return LR_ENOMEM;
	while (e->heap_n) {
		struct cand c = heap_pop(e);
		struct sym *l = &e->sym[c.left], *r;

		if (l->id != c.lid || l->next < 0 || e->sym[l->next].id != c.rid)
			continue;   /* one side has merged since this was queued */
		r = &e->sym[l->next];
		l->id = tok_merge_find(t, c.lid, c.rid)->result;
		l->next = r->next;
		if (r->next >= 0)
			e->sym[r->next].prev = c.left;
		r->id = -1;
		if (try_pair(e, l->prev, c.left) || try_pair(e, c.left, l->next))
			return LR_ENOMEM;
	}
	return 0;
}

/* One pre-tokenized word: whole-word lookup (llama.cpp's ignore_merges, Llama 3 only:
 * Qwen2 merges every word), then the cache, then merging. */
static int word(struct enc *e, const char *w, size_t n)
{
	const struct lr_tok *t = e->tok;
	const struct cache_ent *c;
	uint64_t h = tok_hash(w, n);
	int32_t id = t->pre == LR_TOK_PRE_LLAMA3 || n == 1 ? tok_word_find(t, w, n, h) : -1;
	size_t k;
	int rc;

	if (id >= 0)
		return emit(e, id);
	if ((c = cache_find(e, w, n, h))) {
		for (uint32_t i = 0; i < c->ids_n; i++)
			if ((rc = emit(e, e->cids[c->ids_off + i])))
				return rc;
		return 0;
	}
	if ((rc = bpe(e, (const unsigned char *)w, n)))
		return rc;
	k = 0;
	for (int32_t i = 0; i >= 0; i = e->sym[i].next)
		e->wids[k++] = e->sym[i].id;     /* k <= n <= sym_cap == wids room */
	cache_add(e, w, n, h, e->wids, k);
	for (size_t i = 0; i < k; i++)
		if ((rc = emit(e, e->wids[i])))
			return rc;
	return 0;
}

/* ------------------------------------------------------------------ pre-tokenizer */

static int match(struct enc *e, const char *s, size_t n, size_t at, size_t *end)
{
	const struct lr_tok *t = e->tok;
	PCRE2_UCHAR msg[120];
	int rc;

	for (;;) {
		if (t->jit)
			rc = pcre2_jit_match(t->re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, e->md, e->mctx);
		else
			rc = pcre2_match(t->re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, e->md, e->mctx);
		if (rc != PCRE2_ERROR_JIT_STACKLIMIT || e->jstack)
			break;
		/* a very long run needs more than the default 32 KiB JIT stack */
		if (!(e->jstack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, NULL)))
			return LR_ENOMEM;
		pcre2_jit_stack_assign(e->mctx, NULL, e->jstack);
	}
	if (rc > 0) {
		*end = pcre2_get_ovector_pointer(e->md)[1];
		if (*end > at)
			return 0;
	}
	if (rc > 0 || rc == PCRE2_ERROR_NOMATCH) {
		/* cannot happen (every character starts an alternative, none matches
		 * empty); if it did, take one character alone, as llama.cpp's splitter does */
		*end = at + lr_utf8_len((unsigned char)s[at]);
		if (*end > n)
			*end = n;
		return 0;
	}
	if (rc == PCRE2_ERROR_NOMEMORY)
		return LR_ENOMEM;
	/* A resource limit.  Never split differently instead: a wrong token is worse than
	 * a clear error.  (The limits are lifted in run(); this is not expected.) */
	pcre2_get_error_message(rc, msg, sizeof msg);
	return lr_errf(e->err, LR_ERANGE, "the pre-tokenizer failed at byte %zu of a %zu-byte "
		"piece of text (PCRE2: %s)", at, n, (char *)msg);
}

/* Tokenize s[0..n), valid UTF-8 containing no special-token match. */
static int fragment(struct enc *e, const char *s, size_t n)
{
	size_t at = 0, end = 0;
	int rc;

	while (at < n) {
		if ((rc = match(e, s, n, at, &end)) || (rc = word(e, s + at, end - at)))
			return rc;
		at = end;
	}
	return 0;
}

/* ------------------------------------------------------------------ special tokens */

struct hit {
	size_t start;
	uint32_t len;
	int32_t prio;            /* index in tok->special: lower wins */
};

static int hit_by_prio(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;

	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

static int hit_by_start(const void *pa, const void *pb)
{
	const struct hit *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* Find the special tokens in s[0..n) the way llama.cpp does: for each special token,
 * longest first, take its occurrences left to right in the text that earlier (longer)
 * tokens left free.  user_only: only user-defined tokens (which llama.cpp matches in
 * plain text too: Qwen2.5's <tool_call>).  *hits (malloc'd) receives the chosen ones in
 * text order. */
static int find_specials(const struct lr_tok *t, const char *s, size_t n, int user_only, struct hit **hits,
                         size_t *n_hits)
{
	const unsigned char *p = (const unsigned char *)s;
	struct hit *h = NULL;
	unsigned char *used = NULL;
	size_t nh = 0, cap = 0, kept = 0;
	int rc = LR_ENOMEM;

	*hits = NULL;
	*n_hits = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t node;
		if (!t->special_first[p[i]])
			continue;
		node = 0;
		for (size_t j = i; j < n; j++) {
			int32_t c = t->trie[node].child;
			while (c >= 0 && t->trie[c].byte != p[j])
				c = t->trie[c].sibling;
			if (c < 0)
				break;
			node = c;
			if (t->trie[node].prio >= 0 &&
			    (!user_only || t->type[t->special[t->trie[node].prio]] == LR_TOK_USER_DEFINED)) {
				if (grow(&h, &cap, nh + 1, sizeof *h))
					goto out;
				h[nh++] = (struct hit){ i, (uint32_t)(j + 1 - i), t->trie[node].prio };
			}
		}
	}
	if (nh == 0) {
		rc = 0;
		goto out;
	}
	qsort(h, nh, sizeof *h, hit_by_prio);
	if (!(used = calloc(n, 1)))
		goto out;
	for (size_t k = 0; k < nh; k++) {
		uint32_t j;
		for (j = 0; j < h[k].len && !used[h[k].start + j]; j++)
			;
		if (j < h[k].len)
			continue;
		memset(used + h[k].start, 1, h[k].len);
		h[kept++] = h[k];
	}
	qsort(h, kept, sizeof *h, hit_by_start);
	*hits = h;
	*n_hits = kept;
	h = NULL;
	rc = 0;
out:
	free(used);
	free(h);
	return rc;
}

/* ------------------------------------------------------------------ entry points */

static int run(const struct lr_tok *t, const char *text, size_t len, unsigned flags,
               struct enc *e, struct lr_err *err)
{
	char *fixed = NULL;
	struct hit *hits = NULL;
	size_t n_hits = 0, at = 0;
	int rc;

	if (!text && len)
		return lr_errf(err, LR_EINVAL, "no text to tokenize");
	if (len == 0)
		return 0;
	if (lr_utf8_valid_prefix(text, len) < len) {
		size_t bound = lr_utf8_dec_bound(len);
		if (bound == SIZE_MAX || !(fixed = malloc(bound))) {
			rc = LR_ENOMEM;
			goto out;
		}
		len = lr_utf8_repair(text, len, fixed);
		text = fixed;
	}
	e->md = pcre2_match_data_create(1, NULL);
	e->mctx = pcre2_match_context_create(NULL);
	if (!e->md || !e->mctx) {
		rc = LR_ENOMEM;
		goto out;
	}
	/* The regex is linear, but one match over a whitespace run of n characters
	 * backtracks n times in \s*[\r\n]+: the default limit (10 million) would fail
	 * on a 10 MB run. */
	pcre2_set_match_limit(e->mctx, UINT32_MAX);
	pcre2_set_depth_limit(e->mctx, UINT32_MAX);
	if (((flags & LR_TOK_SPECIAL) ? t->n_special > 0 : t->has_user) &&
	    (rc = find_specials(t, text, len, !(flags & LR_TOK_SPECIAL), &hits, &n_hits)))
		goto out;
	for (size_t k = 0; k < n_hits; k++) {
		if ((rc = fragment(e, text + at, hits[k].start - at))
		    || (rc = emit(e, t->special[hits[k].prio])))
			goto out;
		at = hits[k].start + hits[k].len;
	}
	rc = fragment(e, text + at, len - at);
out:
	free(hits);
	free(fixed);
	if (rc == LR_ENOMEM)
		lr_errf(err, LR_ENOMEM, "out of memory tokenizing %zu bytes", len);
	return rc;
}

int lr_tok_encode(const struct lr_tok *t, const char *text, size_t len, unsigned flags,
                  struct lr_tok_ids *out, struct lr_err *err)
{
	struct enc e = { .tok = t, .out = out, .err = err };
	int rc = run(t, text, len, flags, &e, err);

	enc_release(&e);
	return rc;
}

int lr_tok_count(const struct lr_tok *t, const char *text, size_t len, unsigned flags, size_t *n,
                 struct lr_err *err)
{
	struct enc e = { .tok = t, .out = NULL, .err = err };
	int rc = run(t, text, len, flags, &e, err);

	*n = rc ? 0 : e.count;
	enc_release(&e);
	return rc;
}
