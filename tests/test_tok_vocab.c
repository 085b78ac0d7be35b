/* tests/test_tok_vocab.c — tokenizers from other vocabularies: small hand-made ones with
 * hand-worked merges, a vocabulary with no merges, the golden nano models' 512-token
 * vocabulary checked against a naive BPE written here, and malformed tokenizer metadata
 * (one test per defect: each must be a clean error naming the problem). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gguf.h"
#include "engine/tok.h"
#include "tests/gguf_build.h"
#include "tests/tap.h"

/* ------------------------------------------------------------------ building vocabularies */

/* What to put in (or leave out of, or break in) a test vocabulary. */
struct spec {
	const char *model;          /* tokenizer.ggml.model, NULL: absent */
	const char *pre;            /* tokenizer.ggml.pre, NULL: absent */
	int no_tokens, no_merges, no_types, zero_merges;
	int types_short;            /* token_type one entry short */
	int bad_type;               /* token_type[300] = 9 */
	int byte_a_control;         /* the token for 'A' made a control token */
	const char *extra_token;    /* replaces token 262's text */
	const char *extra_merge;    /* appended to the merges */
	int64_t bos;                /* bos_token_id, -1: absent */
	int bos_negative;           /* bos_token_id = -2 (as int32) */
	int merges_as_ints;         /* tokenizer.ggml.merges as an array of int32 */
};

/* Ids: 0..255 the bytes in order, 256 "ab", 257 "abc", 258 " a", 259 "aa",
 * 260 <|eot_id|>, 261 <|begin_of_text|> (control), 262 "xy" (normal, no merge makes
 * it), 263..299 fillers (unused), 300 "zz".  Merges: "a b", "ab c", "Ġ a", "a a". */
#define N_TOKENS 301
static struct lr_gguf *build(const struct spec *sp, struct gbuf *img)
{
	static const char *const merges[] = { "a b", "ab c", "\xC4\xA0 a", "a a", NULL };
	const char *tokens[N_TOKENS];
	char bytes[256][3], filler[N_TOKENS][16];
	int32_t types[N_TOKENS];
	const char *mlist[8];
	uint64_t n_merges = 0;
	struct lr_gguf *g = NULL;
	struct gw w;

	for (int i = 0; i < 256; i++) {
		gb_byte_token((unsigned char)i, bytes[i]);
		tokens[i] = bytes[i];
		types[i] = 1;
	}
	tokens[256] = "ab"; tokens[257] = "abc"; tokens[258] = "\xC4\xA0" "a"; tokens[259] = "aa";
	tokens[260] = "<|eot_id|>"; tokens[261] = "<|begin_of_text|>";
	tokens[262] = sp->extra_token ? sp->extra_token : "xy";
	for (int i = 256; i < N_TOKENS; i++)
		types[i] = 1;
	types[260] = types[261] = 3;
	for (int i = 263; i < 300; i++) {
		snprintf(filler[i], sizeof filler[i], "<unused%d>", i);
		tokens[i] = filler[i];
		types[i] = 5;
	}
	tokens[300] = "zz";
	if (sp->bad_type)
		types[300] = 9;
	if (sp->byte_a_control)
		types['A'] = 3;
	if (!sp->zero_merges)
		for (; merges[n_merges]; n_merges++)
			mlist[n_merges] = merges[n_merges];
	if (sp->extra_merge)
		mlist[n_merges++] = sp->extra_merge;

	gw_init(&w);
	gw_kv_str(&w, "general.architecture", "llama");
	if (sp->model)
		gw_kv_str(&w, "tokenizer.ggml.model", sp->model);
	if (sp->pre)
		gw_kv_str(&w, "tokenizer.ggml.pre", sp->pre);
	if (!sp->no_tokens)
		gw_kv_arr_str(&w, "tokenizer.ggml.tokens", tokens, N_TOKENS);
	if (!sp->no_types)
		gw_kv_arr_i32(&w, "tokenizer.ggml.token_type", types, N_TOKENS - (sp->types_short ? 1 : 0));
	if (sp->merges_as_ints) {
		int32_t m[2] = { 1, 2 };
		gw_kv_arr_i32(&w, "tokenizer.ggml.merges", m, 2);
	} else if (!sp->no_merges) {
		gw_kv_arr_str(&w, "tokenizer.ggml.merges", mlist, n_merges);
	}
	if (sp->bos >= 0 || sp->bos_negative)
		gw_kv_i32(&w, "tokenizer.ggml.bos_token_id", sp->bos_negative ? -2 : (int32_t)sp->bos);
	gw_kv_u32(&w, "tokenizer.ggml.eos_token_id", 260);
	memset(img, 0, sizeof *img);
	gw_image(&w, img, NULL, NULL);
	gw_free(&w);
	if (lr_gguf_parse(&g, img->p, img->n, NULL))
		return NULL;
	return g;
}

#define GOOD { .model = "gpt2", .pre = "llama-bpe", .bos = 261 }

static struct lr_tok *make(const struct spec *sp, struct lr_err *err, int *rc)
{
	struct gbuf img;
	struct lr_gguf *g = build(sp, &img);
	struct lr_tok *tok = NULL;

	*rc = g ? lr_tok_new(&tok, g, err) : -999;
	lr_gguf_close(g);
	gb_free(&img);
	return tok;
}

static int ids_are(struct lr_tok *tok, const char *text, unsigned flags, const int32_t *want, size_t n)
{
	struct lr_tok_ids ids = { 0 };
	int ok = lr_tok_encode(tok, text, strlen(text), flags, &ids, NULL) == 0 && ids.n == n
	         && memcmp(ids.v, want, n * sizeof *want) == 0;

	if (!ok) {
		tap_diag("  '%s': got %zu ids:", text, ids.n);
		for (size_t i = 0; i < ids.n && i < 16; i++)
			tap_diag("    %" PRId32, ids.v[i]);
	}
	lr_tok_ids_release(&ids);
	return ok;
}

/* ------------------------------------------------------------------ hand-made vocabularies */

static void small_vocab(void)
{
	struct spec sp = GOOD;
	struct lr_err err = { 0 };
	int rc;
	struct lr_tok *tok = make(&sp, &err, &rc);

	if (!tap_ok(tok != NULL, "small vocabulary builds (%s)", err.msg))
		return;
	/* "abc" is a token: whole word.  " abc": a+b (rank 0) beats Ġ+a (rank 2), then
	 * ab+c (rank 1): [Ġ, abc].  " ab": [Ġ, ab]. */
	tap_ok(ids_are(tok, "abc abc ab", 0, (const int32_t[]){ 257, 32, 257, 32, 256 }, 5),
	       "merges by rank: 'abc abc ab'");
	/* equal ranks: leftmost first */
	tap_ok(ids_are(tok, "aaa", 0, (const int32_t[]){ 259, 'a' }, 2), "equal ranks merge leftmost first: 'aaa'");
	tap_ok(ids_are(tok, "aaaa", 0, (const int32_t[]){ 259, 259 }, 2), "'aaaa' is two 'aa'");
	tap_ok(ids_are(tok, " a", 0, (const int32_t[]){ 258 }, 1), "' a' is a whole token");
	/* "xy" is a token no merge makes: the Llama 3 pre-tokenizer looks words up whole */
	tap_ok(ids_are(tok, "xy", 0, (const int32_t[]){ 262 }, 1), "a word that is a token is used whole");
	tap_ok(ids_are(tok, "xyx", 0, (const int32_t[]){ 'x', 'y', 'x' }, 3), "otherwise bytes, if nothing merges");
	tap_ok(ids_are(tok, "<|eot_id|>", 0, (const int32_t[]){ '<', '|', 'e', 'o', 't', '_', 'i', 'd', '|', '>' }, 10),
	       "plain: <|eot_id|> is bytes");
	tap_ok(ids_are(tok, "<|eot_id|>", LR_TOK_SPECIAL, (const int32_t[]){ 260 }, 1), "special: <|eot_id|> is 260");
	{
		struct lr_tok_ids ids = { 0 };
		lr_tok_encode(tok, "<unused270>", 11, LR_TOK_SPECIAL, &ids, NULL);
		tap_ok(ids.n == 11 && ids.v[0] == '<', "unused tokens are never matched as special text");
		lr_tok_ids_release(&ids);
	}
	tap_is_int(lr_tok_bos(tok), 261, "bos 261");
	tap_is_int(lr_tok_eos(tok), 260, "eos 260");
	tap_is_int(lr_tok_eot(tok), 260, "eot found by name");
	{
		size_t n;
		const char *p = lr_tok_piece(tok, 258, &n);
		tap_ok(n == 2 && memcmp(p, " a", 2) == 0, "piece of 'Ġa' is ' a'");
		p = lr_tok_piece(tok, 10, &n);
		tap_ok(n == 1 && p[0] == '\n', "piece of 'Ċ' is a newline");
		tap_ok(lr_tok_piece(tok, N_TOKENS, &n) == NULL && n == 0, "piece of an id out of range is NULL");
	}
	{
		char *out = NULL;
		size_t n;
		int32_t ids[] = { 261, 'h', 'i', 260 };
		lr_tok_decode(tok, ids, 4, 0, &out, &n, NULL);
		tap_is_str(out, "<|begin_of_text|>hi<|eot_id|>", "decode shows control tokens");
		free(out);
		lr_tok_decode(tok, ids, 4, LR_TOK_SKIP_SPECIAL, &out, &n, NULL);
		tap_is_str(out, "hi", "decode with LR_TOK_SKIP_SPECIAL hides them");
		free(out);
		ids[0] = 99999;
		tap_is_int(lr_tok_decode(tok, ids, 4, 0, &out, &n, &err), LR_EINVAL, "decode: id out of range");
	}
	lr_tok_free(tok);
}

static void zero_merges(void)
{
	struct spec sp = GOOD;
	struct lr_err err = { 0 };
	int rc;
	struct lr_tok *tok;

	sp.zero_merges = 1;
	tok = make(&sp, &err, &rc);
	if (!tap_ok(tok != NULL, "a vocabulary with zero merges builds (%s)", err.msg))
		return;
	tap_ok(ids_are(tok, "hello abc", 0, (const int32_t[]){ 'h', 'e', 'l', 'l', 'o', 32, 'a', 'b', 'c' }, 9),
	       "zero merges: bytes, except whole-word tokens");
	tap_ok(ids_are(tok, "abc", 0, (const int32_t[]){ 257 }, 1), "zero merges: a whole word that is a token");
	lr_tok_free(tok);
}

/* ------------------------------------------------------------------ malformed metadata */

static void bad(const char *what, struct spec sp, int want_rc, const char *want_msg)
{
	struct lr_err err = { 0 };
	int rc;
	struct lr_tok *tok = make(&sp, &err, &rc);

	tap_ok(tok == NULL && rc == want_rc && strstr(err.msg, want_msg) != NULL,
	       "%s: %s (%s)", what, lr_strerror(want_rc), err.msg);
	if (rc != want_rc)
		tap_diag("  rc %d, want %d", rc, want_rc);
	lr_tok_free(tok);
}

static void malformed(void)
{
	struct spec sp;

	sp = (struct spec)GOOD; sp.model = NULL;
	bad("no tokenizer at all", sp, LR_ENOTFOUND, "no tokenizer");
	sp = (struct spec)GOOD; sp.model = "llama";
	bad("SentencePiece model", sp, LR_EUNSUPPORTED, "tokenizer model 'llama' is not supported");
	sp = (struct spec)GOOD; sp.pre = "deepseek-llm";
	bad("another pre-tokenizer", sp, LR_EUNSUPPORTED, "pre-tokenizer 'deepseek-llm' is not supported");
	sp = (struct spec)GOOD; sp.pre = NULL;
	bad("no pre-tokenizer key", sp, LR_EUNSUPPORTED, "tokenizer.ggml.pre is missing");
	sp = (struct spec)GOOD; sp.no_tokens = 1;
	bad("no tokens", sp, LR_EFORMAT, "tokenizer.ggml.tokens is missing");
	sp = (struct spec)GOOD; sp.no_merges = 1;
	bad("missing merges key", sp, LR_EFORMAT, "tokenizer.ggml.merges is missing");
	sp = (struct spec)GOOD; sp.merges_as_ints = 1;
	bad("merges not strings", sp, LR_EFORMAT, "tokenizer.ggml.merges");
	sp = (struct spec)GOOD; sp.extra_merge = "a q\xC4\xA0";
	bad("merge referring to an unknown token", sp, LR_EFORMAT, "refers to 'q\xC4\xA0', which is not a token");
	sp = (struct spec)GOOD; sp.extra_merge = "z y";
	bad("merge making a string that is not a token", sp, LR_EFORMAT, "makes a string that is not a token");
	sp = (struct spec)GOOD; sp.extra_merge = "abc";
	bad("merge without a space", sp, LR_EFORMAT, "is not two tokens separated by a space");
	sp = (struct spec)GOOD; sp.extra_merge = "a \xE2\x82\xAC";
	bad("merge not in byte-level spelling", sp, LR_EFORMAT, "is not in byte-level (GPT-2) spelling");
	sp = (struct spec)GOOD; sp.types_short = 1;
	bad("token_type length mismatch", sp, LR_EFORMAT, "token_type has 300 entries for 301 tokens");
	sp = (struct spec)GOOD; sp.bad_type = 1;
	bad("token_type value out of range", sp, LR_EFORMAT, "token_type[300] = 9");
	sp = (struct spec)GOOD; sp.bos = 301;
	bad("bos id out of range", sp, LR_EFORMAT, "bos_token_id = 301 is out of range");
	sp = (struct spec)GOOD; sp.bos_negative = 1;
	bad("bos id negative", sp, LR_EFORMAT, "bos_token_id = -2 is out of range");
	sp = (struct spec)GOOD; sp.byte_a_control = 1;
	bad("a byte without a normal token", sp, LR_EFORMAT, "no token for byte 0x41");
	sp = (struct spec)GOOD; sp.extra_token = "\xE2\x82\xAC\n";
	bad("a normal token not in byte-level spelling", sp, LR_EFORMAT, "token 262 '\xE2\x82\xAC\\x0A' is not in byte-level");

	/* and the accepted aliases of the Llama 3 pre-tokenizer */
	{
		static const char *const ok_pre[] = { "llama3", "llama-v3" };
		for (size_t i = 0; i < 2; i++) {
			struct lr_err err = { 0 };
			int rc;
			struct lr_tok *tok;
			sp = (struct spec)GOOD;
			sp.pre = ok_pre[i];
			tok = make(&sp, &err, &rc);
			tap_ok(tok != NULL, "pre-tokenizer alias '%s' accepted", ok_pre[i]);
			lr_tok_free(tok);
		}
	}
	/* no token_type: every token normal, so <|eot_id|> is not special */
	{
		struct lr_err err = { 0 };
		int rc;
		struct lr_tok *tok;
		sp = (struct spec)GOOD;
		sp.no_types = 1;
		tok = make(&sp, &err, &rc);
		tap_ok(tok != NULL && lr_tok_find_special(tok, "<|eot_id|>") == -1,
		       "without token_type every token is normal");
		lr_tok_free(tok);
	}
}

/* ------------------------------------------------------------------ nano vs a naive BPE */

/* The obvious quadratic algorithm over strings in byte-level spelling, written from
 * the definition: the whole word if it is a token; else start from single bytes and
 * repeatedly merge the adjacent pair whose "left right" comes first in the merge list
 * (leftmost among equals) until no pair is in the list. */
struct naive {
	uint64_t n_tok, n_merge;
	char **tok;                  /* [n_tok] spelled token text */
	int32_t *type;
	char **merge;                /* [n_merge] "left right" */
};

static int32_t naive_find(const struct naive *v, const char *s)
{
	for (uint64_t i = 0; i < v->n_tok; i++)
		if ((v->type[i] == 1) && strcmp(v->tok[i], s) == 0)
			return (int32_t)i;
	return -1;
}

static size_t naive_bpe(const struct naive *v, const unsigned char *w, size_t n, int32_t *out)
{
	char parts[64][600], whole[512] = "", pair[520];
	size_t np = n;

	for (size_t i = 0; i < n; i++) {
		gb_byte_token(w[i], parts[i]);
		strcat(whole, parts[i]);
	}
	if ((out[0] = naive_find(v, whole)) >= 0)
		return 1;
	for (;;) {
		uint64_t best = UINT64_MAX;
		size_t at = 0;
		for (size_t i = 0; i + 1 < np; i++) {
			snprintf(pair, sizeof pair, "%s %s", parts[i], parts[i + 1]);
			for (uint64_t r = 0; r < v->n_merge && r < best; r++)
				if (strcmp(v->merge[r], pair) == 0) {
					best = r;
					at = i;
				}
		}
		if (best == UINT64_MAX)
			break;
		snprintf(pair, sizeof pair, "%s%s", parts[at], parts[at + 1]);
		snprintf(parts[at], sizeof parts[at], "%s", pair);
		memmove(parts[at + 1], parts[at + 2], (np - at - 2) * sizeof parts[0]);
		np--;
	}
	for (size_t i = 0; i < np; i++)
		out[i] = naive_find(v, parts[i]);
	return np;
}

static void nano_vs_naive(void)
{
	char path[2048];
	struct lr_gguf *g = NULL;
	struct lr_tok *tok = NULL;
	struct lr_err err = { 0 };
	const struct lr_gguf_kv *kt, *km, *ky;
	struct naive v = { 0 };
	uint64_t seed = 12345;
	int ok = 1, tested = 0;

	if (!tap_golden("models/nano-F32.gguf"))
		return;
	snprintf(path, sizeof path, "%s/golden/models/nano-F32.gguf", tap_shared());
	if (!tap_ok(lr_gguf_open(&g, path, &err) == 0 && lr_tok_new(&tok, g, &err) == 0,
	            "nano vocabulary builds (%s)", err.msg))
		goto out;
	tap_is_int(lr_tok_n_vocab(tok), 512, "nano: 512 tokens");
	tap_is_int(lr_tok_bos(tok), 506, "nano: bos 506");
	tap_is_int(lr_tok_eot(tok), 510, "nano: eot 510 by name");
	if (lr_gguf_get_arr(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, &kt, NULL)
	    || lr_gguf_get_arr(g, "tokenizer.ggml.merges", LR_GGUF_STRING, &km, NULL)
	    || !(ky = lr_gguf_find(g, "tokenizer.ggml.token_type")))
		goto out;
	tap_is_int((int64_t)km->arr_n, 250, "nano: 250 merges");
	v.n_tok = kt->arr_n;
	v.n_merge = km->arr_n;
	v.tok = calloc(v.n_tok, sizeof *v.tok);
	v.type = calloc(v.n_tok, sizeof *v.type);
	v.merge = calloc(v.n_merge, sizeof *v.merge);
	for (uint64_t i = 0; i < v.n_tok; i++) {
		uint64_t n;
		const char *s = lr_gguf_arr_str(g, kt, i, &n);
		v.tok[i] = strndup(s, n);
		v.type[i] = (int32_t)lr_gguf_arr_int(ky, i);
	}
	for (uint64_t i = 0; i < v.n_merge; i++) {
		uint64_t n;
		const char *s = lr_gguf_arr_str(g, km, i, &n);
		v.merge[i] = strndup(s, n);
	}
	/* Words that are single pre-tokens: an optional space and 1..30 letters drawn
	 * from the letters of English's commonest merges, or a run of spaces. */
	for (int it = 0; it < 2000; it++) {
		static const char letters[] = "etaoinshrdlucmfwypvbgk";
		unsigned char w[40];
		int32_t want[64];
		struct lr_tok_ids got = { 0 };
		size_t n = 0, nw;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if ((seed >> 60) == 0) {
			n = 1 + (seed >> 20) % 30;
			memset(w, ' ', n);
		} else {
			if ((seed >> 59) & 1)
				w[n++] = ' ';
			size_t len = 1 + (seed >> 33) % 30;
			for (size_t k = 0; k < len; k++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				w[n++] = (unsigned char)letters[(seed >> 40) % (sizeof letters - 1)];
			}
		}
		nw = naive_bpe(&v, w, n, want);
		if (lr_tok_encode(tok, (const char *)w, n, 0, &got, NULL) || got.n != nw
		    || memcmp(got.v, want, nw * sizeof *want) != 0) {
			if (ok)
				tap_diag("  first mismatch: '%.*s'", (int)n, (const char *)w);
			ok = 0;
		}
		tested++;
		lr_tok_ids_release(&got);
	}
	tap_ok(ok, "nano: %d random words give the naive BPE's ids", tested);
out:
	for (uint64_t i = 0; v.tok && i < v.n_tok; i++)
		free(v.tok[i]);
	for (uint64_t i = 0; v.merge && i < v.n_merge; i++)
		free(v.merge[i]);
	free(v.tok);
	free(v.type);
	free(v.merge);
	lr_tok_free(tok);
	lr_gguf_close(g);
}

int main(void)
{
	small_vocab();
	zero_merges();
	malformed();
	nano_vs_naive();
	return tap_done();
}
