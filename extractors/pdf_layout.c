/* extractors/pdf_layout.c — reading order for one PDF page from glyph boxes, so that a
 * two-column page reads column by column and a table reads row by row.  Workload: a
 * few thousand glyphs and a few hundred line segments per page, once per page.
 *
 * 1. Poppler's lines (its text split at '\n') are cut into segments wherever the gap
 *    between two glyphs exceeds both 0.6 of the glyph height and 1.5 times the
 *    line's median word space (wider than a word space, even in a monospace font,
 *    narrower than a column gutter), the text jumps back left, or moves a line down.
 * 2. A region (first the whole page) is split recursively:
 *    a. at vertical gutters — x ranges no segment covers, with text on both sides,
 *       at least 0.6 line heights wide — when every part looks like running text
 *       (>= 15 characters per segment on average, >= 15% of the region's width, and
 *       when the gutter is under one line height, >= 6 segments, so a river of
 *       aligned word spaces in a short paragraph is no gutter): the parts are read
 *       left to right;
 *    b. if some segments (titles, abstracts, captions, footers) block every gutter:
 *       at the least covered x range of the middle 60%, when at most 40% of the
 *       segments cross it and at least 3 lie wholly on each side, the region is cut
 *       into horizontal bands of crossing and non-crossing segments, read top to
 *       bottom (each band is split again, so the columns between two full-width
 *       blocks read column by column);
 *    c. otherwise the region is a leaf: its segments are grouped into rows by
 *       vertical overlap, rows read top to bottom, segments in a row left to right
 *       (separated by a TAB when the gap is wide, as in tables).
 * 3. While writing, a line ending in a hyphen after a lower-case letter is joined
 *    with the next line when that starts with a lower-case letter ("docu-" "mentation"
 *    -> "documentation"); a vertical gap over 0.8 line heights, or a new region,
 *    starts a new paragraph (blank line). */
#include "extractors/priv.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_GAP 0.6     /* segment split: gap / glyph height ... */
#define WORD_GAPS 1.5     /* ... and gap / the line's median word space */
#define GUTTER_MIN 0.6    /* gutter width / median line height */
#define GUTTER_WIDE 1.0   /* gutters narrower than this need NARROW_SEGS per column */
#define NARROW_SEGS 6
#define TAB_GAP 2.0       /* in-row gap / line height that becomes a TAB */
#define PARA_GAP 0.8      /* vertical gap / line height that starts a paragraph */
#define BLOCKED10 4       /* a blocked gutter: at most 4/10 of the segments cross it */
#define MAX_DEPTH 48
#define PROSE_LINE 30     /* a segment of this many characters is a line of prose */
#define MERGE_CHARS 8     /* fewer characters than this between two gutters make them one */
#define MAXG 8            /* gutters a region is split at, at most */

struct seg {
	size_t g0, g1;        /* glyphs [g0, g1), trailing spaces excluded */
	double x0, y0, x1, y1;
	size_t nch;
};

struct layout {
	const struct lr_glyph *g;
	struct seg *s;
	size_t ns;
	struct lr_sb *b;
	/* writer state */
	int pending;          /* a row was written and its line break is not yet */
	int hyphen;           /* it ended in a breakable hyphen of hyphen_len bytes */
	size_t hyphen_len;
	double last_y1, last_h;
	int para;             /* the next row starts a paragraph */
};

static int is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == 0xa0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200b);
}

/* ------------------------------------------------------------------ segments */

static int add_seg(struct layout *L, size_t *cap, size_t g0, size_t g1)
{
	struct seg *s;

	if (g0 >= g1)
		return 0;
	if (L->ns == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct seg *v = realloc(L->s, c * sizeof *v);
		if (!v)
			return LR_ENOMEM;
		L->s = v;
		*cap = c;
	}
	s = &L->s[L->ns++];
	s->g0 = g0;
	s->g1 = g1;
	s->x0 = s->y0 = INFINITY;
	s->x1 = s->y1 = -INFINITY;
	s->nch = 0;
	for (size_t k = g0; k < g1; k++) {
		const struct lr_glyph *q = &L->g[k];
		if (is_space(q->cp))
			continue;
		s->x0 = fmin(s->x0, q->x0);
		s->y0 = fmin(s->y0, q->y0);
		s->x1 = fmax(s->x1, q->x1);
		s->y1 = fmax(s->y1, q->y1);
		s->nch++;
	}
	if (s->nch == 0)
		L->ns--;
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double p = *(const double *)a, q = *(const double *)b;

	return p < q ? -1 : p > q;
}

/* The median word space of glyphs [a, b) (one poppler line): gaps between non-space
 * glyphs with a space glyph between them.  0 when there are fewer than 3. */
static double word_space(const struct layout *L, size_t a, size_t b, double *tmp)
{
	size_t k = 0, last = SIZE_MAX;
	int space = 0;

	for (size_t i = a; i < b; i++) {
		const struct lr_glyph *q = &L->g[i];
		if (is_space(q->cp)) {
			space = 1;
			continue;
		}
		if (last != SIZE_MAX && space && q->x0 > L->g[last].x1)
			tmp[k++] = q->x0 - L->g[last].x1;
		last = i;
		space = 0;
	}
	if (k < 3)
		return 0;
	qsort(tmp, k, sizeof *tmp, cmp_dbl);
	return tmp[k / 2];
}

/* Letters of right-to-left scripts among glyphs [a, b), less the other letters: > 0
 * when they are the most. */
static long rtl_letters(const struct lr_glyph *g, size_t a, size_t b)
{
	long d = 0;

	for (size_t k = a; k < b; k++) {
		if (lr_is_rtl(g[k].cp))
			d++;
		else if (g_unichar_isalpha(g[k].cp))
			d--;
	}
	return d;
}

/* Whether segments v[a, b) read as running text: 15 characters a segment on average,
 * or most characters in lines of prose (a column with a table or a list in it, as
 * JACoW's). */
static int running_text(const struct layout *L, const size_t *v, size_t a, size_t b)
{
	size_t chars = 0, prose = 0;

	for (size_t i = a; i < b; i++) {
		chars += L->s[v[i]].nch;
		prose += L->s[v[i]].nch >= PROSE_LINE ? L->s[v[i]].nch : 0;
	}
	return chars >= 15 * (b - a) || 2 * prose >= chars;
}

static int build_segments(struct layout *L, size_t n)
{
	size_t cap = 0;
	double *tmp = malloc((n ? n : 1) * sizeof *tmp);

	if (!tmp)
		return LR_ENOMEM;
	for (size_t a = 0; a < n;) {
		size_t b = a, start = SIZE_MAX, last = SIZE_MAX;
		double ws;

		while (b < n && L->g[b].cp != '\n')
			b++;
		/* poppler's boxes for right-to-left words run left to right inside each word
		 * while the letters are in logical order: no gap inside such a line can be
		 * trusted, so the line stays whole (its box is still right) */
		if (rtl_letters(L->g, a, b) > 0) {
			if (add_seg(L, &cap, a, b)) {
				free(tmp);
				return LR_ENOMEM;
			}
			a = b + 1;
			continue;
		}
		/* a gap is a break when it is wider than SPLIT_GAP glyph heights and than
		 * WORD_GAPS of this line's usual word spaces (monospace fonts have wide ones) */
		ws = WORD_GAPS * word_space(L, a, b, tmp);
		for (size_t k = a; k <= b; k++) {
			const struct lr_glyph *q = k < b ? &L->g[k] : NULL;
			int brk = !q;

			if (q && is_space(q->cp))
				continue;
			if (q && last != SIZE_MAX) {
				const struct lr_glyph *p = &L->g[last];
				double h = fmax(lr_glyph_height(p), lr_glyph_height(q));
				double pc = (p->y0 + p->y1) / 2, qc = (q->y0 + q->y1) / 2;
				double gap = q->x0 - p->x1;
				brk = (gap > SPLIT_GAP * h && gap > ws) || q->x1 < p->x0 - h || fabs(qc - pc) > h;
			}
			if (brk) {
				if (start != SIZE_MAX && add_seg(L, &cap, start, last + 1)) {
					free(tmp);
					return LR_ENOMEM;
				}
				start = last = SIZE_MAX;
				if (!q)
					break;
			}
			if (start == SIZE_MAX)
				start = k;
			last = k;
		}
		a = b + 1;
	}
	free(tmp);
	return 0;
}

/* ------------------------------------------------------------------ writing */

static int is_hyphen(uint32_t cp)
{
	return cp == '-' || cp == 0xad || cp == 0x2010;
}

static void put_glyph(struct lr_sb *b, uint32_t cp)
{
	/* Ligatures poppler left as presentation forms become their letters. */
	static const char *const lig[] = { "ff", "fi", "fl", "ffi", "ffl", "st", "st" };

	if (cp >= 0xfb00 && cp <= 0xfb06)
		lr_sb_puts(b, lig[cp - 0xfb00]);
	else if (cp == 0xad || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfeff ||
	         cp == 0xfffe || cp == 0xffff || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return;   /* soft hyphens inside a line, controls, non-characters */
	else if (is_space(cp))
		lr_sb_putc(b, ' ');
	else
		lr_sb_put_cp(b, cp);
}

/* Write one row: segments r[0..n) sorted by x. */
static void write_row(struct layout *L, const size_t *r, size_t n, int new_region)
{
	const struct seg *first = &L->s[r[0]];
	double y0 = INFINITY, y1 = -INFINITY, h;
	const struct lr_glyph *fg = &L->g[first->g0];
	int para;

	for (size_t i = 0; i < n; i++) {
		y0 = fmin(y0, L->s[r[i]].y0);
		y1 = fmax(y1, L->s[r[i]].y1);
	}
	h = y1 - y0;
	para = new_region || (L->pending && y0 - L->last_y1 > PARA_GAP * fmax(h, L->last_h));
	while (is_space(fg->cp) && fg < &L->g[first->g1 - 1])
		fg++;
	if (L->pending) {
		if (L->hyphen && g_unichar_islower(fg->cp)) {
			L->b->n -= L->hyphen_len;        /* join "docu-" + "mentation" */
			L->b->p[L->b->n] = '\0';
		} else {
			lr_sb_putc(L->b, '\n');
			if (para)
				lr_sb_putc(L->b, '\n');
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct seg *s = &L->s[r[i]];
		if (i > 0) {
			double gap = s->x0 - L->s[r[i - 1]].x1;
			lr_sb_putc(L->b, gap > TAB_GAP * h ? '\t' : ' ');
		}
		for (size_t k = s->g0; k < s->g1; k++)
			put_glyph(L->b, L->g[k].cp);
	}
	lr_sb_rtrim(L->b, " ");
	{
		const struct seg *s = &L->s[r[n - 1]];
		size_t k = s->g1 - 1;
		L->hyphen = 0;
		if (is_hyphen(L->g[k].cp) && k > s->g0 && g_unichar_islower(L->g[k - 1].cp) &&
		    L->b->n > 0) {
			L->hyphen = 1;
			L->hyphen_len = L->g[k].cp == '-' ? 1 : L->g[k].cp == 0xad ? 0 : 3;
			if (L->g[k].cp == 0xad)
				L->hyphen_len = 0;   /* already dropped by put_glyph */
		}
	}
	L->pending = 1;
	L->last_y1 = y1;
	L->last_h = h;
}

/* ------------------------------------------------------------------ regions */

static int cmp_x(const void *a, const void *b, void *ctx)
{
	const struct seg *s = ctx;
	double p = s[*(const size_t *)a].x0, q = s[*(const size_t *)b].x0;

	return p < q ? -1 : p > q;
}

static int cmp_yc(const void *a, const void *b, void *ctx)
{
	const struct seg *s = ctx;
	const struct seg *p = &s[*(const size_t *)a], *q = &s[*(const size_t *)b];
	double pc = p->y0 + p->y1, qc = q->y0 + q->y1;

	if (pc != qc)
		return pc < qc ? -1 : 1;
	return p->x0 < q->x0 ? -1 : p->x0 > q->x0;
}

static int cmp_double(const void *a, const void *b)
{
	double p = *(const double *)a, q = *(const double *)b;

	return p < q ? -1 : p > q;
}

static double median_h(const struct layout *L, const size_t *v, size_t n)
{
	double *h, m;

	if (n == 0 || !(h = malloc(n * sizeof *h)))
		return 10;
	for (size_t i = 0; i < n; i++)
		h[i] = L->s[v[i]].y1 - L->s[v[i]].y0;
	qsort(h, n, sizeof *h, cmp_double);
	m = h[n / 2];
	free(h);
	return m > 1 ? m : 1;
}

/* The leaf: rows by vertical overlap, top to bottom. */
static int emit_leaf(struct layout *L, size_t *v, size_t n, int new_region)
{
	size_t i = 0;

	g_qsort_with_data(v, (gint)n, sizeof *v, cmp_yc, L->s);
	while (i < n) {
		size_t j = i + 1;
		double y0 = L->s[v[i]].y0, y1 = L->s[v[i]].y1;

		while (j < n) {
			const struct seg *s = &L->s[v[j]];
			double ov = fmin(y1, s->y1) - fmax(y0, s->y0);
			double mh = fmin(y1 - y0, s->y1 - s->y0);
			if (ov < 0.5 * mh)
				break;
			y0 = fmin(y0, s->y0);
			y1 = fmax(y1, s->y1);
			j++;
		}
		g_qsort_with_data(v + i, (gint)(j - i), sizeof *v, cmp_x, L->s);
		write_row(L, v + i, j - i, new_region && i == 0);
		i = j;
	}
	return 0;
}

/* Gutters of v[0..n) (sorted by x0), ignoring segments for which skip[] is set:
 * x ranges [gx0[k], gx1[k]) no considered segment covers, at least minw wide, with
 * considered segments on both sides.  @return the number found (<= max). */
static size_t find_gutters(const struct layout *L, const size_t *v, size_t n,
                           const unsigned char *skip, double minw, double *gx0,
                           double *gx1, size_t max)
{
	double reach = -INFINITY;
	size_t k = 0, seen = 0;

	for (size_t i = 0; i < n; i++) {
		const struct seg *s = &L->s[v[i]];
		if (skip && skip[i])
			continue;
		if (seen && s->x0 - reach >= minw && k < max) {
			gx0[k] = reach;
			gx1[k] = s->x0;
			k++;
		}
		reach = fmax(reach, s->x1);
		seen++;
	}
	return k;
}

static int cut(struct layout *L, size_t *v, size_t n, int depth, int new_region);

/* Sets skip[i] for the segments of v[0..n) that are a lone mark: fewer than MERGE_CHARS
 * characters with no other segment beside them (a page number, a footnote mark), not
 * a short word or a CJK line's piece, which have neighbours on their row.  @return
 * how many. */
static size_t lone_marks(const struct layout *L, const size_t *v, size_t n, unsigned char *skip)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct seg *q = &L->s[v[i]];
		double c = q->y0 + q->y1;
		skip[i] = q->nch < MERGE_CHARS;
		for (size_t j = 0; j < n && skip[i]; j++)
			if (j != i && 2 * L->s[v[j]].y0 < c && c < 2 * L->s[v[j]].y1)
				skip[i] = 0;
		k += skip[i];
	}
	return k;
}

/* The least covered x range in the middle 60% of the region, when few segments cover
 * it (<= BLOCKED of them) and at least 3 segments lie wholly on each side: a column
 * gutter that full-width lines interrupt.  The lone marks, skip[i] set (lone_marks),
 * do not count (quantumarticle p.1: the page number in the gutter left gaps of 6 and 7
 * points either side, too narrow, and the page was read line by line across its
 * columns).  @return 1 with [*gx0, *gx1) set. */
static int blocked_gutter(const struct layout *L, const size_t *v, size_t n, const unsigned char *skip,
                          double rx0, double rx1, double minw, double *gx0, double *gx1)
{
	enum { MAX_BINS = 2048 };
	int cov[MAX_BINS + 1] = { 0 };
	double width = rx1 - rx0, scale;
	size_t bins, lo, hi, best_len = 0, best_at = 0, left = 0, right = 0;
	int m = INT32_MAX;

	if (width <= 0 || n < 6)
		return 0;
	bins = width < MAX_BINS ? (size_t)width + 1 : MAX_BINS;
	scale = (double)bins / width;
	for (size_t i = 0; i < n; i++) {
		const struct seg *s = &L->s[v[i]];
		size_t a = (size_t)((s->x0 - rx0) * scale), b = (size_t)((s->x1 - rx0) * scale);
		if (skip[i])   /* a page number in the gutter is no block over it */
			continue;
		if (b >= bins)
			b = bins - 1;
		cov[a]++;
		cov[b + 1]--;
	}
	for (size_t i = 1; i <= bins; i++)
		cov[i] += cov[i - 1];
	lo = bins / 5;
	hi = bins - bins / 5;
	for (size_t i = lo; i < hi; i++)
		if (cov[i] < m)
			m = cov[i];
	if (m < 0 || (size_t)m * 10 > n * BLOCKED10)
		return 0;
	for (size_t i = lo; i < hi;) {
		size_t j = i;
		while (j < hi && cov[j] == m)
			j++;
		if (j - i > best_len) {
			best_len = j - i;
			best_at = i;
		}
		i = j > i ? j : i + 1;
	}
	if (best_len == 0 || best_len / scale < minw)
		return 0;
	*gx0 = rx0 + (double)best_at / scale;
	*gx1 = rx0 + (double)(best_at + best_len) / scale;
	for (size_t i = 0; i < n; i++) {
		left += L->s[v[i]].x1 <= *gx0;
		right += L->s[v[i]].x0 >= *gx1;
	}
	return left >= 3 && right >= 3;
}

/* Gutters of v[0..n) (sorted by x0) that only a few characters stand between — a
 * page number or a footnote mark centred in the gutter of two columns — made one:
 * read as a column of its own, that part failed the running-text test and the whole
 * page was read as a table, the two columns spliced line by line (issue 15: elsarticle,
 * 5p layout).  The few characters join the column to their right.  @return the new
 * count. */
static size_t merge_gutters(const struct layout *L, const size_t *v, size_t n, double *gx0,
                            double *gx1, size_t ng)
{
	size_t c = 0;

	while (ng > 1 && c + 1 < ng) {
		size_t chars = 0;
		for (size_t i = 0; i < n; i++) {
			const struct seg *s = &L->s[v[i]];
			if (s->x0 >= gx1[c] && s->x1 <= gx0[c + 1])
				chars += s->nch;
		}
		if (chars >= MERGE_CHARS) {
			c++;
			continue;
		}
		gx1[c] = gx1[c + 1];
		memmove(gx0 + c + 1, gx0 + c + 2, (ng - c - 2) * sizeof *gx0);
		memmove(gx1 + c + 1, gx1 + c + 2, (ng - c - 2) * sizeof *gx1);
		ng--;
	}
	return ng;
}

/* Whether segments v[ts, te) (a part that is not running text) stand beside a column
 * of prose v[ps, pe): that part passes the running-text test, and fewer than half of
 * its segments share a line (centres within a quarter line height) with the other. */
static int prose_beside(const struct layout *L, const size_t *v, size_t ts, size_t te, size_t ps,
                        size_t pe, double h)
{
	size_t aligned = 0;

	if (!running_text(L, v, ps, pe))
		return 0;
	for (size_t i = ts; i < te; i++) {
		double c = L->s[v[i]].y0 + L->s[v[i]].y1;
		for (size_t j = ps; j < pe; j++)
			if (fabs(L->s[v[j]].y0 + L->s[v[j]].y1 - c) < 0.5 * h) {
				aligned++;
				break;
			}
	}
	return 2 * aligned < te - ts;
}

/* Split at gutters into columns if each looks like running text. */
static int try_columns(struct layout *L, size_t *v, size_t n, const double *gx0,
                       const double *gx1, size_t ng, double h, int depth, int *done)
{
	double rx0 = INFINITY, rx1 = -INFINITY, narrowest = INFINITY;
	size_t start = 0, min_segs;
	int nontext = 0;

	*done = 0;
	for (size_t i = 0; i < n; i++) {
		rx0 = fmin(rx0, L->s[v[i]].x0);
		rx1 = fmax(rx1, L->s[v[i]].x1);
	}
	/* a narrow gutter could be a river of aligned word spaces: demand real columns */
	for (size_t c = 0; c < ng; c++)
		narrowest = fmin(narrowest, gx1[c] - gx0[c]);
	min_segs = narrowest < GUTTER_WIDE * h ? NARROW_SEGS : 1;
	/* v is sorted by x0, so each column is a contiguous run */
	for (size_t c = 0; c <= ng; c++) {
		size_t end = start;
		double cx0 = INFINITY, cx1 = -INFINITY;
		while (end < n && (c == ng || L->s[v[end]].x1 <= gx0[c] + 1e-6)) {
			cx0 = fmin(cx0, L->s[v[end]].x0);
			cx1 = fmax(cx1, L->s[v[end]].x1);
			end++;
		}
		if (end - start < min_segs || cx1 - cx0 < 0.15 * (rx1 - rx0))
			return 0;
		if (!running_text(L, v, start, end)) {
			/* a table beside a column of prose (aipsamp p.5) is a column too, when
			 * its rows do not line up with the prose's lines; a table's own columns
			 * do line up, row by row */
			size_t ps, pe;
			if (ng != 1 || nontext++)
				return 0;
			ps = c == 0 ? end : 0;
			pe = c == 0 ? n : start;
			if (!prose_beside(L, v, start, end, ps, pe, h))
				return 0;
		}
		start = end;
	}
	if (start != n)
		return 0;
	start = 0;
	for (size_t c = 0; c <= ng; c++) {
		size_t end = start;
		while (end < n && (c == ng || L->s[v[end]].x1 <= gx0[c] + 1e-6))
			end++;
		if (cut(L, v + start, end - start, depth + 1, 1))
			return LR_ENOMEM;
		start = end;
	}
	*done = 1;
	return 0;
}

static int cut(struct layout *L, size_t *v, size_t n, int depth, int new_region)
{
	double gx0[MAXG], gx1[MAXG], rx0 = INFINITY, rx1 = -INFINITY, h, gmin;
	unsigned char *skip;   /* [n] lone marks (lone_marks) */
	size_t ng;
	int done, bands, rc = 0;

	if (n <= 1 || depth > MAX_DEPTH)
		return emit_leaf(L, v, n, new_region);
	g_qsort_with_data(v, (gint)n, sizeof *v, cmp_x, L->s);
	for (size_t i = 0; i < n; i++) {
		rx0 = fmin(rx0, L->s[v[i]].x0);
		rx1 = fmax(rx1, L->s[v[i]].x1);
	}
	h = median_h(L, v, n);
	gmin = GUTTER_MIN * h;

	/* a. clean gutters */
	ng = find_gutters(L, v, n, NULL, gmin, gx0, gx1, MAXG);
	ng = merge_gutters(L, v, n, gx0, gx1, ng);
	if (ng) {
		if ((rc = try_columns(L, v, n, gx0, gx1, ng, h, depth, &done)) || done)
			return rc;
		return emit_leaf(L, v, n, new_region);   /* a table: read by rows */
	}
	/* a'. gutters that only a lone mark stands in: a page number centred in the
	 * gutter leaves two gaps each narrower than a gutter (quantumarticle p.2: 7 points
	 * either side of the "2", the columns read line by line across); it joins the
	 * column to its right.  b. below looks past the lone marks too. */
	skip = malloc(n);
	if (!skip)
		return LR_ENOMEM;
	ng = lone_marks(L, v, n, skip) ? find_gutters(L, v, n, skip, gmin, gx0, gx1, MAXG) : 0;
	if (ng && ((rc = try_columns(L, v, n, gx0, gx1, ng, h, depth, &done)) || done)) {
		free(skip);
		return rc;
	}
	bands = blocked_gutter(L, v, n, skip, rx0, rx1, gmin, gx0, gx1);
	free(skip);

	/* b. a gutter blocked only by some segments (titles, abstracts, captions,
	 * footers): cut bands at the runs of segments that cross it */
	if (bands) {
		size_t *w = malloc(n * sizeof *w);
		unsigned char *cross = malloc(n);
		size_t start = 0;

		if (!w || !cross) {
			free(w);
			free(cross);
			return LR_ENOMEM;
		}
		memcpy(w, v, n * sizeof *w);
		g_qsort_with_data(w, (gint)n, sizeof *w, cmp_yc, L->s);
		for (size_t i = 0; i < n; i++) {
			const struct seg *s = &L->s[w[i]];
			cross[i] = s->x0 < gx1[0] && s->x1 > gx0[0];
		}
		for (size_t i = 1; i <= n && !rc; i++) {
			if (i == n || cross[i] != cross[start]) {
				rc = cut(L, w + start, i - start, depth + 1, new_region && start == 0);
				start = i;
			}
		}
		free(w);
		free(cross);
		return rc;
	}
	return emit_leaf(L, v, n, new_region);
}

static int layout_upright(const struct lr_glyph *g, size_t n, struct lr_sb *b)
{
	struct layout L = { .g = g, .b = b };
	size_t *v = NULL;
	int rc = 0;

	if ((rc = build_segments(&L, n)))
		goto out;
	if (L.ns == 0)
		goto out;
	v = malloc(L.ns * sizeof *v);
	if (!v) {
		rc = LR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < L.ns; i++)
		v[i] = i;
	rc = cut(&L, v, L.ns, 0, 0);
	if (L.pending)
		lr_sb_putc(b, '\n');
out:
	free(v);
	free(L.s);
	return rc ? rc : lr_sb_failed(b) ? LR_ENOMEM : 0;
}

/* ------------------------------------------------------------------ rotated text */

/* Which way poppler line [a, b) reads, from the steps between its glyphs' centres
 * (y grows down the page): 0 left to right, 1 bottom to top (turned 90 degrees
 * counter-clockwise), 2 right to left upside down, 3 top to bottom (turned clockwise).
 * A line of one glyph gives no step and counts as upright. */
static int line_rot(const struct lr_glyph *g, size_t a, size_t b)
{
	size_t votes[4] = { 0 }, last = SIZE_MAX, best = 0;

	for (size_t k = a; k < b; k++) {
		double dx, dy;

		if (is_space(g[k].cp))
			continue;
		if (last != SIZE_MAX) {
			dx = (g[k].x0 + g[k].x1 - g[last].x0 - g[last].x1) / 2;
			dy = (g[k].y0 + g[k].y1 - g[last].y0 - g[last].y1) / 2;
			if (fabs(dx) >= fabs(dy))   /* leftwards between right-to-left letters: upright */
				votes[dx >= 0 || (lr_is_rtl(g[k].cp) && lr_is_rtl(g[last].cp)) ? 0 : 2]++;
			else
				votes[dy < 0 ? 1 : 3]++;
		}
		last = k;
	}
	for (int r = 1; r < 4; r++)
		if (votes[r] > votes[best])
			best = (size_t)r;
	return (int)best;
}

/* Glyph q of a line turned by rot, in the frame where that line reads left to right
 * and its next line lies below it (page width w, height h). */
static struct lr_glyph turn(const struct lr_glyph *q, int rot, double w, double h)
{
	struct lr_glyph o = *q;

	switch (rot) {
	case 1:   /* reads upward, next line to the right */
		o.x0 = h - q->y1, o.x1 = h - q->y0, o.y0 = q->x0, o.y1 = q->x1;
		break;
	case 2:   /* upside down */
		o.x0 = w - q->x1, o.x1 = w - q->x0, o.y0 = h - q->y1, o.y1 = h - q->y0;
		break;
	case 3:   /* reads downward, next line to the left */
		o.x0 = q->y0, o.x1 = q->y1, o.y0 = w - q->x1, o.y1 = w - q->x0;
		break;
	}
	return o;
}

/* Reading order for a page: the upright lines as above; lines turned a quarter or
 * half turn (a landscape table on a portrait page, a label up the margin) are turned
 * back, one group per direction, laid out the same way and written after the upright
 * text, each group its own paragraph.  Read as they sit, a turned table came out as
 * its columns, rows crossed with rows (issue 15). */
int lr_layout_page(const struct lr_glyph *g, size_t n, struct lr_sb *b)
{
	struct lr_glyph *t = NULL;
	unsigned char *rot = NULL;
	double w = 0, h = 0;
	int any = 0, rtl, rc = 0;

	rot = malloc(n ? n : 1);
	if (!rot)
		return LR_ENOMEM;
	rtl = rtl_letters(g, 0, n) > 0;
	for (size_t a = 0; a < n;) {
		size_t e = a;
		int r;

		while (e < n && g[e].cp != '\n')
			e++;
		r = line_rot(g, a, e);
		any |= r != 0;
		memset(rot + a, r, e - a + (e < n));
		a = e + 1;
	}
	if (!any && !rtl) {
		free(rot);
		return layout_upright(g, n, b);
	}
	t = malloc(n * sizeof *t);
	if (!t) {
		free(rot);
		return LR_ENOMEM;
	}
	for (size_t k = 0; k < n; k++) {
		w = fmax(w, g[k].x1);
		h = fmax(h, g[k].y1);
	}
	for (int r = 0; r < 4 && !rc; r++) {
		size_t m = 0, start = b->n;

		for (size_t k = 0; k < n; k++)
			if (rot[k] == r) {
				t[m] = turn(&g[k], r, w, h);
				if (rtl) {   /* mirrored: columns and cells then read right to left */
					double x0 = t[m].x0;
					t[m].x0 = -t[m].x1;
					t[m].x1 = -x0;
				}
				m++;
			}
		if (!m)
			continue;
		if (start > 0 && b->p[start - 1] == '\n' && (start < 2 || b->p[start - 2] != '\n'))
			lr_sb_putc(b, '\n');
		rc = layout_upright(t, m, b);
	}
	free(t);
	free(rot);
	return rc;
}
