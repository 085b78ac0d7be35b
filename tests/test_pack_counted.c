/* tests/test_pack_counted.c — the packer's counted mode (the --api client without a
 * local tokenizer) against the packer with the real Llama 3 tokenizer: counting with
 * the same tokenizer gives the same budget, token for token; the window's text
 * (system prompt, lr_pack_user_text, the question) put through the chat template is the
 * tokenized window, also after --fit cut documents (so a server reads what the local
 * engine would); --fit with counts fits, by the true count of what it kept; an estimate
 * fits by its own count; a counter's error stops packing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/buf.h"
#include "tests/packtest.h"
#include "tests/tap.h"

static struct fixture fx;
static size_t n_calls;

/* The real tokenizer as a counter: what a server's /tokenize would say. */
static int count_tok(void *ctx, const char *s, size_t n, size_t *out, struct lr_err *err)
{
	n_calls++;
	return lr_tok_count(ctx, s, n, 0, out, err);
}

static int count_bytes4(void *ctx, const char *s, size_t n, size_t *out, struct lr_err *err)
{
	(void)ctx, (void)s, (void)err;
	*out = (n + 3) / 4;
	return 0;
}

static int count_fails(void *ctx, const char *s, size_t n, size_t *out, struct lr_err *err)
{
	(void)ctx, (void)s, (void)n, (void)out;
	return lr_errf(err, LR_ENET, "server gone");
}

static struct lr_pack *counted(const struct lr_pack_counter *c, const struct lr_pack_opts *o, uint32_t n_question,
                               int *rc)
{
	struct lr_pack *p = NULL;
	struct lr_err err = { 0 };

	if ((*rc = lr_pack_new_counted(&p, c, fx.docs, o, &err)))
		return NULL;
	*rc = lr_pack_layout(p, n_question, &err);
	return p;
}

/* The window as a server gets it, through the chat template and the real tokenizer. */
static void window_ids(const struct lr_pack *p, const char *q, struct lr_tok_ids *ids)
{
	struct lr_buf user = { 0 };

	ids->n = 0;
	lr_pack_user_text(p, &user, NULL);
	lr_pack_question_text(q, strlen(q), &user, NULL);
	lr_chat_begin(&fx.chat, ids, NULL);
	if (*p->system)
		lr_chat_message(&fx.chat, "system", p->system, strlen(p->system), ids, NULL);
	lr_chat_message(&fx.chat, "user", user.p, user.n, ids, NULL);
	lr_chat_prompt(&fx.chat, ids, NULL);
	lr_buf_release(&user);
}

/* The tokenizer pack's prefix and question ids. */
static void local_ids(const struct lr_pack *p, const char *q, struct lr_tok_ids *ids)
{
	ids->n = 0;
	for (size_t i = 0; i < p->ids.n; i++)
		lr_tok_ids_push(ids, p->ids.v[i], NULL);
	lr_pack_question(p, q, strlen(q), ids, NULL);
}

static void corpus(void)
{
	fixture_reset(&fx);
	fixture_add_corpus(&fx, "text/GPL-3.txt");
	fixture_add_corpus(&fx, "text/argparse.py");
	fixture_add(&fx, "notes.txt", "first line\nsecond line\n\n\nafter blank lines\n   indented\n\ttabbed\n");
	fixture_add(&fx, "crlf.txt", "windows\r\nline endings\r\n\r\nend\r\n");
	fixture_add_corpus(&fx, "html/install-en.html");
	fixture_add_corpus(&fx, "pdf/apssamp.pdf");
}

static void same_budget(void)
{
	static const char *const systems[] = { NULL, "", "Answer briefly." };
	struct lr_pack_counter c = { count_tok, NULL };
	struct lr_tok_ids want = { 0 }, got = { 0 };
	const char *q = "  Which option parses integers?\n";

	c.ctx = fx.tok;
	for (size_t k = 0; k < 3; k++) {
		struct lr_pack_opts o = { .n_ctx = 131072, .answer_tokens = 512, .system = systems[k] };
		int rc1, rc2;
		struct lr_pack *a = fixture_pack(&fx, &o, 40, &rc1), *b = counted(&c, &o, 40, &rc2);
		struct lr_tok_ids qa = { 0 }, qb = { 0 };
		int docs_same = a && b;

		for (size_t i = 0; docs_same && i < a->n_docs; i++)
			docs_same = a->docs[i].n_full == b->docs[i].n_full && a->docs[i].n_tok == b->docs[i].n_tok &&
			            a->docs[i].tok_off == b->docs[i].tok_off;
		lr_pack_question(a, q, strlen(q), &qa, NULL);
		lr_pack_question(b, q, strlen(q), &qb, NULL);
		tap_ok(!rc1 && !rc2 && docs_same && a->ids.n == b->ids.n && a->n_fixed == b->n_fixed &&
		       a->n_doc_tokens == b->n_doc_tokens && a->n_need == b->n_need && qa.n == qb.n,
		       "system %s: counting with the tokenizer gives the tokenizer's budget (%zu prefix tokens)",
		       systems[k] ? *systems[k] ? "given" : "none" : "default", b ? b->ids.n : 0);
		tap_ok(b && b->ids.n && b->ids.v[0] == LR_PACK_NO_ID && b->ids.v[b->ids.n - 1] == LR_PACK_NO_ID,
		       "system %s: counted mode's ids are placeholders", systems[k] ? *systems[k] ? "given" : "none" : "default");
		local_ids(a, q, &want);
		window_ids(b, q, &got);
		tap_ok(want.n == got.n && memcmp(want.v, got.v, want.n * sizeof *want.v) == 0,
		       "system %s: system prompt, user text and question through the chat template = the local window",
		       systems[k] ? *systems[k] ? "given" : "none" : "default");
		lr_tok_ids_release(&qa);
		lr_tok_ids_release(&qb);
		lr_pack_free(a);
		lr_pack_free(b);
	}
	lr_tok_ids_release(&want);
	lr_tok_ids_release(&got);
}

static void fit(void)
{
	static const uint32_t windows[] = { 3000, 9000, 20000, 32000 };
	struct lr_pack_counter c = { count_tok, NULL }, est = { count_bytes4, NULL };
	struct lr_tok_ids want = { 0 }, got = { 0 };
	const char *q = "What does the licence say?";

	c.ctx = fx.tok;
	for (size_t k = 0; k < sizeof windows / sizeof *windows; k++) {
		struct lr_pack_opts o = { .n_ctx = windows[k], .answer_tokens = 256, .fit = 1 };
		int rc1, rc2, rc3;
		struct lr_pack *a = fixture_pack(&fx, &o, 40, &rc1), *b = counted(&c, &o, 40, &rc2);
		struct lr_pack *e = counted(&est, &o, 40, &rc3);
		struct lr_buf text = { 0 };

		tap_ok(a && b && !rc2 && b->fits && lr_pack_total(b) <= windows[k] && b->n_shortened + b->n_dropped > 0,
		       "window %u: --fit by a counter fits (%u tokens; the tokenizer's own fit: %u)", windows[k],
		       b ? lr_pack_total(b) : 0, a ? lr_pack_total(a) : 0);
		window_ids(b, q, &got);
		want.n = 0;
		lr_pack_question(b, q, strlen(q), &want, NULL);
		tap_ok(got.n == b->ids.n + want.n, "window %u: the counted window, cuts included, is as long as it "
		       "counted (%zu tokens when tokenized for real)", windows[k], got.n);
		/* the cuts are whole lines with the note, as in the local window */
		lr_pack_user_text(b, &text, NULL);
		tap_ok(strstr(text.p, "[note: the documents did not all fit") && strstr(text.p, "</documents>\n\n") &&
		       (b->n_shortened == 0 || strstr(text.p, "[note: shortened to fit the window: the text after line ")),
		       "window %u: the counted window's text carries the fit notes", windows[k]);
		tap_ok(e && !rc3 && e->fits && lr_pack_total(e) <= windows[k], "window %u: --fit by a 4-bytes estimate fits "
		       "by its own count (%u)", windows[k], e ? lr_pack_total(e) : 0);
		lr_buf_release(&text);
		lr_pack_free(a);
		lr_pack_free(b);
		lr_pack_free(e);
	}
	lr_tok_ids_release(&want);
	lr_tok_ids_release(&got);
}

/* The checkout's path is in every header, and CI's path once made the estimated cuts
 * overshoot by a token, pass after pass: reach corpora/ by links of 16 name lengths, and
 * every fit by a counter must land in every window from 2,900 to 3,100 tokens. */
static void fit_any_path(void)
{
	struct lr_pack_counter c = { count_tok, NULL };
	const char *src = getenv("SRCDIR");
	char dir[] = "/tmp/lr-counted-XXXXXX", target[4096], link[256], miss[256] = "";
	size_t n_miss = 0, n_packs = 0;

	c.ctx = fx.tok;
	if (!mkdtemp(dir) || !realpath(src && *src ? src : ".", target)) {
		tap_ok(0, "a temporary directory for the links");
		return;
	}
	for (int len = 1; len <= 16; len++) {
		snprintf(link, sizeof link, "%s/%.*s", dir, len, "abcdefghijklmnop");
		if (symlink(target, link))
			continue;
		setenv("SRCDIR", link, 1);
		corpus();
		for (uint32_t w = 2900; w <= 3100; w += 20, n_packs++) {
			struct lr_pack_opts o = { .n_ctx = w, .answer_tokens = 256, .fit = 1 };
			int rc;
			struct lr_pack *b = counted(&c, &o, 40, &rc);
			if ((!b || rc || !b->fits || lr_pack_total(b) > w) && n_miss++ < 3)
				snprintf(miss + strlen(miss), sizeof miss - strlen(miss), " %.20s@%u=%u", link + sizeof dir, w,
				         b ? lr_pack_total(b) : 0);
			lr_pack_free(b);
		}
		unlink(link);
	}
	rmdir(dir);
	if (src)
		setenv("SRCDIR", src, 1);
	else
		unsetenv("SRCDIR");
	tap_ok(n_packs == 16 * 11 && n_miss == 0, "--fit by a counter fits from 16 checkout paths in 11 windows "
	       "(%zu packs, %zu missed:%s)", n_packs, n_miss, miss);
}

static void errors(void)
{
	struct lr_pack_counter c = { count_fails, NULL };
	struct lr_pack_opts o = { .n_ctx = 8192, .answer_tokens = 256 };
	struct lr_pack *p = NULL;
	struct lr_err err = { 0 };
	int rc = lr_pack_new_counted(&p, &c, fx.docs, &o, &err);

	tap_ok(rc == LR_ENET && !p && strcmp(err.msg, "server gone") == 0, "a counter's error stops packing, "
	       "its code and message kept");
}

int main(void)
{
	if (fixture_open(&fx))
		return tap_skip_all("no Llama 3 vocabulary in ../shared/golden");
	corpus();
	same_budget();
	tap_ok(n_calls > 0, "the counter was asked (%zu times)", n_calls);
	fit();
	fit_any_path();
	errors();
	fixture_close(&fx);
	return tap_done();
}
