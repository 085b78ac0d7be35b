/* src/cmd_generate.c — `longread generate -m MODEL -p TEXT`: complete a prompt (or
 * answer it as a chat turn with --chat), streaming the text to stdout as it is made;
 * prefill and decode speeds go to stderr. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/chat.h"
#include "engine/forward.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tok.h"
#include "src/cli.h"
#include "src/commands.h"

#define CMD "generate"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void usage(void)
{
	printf("Usage: longread generate -m MODEL.gguf (-p TEXT | -f FILE) [options]\n"
	       "\n"
	       "Continue a prompt with the model and stream the text to stdout.  With --chat\n"
	       "the prompt is a user message in the Llama 3 chat format and the answer ends at\n"
	       "the end of the assistant's turn.  Speeds go to stderr.\n"
	       "\n"
	       "Options:\n"
	       "  -m, --model FILE        the GGUF model\n"
	       "  -p, --prompt TEXT       the prompt\n"
	       "  -f, --file FILE         read the prompt from FILE ('-' for stdin)\n"
	       "  -n, --tokens N          generate at most N tokens (default 256)\n"
	       "      --chat              use the chat format (system, user, assistant)\n"
	       "      --system TEXT       the system message (with --chat)\n"
	       "      --temp T            temperature; 0 = greedy (default 0.8)\n"
	       "      --top-k K           keep the K most likely tokens (default 40; 0 = all)\n"
	       "      --top-p P           nucleus sampling (default 0.95; 1 = off)\n"
	       "      --min-p P           drop tokens below P x the best (default 0.05)\n"
	       "      --repeat-penalty R  penalise the last 64 tokens (default 1 = off)\n"
	       "      --seed N            random seed (default: from the clock, printed)\n"
	       "  -c, --ctx N             context window in tokens (default: prompt + N, at most\n"
	       "                          the model's context length, which is also the limit)\n"
	       "      --kv TYPE           KV cache type: f32, f16, q8 (8.5 bits a value), q4 (4.5\n"
	       "                          bits, rotated); default q8\n"
	       "  -t, --threads N         threads (default: all CPUs)\n"
	       "  -h, --help              show this help and exit\n");
}

static int read_file(const char *path, char **out, size_t *len, struct lr_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return lr_errf(err, LR_ENOMEM, "out of memory reading '%s'", path);
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		if (f != stdin)
			fclose(f);
		return lr_errf_sys(err, e, "cannot read '%s'", path);
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int cmd_generate(int argc, char **argv)
{
	enum { O_CHAT = 256, O_SYSTEM, O_TEMP, O_TOPK, O_TOPP, O_MINP, O_REP, O_SEED, O_KV };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "prompt", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' }, { "tokens", required_argument, NULL, 'n' },
		{ "chat", no_argument, NULL, O_CHAT }, { "system", required_argument, NULL, O_SYSTEM },
		{ "temp", required_argument, NULL, O_TEMP }, { "top-k", required_argument, NULL, O_TOPK },
		{ "top-p", required_argument, NULL, O_TOPP }, { "min-p", required_argument, NULL, O_MINP },
		{ "repeat-penalty", required_argument, NULL, O_REP }, { "seed", required_argument, NULL, O_SEED },
		{ "ctx", required_argument, NULL, 'c' }, { "kv", required_argument, NULL, O_KV },
		{ "threads", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_sampler_params sp = lr_sampler_defaults();
	struct lr_ctx_params cp = { .kv_type = LR_KV_Q8 };
	const char *model_path = NULL, *prompt = NULL, *file = NULL, *system = NULL;
	char *file_text = NULL;
	size_t prompt_len = 0;
	uint64_t n_gen = 256, v;
	double d;
	int chat = 0, seeded = 0, kv_given = 0, c, rc;
	struct lr_model *m = NULL;
	struct lr_tok *tok = NULL;
	struct lr_ctx *ctx = NULL;
	struct lr_sampler *smp = NULL;
	struct lr_tok_ids ids = { 0 };
	struct lr_tok_stream ts = { 0 };
	struct lr_chat ch;
	struct lr_err err = { 0 };
	float *logits = NULL;
	uint32_t n_prompt;
	double t0, t1, t2;
	uint64_t made = 0;

	while ((c = getopt_long(argc, argv, ":m:p:f:n:c:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model_path = optarg; break;
		case 'p': prompt = optarg; break;
		case 'f': file = optarg; break;
		case O_CHAT: chat = 1; break;
		case O_SYSTEM: system = optarg; break;
		case 'n':
			if ((rc = cli_parse_u64(CMD, "--tokens", optarg, 0, 1u << 20, &n_gen)))
				return rc;
			break;
		case O_TEMP:
			if ((rc = cli_parse_double(CMD, "--temp", optarg, 0, 100, &d)))
				return rc;
			sp.temp = (float)d;
			break;
		case O_TOPK:
			if ((rc = cli_parse_u64(CMD, "--top-k", optarg, 0, 1u << 24, &v)))
				return rc;
			sp.top_k = (int)v;
			break;
		case O_TOPP:
			if ((rc = cli_parse_double(CMD, "--top-p", optarg, 1e-6, 1, &d)))
				return rc;
			sp.top_p = (float)d;
			break;
		case O_MINP:
			if ((rc = cli_parse_double(CMD, "--min-p", optarg, 0, 1, &d)))
				return rc;
			sp.min_p = (float)d;
			break;
		case O_REP:
			if ((rc = cli_parse_double(CMD, "--repeat-penalty", optarg, 1, 10, &d)))
				return rc;
			sp.repeat_penalty = (float)d;
			break;
		case O_SEED:
			if ((rc = cli_parse_u64(CMD, "--seed", optarg, 0, UINT64_MAX, &sp.seed)))
				return rc;
			seeded = 1;
			break;
		case 'c':
			if ((rc = cli_parse_u64(CMD, "--ctx", optarg, 1, 1u << 24, &v)))
				return rc;
			cp.n_ctx = (uint32_t)v;
			break;
		case O_KV:
			if (lr_kv_type_parse(optarg, &cp.kv_type))
				return cli_usage(CMD, "invalid KV cache type '%s' (f32, f16, q8, q4)", optarg);
			kv_given = 1;
			break;
		case 't':
			if ((rc = cli_parse_u64(CMD, "--threads", optarg, 1, 1024, &v)))
				return rc;
			cp.n_threads = (int)v;
			break;
		case 'h': usage(); return LR_EXIT_OK;
		default: return cli_opt_error(CMD, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!model_path)
		return cli_usage(CMD, "missing model (-m)");
	if (!prompt == !file)
		return cli_usage(CMD, "give the prompt with either -p or -f");
	if (system && !chat)
		return cli_usage(CMD, "--system needs --chat");
	if (!seeded)
		sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);

	if (file) {
		if ((rc = read_file(file, &file_text, &prompt_len, &err)))
			goto fail;
		prompt = file_text;
	} else {
		prompt_len = strlen(prompt);
	}
	if ((rc = lr_model_open(&m, model_path, &err)) || (rc = lr_tok_new(&tok, m->gguf, &err)))
		goto fail;
	if (cp.n_ctx > m->hp.n_ctx_train) {
		rc = lr_errf(&err, LR_ERANGE, "--ctx %" PRIu32 " exceeds the model's %" PRIu32 "-token context",
			cp.n_ctx, m->hp.n_ctx_train);
		goto fail;
	}
	/* the default cache type falls back to f16 for head sizes q8 cannot take */
	if (!kv_given && lr_kv_supported(&m->hp, cp.kv_type, NULL))
		cp.kv_type = LR_KV_F16;
	if (chat) {
		if ((rc = lr_chat_init(&ch, tok, &err)) || (rc = lr_chat_begin(&ch, &ids, &err)) ||
		    (system && (rc = lr_chat_message(&ch, "system", system, strlen(system), &ids, &err))) ||
		    (rc = lr_chat_message(&ch, "user", prompt, prompt_len, &ids, &err)) ||
		    (rc = lr_chat_header(&ch, "assistant", &ids, &err)) || (rc = lr_chat_text(&ch, "", 0, &ids, &err)))
			goto fail;
	} else {
		if (lr_tok_bos(tok) >= 0 && (rc = lr_tok_ids_push(&ids, lr_tok_bos(tok), &err)))
			goto fail;
		if ((rc = lr_tok_encode(tok, prompt, prompt_len, 0, &ids, &err)))
			goto fail;
	}
	n_prompt = (uint32_t)ids.n;
	if (!cp.n_ctx) {
		uint64_t want = (uint64_t)n_prompt + n_gen;
		cp.n_ctx = want < m->hp.n_ctx_train ? (uint32_t)want : m->hp.n_ctx_train;
	}
	if (n_prompt > cp.n_ctx) {
		rc = lr_errf(&err, LR_ENOFIT, "the prompt is %" PRIu32 " tokens; the window holds %" PRIu32,
			n_prompt, cp.n_ctx);
		goto fail;
	}
	if ((rc = lr_ctx_new(&ctx, m, &cp, &err)))
		goto fail;
	{
		char b[32];
		fprintf(stderr, "longread: KV cache %s: %s for %" PRIu32 " tokens\n", lr_kv_type_name(cp.kv_type),
		        cli_bytes(lr_ctx_kv(ctx)->bytes, b, sizeof b), cp.n_ctx);
	}
	if ((rc = lr_sampler_new(&smp, &sp, m->hp.n_vocab, &err)) ||
	    (rc = lr_tok_stream_init(&ts, tok, LR_TOK_SKIP_SPECIAL, &err)))
		goto fail;
	logits = malloc(sizeof(float) * m->hp.n_vocab);
	if (!logits) {
		rc = lr_errf(&err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	signal(SIGINT, on_sigint);
	t0 = now();
	if ((rc = lr_eval(ctx, ids.v, n_prompt, NULL, logits, &err)))
		goto fail;
	t1 = now();
	while (made < n_gen && !interrupted && lr_ctx_pos(ctx) < cp.n_ctx) {
		const char *text;
		size_t len;
		int32_t id = lr_sampler_sample(smp, logits, ids.v, (uint32_t)ids.n);
		if ((chat && lr_chat_is_stop(&ch, id)) || (!chat && id == lr_tok_eos(tok)))
			break;
		made++;
		if ((rc = lr_tok_ids_push(&ids, id, &err)) || (rc = lr_tok_stream_push(&ts, id, &text, &len, &err)))
			goto fail;
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		if (made == n_gen || lr_ctx_pos(ctx) == cp.n_ctx)
			break;
		if ((rc = lr_eval(ctx, &id, 1, NULL, logits, &err)))
			goto fail;
	}
	t2 = now();
	{
		const char *text;
		size_t len;
		lr_tok_stream_flush(&ts, &text, &len);
		fwrite(text, 1, len, stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
	fprintf(stderr, "longread: prefill %" PRIu32 " tokens in %.2f s (%.1f tok/s), generated %" PRIu64
	        " tokens in %.2f s (%.1f tok/s), seed %" PRIu64 "\n", n_prompt, t1 - t0,
	        n_prompt / (t1 - t0 > 0 ? t1 - t0 : 1e-9), made, t2 - t1, made / (t2 - t1 > 0 ? t2 - t1 : 1e-9),
	        sp.seed);
	rc = interrupted ? LR_EXIT_INTERRUPTED : LR_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	signal(SIGINT, SIG_DFL);
	free(logits);
	lr_tok_stream_release(&ts);
	lr_tok_ids_release(&ids);
	lr_sampler_free(smp);
	lr_ctx_free(ctx);
	lr_tok_free(tok);
	lr_model_close(m);
	free(file_text);
	return rc;
}
