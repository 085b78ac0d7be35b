/* src/cmd_pack.c — `longread pack -m MODEL [packing options] PATH... -o CORPUS.lrc`:
 * extract, pack and prefill the documents once, and keep the window on disk, so that
 * `longread ask CORPUS.lrc` answers in seconds.  Packing onto an existing file reuses
 * its cache up to the first token that differs (the first changed document) and
 * prefills only from there.  The file is replaced atomically: an interrupted pack
 * leaves the old one as it was. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/buf.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/lrc.h"
#include "src/progress.h"
#include "src/report.h"
#include "src/session.h"

#define CMD "pack"
#define TABLE_ROWS 20

static void usage(void)
{
	printf("Usage: longread pack -m MODEL.gguf [options] PATH... -o CORPUS.lrc\n"
	       "\n"
	       "Extract and pack every document in PATH..., prefill the model's window with them\n"
	       "once, and save it as CORPUS.lrc: 'longread ask CORPUS.lrc -q ...' then answers\n"
	       "without prefilling again.  If CORPUS.lrc exists (same model and cache type), its\n"
	       "cache is reused up to the first document that changed, and its model is the\n"
	       "default for -m.\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output FILE       the context file to write (replaced atomically)\n"
	       "      --fresh             ignore an existing CORPUS.lrc: prefill everything\n"
	       "      --zstd-kv           compress the KV blocks with zstd (they barely compress:\n"
	       "                          see docs/lrc-format.md)\n"
	       "      --progress          show the prefill progress even when stderr is not a\n"
	       "                          terminal\n");
	lr_session_help(stdout, 0);
	printf("  -h, --help              show this help and exit\n"
	       "\n"
	       "-n sets the answer room kept in the saved window's budget (ask may ask for more).\n"
	       "Exit status: 0 ok; 6 the documents do not fit (without --fit); 10 packed, but\n"
	       "some inputs could not be read; 130 interrupted (the old CORPUS.lrc is kept);\n"
	       "2 usage; 3 a file cannot be read or written; 4 malformed input; 5 unsupported\n"
	       "model, or no input with text to read; 7 out of memory.\n");
}

/* argv as a shell command line (each argument quoted where the shell would split or
 * expand it), for the file's record of how it was packed.  NULL when out of memory. */
static char *command_line(int argc, char **argv)
{
	struct lr_buf b = { 0 };

	lr_buf_str(&b, "longread");
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		lr_buf_str(&b, " ");
		if (*a && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%") == strlen(a)) {
			lr_buf_str(&b, a);
			continue;
		}
		lr_buf_str(&b, "'");
		for (; *a; a++)
			if (*a == '\'')
				lr_buf_str(&b, "'\\''");
			else
				lr_buf_add(&b, a, 1);
		lr_buf_str(&b, "'");
	}
	lr_buf_add(&b, "", 1);
	if (lr_buf_failed(&b)) {
		lr_buf_release(&b);
		return NULL;
	}
	return b.p;
}

/* Reuse what an existing file at path holds: the number of leading prefix tokens it
 * has in common with the new window, loaded into ctx.  Anything that keeps it from
 * being reused is a warning, not an error: the pack then starts from scratch. */
static uint32_t reuse(const char *path, struct lr_session *s, struct lr_ctx *ctx)
{
	struct lr_lrc old;
	struct lr_err err = { 0 };
	uint32_t n = 0, n_old;

	if (access(path, F_OK) != 0)
		return 0;
	if (lr_lrc_open(&old, path, &err)) {
		cli_warn("cannot reuse %s; packing from scratch", err.msg);
		return 0;
	}
	if (lr_lrc_check(&old, s->rm.m, s->fp, s->run.cp.kv_type, lr_ctx_n_ctx(ctx), &err)) {
		cli_warn("cannot reuse '%s': %s; packing from scratch", path, err.msg);
		goto out;
	}
	n_old = old.meta.n_prefix;
	while (n < n_old && n < s->pack->ids.n && old.tokens[n] == s->pack->ids.v[n])
		n++;
	if (n && lr_ctx_kv_load(ctx, n, n_old, old.kv, old.kv_len, &err)) {
		cli_warn("cannot reuse '%s': %s; packing from scratch", path, err.msg);
		lr_ctx_rewind(ctx, 0);
		n = 0;
	}
out:
	lr_lrc_close(&old);
	return n;
}

int cmd_pack(int argc, char **argv)
{
	enum { O_FRESH = 256, O_ZSTD, O_PROGRESS };
	static const struct option opts[] = {
		LR_SESSION_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "fresh", no_argument, NULL, O_FRESH },
		{ "zstd-kv", no_argument, NULL, O_ZSTD },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_session s;
	struct lr_ctx *ctx = NULL;
	struct lr_ctx_params cp;
	struct lr_err err = { 0 };
	struct lr_progress pg;
	const char *out = NULL;
	int fresh = 0, progress = 0, zstd = 0, c, rc;
	char *command = NULL, *old_model = NULL;
	uint32_t prefix, reused = 0, done = 0;
	double t0, t_prefill;
	struct stat st;
	char b1[32], b2[32], b3[32], b4[32];

	lr_session_init(&s, CMD);
	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":" LR_SESSION_SHORT_OPTIONS "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case O_FRESH: fresh = 1; break;
		case O_ZSTD: zstd = 1; break;
		case O_PROGRESS: progress = 1; break;
		case 'h': usage(); lr_session_release(&s); return LR_EXIT_OK;
		case 'q': case LR_SESSION_O_QUESTIONS:
			lr_session_release(&s);
			return cli_usage(CMD, "pack takes no questions: ask them with 'longread ask CORPUS.lrc'");
		default:
			if ((rc = lr_session_opt(&s, c, optarg, argv))) {
				lr_session_release(&s);
				return rc;
			}
		}
	}
	if (!out) {
		rc = cli_usage(CMD, "missing output file (-o CORPUS.lrc)");
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], out) == 0) {
			rc = cli_usage(CMD, "'%s' is both an input and the output", out);
			goto out;
		}
	if (optind == argc - 1 && lr_session_is_lrc(argv[optind])) {
		rc = cli_usage(CMD, "'%s' is already a context file; pack the documents themselves", argv[optind]);
		goto out;
	}
	if (lr_ctxw_check(out, &err)) {   /* before any work */
		rc = cli_fail(&err);
		goto out;
	}
	/* packing onto an existing file: its model, unless -m says otherwise */
	if (!s.run.model && lr_session_is_lrc(out)) {
		struct lr_lrc old;
		if (lr_lrc_open(&old, out, &err) == 0) {
			old_model = strdup(old.meta.model_path);
			lr_lrc_close(&old);
			if (old_model) {
				s.run.model = old_model;
				fprintf(stderr, "longread: the model '%s', which '%s' was packed with\n", old_model, out);
			}
		}
	}
	if ((rc = lr_session_open(&s, argv + optind, argc - optind, &err)))
		goto out;
	if (s.layout_rc) {
		if (!s.pack->too_small) {
			lr_report_table(stderr, s.pack, TABLE_ROWS);
			lr_report_totals(stderr, s.pack, 0);
		}
		rc = cli_fail(&err);
		goto out;
	}
	lr_run_sigint(1);
	lr_corpus_summary(&s.corpus);
	lr_report_fit(s.pack);
	lr_report_fits_line(s.pack);

	cp = s.run.cp;
	cp.n_ctx = lr_pack_total(s.pack);
	prefix = (uint32_t)s.pack->ids.n;
	if ((rc = lr_run_ctx_new(&ctx, s.rm.m, &cp, &err)))
		goto fail;
	if (!fresh && (reused = reuse(out, &s, ctx)) > 0)
		fprintf(stderr, "longread: reusing %s of %s tokens from '%s'\n", lr_count(reused, b1, sizeof b1),
		        lr_count(prefix, b2, sizeof b2), out);
	t0 = lr_run_now();
	lr_progress_start(&pg, "prefill", prefix - reused, progress);
	rc = lr_run_prefill(ctx, s.pack->ids.v + reused, prefix - reused, NULL, &pg, &done, &err);
	if (rc)
		goto fail;
	lr_progress_end(&pg, done);
	t_prefill = lr_run_now() - t0;
	t0 = lr_run_now();
	command = command_line(argc, argv);
	if ((rc = lr_lrc_write(out, s.pack, s.n_question, s.run.model, s.fp, ctx, zstd ? LR_CTX_ZSTD : LR_CTX_RAW,
	                       command, &err)))
		goto fail;
	if (stat(out, &st) != 0)
		st.st_size = 0;
	fprintf(stderr, "longread: packed %zu document%s, %s tokens, into '%s' (%s, written in %.2f s); prefilled "
	        "%s tokens in %.2f s, reused %s\n", s.pack->n_docs, s.pack->n_docs == 1 ? "" : "s",
	        lr_count(prefix, b1, sizeof b1), out,
	        cli_bytes((uint64_t)st.st_size, b2, sizeof b2), lr_run_now() - t0,
	        lr_count(prefix - reused, b3, sizeof b3), t_prefill, lr_count(reused, b4, sizeof b4));
	rc = lr_corpus_status(&s.corpus);
	goto out;
fail:
	rc = cli_fail(&err);
out:
	lr_run_sigint(0);
	lr_ctx_free(ctx);
	lr_session_release(&s);
	free(command);
	free(old_model);
	return rc;
}
