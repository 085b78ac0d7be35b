/* src/cmd_generate.c — `longread generate -m MODEL -p TEXT`: complete a prompt (or
 * answer it as a chat turn with --chat), streaming the text to stdout as it is made;
 * prefill and decode speeds go to stderr. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/run.h"

#define CMD "generate"
#define MAX_PROMPT_FILE (64 << 20)   /* bytes: far more than any window holds */

static void usage(void)
{
	printf("Usage: longread generate -m MODEL.gguf (-p TEXT | -f FILE) [options]\n"
	       "\n"
	       "Continue a prompt with the model and stream the text to stdout.  With --chat\n"
	       "the prompt is a user message in the model's chat format and the answer ends at\n"
	       "the end of the assistant's turn.  Speeds go to stderr.\n"
	       "\n"
	       "Options:\n"
	       "  -p, --prompt TEXT       the prompt\n"
	       "  -f, --file FILE         read the prompt from FILE ('-' for stdin)\n"
	       "      --chat              use the chat format (system, user, assistant)\n"
	       "      --system TEXT       the system message (with --chat)\n");
	lr_run_help(stdout, "generate at most N tokens (default 256)",
	            "context window (default: prompt + N, at most the model's)");
	lr_run_help_sampling(stdout);
	printf("  -h, --help              show this help and exit\n");
}

int cmd_generate(int argc, char **argv)
{
	enum { O_CHAT = 256, O_SYSTEM };
	static const struct option opts[] = {
		LR_RUN_MODEL_OPTIONS, LR_RUN_SAMPLING_OPTIONS,
		{ "prompt", required_argument, NULL, 'p' }, { "file", required_argument, NULL, 'f' },
		{ "chat", no_argument, NULL, O_CHAT }, { "system", required_argument, NULL, O_SYSTEM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_run_opts ro;
	const char *prompt = NULL, *file = NULL, *system = NULL;
	char *file_text = NULL;
	size_t prompt_len = 0;
	int chat = 0, c, rc;
	struct lr_run_model rm = { 0 };
	struct lr_ctx *ctx = NULL;
	struct lr_sampler *smp = NULL;
	struct lr_tok_ids ids = { 0 };
	struct lr_err err = { 0 };
	struct lr_run_gen g;
	float *logits = NULL;
	uint32_t n_prompt;
	double t0, t1;

	lr_run_opts_init(&ro, 256, LR_KV_Q8);
	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":" LR_RUN_SHORT_OPTIONS "p:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': prompt = optarg; break;
		case 'f': file = optarg; break;
		case O_CHAT: chat = 1; break;
		case O_SYSTEM: system = optarg; break;
		case 'h': usage(); return LR_EXIT_OK;
		default:
			if ((rc = lr_run_opt(&ro, CMD, c, optarg)) == -1)
				return cli_opt_error(CMD, c, argv);
			if (rc)
				return rc;
		}
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if ((rc = lr_run_opts_finish(&ro, CMD)))
		return rc;
	if (!prompt == !file)
		return cli_usage(CMD, "give the prompt with either -p or -f");
	if (system && !chat)
		return cli_usage(CMD, "--system needs --chat");

	if (file) {
		if ((rc = lr_run_read_file(file, MAX_PROMPT_FILE, &file_text, &prompt_len, &err)))
			goto fail;
		if (prompt_len > MAX_PROMPT_FILE) {
			rc = lr_errf(&err, LR_ERANGE, "'%s' is over %d MiB: too long for a prompt", file,
			             MAX_PROMPT_FILE >> 20);
			goto fail;
		}
		prompt = file_text;
	} else {
		prompt_len = strlen(prompt);
	}
	if ((rc = lr_run_model_open(&rm, &ro, ro.model, chat, &err)))
		goto fail;
	lr_run_kv_default(&ro, &rm.m->hp);
	if (ro.cp.n_ctx > rm.m->hp.n_ctx_train) {
		rc = lr_errf(&err, LR_ERANGE, "--ctx %" PRIu32 " exceeds the model's %" PRIu32 "-token context",
			ro.cp.n_ctx, rm.m->hp.n_ctx_train);
		goto fail;
	}
	if (chat) {
		const struct lr_chat *ch = &rm.chat;
		lr_run_warn_template(&rm, ro.model);
		if ((rc = lr_chat_begin(ch, &ids, &err)) ||
		    (system && (rc = lr_chat_message(ch, "system", system, strlen(system), &ids, &err))) ||
		    (rc = lr_chat_message(ch, "user", prompt, prompt_len, &ids, &err)) ||
		    (rc = lr_chat_prompt(ch, &ids, &err)))
			goto fail;
	} else {
		if (lr_tok_bos(rm.tok) >= 0 && (rc = lr_tok_ids_push(&ids, lr_tok_bos(rm.tok), &err)))
			goto fail;
		if ((rc = lr_tok_encode(rm.tok, prompt, prompt_len, 0, &ids, &err)))
			goto fail;
	}
	n_prompt = (uint32_t)ids.n;
	if (!ro.cp.n_ctx) {
		uint64_t want = (uint64_t)n_prompt + ro.n_gen;
		ro.cp.n_ctx = want < rm.m->hp.n_ctx_train ? (uint32_t)want : rm.m->hp.n_ctx_train;
	}
	if (n_prompt > ro.cp.n_ctx) {
		rc = lr_errf(&err, LR_ENOFIT, "the prompt is %" PRIu32 " tokens; the window holds %" PRIu32,
			n_prompt, ro.cp.n_ctx);
		goto fail;
	}
	if ((rc = lr_run_ctx_new(&ctx, rm.m, &ro.cp, &err)) ||
	    (rc = lr_sampler_new(&smp, &ro.sp, rm.m->hp.n_vocab, &err)))
		goto fail;
	logits = malloc(sizeof(float) * rm.m->hp.n_vocab);
	if (!logits) {
		rc = lr_errf(&err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	lr_run_sigint(1);
	t0 = lr_run_now();
	if ((rc = lr_eval(ctx, ids.v, n_prompt, NULL, logits, &err)))
		goto fail;
	t1 = lr_run_now();
	if ((rc = lr_run_generate(ctx, smp, rm.tok, chat ? &rm.chat : NULL, logits, ro.n_gen, &ids, stdout,
	                          NULL, &g, &err)))
		goto fail;
	fputc('\n', stdout);
	fflush(stdout);
	fprintf(stderr, "longread: prefill %" PRIu32 " tokens in %.2f s (%.1f tok/s), generated %" PRIu64
	        " tokens in %.2f s (%.1f tok/s), seed %" PRIu64 "\n", n_prompt, t1 - t0,
	        n_prompt / (t1 - t0 > 0 ? t1 - t0 : 1e-9), g.made, g.t_end - t1,
	        g.made / (g.t_end - t1 > 0 ? g.t_end - t1 : 1e-9), ro.sp.seed);
	rc = g.stop == LR_RUN_STOP_INTERRUPTED ? LR_EXIT_INTERRUPTED : LR_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	lr_run_sigint(0);
	free(logits);
	lr_tok_ids_release(&ids);
	lr_sampler_free(smp);
	lr_ctx_free(ctx);
	lr_run_model_close(&rm);
	free(file_text);
	return rc;
}
