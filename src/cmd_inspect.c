/* src/cmd_inspect.c — `longread inspect MODEL.gguf [--json] [--metadata]`:
 * what a GGUF model is, what it is made of, and how much KV-cache memory its context
 * needs.  --metadata dumps every key and tensor, for any architecture. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/gguf.h"
#include "engine/hparams.h"
#include "engine/kv.h"
#include "engine/types.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/json.h"

#define CMD "inspect"

static const uint64_t kv_lengths[] = { 8192, 32768, 131072 };
static const enum lr_kv_type kv_types[] = { LR_KV_F16, LR_KV_Q8, LR_KV_Q4 };
#define N_LENGTHS (sizeof kv_lengths / sizeof kv_lengths[0])
#define N_KV_TYPES (sizeof kv_types / sizeof kv_types[0])
#define ARRAY_HEAD 8   /* array elements shown by --metadata */

static void usage(void)
{
	printf("Usage: longread inspect [options] MODEL.gguf\n"
	       "\n"
	       "Show a GGUF model's architecture, hyper-parameters, tokenizer, tensor types,\n"
	       "parameter count and the KV-cache memory it needs at 8k, 32k and 131072 tokens.\n"
	       "\n"
	       "Options:\n"
	       "  --json       print one JSON object instead of text\n"
	       "  --metadata   dump every metadata key and tensor (any architecture)\n"
	       "  -h, --help   show this help and exit\n");
}

/* Everything the summary shows, gathered once for both output formats. */
struct summary {
	const char *path;
	const struct lr_gguf *g;
	struct lr_hparams hp;
	uint64_t type_count[LR_TYPE_COUNT];
	uint64_t n_params;
	const char *tok_model, *tok_pre;
	uint64_t n_merges;
	int64_t bos, eos, eot;        /* -1 if absent */
	int has_template;
	enum lr_chat_format chat;     /* what the template writes, LR_CHAT_NONE if unknown */
	float rope_factor;            /* largest rope_freqs entry (llama3 scaling), else hp */
};

static int64_t opt_id(const struct lr_gguf *g, const char *key)
{
	int64_t v;

	return lr_gguf_get_int(g, key, &v, NULL) == 0 ? v : -1;
}

static void gather(struct summary *s)
{
	const struct lr_gguf *g = s->g;
	const struct lr_gguf_tensor *t;
	const struct lr_gguf_kv *kv;

	for (uint64_t i = 0; i < g->n_tensors; i++) {
		s->type_count[g->tensors[i].type]++;
		s->n_params += g->tensors[i].n_elements;
	}
	if (lr_gguf_get_str(g, "tokenizer.ggml.model", &s->tok_model, NULL, NULL))
		s->tok_model = NULL;
	if (lr_gguf_get_str(g, "tokenizer.ggml.pre", &s->tok_pre, NULL, NULL))
		s->tok_pre = NULL;
	kv = lr_gguf_find(g, "tokenizer.ggml.merges");
	s->n_merges = kv && kv->type == LR_GGUF_ARRAY ? kv->arr_n : 0;
	s->bos = opt_id(g, "tokenizer.ggml.bos_token_id");
	s->eos = opt_id(g, "tokenizer.ggml.eos_token_id");
	s->eot = opt_id(g, "tokenizer.ggml.eot_token_id");
	kv = lr_gguf_find(g, "tokenizer.chat_template");
	s->has_template = kv != NULL;
	if (kv && kv->type == LR_GGUF_STRING)
		s->chat = lr_chat_detect(kv->str, (size_t)kv->str_len);
	/* llama3 scaling is carried as per-frequency divisors; the largest is the factor */
	s->rope_factor = s->hp.rope_scale;
	t = lr_gguf_find_tensor(g, "rope_freqs.weight");
	if (t && t->type == LR_TYPE_F32 && s->hp.rope_scaling == LR_ROPE_SCALING_NONE) {
		s->rope_factor = 0;
		for (uint64_t i = 0; i < t->n_elements; i++) {
			float f;
			memcpy(&f, (const char *)t->data + 4 * i, 4);
			if (f > s->rope_factor)
				s->rope_factor = f;
		}
	}
}

/* The engine's name, or "llama3" for Llama 3.1's scaling, carried as rope_freqs. */
static const char *rope_scaling_name(const struct lr_hparams *hp)
{
	if (hp->rope_scaling == LR_ROPE_SCALING_NONE && hp->has_rope_freqs)
		return "llama3";
	return lr_rope_scaling_name(hp->rope_scaling);
}

static const char *file_type(const struct lr_hparams *hp)
{
	const char *n = lr_file_type_name(hp->file_type & ~1024); /* 1024: "guessed" flag */

	return n ? n : "unknown";
}

/* ------------------------------------------------------------------ text */

static void print_text(const struct summary *s)
{
	const struct lr_hparams *hp = &s->hp;
	const struct lr_gguf *g = s->g;
	char b1[32];
	int first = 1;

	printf("%-16s %s\n", "file", s->path);
	printf("%-16s %s (%" PRIu64 " bytes), GGUF v%" PRIu32 ", alignment %" PRIu32 "\n", "file size",
	       cli_bytes(g->size, b1, sizeof b1), g->size, g->version, g->alignment);
	printf("%-16s %s\n", "architecture", hp->arch_name);
	printf("%-16s %s\n", "name", hp->name[0] ? hp->name : "(none)");
	if (hp->file_type >= 0)
		printf("%-16s %s\n", "file type", file_type(hp));
	printf("%-16s %" PRIu32 "\n", "layers", hp->n_layer);
	printf("%-16s %" PRIu32 "\n", "embedding", hp->n_embd);
	printf("%-16s %" PRIu32 "\n", "heads", hp->n_head);
	printf("%-16s %" PRIu32 " (%" PRIu32 " query heads per KV head)\n", "KV heads", hp->n_head_kv,
	       hp->n_head / hp->n_head_kv);
	printf("%-16s %" PRIu32 "\n", "head dim", hp->head_dim);
	printf("%-16s %" PRIu32 "\n", "feed-forward", hp->n_ff);
	printf("%-16s %" PRIu32 "\n", "context length", hp->n_ctx_train);
	printf("%-16s %" PRIu32 "\n", "vocabulary", hp->n_vocab);
	printf("%-16s base %g, dim %" PRIu32 ", scaling %s", "rope", hp->rope_base, hp->rope_dim,
	       rope_scaling_name(hp));
	if (hp->rope_scaling != LR_ROPE_SCALING_NONE || hp->has_rope_freqs)
		printf(" (factor %g)", s->rope_factor);
	printf(", rope_freqs %s\n", hp->has_rope_freqs ? "present" : "absent");
	printf("%-16s %g\n", "rms epsilon", hp->rms_eps);
	printf("%-16s %s\n", "output", g->n_tensors == 0 ? "none (vocabulary-only file, no weights)" :
	       hp->tied_output ? "tied to token_embd.weight" : "output.weight");
	printf("%-16s %s, pre %s, %" PRIu32 " tokens, %" PRIu64 " merges\n", "tokenizer",
	       s->tok_model ? s->tok_model : "(none)", s->tok_pre ? s->tok_pre : "(none)",
	       hp->n_vocab, s->n_merges);
	printf("%-16s", "special tokens");
	if (s->bos >= 0) printf(" bos %" PRId64, s->bos);
	if (s->eos >= 0) printf(" eos %" PRId64, s->eos);
	if (s->eot >= 0) printf(" eot %" PRId64, s->eot);
	if (s->bos < 0 && s->eos < 0 && s->eot < 0) printf(" (none)");
	printf("\n%-16s %s%s\n", "chat template", !s->has_template ? "no" : s->chat ? "yes, format " : "yes, a format "
	       "longread does not know (give --chat-format)", s->chat ? lr_chat_format_name(s->chat) : "");
	printf("%-16s %" PRIu64, "tensors", g->n_tensors);
	for (int t = 0; t < LR_TYPE_COUNT; t++) {
		if (!s->type_count[t])
			continue;
		printf("%s %s %" PRIu64, first ? ":" : ",", lr_type_name((uint32_t)t), s->type_count[t]);
		first = 0;
	}
	printf("\n");
	for (int t = 0; t < LR_TYPE_COUNT; t++)
		if (s->type_count[t] && !lr_type_info((uint32_t)t)->weights_ok)
			printf("%-16s %s tensors cannot be computed by longread\n", "unsupported",
			       lr_type_name((uint32_t)t));
	printf("%-16s %.2f %s (%" PRIu64 ")\n", "parameters",
	       s->n_params >= 1000000000 ? s->n_params / 1e9 : s->n_params / 1e6,
	       s->n_params >= 1000000000 ? "B" : "M", s->n_params);
	printf("%-16s", "KV cache");
	for (size_t l = 0; l < N_LENGTHS; l++)
		printf(" %12" PRIu64, kv_lengths[l]);
	printf(" tokens\n");
	for (size_t k = 0; k < N_KV_TYPES; k++) {
		printf("  %-14s", lr_kv_type_name(kv_types[k]));
		for (size_t l = 0; l < N_LENGTHS; l++)
			printf(" %12s", cli_bytes(lr_kv_bytes(hp, kv_types[k], kv_lengths[l]), b1, sizeof b1));
		printf("\n");
	}
	if (hp->n_ctx_train < kv_lengths[N_LENGTHS - 1] && hp->arch == LR_ARCH_QWEN2 &&
	    hp->rope_scaling == LR_ROPE_SCALING_NONE)
		printf("%-16s the model was trained for %" PRIu32 " tokens; Qwen2.5 reads up to %" PRIu64 " with "
		       "YaRN: --rope-scaling yarn --rope-scale %" PRIu64 "\n", "note", hp->n_ctx_train,
		       (kv_lengths[N_LENGTHS - 1] / hp->n_ctx_train) * hp->n_ctx_train,
		       kv_lengths[N_LENGTHS - 1] / hp->n_ctx_train);
	else if (hp->n_ctx_train < kv_lengths[N_LENGTHS - 1])
		printf("%-16s the model was trained for %" PRIu32 " tokens; longer windows are not usable\n",
		       "note", hp->n_ctx_train);
}

/* ------------------------------------------------------------------ json */

static void print_json(const struct summary *s)
{
	const struct lr_hparams *hp = &s->hp;
	const struct lr_gguf *g = s->g;
	struct json j;

	json_init(&j, stdout, 1);
	json_obj(&j);
	json_key(&j, "file"); json_str(&j, s->path);
	json_key(&j, "file_bytes"); json_uint(&j, g->size);
	json_key(&j, "gguf_version"); json_uint(&j, g->version);
	json_key(&j, "alignment"); json_uint(&j, g->alignment);
	json_key(&j, "architecture"); json_str(&j, hp->arch_name);
	json_key(&j, "name"); json_str(&j, hp->name);
	json_key(&j, "file_type");
	if (hp->file_type >= 0) json_str(&j, file_type(hp)); else json_nil(&j);
	json_key(&j, "n_layer"); json_uint(&j, hp->n_layer);
	json_key(&j, "n_embd"); json_uint(&j, hp->n_embd);
	json_key(&j, "n_head"); json_uint(&j, hp->n_head);
	json_key(&j, "n_head_kv"); json_uint(&j, hp->n_head_kv);
	json_key(&j, "head_dim"); json_uint(&j, hp->head_dim);
	json_key(&j, "n_ff"); json_uint(&j, hp->n_ff);
	json_key(&j, "context_length"); json_uint(&j, hp->n_ctx_train);
	json_key(&j, "n_vocab"); json_uint(&j, hp->n_vocab);
	json_key(&j, "rms_eps"); json_f32(&j, hp->rms_eps);
	json_key(&j, "rope");
	json_obj(&j);
	json_key(&j, "base"); json_f32(&j, hp->rope_base);
	json_key(&j, "dim"); json_uint(&j, hp->rope_dim);
	json_key(&j, "scaling"); json_str(&j, rope_scaling_name(hp));
	json_key(&j, "factor"); json_f32(&j, s->rope_factor);
	json_key(&j, "original_context"); json_uint(&j, hp->rope_orig_ctx);
	json_key(&j, "rope_freqs"); json_bool(&j, hp->has_rope_freqs);
	json_obj_end(&j);
	json_key(&j, "tied_output"); json_bool(&j, hp->tied_output);
	json_key(&j, "tokenizer");
	json_obj(&j);
	json_key(&j, "model"); if (s->tok_model) json_str(&j, s->tok_model); else json_nil(&j);
	json_key(&j, "pre"); if (s->tok_pre) json_str(&j, s->tok_pre); else json_nil(&j);
	json_key(&j, "n_tokens"); json_uint(&j, hp->n_vocab);
	json_key(&j, "n_merges"); json_uint(&j, s->n_merges);
	json_key(&j, "bos_id"); if (s->bos >= 0) json_int(&j, s->bos); else json_nil(&j);
	json_key(&j, "eos_id"); if (s->eos >= 0) json_int(&j, s->eos); else json_nil(&j);
	json_key(&j, "eot_id"); if (s->eot >= 0) json_int(&j, s->eot); else json_nil(&j);
	json_key(&j, "chat_template"); json_bool(&j, s->has_template);
	json_key(&j, "chat_format"); if (s->chat) json_str(&j, lr_chat_format_name(s->chat)); else json_nil(&j);
	json_obj_end(&j);
	json_key(&j, "n_tensors"); json_uint(&j, g->n_tensors);
	json_key(&j, "tensor_types");
	json_obj(&j);
	for (int t = 0; t < LR_TYPE_COUNT; t++)
		if (s->type_count[t]) {
			json_key(&j, lr_type_name((uint32_t)t));
			json_uint(&j, s->type_count[t]);
		}
	json_obj_end(&j);
	json_key(&j, "unsupported_types");
	json_arr(&j);
	for (int t = 0; t < LR_TYPE_COUNT; t++)
		if (s->type_count[t] && !lr_type_info((uint32_t)t)->weights_ok)
			json_str(&j, lr_type_name((uint32_t)t));
	json_arr_end(&j);
	json_key(&j, "n_params"); json_uint(&j, s->n_params);
	json_key(&j, "kv_cache_bytes");
	json_obj(&j);
	for (size_t l = 0; l < N_LENGTHS; l++) {
		char key[24];
		snprintf(key, sizeof key, "%" PRIu64, kv_lengths[l]);
		json_key(&j, key);
		json_obj(&j);
		for (size_t k = 0; k < N_KV_TYPES; k++) {
			json_key(&j, lr_kv_type_name(kv_types[k]));
			json_uint(&j, lr_kv_bytes(hp, kv_types[k], kv_lengths[l]));
		}
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

/* ------------------------------------------------------------------ --metadata */

/* Print a string value for humans: quoted, control characters escaped, cut at max. */
static void print_quoted(const char *s, uint64_t n, uint64_t max)
{
	putchar('"');
	for (uint64_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
	if (n > max)
		printf("... (%" PRIu64 " bytes)", n);
}

static void print_scalar(const struct lr_gguf_kv *kv)
{
	switch (kv->type) {
	case LR_GGUF_F32: case LR_GGUF_F64: printf("%.9g", kv->v.f); break;
	case LR_GGUF_BOOL: printf("%s", kv->v.u ? "true" : "false"); break;
	case LR_GGUF_I8: case LR_GGUF_I16: case LR_GGUF_I32: case LR_GGUF_I64:
		printf("%" PRId64, kv->v.i); break;
	default: printf("%" PRIu64, kv->v.u); break;
	}
}

static void json_scalar(struct json *j, const struct lr_gguf_kv *kv)
{
	switch (kv->type) {
	case LR_GGUF_F32: case LR_GGUF_F64: json_num(j, kv->v.f); break;
	case LR_GGUF_BOOL: json_bool(j, (int)kv->v.u); break;
	case LR_GGUF_I8: case LR_GGUF_I16: case LR_GGUF_I32: case LR_GGUF_I64:
		json_int(j, kv->v.i); break;
	default: json_uint(j, kv->v.u); break;
	}
}

static int is_int_vtype(enum lr_gguf_vtype t)
{
	return t != LR_GGUF_F32 && t != LR_GGUF_F64 && t != LR_GGUF_STRING && t != LR_GGUF_ARRAY;
}

static void dump_text(const char *path, const struct lr_gguf *g)
{
	printf("file %s: GGUF v%" PRIu32 ", %" PRIu64 " metadata pair%s, %" PRIu64 " tensor%s, "
	       "data at offset %" PRIu64 "\n", path, g->version, g->n_kv, g->n_kv == 1 ? "" : "s", g->n_tensors,
	       g->n_tensors == 1 ? "" : "s", g->data_offset);
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct lr_gguf_kv *kv = &g->kv[i];
		printf("%-44s %-7s ", kv->key, lr_gguf_vtype_name(kv->type));
		if (kv->type == LR_GGUF_STRING) {
			print_quoted(kv->str, kv->str_len, 200);
		} else if (kv->type == LR_GGUF_ARRAY) {
			printf("[%" PRIu64 " x %s]", kv->arr_n, lr_gguf_vtype_name(kv->arr_type));
			for (uint64_t k = 0; k < kv->arr_n && k < ARRAY_HEAD; k++) {
				putchar(' ');
				if (kv->arr_type == LR_GGUF_STRING) {
					uint64_t n;
					const char *e = lr_gguf_arr_str(g, kv, k, &n);
					print_quoted(e, n, 40);
				} else if (kv->arr_type == LR_GGUF_F32 || kv->arr_type == LR_GGUF_F64) {
					printf("%g", lr_gguf_arr_float(kv, k));
				} else if (is_int_vtype(kv->arr_type)) {
					printf("%" PRId64, lr_gguf_arr_int(kv, k));
				}
			}
			if (kv->arr_n > ARRAY_HEAD)
				printf(" ...");
		} else {
			print_scalar(kv);
		}
		putchar('\n');
	}
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		printf("tensor %-40s %-6s [", t->name, lr_type_name(t->type));
		for (uint32_t d = 0; d < t->n_dims; d++)
			printf(d ? ", %" PRId64 : "%" PRId64, t->ne[d]);
		printf("] offset %" PRIu64 ", %" PRIu64 " bytes\n", t->offset, t->n_bytes);
	}
}

static void dump_json(const char *path, const struct lr_gguf *g)
{
	struct json j;

	json_init(&j, stdout, 1);
	json_obj(&j);
	json_key(&j, "file"); json_str(&j, path);
	json_key(&j, "gguf_version"); json_uint(&j, g->version);
	json_key(&j, "data_offset"); json_uint(&j, g->data_offset);
	json_key(&j, "metadata");
	json_obj(&j);
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct lr_gguf_kv *kv = &g->kv[i];
		json_key(&j, kv->key);
		if (kv->type == LR_GGUF_STRING) {
			json_strn(&j, kv->str, kv->str_len);
		} else if (kv->type == LR_GGUF_ARRAY) {
			json_obj(&j);
			json_key(&j, "type"); json_str(&j, lr_gguf_vtype_name(kv->arr_type));
			json_key(&j, "count"); json_uint(&j, kv->arr_n);
			json_key(&j, "head");
			json_arr(&j);
			for (uint64_t k = 0; k < kv->arr_n && k < ARRAY_HEAD; k++) {
				if (kv->arr_type == LR_GGUF_STRING) {
					uint64_t n;
					const char *e = lr_gguf_arr_str(g, kv, k, &n);
					json_strn(&j, e, n);
				} else if (kv->arr_type == LR_GGUF_F32 || kv->arr_type == LR_GGUF_F64) {
					json_num(&j, lr_gguf_arr_float(kv, k));
				} else if (is_int_vtype(kv->arr_type)) {
					json_int(&j, lr_gguf_arr_int(kv, k));
				}
			}
			json_arr_end(&j);
			json_obj_end(&j);
		} else {
			json_scalar(&j, kv);
		}
	}
	json_obj_end(&j);
	json_key(&j, "tensors");
	json_arr(&j);
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		json_obj(&j);
		json_key(&j, "name"); json_str(&j, t->name);
		json_key(&j, "type"); json_str(&j, lr_type_name(t->type));
		json_key(&j, "ne");
		json_arr(&j);
		for (uint32_t d = 0; d < t->n_dims; d++)
			json_int(&j, t->ne[d]);
		json_arr_end(&j);
		json_key(&j, "offset"); json_uint(&j, t->offset);
		json_key(&j, "bytes"); json_uint(&j, t->n_bytes);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

/* ------------------------------------------------------------------ command */

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "metadata", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct summary s = { 0 };
	struct lr_gguf *g = NULL;
	struct lr_err err = { 0 };
	int json = 0, metadata = 0, c, rc;

	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'm': metadata = 1; break;
		case 'h': usage(); return LR_EXIT_OK;
		default: return cli_opt_error(CMD, c, argv);
		}
	}
	if (optind == argc)
		return cli_usage(CMD, "missing model file");
	if (argc - optind > 1)
		return cli_usage(CMD, "too many arguments (one model file expected)");
	s.path = argv[optind];

	if ((rc = lr_gguf_open(&g, s.path, &err)))
		return cli_fail(&err);
	s.g = g;
	if (metadata) {
		if (json)
			dump_json(s.path, g);
		else
			dump_text(s.path, g);
		rc = LR_EXIT_OK;
		goto out;
	}
	if ((rc = lr_hparams_load(&s.hp, g, &err))) {
		cli_error("'%s': %s%s", s.path, err.msg,
			err.code == LR_EUNSUPPORTED ? "; 'longread inspect --metadata' shows the raw metadata" : "");
		rc = cli_exit_code(err.code);
		goto out;
	}
	gather(&s);
	if (json)
		print_json(&s);
	else
		print_text(&s);
	rc = LR_EXIT_OK;
out:
	lr_gguf_close(g);
	return rc;
}
