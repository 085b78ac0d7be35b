/* tests/test_docio.c — documents saved as bytes and loaded back (extractors/docio.c):
 * real documents of every kind (PDF with page labels and an outline, HTML with
 * headings, a source tree with its listing and skipped files) come back rendering
 * exactly as before, with their anchors, problems and tree links; every truncation
 * and damaged field is refused; random bit flips never crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extractors/extract.h"
#include "tests/tap.h"

static int same_doc(const struct lr_doc *a, const struct lr_doc *b, const struct lr_doclist *la,
                    const struct lr_doclist *lb)
{
	char *ra = NULL, *rb = NULL;
	size_t na, nb;
	int same;

	if (lr_doc_render(a, LR_RENDER_LINE_NUMBERS, &ra, &na, NULL) ||
	    lr_doc_render(b, LR_RENDER_LINE_NUMBERS, &rb, &nb, NULL))
		return 0;
	same = na == nb && memcmp(ra, rb, na) == 0 && a->kind == b->kind && a->status == b->status &&
	       a->error == b->error && a->n_pages == b->n_pages && a->n_lines == b->n_lines &&
	       a->n_chars == b->n_chars && a->file_bytes == b->file_bytes &&
	       strcmp(a->path, b->path) == 0 && strcmp(a->name, b->name) == 0 &&
	       !a->title == !b->title && (!a->title || strcmp(a->title, b->title) == 0) &&
	       !a->encoding == !b->encoding && (!a->encoding || strcmp(a->encoding, b->encoding) == 0) &&
	       a->n_anchors == b->n_anchors && a->n_problems == b->n_problems;
	for (size_t i = 0; same && i < a->n_anchors; i++)
		same = a->anchors[i].kind == b->anchors[i].kind && a->anchors[i].offset == b->anchors[i].offset &&
		       a->anchors[i].number == b->anchors[i].number && a->anchors[i].level == b->anchors[i].level &&
		       !a->anchors[i].label == !b->anchors[i].label &&
		       (!a->anchors[i].label || strcmp(a->anchors[i].label, b->anchors[i].label) == 0);
	for (size_t i = 0; same && i < a->n_problems; i++)
		same = a->problems[i].kind == b->problems[i].kind && a->problems[i].page == b->problems[i].page &&
		       a->problems[i].count == b->problems[i].count &&
		       strcmp(a->problems[i].detail, b->problems[i].detail) == 0;
	/* tree links point at the same position in each list */
	if (same && a->tree) {
		size_t ia = 0, ib = 0;
		while (ia < la->n && la->v[ia] != a->tree) ia++;
		while (ib < lb->n && lb->v[ib] != b->tree) ib++;
		same = ia == ib && ia < la->n;
	} else if (same) {
		same = !b->tree;
	}
	free(ra);
	free(rb);
	return same;
}

int main(void)
{
	const char *src = getenv("SRCDIR");
	char p1[1024], p2[1024], p3[1024], p4[1024];
	struct lr_extract_opts o = { 0 };
	struct lr_extract *x = NULL;
	struct lr_doclist *docs = NULL, *back = NULL;
	struct lr_err err = { 0 };
	char *buf = NULL;
	size_t len;
	int all_same = 1, cuts_ok = 1, pages = 0, headings = 0, listing = 0, linked = 0;

	if (!src || !*src)
		src = ".";
	snprintf(p1, sizeof p1, "%s/corpora/pdf/debian-faq.pdf", src);
	snprintf(p2, sizeof p2, "%s/corpora/html/install-en.html", src);
	snprintf(p3, sizeof p3, "%s/extractors", src);
	snprintf(p4, sizeof p4, "%s/corpora/text/GPL-3.txt", src);
	if (!tap_ok(lr_extract_new(&x, &o, &err) == 0 && lr_doclist_new(&docs, &err) == 0 &&
	            lr_extract_path(x, p1, docs, &err) == 0 && lr_extract_path(x, p2, docs, &err) == 0 &&
	            lr_extract_path(x, p3, docs, &err) == 0 && lr_extract_path(x, p4, docs, &err) == 0,
	            "extract a PDF, an HTML page, a source tree and a text file")) {
		tap_diag("%s", err.msg);
		return tap_done();
	}
	tap_ok(lr_doclist_save((const struct lr_doc *const *)docs->v, docs->n, &buf, &len, &err) == 0,
	       "save %zu documents (%zu bytes)", docs->n, len);
	if (!tap_ok(lr_doclist_load(&back, buf, len, &err) == 0 && back->n == docs->n, "load them back")) {
		tap_diag("%s", err.msg);
		return tap_done();
	}
	for (size_t i = 0; i < docs->n; i++) {
		const struct lr_doc *d = back->v[i];
		if (!same_doc(docs->v[i], d, docs, back)) {
			all_same = 0;
			tap_diag("  document %zu (%s) differs", i, docs->v[i]->name);
		}
		for (size_t k = 0; k < d->n_anchors; k++) {
			pages += d->anchors[k].kind == LR_ANCHOR_PAGE && d->anchors[k].label != NULL;
			headings += d->anchors[k].kind == LR_ANCHOR_HEADING;
			listing += d->anchors[k].kind == LR_ANCHOR_FILE;
		}
		linked += d->tree != NULL;
	}
	tap_ok(all_same, "every document renders the same, with the same fields, anchors and problems");
	tap_ok(pages > 10 && headings > 5 && listing > 5 && linked > 5,
	       "page labels (%d), headings (%d), listing entries (%d) and tree links (%d) survive",
	       pages, headings, listing, linked);
	lr_doclist_free(back);
	back = NULL;

	/* every truncation is refused */
	for (size_t cut = 0; cut < len; cut += cut < 4096 ? 1 : 997) {
		if (lr_doclist_load(&back, buf, cut, &err) != LR_EFORMAT || back) {
			cuts_ok = 0;
			tap_diag("  cut at %zu accepted", cut);
			lr_doclist_free(back);
			back = NULL;
			break;
		}
	}
	tap_ok(cuts_ok, "every truncation is refused as damaged");
	/* damaged fields: the version, a huge string length, a bad kind */
	{
		char *copy = malloc(len);
		memcpy(copy, buf, len);
		copy[0] = 9;
		tap_ok(lr_doclist_load(&back, copy, len, &err) == LR_EUNSUPPORTED, "another version is refused (%s)", err.msg);
		memcpy(copy, buf, len);
		copy[8] = 77;     /* the first document's kind */
		tap_ok(lr_doclist_load(&back, copy, len, &err) == LR_EFORMAT, "an unknown kind is refused (%s)", err.msg);
		memcpy(copy, buf, len);
		memset(copy + 40, 0xff, 8);   /* the first document's path length */
		tap_ok(lr_doclist_load(&back, copy, len, &err) == LR_EFORMAT && strstr(err.msg, "truncated"), "a string past the end is refused (%s)",
		       err.msg);
		/* random bit flips: any result, never a crash (sanitizers watch) */
		for (int k = 0; k < 300; k++) {
			memcpy(copy, buf, len);
			copy[(size_t)k * 7919 % len] ^= (char)(1 << (k % 8));
			if (lr_doclist_load(&back, copy, len, &err) == 0)
				lr_doclist_free(back);
			back = NULL;
		}
		tap_ok(1, "300 random bit flips load or fail without crashing");
		free(copy);
	}
	free(buf);
	lr_doclist_free(docs);
	lr_extract_free(x);
	return tap_done();
}
