/* src/pack.c — the packer: order documents, render and tokenize each once, find where
 * each rendering can be cut after a whole line, then decide what fits (exactly, in
 * tokens) and build the prefix ids.  Fitting is arithmetic on the per-line token
 * offsets: no document is tokenized twice. */
#include "src/pack.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/buf.h"

#define MAX_TOKENS ((uint64_t)UINT32_MAX / 2)

/* ------------------------------------------------------------------ names */

static const char *const order_names[] = { "given", "name", "size", "mtime" };

const char *lr_pack_order_name(enum lr_pack_order o)
{
	return (unsigned)o < 4 ? order_names[o] : "?";
}

int lr_pack_order_parse(const char *s, enum lr_pack_order *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, order_names[i]) == 0) {
			*out = (enum lr_pack_order)i;
			return 0;
		}
	return LR_EINVAL;
}

const char *lr_pack_fate_name(enum lr_pack_fate f)
{
	switch (f) {
	case LR_PACK_WHOLE: return "whole";
	case LR_PACK_SHORTENED: return "shortened";
	case LR_PACK_DROPPED: return "left out";
	case LR_PACK_ABSENT: return "not in window";
	}
	return "?";
}

char *lr_pack_default_system(uint32_t line_step)
{
	struct lr_buf b = { 0 };
	char lines[96];

	if (line_step <= 1)
		snprintf(lines, sizeof lines, "every line is numbered");
	else
		snprintf(lines, sizeof lines, "line 1 and every %" PRIu32 "th line are numbered: count from "
			"the nearest number", line_step);
	lr_buf_printf(&b,
		"You answer questions about the documents in the user's message, using only what they "
		"say. After each statement, cite where it comes from in square brackets, with the "
		"document's name exactly as its <document name=\"...\"> header gives it:\n"
		"- a line of a text or code file: [NAME:LINE] or [NAME:FIRST-LAST] (%s);\n"
		"- a page of a PDF: [NAME p.PAGE], as its page markers show;\n"
		"- a section of a web page: [NAME \xc2\xa7 HEADING];\n"
		"- a whole document: [NAME].\n"
		"Put the exact words you rely on in double quotes just before the citation, for "
		"example: \"renews for one year\" [contract.pdf p.3]. If the documents do not answer "
		"the question, say so.", lines);
	if (lr_buf_failed(&b)) {
		lr_buf_release(&b);
		return NULL;
	}
	return b.p;
}

/* ------------------------------------------------------------------ order */

struct item {
	const struct lr_doc *d;
	size_t idx;          /* extraction order */
	int listing;         /* a tree listing: kept first */
	int64_t sec;         /* mtime */
	long nsec;
};

static int cmp_items(const void *pa, const void *pb, void *ctx)
{
	const struct item *a = pa, *b = pb;
	enum lr_pack_order o = *(const enum lr_pack_order *)ctx;
	int c = 0;

	if (o != LR_PACK_ORDER_GIVEN && a->listing != b->listing)
		return b->listing - a->listing;
	if (o == LR_PACK_ORDER_NAME)
		c = strcmp(a->d->name, b->d->name);
	else if (o == LR_PACK_ORDER_SIZE)
		c = (a->d->n_bytes > b->d->n_bytes) - (a->d->n_bytes < b->d->n_bytes);
	else if (o == LR_PACK_ORDER_MTIME)
		c = a->sec != b->sec ? (a->sec > b->sec) - (a->sec < b->sec) :
		    (a->nsec > b->nsec) - (a->nsec < b->nsec);
	if (c)
		return c;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int order_docs(struct lr_pack *p, const struct lr_doclist *docs, struct lr_err *err)
{
	struct item *it = calloc(docs->n ? docs->n : 1, sizeof *it);

	if (!it)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	for (size_t i = 0; i < docs->n; i++) {
		struct stat st;
		it[i].d = docs->v[i];
		it[i].idx = i;
		it[i].listing = docs->v[i]->kind == LR_DOC_TREE;
		if (p->o.order == LR_PACK_ORDER_MTIME && strcmp(docs->v[i]->path, "-") != 0 &&
		    stat(docs->v[i]->path, &st) == 0) {
			it[i].sec = (int64_t)st.st_mtim.tv_sec;
			it[i].nsec = st.st_mtim.tv_nsec;
		}
	}
	qsort_r(it, docs->n, sizeof *it, cmp_items, &p->o.order);
	for (size_t i = 0; i < docs->n; i++)
		p->docs[i].doc = it[i].d;
	free(it);
	return 0;
}

/* ------------------------------------------------------------------ rendering */

static int count(const struct lr_pack *p, const char *s, size_t n, uint32_t *out, struct lr_err *err)
{
	size_t k;
	int rc = p->counter ? p->counter->count(p->counter->ctx, s, n, &k, err) :
	         lr_tok_count(p->tok, s, n, 0, &k, err);

	*out = rc ? 0 : (uint32_t)(k > MAX_TOKENS ? MAX_TOKENS : k);
	return rc;
}

/* n placeholders (counted mode). */
static int placeholders(struct lr_tok_ids *ids, uint64_t n, struct lr_err *err)
{
	for (uint64_t i = 0; i < n; i++)
		if (lr_tok_ids_push(ids, LR_PACK_NO_ID, err))
			return LR_ENOMEM;
	return 0;
}

static int encode(const struct lr_pack *p, const char *s, size_t n, struct lr_tok_ids *ids,
                  struct lr_err *err)
{
	uint32_t k;
	int rc;

	if (!p->counter)
		return lr_tok_encode(p->tok, s, n, 0, ids, err);
	if ((rc = count(p, s, n, &k, err)))
		return rc;
	return placeholders(ids, k, err);
}

/* The chat markup (engine/chat.h), or in counted mode its size: one per special token,
 * the role and the text counted as text. */
static int chat_special(const struct lr_pack *p, int32_t id, struct lr_tok_ids *ids, struct lr_err *err)
{
	return lr_tok_ids_push(ids, p->counter ? LR_PACK_NO_ID : id, err);
}

static int chat_header(const struct lr_pack *p, const char *role, struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	if (!p->counter)
		return lr_chat_header(p->chat, role, ids, err);
	if ((rc = chat_special(p, 0, ids, err)) || (rc = encode(p, role, strlen(role), ids, err)))
		return rc;
	return chat_special(p, 0, ids, err);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* s[0..*n) without surrounding whitespace. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && is_space(*s))
		s++, (*n)--;
	while (*n && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

static int chat_message(const struct lr_pack *p, const char *role, const char *text, size_t len,
                        struct lr_tok_ids *ids, struct lr_err *err)
{
	struct lr_buf b = { 0 };
	int rc;

	if (!p->counter)
		return lr_chat_message(p->chat, role, text, len, ids, err);
	text = trim(text, &len);
	lr_buf_add(&b, "\n\n", 2);   /* one stretch of text, as lr_chat_text tokenizes it */
	lr_buf_add(&b, text, len);
	if (lr_buf_failed(&b))
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
	else if (!(rc = chat_header(p, role, ids, err)) && !(rc = encode(p, b.p, b.n, ids, err)))
		rc = chat_special(p, 0, ids, err);
	lr_buf_release(&b);
	return rc;
}

/* The note that ends a shortened document: lines kept+1.. are left out. */
static void cut_note(struct lr_buf *b, const struct lr_doc *d, uint64_t kept, uint32_t page)
{
	lr_buf_printf(b, "[note: shortened to fit the window: the text after line %" PRIu64 " of %" PRIu64
		" is left out", kept, d->n_lines);
	if (page)
		lr_buf_printf(b, " (from page %" PRIu32 " of %" PRIu32 ")", page, d->n_pages);
	lr_buf_str(b, "]\n");
}

/* The page that line kept+1 is on (0 when not a PDF page). */
static uint32_t page_after(const struct lr_doc *d, uint64_t kept)
{
	const struct lr_anchor *a;

	if (d->kind != LR_DOC_PDF || kept >= d->n_lines)
		return 0;
	a = lr_doc_page_at(d, d->line_off[kept]);
	return a ? a->number : 0;
}

/* Record every place the rendering can be cut after line k (1 <= k < n_lines): where a
 * token boundary coincides with the start of line k+1's output. */
static int find_cuts(struct lr_pack_doc *pd, const struct lr_pack *p, const uint64_t *line_pos,
                     struct lr_err *err)
{
	const struct lr_doc *d = pd->doc;
	uint64_t b = 0, total = 0;
	size_t t = 0, n = d->n_lines > 1 ? (size_t)d->n_lines - 1 : 0;

	for (size_t i = 0; i < pd->ids.n && !p->counter; i++) {
		size_t len;
		lr_tok_piece(p->tok, pd->ids.v[i], &len);
		total += len;
	}
	pd->body_tok = 0;
	if ((total != pd->len && !p->counter) || !n)
		return 0;  /* pieces do not add up (cannot happen for valid UTF-8): never cut */
	pd->cut_line = malloc(n * sizeof *pd->cut_line);
	pd->cut_tok = malloc(n * sizeof *pd->cut_tok);
	pd->cut_byte = malloc(n * sizeof *pd->cut_byte);
	if (!pd->cut_line || !pd->cut_tok || !pd->cut_byte)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	if (p->counter) {
		/* no pieces: a line's first token estimated in proportion to its first byte
		 * (build_doc counts what a cut keeps exactly) */
		for (uint64_t k = 0; k <= n; k++) {
			uint64_t pos = line_pos[k], tok = pd->len ? pd->ids.n * pos / pd->len : 0;
			if (k == 0)
				pd->body_tok = (uint32_t)tok;
			else if (tok > pd->body_tok)
				pd->cut_line[pd->n_cuts] = k, pd->cut_tok[pd->n_cuts] = (uint32_t)tok,
				pd->cut_byte[pd->n_cuts++] = pos;
		}
		return 0;
	}
	for (uint64_t k = 0; k <= n; k++) {
		uint64_t pos = line_pos[k];
		while (t < pd->ids.n && b < pos) {
			size_t len;
			lr_tok_piece(p->tok, pd->ids.v[t++], &len);
			b += len;
		}
		if (k == 0)
			pd->body_tok = (uint32_t)t;
		else if (b == pos && t > pd->body_tok)
			pd->cut_line[pd->n_cuts] = k, pd->cut_tok[pd->n_cuts] = (uint32_t)t,
			pd->cut_byte[pd->n_cuts++] = pos;
	}
	return 0;
}

static int render(struct lr_pack *p, struct lr_pack_doc *pd, uint32_t id, struct lr_err *err)
{
	const struct lr_doc *d = pd->doc;
	struct lr_render_opts ro = { .flags = LR_RENDER_LINE_NUMBERS | LR_RENDER_OUTLINE,
	                             .line_step = p->o.line_step, .id = id };
	struct lr_buf note = { 0 };
	int rc;

	if (d->n_lines >= ((uint64_t)1 << 40))
		return lr_errf(err, LR_ERANGE, "'%s' has too many lines", d->name);
	ro.line_pos = malloc(((size_t)d->n_lines + 1) * sizeof *ro.line_pos);
	if (!ro.line_pos)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	if ((rc = lr_doc_render_with(d, &ro, &pd->text, &pd->len, err)))
		goto out;
	if (!pd->len) {
		pd->fate = LR_PACK_ABSENT;
		goto out;
	}
	pd->id = id;
	if ((rc = encode(p, pd->text, pd->len, &pd->ids, err)))
		goto out;
	if (pd->ids.n > MAX_TOKENS) {
		rc = lr_errf(err, LR_ERANGE, "'%s' is %zu tokens: too long to pack", d->name, pd->ids.n);
		goto out;
	}
	pd->n_full = (uint32_t)pd->ids.n;
	if ((rc = find_cuts(pd, p, ro.line_pos, err)))
		goto out;
	/* the longest note: the largest numbers it can hold */
	cut_note(&note, d, d->n_lines, d->kind == LR_DOC_PDF ? d->n_pages : 0);
	if (lr_buf_failed(&note)) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = count(p, note.p, note.n, &pd->note_max, err)))
		goto out;
	/* the smallest useful size: the first cut with LR_PACK_MIN_BODY tokens of text */
	pd->n_min = pd->n_full;
	for (size_t j = 0; j < pd->n_cuts; j++)
		if (pd->cut_tok[j] - pd->body_tok >= LR_PACK_MIN_BODY) {
			uint64_t size = (uint64_t)pd->cut_tok[j] + pd->note_max + p->close_tok;
			if (size < pd->n_full) {
				pd->n_min = (uint32_t)size;
				pd->cut_min = j;
			}
			break;
		}
out:
	lr_buf_release(&note);
	free(ro.line_pos);
	return rc;
}

/* ------------------------------------------------------------------ building */

static void release_doc(struct lr_pack_doc *pd)
{
	free(pd->text);
	lr_tok_ids_release(&pd->ids);
	free(pd->cut_line);
	free(pd->cut_tok);
	free(pd->cut_byte);
}

void lr_pack_free(struct lr_pack *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_docs; i++)
		release_doc(&p->docs[i]);
	free(p->docs);
	free(p->system);
	lr_tok_ids_release(&p->ids);
	lr_tok_ids_release(&p->sys_ids);
	lr_tok_ids_release(&p->open_ids);
	lr_tok_ids_release(&p->end_ids);
	free(p);
}

/* The fit note, with the counts given. */
static void fit_note(struct lr_buf *b, size_t shortened, size_t dropped)
{
	lr_buf_printf(b, "[note: the documents did not all fit in the context window: %zu are shortened "
		"(each says where) and %zu are left out; answer from what is here, and say so when "
		"the answer may be in what is missing]\n", shortened, dropped);
}

static int pack_new(struct lr_pack **out, const struct lr_tok *tok, const struct lr_chat *chat,
                    const struct lr_pack_counter *counter, const struct lr_doclist *docs,
                    const struct lr_pack_opts *o, struct lr_err *err)
{
	struct lr_pack *p;
	const char *system, *lead = counter ? "\n\n" : chat->lead;
	struct lr_buf note = { 0 };
	uint32_t id = 0;
	int rc;

	*out = NULL;
	if (!o->n_ctx)
		return lr_errf(err, LR_EINVAL, "the window has no room");
	if (!(p = calloc(1, sizeof *p)) || !(p->docs = calloc(docs->n ? docs->n : 1, sizeof *p->docs))) {
		free(p);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	p->tok = tok;
	p->chat = chat;
	p->counter = counter;
	p->o = *o;
	if (!p->o.line_step)
		p->o.line_step = LR_PACK_LINE_STEP;
	p->n_docs = docs->n;
	if ((rc = order_docs(p, docs, err)))
		goto fail;

	/* the fixed parts */
	if (!(p->system = o->system ? strdup(o->system) : lr_pack_default_system(p->o.line_step))) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	system = p->system;
	if ((counter ? (rc = chat_special(p, 0, &p->sys_ids, err)) : (rc = lr_chat_begin(chat, &p->sys_ids, err))) ||
	    (*system && (rc = chat_message(p, "system", system, strlen(system), &p->sys_ids, err))) ||
	    (rc = chat_header(p, "user", &p->sys_ids, err)) ||
	    (rc = encode(p, lead, strlen(lead), &p->sys_ids, err)) ||
	    (rc = encode(p, "<documents>\n", 12, &p->open_ids, err)) ||
	    (rc = encode(p, "</documents>\n\n", 14, &p->end_ids, err)) ||
	    (rc = count(p, "</document>\n", 12, &p->close_tok, err)))
		goto fail;
	fit_note(&note, docs->n, docs->n);
	if (lr_buf_failed(&note)) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = count(p, note.p, note.n, &p->note_max, err)))
		goto fail;

	for (size_t i = 0; i < p->n_docs; i++) {
		struct lr_pack_doc *pd = &p->docs[i];
		for (size_t g = 0; g < o->n_focus && !pd->focus; g++)
			pd->focus = lr_extract_glob_match(o->focus[g], pd->doc->name);
		if ((rc = render(p, pd, id + 1, err)))
			goto fail;
		if (pd->fate != LR_PACK_ABSENT)
			id++;
	}
	lr_buf_release(&note);
	*out = p;
	return 0;
fail:
	lr_buf_release(&note);
	lr_pack_free(p);
	return rc;
}

int lr_pack_new(struct lr_pack **out, const struct lr_tok *tok, const struct lr_chat *chat,
                const struct lr_doclist *docs, const struct lr_pack_opts *o, struct lr_err *err)
{
	return pack_new(out, tok, chat, NULL, docs, o, err);
}

int lr_pack_new_counted(struct lr_pack **out, const struct lr_pack_counter *counter,
                        const struct lr_doclist *docs, const struct lr_pack_opts *o, struct lr_err *err)
{
	return pack_new(out, NULL, NULL, counter, docs, o, err);
}

int lr_pack_question_text(const char *q, size_t len, struct lr_buf *b, struct lr_err *err)
{
	q = trim(q, &len);
	if (!len)
		return lr_errf(err, LR_EINVAL, "the question is empty");
	lr_buf_str(b, "Question: ");
	lr_buf_add(b, q, len);
	return lr_buf_failed(b) ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
}

/* The end of the user's turn and the assistant's header (engine/chat.h). */
static int chat_prompt(const struct lr_chat *chat, struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc = lr_chat_end(chat, "user", ids, err);

	return rc ? rc : lr_chat_prompt(chat, ids, err);
}

/* Its size in counted mode (the Llama 3 format's). */
static int counted_prompt(const struct lr_pack *p, struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	if ((rc = chat_special(p, 0, ids, err)) || (rc = chat_header(p, "assistant", ids, err)))
		return rc;
	return encode(p, "\n\n", 2, ids, err);
}

int lr_pack_question(const struct lr_pack *p, const char *q, size_t len, struct lr_tok_ids *ids,
                     struct lr_err *err)
{
	struct lr_buf b = { 0 };
	int rc;

	if (!(rc = lr_pack_question_text(q, len, &b, err)) && !(rc = encode(p, b.p, b.n, ids, err)))
		rc = p->counter ? counted_prompt(p, ids, err) : chat_prompt(p->chat, ids, err);
	lr_buf_release(&b);
	return rc;
}

int lr_pack_followup(const struct lr_pack *p, const char *q, size_t len, struct lr_tok_ids *ids,
                     struct lr_err *err)
{
	struct lr_buf b = { 0 };
	int rc;

	if (p->counter)
		return lr_errf(err, LR_EINVAL, "no follow-up questions without a tokenizer");
	if (!(rc = lr_pack_question_text(q, len, &b, err)) && !(rc = lr_chat_end(p->chat, "assistant", ids, err)) &&
	    !(rc = lr_chat_header(p->chat, "user", ids, err)) && !(rc = lr_chat_text(p->chat, b.p, b.n, ids, err)))
		rc = chat_prompt(p->chat, ids, err);
	lr_buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ fitting */

/* The size of pd in the window when capped at x tokens (see pack.h); *cut receives the
 * cut used, or SIZE_MAX when it stays whole. */
static uint32_t capped(const struct lr_pack *p, const struct lr_pack_doc *pd, uint64_t x, size_t *cut)
{
	uint64_t over = (uint64_t)pd->note_max + p->close_tok;
	size_t lo = 0, hi = pd->n_cuts;

	*cut = SIZE_MAX;
	if (pd->n_full <= x || pd->n_min == pd->n_full)
		return pd->n_full;
	*cut = pd->cut_min;
	if (x < over)
		return pd->n_min;
	/* the last cut with cut_tok + over <= x */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pd->cut_tok[mid] + over <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || lo - 1 <= pd->cut_min)
		return pd->n_min;
	*cut = lo - 1;
	return (uint32_t)(pd->cut_tok[lo - 1] + over);
}

/* Shorten or drop the documents of one priority class (focus == cls) to fit in room. */
static void fit_class(struct lr_pack *p, int cls, uint64_t room)
{
	uint64_t sum = 0, lo = 0, hi = 0;
	size_t cut;

	for (size_t i = 0; i < p->n_docs; i++) {
		struct lr_pack_doc *pd = &p->docs[i];
		if (pd->fate != LR_PACK_ABSENT && pd->focus == cls) {
			sum += pd->n_min;
			if (pd->n_full > hi)
				hi = pd->n_full;
		}
	}
	/* leave out the largest (the last in the window among equals) until every remaining
	 * document fits at its smallest size */
	while (sum > room) {
		struct lr_pack_doc *big = NULL;
		for (size_t i = 0; i < p->n_docs; i++) {
			struct lr_pack_doc *pd = &p->docs[i];
			if (pd->fate == LR_PACK_WHOLE && pd->focus == cls && (!big || pd->n_full >= big->n_full))
				big = pd;
		}
		if (!big)
			break;   /* cannot happen: sum counts only documents still whole */
		big->fate = LR_PACK_DROPPED;
		sum -= big->n_min;
	}
	/* the largest common cap x whose total fits */
	while (lo < hi) {
		uint64_t x = lo + (hi - lo + 1) / 2, total = 0;
		for (size_t i = 0; i < p->n_docs; i++) {
			const struct lr_pack_doc *pd = &p->docs[i];
			if (pd->fate == LR_PACK_WHOLE && pd->focus == cls)
				total += capped(p, pd, x, &cut);
		}
		if (total <= room)
			lo = x;
		else
			hi = x - 1;
	}
	for (size_t i = 0; i < p->n_docs; i++) {
		struct lr_pack_doc *pd = &p->docs[i];
		if (pd->fate != LR_PACK_WHOLE || pd->focus != cls)
			continue;
		capped(p, pd, lo, &cut);
		if (cut != SIZE_MAX) {
			pd->fate = LR_PACK_SHORTENED;
			pd->cut = cut;
		}
	}
}

/* Decide every document's fate for avail tokens of documents. */
static void decide(struct lr_pack *p, uint64_t avail)
{
	for (size_t i = 0; i < p->n_docs; i++)
		if (p->docs[i].fate != LR_PACK_ABSENT)
			p->docs[i].fate = LR_PACK_WHOLE;
	for (int cls = 0; cls <= 1; cls++) {
		uint64_t higher = 0, mine = 0;
		for (size_t i = 0; i < p->n_docs; i++) {
			const struct lr_pack_doc *pd = &p->docs[i];
			if (pd->fate == LR_PACK_ABSENT)
				continue;
			if (pd->focus > cls)
				higher += pd->n_full;
			else if (pd->focus == cls)
				mine += pd->n_full;
		}
		if (higher + mine <= avail)
			return;
		if (higher > avail) {
			for (size_t i = 0; i < p->n_docs; i++)
				if (p->docs[i].fate == LR_PACK_WHOLE && p->docs[i].focus == cls)
					p->docs[i].fate = LR_PACK_DROPPED;
			continue;
		}
		fit_class(p, cls, avail - higher);
		return;
	}
}

static int append(struct lr_tok_ids *ids, const int32_t *v, size_t n, struct lr_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (lr_tok_ids_push(ids, v[i], err))
			return LR_ENOMEM;
	return 0;
}

/* Append pd as decided, with its offset, size and digest. */
static int build_doc(struct lr_pack *p, struct lr_pack_doc *pd, struct lr_err *err)
{
	struct lr_sha256 h;
	struct lr_buf note = { 0 };
	int rc;

	pd->tok_off = (uint32_t)p->ids.n;
	pd->n_tok = 0;
	pd->n_lines_kept = 0;
	if (pd->fate == LR_PACK_DROPPED || pd->fate == LR_PACK_ABSENT)
		return 0;
	lr_sha256_init(&h);
	if (pd->fate == LR_PACK_WHOLE) {
		if ((rc = append(&p->ids, pd->ids.v, pd->ids.n, err)))
			return rc;
		lr_sha256_update(&h, pd->text, pd->len);
		pd->n_lines_kept = pd->doc->n_lines;
	} else {
		uint64_t k = pd->cut_line[pd->cut];
		cut_note(&note, pd->doc, k, page_after(pd->doc, k));
		lr_buf_str(&note, "</document>\n");
		if (lr_buf_failed(&note))
			return lr_errf(err, LR_ENOMEM, "out of memory");
		/* counted mode: the cut's position in tokens was an estimate; count it */
		rc = p->counter ? encode(p, pd->text, (size_t)pd->cut_byte[pd->cut], &p->ids, err) :
		     append(&p->ids, pd->ids.v, pd->cut_tok[pd->cut], err);
		if (rc || (rc = encode(p, note.p, note.n, &p->ids, err))) {
			lr_buf_release(&note);
			return rc;
		}
		lr_sha256_update(&h, pd->text, (size_t)pd->cut_byte[pd->cut]);
		lr_sha256_update(&h, note.p, note.n);
		lr_buf_release(&note);
		pd->n_lines_kept = k;
	}
	lr_sha256_final(&h, pd->digest);
	pd->n_tok = (uint32_t)(p->ids.n - pd->tok_off);
	return 0;
}

static int build(struct lr_pack *p, struct lr_err *err)
{
	struct lr_sha256 h;
	int rc;

	p->ids.n = 0;
	p->n_shortened = p->n_dropped = 0;
	for (size_t i = 0; i < p->n_docs; i++) {
		p->n_shortened += p->docs[i].fate == LR_PACK_SHORTENED;
		p->n_dropped += p->docs[i].fate == LR_PACK_DROPPED;
	}
	if ((rc = append(&p->ids, p->sys_ids.v, p->sys_ids.n, err)))
		return rc;
	if (p->n_shortened || p->n_dropped) {
		struct lr_buf note = { 0 };
		fit_note(&note, p->n_shortened, p->n_dropped);
		rc = lr_buf_failed(&note) ? lr_errf(err, LR_ENOMEM, "out of memory") :
		     encode(p, note.p, note.n, &p->ids, err);
		lr_buf_release(&note);
		if (rc)
			return rc;
	}
	if ((rc = append(&p->ids, p->open_ids.v, p->open_ids.n, err)))
		return rc;
	p->n_doc_tokens = 0;
	for (size_t i = 0; i < p->n_docs; i++) {
		if ((rc = build_doc(p, &p->docs[i], err)))
			return rc;
		p->n_doc_tokens += p->docs[i].n_tok;
	}
	if ((rc = append(&p->ids, p->end_ids.v, p->end_ids.n, err)))
		return rc;
	if (p->ids.n > MAX_TOKENS)
		return lr_errf(err, LR_ENOFIT, "the documents are %zu tokens: far too many to pack", p->ids.n);
	p->n_fixed = (uint32_t)p->ids.n - p->n_doc_tokens;
	if (p->counter)
		return 0;   /* placeholders: no digest */
	lr_sha256_init(&h);
	for (size_t i = 0; i < p->ids.n; i++) {
		uint32_t v = (uint32_t)p->ids.v[i];
		uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
		lr_sha256_update(&h, le, 4);
	}
	lr_sha256_final(&h, p->digest);
	return 0;
}

uint32_t lr_pack_total(const struct lr_pack *p)
{
	uint64_t t = (uint64_t)p->ids.n + p->n_question + p->o.answer_tokens;

	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

int lr_pack_layout(struct lr_pack *p, uint32_t n_question, struct lr_err *err)
{
	uint64_t fixed = p->sys_ids.n + p->open_ids.n + p->end_ids.n;
	uint64_t reserve = (uint64_t)n_question + p->o.answer_tokens, docs = 0, avail;
	int rc;

	p->n_question = n_question;
	p->fits = 0;
	p->too_small = fixed + reserve > p->o.n_ctx;
	p->ids.n = 0;
	for (size_t i = 0; i < p->n_docs; i++)
		if (p->docs[i].fate != LR_PACK_ABSENT) {
			p->docs[i].fate = LR_PACK_WHOLE;
			docs += p->docs[i].n_full;
		}
	p->n_need = fixed + docs + reserve > UINT32_MAX ? UINT32_MAX : (uint32_t)(fixed + docs + reserve);
	p->n_fixed = (uint32_t)fixed;
	p->n_doc_tokens = docs > UINT32_MAX ? UINT32_MAX : (uint32_t)docs;
	p->n_shortened = p->n_dropped = 0;
	if (p->too_small)
		return lr_errf(err, LR_ENOFIT, "the window of %" PRIu32 " tokens is too small even for the "
			"question: the instructions take %" PRIu64 ", the question %" PRIu32 " and the answer "
			"reserve %" PRIu32, p->o.n_ctx, fixed, n_question, p->o.answer_tokens);
	if (p->n_need <= p->o.n_ctx) {
		if ((rc = build(p, err)))
			return rc;
		p->fits = 1;
		return 0;
	}
	if (!p->o.fit)
		return lr_errf(err, LR_ENOFIT, "the documents do not fit: %" PRIu32 " tokens needed, the window "
			"holds %" PRIu32 " (%" PRIu32 " over); --fit shortens them, -c sets the window",
			p->n_need, p->o.n_ctx, p->n_need - p->o.n_ctx);
	avail = p->o.n_ctx - fixed - reserve;
	avail = avail > p->note_max ? avail - p->note_max : 0;
	/* the note's real size never exceeds note_max, nor a cut note its bound: one pass
	 * fits; the loop only guards against a vocabulary that splits numbers unusually,
	 * and in counted mode against the estimated cut positions */
	for (int pass = 0; pass < (p->counter ? 12 : 4); pass++) {
		uint32_t total;
		uint64_t step;
		decide(p, avail);
		if ((rc = build(p, err)))
			return rc;
		total = lr_pack_total(p);
		if (total <= p->o.n_ctx) {
			p->fits = 1;
			return 0;
		}
		/* shrink by the excess, and by a margin that doubles with each pass: in counted
		 * mode the cut positions are estimates, and a smaller cap can keep the same cut */
		step = (uint64_t)(total - p->o.n_ctx) + ((uint64_t)1 << pass) - 1;
		avail = avail > step ? avail - step : 0;
	}
	return lr_errf(err, LR_ENOFIT, "the documents could not be fitted in %" PRIu32 " tokens", p->o.n_ctx);
}

/* ------------------------------------------------------------------ the window as text */

int lr_pack_user_text(const struct lr_pack *p, struct lr_buf *b, struct lr_err *err)
{
	if (p->n_shortened || p->n_dropped)
		fit_note(b, p->n_shortened, p->n_dropped);
	lr_buf_str(b, "<documents>\n");
	for (size_t i = 0; i < p->n_docs; i++) {
		const struct lr_pack_doc *pd = &p->docs[i];
		if (pd->fate == LR_PACK_WHOLE) {
			lr_buf_add(b, pd->text, pd->len);
		} else if (pd->fate == LR_PACK_SHORTENED) {
			lr_buf_add(b, pd->text, (size_t)pd->cut_byte[pd->cut]);
			cut_note(b, pd->doc, pd->n_lines_kept, page_after(pd->doc, pd->n_lines_kept));
			lr_buf_str(b, "</document>\n");
		}
	}
	lr_buf_str(b, "</documents>\n\n");
	return lr_buf_failed(b) ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
}
