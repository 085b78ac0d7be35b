/* extractors/extract.h — libextract: turn input paths (PDF, HTML, source trees, text)
 * into documents of UTF-8 text with provenance (anchors) and a health record
 * (problems).  The library never prints or exits; it installs quiet handlers for
 * libxml2's and poppler/glib's diagnostics while a context exists.
 *
 * Use:
 *     struct lr_extract_opts o = { .password = pw };
 *     struct lr_extract *x;  struct lr_doclist *docs;
 *     lr_extract_new(&x, &o, &err);  lr_doclist_new(&docs, &err);
 *     for each path: lr_extract_path(x, path, docs, &err);   // appends documents
 *     ... docs->v[0 .. docs->n-1] in a stable order ...
 *     lr_doclist_free(docs);  lr_extract_free(x);
 *
 * Every input file yields exactly one document (read, partial, skipped or failed);
 * a directory yields a tree document (its listing) followed by one document per file.
 * Files ignored by .gitignore-style rules yield none and are only counted.
 *
 * Untrusted input: every file may be hostile.  Sizes, nesting depth and pattern
 * matching are bounded; a file that cannot be read becomes a failed document with a
 * problem saying why, never a crash.  PDF parsing is poppler's (keep poppler updated);
 * HTML parsing is libxml2's with network access disabled.
 *
 * Threads: one context at a time per process (it installs process-wide log
 * handlers); documents are plain data and may be read from any thread. */
#ifndef LR_EXTRACT_H
#define LR_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* Write "libxml2 x, poppler y" (run-time versions) to buf, NUL-terminated. */
void lr_extract_versions(char *buf, size_t size);

/* ------------------------------------------------------------------ documents */

enum lr_doc_kind {
	LR_DOC_TEXT,   /* plain text, Markdown, anything text-like that is not code */
	LR_DOC_CODE,   /* source code (by file name: extension or well-known name) */
	LR_DOC_PDF,
	LR_DOC_HTML,
	LR_DOC_TREE,   /* the listing of a directory given as input */
	LR_DOC_OTHER,  /* a skipped entry whose content was never classified (binary, dir) */
};

enum lr_doc_status {
	LR_DOC_READ,     /* text complete (it may still carry warnings, e.g. OCR pages) */
	LR_DOC_PARTIAL,  /* read, but part of the input was lost to damage (see problems) */
	LR_DOC_SKIPPED,  /* deliberately not read: binary, too large, excluded dir, link */
	LR_DOC_FAILED,   /* could not be read at all: see error and problems */
};

enum lr_anchor_kind {
	LR_ANCHOR_PAGE,     /* a PDF page starts: number = 1-based page, label = page label */
	LR_ANCHOR_HEADING,  /* an HTML heading: number = level 1..6, label = heading text */
	LR_ANCHOR_OUTLINE,  /* a PDF outline (bookmark) entry: number = page, level in .level */
	LR_ANCHOR_FILE,     /* in a tree listing: label = the file's name in the tree */
};

struct lr_anchor {
	enum lr_anchor_kind kind;
	uint64_t offset;   /* byte offset into the document's text where it applies */
	uint32_t number;   /* see the kind */
	uint32_t level;    /* nesting level (outline, heading), 1 = top */
	char *label;       /* owned by the document; NULL when there is none */
};

enum lr_severity {
	LR_SEV_INFO,     /* worth knowing; nothing lost (converted from Latin-1, ignored dir) */
	LR_SEV_WARN,     /* content degraded or missing for a stated reason (OCR, U+FFFD) */
	LR_SEV_SKIP,     /* the input was deliberately not read (binary, too large) */
	LR_SEV_ERROR,    /* the input or part of it could not be read (damage, password) */
};

enum lr_problem_kind {
	LR_PROB_NEEDS_OCR,      /* a PDF page has no text layer but has images: page */
	LR_PROB_REPLACED,       /* bytes that could not be decoded became U+FFFD: count */
	LR_PROB_CONVERTED,      /* text was converted from a legacy charset (detail names it) */
	LR_PROB_CHARSET,        /* a declared charset was wrong or unknown (detail says) */
	LR_PROB_CONTROL,        /* control characters were removed: count */
	LR_PROB_BINARY,         /* skipped: the file looks binary */
	LR_PROB_TOO_LARGE,      /* skipped: over the size limit: count = file size */
	LR_PROB_EXCLUDED_DIR,   /* skipped: a default-excluded directory (.git, node_modules…) */
	LR_PROB_SYMLINK,        /* skipped: a symbolic link not followed, a loop, a duplicate */
	LR_PROB_SPECIAL,        /* skipped: not a regular file (FIFO, socket, device) */
	LR_PROB_EMPTY,          /* the file or page has no text (not an error) */
	LR_PROB_PAGE_LOST,      /* a PDF page could not be read: page */
	LR_PROB_DAMAGED,        /* the file is truncated or corrupt; what was recovered is kept */
	LR_PROB_ENCRYPTED,      /* encrypted and the password is missing or wrong */
	LR_PROB_FORMAT,         /* not what its name says, or rejected by the parser */
	LR_PROB_IO,             /* the OS refused to open or read it */
	LR_PROB_TOO_DEEP,       /* directory nesting beyond the limit was not entered */
	LR_PROB_COUNT
};

struct lr_problem {
	enum lr_problem_kind kind;
	enum lr_severity severity;
	uint32_t page;     /* 1-based PDF page it concerns, 0 if none */
	uint64_t count;    /* how many (characters, bytes, pages), 0 if not counted */
	char *detail;      /* one line, owned by the document; never NULL */
};

struct lr_doc {
	char *path;        /* the file as it can be opened: the argument, or the argument
	                      joined with the path inside a tree ("repo/src/a.c") */
	char *name;        /* the name to cite: the path relative to the tree root for
	                      files found in a directory ("src/a.c"), else the argument */
	char *title;       /* document title (PDF metadata, HTML <title>), or NULL */
	enum lr_doc_kind kind;
	enum lr_doc_status status;
	int error;         /* LR_E* code when status is LR_DOC_FAILED (or the damage for
	                      PARTIAL), else 0 */
	const char *encoding;  /* static charset name the bytes were decoded from
	                          ("UTF-8", "CP1252", "SHIFT_JIS"…), or NULL for PDFs */

	char *text;        /* UTF-8, NUL-terminated, always valid UTF-8; "" when skipped */
	uint64_t n_bytes;  /* strlen(text) */
	uint64_t n_chars;  /* Unicode code points in text */
	uint64_t file_bytes;   /* size of the source file */
	uint32_t n_pages;      /* PDF: pages in the file (read or not); 0 otherwise */

	uint64_t *line_off;    /* [n_lines] byte offset of each line's start; line k (1-based)
	                          starts at line_off[k-1]; lines end with '\n' */
	uint64_t n_lines;

	struct lr_anchor *anchors;   /* [n_anchors], sorted by offset, stable */
	size_t n_anchors;
	struct lr_problem *problems; /* [n_problems] in the order found */
	size_t n_problems;

	const struct lr_doc *tree;   /* borrowed: the tree document this file was found in,
	                                or NULL for a file named directly */
};

/* ------------------------------------------------------------------ document lists */

struct lr_doclist {
	struct lr_doc **v;   /* [n] documents in extraction order (see lr_extract_path) */
	size_t n, cap;
};

/* A new, empty list.  @return 0 or LR_ENOMEM.  Free with lr_doclist_free. */
int lr_doclist_new(struct lr_doclist **out, struct lr_err *err);
/* Free the list and every document in it.  NULL is fine. */
void lr_doclist_free(struct lr_doclist *l);

/* Documents as bytes, for saved contexts (.lrc files): docs[0..n) with their text,
 * provenance, anchors and problems (a document's tree link is kept when its tree
 * document comes earlier in docs).  *out is a new buffer (free()) of *len bytes.
 * Errors: LR_ENOMEM. */
int lr_doclist_save(const struct lr_doc *const *docs, size_t n, char **out, size_t *len,
                    struct lr_err *err);

/* Rebuild a list from lr_doclist_save's bytes.  The bytes are untrusted: every count,
 * length, enum and offset is checked, text must be valid UTF-8, line tables are
 * rebuilt from it.  *out is a new list (lr_doclist_free).  Errors: LR_EFORMAT
 * (damaged), LR_EUNSUPPORTED (a newer version), LR_ENOMEM. */
int lr_doclist_load(struct lr_doclist **out, const void *data, size_t len, struct lr_err *err);

/* Free one document that is not in a list (lists free their own). */
void lr_doc_free(struct lr_doc *d);

/* The 1-based line that contains byte offset off (the last line for off >= n_bytes);
 * 0 for a document with no lines.  O(log n_lines). */
uint64_t lr_doc_line_at(const struct lr_doc *d, uint64_t off);

/* The page anchor whose page contains byte offset off, or NULL (not a PDF, or before
 * the first page).  Borrowed from d. */
const struct lr_anchor *lr_doc_page_at(const struct lr_doc *d, uint64_t off);

/* The worst severity among d's problems, or -1 when it has none. */
int lr_doc_worst(const struct lr_doc *d);

/* Static names for printing and JSON: "pdf", "read", "needs-ocr", "warning"… */
const char *lr_doc_kind_name(enum lr_doc_kind k);
const char *lr_doc_status_name(enum lr_doc_status s);
const char *lr_anchor_kind_name(enum lr_anchor_kind k);
const char *lr_problem_kind_name(enum lr_problem_kind k);
const char *lr_severity_name(enum lr_severity s);

/* ------------------------------------------------------------------ extraction */

enum {
	LR_EXTRACT_FOLLOW_SYMLINKS = 1 << 0, /* follow links inside trees (loops are caught) */
	LR_EXTRACT_NO_IGNORE_FILES = 1 << 1, /* do not read .gitignore/.ignore/info/exclude */
	LR_EXTRACT_NO_DEFAULT_EXCLUDES = 1 << 2, /* enter .git, node_modules, build, … */
};

#define LR_EXTRACT_DEFAULT_MAX_FILE (1u << 20)   /* 1 MiB */

struct lr_extract_opts {
	const char *password;      /* for encrypted PDFs, or NULL; copied by lr_extract_new */
	const char *const *include;  /* [n_include] globs: when any, only files found in a
	                                directory that match one are read */
	size_t n_include;
	const char *const *exclude;  /* [n_exclude] globs: files and directories found in a
	                                directory that match one are left out */
	size_t n_exclude;
	uint64_t max_file_size;    /* bytes; text, code and HTML files larger are skipped;
	                              0 = LR_EXTRACT_DEFAULT_MAX_FILE.  PDFs are not limited
	                              by file size (images and fonts dominate it). */
	unsigned flags;            /* LR_EXTRACT_* */
};

/* Counters of a context's whole run, for the summary line. */
struct lr_extract_stats {
	uint64_t files_read;       /* documents READ or PARTIAL (files, not trees) */
	uint64_t files_partial;
	uint64_t files_failed;
	uint64_t files_skipped;
	uint64_t skipped_by[LR_PROB_COUNT];  /* skipped or failed files, by problem kind */
	uint64_t ignored;          /* entries left out by ignore files (no document) */
	uint64_t excluded;         /* entries left out by --exclude or not --include'd */
	uint64_t pages;            /* PDF pages read */
	uint64_t pages_ocr;        /* PDF pages that need OCR */
	uint64_t pages_lost;       /* PDF pages lost to damage */
	uint64_t bytes_in;         /* source bytes of the files read */
	uint64_t bytes_out;        /* text bytes produced */
};

struct lr_extract;

/* A new extraction context with options o (NULL for defaults; the globs and the
 * password are copied).  Installs libxml2 and glib log handlers that keep the
 * libraries quiet (their messages become problems); lr_extract_free restores them.
 * @return 0, LR_EINVAL (a glob that cannot be parsed), LR_ENOMEM. */
int lr_extract_new(struct lr_extract **out, const struct lr_extract_opts *o,
                   struct lr_err *err);
void lr_extract_free(struct lr_extract *x);

/* Extract path (a file or a directory) and append its documents to list.
 * A file gives one document.  A directory gives a tree document and then one document
 * per file below it, depth first, in each directory files before subdirectories,
 * names in byte order (strcmp); see docs/extract.md.  Per-file trouble (damage, a
 * missing password, binary content) never fails the call: it is recorded in that
 * file's document.
 * @return 0; LR_EIO if path itself cannot be found or opened (err says why, with
 * sys_errno); LR_ENOMEM (the list keeps what was appended). */
int lr_extract_path(struct lr_extract *x, const char *path, struct lr_doclist *list,
                    struct lr_err *err);

/* Extract a document held in memory (e.g. standard input), named name.  The kind is
 * sniffed from the bytes and the name as for a file.  @return 0 or LR_ENOMEM. */
int lr_extract_buffer(struct lr_extract *x, const char *name, const void *data, size_t len,
                      struct lr_doclist *list, struct lr_err *err);

/* Counters accumulated by every call so far.  Borrowed; valid until lr_extract_free.  NULL
 * (no context: documents that came from elsewhere, e.g. a saved window) gives all zeros. */
const struct lr_extract_stats *lr_extract_stats(const struct lr_extract *x);

/* ------------------------------------------------------------------ rendering */

enum {
	LR_RENDER_LINE_NUMBERS = 1 << 0,  /* prefix each line of text and code with "N\t" */
	LR_RENDER_OUTLINE      = 1 << 1,  /* list a PDF's outline after its header */
};

/* The text the model reads for d: a header line (<document name=… kind=… pages=…>),
 * page markers "[name p.N]" (with the label when it differs), the text, and
 * "</document>".  Skipped and failed documents render as one header line with the
 * reason.  *out is a new NUL-terminated string (free with free()), *len its length.
 * @return 0 or LR_ENOMEM. */
int lr_doc_render(const struct lr_doc *d, unsigned flags, char **out, size_t *len,
                  struct lr_err *err);

/* What lr_doc_render_with can do beyond the flags (zero-initialised = lr_doc_render). */
struct lr_render_opts {
	unsigned flags;          /* LR_RENDER_* */
	uint32_t line_step;      /* with LR_RENDER_LINE_NUMBERS: number line 1 and every
	                            line_step-th line (10, 20, ...); 0 or 1 = every line */
	uint32_t id;             /* > 0: an id="N" attribute first in the header */
	uint64_t *line_pos;      /* NULL, or the caller's array of d->n_lines + 1 entries that
	                            receives where the output for each line begins: entry k-1
	                            for line k (before a page marker that precedes the line),
	                            entry n_lines where "</document>" begins.  Cutting the
	                            output at line_pos[k] keeps exactly lines 1..k.  For
	                            documents rendered without a body every entry is *len. */
};

/* lr_doc_render with options.  @return 0 or LR_ENOMEM. */
int lr_doc_render_with(const struct lr_doc *d, const struct lr_render_opts *o, char **out,
                       size_t *len, struct lr_err *err);

/* Whether a document name ("src/net/retry.c") matches glob with the rules of
 * --include/--exclude: .gitignore syntax; a glob without '/' matches the last
 * component, one with '/' (or a leading '/') the whole name; a trailing '/' (a
 * directory glob) never matches a file.  @return 1 on a match. */
int lr_extract_glob_match(const char *glob, const char *name);

#endif
