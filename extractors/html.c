/* extractors/html.c — HTML pages through libxml2's forgiving HTML parser, written out
 * as Markdown-like text: headings as "#" lines (also anchors), lists as "-"/"1."
 * items, tables as "| a | b |" rows, <pre> verbatim in ``` fences, link text kept,
 * scripts, styles and page furniture (nav, aside, page header/footer, ARIA
 * navigation/banner/contentinfo) dropped, the main content (<main>, role=main, a lone
 * <article>) first.  Workload: one page at a time, up to max-file-size; the DOM walk
 * is iterative, so hostile nesting depth costs no stack.
 *
 * Charset: the bytes are decoded by encoding.c before parsing — the charset named by
 * <meta charset>, <meta http-equiv="Content-Type"> or an XML declaration in the first
 * 4 KiB when it fits the bytes, else detection (valid UTF-8 is UTF-8; libxml2's own
 * fallback would be Latin-1) — and libxml2 parses UTF-8. */
#include "extractors/priv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>

#define PRESCAN 4096
#define MAX_LIST 32

/* ------------------------------------------------------------------ quiet parser */

static void quiet_structured(void *ctx, xmlErrorPtr e)
{
	struct lr_extract *x = ctx;

	if (!x)
		return;
	x->n_msgs++;
	/* the parser halts there: everything after is lost unless said */
	if (e && e->message && strstr(e->message, "Excessive depth"))
		x->html_stopped = 1;
}

static void quiet_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* The handlers in place before ours, restored afterwards (libxml2 keeps them per
 * thread; we only ever touch them around one parse). */
static xmlStructuredErrorFunc saved_serror;
static void *saved_serror_ctx;
static xmlGenericErrorFunc saved_error;
static void *saved_error_ctx;

void lr_html_quiet(struct lr_extract *x, int on)
{
	if (on) {
		saved_serror = xmlStructuredError;
		saved_serror_ctx = xmlStructuredErrorContext;
		saved_error = xmlGenericError;
		saved_error_ctx = xmlGenericErrorContext;
		xmlSetStructuredErrorFunc(x, quiet_structured);
		xmlSetGenericErrorFunc(x, quiet_generic);
	} else {
		xmlSetStructuredErrorFunc(saved_serror_ctx, saved_serror);
		xmlSetGenericErrorFunc(saved_error_ctx, saved_error);
	}
}

/* ------------------------------------------------------------------ charset prescan */

/* Find a declared charset in the first PRESCAN bytes: <meta charset=x>,
 * <meta http-equiv=... content="...; charset=x">, <?xml ... encoding="x"?>.
 * Writes the label to out; @return 1 when found. */
static int declared_charset(const char *buf, size_t len, char *out, size_t size)
{
	size_t n = len < PRESCAN ? len : PRESCAN;
	const char *end = buf + n;

	for (const char *p = buf; p < end; p++) {
		const char *tag_end, *key, *q;
		int xml;

		if (*p != '<')
			continue;
		xml = end - p >= 5 && strncmp(p, "<?xml", 5) == 0;
		if (!xml && !(end - p >= 5 && strncasecmp(p, "<meta", 5) == 0))
			continue;
		tag_end = memchr(p, '>', (size_t)(end - p));
		if (!tag_end)
			return 0;
		key = xml ? "encoding" : "charset";
		for (q = p; q + strlen(key) < tag_end; q++) {
			size_t k = 0;
			if (strncasecmp(q, key, strlen(key)) != 0)
				continue;
			q += strlen(key);
			while (q < tag_end && isspace((unsigned char)*q))
				q++;
			if (q >= tag_end || *q != '=')
				continue;
			q++;
			while (q < tag_end && (isspace((unsigned char)*q) || *q == '"' || *q == '\''))
				q++;
			while (q < tag_end && k + 1 < size &&
			       (isalnum((unsigned char)*q) || strchr("-_.:", *q)))
				out[k++] = *q++;
			out[k] = '\0';
			if (k)
				return 1;
		}
		p = tag_end;
	}
	return 0;
}

/* ------------------------------------------------------------------ the writer */

struct writer {
	struct lr_sb *b;
	struct lr_doc *d;
	int breaks;        /* line breaks wanted before the next text (0..2) */
	int space;         /* a space is wanted before the next text */
	int pre;           /* inside <pre> (depth) */
	int cell;          /* inside a table cell (depth): breaks become spaces */
	int article;       /* inside <main>/<article> (depth): header/footer are content */
	int lists;         /* list nesting */
	int ordered[MAX_LIST];
	long number[MAX_LIST];
	int row_cells;     /* cells written in the current table row */
	int row_th;        /* the current row has header cells */
	int rows;          /* rows written in the current table */
	int inner_rows;    /* rows of a table inside a cell written so far */
	size_t heading_at; /* offset of the current heading's "#", or SIZE_MAX */
	int heading_level;
	const xmlNode *skip;  /* the main element, already written */
	int rc;
};

static void want_break(struct writer *w, int n)
{
	if (w->cell) {
		w->space = 1;
		return;
	}
	if (n > w->breaks)
		w->breaks = n;
	w->space = 0;
}

/* Emit pending breaks and space before visible output. */
static void flush(struct writer *w)
{
	struct lr_sb *b = w->b;

	if (b->n == 0) {
		w->breaks = 0;
		w->space = 0;
		return;
	}
	if (w->breaks) {
		int have = 0;
		lr_sb_rtrim(b, " ");
		while (have < (int)b->n && have < 2 && b->p[b->n - 1 - have] == '\n')
			have++;
		for (int i = have; i < w->breaks; i++)
			lr_sb_putc(b, '\n');
		w->breaks = 0;
		w->space = 0;
		return;
	}
	if (w->space && b->p[b->n - 1] != '\n' && b->p[b->n - 1] != ' ')
		lr_sb_putc(b, ' ');
	w->space = 0;
}

static void mark(struct writer *w, const char *s)
{
	flush(w);
	lr_sb_puts(w->b, s);
}

/* Text with whitespace collapsed (or verbatim inside <pre>). */
static void text(struct writer *w, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (w->pre) {
		flush(w);
		lr_sb_puts(w->b, s);
		return;
	}
	while (*u) {
		size_t run = 0;
		if (*u == ' ' || *u == '\t' || *u == '\n' || *u == '\r' || *u == '\f') {
			w->space = 1;
			u++;
			continue;
		}
		if (u[0] == 0xc2 && u[1] == 0xa0) {   /* no-break space */
			w->space = 1;
			u += 2;
			continue;
		}
		while (u[run] && u[run] != ' ' && u[run] != '\t' && u[run] != '\n' &&
		       u[run] != '\r' && u[run] != '\f' && !(u[run] == 0xc2 && u[run + 1] == 0xa0))
			run++;
		flush(w);
		lr_sb_putn(w->b, (const char *)u, run);
		u += run;
	}
}

/* ------------------------------------------------------------------ element rules */

static int is(const xmlNode *n, const char *name)
{
	return n->name && strcmp((const char *)n->name, name) == 0;
}

static int attr_has_token(const xmlNode *n, const char *attr, const char *const *tokens)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	int hit = 0;

	if (!v)
		return 0;
	for (char *p = (char *)v; *p && !hit;) {
		size_t k;
		while (*p && isspace((unsigned char)*p))
			p++;
		k = strcspn(p, " \t\n\r\f");
		for (int i = 0; tokens[i] && !hit; i++)
			hit = k == strlen(tokens[i]) && strncasecmp(p, tokens[i], k) == 0;
		p += k;
	}
	xmlFree(v);
	return hit;
}

static int hidden(const xmlNode *n)
{
	xmlChar *style;
	int h = 0;

	if (xmlHasProp(n, (const xmlChar *)"hidden"))
		return 1;
	style = xmlGetProp(n, (const xmlChar *)"style");
	if (style) {
		char squeezed[128];
		size_t k = 0;
		for (const char *p = (const char *)style; *p && k + 1 < sizeof squeezed; p++)
			if (!isspace((unsigned char)*p))
				squeezed[k++] = (char)tolower((unsigned char)*p);
		squeezed[k] = '\0';
		h = strstr(squeezed, "display:none") != NULL;
		xmlFree(style);
	}
	return h;
}

/* The text under n (up to the size of buf), and how many of its non-space
 * characters are in links.  A link bar is small and shallow: at most BAR_DEPTH levels
 * and BAR_NODES nodes are looked at (*nodes counts them), or it is not one (*nodes
 * goes past the limit) — a page nested 100,000 deep must not cost 100,000^2. */
#define BAR_DEPTH 8
#define BAR_NODES 200
static void bar_text(const xmlNode *n, char *buf, size_t size, size_t *len, size_t *all, size_t *linked,
                     int in_link, int depth, int *nodes)
{
	if (depth > BAR_DEPTH) {
		*nodes = BAR_NODES + 1;
		return;
	}
	for (const xmlNode *c = n->children; c && *len + 1 < size && ++*nodes <= BAR_NODES; c = c->next) {
		if (c->type == XML_TEXT_NODE && c->content) {
			for (const xmlChar *p = c->content; *p && *len + 1 < size; p++) {
				buf[(*len)++] = (char)*p;
				if (!isspace(*p)) {
					(*all)++;
					*linked += in_link;
				}
			}
			buf[(*len)++] = ' ';
		} else if (c->type == XML_ELEMENT_NODE) {
			bar_text(c, buf, size, len, all, linked, in_link || is(c, "a"), depth + 1, nodes);
		}
	}
	buf[*len < size ? *len : size - 1] = '\0';
}

/* A bar of links between pages, outside the main content: makeinfo's "Next: ...,
 * Previous: ..., Up: ...", "Prev | Home | Next" rows.  Short, at least 40% link text,
 * and it says where the links go (two of the words below).  Lists of links are content (references, related
 * documents) and stay. */
static int link_bar(const xmlNode *n)
{
	static const char *const words[] = { "Next", "Previous", "Prev", "Up", "Home", "Top", NULL };
	char buf[320];
	size_t len = 0, all = 0, linked = 0;
	int hits = 0, nodes = 0;

	if (!(is(n, "div") || is(n, "p") || is(n, "table")))
		return 0;
	buf[0] = '\0';
	bar_text(n, buf, sizeof buf, &len, &all, &linked, 0, 0, &nodes);
	if (!all || len + 1 >= sizeof buf || nodes > BAR_NODES)
		return 0;
	for (int i = 0; words[i]; i++) {
		size_t k = strlen(words[i]);
		for (const char *p = buf; (p = strstr(p, words[i])); p += k)
			if ((p == buf || !isalpha((unsigned char)p[-1])) && !isalpha((unsigned char)p[k])) {
				hits++;
				break;
			}
	}
	return hits >= 2 && linked * 10 >= all * 4;
}

/* Is element n left out entirely? */
static int dropped(const struct writer *w, const xmlNode *n)
{
	static const char *const always[] = {
		"script", "style", "noscript", "template", "head", "nav", "svg", "math",
		"iframe", "object", "embed", "canvas", "select", "textarea", "button", "dialog",
		"frameset", "frame", NULL,
	};
	static const char *const roles[] = { "navigation", "complementary", "search", "doc-toc", NULL };
	static const char *const page_roles[] = { "banner", "contentinfo", NULL };
	static const char *const furniture[] = {
		"sphinxsidebar", "sphinxsidebarwrapper", "navbar", "navigation", "sidebar", "breadcrumb",
		"breadcrumbs", "skip-link", "skiplink", "cookie-banner", "navheader", "navfooter", "headerlink",
		"nav-panel", "navpath", "nav-path", "navrow1", "navrow2", "footer",
		"footer-text", "toc-backref", NULL,
	};
	/* asides that are the text's own: footnotes (docutils >= 0.18 writes them as
	 * <aside class="footnote">), notes and admonitions */
	static const char *const content[] = {
		"footnote", "footnote-list", "footnotes", "doc-footnote", "doc-endnote", "doc-endnotes", "endnote",
		"note", "admonition", "warning", "tip", "important", "caution", "topic", NULL,
	};

	for (int i = 0; always[i]; i++)
		if (is(n, always[i]))
			return 1;
	if (is(n, "aside") && !attr_has_token(n, "class", content) && !attr_has_token(n, "role", content) &&
	    !w->article)
		return 1;
	if (!w->article && (is(n, "header") || is(n, "footer") ||
	                    attr_has_token(n, "role", page_roles)))
		return 1;
	if (attr_has_token(n, "role", roles) || attr_has_token(n, "class", furniture) ||
	    attr_has_token(n, "id", furniture) || hidden(n))
		return 1;
	return !w->article && !w->cell && link_bar(n);
}

static int is_block(const xmlNode *n)
{
	static const char *const blocks[] = {
		"p", "div", "section", "article", "main", "header", "footer", "blockquote",
		"address", "figure", "figcaption", "details", "summary", "fieldset", "form",
		"center", "dl", "dt", "dd", "caption", "body", "html", "legend", "hgroup", NULL,
	};

	for (int i = 0; blocks[i]; i++)
		if (is(n, blocks[i]))
			return 1;
	return 0;
}

static int heading_level(const xmlNode *n)
{
	const char *s = (const char *)n->name;

	if (s && (s[0] == 'h' || s[0] == 'H') && s[1] >= '1' && s[1] <= '6' && !s[2])
		return s[1] - '0';
	return 0;
}

/* ------------------------------------------------------------------ walking */

/* Entering element n: write its opening; @return 1 to descend into its children. */
static int enter(struct writer *w, const xmlNode *n)
{
	int lv;

	if (n == w->skip || dropped(w, n))
		return 0;
	if (is(n, "main") || is(n, "article"))
		w->article++;
	if ((lv = heading_level(n)) && !w->cell && w->heading_at == SIZE_MAX) {
		static const char hashes[] = "###### ";
		want_break(w, 2);
		flush(w);
		w->heading_at = w->b->n;
		w->heading_level = lv;
		lr_sb_puts(w->b, hashes + 6 - lv);
		return 1;
	}
	if (is(n, "ul") || is(n, "ol") || is(n, "menu")) {
		if (w->lists < MAX_LIST) {
			xmlChar *start = xmlGetProp(n, (const xmlChar *)"start");
			w->ordered[w->lists] = is(n, "ol");
			long v = start ? strtol((const char *)start, NULL, 10) : 1;
			/* numbers go up from there: keep them far from overflowing */
			w->number[w->lists] = v > 1000000000L ? 1000000000L : v < -1000000000L ? -1000000000L : v;
			xmlFree(start);
		}
		w->lists++;
		want_break(w, w->lists == 1 ? 2 : 1);
		return 1;
	}
	if (is(n, "li")) {
		int k = w->lists > 0 ? w->lists - 1 : 0;
		want_break(w, 1);
		flush(w);
		/* indentation stops deepening at MAX_LIST levels (100,000 nested lists
		 * would otherwise write 10^10 spaces) */
		for (int i = 0; i < k && i < MAX_LIST && !w->cell; i++)
			lr_sb_puts(w->b, "  ");
		if (k < MAX_LIST && w->lists > 0 && w->ordered[k])
			lr_sb_printf(w->b, "%ld. ", w->number[k]++);
		else
			lr_sb_puts(w->b, "- ");
		return 1;
	}
	if (is(n, "pre")) {
		want_break(w, 2);
		mark(w, "```\n");
		w->pre++;
		return 1;
	}
	if (is(n, "code") || is(n, "kbd") || is(n, "samp") || is(n, "tt")) {
		if (!w->pre)
			mark(w, "`");
		return 1;
	}
	if (is(n, "table")) {
		if (w->cell) {
			w->space = 1;
			w->inner_rows = 0;
			return 1;
		}
		want_break(w, 2);
		w->rows = 0;
		return 1;
	}
	if (is(n, "tr") && !w->cell) {
		want_break(w, 1);
		w->row_cells = 0;
		w->row_th = 0;
		return 1;
	}
	if (is(n, "tr")) {
		/* a table inside a cell: its rows stay apart, as " / " in the outer cell */
		if (w->inner_rows++)
			mark(w, " / ");
		return 1;
	}
	if ((is(n, "td") || is(n, "th")) && !w->cell) {
		mark(w, w->row_cells ? " | " : "| ");
		w->row_cells++;
		w->row_th |= is(n, "th");
		w->cell++;
		return 1;
	}
	if (is(n, "td") || is(n, "th")) {
		/* a cell of a table inside a cell: counted, so leaving it cannot end the outer one */
		w->space = 1;
		w->cell++;
		return 1;
	}
	if (is(n, "br")) {
		if (w->pre)
			lr_sb_putc(w->b, '\n');
		else
			want_break(w, 1);
		return 0;
	}
	if (is(n, "hr")) {
		want_break(w, 2);
		mark(w, "---");
		want_break(w, 2);
		return 0;
	}
	if (is(n, "img")) {
		xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
		if (alt && *alt) {
			mark(w, "[image: ");
			text(w, (const char *)alt);
			lr_sb_putc(w->b, ']');
		}
		xmlFree(alt);
		return 0;
	}
	if (is(n, "dd")) {
		want_break(w, 1);
		mark(w, "  ");
		return 1;
	}
	if (is_block(n))
		want_break(w, is(n, "dt") || is(n, "div") ? 1 : 2);
	return 1;
}

static void leave(struct writer *w, const xmlNode *n)
{
	int lv;

	if (is(n, "main") || is(n, "article"))
		w->article--;
	if ((lv = heading_level(n)) && w->heading_at != SIZE_MAX && lv == w->heading_level) {
		size_t start = w->heading_at + (size_t)lv + 1;
		lr_sb_rtrim(w->b, " ");
		if (!lr_sb_failed(w->b)) {
			if (w->b->n <= start) {
				w->b->n = w->heading_at;          /* an empty heading: drop it */
				w->b->p[w->b->n] = '\0';
			} else if (!w->rc) {
				w->rc = lr_doc_anchor(w->d, LR_ANCHOR_HEADING, w->heading_at, (uint32_t)lv,
					(uint32_t)lv, w->b->p + start);
			}
		}
		w->heading_at = SIZE_MAX;
		w->space = 0;
		want_break(w, 2);
		return;
	}
	if (is(n, "ul") || is(n, "ol") || is(n, "menu")) {
		w->lists--;
		want_break(w, w->lists == 0 ? 2 : 1);
	} else if (is(n, "pre")) {
		w->pre--;
		if (w->b->n && w->b->p[w->b->n - 1] != '\n')
			lr_sb_putc(w->b, '\n');
		lr_sb_puts(w->b, "```");
		want_break(w, 2);
	} else if ((is(n, "code") || is(n, "kbd") || is(n, "samp") || is(n, "tt")) && !w->pre) {
		lr_sb_rtrim(w->b, " ");
		lr_sb_putc(w->b, '`');
	} else if ((is(n, "td") || is(n, "th")) && w->cell == 1) {
		w->cell--;
		w->space = 0;
	} else if ((is(n, "td") || is(n, "th")) && w->cell > 1) {
		w->cell--;
	} else if (is(n, "tr") && !w->cell) {
		if (w->row_cells) {
			lr_sb_puts(w->b, " |");
			if (w->rows == 0 && w->row_th) {
				lr_sb_putc(w->b, '\n');
				for (int i = 0; i < w->row_cells; i++)
					lr_sb_puts(w->b, "|---");
				lr_sb_putc(w->b, '|');
			}
			w->rows++;
		}
		want_break(w, 1);
	} else if (is(n, "table") && !w->cell) {
		want_break(w, 2);
	} else if (is_block(n) || is(n, "li")) {
		want_break(w, is(n, "li") || is(n, "dt") || is(n, "dd") || is(n, "div") ? 1 : 2);
	}
}

/* Walk the subtree at top without recursion, using the nodes' parent links. */
static void walk(struct writer *w, const xmlNode *top)
{
	const xmlNode *n = top;

	while (n && !w->rc && !lr_sb_failed(w->b)) {
		int down = 0;

		if (n->type == XML_ELEMENT_NODE)
			down = enter(w, n);
		else if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
			text(w, (const char *)n->content);
		if (down && n->children) {
			n = n->children;
			continue;
		}
		for (;;) {
			if (n->type == XML_ELEMENT_NODE && down)
				leave(w, n);
			if (n == top) {
				n = NULL;
				break;
			}
			if (n->next) {
				n = n->next;
				break;
			}
			n = n->parent;
			down = 1;   /* a parent we are climbing back to was entered */
		}
	}
}

/* The element holding the main content: <main>, role=main, or the only <article>. */
static const xmlNode *find_main(const xmlNode *root)
{
	static const char *const main_role[] = { "main", NULL };
	const xmlNode *n = root, *article = NULL;
	int articles = 0;

	while (n) {
		if (n->type == XML_ELEMENT_NODE) {
			if (is(n, "main") || attr_has_token(n, "role", main_role))
				return n;
			if (is(n, "article") && articles++ == 0)
				article = n;
			if (is(n, "script") || is(n, "style") || is(n, "head"))
				goto next;
		}
		if (n->children && n->type == XML_ELEMENT_NODE) {
			n = n->children;
			continue;
		}
next:
		while (n && !n->next && n != root)
			n = n->parent;
		if (!n || n == root)
			break;
		n = n->next;
	}
	return articles == 1 ? article : NULL;
}

static char *page_title(const xmlDoc *doc)
{
	const xmlNode *n = xmlDocGetRootElement(doc);
	struct lr_sb b = { 0 };
	struct writer w = { .b = &b, .heading_at = SIZE_MAX };

	/* html > head > title */
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && is(n, "head"))
			break;
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && is(n, "title"))
			break;
	if (!n)
		return NULL;
	for (n = n->children; n; n = n->next)
		if (n->type == XML_TEXT_NODE && n->content)
			text(&w, (const char *)n->content);
	if (b.n == 0) {
		lr_sb_release(&b);
		return NULL;
	}
	return lr_sb_take(&b);
}

/* ------------------------------------------------------------------ attribute cap */

#define MAX_ATTRS 1024   /* per tag; libxml2 checks each against the others: O(n^2) */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* The tag opening at s[i] ('<' and a letter): *end receives the index after its '>'
 * (or n), *cut where its attribute MAX_ATTRS + 1 starts (0 when it has no more). */
static void scan_tag(const char *s, size_t n, size_t i, size_t *end, size_t *cut)
{
	size_t count = 0;

	*cut = 0;
	for (i++; i < n && !is_ws(s[i]) && s[i] != '>' && s[i] != '/'; i++)
		;
	for (;;) {
		size_t at = i;
		while (i < n && (is_ws(s[i]) || s[i] == '/'))
			i++;
		if (i >= n || s[i] == '>')
			break;
		if (++count == MAX_ATTRS + 1)
			*cut = at;
		while (i < n && !is_ws(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/')
			i++;
		while (i < n && is_ws(s[i]))
			i++;
		if (i < n && s[i] == '=') {
			for (i++; i < n && is_ws(s[i]); i++)
				;
			if (i < n && (s[i] == '"' || s[i] == '\'')) {
				const char *q = memchr(s + i + 1, s[i], n - i - 1);
				i = q ? (size_t)(q - s) + 1 : n;
			} else {
				while (i < n && !is_ws(s[i]) && s[i] != '>')
					i++;
			}
		}
	}
	*end = i < n ? i + 1 : n;
}

/* Tags with more than MAX_ATTRS attributes lose the rest (a page with 110,000 on one
 * element took libxml2 a minute): *dropped counts the tags cut; out receives the page
 * only when something was cut. */
static void cap_attributes(const char *s, size_t n, struct lr_sb *out, uint64_t *dropped)
{
	size_t copied = 0, end, cut;

	*dropped = 0;
	for (const char *p = memchr(s, '<', n); p; p = memchr(s + end, '<', n - end)) {
		size_t i = (size_t)(p - s);
		end = i + 1;
		if (end >= n || !((s[end] | 0x20) >= 'a' && (s[end] | 0x20) <= 'z'))
			continue;
		scan_tag(s, n, i, &end, &cut);
		if (!cut)
			continue;
		lr_sb_putn(out, s + copied, cut - copied);
		lr_sb_putn(out, ">", 1);
		copied = end;
		(*dropped)++;
		if (end >= n)
			break;
	}
	if (*dropped)
		lr_sb_putn(out, s + copied, n - copied);
}

int lr_html_extract(struct lr_extract *x, struct lr_doc *d, const char *buf, size_t len)
{
	char label[64];
	struct lr_sb utf8 = { 0 }, out = { 0 }, capped = { 0 };
	uint64_t n_capped;
	struct writer w = { .b = &out, .d = d, .heading_at = SIZE_MAX };
	const xmlNode *root, *main_el;
	xmlDoc *doc = NULL;
	int rc;

	d->kind = LR_DOC_HTML;
	rc = lr_text_decode(d, buf, len, declared_charset(buf, len, label, sizeof label) ? label : NULL,
		&utf8);
	if (rc)
		goto out;
	if (utf8.n > INT32_MAX) {
		rc = lr_doc_fail(d, LR_ERANGE, LR_PROB_TOO_LARGE, LR_SEV_SKIP, "too large for the HTML parser");
		goto out;
	}
	cap_attributes(utf8.p ? utf8.p : "", utf8.n, &capped, &n_capped);
	if (lr_sb_failed(&capped)) {
		rc = LR_ENOMEM;
		goto out;
	}
	if (n_capped) {
		lr_sb_release(&utf8);
		utf8 = capped;
		capped = (struct lr_sb){ 0 };
		if ((rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, 0, n_capped, "%llu element%s with over %d "
			"attributes: the rest of their attributes were left out", (unsigned long long)n_capped,
			n_capped == 1 ? "" : "s", MAX_ATTRS)))
			goto out;
	}
	x->n_msgs = 0;
	x->html_stopped = 0;
	lr_html_quiet(x, 1);
	/* HUGE: sloppy pages (an unclosed <font> per paragraph) nest past the default
	 * 256 levels; the limit becomes 2,048, and past that the note below says so */
	doc = htmlReadMemory(utf8.p ? utf8.p : "", (int)utf8.n, NULL, "UTF-8",
		HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
		HTML_PARSE_COMPACT | XML_PARSE_HUGE);
	lr_html_quiet(x, 0);
	if (!doc) {
		if (utf8.n == 0)
			rc = lr_doc_problem(d, LR_PROB_EMPTY, LR_SEV_INFO, 0, 0, "empty file");
		else
			rc = lr_doc_fail(d, LR_EFORMAT, LR_PROB_FORMAT, LR_SEV_ERROR,
				"libxml2 could not parse it as HTML");
		goto out;
	}
	d->title = page_title(doc);
	root = xmlDocGetRootElement(doc);
	main_el = root ? find_main(root) : NULL;
	if (main_el) {
		walk(&w, main_el);
		w.skip = main_el;
		want_break(&w, 2);
	}
	/* the rest of the page (all of it when there is no main element); top-level
	 * siblings too, since recovery can leave text outside <html> */
	for (const xmlNode *n = doc->children; n && !w.rc; n = n->next)
		walk(&w, n);
	if ((rc = w.rc))
		goto out;
	lr_sb_rtrim(&out, " \n");
	if (out.n)
		lr_sb_putc(&out, '\n');
	if (lr_sb_failed(&out)) {
		rc = LR_ENOMEM;
		goto out;
	}
	rc = lr_doc_set_text(d, &out);
	if (!rc && x->html_stopped)
		rc = lr_doc_problem(d, LR_PROB_DAMAGED, LR_SEV_WARN, 0, 0, "elements nested too deep for the HTML "
			"parser (libxml2 stops at 2,048 levels): the rest of the page is left out");
	if (!rc && d->n_bytes == 0)
		rc = lr_doc_problem(d, LR_PROB_EMPTY, LR_SEV_INFO, 0, 0, "no text in the page");
out:
	xmlFreeDoc(doc);
	lr_sb_release(&capped);
	lr_sb_release(&utf8);
	lr_sb_release(&out);
	return rc == LR_ENOMEM ? LR_ENOMEM : 0;
}
