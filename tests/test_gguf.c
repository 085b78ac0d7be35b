/* tests/test_gguf.c — the GGUF reader (engine/gguf.c) and hyper-parameters
 * (engine/hparams.c): every golden file loads with the metadata, tensor types and
 * counts its README and MANIFEST state; every value type round-trips; every malformed
 * file (one hand-made case per defect, every truncation of a valid file) is rejected
 * with the right code and a message, never a crash.
 * With LR_WRITE_CORPUS=DIR set, the malformed cases are also written there as seeds
 * for the fuzz corpus (tests/fuzz/gguf). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/gguf.h"
#include "engine/hparams.h"
#include "engine/kv.h"
#include "engine/types.h"
#include "tests/gguf_build.h"
#include "tests/tap.h"

/* ------------------------------------------------------------------ golden files */

/* The GGUF files stored in golden/models (the manifest must name each: the golden set grows). */
static int count_gguf_files(void)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "%s/golden/models", tap_shared());
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		n += l > 5 && strcmp(e->d_name + l - 5, ".gguf") == 0;
	}
	closedir(d);
	return n;
}

/* MANIFEST.tsv columns used here (0-based): 0 file, 1 kind, 6 tensor_types,
 * 7 n_tensors, 8 n_params, 9 bytes. */
static void test_manifest(void)
{
	char path[1024], *buf, *line, *save = NULL;
	int n_models = 0;

	snprintf(path, sizeof path, "%s/golden/models/MANIFEST.tsv", tap_shared());
	buf = tap_slurp(path, NULL);
	if (!tap_ok(buf != NULL, "golden MANIFEST.tsv is readable at %s", path))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *col[12] = { 0 }, *p = line, types[256] = "";
		struct lr_gguf *g = NULL;
		struct lr_hparams hp;
		struct lr_err err = { 0 };
		uint64_t count[LR_TYPE_COUNT] = { 0 }, params = 0;
		int n = 0;

		while (n < 12 && p) {
			col[n++] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (n < 10 || strcmp(col[1], "model") != 0)
			continue;
		n_models++;
		snprintf(path, sizeof path, "%s/golden/models/%s", tap_shared(), col[0]);
		if (!tap_ok(lr_gguf_open(&g, path, &err) == 0, "%s loads", col[0])) {
			tap_diag("%s", err.msg);
			continue;
		}
		for (uint64_t i = 0; i < g->n_tensors; i++) {
			count[g->tensors[i].type]++;
			params += g->tensors[i].n_elements;
		}
		for (int t = 0; t < LR_TYPE_COUNT; t++) {
			if (!count[t])
				continue;
			size_t l = strlen(types);
			snprintf(types + l, sizeof types - l, "%s%s:%" PRIu64, l ? "," : "",
			         lr_type_name((uint32_t)t), count[t]);
		}
		tap_is_str(types, col[6], "%s: tensor types as in the manifest", col[0]);
		tap_is_int((int64_t)g->n_tensors, strtoll(col[7], NULL, 10), "%s: tensor count", col[0]);
		tap_is_int((int64_t)params, strtoll(col[8], NULL, 10), "%s: parameter count", col[0]);
		tap_is_int((int64_t)g->size, strtoll(col[9], NULL, 10), "%s: file size", col[0]);
		if (tap_ok(lr_hparams_load(&hp, g, &err) == 0, "%s: hyper-parameters load", col[0])) {
			int tied = strstr(col[0], "tied") != NULL;
			tap_ok(hp.n_layer == 2 && hp.n_embd == 256 && hp.n_head == 4 && hp.n_head_kv == 2 &&
			       hp.head_dim == 64 && hp.n_ff == 768 && hp.n_vocab == 512 &&
			       hp.n_ctx_train == 131072 && hp.rope_base == 500000.0f && hp.has_rope_freqs,
			       "%s: nano shape (2 layers, 256 embd, 4/2 heads, 64 head dim, 768 ff, 512 vocab)",
			       col[0]);
			tap_is_int(hp.tied_output, tied, "%s: output %s", col[0], tied ? "tied" : "untied");
		} else {
			tap_diag("%s", err.msg);
		}
		lr_gguf_close(g);
	}
	free(buf);
	tap_is_int(n_models, count_gguf_files(), "the manifest lists every model stored beside it");
}

/* The keys of llama3-vocab.gguf, in file order, with their types (golden README). */
static const struct { const char *key; enum lr_gguf_vtype type; } vocab_keys[] = {
	{ "general.architecture", LR_GGUF_STRING }, { "general.type", LR_GGUF_STRING },
	{ "general.name", LR_GGUF_STRING }, { "llama.block_count", LR_GGUF_U32 },
	{ "llama.context_length", LR_GGUF_U32 }, { "llama.embedding_length", LR_GGUF_U32 },
	{ "llama.feed_forward_length", LR_GGUF_U32 }, { "llama.attention.head_count", LR_GGUF_U32 },
	{ "llama.attention.head_count_kv", LR_GGUF_U32 }, { "llama.rope.freq_base", LR_GGUF_F32 },
	{ "llama.attention.layer_norm_rms_epsilon", LR_GGUF_F32 },
	{ "llama.attention.key_length", LR_GGUF_U32 }, { "llama.attention.value_length", LR_GGUF_U32 },
	{ "general.file_type", LR_GGUF_U32 }, { "llama.vocab_size", LR_GGUF_U32 },
	{ "llama.rope.dimension_count", LR_GGUF_U32 }, { "tokenizer.ggml.model", LR_GGUF_STRING },
	{ "tokenizer.ggml.pre", LR_GGUF_STRING }, { "tokenizer.ggml.tokens", LR_GGUF_ARRAY },
	{ "tokenizer.ggml.token_type", LR_GGUF_ARRAY }, { "tokenizer.ggml.merges", LR_GGUF_ARRAY },
	{ "tokenizer.ggml.bos_token_id", LR_GGUF_U32 }, { "tokenizer.ggml.eos_token_id", LR_GGUF_U32 },
	{ "tokenizer.chat_template", LR_GGUF_STRING }, { "general.quantization_version", LR_GGUF_U32 },
};

static void test_vocab(void)
{
	char path[1024];
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };
	struct lr_hparams hp;
	const struct lr_gguf_kv *tokens, *types, *merges;
	const char *s;
	uint64_t len;
	int keys_ok = 1, types_ok = 1;

	snprintf(path, sizeof path, "%s/golden/tokenizer/llama3-vocab.gguf", tap_shared());
	if (!tap_ok(lr_gguf_open(&g, path, &err) == 0, "llama3-vocab.gguf loads")) {
		tap_diag("%s", err.msg);
		return;
	}
	tap_is_int(g->version, 3, "vocab: GGUF version 3");
	tap_is_int((int64_t)g->n_tensors, 0, "vocab: no tensors");
	tap_is_int((int64_t)g->n_kv, 25, "vocab: 25 metadata pairs");
	for (size_t i = 0; i < 25 && i < g->n_kv; i++)
		if (strcmp(g->kv[i].key, vocab_keys[i].key) || g->kv[i].type != vocab_keys[i].type)
			keys_ok = 0;
	tap_ok(keys_ok, "vocab: keys and types in the README's order");
	tap_ok(lr_gguf_get_arr(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, &tokens, &err) == 0 &&
	       tokens->arr_n == 128256, "vocab: 128256 tokens");
	tap_ok(lr_gguf_get_arr(g, "tokenizer.ggml.merges", LR_GGUF_STRING, &merges, &err) == 0 &&
	       merges->arr_n == 280147, "vocab: 280147 merges");
	if (tap_ok(lr_gguf_get_arr(g, "tokenizer.ggml.token_type", LR_GGUF_I32, &types, &err) == 0 &&
	           types->arr_n == 128256, "vocab: 128256 token types (i32)")) {
		for (uint64_t i = 0; i < types->arr_n; i++)
			if (lr_gguf_arr_int(types, i) != (i < 128000 ? 1 : 3))
				types_ok = 0;
		tap_ok(types_ok, "vocab: type 1 for ids 0..127999, 3 for 128000..128255");
	}
	s = lr_gguf_arr_str(g, tokens, 128000, &len);
	tap_ok(len == 17 && memcmp(s, "<|begin_of_text|>", 17) == 0, "vocab: token 128000 is <|begin_of_text|>");
	s = lr_gguf_arr_str(g, tokens, 128009, &len);
	tap_ok(len == 10 && memcmp(s, "<|eot_id|>", 10) == 0, "vocab: token 128009 is <|eot_id|>");
	s = lr_gguf_arr_str(g, tokens, 0, &len);
	tap_ok(len == 1 && s[0] == '!', "vocab: token 0 is '!'");
	s = lr_gguf_arr_str(g, merges, 0, &len);
	tap_ok(len == 5 && memcmp(s, "\xc4\xa0 \xc4\xa0", 5) == 0, "vocab: merge 0 is 'Ġ Ġ'");
	tap_ok(lr_gguf_get_str(g, "tokenizer.chat_template", &s, &len, &err) == 0 &&
	       strstr(s, "<|start_header_id|>") != NULL, "vocab: chat template mentions <|start_header_id|>");
	if (tap_ok(lr_hparams_load(&hp, g, &err) == 0, "vocab: hyper-parameters load")) {
		tap_ok(hp.n_layer == 32 && hp.n_embd == 4096 && hp.n_head == 32 && hp.n_head_kv == 8 &&
		       hp.head_dim == 128 && hp.n_ff == 14336 && hp.n_vocab == 128256 &&
		       hp.n_ctx_train == 131072, "vocab: Llama 3.1 8B hyper-parameters");
		/* 32 layers x 8 KV heads x 128 x 2 (K,V) x 2 bytes x 131072 = 16 GiB */
		tap_is_int((int64_t)lr_kv_bytes(&hp, LR_KV_F16, 131072), 16LL << 30,
		           "vocab: f16 KV cache at 131072 tokens is 16 GiB");
		/* plus the f16 copy of the first 16 tokens: 32 x 8 x 256 x 16 x 2 bytes = 2 MiB */
		tap_is_int((int64_t)lr_kv_bytes(&hp, LR_KV_Q8, 131072), (17LL << 29) + (2 << 20),
		           "vocab: q8 KV cache (8.5 bits) at 131072 tokens is 8.5 GiB + 2 MiB of sinks");
		tap_is_int((int64_t)lr_kv_bytes(&hp, LR_KV_Q4, 131072), (9LL << 29) + (2 << 20),
		           "vocab: q4 KV cache (4.5 bits) at 131072 tokens is 4.5 GiB + 2 MiB of sinks");
	}
	lr_gguf_close(g);
}

static void test_rope_freqs(void)
{
	static const float want[32] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.55341f, 2.69453f, 5.25733f,
		8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
	};
	char path[1024];
	struct lr_gguf *g = NULL;
	const struct lr_gguf_tensor *t;
	int ok = 1;

	snprintf(path, sizeof path, "%s/golden/models/nano-F32.gguf", tap_shared());
	if (!tap_ok(lr_gguf_open(&g, path, NULL) == 0, "nano-F32 loads"))
		return;
	t = lr_gguf_find_tensor(g, "rope_freqs.weight");
	if (tap_ok(t && t->type == LR_TYPE_F32 && t->n_elements == 32 && t->n_dims == 1,
	           "nano-F32: rope_freqs.weight is F32 [32]")) {
		const float *v = t->data;
		for (int i = 0; i < 32; i++)
			if (fabsf(v[i] - want[i]) > 1e-5f)
				ok = 0;
		tap_ok(ok, "nano-F32: rope_freqs data read at the right offset (README values)");
	}
	t = lr_gguf_find_tensor(g, "blk.1.ffn_down.weight");
	tap_ok(t && t->ne[0] == 768 && t->ne[1] == 256 && t->n_bytes == 768 * 256 * 4,
	       "nano-F32: blk.1.ffn_down.weight has ne [768, 256]");
	tap_ok(lr_gguf_find_tensor(g, "blk.2.ffn_down.weight") == NULL, "nano-F32: no blk.2 tensors");
	lr_gguf_close(g);
}

/* ------------------------------------------------------------------ round trip */

static void fill_pattern(uint64_t i, uint8_t *dst, uint64_t bytes, void *ctx)
{
	(void)ctx;
	for (uint64_t k = 0; k < bytes; k++)
		dst[k] = (uint8_t)(i * 31 + k);
}

static void test_roundtrip(void)
{
	struct gw w;
	struct gbuf img = { 0 };
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };
	const struct lr_gguf_kv *kv;
	const char *strs[] = { "alpha", "", "γάμμα", "x\0y" };
	int32_t ints[] = { -5, 0, 7 };
	float fl[] = { 1.5f, -2.25f };
	int64_t ne1[] = { 64, 3 }, ne2[] = { 256 }, ne3[] = { 32, 2, 2, 2 };
	int64_t iv;
	uint32_t u32;
	double dv;
	const char *s;
	uint64_t len;

	gw_init(&w);
	gw_kv_str(&w, "general.architecture", "llama");
	gw_kv_u32(&w, "a.u32", 4000000000u);
	gw_kv_i32(&w, "a.i32", -123);
	gw_kv_u64(&w, "a.u64", 1ull << 40);
	gw_kv_f32(&w, "a.f32", 0.5f);
	gw_kv_bool(&w, "a.bool", 1);
	gw_kv_arr_str(&w, "a.strs", strs, 3);
	gw_kv_arr_i32(&w, "a.ints", ints, 3);
	gw_kv_arr_f32(&w, "a.floats", fl, 2);
	/* the remaining scalar types, by hand */
	gb_str(&w.kv, "a.u8"); gb_u32(&w.kv, LR_GGUF_U8); gb_u8(&w.kv, 200); w.n_kv++;
	gb_str(&w.kv, "a.i8"); gb_u32(&w.kv, LR_GGUF_I8); gb_u8(&w.kv, 0xff); w.n_kv++;
	gb_str(&w.kv, "a.u16"); gb_u32(&w.kv, LR_GGUF_U16); gb_u8(&w.kv, 0x34); gb_u8(&w.kv, 0x12); w.n_kv++;
	gb_str(&w.kv, "a.i16"); gb_u32(&w.kv, LR_GGUF_I16); gb_u8(&w.kv, 0xfe); gb_u8(&w.kv, 0xff); w.n_kv++;
	gb_str(&w.kv, "a.i64"); gb_u32(&w.kv, LR_GGUF_I64); gb_u64(&w.kv, (uint64_t)-9); w.n_kv++;
	{
		double d = -0.125;
		gb_str(&w.kv, "a.f64"); gb_u32(&w.kv, LR_GGUF_F64); gb_raw(&w.kv, &d, 8); w.n_kv++;
	}
	/* an array of arrays: [[1,2],[3]] as u8 */
	gb_str(&w.kv, "a.nested"); gb_u32(&w.kv, LR_GGUF_ARRAY); gb_u32(&w.kv, LR_GGUF_ARRAY); gb_u64(&w.kv, 2);
	gb_u32(&w.kv, LR_GGUF_U8); gb_u64(&w.kv, 2); gb_u8(&w.kv, 1); gb_u8(&w.kv, 2);
	gb_u32(&w.kv, LR_GGUF_U8); gb_u64(&w.kv, 1); gb_u8(&w.kv, 3);
	w.n_kv++;
	gw_tensor(&w, "t.f32", LR_TYPE_F32, 2, ne1);
	gw_tensor(&w, "t.q4k", LR_TYPE_Q4_K, 1, ne2);
	gw_tensor(&w, "t.4d", LR_TYPE_Q8_0, 4, ne3);
	gw_image(&w, &img, fill_pattern, NULL);

	if (!tap_ok(lr_gguf_parse(&g, img.p, img.n, &err) == 0, "round trip: a file with every value type parses")) {
		tap_diag("%s", err.msg);
		goto out;
	}
	tap_ok(lr_gguf_get_u32(g, "a.u32", &u32, &err) == 0 && u32 == 4000000000u, "round trip: u32");
	tap_ok(lr_gguf_get_int(g, "a.i32", &iv, &err) == 0 && iv == -123, "round trip: i32");
	tap_ok(lr_gguf_get_int(g, "a.u64", &iv, &err) == 0 && iv == (1ll << 40), "round trip: u64");
	tap_ok(lr_gguf_get_float(g, "a.f32", &dv, &err) == 0 && dv == 0.5, "round trip: f32");
	tap_ok(lr_gguf_get_int(g, "a.bool", &iv, &err) == 0 && iv == 1, "round trip: bool");
	tap_ok(lr_gguf_get_int(g, "a.u8", &iv, &err) == 0 && iv == 200, "round trip: u8");
	tap_ok(lr_gguf_get_int(g, "a.i8", &iv, &err) == 0 && iv == -1, "round trip: i8");
	tap_ok(lr_gguf_get_int(g, "a.u16", &iv, &err) == 0 && iv == 0x1234, "round trip: u16");
	tap_ok(lr_gguf_get_int(g, "a.i16", &iv, &err) == 0 && iv == -2, "round trip: i16");
	tap_ok(lr_gguf_get_int(g, "a.i64", &iv, &err) == 0 && iv == -9, "round trip: i64");
	tap_ok(lr_gguf_get_float(g, "a.f64", &dv, &err) == 0 && dv == -0.125, "round trip: f64");
	tap_ok(lr_gguf_get_str(g, "general.architecture", &s, &len, &err) == 0 && len == 5 &&
	       strcmp(s, "llama") == 0, "round trip: string");
	if (tap_ok(lr_gguf_get_arr(g, "a.strs", LR_GGUF_STRING, &kv, &err) == 0 && kv->arr_n == 3,
	           "round trip: array of 3 strings")) {
		s = lr_gguf_arr_str(g, kv, 2, &len);
		tap_ok(len == strlen("γάμμα") && memcmp(s, "γάμμα", len) == 0, "round trip: UTF-8 string element");
		s = lr_gguf_arr_str(g, kv, 1, &len);
		tap_is_int((int64_t)len, 0, "round trip: empty string element");
	}
	tap_ok(lr_gguf_get_arr(g, "a.ints", LR_GGUF_I32, &kv, &err) == 0 && lr_gguf_arr_int(kv, 0) == -5 &&
	       lr_gguf_arr_int(kv, 2) == 7, "round trip: array of i32");
	tap_ok(lr_gguf_get_arr(g, "a.floats", LR_GGUF_F32, &kv, &err) == 0 &&
	       lr_gguf_arr_float(kv, 1) == -2.25, "round trip: array of f32");
	kv = lr_gguf_find(g, "a.nested");
	tap_ok(kv && kv->type == LR_GGUF_ARRAY && kv->arr_type == LR_GGUF_ARRAY && kv->arr_n == 2,
	       "round trip: array of arrays is kept (opaque)");
	/* type errors name the key */
	tap_ok(lr_gguf_get_str(g, "a.u32", &s, NULL, &err) == LR_EFORMAT && strstr(err.msg, "a.u32"),
	       "getter: wrong type is LR_EFORMAT naming the key");
	tap_ok(lr_gguf_get_u32(g, "a.i32", &u32, &err) == LR_EFORMAT, "getter: negative value is not a u32");
	tap_ok(lr_gguf_get_int(g, "nope", &iv, &err) == LR_ENOTFOUND, "getter: missing key is LR_ENOTFOUND");
	tap_ok(lr_gguf_get_arr(g, "a.ints", LR_GGUF_STRING, &kv, &err) == LR_EFORMAT,
	       "getter: array of the wrong element type");
	{
		const struct lr_gguf_tensor *t = lr_gguf_find_tensor(g, "t.q4k");
		const struct lr_gguf_tensor *t4 = lr_gguf_find_tensor(g, "t.4d");
		tap_ok(t && t->n_bytes == 144 && t->offset % 32 == 0 &&
		       ((const uint8_t *)t->data)[5] == (uint8_t)(1 * 31 + 5),
		       "round trip: Q4_K tensor is 144 bytes at an aligned offset with its data");
		tap_ok(t4 && t4->n_dims == 4 && t4->ne[3] == 2 && t4->n_elements == 256 && t4->n_bytes == 8 * 34,
		       "round trip: 4-D Q8_0 tensor sizes");
	}
	lr_gguf_close(g);
out:
	gb_free(&img);
	gw_free(&w);
}

/* ------------------------------------------------------------------ malformed */

static const char *corpus_dir;

static void expect(const char *name, const struct gbuf *b, int code, const char *needle)
{
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };
	int rc = lr_gguf_parse(&g, b->p, b->n, &err);

	tap_ok(rc == code && (!needle || strstr(err.msg, needle)),
	       "malformed %s: code %d, message \"%s\"", name, rc, err.msg);
	if (rc != code || (needle && !strstr(err.msg, needle)))
		tap_diag("  want code %d and a message containing \"%s\"", code, needle ? needle : "");
	lr_gguf_close(g);
	if (corpus_dir) {
		char path[1024];
		FILE *f;
		snprintf(path, sizeof path, "%s/%s.gguf", corpus_dir, name);
		f = fopen(path, "wb");
		if (f) {
			fwrite(b->p, 1, b->n, f);
			fclose(f);
		}
	}
}

/* Header with the given counts. */
static void hdr(struct gbuf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	gb_raw(b, "GGUF", 4);
	gb_u32(b, version);
	gb_u64(b, n_tensors);
	gb_u64(b, n_kv);
}

/* One tensor info. */
static void tinfo(struct gbuf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                  uint64_t off)
{
	gb_str(b, name);
	gb_u32(b, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		gb_u64(b, ne[d]);
	gb_u32(b, type);
	gb_u64(b, off);
}

static void pad32(struct gbuf *b)
{
	gb_zero(b, (32 - b->n % 32) % 32);
}

static void test_malformed(void)
{
	struct gbuf b = { 0 };
	uint64_t ne[4];

#define CASE(name, code, needle, ...) do { b.n = 0; __VA_ARGS__; expect(name, &b, code, needle); } while (0)

	CASE("bad_magic", LR_EFORMAT, "not a GGUF file",
	     gb_raw(&b, "GGUX", 4); gb_u32(&b, 3); gb_u64(&b, 0); gb_u64(&b, 0));
	CASE("zip_file", LR_EFORMAT, "not a GGUF file", gb_raw(&b, "PK\x03\x04\x14\0\0\0", 8));
	CASE("ggjt_file", LR_EUNSUPPORTED, "GGML", gb_raw(&b, "tjgg\x03\0\0\0", 8));
	CASE("bad_version", LR_EUNSUPPORTED, "version 99", hdr(&b, 99, 0, 0));
	CASE("version_1", LR_EUNSUPPORTED, "version 1", hdr(&b, 1, 0, 0));
	CASE("big_endian", LR_EUNSUPPORTED, "big-endian", hdr(&b, 0x03000000u, 0, 0));
	CASE("truncated_header", LR_EFORMAT, "truncated", gb_raw(&b, "GGUF\x03\0\0\0\0\0\0\0", 12));
	CASE("three_bytes", LR_EFORMAT, "only 3 bytes", gb_raw(&b, "GGU", 3));
	CASE("key_past_eof", LR_EFORMAT, "past the end",
	     hdr(&b, 3, 0, 1); gb_u64(&b, 1000); gb_raw(&b, "abc", 3); gb_zero(&b, 16));
	CASE("string_value_past_eof", LR_EFORMAT, "past the end",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_STRING); gb_u64(&b, 1ull << 40));
	CASE("absurd_kv_count", LR_EFORMAT, "metadata pairs", hdr(&b, 3, 0, 1ull << 60));
	CASE("absurd_tensor_count", LR_EFORMAT, "tensors, more than", hdr(&b, 3, 1ull << 60, 0));
	CASE("absurd_array_count", LR_EFORMAT, "array claims",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_ARRAY); gb_u32(&b, LR_GGUF_U32);
	     gb_u64(&b, 1ull << 62); gb_zero(&b, 64));
	CASE("absurd_string_array", LR_EFORMAT, "array claims",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_ARRAY); gb_u32(&b, LR_GGUF_STRING);
	     gb_u64(&b, 1ull << 40); gb_zero(&b, 64));
	CASE("unknown_value_type", LR_EFORMAT, "unknown value type",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, 13); gb_u32(&b, 0));
	CASE("unknown_array_type", LR_EFORMAT, "unknown value type",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_ARRAY); gb_u32(&b, 77); gb_u64(&b, 1); gb_u32(&b, 0));
	CASE("empty_key", LR_EFORMAT, "invalid key",
	     hdr(&b, 3, 0, 1); gb_str(&b, ""); gb_u32(&b, LR_GGUF_U8); gb_u8(&b, 0));
	CASE("key_with_nul", LR_EFORMAT, "invalid key",
	     hdr(&b, 3, 0, 1); gb_strn(&b, "a\0b", 3); gb_u32(&b, LR_GGUF_U8); gb_u8(&b, 0));
	CASE("duplicate_key", LR_EFORMAT, "duplicate metadata key 'k'",
	     hdr(&b, 3, 0, 2); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_U8); gb_u8(&b, 0);
	     gb_str(&b, "k"); gb_u32(&b, LR_GGUF_U8); gb_u8(&b, 1));
	CASE("nested_too_deep", LR_EUNSUPPORTED, "nested deeper",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_ARRAY);
	     for (int d = 0; d < 6; d++) { gb_u32(&b, LR_GGUF_ARRAY); gb_u64(&b, 1); }
	     gb_u32(&b, LR_GGUF_U8); gb_u64(&b, 0));
	CASE("truncated_scalar", LR_EFORMAT, "truncated",
	     hdr(&b, 3, 0, 1); gb_str(&b, "k"); gb_u32(&b, LR_GGUF_U64); gb_u32(&b, 0));
	ne[0] = 1024;
	CASE("tensor_data_past_eof", LR_EFORMAT, "runs past the end",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); pad32(&b); gb_zero(&b, 100));
	ne[0] = 8;
	CASE("tensor_offset_past_eof", LR_EFORMAT, "runs past the end",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 1ull << 62); pad32(&b); gb_zero(&b, 32));
	CASE("data_section_missing", LR_EFORMAT, "truncated",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); gb_raw(&b, "x", 1));
	CASE("misaligned_offset", LR_EFORMAT, "not a multiple of the alignment",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 4); pad32(&b); gb_zero(&b, 64));
	CASE("unknown_tensor_type", LR_EUNSUPPORTED, "unknown type id 99",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, 99, 0); pad32(&b); gb_zero(&b, 64));
	CASE("removed_tensor_type", LR_EUNSUPPORTED, "unknown type id 4",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, 4, 0); pad32(&b); gb_zero(&b, 64));
	ne[0] = 1ull << 32; ne[1] = 1ull << 32;
	CASE("dims_overflow", LR_EFORMAT, "overflows",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 2, ne, LR_TYPE_F32, 0); pad32(&b));
	ne[0] = 1ull << 31; ne[1] = 1ull << 31;
	CASE("bytes_overflow", LR_EFORMAT, "overflows",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 2, ne, LR_TYPE_F64, 0); pad32(&b));
	ne[0] = (1ull << 63) + 1;
	CASE("negative_dim", LR_EFORMAT, "negative",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); pad32(&b));
	ne[0] = 8; ne[1] = ne[2] = ne[3] = 1;
	CASE("five_dims", LR_EFORMAT, "dimensions",
	     hdr(&b, 3, 1, 0); gb_str(&b, "t"); gb_u32(&b, 5); for (int d = 0; d < 5; d++) gb_u64(&b, 1);
	     gb_u32(&b, 0); gb_u64(&b, 0); pad32(&b); gb_zero(&b, 32));
	CASE("zero_dims", LR_EFORMAT, "dimensions",
	     hdr(&b, 3, 1, 0); gb_str(&b, "t"); gb_u32(&b, 0); gb_u32(&b, 0); gb_u64(&b, 0); pad32(&b));
	CASE("empty_tensor_name", LR_EFORMAT, "invalid name",
	     hdr(&b, 3, 1, 0); tinfo(&b, "", 1, ne, LR_TYPE_F32, 0); pad32(&b); gb_zero(&b, 32));
	CASE("duplicate_tensor", LR_EFORMAT, "duplicate tensor name 't'",
	     hdr(&b, 3, 2, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); tinfo(&b, "t", 1, ne, LR_TYPE_F32, 32);
	     pad32(&b); gb_zero(&b, 64));
	CASE("overlapping_tensors", LR_EFORMAT, "overlap",
	     hdr(&b, 3, 2, 0); tinfo(&b, "a", 1, ne, LR_TYPE_F32, 0); tinfo(&b, "b", 1, ne, LR_TYPE_F32, 0);
	     pad32(&b); gb_zero(&b, 64));
	ne[0] = 33;
	CASE("row_not_block_multiple", LR_EFORMAT, "not a multiple of Q4_0's block size 32",
	     hdr(&b, 3, 1, 0); tinfo(&b, "t", 1, ne, LR_TYPE_Q4_0, 0); pad32(&b); gb_zero(&b, 64));
	ne[0] = 8;
	CASE("alignment_not_pow2", LR_EFORMAT, "power of two",
	     hdr(&b, 3, 1, 1); gb_str(&b, "general.alignment"); gb_u32(&b, LR_GGUF_U32); gb_u32(&b, 24);
	     tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); pad32(&b); gb_zero(&b, 64));
	CASE("alignment_zero", LR_EFORMAT, "power of two",
	     hdr(&b, 3, 1, 1); gb_str(&b, "general.alignment"); gb_u32(&b, LR_GGUF_U32); gb_u32(&b, 0);
	     tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); pad32(&b); gb_zero(&b, 64));
	CASE("alignment_wrong_type", LR_EFORMAT, "general.alignment has type string",
	     hdr(&b, 3, 1, 1); gb_str(&b, "general.alignment"); gb_u32(&b, LR_GGUF_STRING); gb_str(&b, "32");
	     tinfo(&b, "t", 1, ne, LR_TYPE_F32, 0); pad32(&b); gb_zero(&b, 64));
#undef CASE
	gb_free(&b);
}

/* Every prefix of a valid file fails cleanly; flipped bytes never crash. */
static void test_truncations(void)
{
	struct gw w;
	struct gbuf img = { 0 };
	const char *toks[] = { "a", "bb", "ccc", "dddd" };
	int64_t ne[] = { 64, 2 };
	int bad = 0, parsed_ok = 0;
	uint64_t rng = 12345;

	gw_init(&w);
	gw_kv_str(&w, "general.architecture", "llama");
	gw_kv_u32(&w, "general.alignment", 64);
	gw_kv_arr_str(&w, "tokenizer.ggml.tokens", toks, 4);
	gw_kv_f32(&w, "llama.rope.freq_base", 500000.0f);
	w.alignment = 64;
	gw_tensor(&w, "a.weight", LR_TYPE_Q8_0, 2, ne);
	gw_tensor(&w, "b.weight", LR_TYPE_F16, 2, ne);
	gw_image(&w, &img, fill_pattern, NULL);
	/* the last tensor (64 x 2 f16 = 256 bytes) needs no padding: the file ends with
	 * its last byte, so every shorter prefix is missing something */
	for (size_t n = 0; n < img.n; n++) {
		struct lr_gguf *g = NULL;
		struct lr_err err = { 0 };
		int rc = lr_gguf_parse(&g, img.p, n, &err);
		if (rc == 0 || err.msg[0] == '\0')
			bad++;
		lr_gguf_close(g);
	}
	tap_is_int(bad, 0, "every one of the %zu truncations of a valid file is an error with a message", img.n);
	{
		struct lr_gguf *g = NULL;
		tap_ok(lr_gguf_parse(&g, img.p, img.n, NULL) == 0 && g->alignment == 64 && g->data_offset % 64 == 0,
		       "the untruncated file parses, with general.alignment 64");
		lr_gguf_close(g);
	}
	/* 20000 single-byte corruptions of the header: any result, but no crash (run
	 * under ASan/UBSan in CI) and consistent: success implies data inside the file */
	for (int k = 0; k < 20000; k++) {
		struct lr_gguf *g = NULL;
		uint8_t *copy = malloc(img.n);
		size_t hdr_len = img.n - (size_t)w.data_size;
		memcpy(copy, img.p, img.n);
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		copy[(rng >> 33) % hdr_len] ^= (uint8_t)(1u << ((rng >> 20) & 7));
		if (lr_gguf_parse(&g, copy, img.n, NULL) == 0) {
			parsed_ok++;
			for (uint64_t i = 0; i < g->n_tensors; i++)
				if ((const uint8_t *)g->tensors[i].data + g->tensors[i].n_bytes > copy + img.n)
					bad++;
		}
		lr_gguf_close(g);
		free(copy);
	}
	tap_is_int(bad, 0, "20000 bit flips: no crash, every accepted file keeps tensors inside it (%d accepted)",
	           parsed_ok);
	gb_free(&img);
	gw_free(&w);
}

static void test_open_errors(void)
{
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };
	char path[1024];
	FILE *f;

	tap_ok(lr_gguf_open(&g, "/nonexistent/model.gguf", &err) == LR_EIO && err.sys_errno == ENOENT &&
	       strstr(err.msg, "'/nonexistent/model.gguf'") && strstr(err.msg, "No such file"),
	       "open: a missing file is LR_EIO naming it (%s)", err.msg);
	tap_ok(lr_gguf_open(&g, tap_tmpdir(), &err) == LR_EIO && strstr(err.msg, "Is a directory"),
	       "open: a directory is LR_EIO (%s)", err.msg);
	snprintf(path, sizeof path, "%s/empty.gguf", tap_tmpdir());
	f = fopen(path, "wb");
	if (f)
		fclose(f);
	tap_ok(lr_gguf_open(&g, path, &err) == LR_EFORMAT && strstr(err.msg, "empty"),
	       "open: an empty file is LR_EFORMAT (%s)", err.msg);
	snprintf(path, sizeof path, "%s/text.gguf", tap_tmpdir());
	f = fopen(path, "wb");
	if (f) {
		fputs("hello, this is not a model\n", f);
		fclose(f);
	}
	tap_ok(lr_gguf_open(&g, path, &err) == LR_EFORMAT && strstr(err.msg, "text.gguf") &&
	       strstr(err.msg, "not a GGUF file"), "open: a text file is LR_EFORMAT naming it (%s)", err.msg);
	tap_ok(g == NULL, "open: failures leave *out NULL");
}

/* ------------------------------------------------------------------ hparams */

static void hp_case(const char *name, int code, const char *needle, void (*mut)(struct gw *))
{
	struct gw w;
	struct gbuf img = { 0 };
	struct lr_gguf *g = NULL;
	struct lr_hparams hp;
	struct lr_err err = { 0 };
	int rc;

	gw_init(&w);
	mut(&w);
	gw_image(&w, &img, NULL, NULL);
	rc = lr_gguf_parse(&g, img.p, img.n, &err);
	if (rc == 0)
		rc = lr_hparams_load(&hp, g, &err);
	tap_ok(rc == code && (!needle || strstr(err.msg, needle)), "hparams %s: code %d (%s)", name, rc, err.msg);
	lr_gguf_close(g);
	gb_free(&img);
	gw_free(&w);
}

static void base_llama(struct gw *w, uint32_t heads, uint32_t kv_heads)
{
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_u32(w, "llama.block_count", 2);
	gw_kv_u32(w, "llama.embedding_length", 256);
	gw_kv_u32(w, "llama.feed_forward_length", 768);
	gw_kv_u32(w, "llama.attention.head_count", heads);
	gw_kv_u32(w, "llama.attention.head_count_kv", kv_heads);
	gw_kv_u32(w, "llama.context_length", 8192);
	gw_kv_u32(w, "llama.vocab_size", 300);
}

static void m_ok(struct gw *w) { base_llama(w, 4, 2); }
static void m_qwen(struct gw *w) { gw_kv_str(w, "general.architecture", "qwen3"); }
static void m_noarch(struct gw *w) { gw_kv_u32(w, "llama.block_count", 2); }
static void m_kvheads(struct gw *w) { base_llama(w, 4, 3); }
static void m_headsdiv(struct gw *w) { base_llama(w, 5, 5); }
static void m_nolayers(struct gw *w)
{
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_u32(w, "llama.embedding_length", 256);
}
static void m_zero_layers(struct gw *w)
{
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_u32(w, "llama.block_count", 0);
}
static void m_layers_str(struct gw *w)
{
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_str(w, "llama.block_count", "two");
}
static void m_bad_eps(struct gw *w)
{
	base_llama(w, 4, 2);
	gw_kv_f32(w, "llama.attention.layer_norm_rms_epsilon", -1.0f);
}
static void m_yarn_bad(struct gw *w)
{
	base_llama(w, 4, 2);
	gw_kv_str(w, "llama.rope.scaling.type", "longrope");
}

static void test_hparams(void)
{
	hp_case("valid", 0, NULL, m_ok);
	hp_case("unknown architecture", LR_EUNSUPPORTED, "architecture 'qwen3' is not supported", m_qwen);
	hp_case("no architecture", LR_EFORMAT, "general.architecture", m_noarch);
	hp_case("KV heads do not divide heads", LR_EFORMAT, "not a multiple of the KV head count", m_kvheads);
	hp_case("heads do not divide embedding", LR_EFORMAT, "not a multiple of the head count", m_headsdiv);
	hp_case("missing block_count", LR_ENOTFOUND, "llama.block_count", m_nolayers);
	hp_case("zero layers", LR_EFORMAT, "llama.block_count", m_zero_layers);
	hp_case("block_count is a string", LR_EFORMAT, "llama.block_count", m_layers_str);
	hp_case("negative rms epsilon", LR_EFORMAT, "layer_norm_rms_epsilon", m_bad_eps);
	hp_case("unknown rope scaling", LR_EUNSUPPORTED, "longrope", m_yarn_bad);
}

int main(void)
{
	corpus_dir = getenv("LR_WRITE_CORPUS");
	if (tap_golden("models/MANIFEST.tsv"))
		test_manifest();
	if (tap_golden("tokenizer/llama3-vocab.gguf"))
		test_vocab();
	if (tap_golden("models/nano-F32.gguf"))
		test_rope_freqs();
	test_roundtrip();
	test_malformed();
	test_truncations();
	test_open_errors();
	test_hparams();
	return tap_done();
}
