/* src/cmd_ask.c — `longread ask -m MODEL PATH... -q QUESTION`: extract the documents,
 * pack them into one window, prefill it once (progress on stderr, Ctrl-C stops), then
 * answer each question (-q, --questions FILE, or one per line from standard input)
 * from that same prefix: the cache is rewound to the end of the documents between
 * questions, never prefilled again.  Answers stream to stdout, followed by the check of
 * their citations; --json gives one object per question instead.  With --api the
 * answers come from a server instead (src/ask_api.c): everything else is the same. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <editline/readline.h>

#include "src/ask_api.h"
#include "src/cite.h"
#include <editline/readline.h>

#include "src/cli.h"
#include "src/commands.h"
#include "src/json.h"
#include "src/report.h"
#include "src/session.h"

#define CMD "ask"
#define TABLE_ROWS 20

static void usage(void)
{
	printf("Usage: longread ask -m MODEL.gguf [options] PATH... [-q QUESTION]\n"
	       "   or: longread ask [-m MODEL.gguf] [options] CORPUS.lrc [-q QUESTION]\n"
	       "   or: longread ask --api URL [options] PATH... [-q QUESTION]\n"
	       "\n"
	       "Put every document in PATH... (PDF, HTML, text, code, directories) into the\n"
	       "model's context window and answer questions over all of it.  The documents are\n"
	       "prefilled once; each question reuses them.  Without -q or --questions, questions\n"
	       "are read from standard input, one per line.  Answers stream to stdout, then the\n"
	       "citations they make are checked against the documents.  A context saved by\n"
	       "'longread pack' (CORPUS.lrc) is answered without prefilling again; its model\n"
	       "path is recorded, so -m may be left out.\n"
	       "\n"
	       "Options:\n"
	       "      --json              one JSON object per question (answer, citations, token\n"
	       "                          counts, timings, model, corpus manifest), one per line\n"
	       "      --progress          show the prefill progress even when stderr is not a\n"
	       "                          terminal\n");
	lr_session_help(stdout, 1);
	lr_run_help_sampling(stdout);
	lr_ask_api_help(stdout);
	printf("  -h, --help              show this help and exit\n"
	       "\n"
	       "Exit status: 0 ok; 6 the documents do not fit (without --fit) or the window is\n"
	       "too small for the question; 10 answered, but some inputs could not be read;\n"
	       "130 interrupted; 2 usage; 3 a file cannot be read; 4 malformed model or input;\n"
	       "5 unsupported model (no chat format longread knows) or KV type, or no input with text\n"
	       "to read; 7 out of memory.  With --api: 11 the server cannot be reached; 12 it\n"
	       "answered with an error; 13 its reply stalled, was cut off or is malformed.\n");
}

struct asker {
	struct lr_session *s;
	struct lr_ask_api *x;        /* x->api: answers come from a server */
	struct lr_ctx *ctx;
	float *logits;
	struct lr_tok_ids hist;      /* prefix, question and answer ids (repetition penalty) */
	struct lr_tok_ids qids;
	struct lr_buf answer;
	uint32_t prefix;             /* the cut point: tokens of the documents' prefix */
	int json, echo;
	double t_start;              /* when the command started */
	double t_prefill;            /* seconds the documents' prefill took */
	size_t n_asked;
	int skipped;                 /* a question did not fit */
	/* a conversation (questions typed at a terminal): the turns kept after the
	 * documents, oldest first, so that a question may refer to earlier answers */
	int converse;
	struct turn {
		char *q;
		size_t q_len;
		struct lr_tok_ids ans;   /* the answer's ids, without the stop token */
	} *turns;
	size_t n_turns, cap_turns;
};

/* ------------------------------------------------------------------ output */

static void print_citations(const struct lr_cites *cs)
{
	if (!cs->n) {
		printf("\n(no citations)\n");
		return;
	}
	printf("\ncitations: %zu of %zu verified\n", cs->n_verified, cs->n);
	for (size_t i = 0; i < cs->n; i++)
		printf("  %-13s %s %s\n", cs->v[i].status == LR_CITE_VERIFIED ? "verified" : "NOT VERIFIED",
		       cs->v[i].text, cs->v[i].detail);
}

static void json_citations(struct json *j, const struct lr_cites *cs)
{
	json_arr(j);
	for (size_t i = 0; i < cs->n; i++) {
		const struct lr_cite *c = &cs->v[i];
		json_obj(j);
		json_key(j, "text"); json_str(j, c->text);
		json_key(j, "document");
		if (c->doc) json_str(j, c->doc->doc->name); else json_nil(j);
		json_key(j, "kind"); json_str(j, lr_cite_kind_name(c->kind));
		json_key(j, "first");
		if (c->kind == LR_CITE_LINE || c->kind == LR_CITE_PAGE) json_uint(j, c->first); else json_nil(j);
		json_key(j, "last");
		if (c->kind == LR_CITE_LINE || c->kind == LR_CITE_PAGE) json_uint(j, c->last); else json_nil(j);
		json_key(j, "section");
		if (c->section) json_str(j, c->section); else json_nil(j);
		json_key(j, "quote");
		if (c->quote) json_str(j, c->quote); else json_nil(j);
		json_key(j, "verified"); json_bool(j, c->status == LR_CITE_VERIFIED);
		json_key(j, "status"); json_str(j, lr_cite_status_name(c->status));
		json_key(j, "found_document");
		if (c->found_doc) json_str(j, c->found_doc->doc->name); else json_nil(j);
		json_key(j, "found_line");
		if (c->found_line) json_uint(j, c->found_line); else json_nil(j);
		json_key(j, "found_page");
		if (c->found_page) json_uint(j, c->found_page); else json_nil(j);
		json_key(j, "detail"); json_str(j, c->detail);
		json_obj_end(j);
	}
	json_arr_end(j);
}

struct record {
	const char *question;
	size_t q_len;
	const struct lr_run_gen *gen;
	const struct lr_cites *cites;
	uint32_t prefilled;          /* prefix tokens evaluated for this question */
	double t_prefill, t_question, t_first;
	const struct lr_api_answer *res;  /* an answer from the server, else NULL */
	const char *error;           /* why the server's answer is cut off, or NULL */
	const struct escalation *esc;     /* --escalate-api: the server's answer too, or NULL */
};

/* A question the local answer failed, asked again on the server (--escalate-api). */
struct escalation {
	const char *why;
	struct lr_buf answer;
	struct lr_api_answer res;
	struct lr_cites cites;
	const char *error;           /* why the server's answer is missing or cut off */
};

/* The stop of an answer from the server. */
static const char *res_stop(const struct lr_api_answer *res)
{
	if (res->done)
		return strcmp(res->finish, "length") == 0 ? "length" : "end";
	return lr_run_interrupted() ? "interrupted" : "cut_off";
}

static const char *remote_stop(const struct record *r)
{
	return res_stop(r->res);
}

/* The "escalation" object of a record: the server's answer to a question the local
 * answer failed. */
static void json_escalation(struct json *j, const struct asker *a, const struct escalation *e)
{
	json_obj(j);
	json_key(j, "reason"); json_str(j, e->why);
	json_key(j, "answer"); json_strn(j, lr_buf_cstr(&e->answer), e->answer.n);
	json_key(j, "stop"); json_str(j, res_stop(&e->res));
	json_key(j, "cut_off"); json_bool(j, !e->res.done);
	json_key(j, "error");
	if (e->error) json_str(j, e->error); else json_nil(j);
	json_key(j, "citations"); json_citations(j, &e->cites);
	json_key(j, "citations_verified"); json_uint(j, e->cites.n_verified);
	json_key(j, "timings");
	json_obj(j);
	json_key(j, "first_token");
	if (e->res.t_first) json_num(j, e->res.t_first - e->res.t_sent); else json_nil(j);
	json_key(j, "total"); json_num(j, e->res.t_end - e->res.t_sent);
	json_obj_end(j);
	json_key(j, "api"); lr_ask_api_json(j, a->x, a->s, &e->res);
	json_obj_end(j);
}

/* The parts of the record only an answer from the server has. */
static void json_remote(struct json *j, const struct asker *a, const struct record *r)
{
	const struct lr_api_answer *res = r->res;
	const struct lr_session *s = a->s;

	json_key(j, "timings");
	json_obj(j);
	json_key(j, "extract"); json_num(j, s->t_extract);
	json_key(j, "tokenize"); json_num(j, s->t_tokenize);
	json_key(j, "first_token");
	if (res->t_first) json_num(j, res->t_first - res->t_sent); else json_nil(j);
	json_key(j, "decode"); json_num(j, res->t_first ? res->t_end - res->t_first : 0);
	json_key(j, "total"); json_num(j, res->t_end - res->t_sent);
	json_obj_end(j);
	json_key(j, "model");
	if (s->rm.m) lr_session_json_model(j, s); else json_nil(j);
	json_key(j, "api"); lr_ask_api_json(j, a->x, s, res);
}

static void print_json(const struct asker *a, const struct record *r)
{
	const struct lr_session *s = a->s;
	const struct lr_pack *p = s->pack;
	const struct lr_sampler_params *sp = &s->run.sp;
	struct json j;

	json_init(&j, stdout, 0);
	json_obj(&j);
	json_key(&j, "question"); json_strn(&j, r->question, r->q_len);
	json_key(&j, "answer"); json_strn(&j, lr_buf_cstr(&a->answer), a->answer.n);
	json_key(&j, "stop"); json_str(&j, r->res ? remote_stop(r) : lr_run_stop_name(r->gen->stop));
	if (r->res) {
		json_key(&j, "cut_off"); json_bool(&j, !r->res->done);
		json_key(&j, "error");
		if (r->error) json_str(&j, r->error); else json_nil(&j);
	}
	json_key(&j, "citations"); json_citations(&j, r->cites);
	json_key(&j, "citations_verified"); json_uint(&j, r->cites->n_verified);
	if (a->x->escalate) {
		json_key(&j, "escalation");
		if (r->esc) json_escalation(&j, a, r->esc); else json_nil(&j);
	}
	json_key(&j, "tokens");
	json_obj(&j);
	json_key(&j, "documents"); json_uint(&j, p->n_doc_tokens);
	json_key(&j, "instructions"); json_uint(&j, p->n_fixed);
	json_key(&j, "question"); json_uint(&j, a->qids.n);
	if (r->res) {
		json_key(&j, "answer");
		if (r->res->completion_tokens >= 0) json_uint(&j, (uint64_t)r->res->completion_tokens); else json_nil(&j);
		json_key(&j, "window"); json_uint(&j, s->window);
		json_key(&j, "counted"); json_str(&j, lr_ask_api_count_name(a->x->counting));
		json_key(&j, "estimate"); json_bool(&j, a->x->counting == LR_ASK_API_COUNT_ESTIMATE);
		json_obj_end(&j);
		json_remote(&j, a, r);
		goto common;
	}
	json_key(&j, "answer"); json_uint(&j, r->gen->made);
	json_key(&j, "prefilled"); json_uint(&j, r->prefilled);
	json_key(&j, "reused"); json_uint(&j, a->prefix - r->prefilled);
	json_key(&j, "context"); json_uint(&j, lr_ctx_n_ctx(a->ctx));
	json_key(&j, "window"); json_uint(&j, s->window);
	json_obj_end(&j);
	json_key(&j, "timings");
	json_obj(&j);
	json_key(&j, "extract"); json_num(&j, s->t_extract);
	json_key(&j, "tokenize"); json_num(&j, s->t_tokenize);
	json_key(&j, "prefill"); json_num(&j, r->t_prefill);
	json_key(&j, "question"); json_num(&j, r->t_question);
	json_key(&j, "first_token"); json_num(&j, r->t_first);
	json_key(&j, "decode"); json_num(&j, r->gen->t_end - r->gen->t_first);
	json_obj_end(&j);
	json_key(&j, "model"); lr_session_json_model(&j, s);
	json_key(&j, "kv"); json_str(&j, lr_kv_type_name(s->run.cp.kv_type));
	json_key(&j, "sampler");
	json_obj(&j);
	json_key(&j, "seed"); json_uint(&j, sp->seed);
	json_key(&j, "temp"); json_f32(&j, sp->temp);
	json_key(&j, "top_k"); json_int(&j, sp->top_k);
	json_key(&j, "top_p"); json_f32(&j, sp->top_p);
	json_key(&j, "min_p"); json_f32(&j, sp->min_p);
	json_key(&j, "repeat_penalty"); json_f32(&j, sp->repeat_penalty);
	json_obj_end(&j);
common:
	if (s->from_lrc) {
		json_key(&j, "sources");
		lr_session_json_sources(&j, s);
	}
	json_key(&j, "budget"); lr_report_json_budget(&j, p);
	json_key(&j, "corpus"); lr_report_json_documents(&j, p);
	json_obj_end(&j);
	json_end(&j);
	fflush(stdout);
}

/* ------------------------------------------------------------------ answering */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The answer's record (--json) or its citation check (r->cites, checked). */
static void emit(struct asker *a, const struct record *r)
{
	if (a->json) {
		print_json(a, r);
	} else {
		putchar('\n');
		if (r->res && !r->res->done)
			printf("[answer cut off]\n");
		print_citations(r->cites);
		if (a->echo)
			putchar('\n');
		fflush(stdout);
	}
}

/* Check the answer's citations into cites (r->cites) and print the answer's record
 * (--json) or the check. */
static int report(struct asker *a, const struct record *r, struct lr_cites *cites, struct lr_err *err)
{
	int rc;

	if ((rc = lr_cite_check(a->s->pack, lr_buf_cstr(&a->answer), a->answer.n, cites, err)))
		return rc;
	emit(a, r);
	return 0;
}

/* The line on stderr after an answer from the server. */
static void answer_line(const struct lr_api_answer *res)
{
	char n[32], c[32];

	if (res->completion_tokens >= 0)
		snprintf(n, sizeof n, "%" PRId64 " tokens", res->completion_tokens);
	else
		snprintf(n, sizeof n, "%zu bytes", res->bytes);
	fprintf(stderr, "longread: answer %s in %.2f s (%s), first token after %.2f s", n,
	        res->t_first ? res->t_end - res->t_first : 0.0, res_stop(res),
	        res->t_first ? res->t_first - res->t_sent : res->t_end - res->t_sent);
	if (res->prompt_tokens >= 0)
		fprintf(stderr, "; prompt %s tokens", lr_count((uint64_t)res->prompt_tokens, c, sizeof c));
	if (res->cached_tokens >= 0)
		fprintf(stderr, ", %s from the server's cache", lr_count((uint64_t)res->cached_tokens, c, sizeof c));
	fputc('\n', stderr);
}

/* The question r->question over the API: stream, check, report.  A failure after part
 * of the answer came still reports that part, marked as cut off, then returns the
 * failure; Ctrl-C is not a failure (the caller stops asking). */
static int answer_remote(struct asker *a, struct record *r, struct lr_err *err)
{
	struct lr_cites cites = { 0 };
	struct lr_api_answer res;
	int rc, rc2;

	rc = lr_ask_api_answer(a->x, a->s, r->question, r->q_len, a->json ? NULL : stdout, &a->answer, &res, err);
	if (rc == LR_EINTR)
		rc = 0;
	if (rc && !a->answer.n)
		return rc;   /* nothing came: only the error */
	r->res = &res;
	r->cites = &cites;
	r->error = rc ? err->msg : NULL;
	if ((rc2 = report(a, r, &cites, rc ? NULL : err))) {
		lr_cites_release(&cites);
		return rc ? rc : rc2;
	}
	lr_cites_release(&cites);
	answer_line(&res);
	return rc;
}

/* The local answer (its record r, citations checked) failed: cites nothing, or not all
 * verify.  Ask the server the same question over the same window; print both, the
 * server's marked, or one --json record with both.  @return 0 or the server's error
 * (what came of its answer is still reported). */
static int escalate(struct asker *a, struct record *r, struct lr_err *err)
{
	struct escalation e = { 0 };
	char why[96];
	int rc, rc2 = 0;

	if (!r->cites->n)
		snprintf(why, sizeof why, "the local answer cites nothing");
	else
		snprintf(why, sizeof why, "%zu of the local answer's %zu citation%s did not verify",
		         r->cites->n - r->cites->n_verified, r->cites->n, r->cites->n == 1 ? "" : "s");
	e.why = why;
	fprintf(stderr, "longread: escalating to '%s' at '%s': %s\n", a->x->api->model, a->x->api->shown, why);
	if (!a->json) {
		emit(a, r);
		printf("\n[escalated: %s; the answer of '%s':]\n", why, a->x->api->model);
		fflush(stdout);
	}
	rc = lr_ask_api_answer(a->x, a->s, r->question, r->q_len, a->json ? NULL : stdout, &e.answer, &e.res, err);
	if (rc == LR_EINTR)
		rc = 0;
	e.error = rc ? err->msg : NULL;
	if (e.answer.n || !rc)
		rc2 = lr_cite_check(a->s->pack, lr_buf_cstr(&e.answer), e.answer.n, &e.cites, rc ? NULL : err);
	if (a->json) {
		r->esc = &e;
		print_json(a, r);
	} else if (e.answer.n || !rc) {
		/* the server's answer checked and shown as an --api answer is */
		struct record er = { .res = &e.res, .cites = &e.cites };
		emit(a, &er);
	}
	if (e.answer.n || !rc)
		answer_line(&e.res);
	r->esc = NULL;
	lr_cites_release(&e.cites);
	lr_buf_release(&e.answer);
	return rc ? rc : rc2;
}

/* The line on stderr after a local answer. */
static void local_line(const struct lr_run_gen *gen, const struct record *r, const struct lr_session *s)
{
	fprintf(stderr, "longread: answer %" PRIu64 " tokens in %.2f s (%.1f tok/s, %s), first token after "
	        "%.2f s, seed %" PRIu64 "\n", gen->made, gen->t_end - gen->t_first,
	        gen->made / (gen->t_end - gen->t_first > 0 ? gen->t_end - gen->t_first : 1e-9),
	        lr_run_stop_name(gen->stop), r->t_first, s->run.sp.seed);
}

static int put_buf(void *arg, const void *data, uint64_t len, struct lr_err *err)
{
	lr_buf_add(arg, data, (size_t)len);
	return lr_buf_failed(arg) ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
}

/* Make the local context hold n_ctx tokens, keeping the documents' cache: it was sized
 * for the question room the layout reserved, and a longer question may still fit the
 * window.  The cache is copied out, the old context freed, a larger one made and the
 * copy loaded (about twice the documents' cache at the peak). */
static int grow(struct asker *a, uint32_t n_ctx, struct lr_err *err)
{
	struct lr_session *s = a->s;
	struct lr_ctx_params cp = s->run.cp;
	struct lr_buf m = { 0 };
	char b1[32], b2[32];
	int rc;

	cp.n_ctx = n_ctx;
	if ((rc = lr_ctx_kv_save(a->ctx, a->prefix, put_buf, &m, err)) == 0) {
		lr_ctx_free(a->ctx);
		a->ctx = NULL;
		if (!(rc = lr_ctx_new(&a->ctx, s->rm.m, &cp, err)))
			rc = lr_ctx_kv_load(a->ctx, a->prefix, a->prefix, m.p, m.n, err);
	}
	lr_buf_release(&m);
	if (!rc)
		fprintf(stderr, "longread: the cache grows to %s tokens for the question (%s)\n",
		        lr_count(n_ctx, b1, sizeof b1), cli_bytes(lr_kv_bytes(&s->rm.m->hp, cp.kv_type, n_ctx), b2, sizeof b2));
	return rc;
}

/* ------------------------------------------------------------------ conversation */

static void forget_turns(struct asker *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a->turns[i].q);
		lr_tok_ids_release(&a->turns[i].ans);
	}
	if (n)
		memmove(a->turns, a->turns + n, (a->n_turns - n) * sizeof *a->turns);
	a->n_turns -= n;
}

/* Keep the question just answered and its answer (the ids after the question's). */
static int add_turn(struct asker *a, const char *q, size_t len, struct lr_err *err)
{
	struct turn *t;
	size_t from = a->prefix + a->qids.n;

	if (a->n_turns == a->cap_turns) {
		size_t cap = a->cap_turns ? 2 * a->cap_turns : 8;
		if (!(t = realloc(a->turns, cap * sizeof *t)))
			return lr_errf(err, LR_ENOMEM, "out of memory");
		a->turns = t;
		a->cap_turns = cap;
	}
	t = &a->turns[a->n_turns];
	memset(t, 0, sizeof *t);
	if (!(t->q = malloc(len + 1)))
		return lr_errf(err, LR_ENOMEM, "out of memory");
	memcpy(t->q, q, len);
	t->q[len] = '\0';
	t->q_len = len;
	a->n_turns++;
	for (size_t i = from; i < a->hist.n; i++)
		if (lr_tok_ids_push(&t->ans, a->hist.v[i], err))
			return LR_ENOMEM;
	return 0;
}

/* The ids after the documents for question q: the kept turns (the first as
 * lr_pack_question makes it, the rest as follow-ups, each with its answer), then q.
 * Oldest turns are dropped, with a note, until everything fits room. */
static int question_ids(struct asker *a, const char *q, size_t len, uint32_t room, struct lr_err *err)
{
	const struct lr_pack *p = a->s->pack;
	size_t first = 0;
	int rc;

	for (;;) {
		a->qids.n = 0;
		for (size_t i = first; i < a->n_turns; i++) {
			const struct turn *t = &a->turns[i];
			if ((rc = i == first ? lr_pack_question(p, t->q, t->q_len, &a->qids, err) :
			          lr_pack_followup(p, t->q, t->q_len, &a->qids, err)))
				return rc;
			for (size_t k = 0; k < t->ans.n; k++)
				if ((rc = lr_tok_ids_push(&a->qids, t->ans.v[k], err)))
					return rc;
		}
		if ((rc = a->n_turns > first ? lr_pack_followup(p, q, len, &a->qids, err) :
		          lr_pack_question(p, q, len, &a->qids, err)))
			return rc;
		if (a->qids.n <= room || first == a->n_turns)
			break;
		first++;
	}
	if (first) {
		char n[32];
		forget_turns(a, first);
		fprintf(stderr, "longread: the conversation is cut to its last %zu turn%s to fit the window "
		        "(%s tokens)\n", a->n_turns, a->n_turns == 1 ? "" : "s", lr_count(a->qids.n, n, sizeof n));
	}
	return 0;
}

/* How many of a->qids the context holds already after the prefix (a conversation
 * continues where the last answer left it); at least one id is left to evaluate. */
static size_t kept(const struct asker *a)
{
	size_t pos = lr_ctx_pos(a->ctx), have = pos < a->hist.n ? pos : a->hist.n, k = 0;

	if (!a->converse || have <= a->prefix)
		return 0;
	have -= a->prefix;
	while (k < have && k < a->qids.n && a->hist.v[a->prefix + k] == a->qids.v[k])
		k++;
	return k < a->qids.n ? k : a->qids.n - 1;
}

/* Answer one question from the prefix.  @return 0 (also when the question was too long
 * and skipped, or the answer interrupted) or an error. */
static int answer(struct asker *a, const char *q, size_t len, uint32_t prefilled, struct lr_err *err)
{
	struct lr_session *s = a->s;
	struct lr_sampler *smp = NULL;
	struct lr_cites cites = { 0 };
	struct lr_run_gen gen;
	struct record r = { q, len, &gen, &cites, prefilled, prefilled ? a->t_prefill : 0, 0, 0, NULL, NULL, NULL };
	/* the room after the documents and the answer reserve in the window (the local
	 * context holds what the layout reserved, and grows to hold more) */
	uint32_t limit = a->ctx && s->rm.m->hp.n_ctx_train < s->window ? s->rm.m->hp.n_ctx_train : s->window;
	uint32_t need = a->prefix + s->pack->o.answer_tokens, room = limit > need ? limit - need : 0;
	double t0 = lr_run_now();
	size_t keep;
	int rc;

	a->qids.n = 0;
	while (len && is_space(*q))
		q++, len--;
	while (len && is_space(q[len - 1]))
		len--;
	r.question = q;
	r.q_len = len;
	if (!len)
		return 0;   /* an empty line */
	a->n_asked++;
	if ((rc = question_ids(a, q, len, room, err)))
		return rc;
	if (a->qids.n > room) {
		cli_error("question %zu is %zu tokens; the window has room for %" PRIu32 " (after the "
		          "documents and the answer reserve): skipped", a->n_asked, a->qids.n, room);
		a->skipped = 1;
		return 0;
	}
	if (a->ctx && need + a->qids.n > lr_ctx_n_ctx(a->ctx)) {
		/* a conversation grows turn by turn: make room for a few more at once */
		uint32_t n = need + (uint32_t)a->qids.n, twice = 2 * lr_ctx_n_ctx(a->ctx) - a->prefix;
		if (a->converse && twice > n)
			n = twice < limit ? twice : limit;
		if ((rc = grow(a, n, err)))
			return rc;
	}
	if (a->echo && !a->json) {
		printf("> %.*s\n", (int)len, q);
		fflush(stdout);
	}
	if (lr_ask_api_remote(a->x))
		return answer_remote(a, &r, err);
	keep = kept(a);
	lr_ctx_rewind(a->ctx, a->prefix + keep);
	a->hist.n = a->prefix;
	for (size_t i = 0; i < a->qids.n; i++)
		if ((rc = lr_tok_ids_push(&a->hist, a->qids.v[i], err)))
			return rc;
	if ((rc = lr_eval(a->ctx, a->qids.v + keep, (uint32_t)(a->qids.n - keep), NULL, a->logits, err)))
		return rc;
	r.t_question = lr_run_now() - t0;
	if ((rc = lr_sampler_new(&smp, &s->run.sp, s->rm.m->hp.n_vocab, err)))
		return rc;
	lr_buf_clear(&a->answer);
	rc = lr_run_generate(a->ctx, smp, s->rm.tok, &s->rm.chat, a->logits, s->run.n_gen, &a->hist,
	                     a->json ? NULL : stdout, &a->answer, &gen, err);
	lr_sampler_free(smp);
	if (rc)
		return rc;
	/* at a terminal the clock starts when the question is entered, not at the start */
	r.t_first = gen.t_first - (prefilled && !a->converse ? a->t_start : t0);
	if (a->converse && gen.made && (rc = add_turn(a, q, len, err)))
		return rc;
	if ((rc = lr_cite_check(s->pack, lr_buf_cstr(&a->answer), a->answer.n, &cites, err)))
		return rc;
	if (a->x->escalate && (!cites.n || cites.n_verified < cites.n)) {
		local_line(&gen, &r, s);
		rc = escalate(a, &r, err);
		lr_cites_release(&cites);
		return rc;
	}
	emit(a, &r);
	local_line(&gen, &r, s);
	lr_cites_release(&cites);
	return 0;
}

/* Prefill the documents once, with the progress line, and record the speed. */
static int prefill(struct asker *a, int progress, struct lr_err *err)
{
	struct lr_session *s = a->s;
	struct lr_progress pg;
	struct lr_speed sp;
	char n[32];
	uint32_t done;
	double t0 = lr_run_now();
	int rc;

	memset(&sp, 0, sizeof sp);
	lr_progress_start(&pg, "prefill", a->prefix, progress);
	rc = lr_run_prefill(a->ctx, s->pack->ids.v, a->prefix, &sp, &pg, &done, err);
	if (rc)
		return rc;
	lr_progress_end(&pg, done);
	a->t_prefill = lr_run_now() - t0;
	fprintf(stderr, "longread: prefill %s tokens in %.2f s (%.1f tok/s)\n", lr_count(a->prefix, n, sizeof n),
	        a->t_prefill, a->prefix / (a->t_prefill > 0 ? a->t_prefill : 1e-9));
	sp.threads = lr_ctx_threads(a->ctx);
	if (sp.n >= 2 * LR_RUN_CHUNK && lr_speed_fit(&sp) == 0)
		lr_speed_save(s->fingerprint, lr_kv_type_name(s->run.cp.kv_type), &sp);
	for (size_t i = 0; i < a->prefix; i++)
		if ((rc = lr_tok_ids_push(&a->hist, s->pack->ids.v[i], err)))
			return rc;
	return 0;
}

/* A saved context: the documents' cache comes from the file instead of a prefill. */
static int restore(struct asker *a, struct lr_err *err)
{
	struct lr_session *s = a->s;
	double t0 = lr_run_now();
	char n[32];
	int rc;

	if ((rc = lr_ctx_kv_load(a->ctx, a->prefix, a->prefix, s->lrc.kv, s->lrc.kv_len, err)))
		return rc;
	a->t_prefill = lr_run_now() - t0;
	fprintf(stderr, "longread: loaded %s tokens of %zu documents in %.2f s (no prefill)\n",
	        lr_count(a->prefix, n, sizeof n), s->pack->n_docs, a->t_prefill);
	for (size_t i = 0; i < a->prefix; i++)
		if ((rc = lr_tok_ids_push(&a->hist, s->pack->ids.v[i], err)))
			return rc;
	return 0;
}

/* Questions from standard input, one per line, until EOF (or Ctrl-C). */
/* One line of standard input into b (without its newline), keeping at most max bytes
 * of it (the rest is read and dropped).  @return 1 a line (*over: it was longer than
 * max), 0 end of input, -1 a read error or out of memory (errno). */
static int read_line(struct lr_buf *b, size_t max, int *over)
{
	int ch, any = 0;

	b->n = 0;
	*over = 0;
	errno = 0;
	while ((ch = getc(stdin)) != EOF) {
		any = 1;
		if (ch == '\n')
			return 1;
		if (b->n < max) {
			char c = (char)ch;
			lr_buf_add(b, &c, 1);
			if (lr_buf_failed(b)) {
				errno = ENOMEM;
				return -1;
			}
		} else {
			*over = 1;
		}
	}
	if (ferror(stdin))
		return -1;
	return any;
}

/* One line typed at the terminal, with line editing and history (libedit), into b.
 * @return as read_line. */
static int read_tty(struct lr_buf *b, size_t max, int *over)
{
	char *line;
	size_t n;

	rl_outstream = stderr;   /* the prompt and editing go to the terminal; stdout holds answers */
	errno = 0;
	if (!(line = readline("question> ")))
		return errno == EINTR || lr_run_interrupted() ? -1 : 0;
	n = strlen(line);
	*over = n > max;
	b->n = 0;
	lr_buf_add(b, line, *over ? 0 : n);
	if (n && strspn(line, " \t") < n)
		add_history(line);
	free(line);
	if (lr_buf_failed(b)) {
		errno = ENOMEM;
		return -1;
	}
	return 1;
}

/* A line that is one word starting with '/' is a command at the terminal, not a
 * question: /reset, /exit (/quit, /bye), /help.  @return 0 not a command, 1 handled,
 * 2 end the session. */
static int command(struct asker *a, const struct lr_buf *b)
{
	size_t i = 0, n = b->n;

	while (i < n && is_space(b->p[i]))
		i++;
	while (n > i && is_space(b->p[n - 1]))
		n--;
	if (n == i || b->p[i] != '/' || memchr(b->p + i, ' ', n - i) || memchr(b->p + i, '\t', n - i))
		return 0;
#define IS(w) (n - i == sizeof(w) - 1 && memcmp(b->p + i, w, n - i) == 0)
	if (IS("/reset")) {
		forget_turns(a, a->n_turns);
		fprintf(stderr, "longread: the conversation is forgotten; the next question starts afresh\n");
	} else if (IS("/exit") || IS("/quit") || IS("/bye")) {
		return 2;
	} else if (IS("/help")) {
		fprintf(stderr, "longread: a question is answered over the documents and the conversation so far;\n"
		        "  /reset   forget the conversation (the documents stay)\n"
		        "  /exit    end (also /quit, /bye, Ctrl-D)\n");
	} else {
		cli_error("unknown command '%.*s' (/reset, /exit, /help)", (int)(n - i), b->p + i);
	}
#undef IS
	return 1;
}

static int ask_stdin(struct asker *a, uint32_t *prefilled, struct lr_err *err)
{
	int tty = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
	struct lr_buf line = { 0 };
	int rc = 0, got, over;

	a->echo = !tty;
	a->converse = tty && !a->json && !lr_ask_api_remote(a->x);
	if (a->converse)
		fprintf(stderr, "longread: ask away; questions may refer to earlier answers (/reset forgets them, "
		        "/exit or Ctrl-D ends, /help)\n");
	for (;;) {
		if (tty && !a->converse) {
			fputs("question> ", stderr);
			fflush(stderr);
		}
		got = a->converse ? read_tty(&line, LR_SESSION_MAX_QUESTION, &over) :
		      read_line(&line, LR_SESSION_MAX_QUESTION, &over);
		if (got <= 0) {
			if (lr_run_interrupted() || errno == EINTR)
				rc = lr_errf(err, LR_EINTR, "interrupted");
			else if (got < 0)
				rc = errno == ENOMEM ? lr_errf(err, LR_ENOMEM, "out of memory reading a question") :
				     lr_errf_sys(err, errno, "cannot read the questions from standard input");
			if (tty)
				fputc('\n', stderr);
			break;
		}
		if (over) {
			/* refused before the tokenizer ever sees it */
			cli_error("question %zu is over %d MiB: skipped", ++a->n_asked, LR_SESSION_MAX_QUESTION >> 20);
			a->skipped = 1;
			continue;
		}
		if (a->converse && (got = command(a, &line))) {
			if (got == 2)
				break;
			continue;
		}
		if ((rc = answer(a, line.p ? line.p : "", line.n, *prefilled, err)))
			break;
		if (a->qids.n)
			*prefilled = 0;
		if (lr_run_interrupted())
			break;
	}
	lr_buf_release(&line);
	return rc;
}

int cmd_ask(int argc, char **argv)
{
	enum { O_JSON = 256, O_PROGRESS };
	static const struct option opts[] = {
		LR_SESSION_OPTIONS, LR_RUN_SAMPLING_OPTIONS, LR_ASK_API_OPTIONS,
		{ "json", no_argument, NULL, O_JSON },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_session s;
	struct lr_ask_api x;
	struct asker a;
	struct lr_err err = { 0 };
	struct lr_ctx_params cp;
	int progress = 0, c, rc;
	uint32_t prefilled;

	memset(&a, 0, sizeof a);
	a.t_start = lr_run_now();
	a.s = &s;
	a.x = &x;
	lr_session_init(&s, CMD);
	lr_ask_api_init(&x, CMD);
	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":" LR_SESSION_SHORT_OPTIONS "h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: a.json = 1; break;
		case O_PROGRESS: progress = 1; break;
		case 'h': usage(); return LR_EXIT_OK;
		case LR_ASK_API_O_VOCAB: s.vocab = optarg; break;
		default:
			if ((rc = lr_ask_api_opt(&x, c, optarg)) != -1) {
				if (rc)
					return rc;
				break;
			}
			/* what the server is told: only the sampling options given */
			x.given |= c == LR_RUN_O_TEMP ? LR_ASK_API_TEMP : c == LR_RUN_O_TOPK ? LR_ASK_API_TOPK :
			           c == LR_RUN_O_TOPP ? LR_ASK_API_TOPP : c == LR_RUN_O_MINP ? LR_ASK_API_MINP :
			           c == LR_RUN_O_REP ? LR_ASK_API_REP : c == LR_RUN_O_SEED ? LR_ASK_API_SEED : 0;
			x.local_only |= c == 't' || c == LR_RUN_O_KV;
			if ((rc = lr_session_opt(&s, c, optarg, argv)))
				return rc;
		}
	}
	for (int i = optind; !s.question && !s.questions_file && i < argc; i++)
		if (strcmp(argv[i], "-") == 0) {
			rc = cli_usage(CMD, "no questions: standard input holds the documents, so give -q "
			               "or --questions");
			goto out;
		}
	if ((rc = lr_ask_api_start(&x, &s)))
		goto out;
	if (s.vocab && !lr_ask_api_remote(&x)) {
		rc = cli_usage(CMD, "--vocab counts tokens for --api; answering here needs the model (-m)");
		goto out;
	}
	if ((rc = lr_session_open(&s, argv + optind, argc - optind, &err)))
		goto out;
	if (s.layout_rc && !s.pack->too_small) {
		fflush(stdout);
		lr_report_table(stderr, s.pack, TABLE_ROWS);
		lr_report_totals(stderr, s.pack, s.n_questions > 0);
	}
	if (s.layout_rc) {
		rc = cli_fail(&err);
		goto out;
	}
	lr_run_sigint(1);   /* Ctrl-C from here on stops cleanly, before or during the prefill */
	if (!s.from_lrc)
		lr_corpus_summary(&s.corpus);
	lr_report_fit(s.pack);
	lr_report_fits_line(s.pack);
	a.prefix = (uint32_t)s.pack->ids.n;
	if (x.api && (rc = lr_ask_api_ready(&x, &s)))
		goto out;
	if (lr_ask_api_remote(&x)) {
		prefilled = 0;
		goto ask;
	}

	cp = s.run.cp;
	cp.n_ctx = lr_pack_total(s.pack);
	if (cp.n_ctx > s.rm.m->hp.n_ctx_train)
		cp.n_ctx = s.rm.m->hp.n_ctx_train;
	if ((rc = lr_run_ctx_new(&a.ctx, s.rm.m, &cp, &err)))
		goto fail;
	if (!(a.logits = malloc(sizeof(float) * s.rm.m->hp.n_vocab))) {
		rc = lr_errf(&err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = s.from_lrc ? restore(&a, &err) : prefill(&a, progress, &err)))
		goto fail;
	prefilled = s.from_lrc ? 0 : a.prefix;
ask:
	if (s.n_questions) {
		a.echo = s.n_questions > 1;
		for (size_t i = 0; i < s.n_questions && !lr_run_interrupted(); i++) {
			if ((rc = answer(&a, s.questions[i], strlen(s.questions[i]), prefilled, &err)))
				goto fail;
			prefilled = 0;
		}
	} else if ((rc = ask_stdin(&a, &prefilled, &err))) {
		goto fail;
	}
	if (lr_run_interrupted())
		rc = LR_EXIT_INTERRUPTED;
	else if (a.skipped)
		rc = LR_EXIT_NOFIT;
	else
		rc = s.from_lrc ? LR_EXIT_OK : lr_corpus_status(&s.corpus);
	goto out;
fail:
	fflush(stdout);
	rc = cli_fail(&err);
out:
	lr_run_sigint(0);
	lr_buf_release(&a.answer);
	lr_tok_ids_release(&a.hist);
	lr_tok_ids_release(&a.qids);
	forget_turns(&a, a.n_turns);
	free(a.turns);
	free(a.logits);
	lr_ctx_free(a.ctx);
	lr_ask_api_release(&x);
	lr_session_release(&s);
	return rc;
}
