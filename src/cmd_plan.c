/* src/cmd_plan.c — `longread plan -m MODEL PATH...`: the budget report without running
 * the model: tokens per document, the total against the window, the KV cache memory
 * at that size, and the prefill time at the speed measured on this machine.  Also
 * shows the exact prompt (--show-prompt, --show-ids) for checking the layout. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/kv.h"
#include "src/ask_api.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/json.h"
#include "src/report.h"
#include "src/session.h"

#define CMD "plan"
#define MEASURE_TOKENS 2048

static void usage(void)
{
	printf("Usage: longread plan -m MODEL.gguf [options] PATH...\n"
	       "   or: longread plan --api URL [-m MODEL.gguf | --vocab VOCAB.gguf] [options] PATH...\n"
	       "\n"
	       "Report how the documents in PATH... fill the model's context window, without\n"
	       "running the model: tokens per document (with the model's own tokenizer), the\n"
	       "total against the window, the KV cache memory at that size, and the prefill\n"
	       "time at the speed measured on this machine (recorded by 'longread ask').\n"
	       "\n"
	       "Options:\n"
	       "      --json              the report as one JSON object\n"
	       "      --show-prompt       print the exact prompt text instead (special tokens\n"
	       "                          spelled out; with -q the question too)\n"
	       "      --show-ids          print the prompt's token ids instead, one per line\n"
	       "      --measure           measure the prefill speed now (up to %d tokens of\n"
	       "                          this corpus) and record it\n", MEASURE_TOKENS);
	lr_session_help(stdout, 1);
	lr_ask_api_help(stdout);
	printf("  -h, --help              show this help and exit\n"
	       "\n"
	       "Exit status: 0 fits; 6 does not fit (the table says by how much); 10 fits but\n"
	       "some inputs could not be read; 2 usage; 3 a file cannot be read; 4 malformed\n"
	       "model; 5 unsupported model (no chat format longread knows), or no input with text to\n"
	       "read.\n");
}

/* Measure the prefill speed on the first tokens of the prefix and record it. */
static int measure(struct lr_session *s, struct lr_speed *sp, struct lr_err *err)
{
	struct lr_ctx_params cp = s->run.cp;
	struct lr_ctx *ctx = NULL;
	uint32_t n = s->pack->ids.n < MEASURE_TOKENS ? (uint32_t)s->pack->ids.n : MEASURE_TOKENS, done;
	int rc;

	memset(sp, 0, sizeof *sp);
	cp.n_ctx = n;
	if ((rc = lr_ctx_new(&ctx, s->rm.m, &cp, err)))
		return rc;
	lr_run_sigint(1);
	rc = lr_run_prefill(ctx, s->pack->ids.v, n, sp, NULL, &done, err);
	lr_run_sigint(0);
	sp->threads = lr_ctx_threads(ctx);
	sp->when = (int64_t)time(NULL);
	lr_ctx_free(ctx);
	if (rc)
		return rc;
	lr_speed_fit(sp);
	lr_speed_save(s->fingerprint, lr_kv_type_name(s->run.cp.kv_type), sp);
	return 0;
}

static void print_prefill(const struct lr_session *s, const struct lr_speed *sp, int have, uint64_t tokens)
{
	char d[32], n[32], deep[32], rate[32], ago[48];
	double age = have ? difftime(time(NULL), (time_t)sp->when) : 0;

	if (!have) {
		printf("prefill       unknown: no speed measured for this model and KV type yet (run 'longread "
		       "ask' once, or plan --measure)\n");
		return;
	}
	if (age < 120)
		snprintf(ago, sizeof ago, "just now");
	else if (age < 7200)
		snprintf(ago, sizeof ago, "%.0f minutes ago", age / 60);
	else if (age < 172800)
		snprintf(ago, sizeof ago, "%.0f hours ago", age / 3600);
	else
		snprintf(ago, sizeof ago, "%.0f days ago", age / 86400);
	printf("prefill       about %s for %s tokens (measured %s: %s tok/s at the start, %d thread%s, "
	       "up to %s tokens deep)\n", lr_duration(lr_speed_predict(sp, 0, tokens), d, sizeof d),
	       lr_count(tokens, n, sizeof n), ago, lr_count((uint64_t)(1 / sp->a + 0.5), rate, sizeof rate),
	       sp->threads, sp->threads == 1 ? "" : "s",
	       lr_count(sp->tokens, deep, sizeof deep));
	(void)s;
}

/* "Will it run here": the weights (mapped from the file, resident as they are used)
 * and the KV cache against the memory this machine has available now. */
static void print_memory(const struct lr_session *s, uint64_t kv_bytes, uint64_t avail)
{
	uint64_t w = s->rm.m->gguf->size, total = w + kv_bytes;
	char b1[16], b2[16], b3[16], b4[16];

	printf("memory        %s: weights %s + KV cache %s", cli_bytes(total, b1, sizeof b1),
	       cli_bytes(w, b2, sizeof b2), cli_bytes(kv_bytes, b3, sizeof b3));
	if (!avail) {
		printf(" (the memory available here is unknown)\n");
		return;
	}
	printf("; %s available here: ", cli_bytes(avail, b4, sizeof b4));
	if (total <= avail)
		printf("fits\n");
	else
		printf("%s short (a smaller --kv, -c or model; the weights would page from disk)\n",
		       cli_bytes(total - avail, b1, sizeof b1));
}

static void print_json(const struct lr_session *s, const struct lr_ask_api *x, const struct lr_speed *sp,
                       int have, uint64_t tokens, uint64_t kv_bytes)
{
	struct json j;

	json_init(&j, stdout, 1);
	json_obj(&j);
	json_key(&j, "model");
	if (s->rm.m) lr_session_json_model(&j, s); else json_nil(&j);
	if (x->api) {
		/* the server answers: no cache or prefill here */
		json_key(&j, "api"); lr_ask_api_json(&j, x, s, NULL);
		json_key(&j, "budget"); lr_report_json_budget(&j, s->pack);
		json_key(&j, "documents"); lr_report_json_documents(&j, s->pack);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	json_key(&j, "kv"); json_str(&j, lr_kv_type_name(s->run.cp.kv_type));
	json_key(&j, "kv_bytes"); json_uint(&j, kv_bytes);
	{
		uint64_t avail = lr_mem_available(), total = s->rm.m->gguf->size + kv_bytes;
		json_key(&j, "memory");
		json_obj(&j);
		json_key(&j, "weights"); json_uint(&j, s->rm.m->gguf->size);
		json_key(&j, "kv"); json_uint(&j, kv_bytes);
		json_key(&j, "total"); json_uint(&j, total);
		json_key(&j, "available");
		if (avail) json_uint(&j, avail); else json_nil(&j);
		json_key(&j, "fits");
		if (avail) json_bool(&j, total <= avail); else json_nil(&j);
		json_obj_end(&j);
	}
	json_key(&j, "budget"); lr_report_json_budget(&j, s->pack);
	json_key(&j, "prefill_seconds");
	if (have) json_num(&j, lr_speed_predict(sp, 0, tokens)); else json_nil(&j);
	json_key(&j, "documents"); lr_report_json_documents(&j, s->pack);
	json_obj_end(&j);
	json_end(&j);
}

static int show(struct lr_session *s, int ids_only, struct lr_err *err)
{
	struct lr_tok_ids ids = { 0 };
	char *text = NULL;
	size_t len;
	int rc;

	for (size_t i = 0; i < s->pack->ids.n; i++)
		if ((rc = lr_tok_ids_push(&ids, s->pack->ids.v[i], err)))
			goto out;
	if (s->n_questions &&
	    (rc = lr_pack_question(s->pack, s->questions[0], strlen(s->questions[0]), &ids, err)))
		goto out;
	if (ids_only) {
		for (size_t i = 0; i < ids.n; i++)
			printf("%" PRId32 "\n", ids.v[i]);
	} else {
		if ((rc = lr_tok_decode(s->rm.tok, ids.v, ids.n, 0, &text, &len, err)))
			goto out;
		fwrite(text, 1, len, stdout);
	}
	rc = 0;
out:
	free(text);
	lr_tok_ids_release(&ids);
	return rc;
}

int cmd_plan(int argc, char **argv)
{
	enum { O_JSON = 256, O_PROMPT, O_IDS, O_MEASURE };
	static const struct option opts[] = {
		LR_SESSION_OPTIONS,
		LR_ASK_API_OPTIONS,
		{ "json", no_argument, NULL, O_JSON },
		{ "show-prompt", no_argument, NULL, O_PROMPT },
		{ "show-ids", no_argument, NULL, O_IDS },
		{ "measure", no_argument, NULL, O_MEASURE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_session s;
	struct lr_ask_api x;
	struct lr_err err = { 0 };
	struct lr_speed sp;
	int json = 0, prompt = 0, ids = 0, meas = 0, have, c, rc;
	uint64_t tokens, kv_bytes;

	lr_session_init(&s, CMD);
	lr_ask_api_init(&x, CMD);
	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":" LR_SESSION_SHORT_OPTIONS "h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: json = 1; break;
		case O_PROMPT: prompt = 1; break;
		case O_IDS: ids = 1; break;
		case O_MEASURE: meas = 1; break;
		case 'h': usage(); return LR_EXIT_OK;
		case LR_ASK_API_O_VOCAB: s.vocab = optarg; break;
		default:
			if ((rc = lr_ask_api_opt(&x, c, optarg)) != -1) {
				if (rc)
					return rc;
				break;
			}
			x.local_only |= c == 't' || c == LR_RUN_O_KV;
			if ((rc = lr_session_opt(&s, c, optarg, argv)))
				return rc;
		}
	}
	if (x.escalate) {
		rc = cli_usage(CMD, "--escalate-api is for ask; plan takes --api");
		goto out;
	}
	if ((rc = lr_ask_api_start(&x, &s)))
		goto out;
	if (s.vocab && !x.api) {
		rc = cli_usage(CMD, "--vocab counts tokens for --api; plan without it needs the model (-m)");
		goto out;
	}
	if (x.api && meas) {
		rc = cli_usage(CMD, "--measure measures the local engine: it means nothing with --api");
		goto out;
	}
	if (json + prompt + ids > 1) {
		rc = cli_usage(CMD, "give only one of --json, --show-prompt, --show-ids");
		goto out;
	}
	if ((rc = lr_session_open(&s, argv + optind, argc - optind, &err)))
		goto out;
	if (s.layout_rc && (prompt || ids || meas)) {
		rc = cli_fail(&err);
		goto out;
	}
	if ((prompt || ids) && !s.rm.tok) {
		rc = cli_usage(CMD, "--show-prompt and --show-ids need the tokenizer: give -m or --vocab");
		goto out;
	}
	if (prompt || ids) {
		rc = show(&s, ids, &err) ? cli_fail(&err) : lr_corpus_status(&s.corpus);
		goto out;
	}
	if (x.api) {
		if ((rc = lr_ask_api_ready(&x, &s)))
			goto out;
		if (json) {
			print_json(&s, &x, &sp, 0, 0, 0);
		} else {
			lr_report_table(stdout, s.pack, 0);
			putchar('\n');
			lr_report_totals(stdout, s.pack, s.n_questions > 0);
		}
		rc = s.layout_rc ? cli_fail(&err) : lr_corpus_status(&s.corpus);
		goto out;
	}
	tokens = (uint64_t)s.pack->n_fixed + s.pack->n_doc_tokens + s.pack->n_question;
	kv_bytes = lr_kv_bytes(&s.rm.m->hp, s.run.cp.kv_type, tokens + s.pack->o.answer_tokens);
	if (meas) {
		if ((rc = measure(&s, &sp, &err))) {
			rc = cli_fail(&err);
			goto out;
		}
		have = 1;
	} else {
		have = lr_speed_load(s.fingerprint, lr_kv_type_name(s.run.cp.kv_type), &sp) == 0;
	}
	if (json) {
		print_json(&s, &x, &sp, have, tokens, kv_bytes);
	} else {
		char b1[16], b2[16], n1[32], n2[32];
		lr_report_table(stdout, s.pack, 0);
		putchar('\n');
		lr_report_totals(stdout, s.pack, s.n_questions > 0);
		printf("KV cache      %s (%s) for %s tokens; %s for the whole %s-token window\n",
		       cli_bytes(kv_bytes, b1, sizeof b1), lr_kv_type_name(s.run.cp.kv_type),
		       lr_count(tokens + s.pack->o.answer_tokens, n1, sizeof n1),
		       cli_bytes(lr_kv_bytes(&s.rm.m->hp, s.run.cp.kv_type, s.window), b2, sizeof b2),
		       lr_count(s.window, n2, sizeof n2));
		print_memory(&s, kv_bytes, lr_mem_available());
		print_prefill(&s, &sp, have, tokens);
	}
	if (s.layout_rc)
		rc = cli_fail(&err);
	else
		rc = lr_corpus_status(&s.corpus);
out:
	lr_ask_api_release(&x);
	lr_session_release(&s);
	return rc;
}
