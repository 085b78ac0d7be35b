/* extractors/docio.c — documents as bytes, for saved contexts: a list of documents
 * (text, provenance, anchors, problems) written to a buffer and read back.  The bytes
 * come from a file, so reading checks every count and length against what is left;
 * line tables are rebuilt from the text, never trusted.
 *
 * Format (little-endian; version 1): u32 version, u32 count, then per document:
 *   u32 kind, status, error, n_pages; i64 tree (index of its tree document, -1);
 *   u64 file_bytes; strings path, name, title (flag + string), encoding (flag +
 *   string); string text; u32 n_anchors, each: u32 kind, number, level; u64 offset;
 *   flag + string label; u32 n_problems, each: u32 kind, severity, page; u64 count;
 *   string detail.  A string is u64 length + bytes. */
#include <stdlib.h>
#include <string.h>

#include "extractors/extract.h"
#include "extractors/priv.h"

#define DOCIO_VERSION 1

/* ------------------------------------------------------------------ writing */

static void p32(struct lr_sb *b, uint32_t v)
{
	char c[4];

	for (int i = 0; i < 4; i++)
		c[i] = (char)(v >> (8 * i));
	lr_sb_putn(b, c, 4);
}

static void p64(struct lr_sb *b, uint64_t v)
{
	char c[8];

	for (int i = 0; i < 8; i++)
		c[i] = (char)(v >> (8 * i));
	lr_sb_putn(b, c, 8);
}

static void pstr(struct lr_sb *b, const char *s, uint64_t n)
{
	p64(b, n);
	lr_sb_putn(b, s, (size_t)n);
}

static void popt(struct lr_sb *b, const char *s)
{
	p32(b, s != NULL);
	if (s)
		pstr(b, s, strlen(s));
}

int lr_doclist_save(const struct lr_doc *const *docs, size_t n, char **out, size_t *len, struct lr_err *err)
{
	struct lr_sb b = { 0 };

	p32(&b, DOCIO_VERSION);
	p32(&b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct lr_doc *d = docs[i];
		int64_t tree = -1;
		for (size_t k = 0; k < i && d->tree; k++)
			if (docs[k] == d->tree)
				tree = (int64_t)k;
		p32(&b, d->kind);
		p32(&b, d->status);
		p32(&b, (uint32_t)d->error);
		p32(&b, d->n_pages);
		p64(&b, (uint64_t)tree);
		p64(&b, d->file_bytes);
		pstr(&b, d->path, strlen(d->path));
		pstr(&b, d->name, strlen(d->name));
		popt(&b, d->title);
		popt(&b, d->encoding);
		pstr(&b, d->text, d->n_bytes);
		p32(&b, (uint32_t)d->n_anchors);
		for (size_t k = 0; k < d->n_anchors; k++) {
			const struct lr_anchor *a = &d->anchors[k];
			p32(&b, a->kind);
			p32(&b, a->number);
			p32(&b, a->level);
			p64(&b, a->offset);
			popt(&b, a->label);
		}
		p32(&b, (uint32_t)d->n_problems);
		for (size_t k = 0; k < d->n_problems; k++) {
			const struct lr_problem *p = &d->problems[k];
			p32(&b, p->kind);
			p32(&b, p->severity);
			p32(&b, p->page);
			p64(&b, p->count);
			pstr(&b, p->detail, strlen(p->detail));
		}
	}
	if (lr_sb_failed(&b)) {
		lr_sb_release(&b);
		return lr_errf(err, LR_ENOMEM, "out of memory saving the document list");
	}
	*len = b.n;
	*out = lr_sb_take(&b);
	return *out ? 0 : lr_errf(err, LR_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------ reading */

struct rd {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint32_t g32(struct rd *r)
{
	uint32_t v = 0;

	if (r->left < 4) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)r->p[i] << (8 * i);
	r->p += 4;
	r->left -= 4;
	return v;
}

static uint64_t g64(struct rd *r)
{
	uint64_t v = 0;

	if (r->left < 8) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	r->left -= 8;
	return v;
}

/* A string as a new NUL-terminated copy (NULL on error; r->bad set if malformed). */
static char *gstr(struct rd *r, uint64_t *n_out)
{
	uint64_t n = g64(r);
	char *s;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, r->p, (size_t)n);
	s[n] = '\0';
	r->p += n;
	r->left -= (size_t)n;
	if (n_out)
		*n_out = n;
	return s;
}

static char *gopt(struct rd *r, int *present)
{
	*present = g32(r) != 0;
	return *present && !r->bad ? gstr(r, NULL) : NULL;
}

static int valid_utf8(const char *s, uint64_t n)
{
	uint32_t cp;

	for (uint64_t i = 0; i < n;) {
		size_t k = lr_utf8_decode((const unsigned char *)s + i, (size_t)(n - i), &cp);
		if (!k || cp == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int bad(struct lr_err *err, const char *what)
{
	return lr_errf(err, LR_EFORMAT, "saved document list is damaged (%s)", what);
}

static int load_one(struct rd *r, struct lr_doclist *l, struct lr_err *err)
{
	uint32_t kind = g32(r), status = g32(r), error = g32(r), n_pages = g32(r);
	int64_t tree = (int64_t)g64(r);
	uint64_t file_bytes = g64(r), n_text = 0;
	char *path = NULL, *name = NULL, *title = NULL, *enc = NULL, *text = NULL;
	struct lr_doc *d = NULL;
	struct lr_sb tb = { 0 };
	int has_title, has_enc, rc = 0;

	path = gstr(r, NULL);
	name = gstr(r, NULL);
	title = gopt(r, &has_title);
	enc = gopt(r, &has_enc);
	text = gstr(r, &n_text);
	if (r->bad || !path || !name || (has_title && !title) || (has_enc && !enc) || !text) {
		rc = r->bad ? bad(err, "truncated document") : lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	if (kind > LR_DOC_OTHER || status > LR_DOC_FAILED || tree >= (int64_t)l->n || tree < -1 ||
	    !valid_utf8(text, n_text)) {
		rc = bad(err, "document fields out of range");
		goto out;
	}
	d = lr_doc_new((enum lr_doc_kind)kind, path, name);
	if (!d) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	d->status = (enum lr_doc_status)status;
	d->error = (int)error;
	d->n_pages = n_pages;
	d->file_bytes = file_bytes;
	d->tree = tree >= 0 ? l->v[tree] : NULL;
	d->title = title;
	title = NULL;
	d->encoding = enc ? lr_enc_canonical(enc) : NULL;   /* the static name, or none */
	if (enc && !d->encoding && strcmp(enc, "UTF-8") == 0)
		d->encoding = "UTF-8";
	lr_sb_putn(&tb, text, (size_t)n_text);
	if ((rc = lr_doc_set_text(d, &tb))) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t k = 0, n = g32(r); k < n && !r->bad; k++) {
		uint32_t ak = g32(r), num = g32(r), level = g32(r);
		uint64_t off = g64(r);
		int has_label;
		char *label = gopt(r, &has_label);
		if (r->bad || (has_label && !label) || ak > LR_ANCHOR_FILE || off > d->n_bytes) {
			free(label);
			rc = r->bad || ak > LR_ANCHOR_FILE || off > d->n_bytes ? bad(err, "anchor")
			                                                       : lr_errf(err, LR_ENOMEM, "out of memory");
			goto out;
		}
		rc = lr_doc_anchor(d, (enum lr_anchor_kind)ak, off, num, level, label);
		free(label);
		if (rc) {
			rc = lr_errf(err, LR_ENOMEM, "out of memory");
			goto out;
		}
	}
	lr_doc_sort_anchors(d);
	for (uint32_t k = 0, n = g32(r); k < n && !r->bad; k++) {
		uint32_t pk = g32(r), sev = g32(r), page = g32(r);
		uint64_t count = g64(r);
		char *detail = gstr(r, NULL);
		if (r->bad || !detail || pk > (LR_PROB_COUNT - 1) || sev > LR_SEV_ERROR) {
			free(detail);
			rc = r->bad || pk > (LR_PROB_COUNT - 1) || sev > LR_SEV_ERROR ? bad(err, "problem")
			                                                           : lr_errf(err, LR_ENOMEM, "out of memory");
			goto out;
		}
		rc = lr_doc_problem(d, (enum lr_problem_kind)pk, (enum lr_severity)sev, page, count, "%s", detail);
		free(detail);
		if (rc) {
			rc = lr_errf(err, LR_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (r->bad) {
		rc = bad(err, "truncated document");
		goto out;
	}
	if (lr_doclist_push(l, d)) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	d = NULL;
out:
	lr_doc_free(d);
	lr_sb_release(&tb);
	free(path);
	free(name);
	free(title);
	free(enc);
	free(text);
	return rc;
}

int lr_doclist_load(struct lr_doclist **out, const void *data, size_t len, struct lr_err *err)
{
	struct rd r = { data, len, 0 };
	struct lr_doclist *l = NULL;
	uint32_t version, n;
	int rc;

	*out = NULL;
	version = g32(&r);
	n = g32(&r);
	if (r.bad)
		return bad(err, "truncated header");
	if (version != DOCIO_VERSION)
		return lr_errf(err, LR_EUNSUPPORTED, "saved document list has version %u (this longread reads %d)",
			version, DOCIO_VERSION);
	if (n > len / 60)   /* a document takes at least 60 bytes */
		return bad(err, "document count");
	if ((rc = lr_doclist_new(&l, err)))
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = load_one(&r, l, err))) {
			lr_doclist_free(l);
			return rc;
		}
	}
	if (r.left) {
		lr_doclist_free(l);
		return bad(err, "trailing bytes");
	}
	*out = l;
	return 0;
}
