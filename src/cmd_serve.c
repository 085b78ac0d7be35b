/* src/cmd_serve.c — `longread serve -m MODEL [--corpus NAME=FILE.lrc]...`: the model
 * and its saved windows behind the OpenAI-compatible API, on localhost by default.
 * This file is the command: options, loading, listening, and the shutdown on SIGTERM
 * or SIGINT (refuse what is queued, let the answer in progress finish within --grace,
 * then cut it).  The protocol is src/serve_api.c, the engine src/serve_engine.c. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/digest.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/serve.h"

#define CMD "serve"
#define MAX_CORPORA 64
#define MAX_CONNECTIONS 64

static void usage(void)
{
	printf("Usage: longread serve -m MODEL.gguf [--corpus NAME=FILE.lrc]... [options]\n"
	       "\n"
	       "Answer OpenAI-compatible API requests with the model: /v1/chat/completions\n"
	       "(streamed or not), /v1/completions, /v1/models, /health, /tokenize and\n"
	       "/detokenize.  A request that begins with what the cache holds prefills only the\n"
	       "rest.  A corpus (a window saved by 'longread pack') is answered without sending\n"
	       "or prefilling its documents: name it as the request's \"model\" (or \"corpus\"),\n"
	       "ask the question as the last user message; the reply checks the citations\n"
	       "(\"longread\": {\"citations\"}).  One request runs at a time; others wait in a\n"
	       "bounded queue.  SIGTERM or SIGINT: refuse new and queued requests, finish the\n"
	       "answer in progress (at most --grace seconds, or until a second signal), exit.\n"
	       "\n"
	       "Options:\n"
	       "      --corpus NAME=FILE  serve the saved window FILE.lrc as NAME (repeatable)\n"
	       "      --host HOST         the address to listen on (default 127.0.0.1; 0.0.0.0 or\n"
	       "                          :: for every interface: then set a key)\n"
	       "      --port N            the port (default 8080; 0 = any free one, printed)\n"
	       "      --api-key KEY       require 'Authorization: Bearer KEY' (except /health);\n"
	       "                          better from $LONGREAD_SERVE_API_KEY (ps shows arguments)\n"
	       "      --alias NAME        the model's name in /v1/models (default: the file name)\n"
	       "      --queue N           requests that may wait for the engine (default 8); more\n"
	       "                          get 503 with Retry-After\n"
	       "      --max-body BYTES    largest request body (default 16777216); larger get 413\n"
	       "      --grace S           seconds the answer in progress may take to finish after\n"
	       "                          SIGTERM or SIGINT (default 30)\n");
	lr_run_help(stdout, "default answer length when a request gives no max_tokens (default: the\n"
	            "                          rest of the window, or a corpus's answer room)",
	            "the engine's window (default: the largest corpus's, else the model's context\n"
	            "                          length, at most 131072)");
	printf("Sampling options set the defaults; a request's fields override them.\n");
	lr_run_help_sampling(stdout);
	printf("  -h, --help              show this help and exit\n"
	       "\n"
	       "Exit status: 0 after SIGTERM, 130 after SIGINT; 2 usage, 3 or 4 a model or corpus\n"
	       "that cannot be read, 8 a corpus of another model or KV type, 14 cannot listen on\n"
	       "the address (port in use).\n");
}

/* NAME=FILE of --corpus. */
static int parse_corpus(struct lr_serve_corpus *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;

	if (!eq || !n || !eq[1])
		return cli_usage(CMD, "--corpus '%s': give NAME=FILE.lrc", arg);
	if (n > 128 || strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") < n)
		return cli_usage(CMD, "--corpus '%s': a name is 1 to 128 letters, digits, '.', '_' or '-'", arg);
	if (!(c->name = strndup(arg, n)))
		return cli_fail(&(struct lr_err){ .code = LR_ENOMEM, .msg = "out of memory" });
	c->path = eq + 1;
	return 0;
}

/* Wait for SIGTERM or SIGINT (blocked in every thread), then shut down.  @return the
 * exit status. */
static int run_until_signal(struct lr_server *sv, double grace)
{
	sigset_t set;
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	double deadline;
	int sig = 0, cut = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "longread: %s: refusing new requests, finishing the answer in progress\n",
	        sig == SIGINT ? "SIGINT" : "SIGTERM");
	lr_serve_drain(sv);
	deadline = lr_run_now() + grace;
	while (lr_serve_busy(sv)) {
		int s = sigtimedwait(&set, NULL, &tick);
		if (!cut && (s > 0 || lr_run_now() >= deadline)) {
			fprintf(stderr, "longread: cutting the answer in progress off (%s)\n",
			        s > 0 ? "a second signal" : "--grace is over");
			lr_serve_cut(sv);
			cut = 1;
		}
	}
	return sig == SIGINT ? LR_EXIT_INTERRUPTED : LR_EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
	enum { O_CORPUS = 256, O_HOST, O_PORT, O_KEY, O_ALIAS, O_QUEUE, O_MAXBODY, O_GRACE };
	static const struct option opts[] = {
		LR_RUN_MODEL_OPTIONS, LR_RUN_SAMPLING_OPTIONS,
		{ "corpus", required_argument, NULL, O_CORPUS }, { "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT }, { "api-key", required_argument, NULL, O_KEY },
		{ "alias", required_argument, NULL, O_ALIAS }, { "queue", required_argument, NULL, O_QUEUE },
		{ "max-body", required_argument, NULL, O_MAXBODY }, { "grace", required_argument, NULL, O_GRACE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_server sv;
	struct lr_serve_corpus corpora[MAX_CORPORA];
	struct lr_httpd *httpd = NULL;
	struct lr_httpd_opts ho = { "127.0.0.1", 8080, 16u << 20, MAX_CONNECTIONS, lr_serve_handle, &sv };
	struct lr_err err = { 0 };
	const char *alias = NULL, *key = getenv("LONGREAD_SERVE_API_KEY");
	double grace = 30;
	uint64_t v;
	uint32_t n_ctx;
	char win[32], host[300];
	sigset_t set;
	int c, rc, served = 0;

	memset(&sv, 0, sizeof sv);
	memset(corpora, 0, sizeof corpora);
	lr_run_opts_init(&sv.run, 0, LR_KV_Q8);
	sv.queue_max = 8;
	sv.corpora = corpora;
	pthread_mutex_init(&sv.mu, NULL);
	pthread_cond_init(&sv.cv_work, NULL);
	pthread_cond_init(&sv.cv_done, NULL);
	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":" LR_RUN_SHORT_OPTIONS "h", opts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'h': usage(); rc = LR_EXIT_OK; goto out;
		case O_CORPUS:
			if (sv.n_corpora == MAX_CORPORA) {
				rc = cli_usage(CMD, "too many --corpus (at most %d)", MAX_CORPORA);
				goto out;
			}
			rc = parse_corpus(&corpora[sv.n_corpora], optarg);
			if (!rc)
				sv.n_corpora++;
			break;
		case O_HOST: ho.host = optarg; break;
		case O_PORT:
			if (!(rc = cli_parse_u64(CMD, "--port", optarg, 0, 65535, &v)))
				ho.port = (unsigned)v;
			break;
		case O_KEY: key = optarg; break;
		case O_ALIAS: alias = optarg; break;
		case O_QUEUE:
			if (!(rc = cli_parse_u64(CMD, "--queue", optarg, 0, 10000, &v)))
				sv.queue_max = (unsigned)v;
			break;
		case O_MAXBODY:
			if (!(rc = cli_parse_u64(CMD, "--max-body", optarg, 1024, (uint64_t)1 << 32, &v)))
				ho.max_body = (size_t)v;
			break;
		case O_GRACE: rc = cli_parse_double(CMD, "--grace", optarg, 0, 86400, &grace); break;
		default:
			if ((rc = lr_run_opt(&sv.run, CMD, c, optarg)) == -1)
				rc = cli_opt_error(CMD, c, argv);
		}
		if (rc)
			goto out;
	}
	if (optind < argc) {
		rc = cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if ((rc = lr_run_opts_finish(&sv.run, CMD)))
		goto out;
	if (key && !*key) {
		rc = cli_usage(CMD, "the API key is empty");
		goto out;
	}
	sv.api_key = key;
	sv.max_body = ho.max_body;
	for (size_t i = 0; i < sv.n_corpora; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(corpora[i].name, corpora[k].name) == 0) {
				rc = cli_usage(CMD, "two corpora are named '%s'", corpora[i].name);
				goto out;
			}

	/* the model, then every corpus against it */
	if (lr_run_model_open(&sv.rm, &sv.run, sv.run.model, 1, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	lr_run_warn_template(&sv.rm, sv.run.model);
	lr_run_kv_default(&sv.run, &sv.rm.m->hp);
	lr_gguf_fingerprint(sv.rm.m->gguf, sv.fp);
	if (alias) {
		snprintf(sv.model_id, sizeof sv.model_id, "%s", alias);
	} else {
		const char *base = strrchr(sv.run.model, '/');
		snprintf(sv.model_id, sizeof sv.model_id, "%s", base ? base + 1 : sv.run.model);
	}
	n_ctx = 0;
	for (size_t i = 0; i < sv.n_corpora; i++) {
		if (strcmp(corpora[i].name, sv.model_id) == 0) {
			rc = cli_usage(CMD, "a corpus cannot have the model's name '%s' (--alias renames the model)",
			               sv.model_id);
			goto out;
		}
		if (lr_serve_corpus_open(&sv, &corpora[i], &err)) {
			rc = cli_fail(&err);
			goto out;
		}
		if (corpora[i].lrc.meta.window > n_ctx)
			n_ctx = corpora[i].lrc.meta.window;
	}
	if (sv.run.cp.n_ctx) {
		for (size_t i = 0; i < sv.n_corpora; i++)
			if (corpora[i].lrc.meta.window > sv.run.cp.n_ctx) {
				rc = cli_usage(CMD, "-c %" PRIu32 " is smaller than the window of corpus '%s' (%" PRIu32
				               " tokens)", sv.run.cp.n_ctx, corpora[i].name, corpora[i].lrc.meta.window);
				goto out;
			}
		n_ctx = sv.run.cp.n_ctx;
	} else if (!n_ctx) {
		n_ctx = sv.rm.m->hp.n_ctx_train < LR_SERVE_MAX_WINDOW ? sv.rm.m->hp.n_ctx_train : LR_SERVE_MAX_WINDOW;
	}
	sv.n_ctx = n_ctx;

	/* SIGTERM and SIGINT wait for the main thread's sigwait; SIGPIPE for nobody: every
	 * thread started from here on inherits the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* listen first: a port in use is the one line, before the cache is reserved;
	 * requests that come before the engine's thread runs wait in the queue */
	if (lr_httpd_open(&httpd, &ho, &err)) {
		rc = err.code == LR_EIO ? (cli_error("%s", err.msg), LR_EXIT_LISTEN) : cli_fail(&err);
		goto out;
	}
	if (lr_serve_engine_start(&sv, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	snprintf(host, sizeof host, strchr(ho.host, ':') ? "[%s]" : "%s", ho.host);
	fprintf(stderr, "longread: serving '%s' (window %s tokens, KV %s)", sv.model_id,
	        lr_count(sv.n_ctx, win, sizeof win), lr_kv_type_name(sv.run.cp.kv_type));
	for (size_t i = 0; i < sv.n_corpora; i++)
		fprintf(stderr, "%s'%s' (%s tokens)", i ? ", " : " and corpora ", corpora[i].name,
		        lr_count(corpora[i].lrc.meta.n_prefix, win, sizeof win));
	fprintf(stderr, "; queue %u%s\n", sv.queue_max, sv.api_key ? "; API key required" : "");
	fprintf(stderr, "longread: listening on http://%s:%u\n", host, lr_httpd_port(httpd));
	rc = run_until_signal(&sv, grace);
	served = 1;
out:
	/* the engine first (it ends every stream), then the connections */
	lr_serve_drain(&sv);
	lr_serve_engine_stop(&sv);
	lr_httpd_close(httpd);
	for (size_t i = 0; i < MAX_CORPORA; i++)
		lr_serve_corpus_close(&corpora[i]);
	lr_run_model_close(&sv.rm);
	if (served)
		fprintf(stderr, "longread: stopped after %" PRIu64 " request%s (%" PRIu64 " refused: queue full)\n",
		        sv.n_served, sv.n_served == 1 ? "" : "s", sv.n_refused);
	pthread_cond_destroy(&sv.cv_done);
	pthread_cond_destroy(&sv.cv_work);
	pthread_mutex_destroy(&sv.mu);
	return rc;
}
