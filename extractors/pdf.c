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

#include <math.h>
#include <poppler.h>

#define EDGE_MARGIN 36.0   /* points past the page edge a glyph may sit and still be read */
#define MAX_LABEL 64   /* bytes of a page label (roman, letters or prefixed numbers) */

#define MAX_OUTLINE 20000    /* outline entries read (a hostile outline can be huge) */
#define MAX_OUTLINE_DEPTH 32
#define LOST_SPACE '\x01'  /* a space poppler's right-to-left text lost (strip_bidi_marks) */
#define ALONE_RTL '\x02'   /* the letter before was wrapped in marks alone (strip_bidi_marks) */
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
		lost += *p == LOST_SPACE;
		alone += *p == ALONE_RTL;
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
		if (*p == ALONE_RTL) {   /* no box: marks the glyph before */
			if (kept)
				al[kept - 1] = 1;
			k--;
			continue;
		}
		if (*p == LOST_SPACE) {   /* no box of its own: the previous glyph's, as a space */
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

/* Poppler wraps right-to-left words in embedding marks (U+202B ... U+202C) that have no
 * glyph box; they are taken out (the text is in logical order already, and the marks
 * would cost the model tokens).  Where one word's closing mark touches the next one's
 * opening mark, poppler has lost the space between them (the first word of each
 * line, and it has no glyph box): LOST_SPACE marks the place, a space to page_glyphs
 * and to the plain-text fallback.  In place; the text does not grow. */
static void strip_bidi_marks(char *t)
{
	char *o = t;
	gunichar prev = 0, open = 0;    /* the last mark, the last opening one */
	size_t run = 0, last_run = 0;   /* characters in the open mark pair, the last closed one */

	for (const char *p = t; *p;) {
		gunichar c = g_utf8_get_char(p);
		const char *q = g_utf8_next_char(p);
		if (c == (gunichar)LOST_SPACE || c == (gunichar)ALONE_RTL) {
			/* the PDF's own U+0001 (a math font's glyph without Unicode, as TeX's
			 * radical sign) or U+0002: another control, which the layout drops as
			 * well, so it is not taken for one of our marks (a lost space left the
			 * boxes one short: the page fell back to poppler's plain text, columns
			 * spliced; elsarticle 5p p.3) */
			*o++ = '\x1a';
			run++;
		} else if (c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
			/* a pair around each letter is a line poppler made no words of (its
			 * glyphs drawn one by one, or leftwards): ALONE_RTL after each such
			 * letter, and page_glyphs rebuilds the line from the glyphs' places */
			if (prev == 0x202c && last_run > 1 && (c == 0x202a || c == 0x202b || c == 0x202d || c == 0x202e))
				*o++ = LOST_SPACE;
			if (c == 0x202c) {
				if (run == 1 && (open == 0x202b || open == 0x202e))
					*o++ = ALONE_RTL;
				last_run = run;
			} else if (c >= 0x202a && c <= 0x202e) {
				open = c;
			}
			run = 0;
		} else {
			memmove(o, p, (size_t)(q - p));
			o += q - p;
			run++;
		}
		prev = c;
		p = q;
	}
	*o = 0;
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
	strip_bidi_marks(t);
	rtl = count_rtl(t, &n);
	if (!rtl && n >= OCR_CHARS)
		return t;
	u = poppler_page_get_text_for_area(page, &rev);
	if (!u)
		return t;
	strip_bidi_marks(u);
	count_rtl(u, &nu);
	if (nu > n) {
		g_free(t);
		*area = rev;
		return u;
	}
	g_free(u);
	return t;
}

struct gkey {
	uint32_t cp;
	int32_t x, y;
};

static struct gkey glyph_key(const struct lr_glyph *g)
{
	struct gkey k = { g->cp, (int32_t)lround(g->x0 * 4), (int32_t)lround(g->y0 * 4) };
	return k;
}

/* Right-to-left letters among glyphs [a, b). */
static size_t rtl_in(const struct lr_glyph *g, size_t a, size_t b)
{
	size_t n = 0;

	for (size_t k = a; k < b; k++)
		n += lr_is_rtl(g[k].cp) != 0;
	return n;
}

static int cmp_gkey(const void *a, const void *b)
{
	const struct gkey *p = a, *q = b;

	if (p->cp != q->cp)
		return p->cp < q->cp ? -1 : 1;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return (p->y > q->y) - (p->y < q->y);
}

/* Glyphs *g[0..n) and the lines of h[0..m) that they lack: the lines of which most
 * glyphs are not in *g, less the glyphs that are.  On a right-to-left page the two
 * corners' selections each lose lines (a heading, a line drawn leftwards) that the
 * other has.  The other corner's selection reads a line of Latin backwards, words and
 * spaces, so such a line is rebuilt from its glyphs' places (lr_rtl_lines).  @return
 * the new count (n when out of memory). */
static size_t merge_glyphs(struct lr_glyph **g, size_t n, const struct lr_glyph *h, size_t m)
{
	struct gkey *keys = malloc((n ? n : 1) * sizeof *keys);
	struct lr_glyph *out = malloc((n + m + 1) * sizeof *out), *re = NULL;
	unsigned char *mark = calloc(n + m + 1, 1);
	size_t o = n;

	if (!keys || !out || !mark) {
		free(keys);
		free(out);
		free(mark);
		return n;
	}
	for (size_t k = 0; k < n; k++)
		keys[k] = glyph_key(&(*g)[k]);
	qsort(keys, n, sizeof *keys, cmp_gkey);
	memcpy(out, *g, n * sizeof *out);
	for (size_t a = 0; a < m;) {
		size_t b = a, have = 0, all = 0;
		while (b < m && h[b].cp != '\n')
			b++;
		for (size_t k = a; k < b; k++) {
			struct gkey key = glyph_key(&h[k]);
			if (g_unichar_isspace(h[k].cp))
				continue;
			all++;
			have += bsearch(&key, keys, n, sizeof *keys, cmp_gkey) != NULL;
		}
		if (2 * have < all) {
			int latin = rtl_in(h, a, b) == 0;
			if (o && out[o - 1].cp != '\n') {
				out[o] = out[o - 1];
				out[o++].cp = '\n';
			}
			for (size_t k = a; k <= b && k < m; k++) {
				struct gkey key = glyph_key(&h[k]);
				if (g_unichar_isspace(h[k].cp) || !bsearch(&key, keys, n, sizeof *keys, cmp_gkey)) {
					mark[o] = latin;
					out[o++] = h[k];
				}
			}
		}
		a = b + 1;
	}
	free(keys);
	if (o > n && (re = malloc(2 * o * sizeof *re)) != NULL) {
		size_t r = lr_rtl_lines(out, o, mark, re);
		if (r) {
			free(out);
			out = re;
			o = r;
		} else {
			free(re);
		}
	}
	free(mark);
	free(*g);
	*g = out;
	return o;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;

	return (p > q) - (p < q);
}

static uint64_t triple(uint32_t a, uint32_t b, uint32_t c)
{
	return (uint64_t)(a & 0x1fffff) << 42 | (uint64_t)(b & 0x1fffff) << 21 | (c & 0x1fffff);
}

/* Letters of the lines of poppler's word and line selections of the page, from either
 * top corner, that glyphs g[0..n) lack: lines of at least 8 letters of which fewer
 * than half the runs of three letters occur in g (either way round: poppler gives
 * some lines in drawing order).  The most of the four.  Its text of right-to-left
 * lines drawn leftwards differs from selection to selection, a line missing from
 * each; what none of the glyph selections had is at least noted.  By lines and
 * letter runs, as these selections also repeat words here and there. */
static uint64_t letters_missing(PopplerPage *page, const struct lr_glyph *g, size_t n)
{
	static const PopplerSelectionStyle styles[] = { POPPLER_SELECTION_WORD, POPPLER_SELECTION_LINE };
	PopplerRectangle areas[2] = { { -1e6, -1e6, 1e6, 1e6 }, { 1e6, -1e6, -1e6, 1e6 } };
	uint64_t *have = malloc((2 * n + 1) * sizeof *have), worst = 0;
	size_t nh = 0;

	if (!have)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (g_unichar_isalnum(g[k - 2].cp) && g_unichar_isalnum(g[k - 1].cp) && g_unichar_isalnum(g[k].cp)) {
			have[nh++] = triple(g[k - 2].cp, g[k - 1].cp, g[k].cp);
			have[nh++] = triple(g[k].cp, g[k - 1].cp, g[k - 2].cp);
		}
	qsort(have, nh, sizeof *have, cmp_u64);
	for (int s = 0; s < 2; s++)
		for (int a = 0; a < 2; a++) {
			char *t = poppler_page_get_selected_text(page, styles[s], &areas[a]);
			uint64_t miss = 0;
			if (!t)
				continue;
			strip_bidi_marks(t);
			for (const char *p = t; *p;) {   /* line by line */
				size_t letters = 0, runs = 0, found = 0;
				gunichar p1 = 0, p2 = 0;   /* the two letters before */
				for (; *p && *p != '\n'; p = g_utf8_next_char(p)) {
					gunichar c = g_utf8_get_char(p);
					if (!g_unichar_isalnum(c)) {
						if (c != (gunichar)ALONE_RTL)
							p1 = p2 = 0;
						continue;
					}
					letters++;
					if (p1 && p2) {
						uint64_t key = triple(p1, p2, c);
						runs++;
						found += bsearch(&key, have, nh, sizeof *have, cmp_u64) != NULL;
					}
					p1 = p2;
					p2 = c;
				}
				if (*p)
					p++;
				if (letters >= 8 && 2 * found < runs)
					miss += letters;
			}
			g_free(t);
			if (miss > worst)
				worst = miss;
		}
	free(have);
	return worst;
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
			strip_bidi_marks(u);
			nh = page_glyphs(page, &other, u, &h, &out2);
			if (nh)
				ng = merge_glyphs(&g, ng, h, nh);
			free(h);
			g_free(u);
		}
		/* lines drawn leftwards are what selections lose; elsewhere a word or
		 * line selection's text repeats words, and would count them as lost */
		if (strchr(t, ALONE_RTL))
			missing = letters_missing(page, g, ng);
	}
	if (ng) {
		rc = lr_layout_page(g, ng, b);
	} else {
		uint64_t rep = 0, ctl = 0;
		char *o = t;
		for (char *p = t; *p; p++)
			if (*p != ALONE_RTL)
				*o++ = *p == LOST_SPACE ? ' ' : *p;
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
