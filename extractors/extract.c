/* extractors/extract.c — the extraction context and the dispatch of one input (file
 * or buffer) to its extractor: sniff the kind from the bytes and the name, apply the
 * size limit and the binary test, then pdf.c, html.c or text.c.  Workload: once per
 * file; reads at most max-file-size bytes of a text file (PDFs are read by poppler).
 *
 * Binary test (git's rule, plus one): a NUL byte in the first 8000 bytes, or more
 * than 10% of those bytes being control characters other than TAB, LF, CR, FF, VT and
 * ESC — unless the file starts with a UTF-16 BOM. */
#include "extractors/priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNIFF 8000

/* ------------------------------------------------------------------ context */

static char **copy_strv(const char *const *v, size_t n)
{
	char **c = calloc(n + 1, sizeof *c);

	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			for (size_t k = 0; k < i; k++)
				free(c[k]);
			free(c);
			return NULL;
		}
	return c;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int lr_extract_new(struct lr_extract **out, const struct lr_extract_opts *o,
                   struct lr_err *err)
{
	static const struct lr_extract_opts defaults = { 0 };
	struct lr_extract *x;

	*out = NULL;
	if (!o)
		o = &defaults;
	x = calloc(1, sizeof *x);
	if (!x)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	x->o = *o;
	if (!x->o.max_file_size)
		x->o.max_file_size = LR_EXTRACT_DEFAULT_MAX_FILE;
	if ((o->password && !(x->password = strdup(o->password))) ||
	    !(x->include = copy_strv(o->include, o->n_include)) ||
	    !(x->exclude = copy_strv(o->exclude, o->n_exclude))) {
		lr_extract_free(x);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < o->n_include + o->n_exclude; i++) {
		const char *g = i < o->n_include ? o->include[i] : o->exclude[i - o->n_include];
		if (!*g || strlen(g) > 4096) {
			lr_extract_free(x);
			return lr_errf(err, LR_EINVAL, "invalid glob '%.64s'", g);
		}
	}
	x->o.password = x->password;
	x->o.include = (const char *const *)x->include;
	x->o.exclude = (const char *const *)x->exclude;
	lr_pdf_quiet(x, 1);
	*out = x;
	return 0;
}

void lr_extract_free(struct lr_extract *x)
{
	if (!x)
		return;
	lr_pdf_quiet(x, 0);
	if (x->password)
		memset(x->password, 0, strlen(x->password));
	free(x->password);
	free_strv(x->include);
	free_strv(x->exclude);
	free(x);
}

const struct lr_extract_stats *lr_extract_stats(const struct lr_extract *x)
{
	static const struct lr_extract_stats none;

	return x ? &x->st : &none;
}

/* ------------------------------------------------------------------ sniffing */

enum sniffed { S_PDF, S_NOT_PDF, S_HTML, S_BINARY, S_TEXT };

static int ext_is(const char *name, const char *const *exts)
{
	const char *base = strrchr(name, '/');
	const char *dot;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return 0;
	for (int i = 0; exts[i]; i++)
		if (strcasecmp(dot + 1, exts[i]) == 0)
			return 1;
	return 0;
}

static int looks_binary(const unsigned char *s, size_t n)
{
	size_t ctl = 0;

	if (n >= 2 && ((s[0] == 0xff && s[1] == 0xfe) || (s[0] == 0xfe && s[1] == 0xff)))
		return 0;
	if (n > SNIFF)
		n = SNIFF;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == 0)
			return 1;
		if (s[i] < 0x20 && !strchr("\t\n\r\f\v\x1b", s[i]))
			ctl++;
	}
	return ctl * 10 > n;
}

static int looks_html(const unsigned char *s, size_t n)
{
	size_t i = 0;

	if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		i = 3;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	/* skip comments before the doctype */
	while (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		const unsigned char *e = memmem(s + i, n - i, "-->", 3);
		if (!e)
			return 0;
		i = (size_t)(e - s) + 3;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			i++;
	}
	return (n - i >= 14 && strncasecmp((const char *)s + i, "<!doctype html", 14) == 0) ||
	       (n - i >= 5 && strncasecmp((const char *)s + i, "<html", 5) == 0);
}

static enum sniffed sniff(const char *name, const unsigned char *head, size_t n)
{
	static const char *const pdf[] = { "pdf", NULL };
	static const char *const html[] = { "html", "htm", "xhtml", "shtml", NULL };
	size_t k = n < 1024 ? n : 1024;

	if (k >= 5 && memmem(head, k, "%PDF-", 5))
		return S_PDF;
	if (ext_is(name, pdf))
		return S_NOT_PDF;
	if (looks_binary(head, n))
		return S_BINARY;
	if (ext_is(name, html) || looks_html(head, n))
		return S_HTML;
	return S_TEXT;
}

/* ------------------------------------------------------------------ one input */

static void count(struct lr_extract *x, struct lr_doc *d)
{
	enum lr_problem_kind why = LR_PROB_COUNT;

	if (d->status == LR_DOC_READ && lr_doc_worst(d) == LR_SEV_ERROR) {
		d->status = LR_DOC_PARTIAL;
		for (size_t i = 0; i < d->n_problems && !d->error; i++)
			if (d->problems[i].severity == LR_SEV_ERROR)
				d->error = d->problems[i].kind == LR_PROB_IO ? LR_EIO : LR_EFORMAT;
	}
	for (size_t i = 0; i < d->n_problems; i++)
		if (d->problems[i].severity >= LR_SEV_SKIP) {
			why = d->problems[i].kind;
			break;
		}
	switch (d->status) {
	case LR_DOC_PARTIAL:
		x->st.files_partial++;
		/* fall through */
	case LR_DOC_READ:
		x->st.files_read++;
		x->st.bytes_in += d->file_bytes;
		x->st.bytes_out += d->n_bytes;
		break;
	case LR_DOC_SKIPPED:
		x->st.files_skipped++;
		if (why < LR_PROB_COUNT)
			x->st.skipped_by[why]++;
		break;
	case LR_DOC_FAILED:
		x->st.files_failed++;
		if (why < LR_PROB_COUNT)
			x->st.skipped_by[why]++;
		break;
	}
}

/* Dispatch bytes already in memory; path is given for PDFs read from a file. */
static int dispatch(struct lr_extract *x, struct lr_doc *d, const char *name,
                    const char *buf, size_t len, const char *pdf_path)
{
	switch (sniff(name, (const unsigned char *)buf, len)) {
	case S_PDF:
		return lr_pdf_extract(x, d, pdf_path, pdf_path ? NULL : buf, len);
	case S_NOT_PDF:
		d->kind = LR_DOC_PDF;
		return lr_doc_fail(d, LR_EFORMAT, LR_PROB_FORMAT, LR_SEV_ERROR,
			len ? "not a PDF file (no %%PDF- header)" : "empty file, not a PDF");
	case S_BINARY:
		d->kind = LR_DOC_OTHER;
		return lr_doc_fail(d, 0, LR_PROB_BINARY, LR_SEV_SKIP, "binary file, not read");
	case S_HTML:
		if (len > x->o.max_file_size)
			break;
		return lr_html_extract(x, d, buf, len);
	case S_TEXT:
		if (len > x->o.max_file_size)
			break;
		d->kind = lr_is_code_name(name) ? LR_DOC_CODE : LR_DOC_TEXT;
		return lr_text_extract(x, d, buf, len);
	}
	return lr_doc_fail(d, 0, LR_PROB_TOO_LARGE, LR_SEV_SKIP,
		"%llu bytes, over the %llu-byte limit (--max-file-size)",
		(unsigned long long)len, (unsigned long long)x->o.max_file_size);
}

/* Read up to max bytes of fd into a new buffer.  @return 0, LR_ENOMEM, or LR_EIO
 * with errno kept. */
static int read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return LR_ENOMEM;
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *p;
			if (cap >= max)
				break;
			cap = cap * 2 < max ? cap * 2 : max;
			p = realloc(buf, cap);
			if (!p) {
				free(buf);
				return LR_ENOMEM;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			errno = e;
			return LR_EIO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int lr_extract_file(struct lr_extract *x, const char *path, const char *name,
                    const struct lr_doc *tree, const struct stat *st, struct lr_doclist *list,
                    struct lr_doc **out)
{
	struct lr_doc *d = lr_doc_new(LR_DOC_TEXT, path, name);
	unsigned char head[SNIFF];
	char *buf = NULL;
	size_t len = 0;
	ssize_t nh;
	int fd = -1, rc = 0;

	if (out)
		*out = d;
	if (!d || lr_doclist_push(list, d)) {
		lr_doc_free(d);
		if (out)
			*out = NULL;
		return LR_ENOMEM;
	}
	d->tree = tree;
	d->file_bytes = (uint64_t)st->st_size;
	if (!S_ISREG(st->st_mode)) {
		d->kind = LR_DOC_OTHER;
		rc = lr_doc_fail(d, 0, LR_PROB_SPECIAL, LR_SEV_SKIP,
			"not a regular file (FIFO, socket or device), not read");
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = lr_doc_fail(d, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot open: %s",
			strerror(errno));
		goto out;
	}
	do
		nh = read(fd, head, sizeof head);
	while (nh < 0 && errno == EINTR);
	if (nh < 0) {
		rc = lr_doc_fail(d, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot read: %s",
			strerror(errno));
		goto out;
	}
	{
		enum sniffed s = sniff(name, head, (size_t)nh);
		if (s == S_PDF) {
			close(fd);
			fd = -1;
			rc = lr_pdf_extract(x, d, path, NULL, 0);
			goto out;
		}
		if ((s == S_TEXT || s == S_HTML) && (uint64_t)st->st_size > x->o.max_file_size) {
			d->kind = s == S_HTML ? LR_DOC_HTML : lr_is_code_name(name) ? LR_DOC_CODE : LR_DOC_TEXT;
			rc = lr_doc_fail(d, 0, LR_PROB_TOO_LARGE, LR_SEV_SKIP,
				"%llu bytes, over the %llu-byte limit (--max-file-size)",
				(unsigned long long)st->st_size, (unsigned long long)x->o.max_file_size);
			goto out;
		}
		if (s == S_BINARY || s == S_NOT_PDF) {
			rc = dispatch(x, d, name, (const char *)head, (size_t)nh, NULL);
			goto out;
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		rc = lr_doc_fail(d, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot seek: %s",
			strerror(errno));
		goto out;
	}
	/* one byte over the limit tells a file that grew since stat */
	rc = read_fd(fd, x->o.max_file_size + 1, &buf, &len);
	if (rc == LR_EIO) {
		rc = lr_doc_fail(d, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot read: %s",
			strerror(errno));
		goto out;
	}
	if (rc)
		goto out;
	d->file_bytes = len;
	rc = dispatch(x, d, name, buf, len, path);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	count(x, d);
	return rc == LR_ENOMEM ? LR_ENOMEM : 0;
}

int lr_extract_buffer(struct lr_extract *x, const char *name, const void *data, size_t len,
                      struct lr_doclist *list, struct lr_err *err)
{
	struct lr_doc *d = lr_doc_new(LR_DOC_TEXT, name, name);
	int rc;

	if (!d || lr_doclist_push(list, d)) {
		lr_doc_free(d);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	d->file_bytes = len;
	rc = dispatch(x, d, name, data ? data : "", data ? len : 0, NULL);
	count(x, d);
	return rc ? lr_errf(err, LR_ENOMEM, "out of memory") : 0;
}

/* "./a//b/" -> "a/b/" for display: drop leading "./", squeeze slashes. */
char *lr_display_name(const char *path)
{
	char *s = malloc(strlen(path) + 1), *o = s;
	const char *p = path;

	if (!s)
		return NULL;
	while (p[0] == '.' && p[1] == '/' && p[2])
		for (p += 2; *p == '/'; p++)
			;
	for (; *p; p++)
		if (!(*p == '/' && o > s && o[-1] == '/'))
			*o++ = *p;
	*o = '\0';
	return s;
}

int lr_extract_path(struct lr_extract *x, const char *path, struct lr_doclist *list,
                    struct lr_err *err)
{
	struct stat st;
	char *name;
	int rc;

	if (stat(path, &st) != 0)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	if (S_ISDIR(st.st_mode))
		return lr_tree_extract(x, path, list, err);
	name = lr_display_name(path);
	if (!name)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	rc = lr_extract_file(x, path, name, NULL, &st, list, NULL);
	free(name);
	return rc ? lr_errf(err, rc, "out of memory") : 0;
}
