/* src/session.c — options, model, corpus and window for plan and ask. */
#include "src/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/buf.h"
#include "src/cli.h"

void lr_session_init(struct lr_session *s, const char *cmd)
{
	memset(s, 0, sizeof *s);
	s->cmd = cmd;
	lr_run_opts_init(&s->run, 1024, LR_KV_Q8);
	lr_corpus_init(&s->corpus);
	s->po.focus = s->focus;
	s->po.line_step = LR_PACK_LINE_STEP;
}

void lr_session_release(struct lr_session *s)
{
	lr_lrc_close(&s->lrc);
	lr_lrc_stale_free(&s->stale);
	lr_pack_free(s->pack);
	lr_run_model_close(&s->rm);
	lr_corpus_release(&s->corpus);
	free(s->questions);
	free(s->questions_text);
	s->pack = NULL;
	s->questions = NULL;
	s->questions_text = NULL;
}

static const char *extract_opt_name(int c)
{
	switch (c) {
	case LR_CORPUS_O_PASSWORD: return "--password";
	case LR_CORPUS_O_INCLUDE: return "--include";
	case LR_CORPUS_O_EXCLUDE: return "--exclude";
	case LR_CORPUS_O_MAXSIZE: return "--max-file-size";
	case LR_CORPUS_O_FOLLOW: return "--follow-symlinks";
	case LR_CORPUS_O_NOIGNORE: return "--no-ignore";
	default: return "--no-default-excludes";
	}
}

int lr_session_opt(struct lr_session *s, int c, const char *arg, char **argv)
{
	uint64_t v;
	int rc;

	switch (c) {
	case 'q':
		if (s->question)
			return cli_usage(s->cmd, "only one -q (use --questions FILE for several)");
		s->question = arg;
		return 0;
	case LR_SESSION_O_QUESTIONS: s->questions_file = arg; return 0;
	case LR_SESSION_O_SYSTEM: s->po.system = arg; return 0;
	case LR_SESSION_O_FIT: s->po.fit = 1; return 0;
	case LR_SESSION_O_NO_SOURCE_CHECK: s->no_source_check = 1; return 0;
	case LR_SESSION_O_FOCUS:
		if (s->po.n_focus >= LR_SESSION_MAX_FOCUS)
			return cli_usage(s->cmd, "too many --focus globs (at most %d)", LR_SESSION_MAX_FOCUS);
		if (!*arg)
			return cli_usage(s->cmd, "empty glob for --focus");
		s->focus[s->po.n_focus++] = arg;
		return 0;
	case LR_SESSION_O_ORDER:
		if (lr_pack_order_parse(arg, &s->po.order))
			return cli_usage(s->cmd, "invalid order '%s' (given, name, size, mtime)", arg);
		return 0;
	case LR_SESSION_O_LINES:
		if ((rc = cli_parse_u64(s->cmd, "--line-numbers", arg, 1, 1000, &v)))
			return rc;
		s->po.line_step = (uint32_t)v;
		return 0;
	}
	if ((rc = lr_run_opt(&s->run, s->cmd, c, arg)) != -1)
		return rc;
	if ((rc = lr_corpus_opt(&s->corpus, s->cmd, c, arg)) != -1) {
		if (!s->extract_opt)
			s->extract_opt = extract_opt_name(c);   /* a saved context refuses it */
		return rc;
	}
	return cli_opt_error(s->cmd, c, argv);
}

void lr_session_help(FILE *f, int questions)
{
	lr_run_help(f, "answer length: at most N tokens, kept free in the window (default 1024)",
	            "the window (default: the model's context length, at most 131072)");
	if (questions)
		fprintf(f,
		       "  -q, --question TEXT     the question\n"
		       "      --questions FILE    one question per line ('-' = standard input)\n");
	fprintf(f,
	       "      --system TEXT       replace the system prompt (\"\" = none)\n"
	       "      --fit               shorten or leave out documents to fit the window, and\n"
	       "                          say exactly what (default: fail with exit 6)\n"
	       "      --focus GLOB        documents matching GLOB are the last to be shortened\n"
	       "                          (repeatable; .gitignore syntax, against document names)\n"
	       "      --order ORDER       document order: given (default: arguments in order,\n"
	       "                          directories depth first, files before subdirectories, by\n"
	       "                          name), name, size (largest last), mtime (newest last)\n"
	       "      --line-numbers N    number line 1 and every Nth line of text and code\n"
	       "                          (default 10; 1 = every line: 13-25%% more tokens)\n");
	if (questions)
		fprintf(f,
		       "      --no-source-check   CORPUS.lrc: do not check whether the packed documents'\n"
		       "                          files changed since (default: check, and warn)\n");
	lr_corpus_help(f);
}

/* The non-empty lines of the --questions file. */
static int read_questions(struct lr_session *s, struct lr_err *err)
{
	size_t len, cap = 16;
	char *save = NULL, *line;
	int rc;

	if ((rc = lr_run_read_file(s->questions_file, LR_SESSION_MAX_QUESTIONS, &s->questions_text, &len, err)))
		return rc;
	if (len > LR_SESSION_MAX_QUESTIONS)
		return lr_errf(err, LR_ERANGE, "'%s' is over %d MiB: too long for a file of questions",
		               s->questions_file, LR_SESSION_MAX_QUESTIONS >> 20);
	if (memchr(s->questions_text, '\0', len))
		return lr_errf(err, LR_EFORMAT, "'%s' contains NUL bytes: not a text file", s->questions_file);
	if (!(s->questions = malloc(cap * sizeof *s->questions)))
		return lr_errf(err, LR_ENOMEM, "out of memory");
	for (line = strtok_r(s->questions_text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strspn(line, " \t\r\f\v") == strlen(line))
			continue;
		if (s->n_questions == cap) {
			char **v = realloc(s->questions, (cap *= 2) * sizeof *v);
			if (!v)
				return lr_errf(err, LR_ENOMEM, "out of memory");
			s->questions = v;
		}
		s->questions[s->n_questions++] = line;
	}
	if (!s->n_questions)
		return lr_errf(err, LR_EINVAL, "'%s' has no questions", s->questions_file);
	return 0;
}

/* The question room: the largest known question, else LR_PACK_QUESTION_ROOM. */
static int question_room(struct lr_session *s, struct lr_err *err)
{
	struct lr_tok_ids ids = { 0 };
	int rc = 0;

	s->n_question = s->n_questions ? 0 : LR_PACK_QUESTION_ROOM;
	for (size_t i = 0; i < s->n_questions && !rc; i++) {
		ids.n = 0;
		rc = lr_pack_question(s->pack, s->questions[i], strlen(s->questions[i]), &ids, err);
		if (!rc && ids.n > s->n_question)
			s->n_question = ids.n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)ids.n;
	}
	lr_tok_ids_release(&ids);
	return rc;
}

int lr_session_is_lrc(const char *path)
{
	static const uint8_t magic[8] = { 'L', 'R', 'C', 'T', 'X', '\r', '\n', 0x1a };
	uint8_t b[8];
	struct stat st;
	/* only a regular file: a pipe's first bytes would be lost to the documents */
	FILE *f = strcmp(path, "-") && stat(path, &st) == 0 && S_ISREG(st.st_mode) ? fopen(path, "rb") : NULL;
	int is = f && fread(b, 1, 8, f) == 8 && memcmp(b, magic, 8) == 0;

	if (f)
		fclose(f);
	return is;
}

/* -q / --questions: the questions known before packing. */
static int questions(struct lr_session *s, char *const *paths, int n_paths, struct lr_err *err)
{
	if (s->question && s->questions_file)
		return cli_usage(s->cmd, "give either -q or --questions, not both");
	for (int i = 0; s->questions_file && strcmp(s->questions_file, "-") == 0 && i < n_paths; i++)
		if (strcmp(paths[i], "-") == 0)
			return cli_usage(s->cmd, "standard input cannot hold both documents and questions");
	if (s->question && strspn(s->question, " \t\n\r\f\v") == strlen(s->question))
		return cli_usage(s->cmd, "the question is empty");
	if (s->question) {
		if (!(s->questions = malloc(sizeof *s->questions)))
			return cli_fail(&(struct lr_err){ .code = LR_ENOMEM });
		s->questions[0] = (char *)s->question;
		s->n_questions = 1;
	} else if (s->questions_file && read_questions(s, err)) {
		return cli_fail(err);
	}
	return 0;
}

/* The model (-m), its chat format, fingerprint and default cache type. */
static int open_model(struct lr_session *s, const char *path, struct lr_err *err)
{
	if (lr_run_model_open(&s->rm, &s->run, path, 1, err))
		return cli_fail(err);
	lr_run_warn_template(&s->rm, path);
	lr_run_kv_default(&s->run, &s->rm.m->hp);
	lr_gguf_fingerprint(s->rm.m->gguf, s->fp);
	lr_sha256_hex(s->fp, s->fingerprint);
	return 0;
}

/* The chat format and RoPE scaling a saved context was computed with: taken when not
 * given, refused when given otherwise (the cache would not match the prompt). */
static int saved_settings(struct lr_session *s, const char *path)
{
	const struct lr_lrc_meta *meta = &s->lrc.meta;
	enum lr_chat_format f = meta->chat ? lr_chat_format_parse(meta->chat) : LR_CHAT_NONE;
	char name[16];
	double factor;
	uint32_t orig;
	int r;

	if (meta->chat && !f)
		return cli_usage(s->cmd, "'%s' is in the chat format '%s', which this longread does not know", path,
		                 meta->chat);
	if (f && s->run.chat_format && s->run.chat_format != f)
		return cli_usage(s->cmd, "'%s' was packed in the %s chat format; ask it without --chat-format, or pack "
		                 "it again with --chat-format %s", path, meta->chat,
		                 lr_chat_format_name(s->run.chat_format));
	if (f)
		s->run.chat_format = f;
	if (!meta->rope || sscanf(meta->rope, "%15s %lf %" SCNu32, name, &factor, &orig) != 3 ||
	    (r = lr_rope_scaling_parse(name)) < 0)
		return 0;
	if (s->run.rope_given && (s->run.rope_scaling != (enum lr_rope_scaling)r ||
	    (s->run.rope_scale && s->run.rope_scale != factor) || (s->run.yarn_orig_ctx && s->run.yarn_orig_ctx != orig)))
		return cli_usage(s->cmd, "'%s' was computed with RoPE scaling %s (factor %g, original context %" PRIu32 "); "
		                 "ask it without --rope-scaling, or pack it again", path, name, factor, orig);
	if (r != LR_ROPE_SCALING_NONE && !s->run.rope_given) {
		s->run.rope_given = 1;
		s->run.rope_scaling = (enum lr_rope_scaling)r;
		s->run.rope_scale = factor;
		s->run.yarn_orig_ctx = orig;
	}
	return 0;
}

/* Up to three of the documents at idx[0..n) by name, then how many more, into b. */
static void some_names(struct lr_buf *b, const struct lr_doclist *docs, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n && i < 3; i++) {
		lr_buf_str(b, i ? ", " : "");
		lr_buf_str(b, docs->v[idx[i]]->name);
	}
	if (n > 3)
		lr_buf_printf(b, " and %zu more", n - 3);
}

/* Say what the check of a saved context's sources found: nothing when all is as packed. */
static void warn_stale(const struct lr_session *s, const char *path, const struct lr_doclist *docs)
{
	const struct lr_lrc_meta *meta = &s->lrc.meta;
	const struct lr_lrc_stale *st = &s->stale;
	struct lr_buf b = { 0 };
	char when[32] = "";
	time_t t = (time_t)meta->created;
	struct tm tm;

	if (s->no_source_check)
		return;
	if (!st->checked) {
		fprintf(stderr, "longread: '%s' does not record its documents' files (packed by an older "
		        "longread): not checked for changes\n", path);
		return;
	}
	if (!st->n_changed && !st->n_missing)
		return;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof when, " on %Y-%m-%d at %H:%M", &tm);
	lr_buf_printf(&b, "longread: '%s' is out of date: ", path);
	if (st->n_changed) {
		lr_buf_printf(&b, "%zu of its %zu document files changed since it was packed%s (", st->n_changed,
		              st->n_files, when);
		some_names(&b, docs, st->changed, st->n_changed);
		lr_buf_str(&b, st->n_missing ? "); " : ")");
	}
	if (st->n_missing) {
		lr_buf_printf(&b, "%zu %s gone or unreadable (", st->n_missing, st->n_missing == 1 ? "is" : "are");
		some_names(&b, docs, st->missing, st->n_missing);
		lr_buf_str(&b, ")");
	}
	lr_buf_str(&b, "; the answers read the copies packed then\n");
	if (meta->command)
		lr_buf_printf(&b, "longread: refresh it with: %s%s%s%s\n", meta->cwd ? "cd " : "",
		              meta->cwd ? meta->cwd : "", meta->cwd ? " && " : "", meta->command);
	lr_buf_str(&b, "longread: (--no-source-check skips this check)\n");
	if (!lr_buf_failed(&b))
		fputs(lr_buf_cstr(&b), stderr);
	lr_buf_release(&b);
}

void lr_session_json_sources(struct json *j, const struct lr_session *s)
{
	const struct lr_doclist *docs = s->corpus.docs;

	json_obj(j);
	json_key(j, "checked");
	json_bool(j, s->stale.checked);
	if (s->stale.checked) {
		json_key(j, "files");
		json_uint(j, s->stale.n_files);
		json_key(j, "changed");
		json_arr(j);
		for (size_t i = 0; i < s->stale.n_changed; i++)
			json_str(j, docs->v[s->stale.changed[i]]->name);
		json_arr_end(j);
		json_key(j, "missing");
		json_arr(j);
		for (size_t i = 0; i < s->stale.n_missing; i++)
			json_str(j, docs->v[s->stale.missing[i]]->name);
		json_arr_end(j);
	} else {
		json_key(j, "why");
		json_str(j, s->no_source_check ? "--no-source-check" : "the file does not record them");
	}
	json_obj_end(j);
}

/* The window from a saved context: its documents, options and prefix. */
static int open_lrc(struct lr_session *s, const char *path, struct lr_err *err)
{
	struct lr_lrc *f = &s->lrc;
	const struct lr_lrc_meta *meta;
	const char *model;
	uint32_t room;
	int rc;

	if (s->po.fit || s->po.n_focus || s->po.system || s->po.order || s->po.line_step != LR_PACK_LINE_STEP)
		return cli_usage(s->cmd, "packing options cannot change a saved context; pack it again instead");
	if (s->extract_opt)
		return cli_usage(s->cmd, "'%s': a saved context holds its documents already extracted; "
		                 "pack them again with it instead", s->extract_opt);
	if ((rc = lr_lrc_open(f, path, err)))
		return cli_fail(err);
	s->from_lrc = 1;
	meta = &f->meta;
	if (!s->no_source_check && lr_lrc_check_sources(meta, f->docs->n, &s->stale, err))
		return cli_fail(err);
	warn_stale(s, path, f->docs);
	if (s->run.cp.n_ctx && s->run.cp.n_ctx != meta->window)
		return cli_usage(s->cmd, "-c %" PRIu32 ": '%s' holds a window of %" PRIu32 " tokens; pack it "
		                 "again with -c %" PRIu32 " instead", s->run.cp.n_ctx, path, meta->window, s->run.cp.n_ctx);
	model = s->run.model ? s->run.model : meta->model_path;
	if (!s->run.model && access(model, R_OK) != 0) {
		lr_errf_sys(err, errno, "'%s' was packed with '%s', which cannot be read (give the model with -m)",
			path, model);
		return cli_fail(err);
	}
	s->run.model = model;
	if ((rc = saved_settings(s, path)) || (rc = open_model(s, model, err)))
		return rc;
	if (!s->run.kv_given)
		s->run.cp.kv_type = (enum lr_kv_type)lr_ctxr_header(f->r)->kv_type;
	if ((rc = lr_lrc_check(f, s->rm.m, s->fp, s->run.cp.kv_type, s->rm.m->hp.n_ctx_train, err))) {
		lr_err_prefix(err, "'%s': ", path);
		return cli_fail(err);
	}
	/* the same layout as when it was packed: documents already in window order */
	s->corpus.docs = f->docs;
	f->docs = NULL;
	s->window = meta->window;
	s->n_question = meta->n_question;
	if ((rc = lr_lrc_repack(f, path, s->corpus.docs, s->rm.tok, &s->rm.chat, &s->po, &s->pack, err)))
		return cli_fail(err);
	/* answers as long as asked for now, within the saved window: by default what it
	 * leaves after the documents and the question room, -n beyond that does not fit */
	room = meta->window > meta->n_prefix + meta->n_question ? meta->window - meta->n_prefix - meta->n_question : 0;
	if (s->run.n_gen_given && s->run.n_gen > room) {
		lr_errf(err, LR_ENOFIT, "-n %" PRIu64 ": '%s' has room for %" PRIu32 " answer tokens in its "
		        "%" PRIu32 "-token window (pack it again with a larger -c, or ask for fewer)",
		        s->run.n_gen, path, room, meta->window);
		return cli_fail(err);
	}
	if (!s->run.n_gen_given && s->run.n_gen > room)
		s->run.n_gen = room;
	s->pack->o.answer_tokens = (uint32_t)s->run.n_gen;
	return 0;
}

/* A tokenizer without a model (--vocab), with its chat format. */
static int open_vocab(struct lr_session *s, const char *path, struct lr_err *err)
{
	struct lr_gguf *g = NULL;
	int rc;

	memset(&s->rm, 0, sizeof s->rm);
	if (!(rc = lr_gguf_open(&g, path, err)) && !(rc = lr_tok_new(&s->rm.tok, g, err)))
		rc = lr_run_chat(&s->rm, &s->run, g, err);
	lr_gguf_close(g);
	if (rc) {
		if (rc != LR_EIO)
			lr_err_prefix(err, "'%s': ", path);
		return cli_fail(err);
	}
	return 0;
}

/* The window: -c, else the server's, else the model's (at most LR_SESSION_MAX_WINDOW). */
static int window(struct lr_session *s)
{
	uint32_t model_ctx = s->rm.m ? s->rm.m->hp.n_ctx_train : 0;
	uint32_t limit = s->remote && s->remote_ctx ? s->remote_ctx : model_ctx;
	const char *whose = s->remote && s->remote_ctx ? "server's" : "model's";

	if (s->run.cp.n_ctx && limit && s->run.cp.n_ctx > limit && !(s->remote && s->remote_ctx) &&
	    s->rm.m->hp.arch == LR_ARCH_QWEN2 && s->rm.m->hp.rope_scaling == LR_ROPE_SCALING_NONE)
		return cli_usage(s->cmd, "-c %" PRIu32 " exceeds the model's %" PRIu32 "-token context; Qwen2.5 reads "
		                 "up to 4 times that with YaRN: --rope-scaling yarn --rope-scale 4", s->run.cp.n_ctx, limit);
	if (s->run.cp.n_ctx && limit && s->run.cp.n_ctx > limit)
		return cli_usage(s->cmd, "-c %" PRIu32 " exceeds the %s %" PRIu32 "-token context",
		                 s->run.cp.n_ctx, whose, limit);
	if (!s->run.cp.n_ctx && !limit)
		return cli_usage(s->cmd, "the window is unknown (the server does not say it): give it with -c");
	s->window = s->run.cp.n_ctx ? s->run.cp.n_ctx :
	            limit < LR_SESSION_MAX_WINDOW ? limit : LR_SESSION_MAX_WINDOW;
	s->window_from = s->run.cp.n_ctx ? "-c" : s->remote && s->remote_ctx ? "server" : "model";
	return 0;
}

int lr_session_open(struct lr_session *s, char *const *paths, int n_paths, struct lr_err *err)
{
	double t0;
	int rc;

	lr_run_opts_seed(&s->run);
	if ((rc = lr_run_opts_check(&s->run, s->cmd)))
		return rc;
	if (s->remote && n_paths == 1 && lr_session_is_lrc(paths[0]))
		return cli_usage(s->cmd, "a saved context (.lrc) holds a local cache: answer it without --api, "
		                 "or give --api the documents");
	if (n_paths == 1 && lr_session_is_lrc(paths[0])) {
		if ((rc = questions(s, paths, n_paths, err)))
			return rc;
		t0 = lr_run_now();
		rc = open_lrc(s, paths[0], err);
		s->t_tokenize = lr_run_now() - t0;
		return rc;
	}
	if ((rc = lr_corpus_args(s->cmd, paths, n_paths)) || (rc = questions(s, paths, n_paths, err)))
		return rc;
	if (s->run.model && s->vocab)
		return cli_usage(s->cmd, "give -m or --vocab, not both");
	if (!s->run.model && !s->vocab && !s->remote)
		return cli_usage(s->cmd, "missing model (-m)");
	if ((s->run.model && (rc = open_model(s, s->run.model, err))) ||
	    (s->vocab && (rc = open_vocab(s, s->vocab, err))) || (rc = window(s)))
		return rc;
	s->po.n_ctx = s->window;
	s->po.answer_tokens = s->run.n_gen > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)s->run.n_gen;

	if ((rc = lr_corpus_extract(&s->corpus, paths, n_paths, s->cmd, 1, err)))
		return rc == LR_EINVAL ? cli_usage(s->cmd, "%s", err->msg) : cli_fail(err);
	s->t_extract = s->corpus.seconds;
	if (lr_corpus_nothing_read(&s->corpus))
		return lr_corpus_status(&s->corpus);   /* each failure is already on stderr */
	if (!lr_corpus_has_text(&s->corpus)) {
		/* answering from no documents would be the model's own guess passed off as a
		 * reading of the inputs: refuse, saying what was skipped */
		char what[1024];
		lr_corpus_summary_text(&s->corpus, what, sizeof what);
		cli_error("no document with text to read in the inputs: %s", what);
		return LR_EXIT_UNSUPPORTED;
	}
	t0 = lr_run_now();
	rc = s->rm.tok ? lr_pack_new(&s->pack, s->rm.tok, &s->rm.chat, s->corpus.docs, &s->po, err) :
	     lr_pack_new_counted(&s->pack, s->counter, s->corpus.docs, &s->po, err);
	if (rc || (rc = question_room(s, err)))
		return cli_fail(err);
	s->layout_rc = lr_pack_layout(s->pack, s->n_question, err);
	s->t_tokenize = lr_run_now() - t0;
	if (s->layout_rc && s->layout_rc != LR_ENOFIT)
		return cli_fail(err);
	return 0;
}

void lr_session_json_model(struct json *j, const struct lr_session *s)
{
	json_obj(j);
	json_key(j, "file"); json_str(j, s->run.model);
	json_key(j, "name"); json_str(j, s->rm.m->hp.name);
	json_key(j, "fingerprint"); json_str(j, s->fingerprint);
	json_key(j, "bytes"); json_uint(j, s->rm.m->gguf->size);
	json_key(j, "context_length"); json_uint(j, s->rm.m->hp.n_ctx_train);
	json_obj_end(j);
}
