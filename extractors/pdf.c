/* extractors/pdf.c — PDF documents through poppler-glib: page by page, with page
 * labels, outline (bookmark) titles, reading order rebuilt from glyph boxes
 * (pdf_layout.c), and a health record: pages without a text layer, pages lost to
 * damage, wrong or missing passwords.  Workload: tens to hundreds of pages per file;
 * poppler's text extraction dominates, our layout pass is a few percent of it.
 *
 * Poppler reports syntax errors through g_log (domain "Poppler"); while a context
 * exists those messages are captured (never printed) and counted per page, so damage
 * shows up as problems with poppler's own words. */
#include "extractors/priv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <poppler.h>

#define EDGE_MARGIN 36.0   /* points past the page edge a glyph may sit and still be read */
#define MAX_LABEL 64   /* bytes of a page label (roman, letters or prefixed numbers) */

#define MAX_OUTLINE 20000    /* outline entries read (a hostile outline can be huge) */
#define MAX_OUTLINE_DEPTH 32
#define OCR_CHARS 32         /* a page with fewer characters and a big image needs OCR */

/* ------------------------------------------------------------------ quiet logging */

static void log_handler(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                        gpointer data)
{
	struct lr_extract *x = data;

	(void)domain;
	(void)level;
	if (x->n_msgs++ == 0)
		/* "Missing language pack for 'Adobe-Japan1' mapping": CJK text comes out as
		 * nothing but digits without Debian's poppler-data; say so */
		snprintf(x->last_msg, sizeof x->last_msg, "%s%s", msg ? msg : "",
		         msg && strstr(msg, "language pack") ? " (install the Debian package poppler-data)" : "");
}

void lr_pdf_quiet(struct lr_extract *x, int on)
{
	static const char *const domains[] = { "Poppler", "GLib", "GLib-GObject" };

	if (on) {
		for (int i = 0; i < 3; i++)
			x->glib_handler[i] = g_log_set_handler(domains[i],
				G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
				log_handler, x);
		x->n_glib_handler = 3;
	} else {
		for (int i = 0; i < x->n_glib_handler; i++)
			g_log_remove_handler(domains[i], x->glib_handler[i]);
		x->n_glib_handler = 0;
	}
}

/* ------------------------------------------------------------------ helpers */

/* Does the file end with "%%EOF" (within its last 1 KiB, as readers allow)? */
static int has_eof_marker(const char *path, const void *data, size_t len)
{
	char tail[1024];
	size_t n = 0;

	if (data) {
		n = len < sizeof tail ? len : sizeof tail;
		memcpy(tail, (const char *)data + len - n, n);
	} else {
		FILE *f = fopen(path, "rb");
		if (!f)
			return 0;
		if (fseek(f, -(long)sizeof tail, SEEK_END) != 0)
			rewind(f);
		n = fread(tail, 1, sizeof tail, f);
		fclose(f);
	}
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(tail + i, "%%EOF", 5) == 0)
			return 1;
	return 0;
}

/* 1 when the file's bytes hold a /PageLabels tree with a start number (/St) over a
 * million: poppler would spell such labels letter by letter (2,000,000,000 in style /A
 * is 77 million letters, half a gigabyte to make).  Only what is not compressed can be
 * seen; a label that still comes out too long is caught page by page. */
static int absurd_labels(const char *path, const void *data, size_t len)
{
	const char *p = data, *end;
	void *map = NULL;
	int found = 0;

	if (!data) {
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return 0;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) != MAP_FAILED)
			len = (size_t)st.st_size;
		else
			map = NULL;
		close(fd);
		if (!map)
			return 0;
		p = map;
	}
	end = p + len;
	if (memmem(p, len, "/PageLabels", 11))
		for (const char *q = p; !found && (q = memmem(q, (size_t)(end - q), "/St", 3)); q += 3) {
			const char *r = q + 3;
			uint64_t v = 0;
			while (r < end && (*r == ' ' || *r == '\n' || *r == '\r' || *r == '\t'))
				r++;
			for (int k = 0; r < end && *r >= '0' && *r <= '9' && k < 12; r++, k++)
				v = v * 10 + (uint64_t)(*r - '0');
			found = v > 1000000;
		}
	if (map)
		munmap(map, len);
	return found;
}

static PopplerDocument *open_doc(struct lr_extract *x, const char *path, const void *data,
                                 size_t len, GError **gerr)
{
	PopplerDocument *doc = NULL;
	const char *pw = x->password;

	if (data) {
		GBytes *bytes = g_bytes_new(data, len);
		doc = poppler_document_new_from_bytes(bytes, pw, gerr);
		g_bytes_unref(bytes);
	} else {
		/* poppler wants an absolute file: URI */
		char *abs = g_canonicalize_filename(path, NULL);
		char *uri = g_filename_to_uri(abs, NULL, gerr);
		if (uri)
			doc = poppler_document_new_from_file(uri, pw, gerr);
		g_free(uri);
		g_free(abs);
	}
	return doc;
}

/* Glyphs of page text t with one box each, in poppler's order.  @return the count, or
 * 0 when the boxes do not line up with the characters (then the plain text is used). */
static size_t page_glyphs(PopplerPage *page, PopplerRectangle *area, const char *t, struct lr_glyph **out,
                          uint64_t *outside)
{
	PopplerRectangle *r = NULL;
	guint nr = 0;
	size_t n = (size_t)g_utf8_strlen(t, -1), k = 0, kept = 0, lost = 0, alone = 0;
	struct lr_glyph *g;
	unsigned char *al;
	double w, h;

	*out = NULL;
	*outside = 0;
	for (const char *p = t; *p; p++) {
		lost += *p == LR_LOST_SPACE;
		alone += *p == LR_ALONE_RTL;
	}
	if (!n || !poppler_page_get_text_layout_for_area(page, area, &r, &nr) || nr != n - lost - alone) {
		g_free(r);
		return 0;
	}
	poppler_page_get_size(page, &w, &h);
	g = malloc(n * sizeof *g);
	al = calloc(n, 1);
	if (!g || !al) {
		g_free(r);
		free(g);
		free(al);
		return 0;
	}
	for (const char *p = t; *p && k < nr; p = g_utf8_next_char(p), k++) {
		struct lr_glyph *o = &g[kept];
		if (*p == LR_ALONE_RTL) {   /* no box: marks the glyph before */
			if (kept)
				al[kept - 1] = 1;
			k--;
			continue;
		}
		if (*p == LR_LOST_SPACE) {   /* no box of its own: the previous glyph's, as a space */
			if (kept) {
				*o = g[kept - 1];
				o->cp = ' ';
				kept++;
			}
			k--;
			continue;
		}
		o->cp = g_utf8_get_char(p);
		o->x0 = r[k].x1 < r[k].x2 ? r[k].x1 : r[k].x2;
		o->x1 = r[k].x1 < r[k].x2 ? r[k].x2 : r[k].x1;
		o->y0 = r[k].y1 < r[k].y2 ? r[k].y1 : r[k].y2;
		o->y1 = r[k].y1 < r[k].y2 ? r[k].y2 : r[k].y1;
		/* a glyph wholly off the page (by more than the margin) is not shown by a
		 * viewer: left out, counted for a note; one running over the edge is kept */
		if (!g_unichar_isspace(o->cp) && (o->x1 < -EDGE_MARGIN || o->x0 > w + EDGE_MARGIN ||
		                                  o->y1 < -EDGE_MARGIN || o->y0 > h + EDGE_MARGIN)) {
			(*outside)++;
			continue;
		}
		kept++;
	}
	g_free(r);
	if (alone && kept) {   /* lines poppler made no words of, rebuilt from the page */
		struct lr_glyph *re = malloc(2 * kept * sizeof *re);
		size_t m = re ? lr_rtl_lines(g, kept, al, re) : 0;
		if (!m) {
			free(re);
			free(g);
			free(al);
			return 0;
		}
		free(g);
		g = re;
		kept = m;
	}
	free(al);
	*out = g;
	return kept;
}

/* Share of the page covered by its largest image, in percent. */
static int image_cover(PopplerPage *page)
{
	GList *m = poppler_page_get_image_mapping(page), *l;
	double w, h, best = 0;

	poppler_page_get_size(page, &w, &h);
	for (l = m; l; l = l->next) {
		PopplerImageMapping *im = l->data;
		double a = (im->area.x2 - im->area.x1) * (im->area.y2 - im->area.y1);
		if (a < 0)
			a = -a;
		if (a > best)
			best = a;
	}
	poppler_page_free_image_mapping(m);
	if (w <= 0 || h <= 0)
		return 0;
	return best >= w * h ? 100 : (int)(best * 100 / (w * h));
}

static uint64_t count_visible(const char *s, size_t n, uint64_t *fffd)
{
	uint64_t k = 0;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t len = lr_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (!len)
			len = 1, cp = 0xfffd;
		if (cp == 0xfffd)
			(*fffd)++;
		if (cp > ' ')
			k++;
		i += len;
	}
	return k;
}

/* ------------------------------------------------------------------ pages */

/* The page's FreeText annotations (text drawn on the page, which pdftotext prints) and
 * its notes (comments, sticky notes), after its text: "[annotation: ...]" and
 * "[comment by AUTHOR: ...]".  A reviewer's remarks on a contract are what they are. */
static void annotations(PopplerPage *page, struct lr_sb *b)
{
	GList *m = poppler_page_get_annot_mapping(page);

	for (GList *l = m; l; l = l->next) {
		PopplerAnnot *a = ((PopplerAnnotMapping *)l->data)->annot;
		PopplerAnnotType t = poppler_annot_get_annot_type(a);
		char *text, *who = NULL;
		uint64_t rep = 0, ctl = 0;

		if (t != POPPLER_ANNOT_FREE_TEXT && t != POPPLER_ANNOT_TEXT)
			continue;
		if (!(text = poppler_annot_get_contents(a)) || !*text) {
			g_free(text);
			continue;
		}
		if (b->n && b->p[b->n - 1] != '\n')
			lr_sb_putc(b, '\n');
		if (t == POPPLER_ANNOT_FREE_TEXT) {
			lr_sb_puts(b, "[annotation: ");
		} else {
			who = poppler_annot_markup_get_label(POPPLER_ANNOT_MARKUP(a));
			lr_sb_puts(b, "[comment");
			if (who && *who) {
				lr_sb_puts(b, " by ");
				lr_text_clean(b, who, strlen(who), &rep, &ctl);
			}
			lr_sb_puts(b, ": ");
		}
		for (char *p = text; *p; p++)   /* one line */
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		lr_text_clean(b, text, strlen(text), &rep, &ctl);
		lr_sb_puts(b, "]\n");
		g_free(who);
		g_free(text);
	}
	poppler_page_free_annot_mapping(m);
}

/* Characters of t, and of them those of right-to-left scripts (lr_is_rtl). */
static size_t count_rtl(const char *t, size_t *all)
{
	size_t n = 0;

	*all = 0;
	for (const char *p = t; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		(*all)++;
		n += lr_is_rtl(c) != 0;
	}
	return n;
}

/* The page's text.  Poppler reads it as a selection from the area's first corner to
 * its second; on a page of right-to-left text a selection from the top left loses the
 * first and last lines of each block and whole columns (a Hebrew two-column page: 4
 * lines of 13).  There, a selection from the top right is read too, and the longer
 * text kept, with the area it came from. */
static char *page_text(PopplerPage *page, PopplerRectangle *area)
{
	PopplerRectangle rev = { 1e6, -1e6, -1e6, 1e6 };
	char *t = poppler_page_get_text_for_area(page, area), *u;
	size_t n, nu, rtl;

	if (!t)
		t = g_strdup("");
	lr_pdf_strip_marks(t);
	rtl = count_rtl(t, &n);
	if (!rtl && n >= OCR_CHARS)
		return t;
	u = poppler_page_get_text_for_area(page, &rev);
	if (!u)
		return t;
	lr_pdf_strip_marks(u);
	count_rtl(u, &nu);
	if (nu > n) {
		g_free(t);
		*area = rev;
		return u;
	}
	g_free(u);
	return t;
}

static int read_page(struct lr_extract *x, struct lr_doc *d, PopplerPage *page, int no,
                     struct lr_sb *b)
{
	struct lr_glyph *g = NULL;
	/* all the text, not only the crop box's: poppler's own page text ends at the first
	 * glyph that runs past the page edge, losing the rest of the page */
	PopplerRectangle area = { -1e6, -1e6, 1e6, 1e6 };
	char *t = page_text(page, &area);
	size_t start = b->n, ng, all;
	uint64_t visible, fffd = 0, outside = 0, missing = 0;
	int rc = 0;

	ng = page_glyphs(page, &area, t, &g, &outside);
	if (ng && count_rtl(t, &all)) {
		/* the other top corner's selection has lines this one lost */
		PopplerRectangle other = { area.x2, area.y1, area.x1, area.y2 };
		char *u = poppler_page_get_text_for_area(page, &other);
		struct lr_glyph *h = NULL;
		size_t nh;
		uint64_t out2;
		if (u) {
			lr_pdf_strip_marks(u);
			nh = page_glyphs(page, &other, u, &h, &out2);
			if (nh)
				ng = lr_pdf_merge_lines(&g, ng, h, nh);
			free(h);
			g_free(u);
		}
		/* lines drawn leftwards are what selections lose; elsewhere a word or
		 * line selection's text repeats words, and would count them as lost */
		if (strchr(t, LR_ALONE_RTL))
			missing = lr_pdf_rtl_missing(page, g, ng);
	}
	if (ng) {
		rc = lr_layout_page(g, ng, b);
	} else {
		uint64_t rep = 0, ctl = 0;
		char *o = t;
		for (char *p = t; *p; p++)
			if (*p != LR_ALONE_RTL)
				*o++ = *p == LR_LOST_SPACE ? ' ' : *p;
		*o = 0;
		lr_text_clean(b, t, strlen(t), &rep, &ctl);
	}
	free(g);
	g_free(t);
	if (rc)
		return rc;
	if (b->n > start && b->p[b->n - 1] != '\n')
		lr_sb_putc(b, '\n');
	annotations(page, b);
	visible = count_visible(b->p + start, b->n - start, &fffd);
	if (outside)
		rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, (uint32_t)no, outside,
			"page %d: %llu characters placed off the page (where no viewer shows them) were left out",
			no, (unsigned long long)outside);
	if (!rc && missing)
		rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, (uint32_t)no, missing,
			"page %d: %llu letters of its right-to-left text that poppler places in no glyph "
			"selection were left out", no, (unsigned long long)missing);
	if (!rc && fffd)
		rc = lr_doc_problem(d, LR_PROB_REPLACED, LR_SEV_WARN, (uint32_t)no, fffd,
			"page %d: %llu characters have no Unicode mapping (shown as U+FFFD)", no,
			(unsigned long long)fffd);
	if (!rc && visible < OCR_CHARS) {
		int cover = image_cover(page);
		if (cover >= 50 || (visible == 0 && cover > 0)) {
			x->st.pages_ocr++;
			rc = lr_doc_problem(d, LR_PROB_NEEDS_OCR, LR_SEV_WARN, (uint32_t)no, 1,
				"page %d has no text layer (an image covers %d%% of it): needs OCR",
				no, cover);
		} else if (visible == 0) {
			rc = lr_doc_problem(d, LR_PROB_EMPTY, LR_SEV_INFO, (uint32_t)no, 0,
				"page %d is blank", no);
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ outline */

static int dest_page(PopplerDocument *doc, PopplerAction *a)
{
	PopplerDest *dest, *named = NULL;
	int page = 0;

	if (!a || a->type != POPPLER_ACTION_GOTO_DEST || !a->goto_dest.dest)
		return 0;
	dest = a->goto_dest.dest;
	if (dest->type == POPPLER_DEST_NAMED && dest->named_dest) {
		named = poppler_document_find_dest(doc, dest->named_dest);
		if (named)
			page = named->page_num;
		poppler_dest_free(named);
	} else {
		page = dest->page_num;
	}
	return page;
}

/* Outline entries become anchors at the start of their page (or, when the title is
 * found on that page, at the title).  Iterative, bounded in count and depth. */
static int read_outline(PopplerDocument *doc, struct lr_doc *d, const uint64_t *page_off,
                        int n_pages)
{
	PopplerIndexIter *stack[MAX_OUTLINE_DEPTH];
	int depth = 0, count = 0, rc = 0;
	long steps = 0;   /* every entry visited: bounds hostile (even cyclic) outlines */

	stack[0] = poppler_index_iter_new(doc);
	if (!stack[0])
		return 0;
	while (depth >= 0 && !rc) {
		PopplerIndexIter *it = stack[depth];
		PopplerAction *a = poppler_index_iter_get_action(it);
		PopplerIndexIter *child;
		int page = dest_page(doc, a);

		if (a && a->type == POPPLER_ACTION_GOTO_DEST && a->any.title && count < MAX_OUTLINE) {
			uint64_t off = page >= 1 && page <= n_pages ? page_off[page - 1] : 0;
			if (page >= 1 && page <= n_pages) {
				uint64_t end = page < n_pages ? page_off[page] : d->n_bytes;
				const char *hit = NULL;
				if (end > off && end <= d->n_bytes && a->any.title[0]) {
					char save = d->text[end];
					d->text[end] = '\0';
					hit = strstr(d->text + off, a->any.title);
					d->text[end] = save;
				}
				if (hit)
					off = (uint64_t)(hit - d->text);
			}
			rc = lr_doc_anchor(d, LR_ANCHOR_OUTLINE, off, (uint32_t)(page > 0 ? page : 0),
				(uint32_t)depth + 1, a->any.title);
			count++;
		}
		poppler_action_free(a);
		if (++steps >= 4L * MAX_OUTLINE)
			break;
		child = poppler_index_iter_get_child(it);
		if (child && depth + 1 < MAX_OUTLINE_DEPTH && count < MAX_OUTLINE) {
			stack[++depth] = child;
			continue;
		}
		if (child)
			poppler_index_iter_free(child);
		/* next sibling, or climb */
		while (depth >= 0) {
			if (count < MAX_OUTLINE && steps < 4L * MAX_OUTLINE &&
			    poppler_index_iter_next(stack[depth]))
				break;
			poppler_index_iter_free(stack[depth]);
			depth--;
		}
	}
	while (depth >= 0)
		poppler_index_iter_free(stack[depth--]);
	return rc;
}

/* ------------------------------------------------------------------ the document */

int lr_pdf_extract(struct lr_extract *x, struct lr_doc *d, const char *path,
                   const void *data, size_t len)
{
	struct lr_sb b = { 0 };
	GError *gerr = NULL;
	PopplerDocument *doc = NULL;
	uint64_t *page_off = NULL;
	int n, rc = 0, lost = 0, labels_ok = 1;
	int eof = has_eof_marker(path, data, len);
	char *title;

	d->kind = LR_DOC_PDF;
	x->n_msgs = 0;
	x->last_msg[0] = '\0';
	doc = open_doc(x, path, data, len, &gerr);
	if (!doc) {
		int enc = gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED;
		const char *why = gerr ? gerr->message : "unknown error";

		if (enc && x->password)
			rc = lr_doc_fail(d, LR_EPASSWORD, LR_PROB_ENCRYPTED, LR_SEV_ERROR,
				"encrypted, and the password given does not open it");
		else if (enc)
			rc = lr_doc_fail(d, LR_EPASSWORD, LR_PROB_ENCRYPTED, LR_SEV_ERROR,
				"encrypted; give the password with --password or LONGREAD_PDF_PASSWORD");
		else if (gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_OPEN_FILE)
			rc = lr_doc_fail(d, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot open: %s", why);
		else if (!eof)
			rc = lr_doc_fail(d, LR_EFORMAT, LR_PROB_DAMAGED, LR_SEV_ERROR,
				"truncated or damaged beyond repair (no %%EOF at the end): %s", why);
		else
			rc = lr_doc_fail(d, LR_EFORMAT, LR_PROB_DAMAGED, LR_SEV_ERROR,
				"damaged; poppler cannot read it: %s%s%s", why,
				x->n_msgs ? ": " : "", x->n_msgs ? x->last_msg : "");
		goto out;
	}
	title = poppler_document_get_title(doc);
	if (title && *title) {
		struct lr_sb tb = { 0 };
		uint64_t rep = 0, ctl = 0;
		lr_text_clean(&tb, title, strlen(title), &rep, &ctl);
		d->title = lr_sb_take(&tb);
	}
	g_free(title);
	if (!eof && (rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_ERROR, 0, 0,
			"truncated or damaged (no %%EOF at the end); poppler rebuilt what it could")))
		goto out;
	if (x->n_msgs && (rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, 0, x->n_msgs,
			"poppler reported %llu problems opening it (first: %s)",
			(unsigned long long)x->n_msgs, x->last_msg)))
		goto out;

	n = poppler_document_get_n_pages(doc);
	d->n_pages = n > 0 ? (uint32_t)n : 0;
	page_off = calloc(n > 0 ? (size_t)n : 1, sizeof *page_off);
	if (!page_off) {
		rc = LR_ENOMEM;
		goto out;
	}
	if (absurd_labels(path, data, len)) {
		labels_ok = 0;
		rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, 0, 0, "the page labels start at a number over "
			"a million: the pages are numbered 1, 2, ... instead");
	}
	for (int i = 0; i < n && !rc; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		char *label;
		size_t before = b.n;

		page_off[i] = b.n;
		if (!page) {
			lost++;
			rc = lr_doc_anchor(d, LR_ANCHOR_PAGE, b.n, (uint32_t)i + 1, 0, NULL);
			if (!rc)
				rc = lr_doc_problem(d, LR_PROB_PAGE_LOST, LR_SEV_ERROR, (uint32_t)i + 1, 1,
					"page %d could not be read", i + 1);
			continue;
		}
		/* a label style with a huge start (/S /A /St 2000000000) makes poppler spell
		 * 77 million letters a page: past MAX_LABEL the pages keep their numbers */
		label = labels_ok ? poppler_page_get_label(page) : NULL;
		if (label && strlen(label) > MAX_LABEL) {
			g_free(label);
			label = NULL;
			labels_ok = 0;
			rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, (uint32_t)i + 1, 0, "page labels from page "
				"%d on are over %d characters long: the pages are numbered 1, 2, ... instead", i + 1,
				MAX_LABEL);
		}
		if (!rc)
			rc = lr_doc_anchor(d, LR_ANCHOR_PAGE, b.n, (uint32_t)i + 1, 0, label);
		g_free(label);
		x->n_msgs = 0;
		if (!rc)
			rc = read_page(x, d, page, i + 1, &b);
		if (!rc && x->n_msgs) {
			if (b.n == before) {
				lost++;
				rc = lr_doc_problem(d, LR_PROB_PAGE_LOST, LR_SEV_ERROR, (uint32_t)i + 1,
					x->n_msgs, "page %d is damaged and gave no text (poppler: %s)",
					i + 1, x->last_msg);
			} else {
				rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, (uint32_t)i + 1,
					x->n_msgs, "page %d: poppler reported %llu problems; its text may be "
					"incomplete (first: %s)", i + 1, (unsigned long long)x->n_msgs,
					x->last_msg);
			}
		}
		g_object_unref(page);
	}
	if (rc)
		goto out;
	x->st.pages += (uint64_t)(n - lost);
	x->st.pages_lost += (uint64_t)lost;
	if ((rc = lr_doc_set_text(d, &b)))
		goto out;
	if ((rc = read_outline(doc, d, page_off, n)))
		goto out;
	lr_doc_sort_anchors(d);
out:
	if (gerr)
		g_error_free(gerr);
	if (doc)
		g_object_unref(doc);
	free(page_off);
	lr_sb_release(&b);
	return rc == LR_ENOMEM ? LR_ENOMEM : 0;
}
