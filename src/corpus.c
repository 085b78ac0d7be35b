/* src/corpus.c — PATH arguments to documents, for extract, plan and ask: options,
 * standard input, per-input diagnostics, the summary line and the exit status. */
#include "src/corpus.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/buf.h"
#include "src/cli.h"
#include "src/run.h"

#define STDIN_LIMIT ((uint64_t)1 << 30)

void lr_corpus_init(struct lr_corpus *c)
{
	memset(c, 0, sizeof *c);
	c->o.include = c->include;
	c->o.exclude = c->exclude;
}

void lr_corpus_release(struct lr_corpus *c)
{
	lr_doclist_free(c->docs);
	lr_extract_free(c->x);
	c->docs = NULL;
	c->x = NULL;
}

/* "1048576", "512K", "1M", "2G" -> bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end == 'i' || *end == 'B')
		end += end[0] == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int lr_corpus_opt(struct lr_corpus *c, const char *cmd, int opt, const char *arg)
{
	switch (opt) {
	case LR_CORPUS_O_PASSWORD: c->o.password = arg; break;
	case LR_CORPUS_O_INCLUDE:
	case LR_CORPUS_O_EXCLUDE:
		if ((opt == LR_CORPUS_O_INCLUDE ? c->o.n_include : c->o.n_exclude) >= LR_CORPUS_MAX_GLOBS)
			return cli_usage(cmd, "too many globs (at most %d of each)", LR_CORPUS_MAX_GLOBS);
		if (!*arg)
			return cli_usage(cmd, "empty glob for --%s", opt == LR_CORPUS_O_INCLUDE ? "include" : "exclude");
		if (opt == LR_CORPUS_O_INCLUDE)
			c->include[c->o.n_include++] = arg;
		else
			c->exclude[c->o.n_exclude++] = arg;
		break;
	case LR_CORPUS_O_MAXSIZE:
		if (parse_size(arg, &c->o.max_file_size))
			return cli_usage(cmd, "invalid value '%s' for --max-file-size (expected bytes, "
				"e.g. 1048576, 512K or 2M)", arg);
		break;
	case LR_CORPUS_O_FOLLOW: c->o.flags |= LR_EXTRACT_FOLLOW_SYMLINKS; break;
	case LR_CORPUS_O_NOIGNORE: c->o.flags |= LR_EXTRACT_NO_IGNORE_FILES; break;
	case LR_CORPUS_O_NODEFAULT: c->o.flags |= LR_EXTRACT_NO_DEFAULT_EXCLUDES; break;
	default: return -1;
	}
	return 0;
}

void lr_corpus_help(FILE *f)
{
	fprintf(f,
	       "  --password P          password for encrypted PDFs (default: the environment\n"
	       "                        variable LONGREAD_PDF_PASSWORD)\n"
	       "  --include GLOB        in directories, read only files matching GLOB (repeatable)\n"
	       "  --exclude GLOB        in directories, leave out entries matching GLOB (repeatable)\n"
	       "  --max-file-size N     skip text, code and HTML files over N bytes (K, M, G\n"
	       "                        suffixes; default 1M); PDFs are not limited\n"
	       "  --follow-symlinks     follow symbolic links inside directories (loops are caught)\n"
	       "  --no-ignore           do not read .gitignore, .ignore or .git/info/exclude\n"
	       "  --no-default-excludes enter .git, node_modules, build, dist, vendor, ... too\n");
}

int lr_corpus_args(const char *cmd, char *const *paths, int n)
{
	int dashes = 0;

	if (n <= 0)
		return cli_usage(cmd, "missing PATH (a file, a directory, or '-' for standard input)");
	for (int i = 0; i < n; i++)
		dashes += strcmp(paths[i], "-") == 0;
	if (dashes > 1)
		return cli_usage(cmd, "standard input ('-') given twice");
	return 0;
}

/* One line on stderr per input (from index from) that failed or lost content. */
static void report_failures(const struct lr_doclist *docs, size_t from)
{
	for (size_t i = from; i < docs->n; i++) {
		const struct lr_doc *d = docs->v[i];
		if (d->status != LR_DOC_FAILED && d->status != LR_DOC_PARTIAL)
			continue;
		for (size_t k = 0; k < d->n_problems; k++)
			if (d->problems[k].severity == LR_SEV_ERROR) {
				if (d->status == LR_DOC_FAILED)
					cli_error("'%s': %s", d->path, d->problems[k].detail);
				else
					cli_warn("'%s': %s", d->path, d->problems[k].detail);
				break;
			}
	}
}

/* A stream as a document (standard input, a pipe named as a path: `<(cmd)`): a PDF up
 * to STDIN_LIMIT; anything else up to the --max-file-size limit and a byte more, so the
 * extractor skips it as too large without the rest being read (`yes | longread extract
 * -` ends at once).  what names it in messages. */
static int read_stream(struct lr_corpus *c, FILE *f, const char *what, char **buf, size_t *len,
                       struct lr_err *err)
{
	char chunk[65536];
	struct lr_buf b = { 0 };
	size_t max = 0, n;
	int pdf = -1;

	while ((n = fread(chunk, 1, pdf < 0 ? 1024 : sizeof chunk, f)) > 0) {
		if (pdf < 0) {
			pdf = memmem(chunk, n, "%PDF-", 5) != NULL;
			max = pdf ? STDIN_LIMIT : c->o.max_file_size ? c->o.max_file_size : LR_EXTRACT_DEFAULT_MAX_FILE;
		}
		lr_buf_add(&b, chunk, n);
		if (lr_buf_failed(&b) || b.n > max)
			break;
	}
	if (ferror(f)) {
		lr_buf_release(&b);
		return lr_errf_sys(err, errno, "cannot read %s", what);
	}
	lr_buf_add(&b, "", 1);
	if (lr_buf_failed(&b)) {
		lr_buf_release(&b);
		return lr_errf(err, LR_ENOMEM, "out of memory reading %s", what);
	}
	if (pdf > 0 && b.n - 1 > STDIN_LIMIT) {
		lr_buf_release(&b);
		return lr_errf(err, LR_ERANGE, "%s is over 1 GiB", what);
	}
	*buf = b.p;
	*len = b.n - 1;
	return 0;
}

/* A path that is a pipe (a FIFO, or a process substitution's /dev/fd/N): read like '-'.
 * @return 1 when path is one (*rc the result), 0 when it is something else. */
static int extract_pipe(struct lr_corpus *c, const char *path, int *rc, struct lr_err *err)
{
	struct stat st;
	char *buf, what[64];
	size_t len;
	FILE *f;

	if (stat(path, &st) != 0 || !S_ISFIFO(st.st_mode))
		return 0;
	snprintf(what, sizeof what, "'%.40s'", path);
	if (!(f = fopen(path, "rb"))) {
		*rc = lr_errf_sys(err, errno, "cannot open '%s'", path);
		return 1;
	}
	if ((*rc = read_stream(c, f, what, &buf, &len, err)) == 0) {
		*rc = lr_extract_buffer(c->x, path, buf, len, c->docs, err);
		free(buf);
	}
	fclose(f);
	return 1;
}

int lr_corpus_extract(struct lr_corpus *c, char *const *paths, int n, const char *cmd,
                      int stop_on_missing, struct lr_err *err)
{
	double t0 = lr_run_now();
	int stdin_used = 0, rc = 0;

	(void)cmd;
	if (!c->o.password) {
		const char *env = getenv("LONGREAD_PDF_PASSWORD");
		if (env && *env)
			c->o.password = env;
	}
	if ((rc = lr_extract_new(&c->x, &c->o, err)) || (rc = lr_doclist_new(&c->docs, err)))
		return rc;
	for (int i = 0; i < n; i++) {
		size_t before = c->docs->n;
		int r;

		if (strcmp(paths[i], "-") == 0) {
			char *buf;
			size_t len;
			if (stdin_used++)
				return lr_errf(err, LR_EINVAL, "standard input ('-') given twice");
			if ((r = read_stream(c, stdin, "standard input", &buf, &len, err)) == 0) {
				r = lr_extract_buffer(c->x, "-", buf, len, c->docs, err);
				free(buf);
			}
		} else if (!extract_pipe(c, paths[i], &r, err)) {
			r = lr_extract_path(c->x, paths[i], c->docs, err);
		}
		if (r == LR_ENOMEM)
			return r;
		if (r) {
			if (stop_on_missing)
				return r;
			cli_error("%s", err->msg);
			if (!c->missing++)
				c->first_error = r;
		}
		report_failures(c->docs, before);
	}
	c->seconds = lr_run_now() - t0;
	return 0;
}

void lr_corpus_summary_text(const struct lr_corpus *c, char *line, size_t size)
{
	const struct lr_extract_stats *st = lr_extract_stats(c->x);
	size_t n = 0;

	line[0] = 0;
#define ADD(...) do { int k_ = snprintf(line + n, size - n, __VA_ARGS__); \
		if (k_ > 0 && (size_t)k_ < size - n) n += (size_t)k_; } while (0)
	ADD("%" PRIu64 " file%s read", st->files_read, st->files_read == 1 ? "" : "s");
	if (st->files_partial)
		ADD(" (%" PRIu64 " damaged)", st->files_partial);
	for (int pass = 0; pass < 2; pass++) {
		uint64_t total = pass ? st->files_failed : st->files_skipped;
		int first = 1;
		if (!total)
			continue;
		ADD(", %" PRIu64 " %s (", total, pass ? "failed" : "skipped");
		for (int k = 0; k < LR_PROB_COUNT; k++) {
			int is_fail = k == LR_PROB_ENCRYPTED || k == LR_PROB_FORMAT || k == LR_PROB_IO ||
			              k == LR_PROB_DAMAGED || k == LR_PROB_PAGE_LOST;
			if (!st->skipped_by[k] || is_fail != pass)
				continue;
			ADD("%s%" PRIu64 " %s", first ? "" : ", ", st->skipped_by[k],
			    lr_problem_kind_name((enum lr_problem_kind)k));
			first = 0;
		}
		ADD(")");
	}
	if (st->ignored)
		ADD(", %" PRIu64 " ignored by ignore files", st->ignored);
	if (st->excluded)
		ADD(", %" PRIu64 " excluded by globs", st->excluded);
	if (c->missing)
		ADD(", %" PRIu64 " missing", c->missing);
	if (st->pages)
		ADD("; %" PRIu64 " PDF page%s", st->pages, st->pages == 1 ? "" : "s");
	if (st->pages_ocr)
		ADD(", %" PRIu64 " need%s OCR", st->pages_ocr, st->pages_ocr == 1 ? "s" : "");
	if (st->pages_lost)
		ADD(", %" PRIu64 " lost", st->pages_lost);
#undef ADD
}

void lr_corpus_summary(const struct lr_corpus *c)
{
	char line[1024];

	lr_corpus_summary_text(c, line, sizeof line);
	fflush(stdout);
	fprintf(stderr, "longread: extract: %s\n", line);
}

int lr_corpus_nothing_read(const struct lr_corpus *c)
{
	const struct lr_extract_stats *st = lr_extract_stats(c->x);

	if (st->files_read)
		return 0;
	for (size_t i = 0; i < c->docs->n; i++)
		if (c->docs->v[i]->status == LR_DOC_READ || c->docs->v[i]->status == LR_DOC_PARTIAL)
			return 0;
	return st->files_failed > 0 || c->missing > 0;
}

int lr_corpus_has_text(const struct lr_corpus *c)
{
	for (size_t i = 0; i < c->docs->n; i++) {
		const struct lr_doc *d = c->docs->v[i];
		if ((d->status == LR_DOC_READ || d->status == LR_DOC_PARTIAL) && d->kind != LR_DOC_TREE)
			return 1;
	}
	return 0;
}

int lr_corpus_status(const struct lr_corpus *c)
{
	const struct lr_extract_stats *st = lr_extract_stats(c->x);
	int first_fail = 0;

	for (size_t i = 0; i < c->docs->n && !first_fail; i++)
		if (c->docs->v[i]->status == LR_DOC_FAILED)
			first_fail = c->docs->v[i]->error;
	if (c->missing)
		return LR_EXIT_IO;
	if (st->files_failed && st->files_read == 0)
		return cli_exit_code(first_fail ? first_fail : LR_EFORMAT);
	if (st->files_failed || st->files_partial)
		return LR_EXIT_PARTIAL;
	return LR_EXIT_OK;
}
