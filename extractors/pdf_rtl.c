/* extractors/pdf_rtl.c — right-to-left text on PDF pages, where poppler-glib's text
 * needs mending: the embedding marks it wraps words in, the lines it made no words of
 * (glyphs drawn leftwards, one by one: rebuilt from their places in logical order),
 * the lines one corner's selection loses and the other has, and the letters no
 * selection of glyphs has (counted, for a note).  Workload: pages with right-to-left
 * letters only, a few thousand glyphs each. */
#include "extractors/priv.h"

#include <glib.h>
#include <math.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>

#define SPACE_GAP 0.15    /* a gap of this many glyph heights between letters is a word space */

int lr_is_rtl(uint32_t cp)
{
	return (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefe);
}

/* ------------------------------------------------------------------ embedding marks */

/* Poppler wraps right-to-left words in embedding marks (U+202B ... U+202C) that have no
 * glyph box; they are taken out (the text is in logical order already, and the marks
 * would cost the model tokens).  Where one word's closing mark touches the next one's
 * opening mark, poppler has lost the space between them (the first word of each
 * line, and it has no glyph box): LR_LOST_SPACE marks the place, a space to page_glyphs
 * and to the plain-text fallback.  In place; the text does not grow. */
void lr_pdf_strip_marks(char *t)
{
	char *o = t;
	gunichar prev = 0, open = 0;    /* the last mark, the last opening one */
	size_t run = 0, last_run = 0;   /* characters in the open mark pair, the last closed one */

	for (const char *p = t; *p;) {
		gunichar c = g_utf8_get_char(p);
		const char *q = g_utf8_next_char(p);
		if (c == (gunichar)LR_LOST_SPACE || c == (gunichar)LR_ALONE_RTL) {
			/* the PDF's own U+0001 (a math font's glyph without Unicode, as TeX's
			 * radical sign) or U+0002: another control, which the layout drops as
			 * well, so it is not taken for one of our marks (a lost space left the
			 * boxes one short: the page fell back to poppler's plain text, columns
			 * spliced; elsarticle 5p p.3) */
			*o++ = '\x1a';
			run++;
		} else if (c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
			/* a pair around each letter is a line poppler made no words of (its
			 * glyphs drawn one by one, or leftwards): LR_ALONE_RTL after each such
			 * letter, and page_glyphs rebuilds the line from the glyphs' places */
			if (prev == 0x202c && last_run > 1 && (c == 0x202a || c == 0x202b || c == 0x202d || c == 0x202e))
				*o++ = LR_LOST_SPACE;
			if (c == 0x202c) {
				if (run == 1 && (open == 0x202b || open == 0x202e))
					*o++ = LR_ALONE_RTL;
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

/* ------------------------------------------------------------------ lines poppler left alone */

enum { DIR_N, DIR_L, DIR_R };

static int glyph_dir(uint32_t cp)
{
	if (lr_is_rtl(cp) && g_unichar_isalpha(cp))
		return DIR_R;
	if (g_unichar_isalpha(cp) || g_unichar_isdigit(cp))
		return DIR_L;   /* digits, Arabic-Indic ones too, read left to right */
	return DIR_N;
}

static int cmp_xc(const void *a, const void *b, void *ctx)
{
	const struct lr_glyph *g = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double ci = g[i].x0 + g[i].x1, cj = g[j].x0 + g[j].x1;

	if (ci != cj)
		return ci < cj ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* One line of glyphs [a, b) as it stands on the page: its non-space glyphs from left
 * to right, with a space wherever the gap between two exceeds SPACE_GAP glyph heights,
 * then turned into logical order — runs of right-to-left letters reversed, and with a
 * right-to-left majority the runs themselves too (digits and Latin keep their order).
 * Neutrals (spaces, punctuation) between two runs of one direction take it, others
 * the line's.  Writes the glyphs to out; @return their count (at most 2 (b - a)). */
static size_t line_by_geometry(const struct lr_glyph *g, size_t a, size_t b, int base, size_t *ix,
                               struct lr_glyph *tmp, int *dir, struct lr_glyph *out)
{
	size_t m = 0, v = 0, o = 0;
	double h = 0;

	for (size_t k = a; k < b; k++)
		if (!g_unichar_isspace(g[k].cp)) {
			ix[m++] = k;
			h = fmax(h, lr_glyph_height(&g[k]));
		}
	g_qsort_with_data(ix, (gint)m, sizeof *ix, cmp_xc, (void *)g);
	for (size_t i = 0; i < m; i++) {   /* the visual line, spaces from the gaps */
		const struct lr_glyph *q = &g[ix[i]];
		if (i && q->x0 - tmp[v - 1].x1 > SPACE_GAP * h) {
			tmp[v] = *q;
			tmp[v].cp = ' ';
			tmp[v].x0 = tmp[v - 1].x1;
			tmp[v].x1 = q->x0;
			v++;
		}
		tmp[v++] = *q;
	}
	for (size_t i = 0; i < v; i++)
		dir[i] = glyph_dir(tmp[i].cp);
	for (size_t i = 0; i < v;) {   /* neutrals: between equals, that; else the line's */
		size_t j = i;
		int l, r;
		if (dir[i] != DIR_N) {
			i++;
			continue;
		}
		while (j < v && dir[j] == DIR_N)
			j++;
		l = i ? dir[i - 1] : base;
		r = j < v ? dir[j] : base;
		for (size_t k = i; k < j; k++)
			dir[k] = l == r ? l : base;
		i = j;
	}
	/* runs in logical order: with a right-to-left base, last run first */
	for (size_t r = 0; r < v;) {
		size_t s, e;   /* run [s, e) */
		if (base == DIR_R) {
			e = v - r;
			s = e - 1;
			while (s > 0 && dir[s - 1] == dir[e - 1])
				s--;
		} else {
			s = r;
			e = s + 1;
			while (e < v && dir[e] == dir[s])
				e++;
		}
		for (size_t k = 0; k < e - s; k++)
			out[o++] = tmp[dir[s] == DIR_R ? e - 1 - k : s + k];
		r += e - s;
	}
	return o;
}

size_t lr_rtl_lines(const struct lr_glyph *g, size_t n, const unsigned char *alone, struct lr_glyph *out)
{
	size_t o = 0, *ix = malloc((n ? n : 1) * sizeof *ix);
	struct lr_glyph *tmp = malloc((2 * n + 1) * sizeof *tmp);
	int *dir = malloc((2 * n + 1) * sizeof *dir);

	if (!ix || !tmp || !dir) {
		free(ix);
		free(tmp);
		free(dir);
		return 0;
	}
	for (size_t a = 0; a < n;) {
		size_t b = a, al = 0, r = 0, l = 0, unmarked = 0;
		while (b < n && g[b].cp != '\n')
			b++;
		for (size_t k = a; k < b; k++) {
			int d = glyph_dir(g[k].cp);
			r += d == DIR_R;
			l += d == DIR_L && !g_unichar_isdigit(g[k].cp);
			al += d == DIR_R && alone[k];
			unmarked += !alone[k] && !g_unichar_isspace(g[k].cp);
		}
		if ((al && al * 10 >= r * 9) || (!unmarked && b > a)) {
			o += line_by_geometry(g, a, b, r >= l ? DIR_R : DIR_L, ix, tmp, dir, out + o);
		} else {
			memcpy(out + o, g + a, (b - a) * sizeof *g);
			o += b - a;
		}
		if (b < n)
			out[o++] = g[b];
		a = b + 1;
	}
	free(ix);
	free(tmp);
	free(dir);
	return o;
}

/* ------------------------------------------------------------------ lines a selection lost */

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
size_t lr_pdf_merge_lines(struct lr_glyph **g, size_t n, const struct lr_glyph *h, size_t m)
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
uint64_t lr_pdf_rtl_missing(PopplerPage *page, const struct lr_glyph *g, size_t n)
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
			lr_pdf_strip_marks(t);
			for (const char *p = t; *p;) {   /* line by line */
				size_t letters = 0, runs = 0, found = 0;
				gunichar p1 = 0, p2 = 0;   /* the two letters before */
				for (; *p && *p != '\n'; p = g_utf8_next_char(p)) {
					gunichar c = g_utf8_get_char(p);
					if (!g_unichar_isalnum(c)) {
						if (c != (gunichar)LR_ALONE_RTL)
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
