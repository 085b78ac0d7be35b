/* extractors/render.c — the text the model reads for a document: a header line with
 * its name, kind and size, notes about anything missing (OCR pages, lost pages),
 * page markers the model can cite ("[contract.pdf p.14]"), optional line numbers
 * for text and code ("120\t..."), and a closing line.  Workload: once per document
 * per pack; one pass over the text. */
#include "extractors/priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* s[0..n) into b with every "</document" (any case) written "<\/document": text
 * cannot close its document, or the list, and fake another in the prompt. */
static void put_text(struct lr_sb *b, const char *s, size_t n)
{
	static const char tag[] = "</document";
	const size_t tl = sizeof tag - 1;
	const char *p = s, *end = s + n, *lt;

	while ((lt = memchr(p, '<', (size_t)(end - p)))) {
		lr_sb_putn(b, p, (size_t)(lt - p) + 1);
		if ((size_t)(end - lt) >= tl && strncasecmp(lt, tag, tl) == 0)
			lr_sb_putc(b, '\\');
		p = lt + 1;
	}
	lr_sb_putn(b, p, (size_t)(end - p));
}

static void attr(struct lr_sb *b, const char *key, const char *raw)
{
	struct lr_sb v = { 0 };
	uint64_t rep = 0, ctl = 0;
	const char *val;

	/* names are file names: any bytes; keep the header one valid UTF-8 line */
	lr_text_clean(&v, raw, strlen(raw), &rep, &ctl);
	val = v.p ? v.p : "";
	lr_sb_printf(b, " %s=\"", key);
	for (const char *p = val; *p; p++) {
		if (*p == '"')
			lr_sb_puts(b, "&quot;");
		else if (*p == '\n' || *p == '\t')
			lr_sb_putc(b, ' ');
		else
			lr_sb_putc(b, *p);
	}
	lr_sb_putc(b, '"');
	lr_sb_release(&v);
}

static void header(struct lr_sb *b, const struct lr_doc *d, uint32_t id)
{
	lr_sb_puts(b, "<document");
	if (id)
		lr_sb_printf(b, " id=\"%u\"", id);
	attr(b, "name", d->name);
	attr(b, "kind", lr_doc_kind_name(d->kind));
	if (d->kind == LR_DOC_PDF)
		lr_sb_printf(b, " pages=\"%u\"", d->n_pages);
	else if (d->kind != LR_DOC_TREE)
		lr_sb_printf(b, " lines=\"%llu\"", (unsigned long long)d->n_lines);
	if (d->title)
		attr(b, "title", d->title);
	if (d->status != LR_DOC_READ)
		attr(b, "status", lr_doc_status_name(d->status));
}

static void page_marker(struct lr_sb *b, const struct lr_doc *d, const struct lr_anchor *a)
{
	char num[16];

	snprintf(num, sizeof num, "%u", a->number);
	lr_sb_putc(b, '[');
	{
		uint64_t rep = 0, ctl = 0;
		lr_text_clean(b, d->name, strlen(d->name), &rep, &ctl);
	}
	lr_sb_printf(b, " p.%u", a->number);
	if (a->label && *a->label && strcmp(a->label, num) != 0) {
		lr_sb_puts(b, " \"");
		put_text(b, a->label, strlen(a->label));
		lr_sb_putc(b, '"');
	}
	lr_sb_puts(b, "]\n");
}

int lr_doc_render(const struct lr_doc *d, unsigned flags, char **out, size_t *len,
                  struct lr_err *err)
{
	struct lr_render_opts o = { .flags = flags };

	return lr_doc_render_with(d, &o, out, len, err);
}

int lr_doc_render_with(const struct lr_doc *d, const struct lr_render_opts *o, char **out,
                       size_t *len, struct lr_err *err)
{
	struct lr_sb b = { 0 };
	unsigned flags = o->flags;
	int numbers = (flags & LR_RENDER_LINE_NUMBERS) &&
	              (d->kind == LR_DOC_TEXT || d->kind == LR_DOC_CODE);
	uint64_t step = o->line_step > 1 ? o->line_step : 1;
	size_t ai = 0;
	uint64_t line = 1;

	*out = NULL;
	*len = 0;
	if (d->status == LR_DOC_SKIPPED || d->status == LR_DOC_FAILED) {
		/* files inside a tree are accounted for in its listing */
		if (!d->tree) {
			header(&b, d, o->id);
			attr(&b, "reason", d->n_problems ? d->problems[0].detail : "not read");
			lr_sb_puts(&b, "/>\n");
		}
		goto done;
	}
	header(&b, d, o->id);
	lr_sb_puts(&b, ">\n");
	for (size_t i = 0; i < d->n_problems; i++) {
		const struct lr_problem *p = &d->problems[i];
		if (p->severity >= LR_SEV_WARN && p->kind != LR_PROB_CONTROL) {
			lr_sb_puts(&b, "[note: ");
			put_text(&b, p->detail, strlen(p->detail));
			lr_sb_puts(&b, "]\n");
		}
	}
	if (flags & LR_RENDER_OUTLINE) {
		int any = 0;
		for (size_t i = 0; i < d->n_anchors; i++) {
			const struct lr_anchor *a = &d->anchors[i];
			if (a->kind != LR_ANCHOR_OUTLINE)
				continue;
			if (!any++)
				lr_sb_puts(&b, "[outline]\n");
			for (uint32_t k = 1; k < a->level && k < 8; k++)
				lr_sb_puts(&b, "  ");
			if (a->label)
				put_text(&b, a->label, strlen(a->label));
			lr_sb_printf(&b, " (p.%u)\n", a->number);
		}
		if (any)
			lr_sb_puts(&b, "[/outline]\n");
	}
	for (uint64_t off = 0; off < d->n_bytes;) {
		const char *nl;
		uint64_t end;

		if (o->line_pos && line <= d->n_lines)
			o->line_pos[line - 1] = b.n;
		while (ai < d->n_anchors && d->anchors[ai].offset <= off) {
			if (d->anchors[ai].kind == LR_ANCHOR_PAGE)
				page_marker(&b, d, &d->anchors[ai]);
			ai++;
		}
		nl = memchr(d->text + off, '\n', d->n_bytes - off);
		end = nl ? (uint64_t)(nl - d->text) + 1 : d->n_bytes;
		/* stop at the next page anchor inside this line (pages start lines anyway) */
		if (numbers && (step == 1 || line == 1 || line % step == 0))
			lr_sb_printf(&b, "%llu\t", (unsigned long long)line);
		put_text(&b, d->text + off, end - off);
		line++;
		off = end;
	}
	while (ai < d->n_anchors) {
		if (d->anchors[ai].kind == LR_ANCHOR_PAGE)
			page_marker(&b, d, &d->anchors[ai]);
		ai++;
	}
	if (b.n && b.p[b.n - 1] != '\n')
		lr_sb_putc(&b, '\n');
	if (o->line_pos)
		for (; line <= d->n_lines + 1; line++)
			o->line_pos[line - 1] = b.n;
	lr_sb_puts(&b, "</document>\n");
done:
	if (o->line_pos && (d->status == LR_DOC_SKIPPED || d->status == LR_DOC_FAILED))
		for (uint64_t k = 0; k <= d->n_lines; k++)
			o->line_pos[k] = b.n;
	if (lr_sb_failed(&b)) {
		lr_sb_release(&b);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	*len = b.n;
	*out = lr_sb_take(&b);
	return *out ? 0 : lr_errf(err, LR_ENOMEM, "out of memory");
}
