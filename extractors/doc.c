/* extractors/doc.c — documents, their anchors and problems, document lists, and the
 * small string and UTF-8 helpers every extractor builds text with.  Workload: text is
 * appended in many small pieces (a word, a line), so buffers grow geometrically. */
#include "extractors/priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ growable strings */

static int sb_grow(struct lr_sb *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	if (more > SIZE_MAX - b->n - 1)
		goto fail;
	need = b->n + more + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->p, cap);
	if (!p)
		goto fail;
	b->p = p;
	b->cap = cap;
	return 0;
fail:
	b->oom = 1;
	return -1;
}

void lr_sb_putn(struct lr_sb *b, const char *s, size_t n)
{
	if (sb_grow(b, n))
		return;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void lr_sb_puts(struct lr_sb *b, const char *s)
{
	lr_sb_putn(b, s, strlen(s));
}

void lr_sb_putc(struct lr_sb *b, char c)
{
	lr_sb_putn(b, &c, 1);
}

void lr_sb_put_cp(struct lr_sb *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		lr_sb_putn(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		lr_sb_putn(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		lr_sb_putn(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		lr_sb_putn(b, u, 4);
	}
}

void lr_sb_printf(struct lr_sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

int lr_sb_failed(const struct lr_sb *b)
{
	return b->oom;
}

char *lr_sb_take(struct lr_sb *b)
{
	char *p;

	if (b->oom) {
		lr_sb_release(b);
		return NULL;
	}
	p = b->p ? b->p : strdup("");
	b->p = NULL;
	b->n = b->cap = 0;
	return p;
}

void lr_sb_release(struct lr_sb *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
	b->oom = 0;
}

void lr_sb_rtrim(struct lr_sb *b, const char *set)
{
	while (b->n > 0 && strchr(set, b->p[b->n - 1]))
		b->p[--b->n] = '\0';
}

/* ------------------------------------------------------------------ UTF-8 */

size_t lr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0];
	size_t len;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (len == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	*cp = v;
	return len;
}

uint64_t lr_utf8_count(const char *s, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

void lr_text_clean(struct lr_sb *b, const char *s, size_t n, uint64_t *n_replaced,
                   uint64_t *n_control)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;
	uint32_t cp;

	/* Copy runs of plain printable ASCII and valid UTF-8 in one piece; stop at
	 * anything that needs attention. */
	while (i < n) {
		unsigned c = u[i];
		size_t len;

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		len = lr_utf8_decode(u + i, n - i, &cp);
		if (len > 1 && !(cp >= 0x80 && cp < 0xa0) && cp != 0xfeff && cp != 0xfffe &&
		    cp != 0xffff) {
			i += len;
			continue;
		}
		lr_sb_putn(b, s + run, i - run);
		if (len == 0) {
			lr_sb_put_cp(b, 0xfffd);
			(*n_replaced)++;
			i++;
		} else if (c == '\t' || c == '\n' || c == '\f') {
			lr_sb_putc(b, (char)c);
			i++;
		} else if (c == '\r') {
			if (i + 1 >= n || u[i + 1] != '\n')
				lr_sb_putc(b, '\n');   /* a lone CR is a line break too */
			i++;
		} else {
			if (cp != 0xfeff)
				(*n_control)++;
			i += len;
		}
		run = i;
	}
	lr_sb_putn(b, s + run, i - run);
}

/* ------------------------------------------------------------------ documents */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct lr_doc *lr_doc_new(enum lr_doc_kind kind, const char *path, const char *name)
{
	struct lr_doc *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->kind = kind;
	d->path = xstrdup(path);
	d->name = xstrdup(name ? name : path);
	d->text = strdup("");
	if (!d->path || !d->name || !d->text) {
		lr_doc_free(d);
		return NULL;
	}
	return d;
}

void lr_doc_free(struct lr_doc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_anchors; i++)
		free(d->anchors[i].label);
	for (size_t i = 0; i < d->n_problems; i++)
		free(d->problems[i].detail);
	free(d->anchors);
	free(d->problems);
	free(d->line_off);
	free(d->text);
	free(d->title);
	free(d->name);
	free(d->path);
	free(d);
}

/* Grow an array of elem-sized items to hold one more; @return 0 or -1. */
static int grow(void **v, size_t n, size_t *cap, size_t elem)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	if (c > SIZE_MAX / elem)
		return -1;
	p = realloc(*v, c * elem);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

/* A one-line, valid UTF-8 copy of s (labels and details end up in what the model
 * reads and in JSON): invalid bytes become U+FFFD, controls go, line breaks become
 * spaces. */
static char *clean_line(const char *s)
{
	struct lr_sb b = { 0 };
	uint64_t rep = 0, ctl = 0;

	lr_text_clean(&b, s, strlen(s), &rep, &ctl);
	for (size_t i = 0; i < b.n; i++)
		if (b.p[i] == '\n' || b.p[i] == '\t' || b.p[i] == '\f')
			b.p[i] = ' ';
	return lr_sb_take(&b);
}

/* The public doc arrays carry no capacity: it is implied by the count, because they only
 * grow through grow() (8, 16, 32, ...). */
static size_t implicit_cap(size_t n)
{
	size_t c = 8;

	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

int lr_doc_problem(struct lr_doc *d, enum lr_problem_kind kind, enum lr_severity sev,
                   uint32_t page, uint64_t count, const char *fmt, ...)
{
	struct lr_problem *p;
	size_t cap = implicit_cap(d->n_problems);
	char buf[512];
	va_list ap;

	if (grow((void **)&d->problems, d->n_problems, &cap, sizeof *d->problems))
		return LR_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	p = &d->problems[d->n_problems];
	p->detail = clean_line(buf);
	if (!p->detail)
		return LR_ENOMEM;
	p->kind = kind;
	p->severity = sev;
	p->page = page;
	p->count = count;
	d->n_problems++;
	return 0;
}

int lr_doc_anchor(struct lr_doc *d, enum lr_anchor_kind kind, uint64_t off, uint32_t number,
                  uint32_t level, const char *label)
{
	struct lr_anchor *a;
	size_t cap = implicit_cap(d->n_anchors);

	if (grow((void **)&d->anchors, d->n_anchors, &cap, sizeof *d->anchors))
		return LR_ENOMEM;
	a = &d->anchors[d->n_anchors];
	a->label = NULL;
	if (label && !(a->label = clean_line(label)))
		return LR_ENOMEM;
	a->kind = kind;
	a->offset = off;
	a->number = number;
	a->level = level;
	d->n_anchors++;
	return 0;
}

static int anchor_cmp(const void *a, const void *b)
{
	const struct lr_anchor *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	/* pages before outline entries and headings at the same offset */
	return (int)x->kind - (int)y->kind;
}

int lr_doc_set_text(struct lr_doc *d, struct lr_sb *b)
{
	uint64_t lines = 0, k = 0;
	char *t = lr_sb_take(b);

	if (!t)
		return LR_ENOMEM;
	free(d->text);
	free(d->line_off);
	d->line_off = NULL;
	d->n_lines = 0;
	d->text = t;
	d->n_bytes = strlen(t);
	d->n_chars = lr_utf8_count(t, d->n_bytes);
	if (d->n_bytes) {
		for (uint64_t i = 0; i < d->n_bytes; i++)
			lines += t[i] == '\n';
		if (t[d->n_bytes - 1] != '\n')
			lines++;
		d->line_off = malloc(lines * sizeof *d->line_off);
		if (!d->line_off)
			return LR_ENOMEM;
		d->line_off[k++] = 0;
		for (uint64_t i = 0; i + 1 < d->n_bytes; i++)
			if (t[i] == '\n')
				d->line_off[k++] = i + 1;
		d->n_lines = k;
	}
	lr_doc_sort_anchors(d);
	return 0;
}

void lr_doc_sort_anchors(struct lr_doc *d)
{
	/* a merge-free stable sort: anchors are appended nearly in order, so insertion
	 * sort is linear in practice and keeps equal keys in insertion order */
	for (size_t i = 1; i < d->n_anchors; i++) {
		struct lr_anchor a = d->anchors[i];
		size_t j = i;
		while (j > 0 && anchor_cmp(&d->anchors[j - 1], &a) > 0) {
			d->anchors[j] = d->anchors[j - 1];
			j--;
		}
		d->anchors[j] = a;
	}
}

int lr_doc_fail(struct lr_doc *d, int code, enum lr_problem_kind kind, enum lr_severity sev,
                const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	d->status = sev == LR_SEV_SKIP ? LR_DOC_SKIPPED : LR_DOC_FAILED;
	d->error = code;
	return lr_doc_problem(d, kind, sev, 0, 0, "%s", buf);
}

uint64_t lr_doc_line_at(const struct lr_doc *d, uint64_t off)
{
	uint64_t lo = 0, hi = d->n_lines;

	if (!d->n_lines)
		return 0;
	/* largest k with line_off[k] <= off */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (d->line_off[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo + 1;
}

const struct lr_anchor *lr_doc_page_at(const struct lr_doc *d, uint64_t off)
{
	const struct lr_anchor *best = NULL;

	for (size_t i = 0; i < d->n_anchors; i++) {
		if (d->anchors[i].offset > off)
			break;
		if (d->anchors[i].kind == LR_ANCHOR_PAGE)
			best = &d->anchors[i];
	}
	return best;
}

int lr_doc_worst(const struct lr_doc *d)
{
	int w = -1;

	for (size_t i = 0; i < d->n_problems; i++)
		if ((int)d->problems[i].severity > w)
			w = (int)d->problems[i].severity;
	return w;
}

/* ------------------------------------------------------------------ lists */

int lr_doclist_new(struct lr_doclist **out, struct lr_err *err)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : lr_errf(err, LR_ENOMEM, "out of memory");
}

void lr_doclist_free(struct lr_doclist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		lr_doc_free(l->v[i]);
	free(l->v);
	free(l);
}

int lr_doclist_push(struct lr_doclist *l, struct lr_doc *d)
{
	if (grow((void **)&l->v, l->n, &l->cap, sizeof *l->v))
		return LR_ENOMEM;
	l->v[l->n++] = d;
	return 0;
}

/* ------------------------------------------------------------------ names */

const char *lr_doc_kind_name(enum lr_doc_kind k)
{
	switch (k) {
	case LR_DOC_TEXT:  return "text";
	case LR_DOC_CODE:  return "code";
	case LR_DOC_PDF:   return "pdf";
	case LR_DOC_HTML:  return "html";
	case LR_DOC_TREE:  return "tree";
	case LR_DOC_OTHER: return "other";
	}
	return "?";
}

const char *lr_doc_status_name(enum lr_doc_status s)
{
	switch (s) {
	case LR_DOC_READ:    return "read";
	case LR_DOC_PARTIAL: return "partial";
	case LR_DOC_SKIPPED: return "skipped";
	case LR_DOC_FAILED:  return "failed";
	}
	return "?";
}

const char *lr_anchor_kind_name(enum lr_anchor_kind k)
{
	switch (k) {
	case LR_ANCHOR_PAGE:    return "page";
	case LR_ANCHOR_HEADING: return "heading";
	case LR_ANCHOR_OUTLINE: return "outline";
	case LR_ANCHOR_FILE:    return "file";
	}
	return "?";
}

const char *lr_problem_kind_name(enum lr_problem_kind k)
{
	switch (k) {
	case LR_PROB_NEEDS_OCR:    return "needs-ocr";
	case LR_PROB_REPLACED:     return "replaced";
	case LR_PROB_CONVERTED:    return "converted";
	case LR_PROB_CHARSET:      return "charset";
	case LR_PROB_CONTROL:      return "control-chars";
	case LR_PROB_BINARY:       return "binary";
	case LR_PROB_TOO_LARGE:    return "too-large";
	case LR_PROB_EXCLUDED_DIR: return "excluded-dir";
	case LR_PROB_SYMLINK:      return "symlink";
	case LR_PROB_SPECIAL:      return "special-file";
	case LR_PROB_EMPTY:        return "empty";
	case LR_PROB_PAGE_LOST:    return "page-lost";
	case LR_PROB_DAMAGED:      return "damaged";
	case LR_PROB_ENCRYPTED:    return "encrypted";
	case LR_PROB_FORMAT:       return "format";
	case LR_PROB_IO:           return "io";
	case LR_PROB_TOO_DEEP:     return "too-deep";
	case LR_PROB_COUNT:        break;
	}
	return "?";
}

const char *lr_severity_name(enum lr_severity s)
{
	switch (s) {
	case LR_SEV_INFO:  return "info";
	case LR_SEV_WARN:  return "warning";
	case LR_SEV_SKIP:  return "skip";
	case LR_SEV_ERROR: return "error";
	}
	return "?";
}
