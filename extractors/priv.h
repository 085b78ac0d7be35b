/* extractors/priv.h — libextract's internal interfaces, shared by its files and by
 * its unit tests; not part of the public API (extract.h is). */
#ifndef LR_EXTRACT_PRIV_H
#define LR_EXTRACT_PRIV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "extractors/extract.h"

/* ------------------------------------------------------------------ growable strings
 * A NUL-terminated byte buffer.  Allocation failure is sticky: after one, every put is
 * a no-op and lr_sb_failed() is true, so builders check once at the end. */
struct lr_sb {
	char *p;      /* NUL-terminated when non-NULL */
	size_t n, cap;
	int oom;
};

void lr_sb_putn(struct lr_sb *b, const char *s, size_t n);
void lr_sb_puts(struct lr_sb *b, const char *s);
void lr_sb_putc(struct lr_sb *b, char c);
void lr_sb_put_cp(struct lr_sb *b, uint32_t cp);          /* UTF-8 encode cp */
void lr_sb_printf(struct lr_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lr_sb_failed(const struct lr_sb *b);
/* Take the buffer (never NULL unless out of memory): an empty buffer gives "". */
char *lr_sb_take(struct lr_sb *b);
void lr_sb_release(struct lr_sb *b);
/* Drop trailing characters in set from the buffer. */
void lr_sb_rtrim(struct lr_sb *b, const char *set);

/* ------------------------------------------------------------------ UTF-8 */

/* Decode one strictly valid UTF-8 sequence at s (n > 0 bytes left): its length 1..4
 * with *cp set, or 0 when the bytes there are not valid UTF-8 (overlong, surrogate,
 * truncated, > U+10FFFF). */
size_t lr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Count code points of valid UTF-8 text. */
uint64_t lr_utf8_count(const char *s, size_t n);

/* ------------------------------------------------------------------ text cleaning
 * Append decoded text to b: CRLF becomes LF, C0/C1 control characters other than
 * TAB, LF and FF are removed (counted in *n_control), U+FFFE/U+FFFF and U+FEFF
 * (BOM) are dropped, invalid UTF-8 becomes U+FFFD (counted in *n_replaced).
 * s may be any bytes. */
void lr_text_clean(struct lr_sb *b, const char *s, size_t n, uint64_t *n_replaced,
                   uint64_t *n_control);

/* ------------------------------------------------------------------ charsets (encoding.c) */

struct lr_decoded {
	char *text;          /* malloc'd UTF-8 (not yet cleaned of control characters) */
	size_t len;
	const char *charset; /* static name of what it was decoded from */
	uint64_t n_replaced; /* invalid sequences replaced by U+FFFD */
	int converted;       /* 1 when charset is not UTF-8/ASCII */
	int declared_wrong;  /* 1 when a declared charset did not fit the bytes */
	int declared_unknown;/* 1 when a declared charset is not one iconv knows */
};

/* Decode bytes to UTF-8.  declared: a charset label from the document (HTML meta,
 * XML declaration) or NULL.  Without a usable declaration the charset is detected:
 * BOM, then strict UTF-8, then mostly-UTF-8, then legacy CJK and Western charsets by
 * validity and script statistics (see docs/extract.md).  @return 0 or LR_ENOMEM. */
int lr_enc_decode(const char *buf, size_t len, const char *declared, struct lr_decoded *out);
/* Map a charset label ("shift_jis", "latin1", "gb2312") to the iconv name longread uses
 * for it, or NULL when unknown.  Static string. */
const char *lr_enc_canonical(const char *label);
/* Detect the charset of bytes with no declaration: a static iconv name. */
const char *lr_enc_detect(const char *buf, size_t len);

/* ------------------------------------------------------------------ glob and ignore rules */

/* Match a gitignore-style glob against a path ("src/a.c") whose components are
 * separated by '/':  '*' and '?' never match '/', "[a-z]" / "[!a]" classes, "\x"
 * escapes; a "**" component matches zero or more components (at the end: one or
 * more).  Linear-time per component pair (no exponential backtracking).
 * @return 1 on a match. */
int lr_glob_match(const char *pat, size_t plen, const char *path, size_t len);

struct lr_ignore;   /* a stack of rule sets, one per directory level */

int lr_ignore_new(struct lr_ignore **out);
void lr_ignore_free(struct lr_ignore *ig);
/* Parse the rules in text (a .gitignore file's contents) for the directory base (a
 * path relative to the tree root, "" for the root, no trailing '/') and push them as
 * one set.  @return 0 or LR_ENOMEM. */
int lr_ignore_push(struct lr_ignore *ig, const char *base, const char *text, size_t len,
                   const char *source);
/* Pop every set pushed for base (when leaving that directory). */
void lr_ignore_pop(struct lr_ignore *ig, const char *base);
/* Decide for rel (relative to the tree root): 1 ignored, -1 explicitly re-included by
 * a '!' rule, 0 no rule matched.  is_dir: rel is a directory. */
int lr_ignore_check(const struct lr_ignore *ig, const char *rel, int is_dir);
/* Load rules from a file path into set base (missing file: no-op).  @return 0/LR_ENOMEM */
int lr_ignore_load(struct lr_ignore *ig, const char *base, const char *file);

/* ------------------------------------------------------------------ documents (doc.c) */

struct lr_doc *lr_doc_new(enum lr_doc_kind kind, const char *path, const char *name);
/* Record a problem; returns 0 or LR_ENOMEM. */
int lr_doc_problem(struct lr_doc *d, enum lr_problem_kind kind, enum lr_severity sev,
                   uint32_t page, uint64_t count, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int lr_doc_anchor(struct lr_doc *d, enum lr_anchor_kind kind, uint64_t off, uint32_t number,
                  uint32_t level, const char *label);
/* Take b's contents as d's text, computing counts and line offsets.  @return 0/LR_ENOMEM */
int lr_doc_set_text(struct lr_doc *d, struct lr_sb *b);
/* Sort d's anchors by offset (stable). */
void lr_doc_sort_anchors(struct lr_doc *d);
/* Mark d failed (or skipped) with error code, kind and severity, text "".
 * @return 0 or LR_ENOMEM. */
int lr_doc_fail(struct lr_doc *d, int code, enum lr_problem_kind kind, enum lr_severity sev,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int lr_doclist_push(struct lr_doclist *l, struct lr_doc *d);

/* ------------------------------------------------------------------ the context */

struct lr_extract {
	struct lr_extract_opts o;   /* globs and password point into owned copies below */
	char *password;
	char **include, **exclude;
	struct lr_extract_stats st;
	/* quiet handlers (pdf.c / html.c install them; the previous ones restored) */
	unsigned glib_handler[3];
	int n_glib_handler;
	/* diagnostics the libraries emitted while the current file was read */
	char last_msg[256];
	uint64_t n_msgs;
	int html_stopped;           /* libxml2 stopped parsing the page (nesting too deep) */
};

/* Extractors for one file's bytes (or, for PDFs, the file itself).  They fill d and
 * return 0, or LR_ENOMEM; every other trouble is recorded in d. */
/* Decode buf (declared charset or NULL), note what decoding did as problems of d and
 * append the cleaned UTF-8 to b (text.c; html.c uses it too).  @return 0/LR_ENOMEM */
int lr_text_decode(struct lr_doc *d, const char *buf, size_t len, const char *declared,
                   struct lr_sb *b);
int lr_text_extract(struct lr_extract *x, struct lr_doc *d, const char *buf, size_t len);
int lr_html_extract(struct lr_extract *x, struct lr_doc *d, const char *buf, size_t len);
int lr_pdf_extract(struct lr_extract *x, struct lr_doc *d, const char *path,
                   const void *data, size_t len);
/* Walk a directory (tree.c).  @return 0, LR_ENOMEM, LR_EIO for the root itself. */
int lr_tree_extract(struct lr_extract *x, const char *path, struct lr_doclist *list,
                    struct lr_err *err);
/* Extract one file already known to exist (extract.c): sniff, limit, dispatch.
 * name: citation name; tree: the tree doc or NULL; st: its stat (from lstat/stat). */
struct stat;
int lr_extract_file(struct lr_extract *x, const char *path, const char *name,
                    const struct lr_doc *tree, const struct stat *st, struct lr_doclist *list,
                    struct lr_doc **out);
/* "./a//b" -> "a/b": the name shown for a path given by the user.  malloc'd. */
char *lr_display_name(const char *path);
/* Is name a code file by extension or well-known name? */
int lr_is_code_name(const char *name);
/* Install/remove the quiet glib and libxml2 handlers (pdf.c, html.c). */
void lr_pdf_quiet(struct lr_extract *x, int on);
void lr_html_quiet(struct lr_extract *x, int on);

/* Reading order for one PDF page (pdf_layout.c): chars[i] with box[i] (x0,y0,x1,y1,
 * y down) in poppler's order; writes the page's text in reading order to b, with
 * hyphenated line breaks joined.  @return 0 or LR_ENOMEM. */
struct lr_glyph {
	uint32_t cp;
	double x0, y0, x1, y1;
};
int lr_layout_page(const struct lr_glyph *g, size_t n, struct lr_sb *b);
/* A glyph's height, at least half a point (a box poppler gives no height). */
static inline double lr_glyph_height(const struct lr_glyph *g)
{
	double h = g->y1 - g->y0;

	return h > 0.5 ? h : 0.5;
}
/* Whether cp is a letter of a right-to-left script: Hebrew, Arabic, Syriac, Thaana,
 * N'Ko, their presentation forms. */
int lr_is_rtl(uint32_t cp);

/* pdf_rtl.c: poppler-glib's right-to-left text mended. */
#define LR_LOST_SPACE '\x01'  /* a space poppler's right-to-left text lost (lr_pdf_strip_marks) */
#define LR_ALONE_RTL '\x02'   /* the letter before was wrapped in marks alone (lr_pdf_strip_marks) */
/* Poppler's embedding marks taken out of page text t, in place (it does not grow);
 * LR_LOST_SPACE where it lost a word space, LR_ALONE_RTL after each letter it wrapped
 * alone; the PDF's own U+0001 and U+0002 become U+001A. */
void lr_pdf_strip_marks(char *t);
/* The lines of h[0..m) that glyphs *g[0..n) lack appended to them (*g is replaced);
 * @return the new count (n when out of memory). */
size_t lr_pdf_merge_lines(struct lr_glyph **g, size_t n, const struct lr_glyph *h, size_t m);
struct _PopplerPage;
/* Letters of page's lines that poppler's word and line selections have and g[0..n)
 * lacks: the most of the four selections. */
uint64_t lr_pdf_rtl_missing(struct _PopplerPage *page, const struct lr_glyph *g, size_t n);
/* Glyphs g[0..n) with the lines whose right-to-left letters poppler left alone (each in
 * embedding marks of its own, alone[k] set: glyphs it could not make words of, drawn
 * one by one or leftwards, kept in drawing order with misplaced spaces), and the lines
 * all of whose glyphs are marked, rebuilt from the page: ordered by position, spaces
 * from the gaps, in logical order.  out has room for 2n glyphs.  @return the count,
 * 0 only when out of memory (or n is 0). */
size_t lr_rtl_lines(const struct lr_glyph *g, size_t n, const unsigned char *alone, struct lr_glyph *out);

#endif
