/* src/cite.c — parse the bracketed citations of an answer and check them against the
 * packed corpus: document, place (line, page, heading), quote.  Quotes are matched on
 * a normalised copy of each document's window text (whitespace runs as one space,
 * curly quotes as straight ones) with a map back to byte offsets, built once per
 * document per answer.  Workload: a handful of citations per answer. */
#include "src/cite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BRACKET 600     /* longer bracketed text is not a citation */
#define MAX_QUOTE 4000      /* how far back a quote may open */
#define MIN_ELSEWHERE 12    /* normalised bytes a quote needs to be looked for in other
                               documents: shorter ones ("5", "yes") are found anywhere */

const char *lr_cite_status_name(enum lr_cite_status s)
{
	switch (s) {
	case LR_CITE_VERIFIED: return "verified";
	case LR_CITE_NO_DOCUMENT: return "no-document";
	case LR_CITE_NO_PLACE: return "no-place";
	case LR_CITE_NOT_IN_WINDOW: return "not-in-window";
	case LR_CITE_QUOTE_ELSEWHERE: return "quote-elsewhere";
	case LR_CITE_QUOTE_MISSING: return "quote-missing";
	}
	return "?";
}

const char *lr_cite_kind_name(enum lr_cite_kind k)
{
	switch (k) {
	case LR_CITE_DOC: return "document";
	case LR_CITE_LINE: return "line";
	case LR_CITE_PAGE: return "page";
	case LR_CITE_SECTION: return "section";
	}
	return "?";
}

/* ------------------------------------------------------------------ normalised text */

struct norm {
	char *t;         /* normalised text */
	size_t n;
	uint64_t *map;   /* [n] byte offset in the source of each normalised byte */
};

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Normalise s[0..n) (offsets reported from base): whitespace runs become one space,
 * ‘ ’ become ', “ ” become ", … becomes ... (same length: the map stays one to one). */
static int normalize(const char *s, size_t n, uint64_t base, struct norm *out)
{
	size_t k = 0;

	out->t = malloc(n + 1);
	out->map = malloc((n + 1) * sizeof *out->map);
	if (!out->t || !out->map)
		return LR_ENOMEM;
	for (size_t i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)s + i;
		if (is_ws(u[0])) {
			size_t j = i;
			while (j < n && is_ws((unsigned char)s[j]))
				j++;
			out->map[k] = base + i;
			out->t[k++] = ' ';
			i = j;
		} else if (i + 2 < n && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0x98 || u[2] == 0x99 ||
		                                                          u[2] == 0x9c || u[2] == 0x9d)) {
			out->map[k] = base + i;
			out->t[k++] = u[2] <= 0x99 ? '\'' : '"';
			i += 3;
		} else if (i + 2 < n && u[0] == 0xe2 && u[1] == 0x80 && u[2] == 0xa6) {
			for (int d = 0; d < 3; d++) {   /* … as ... */
				out->map[k] = base + i;
				out->t[k++] = '.';
			}
			i += 3;
		} else {
			out->map[k] = base + i;
			out->t[k++] = s[i++];
		}
	}
	out->t[k] = '\0';
	out->n = k;
	return 0;
}

static void norm_release(struct norm *z)
{
	free(z->t);
	free(z->map);
	z->t = NULL;
	z->map = NULL;
}

/* The first normalised index whose source offset is >= off. */
static size_t norm_at(const struct norm *z, uint64_t off)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->map[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The next fragment of a quote at q: text up to "..." (an elision), trimmed of spaces.
 * Returns where the following fragment starts (NULL after the last); frag and flen get
 * the fragment (flen 0 for an empty one). */
static const char *fragment(const char *q, const char **frag, size_t *flen)
{
	const char *dots;

	while (*q == ' ')
		q++;
	while (strncmp(q, "...", 3) == 0) {
		q += 3;
		while (*q == '.' || *q == ' ')
			q++;
	}
	dots = strstr(q, "...");
	*frag = q;
	*flen = dots ? (size_t)(dots - q) : strlen(q);
	while (*flen && q[*flen - 1] == ' ')
		(*flen)--;
	return dots;
}

/* Find the quote q (normalised) with its first fragment starting in [lo, hi) of z and
 * the following fragments after it, in order.  @return the start index or SIZE_MAX. */
static size_t find_quote(const struct norm *z, const char *q, size_t lo, size_t hi)
{
	const char *first, *rest;
	size_t first_len;

	rest = fragment(q, &first, &first_len);
	if (!first_len)
		return SIZE_MAX;
	for (size_t from = lo; from < hi;) {
		const char *hit = memmem(z->t + from, z->n - from, first, first_len);
		size_t start, at;
		int ok = 1;

		if (!hit || (size_t)(hit - z->t) >= hi)
			return SIZE_MAX;
		start = (size_t)(hit - z->t);
		at = start + first_len;
		for (const char *r = rest; r && ok;) {
			const char *frag;
			size_t flen;
			r = fragment(r, &frag, &flen);
			if (!flen)
				continue;
			hit = memmem(z->t + at, z->n - at, frag, flen);
			if (hit)
				at = (size_t)(hit - z->t) + flen;
			else
				ok = 0;
		}
		if (ok)
			return start;
		from = start + 1;
	}
	return SIZE_MAX;
}

/* ------------------------------------------------------------------ parsing */

struct part {
	const char *name;      /* the name as written */
	size_t name_len;
	enum lr_cite_kind kind;
	uint64_t first, last;
	const char *label;     /* a page label or heading, as written */
	size_t label_len;
};

static const char *trim(const char *s, size_t *n)
{
	while (*n && is_ws((unsigned char)*s))
		s++, (*n)--;
	while (*n && (is_ws((unsigned char)s[*n - 1]) || s[*n - 1] == ','))
		(*n)--;
	return s;
}

/* A decimal number at s[0..n): its value and length (0 if none). */
static size_t number(const char *s, size_t n, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	while (i < n && i < 15 && s[i] >= '0' && s[i] <= '9')
		*v = *v * 10 + (uint64_t)(s[i++] - '0');
	return i;
}

/* "N" or "N-M" (hyphen or en dash) filling the rest of s[0..n); 0 if not that. */
static int range(const char *s, size_t n, uint64_t *first, uint64_t *last)
{
	size_t k = number(s, n, first);

	if (!k)
		return 0;
	*last = *first;
	if (k == n)
		return 1;
	if (s[k] == '-')
		k++;
	else if (n - k >= 3 && memcmp(s + k, "\xe2\x80\x93", 3) == 0)
		k += 3;
	else
		return 0;
	{
		size_t m = number(s + k, n - k, last);
		return m && k + m == n && *last >= *first;
	}
}

static void parse_part(const char *s, size_t n, struct part *pt)
{
	const char *sect;

	memset(pt, 0, sizeof *pt);
	pt->kind = LR_CITE_DOC;
	s = trim(s, &n);
	pt->name = s;
	pt->name_len = n;
	/* NAME § HEADING */
	if ((sect = memmem(s, n, "\xc2\xa7", 2)) != NULL) {
		pt->kind = LR_CITE_SECTION;
		pt->name_len = (size_t)(sect - s);
		pt->label = sect + 2;
		pt->label_len = n - pt->name_len - 2;
		pt->label = trim(pt->label, &pt->label_len);
		pt->name = trim(pt->name, &pt->name_len);
		return;
	}
	/* NAME p.N, NAME pp.N-M, NAME p.N "label", NAME, page N, NAME p.LABEL */
	for (size_t i = n; i-- > 1;) {
		static const char *const words[] = { "pp.", "p.", "pages", "page" };
		if (s[i - 1] != ' ' && s[i - 1] != ',')
			continue;
		for (int w = 0; w < 4; w++) {
			size_t wl = strlen(words[w]), j = i + wl, end;
			if (n - i < wl || memcmp(s + i, words[w], wl) != 0)
				continue;
			while (j < n && s[j] == ' ')
				j++;
			end = j;
			while (end < n && s[end] != ' ')
				end++;
			if (j == end)
				continue;
			if (range(s + j, end - j, &pt->first, &pt->last)) {
				/* an optional label after the number: p.3 "iii" */
				if (end < n && s[end + 1] != '"' && s[end + 1] != '(')
					continue;
			} else if (end == n && w < 2) {
				pt->label = s + j;   /* p.iii: a page label */
				pt->label_len = end - j;
			} else {
				continue;
			}
			pt->kind = LR_CITE_PAGE;
			pt->name_len = i - 1;
			pt->name = trim(s, &pt->name_len);
			return;
		}
	}
	/* NAME:N or NAME:N-M */
	for (size_t i = n; i-- > 0;) {
		if (s[i] != ':')
			continue;
		if (range(s + i + 1, n - i - 1, &pt->first, &pt->last)) {
			pt->kind = LR_CITE_LINE;
			pt->name_len = i;
			pt->name = trim(s, &pt->name_len);
		}
		break;
	}
}

/* The document named name[0..n): exact name or path, else the only one whose name ends
 * in "/" + name.  *many is set when several end so. */
static const struct lr_pack_doc *resolve(const struct lr_pack *p, const char *name, size_t n, int *many)
{
	const struct lr_pack_doc *hit = NULL;

	*many = 0;
	if (!n)
		return NULL;
	for (size_t i = 0; i < p->n_docs; i++) {
		const struct lr_doc *d = p->docs[i].doc;
		if ((strlen(d->name) == n && memcmp(d->name, name, n) == 0) ||
		    (strlen(d->path) == n && memcmp(d->path, name, n) == 0))
			return &p->docs[i];
	}
	for (size_t i = 0; i < p->n_docs; i++) {
		const char *dn = p->docs[i].doc->name;
		size_t dl = strlen(dn);
		if (dl > n && dn[dl - n - 1] == '/' && memcmp(dn + dl - n, name, n) == 0) {
			if (hit)
				*many = 1;
			hit = &p->docs[i];
		}
	}
	return *many ? NULL : hit;
}

/* The quoted words right before offset at: after skipping spaces and '(', a closing
 * " or ”, then back to the opening " or “ (not across a blank line). */
static char *quote_before(const char *a, size_t at)
{
	size_t end, i;

	while (at && (a[at - 1] == ' ' || a[at - 1] == '(' || a[at - 1] == '\t'))
		at--;
	if (at >= 1 && a[at - 1] == '"')
		end = at - 1;
	else if (at >= 3 && memcmp(a + at - 3, "\xe2\x80\x9d", 3) == 0)
		end = at - 3;
	else
		return NULL;
	for (i = end; i-- > 0 && end - i < MAX_QUOTE;) {
		if (a[i] == '\n' && i && a[i - 1] == '\n')
			return NULL;
		if (a[i] == '"' || (i >= 2 && memcmp(a + i - 2, "\xe2\x80\x9c", 3) == 0)) {
			size_t from = i + 1;
			return end > from ? strndup(a + from, end - from) : NULL;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ checking */

struct checker {
	const struct lr_pack *p;
	struct norm *norms;    /* [n_docs], built on demand */
};

static uint64_t kept_end(const struct lr_pack_doc *pd)
{
	const struct lr_doc *d = pd->doc;

	return pd->n_lines_kept < d->n_lines ? d->line_off[pd->n_lines_kept] : d->n_bytes;
}

static const struct norm *norm_of(struct checker *ck, const struct lr_pack_doc *pd)
{
	struct norm *z = &ck->norms[pd - ck->p->docs];

	if (!z->t && normalize(pd->doc->text, (size_t)kept_end(pd), 0, z)) {
		norm_release(z);
		return NULL;
	}
	return z;
}

static int label_eq(const char *a, size_t an, const char *b)
{
	struct norm x = { 0 }, y = { 0 };
	int eq = 0;

	while (an && *a == '#')
		a++, an--;
	while (*b == '#')
		b++;
	if (!normalize(a, an, 0, &x) && !normalize(b, strlen(b), 0, &y)) {
		const char *s = x.t, *t = y.t;
		size_t sn = x.n, tn = y.n;
		s = trim(s, &sn);
		t = trim(t, &tn);
		eq = sn == tn && strncasecmp(s, t, sn) == 0;
	}
	norm_release(&x);
	norm_release(&y);
	return eq;
}

/* The byte range [*a, *b) of the place cited; 0, or fills c->status/detail. */
static int place(const struct checker *ck, struct lr_cite *c, const struct part *pt, uint64_t *a, uint64_t *b)
{
	const struct lr_pack_doc *pd = c->doc;
	const struct lr_doc *d = pd->doc;
	uint64_t tol = ck->p->o.line_step > 1 ? ck->p->o.line_step - 1 : 0;

	*a = 0;
	*b = kept_end(pd);
	switch (c->kind) {
	case LR_CITE_DOC:
		return 0;
	case LR_CITE_LINE: {
		uint64_t lo, hi;
		if (c->last > d->n_lines || !c->first) {
			snprintf(c->detail, sizeof c->detail, "'%s' has %" PRIu64 " line%s", d->name, d->n_lines,
			         d->n_lines == 1 ? "" : "s");
			return c->status = LR_CITE_NO_PLACE, -1;
		}
		if (c->first > pd->n_lines_kept) {
			snprintf(c->detail, sizeof c->detail, "line %" PRIu64 " was left out of the window "
				"(it kept lines 1-%" PRIu64 ")", c->first, pd->n_lines_kept);
			return c->status = LR_CITE_NOT_IN_WINDOW, -1;
		}
		lo = c->first > tol ? c->first - tol : 1;
		hi = c->last + tol < pd->n_lines_kept ? c->last + tol : pd->n_lines_kept;
		*a = d->line_off[lo - 1];
		*b = hi < d->n_lines ? d->line_off[hi] : d->n_bytes;
		return 0;
	}
	case LR_CITE_PAGE: {
		int found = 0;
		if (d->kind != LR_DOC_PDF) {
			snprintf(c->detail, sizeof c->detail, "'%s' is not a PDF: it has no pages", d->name);
			return c->status = LR_CITE_NO_PLACE, -1;
		}
		for (size_t i = 0; i < d->n_anchors; i++) {
			const struct lr_anchor *an = &d->anchors[i];
			if (an->kind != LR_ANCHOR_PAGE)
				continue;
			if (!found && pt->label && an->label && strlen(an->label) == pt->label_len &&
			    memcmp(an->label, pt->label, pt->label_len) == 0)
				c->first = c->last = an->number;
			if (!found && an->number == c->first) {
				*a = an->offset;
				found = 1;
			} else if (found && an->number > c->last) {
				*b = an->offset < *b ? an->offset : *b;
				break;
			}
		}
		if (!found) {
			if (pt->label)
				snprintf(c->detail, sizeof c->detail, "'%s' has no page labelled '%.*s'", d->name,
				         (int)pt->label_len, pt->label);
			else
				snprintf(c->detail, sizeof c->detail, "'%s' has no page %" PRIu64 " (%" PRIu32
				         " pages%s)", d->name, c->first, d->n_pages,
				         c->first <= d->n_pages ? ", but that one has no text" : "");
			return c->status = LR_CITE_NO_PLACE, -1;
		}
		if (c->last > d->n_pages) {
			snprintf(c->detail, sizeof c->detail, "'%s' has %" PRIu32 " page%s", d->name, d->n_pages,
			         d->n_pages == 1 ? "" : "s");
			return c->status = LR_CITE_NO_PLACE, -1;
		}
		if (*a >= kept_end(pd) && kept_end(pd) < d->n_bytes) {
			snprintf(c->detail, sizeof c->detail, "page %" PRIu64 " was left out of the window",
			         c->first);
			return c->status = LR_CITE_NOT_IN_WINDOW, -1;
		}
		return 0;
	}
	case LR_CITE_SECTION:
		for (size_t i = 0; i < d->n_anchors; i++) {
			const struct lr_anchor *an = &d->anchors[i];
			if ((an->kind != LR_ANCHOR_HEADING && an->kind != LR_ANCHOR_OUTLINE) || !an->label ||
			    !label_eq(pt->label, pt->label_len, an->label))
				continue;
			*a = an->offset;
			for (size_t j = i + 1; j < d->n_anchors; j++)
				if (d->anchors[j].kind == an->kind && d->anchors[j].level <= an->level) {
					*b = d->anchors[j].offset;
					break;
				}
			if (*a >= kept_end(pd) && kept_end(pd) < d->n_bytes) {
				snprintf(c->detail, sizeof c->detail, "section '%s' was left out of the window",
				         an->label);
				return c->status = LR_CITE_NOT_IN_WINDOW, -1;
			}
			if (*b > kept_end(pd))
				*b = kept_end(pd);
			return 0;
		}
		snprintf(c->detail, sizeof c->detail, "'%s' has no heading '%.*s'", d->name, (int)pt->label_len,
		         pt->label);
		return c->status = LR_CITE_NO_PLACE, -1;
	}
	return 0;
}

/* Where a normalised index falls: line and page. */
static void locate(struct lr_cite *c, const struct lr_pack_doc *pd, const struct norm *z, size_t at)
{
	const struct lr_doc *d = pd->doc;
	uint64_t off = z->map[at];
	const struct lr_anchor *pg = lr_doc_page_at(d, off);

	/* a quote that starts at a collapsed line break starts on the next line */
	while (off < d->n_bytes && is_ws((unsigned char)d->text[off]))
		off++;
	c->found_line = lr_doc_line_at(d, off);
	c->found_page = pg ? pg->number : 0;
	c->found_doc = pd;
}

static void where(char *buf, size_t size, const struct lr_cite *c)
{
	if (c->found_page)
		snprintf(buf, size, "page %" PRIu32 " (line %" PRIu64 ")", c->found_page, c->found_line);
	else
		snprintf(buf, size, "line %" PRIu64, c->found_line);
}

/* A quote that is not where the citation says: the first other document of the window
 * (in window order) that holds it goes into found_*, and detail gets "; the quote is in
 * 'NAME' at PLACE".  @return 0 or LR_ENOMEM. */
static int elsewhere(struct checker *ck, struct lr_cite *c)
{
	struct norm q = { 0 };
	size_t k = strlen(c->detail);
	char loc[64];
	int rc = 0;

	if (!c->quote)
		return 0;
	if (normalize(c->quote, strlen(c->quote), 0, &q)) {
		norm_release(&q);
		return LR_ENOMEM;
	}
	for (size_t i = 0; q.n >= MIN_ELSEWHERE && i < ck->p->n_docs && !c->found_doc; i++) {
		const struct lr_pack_doc *pd = &ck->p->docs[i];
		const struct norm *z;
		size_t at;
		if (pd == c->doc || pd->fate == LR_PACK_DROPPED || pd->fate == LR_PACK_ABSENT)
			continue;
		if (!(z = norm_of(ck, pd))) {
			rc = LR_ENOMEM;
			break;
		}
		if ((at = find_quote(z, q.t, 0, z->n)) != SIZE_MAX)
			locate(c, pd, z, at);
	}
	norm_release(&q);
	if (c->found_doc && k + 1 < sizeof c->detail) {
		where(loc, sizeof loc, c);
		snprintf(c->detail + k, sizeof c->detail - k, "; the quote is in '%s' at %s", c->found_doc->doc->name, loc);
	}
	return rc;
}

static int check(struct checker *ck, struct lr_cite *c, const struct part *pt)
{
	const struct lr_pack_doc *pd = c->doc;
	const struct norm *z;
	struct norm q = { 0 };
	uint64_t a, b;
	size_t at;
	char loc[64];

	if (pd->fate == LR_PACK_DROPPED || pd->fate == LR_PACK_ABSENT) {
		snprintf(c->detail, sizeof c->detail, "'%s' was not in the window (%s)", pd->doc->name,
		         pd->fate == LR_PACK_DROPPED ? "left out by --fit" : "not read");
		c->status = LR_CITE_NOT_IN_WINDOW;
		return 0;
	}
	if (place(ck, c, pt, &a, &b))
		return 0;
	if (!c->quote) {
		c->status = LR_CITE_VERIFIED;
		snprintf(c->detail, sizeof c->detail, "the %s exists (no quote to check)",
		         c->kind == LR_CITE_DOC ? "document" : lr_cite_kind_name(c->kind));
		return 0;
	}
	if (!(z = norm_of(ck, pd)) || normalize(c->quote, strlen(c->quote), 0, &q)) {
		norm_release(&q);
		return LR_ENOMEM;
	}
	at = find_quote(z, q.t, norm_at(z, a), norm_at(z, b));
	if (at != SIZE_MAX) {
		locate(c, pd, z, at);
		where(loc, sizeof loc, c);
		c->status = LR_CITE_VERIFIED;
		snprintf(c->detail, sizeof c->detail, "quote found at %s", loc);
	} else if ((at = find_quote(z, q.t, 0, z->n)) != SIZE_MAX) {
		locate(c, pd, z, at);
		where(loc, sizeof loc, c);
		c->status = LR_CITE_QUOTE_ELSEWHERE;
		snprintf(c->detail, sizeof c->detail, "the quote is at %s, not at the place cited", loc);
	} else {
		c->status = LR_CITE_QUOTE_MISSING;
		snprintf(c->detail, sizeof c->detail, "the quote is not in '%s'", pd->doc->name);
	}
	norm_release(&q);
	return c->status == LR_CITE_QUOTE_MISSING ? elsewhere(ck, c) : 0;
}

static int has_letter(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')
			return 1;
	return 0;
}

static int add(struct lr_cites *out, const struct lr_cite *c)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct lr_cite *v = realloc(out->v, cap * sizeof *v);
		if (!v)
			return LR_ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *c;
	return 0;
}

static void cite_release(struct lr_cite *c)
{
	free(c->text);
	free(c->section);
	free(c->quote);
}

/* One part of a bracket: parse, resolve, check, add (or ignore). */
static int one(struct checker *ck, const char *ans, size_t open, const char *s, size_t n,
               const char *quote, struct lr_cites *out)
{
	struct lr_cite c;
	struct part pt;
	int many, rc;

	memset(&c, 0, sizeof c);
	parse_part(s, n, &pt);
	c.doc = resolve(ck->p, pt.name, pt.name_len, &many);
	if (!c.doc && !many && (pt.kind == LR_CITE_DOC || !has_letter(pt.name, pt.name_len)))
		return 0;   /* "[1]", "[x]": not a citation */
	c.offset = open;
	c.kind = pt.kind;
	c.first = pt.first;
	c.last = pt.last;
	if (!(c.text = strndup(ans + open, (size_t)(strchr(ans + open, ']') - (ans + open)) + 1)) ||
	    (pt.kind == LR_CITE_SECTION && !(c.section = strndup(pt.label, pt.label_len))) ||
	    (quote && !(c.quote = strdup(quote)))) {
		cite_release(&c);
		return LR_ENOMEM;
	}
	if (!c.doc) {
		c.status = LR_CITE_NO_DOCUMENT;
		snprintf(c.detail, sizeof c.detail, many ? "'%.*s' could be several documents" :
		         "no document is named '%.*s'", (int)pt.name_len, pt.name);
		if ((rc = elsewhere(ck, &c))) {
			cite_release(&c);
			return rc;
		}
	} else if ((rc = check(ck, &c, &pt))) {
		cite_release(&c);
		return rc;
	}
	if (add(out, &c)) {
		cite_release(&c);
		return LR_ENOMEM;
	}
	out->n_verified += c.status == LR_CITE_VERIFIED;
	return 0;
}

int lr_cite_check(const struct lr_pack *p, const char *answer, size_t len, struct lr_cites *out,
                  struct lr_err *err)
{
	struct checker ck = { p, calloc(p->n_docs ? p->n_docs : 1, sizeof *ck.norms) };
	char *a = strndup(answer, len);   /* NUL-terminated: strchr and friends stay inside */
	int rc = 0;

	if (!ck.norms || !a) {
		rc = LR_ENOMEM;
		goto out;
	}
	len = strlen(a);
	for (size_t i = 0; i < len && !rc; i++) {
		size_t close = i + 1;
		char *quote;
		if (a[i] != '[')
			continue;
		while (close < len && close - i < MAX_BRACKET && a[close] != ']' && a[close] != '[' &&
		       a[close] != '\n')
			close++;
		if (close >= len || a[close] != ']')
			continue;
		quote = quote_before(a, i);
		/* parts separated by ';' share the quote */
		for (size_t s = i + 1; s < close && !rc;) {
			size_t e = s;
			while (e < close && a[e] != ';')
				e++;
			rc = one(&ck, a, i, a + s, e - s, quote, out);
			s = e + 1;
		}
		free(quote);
		i = close;
	}
out:
	for (size_t i = 0; ck.norms && i < p->n_docs; i++)
		norm_release(&ck.norms[i]);
	free(ck.norms);
	free(a);
	return rc ? lr_errf(err, rc, "out of memory checking citations") : 0;
}

void lr_cites_release(struct lr_cites *c)
{
	for (size_t i = 0; i < c->n; i++)
		cite_release(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}
