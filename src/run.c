/* src/run.c — shared by the commands that run a model: option parsing, model loading
 * with the chat-format checks, Ctrl-C, and the sample-evaluate-stream loop. */
#include "src/run.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/cli.h"

/* ------------------------------------------------------------------ options */

void lr_run_kv_default(struct lr_run_opts *o, const struct lr_hparams *hp)
{
	if (!o->kv_given && lr_kv_supported(hp, o->cp.kv_type, NULL))
		o->cp.kv_type = LR_KV_F16;
}

/* The note the KV cache line carries when llama.cpp's spelling chose the type. */
static char kv_alias[96];

int lr_run_ctx_new(struct lr_ctx **ctx, const struct lr_model *m, const struct lr_ctx_params *cp,
                   struct lr_err *err)
{
	char b[32];
	int rc = lr_ctx_new(ctx, m, cp, err);

	if (rc)
		return rc;
	fprintf(stderr, "longread: KV cache %s: %s for %" PRIu32 " tokens%s\n",
	        lr_kv_type_name(lr_ctx_kv(*ctx)->type), cli_bytes(lr_ctx_kv(*ctx)->bytes, b, sizeof b),
	        lr_ctx_n_ctx(*ctx), kv_alias);
	return 0;
}

void lr_run_opts_init(struct lr_run_opts *o, uint64_t n_gen, enum lr_kv_type kv)
{
	memset(o, 0, sizeof *o);
	o->n_gen = n_gen;
	o->cp.kv_type = kv;
	o->sp = lr_sampler_defaults();
}

/* -c N, also as llama.cpp users write it with a K suffix (8k = 8192, 128K = 131072). */
static int parse_ctx(const char *cmd, const char *arg, uint64_t *v)
{
	size_t n = strlen(arg);
	char num[24];
	int rc;

	if (n < 2 || n >= sizeof num || (arg[n - 1] != 'k' && arg[n - 1] != 'K'))
		return cli_parse_u64(cmd, "--ctx", arg, 1, 1u << 24, v);
	memcpy(num, arg, n - 1);
	num[n - 1] = '\0';
	if ((rc = cli_parse_u64(cmd, "--ctx", num, 1, 1u << 14, v)))
		return rc;
	*v *= 1024;
	return 0;
}

/* llama.cpp's --cache-type-k/-v (-ctk/-ctv): its type names mapped to longread's one
 * cache type for keys and values, saying which (on the KV cache line). */
static int cache_type(struct lr_run_opts *o, const char *cmd, const char *opt, const char *arg)
{
	static const struct { const char *llama, *ours; } map[] = {
		{ "f32", "f32" }, { "f16", "f16" }, { "q8_0", "q8" }, { "q4_0", "q4" },
		{ "bf16", NULL }, { "q4_1", NULL }, { "q5_0", NULL }, { "q5_1", NULL }, { "iq4_nl", NULL },
	};
	enum lr_kv_type t;

	for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
		if (strcmp(arg, map[i].llama) != 0)
			continue;
		if (!map[i].ours)
			return cli_usage(cmd, "%s %s: longread's caches are f32, f16, q8 (like q8_0) and q4 (like "
			                 "q4_0, rotated); give --kv with one of them", opt, arg);
		lr_kv_type_parse(map[i].ours, &t);
		if (o->kv_given && t != o->cp.kv_type)
			return cli_usage(cmd, "%s %s asks for the %s cache, but another option asked for %s: longread "
			                 "keeps keys and values in one type", opt, arg, map[i].ours,
			                 lr_kv_type_name(o->cp.kv_type));
		if (!o->kv_given)
			snprintf(kv_alias, sizeof kv_alias, " (%s %s is longread's %s: one type for keys and values)",
			         opt, arg, map[i].ours);
		o->cp.kv_type = t;
		o->kv_given = 1;
		return 0;
	}
	return cli_usage(cmd, "invalid cache type '%s' for %s (f32, f16, q8_0, q4_0)", arg, opt);
}

int lr_run_opt(struct lr_run_opts *o, const char *cmd, int c, const char *arg)
{
	uint64_t v;
	double d;
	int rc = 0;

	switch (c) {
	case 'm': o->model = arg; break;
	case 'n':
		rc = cli_parse_u64(cmd, "--tokens", arg, 0, 1u << 20, &o->n_gen);
		o->n_gen_given = 1;
		break;
	case 'c':
		if (!(rc = parse_ctx(cmd, arg, &v)))
			o->cp.n_ctx = (uint32_t)v;
		break;
	case LR_RUN_O_CTK:
	case LR_RUN_O_CTV:
		return cache_type(o, cmd, c == LR_RUN_O_CTK ? "--cache-type-k" : "--cache-type-v", arg);
	case 't':
		if (!(rc = cli_parse_u64(cmd, "--threads", arg, 1, 1024, &v)))
			o->cp.n_threads = (int)v;
		break;
	case LR_RUN_O_KV:
		if (lr_kv_type_parse(arg, &o->cp.kv_type))
			return cli_usage(cmd, "invalid KV cache type '%s' (f32, f16, q8, q4)", arg);
		o->kv_given = 1;
		break;
	case LR_RUN_O_CHAT_FORMAT:
		if (!(o->chat_format = lr_chat_format_parse(arg)))
			return cli_usage(cmd, "unknown chat format '%s' (%s)", arg, lr_chat_format_list());
		break;
	case LR_RUN_O_ROPE_SCALING: {
		int r = lr_rope_scaling_parse(arg);
		if (r < 0)
			return cli_usage(cmd, "invalid --rope-scaling '%s' (none, linear, yarn)", arg);
		o->rope_scaling = (enum lr_rope_scaling)r;
		o->rope_given = 1;
		break;
	}
	case LR_RUN_O_ROPE_SCALE:
		rc = cli_parse_double(cmd, "--rope-scale", arg, 1, 64, &o->rope_scale);
		break;
	case LR_RUN_O_YARN_ORIG:
		if (!(rc = cli_parse_u64(cmd, "--yarn-orig-ctx", arg, 1, 1u << 24, &v)))
			o->yarn_orig_ctx = (uint32_t)v;
		break;
	case LR_RUN_O_TEMP:
		if (!(rc = cli_parse_double(cmd, "--temp", arg, 0, 100, &d)))
			o->sp.temp = (float)d;
		break;
	case LR_RUN_O_TOPK:
		if (!(rc = cli_parse_u64(cmd, "--top-k", arg, 0, 1u << 24, &v)))
			o->sp.top_k = (int)v;
		break;
	case LR_RUN_O_TOPP:
		if (!(rc = cli_parse_double(cmd, "--top-p", arg, 1e-6, 1, &d)))
			o->sp.top_p = (float)d;
		break;
	case LR_RUN_O_MINP:
		if (!(rc = cli_parse_double(cmd, "--min-p", arg, 0, 1, &d)))
			o->sp.min_p = (float)d;
		break;
	case LR_RUN_O_REP:
		if (!(rc = cli_parse_double(cmd, "--repeat-penalty", arg, 1, 10, &d)))
			o->sp.repeat_penalty = (float)d;
		break;
	case LR_RUN_O_SEED:
		rc = cli_parse_u64(cmd, "--seed", arg, 0, UINT64_MAX, &o->sp.seed);
		o->seeded = 1;
		break;
	default:
		return -1;
	}
	return rc;
}

void lr_run_opts_seed(struct lr_run_opts *o)
{
	if (!o->seeded)
		o->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
}

int lr_run_opts_check(const struct lr_run_opts *o, const char *cmd)
{
	if ((o->rope_scale || o->yarn_orig_ctx) && !o->rope_given)
		return cli_usage(cmd, "--rope-scale and --yarn-orig-ctx go with --rope-scaling yarn (or linear)");
	return 0;
}

int lr_run_opts_finish(struct lr_run_opts *o, const char *cmd)
{
	int rc;

	if (!o->model)
		return cli_usage(cmd, "missing model (-m)");
	if ((rc = lr_run_opts_check(o, cmd)))
		return rc;
	lr_run_opts_seed(o);
	return 0;
}

void lr_run_help(FILE *f, const char *n_help, const char *ctx_help)
{
	fprintf(f,
	       "  -m, --model FILE        the GGUF model\n"
	       "  -n, --tokens N          %s\n"
	       "  -c, --ctx N             %s;\n"
	       "                          8k, 32K, 128k: thousands of 1,024\n"
	       "      --kv TYPE           KV cache type: f32, f16, q8 (default; 8.5 bits a value),\n"
	       "                          q4 (4.5 bits, rotated)\n"
	       "  -t, --threads N         threads (default: all CPUs)\n"
	       "      --chat-format NAME  the prompt format: llama3, chatml, deepseek-r1, mistral\n"
	       "                          (default: what the model's chat template writes)\n"
	       "      --rope-scaling yarn --rope-scale F [--yarn-orig-ctx N]\n"
	       "                          RoPE scaling for a model file that lacks it: Qwen2.5\n"
	       "                          reads 131,072 tokens with yarn, factor 4 over 32,768\n"
	       "  llama.cpp's --ctx-size, --n-predict, -ctk/--cache-type-k and -ctv/--cache-type-v\n"
	       "  (f32, f16, q8_0, q4_0) are taken too.\n",
	       n_help, ctx_help);
}

void lr_run_help_sampling(FILE *f)
{
	fprintf(f,
	       "      --temp T            temperature; 0 = greedy (default 0.8)\n"
	       "      --top-k K           keep the K most likely tokens (default 40; 0 = all)\n"
	       "      --top-p P           nucleus sampling (default 0.95; 1 = off)\n"
	       "      --min-p P           drop tokens below P x the best (default 0.05)\n"
	       "      --repeat-penalty R  penalise the last 64 tokens (default 1 = off)\n"
	       "      --seed N            random seed (default: from the clock, printed)\n");
}

/* ------------------------------------------------------------------ the model */

int lr_run_chat(struct lr_run_model *rm, const struct lr_run_opts *o, const struct lr_gguf *g, struct lr_err *err)
{
	const struct lr_gguf_kv *t = lr_gguf_find(g, "tokenizer.chat_template");
	enum lr_chat_format f = o ? o->chat_format : LR_CHAT_NONE;

	rm->no_template = 0;
	if (!f && t && t->type == LR_GGUF_STRING) {
		if (!(f = lr_chat_detect(t->str, (size_t)t->str_len)))
			return lr_errf(err, LR_EUNSUPPORTED, "the model's chat template is none of the formats longread "
				"knows (%s): choose one with --chat-format", lr_chat_format_list());
	} else if (!f) {
		rm->no_template = 1;
		if (!(f = lr_chat_detect_vocab(rm->tok)))
			return lr_errf(err, LR_EUNSUPPORTED, "the model has no chat template and no chat tokens longread "
				"knows: choose a format with --chat-format (%s)", lr_chat_format_list());
	}
	return lr_chat_init(&rm->chat, rm->tok, f, err);
}

/* --rope-scaling and its companions on the open model. */
static int set_rope(struct lr_model *m, const struct lr_run_opts *o, struct lr_err *err)
{
	double scale = o->rope_scale ? o->rope_scale : m->hp.rope_scale;

	if (o->rope_scaling != LR_ROPE_SCALING_NONE && !(scale > 1))
		return lr_errf(err, LR_EINVAL, "--rope-scaling %s needs --rope-scale (the model file gives none)",
			o->rope_scaling == LR_ROPE_SCALING_YARN ? "yarn" : "linear");
	return lr_hparams_set_rope(&m->hp, o->rope_scaling, (float)scale, o->yarn_orig_ctx, err);
}

int lr_run_model_open(struct lr_run_model *rm, const struct lr_run_opts *o, const char *path, int chat,
                      struct lr_err *err)
{
	int rc;

	memset(rm, 0, sizeof *rm);
	if ((rc = lr_model_open(&rm->m, path, err)) || (rc = lr_tok_new(&rm->tok, rm->m->gguf, err)))
		goto fail;
	if (o && o->rope_given && (rc = set_rope(rm->m, o, err)))
		goto fail;
	if (chat && (rc = lr_run_chat(rm, o, rm->m->gguf, err))) {
		lr_err_prefix(err, "'%s': ", path);
		goto fail;
	}
	return 0;
fail:
	lr_run_model_close(rm);
	return rc;
}

void lr_run_model_close(struct lr_run_model *rm)
{
	lr_tok_free(rm->tok);
	lr_model_close(rm->m);
	rm->tok = NULL;
	rm->m = NULL;
}

void lr_run_warn_template(const struct lr_run_model *rm, const char *path)
{
	static int warned;

	if (rm->no_template && !warned++)
		cli_warn("'%s' has no chat template (a base model?); using the %s chat format", path,
		         lr_chat_format_name(rm->chat.format));
}

/* ------------------------------------------------------------------ Ctrl-C, clock, files */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

void lr_run_sigint(int on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking read of the next question returns with EINTR */
	sa.sa_handler = on ? on_sigint : SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	if (on) {
		/* Ctrl-C must get through even when a parent started us with it blocked or ignored */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		interrupted = 0;
	}
}

int lr_run_interrupted(void)
{
	return interrupted != 0;
}

double lr_run_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int lr_run_read_file(const char *path, size_t max, char **out, size_t *len, struct lr_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct lr_buf b = { 0 };
	char chunk[65536];
	size_t r;
	int rc = 0;

	if (!f)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	while (b.n <= max && !lr_buf_failed(&b) &&
	       (r = fread(chunk, 1, max + 1 - b.n < sizeof chunk ? max + 1 - b.n : sizeof chunk, f)) > 0)
		lr_buf_add(&b, chunk, r);
	if (ferror(f))
		rc = lr_errf_sys(err, errno, "cannot read '%s'", path);
	else if (lr_buf_failed(&b))
		rc = lr_errf(err, LR_ENOMEM, "out of memory reading '%s'", path);
	if (f != stdin)
		fclose(f);
	if (!rc && !b.p)
		lr_buf_add(&b, "", 0);
	if (rc || lr_buf_failed(&b)) {
		lr_buf_release(&b);
		return rc ? rc : lr_errf(err, LR_ENOMEM, "out of memory reading '%s'", path);
	}
	*out = b.p;
	*len = b.n;
	return 0;
}

/* ------------------------------------------------------------------ prefilling */

int lr_run_prefill(struct lr_ctx *ctx, const int32_t *ids, uint32_t n, struct lr_speed *speed,
                   struct lr_progress *pg, uint32_t *done, struct lr_err *err)
{
	static const uint8_t none[LR_RUN_CHUNK];   /* want no logits */
	uint32_t base = lr_ctx_pos(ctx);
	int rc = 0;

	*done = 0;
	while (*done < n) {
		uint32_t k = n - *done < LR_RUN_CHUNK ? n - *done : LR_RUN_CHUNK;
		double t0, eta = -1;
		if (lr_run_interrupted()) {
			rc = lr_errf(err, LR_EINTR, "interrupted during prefill (%" PRIu32 " of %" PRIu32
			             " tokens)", *done, n);
			break;
		}
		t0 = lr_run_now();
		if ((rc = lr_eval(ctx, ids + *done, k, none, NULL, err)))
			break;
		*done += k;
		if (speed) {
			struct lr_speed fit;
			lr_speed_add(speed, base + *done - k, base + *done, lr_run_now() - t0);
			fit = *speed;
			if (speed->n >= 2 * LR_RUN_CHUNK && lr_speed_fit(&fit) == 0)
				eta = lr_speed_predict(&fit, base + *done, base + n);
		}
		if (pg)
			lr_progress_update(pg, *done, eta);
	}
	return rc;
}

/* ------------------------------------------------------------------ generating */

const char *lr_run_stop_name(enum lr_run_stop s)
{
	switch (s) {
	case LR_RUN_STOP_END: return "end";
	case LR_RUN_STOP_LENGTH: return "length";
	case LR_RUN_STOP_WINDOW: return "window";
	case LR_RUN_STOP_INTERRUPTED: return "interrupted";
	case LR_RUN_STOP_HALTED: return "halted";
	}
	return "?";
}

/* The text sink of lr_run_generate: a stream (flushed per token) and/or a buffer. */
struct file_sink {
	FILE *out;
	struct lr_buf *text;
};

static int emit_file(void *arg, const char *s, size_t n)
{
	struct file_sink *f = arg;

	if (f->out && n) {
		fwrite(s, 1, n, f->out);
		fflush(f->out);
	}
	if (f->text)
		lr_buf_add(f->text, s, n);
	return 0;
}

int lr_run_generate(struct lr_ctx *ctx, struct lr_sampler *smp, const struct lr_tok *tok,
                    const struct lr_chat *chat, float *logits, uint64_t n_gen,
                    struct lr_tok_ids *hist, FILE *out, struct lr_buf *text, struct lr_run_gen *g,
                    struct lr_err *err)
{
	struct file_sink f = { out, text };
	int rc = lr_run_generate_to(ctx, smp, tok, chat, logits, n_gen, hist, emit_file, &f, g, err);

	if (!rc && text && lr_buf_failed(text))
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
	return rc;
}

int lr_run_generate_to(struct lr_ctx *ctx, struct lr_sampler *smp, const struct lr_tok *tok,
                       const struct lr_chat *chat, float *logits, uint64_t n_gen,
                       struct lr_tok_ids *hist, lr_run_text_fn on_text, void *arg, struct lr_run_gen *g,
                       struct lr_err *err)
{
	struct lr_tok_stream ts = { 0 };
	uint32_t n_ctx = lr_ctx_n_ctx(ctx);
	const char *s;
	size_t n;
	int rc;

	memset(g, 0, sizeof *g);
	g->stop = LR_RUN_STOP_LENGTH;
	if ((rc = lr_tok_stream_init(&ts, tok, LR_TOK_SKIP_SPECIAL, err)))
		return rc;
	for (;;) {
		int32_t id;
		if (lr_run_interrupted()) {
			g->stop = LR_RUN_STOP_INTERRUPTED;
			break;
		}
		if (g->made == n_gen)
			break;
		if (lr_ctx_pos(ctx) >= n_ctx) {
			g->stop = LR_RUN_STOP_WINDOW;
			break;
		}
		id = lr_sampler_sample(smp, logits, hist->v, (uint32_t)hist->n);
		if (!g->made)
			g->t_first = lr_run_now();
		if (chat ? lr_chat_is_stop(chat, id) : id == lr_tok_eos(tok)) {
			g->stop = LR_RUN_STOP_END;
			break;
		}
		g->made++;
		if ((rc = lr_tok_ids_push(hist, id, err)) || (rc = lr_tok_stream_push(&ts, id, &s, &n, err)))
			goto out;
		if (on_text(arg, s, n)) {
			g->stop = LR_RUN_STOP_HALTED;
			goto end;
		}
		if (g->made == n_gen || lr_ctx_pos(ctx) >= n_ctx) {
			g->stop = g->made == n_gen ? LR_RUN_STOP_LENGTH : LR_RUN_STOP_WINDOW;
			break;
		}
		if ((rc = lr_eval(ctx, &id, 1, NULL, logits, err)))
			goto out;
	}
	lr_tok_stream_flush(&ts, &s, &n);
	if (on_text(arg, s, n))
		g->stop = LR_RUN_STOP_HALTED;
end:
	if (!g->made)
		g->t_first = lr_run_now();
	g->t_end = lr_run_now();
out:
	lr_tok_stream_release(&ts);
	return rc;
}
