/* src/report.c — budget tables and manifests for plan and ask. */
#include "src/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "src/progress.h"

static void describe(char *buf, size_t size, const struct lr_doc *d)
{
	char n[32];

	if (d->kind == LR_DOC_PDF)
		snprintf(buf, size, "pdf, %s page%s", lr_count(d->n_pages, n, sizeof n), d->n_pages == 1 ? "" : "s");
	else if (d->kind == LR_DOC_TREE)
		snprintf(buf, size, "listing");
	else
		snprintf(buf, size, "%s, %s line%s", lr_doc_kind_name(d->kind), lr_count(d->n_lines, n, sizeof n),
		         d->n_lines == 1 ? "" : "s");
}

static void row(FILE *f, const struct lr_pack_doc *pd, int built)
{
	char full[32], win[32], what[64], kept[32];

	describe(what, sizeof what, pd->doc);
	fprintf(f, "%5" PRIu32 " %10s %10s  %s (%s)", pd->id, lr_count(pd->n_full, full, sizeof full),
	        built ? lr_count(pd->n_tok, win, sizeof win) : "-", pd->doc->name, what);
	if (pd->doc->status != LR_DOC_READ)
		fprintf(f, " [%s]", lr_doc_status_name(pd->doc->status));
	if (pd->focus)
		fprintf(f, " [focus]");
	if (pd->fate == LR_PACK_SHORTENED)
		fprintf(f, ": shortened after line %s", lr_count(pd->n_lines_kept, kept, sizeof kept));
	else if (pd->fate == LR_PACK_DROPPED)
		fprintf(f, ": left out");
	fputc('\n', f);
}

static int by_size_desc(const void *a, const void *b)
{
	const struct lr_pack_doc *x = *(const struct lr_pack_doc *const *)a;
	const struct lr_pack_doc *y = *(const struct lr_pack_doc *const *)b;

	if (x->n_full != y->n_full)
		return x->n_full < y->n_full ? 1 : -1;
	return x < y ? -1 : x > y;
}

static int by_position(const void *a, const void *b)
{
	const struct lr_pack_doc *x = *(const struct lr_pack_doc *const *)a;
	const struct lr_pack_doc *y = *(const struct lr_pack_doc *const *)b;

	return x < y ? -1 : x > y;
}

void lr_report_table(FILE *f, const struct lr_pack *p, size_t max_rows)
{
	const struct lr_pack_doc **v = malloc((p->n_docs ? p->n_docs : 1) * sizeof *v);
	size_t n = 0, absent = 0, shown;

	if (!v)
		return;
	for (size_t i = 0; i < p->n_docs; i++) {
		if (p->docs[i].fate == LR_PACK_ABSENT)
			absent++;
		else
			v[n++] = &p->docs[i];
	}
	shown = max_rows && n > max_rows ? max_rows : n;
	if (shown < n) {
		qsort(v, n, sizeof *v, by_size_desc);
		qsort(v, shown, sizeof *v, by_position);
	}
	fprintf(f, "%5s %10s %10s  %s\n", "id", "tokens", "in window", "document");
	for (size_t i = 0; i < shown; i++)
		row(f, v[i], p->ids.n > 0);
	if (shown < n)
		fprintf(f, "      ... and %zu smaller document%s (longread plan lists them all)\n", n - shown,
		        n - shown == 1 ? "" : "s");
	if (absent)
		fprintf(f, "      (%zu file%s inside directories not read: binary, too large or failed; the "
		        "listings name them)\n", absent, absent == 1 ? "" : "s");
	free(v);
}

void lr_report_totals(FILE *f, const struct lr_pack *p, int question_known)
{
	char a[32], b[32], c[32], d[32], e[32], w[32];
	size_t n_in = 0;
	uint64_t total = (uint64_t)p->n_fixed + p->n_doc_tokens + p->n_question + p->o.answer_tokens;

	for (size_t i = 0; i < p->n_docs; i++)
		n_in += p->docs[i].fate == LR_PACK_WHOLE || p->docs[i].fate == LR_PACK_SHORTENED;
	fprintf(f, "documents     %10s tokens, %zu document%s", lr_count(p->n_doc_tokens, a, sizeof a), n_in,
	        n_in == 1 ? "" : "s");
	if (p->n_shortened || p->n_dropped)
		fprintf(f, " (%" PRIu32 " shortened, %" PRIu32 " left out by --fit)", p->n_shortened, p->n_dropped);
	fprintf(f, "\ninstructions  %10s tokens (system prompt, turns, document list%s)\n",
	        lr_count(p->n_fixed, b, sizeof b), p->n_shortened || p->n_dropped ? ", --fit note" : "");
	fprintf(f, "question      %10s tokens%s\n", lr_count(p->n_question, c, sizeof c),
	        question_known ? "" : " (room kept for a question)");
	fprintf(f, "answer        %10s tokens (-n)\n", lr_count(p->o.answer_tokens, d, sizeof d));
	fprintf(f, "total         %10s of a %s-token window (%.0f%%): %s", lr_count(total, e, sizeof e),
	        lr_count(p->o.n_ctx, w, sizeof w), 100.0 * (double)total / (double)p->o.n_ctx,
	        total <= p->o.n_ctx ? "fits" : "does not fit");
	if (total > p->o.n_ctx)
		fprintf(f, " (%s over)", lr_count(total - p->o.n_ctx, a, sizeof a));
	fputc('\n', f);
}

/* "--fit: 'a.pdf' shortened from 9,000 to 2,100 tokens: pages 1-3 of 12 kept" (the page
 * of the last line kept, read in part or whole), or lines for text. */
static void report_shortened(const struct lr_pack_doc *pd)
{
	const struct lr_doc *d = pd->doc;
	const struct lr_anchor *pg = d->kind == LR_DOC_PDF && pd->n_lines_kept ?
	                             lr_doc_page_at(d, d->line_off[pd->n_lines_kept - 1]) : NULL;
	char a[32], b[32], c[32], e[32];

	if (pg)
		fprintf(stderr, "longread: --fit: '%s' shortened from %s to %s tokens: %s%s of %s kept\n", d->name,
		        lr_count(pd->n_full, a, sizeof a), lr_count(pd->n_tok, b, sizeof b),
		        pg->number > 1 ? "pages 1-" : "page ", lr_count(pg->number, c, sizeof c),
		        lr_count(d->n_pages, e, sizeof e));
	else
		fprintf(stderr, "longread: --fit: '%s' shortened from %s to %s tokens: lines 1-%s of %s kept\n", d->name,
		        lr_count(pd->n_full, a, sizeof a), lr_count(pd->n_tok, b, sizeof b),
		        lr_count(pd->n_lines_kept, c, sizeof c), lr_count(d->n_lines, e, sizeof e));
}

/* The indices of the documents of fate f, largest first (at most cap of them); the
 * number of such documents and their tokens in *n and *tokens. */
static size_t largest(const struct lr_pack *p, enum lr_pack_fate f, size_t *idx, size_t cap, size_t *n,
                      uint64_t *tokens)
{
	size_t k = 0;

	*n = 0;
	*tokens = 0;
	for (size_t i = 0; i < p->n_docs; i++) {
		const struct lr_pack_doc *pd = &p->docs[i];
		size_t j;
		if (pd->fate != f)
			continue;
		(*n)++;
		*tokens += pd->n_full;
		/* insertion into the top cap by size */
		for (j = k; j > 0 && p->docs[idx[j - 1]].n_full < pd->n_full; j--)
			if (j < cap)
				idx[j] = idx[j - 1];
		if (j < cap) {
			idx[j] = i;
			if (k < cap)
				k++;
		}
	}
	return k;
}

#define FIT_SHOWN 3   /* documents named in a --fit summary line */

void lr_report_fit(const struct lr_pack *p)
{
	size_t idx[FIT_SHOWN], k, n;
	uint64_t tokens;
	char a[32], b[32];

	fflush(stdout);
	/* shortened: a line each (there are few: --fit shortens the largest to a common size) */
	k = largest(p, LR_PACK_SHORTENED, idx, FIT_SHOWN, &n, &tokens);
	for (size_t i = 0; i < k; i++)
		report_shortened(&p->docs[idx[i]]);
	if (n > k)
		fprintf(stderr, "longread: --fit: and %zu more shortened (plan --fit lists them all)\n", n - k);
	/* left out: one line, the largest named */
	k = largest(p, LR_PACK_DROPPED, idx, FIT_SHOWN, &n, &tokens);
	if (!n)
		return;
	fprintf(stderr, "longread: --fit: %zu document%s left out (%s tokens): ", n, n == 1 ? "" : "s",
	        lr_count(tokens, a, sizeof a));
	for (size_t i = 0; i < k; i++)
		fprintf(stderr, "%s'%s' (%s)", i ? ", " : "", p->docs[idx[i]].doc->name,
		        lr_count(p->docs[idx[i]].n_full, b, sizeof b));
	if (n > k)
		fprintf(stderr, " and %zu more (plan --fit lists them all)", n - k);
	fputc('\n', stderr);
}

void lr_report_fits_line(const struct lr_pack *p)
{
	char a[32], b[32], c[32], d[32], e[32];
	size_t n_in = 0;
	uint32_t total = lr_pack_total(p);

	for (size_t i = 0; i < p->n_docs; i++)
		n_in += p->docs[i].fate == LR_PACK_WHOLE || p->docs[i].fate == LR_PACK_SHORTENED;
	fflush(stdout);
	fprintf(stderr, "longread: %s of %s tokens (%.0f%%): %zu document%s (%s tokens), question %s, answer <= %s%s\n",
	        lr_count(total, a, sizeof a), lr_count(p->o.n_ctx, b, sizeof b),
	        100.0 * total / p->o.n_ctx, n_in, n_in == 1 ? "" : "s", lr_count(p->n_doc_tokens, c, sizeof c),
	        lr_count(p->n_question, d, sizeof d), lr_count(p->o.answer_tokens, e, sizeof e),
	        p->n_shortened || p->n_dropped ? "; shortened by --fit" : "");
}

void lr_report_json_documents(struct json *j, const struct lr_pack *p)
{
	json_arr(j);
	for (size_t i = 0; i < p->n_docs; i++) {
		const struct lr_pack_doc *pd = &p->docs[i];
		const struct lr_doc *d = pd->doc;
		char hex[LR_SHA256_HEX];
		int in = pd->fate == LR_PACK_WHOLE || pd->fate == LR_PACK_SHORTENED;

		json_obj(j);
		json_key(j, "id");
		if (pd->id) json_uint(j, pd->id); else json_nil(j);
		json_key(j, "name"); json_str(j, d->name);
		json_key(j, "path"); json_str(j, d->path);
		json_key(j, "kind"); json_str(j, lr_doc_kind_name(d->kind));
		json_key(j, "status"); json_str(j, lr_doc_status_name(d->status));
		json_key(j, "fate"); json_str(j, pd->fate == LR_PACK_DROPPED ? "dropped" :
		                                 pd->fate == LR_PACK_ABSENT ? "absent" : lr_pack_fate_name(pd->fate));
		json_key(j, "focus"); json_bool(j, pd->focus);
		json_key(j, "tokens"); json_uint(j, pd->n_full);
		json_key(j, "window_tokens"); json_uint(j, pd->n_tok);
		json_key(j, "offset");
		if (in) json_uint(j, pd->tok_off); else json_nil(j);
		json_key(j, "lines"); json_uint(j, d->n_lines);
		json_key(j, "lines_kept"); json_uint(j, pd->n_lines_kept);
		json_key(j, "pages"); json_uint(j, d->n_pages);
		json_key(j, "digest");
		if (in) {
			lr_sha256_hex(pd->digest, hex);
			json_str(j, hex);
		} else {
			json_nil(j);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

void lr_report_json_budget(struct json *j, const struct lr_pack *p)
{
	char hex[LR_SHA256_HEX];
	uint64_t total = (uint64_t)p->n_fixed + p->n_doc_tokens + p->n_question + p->o.answer_tokens;

	json_obj(j);
	json_key(j, "window"); json_uint(j, p->o.n_ctx);
	json_key(j, "documents"); json_uint(j, p->n_doc_tokens);
	json_key(j, "instructions"); json_uint(j, p->n_fixed);
	json_key(j, "question"); json_uint(j, p->n_question);
	json_key(j, "answer"); json_uint(j, p->o.answer_tokens);
	json_key(j, "total"); json_uint(j, total);
	json_key(j, "fits"); json_bool(j, total <= p->o.n_ctx);
	json_key(j, "needed_whole"); json_uint(j, p->n_need);
	json_key(j, "shortened"); json_uint(j, p->n_shortened);
	json_key(j, "dropped"); json_uint(j, p->n_dropped);
	json_key(j, "order"); json_str(j, lr_pack_order_name(p->o.order));
	json_key(j, "line_step"); json_uint(j, p->o.line_step);
	json_key(j, "prefix_digest");
	if (p->ids.n && !p->counter) {
		lr_sha256_hex(p->digest, hex);
		json_str(j, hex);
	} else {
		json_nil(j);
	}
	json_obj_end(j);
}
