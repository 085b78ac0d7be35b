/* src/corpus.h — turning the PATH arguments of extract, plan and ask into documents:
 * the extraction options and their help, standard input ('-'), one line on stderr per
 * input that failed or lost content, the summary line, and the exit status rules. */
#ifndef LR_CORPUS_H
#define LR_CORPUS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "extractors/extract.h"

#define LR_CORPUS_MAX_GLOBS 256

enum {
	LR_CORPUS_O_PASSWORD = 2000, LR_CORPUS_O_INCLUDE, LR_CORPUS_O_EXCLUDE, LR_CORPUS_O_MAXSIZE,
	LR_CORPUS_O_FOLLOW, LR_CORPUS_O_NOIGNORE, LR_CORPUS_O_NODEFAULT,
};

#define LR_CORPUS_OPTIONS \
	{ "password", required_argument, NULL, LR_CORPUS_O_PASSWORD }, \
	{ "include", required_argument, NULL, LR_CORPUS_O_INCLUDE }, \
	{ "exclude", required_argument, NULL, LR_CORPUS_O_EXCLUDE }, \
	{ "max-file-size", required_argument, NULL, LR_CORPUS_O_MAXSIZE }, \
	{ "follow-symlinks", no_argument, NULL, LR_CORPUS_O_FOLLOW }, \
	{ "no-ignore", no_argument, NULL, LR_CORPUS_O_NOIGNORE }, \
	{ "no-default-excludes", no_argument, NULL, LR_CORPUS_O_NODEFAULT }

struct lr_corpus {
	struct lr_extract_opts o;
	const char *include[LR_CORPUS_MAX_GLOBS], *exclude[LR_CORPUS_MAX_GLOBS];
	struct lr_extract *x;
	struct lr_doclist *docs;     /* after lr_corpus_extract */
	uint64_t missing;            /* PATHs that could not be opened at all */
	int first_error;             /* LR_E* of the first PATH that could not be opened */
	double seconds;              /* time spent extracting */
};

void lr_corpus_init(struct lr_corpus *c);
void lr_corpus_release(struct lr_corpus *c);

/* Handle an extraction option.  @return 0 handled, -1 not one, LR_EXIT_USAGE (printed). */
int lr_corpus_opt(struct lr_corpus *c, const char *cmd, int opt, const char *arg);
void lr_corpus_help(FILE *f);

/* Check the PATH arguments: at least one, '-' at most once.  @return 0 or
 * LR_EXIT_USAGE (printed for cmd). */
int lr_corpus_args(const char *cmd, char *const *paths, int n);

/* Extract every path (argv-style, "-" = standard input once) into c->docs.  A path that
 * cannot be opened is reported on stderr and counted in c->missing; with stop_on_missing
 * the call fails there instead (its error in err).  Failed and damaged files get one
 * line each on stderr.  @return 0, LR_ENOMEM, LR_EINVAL (a bad glob, '-' twice), or
 * with stop_on_missing the error of the missing path. */
int lr_corpus_extract(struct lr_corpus *c, char *const *paths, int n, const char *cmd,
                      int stop_on_missing, struct lr_err *err);

/* "longread: extract: 12 files read, ..." on stderr. */
void lr_corpus_summary(const struct lr_corpus *c);
/* The same summary ("12 files read, ...") into line (size > 0), NUL-terminated. */
void lr_corpus_summary_text(const struct lr_corpus *c, char *line, size_t size);

/* The exit status extract's rules give: 0 all read; LR_EXIT_PARTIAL some inputs failed
 * or were damaged; when nothing could be read, the code of the first failure (or 3
 * for a missing PATH). */
int lr_corpus_status(const struct lr_corpus *c);

/* 1 when nothing at all could be read: every file failed (none read) and not one
 * input was a readable document (an empty directory still counts as read). */
int lr_corpus_nothing_read(const struct lr_corpus *c);

/* 1 when at least one input gave a document with text to read: a file read (wholly or
 * in part), not a directory listing and not a skipped binary or oversized file. */
int lr_corpus_has_text(const struct lr_corpus *c);

#endif
