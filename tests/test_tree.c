/* tests/test_tree.c — directory walks (extractors/tree.c) on a tree built here with
 * one case per rule: the documented order, .gitignore (nested, negation, directory,
 * anchored and "**" patterns), .ignore, .git/info/exclude, default-excluded
 * directories, binary and oversized files, a FIFO, symbolic links and a link loop,
 * --include/--exclude, and rules from an enclosing work tree's root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extractors/extract.h"
#include "tests/tap.h"

static char root[1024];

static void put(const char *rel, const char *data, size_t n)
{
	char path[2048], dir[2048];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	/* make the parent directories */
	for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof dir, "%.*s", (int)(p - path), path);
		mkdir(dir, 0755);
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
}

#define PUT(rel, s) put(rel, s, sizeof s - 1)

static void build_tree(void)
{
	char cmd[1200], big[2000], path[2048];

	snprintf(root, sizeof root, "%s/tree-%ld/repo", tap_tmpdir(), (long)getpid());
	snprintf(cmd, sizeof cmd, "rm -rf '%s/tree-%ld' && mkdir -p '%s'", tap_tmpdir(), (long)getpid(), root);
	if (system(cmd) != 0)
		exit(1);
	PUT(".git/info/exclude", "*.secret\n");
	PUT(".git/HEAD", "ref: refs/heads/main\n");
	PUT(".gitignore", "# build outputs\n*.log\n!keep.log\nbuild-out/\n/only-root.txt\nfoo/**/bar.txt\n");
	PUT(".ignore", "dot-ignored.txt\n");
	PUT("a.c", "int a;\n");
	PUT("B.txt", "upper case sorts first\n");
	PUT("keep.log", "kept by negation\n");
	PUT("x.log", "ignored\n");
	PUT("only-root.txt", "ignored: anchored\n");
	PUT("dot-ignored.txt", "ignored by .ignore\n");
	PUT("file.secret", "ignored by info/exclude\n");
	PUT("data.bin", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
	PUT("latin1.txt", "caf\xe9 cr\xe8me\n");
	memset(big, 'b', sizeof big);
	put("big.txt", big, sizeof big);
	PUT("build-out/x.c", "ignored dir\n");
	PUT("node_modules/m/index.js", "default-excluded\n");
	PUT("foo/bar.txt", "ignored by foo/**/bar.txt\n");
	PUT("foo/a/b/bar.txt", "ignored by foo/**/bar.txt\n");
	PUT("foo/keep.txt", "kept\n");
	PUT("sub/.gitignore", "!sub-keep.log\n");
	PUT("sub/only-root.txt", "kept: /only-root.txt is anchored at the root\n");
	PUT("sub/sub-keep.log", "re-included by the nested .gitignore\n");
	PUT("sub/y.log", "ignored by the root's *.log\n");
	snprintf(path, sizeof path, "%s/sub/loop", root);
	if (symlink("..", path))
		tap_diag("symlink failed");
	snprintf(path, sizeof path, "%s/sub/link.c", root);
	if (symlink("../a.c", path))
		tap_diag("symlink failed");
	snprintf(path, sizeof path, "%s/pipe", root);
	if (mkfifo(path, 0644))
		tap_diag("mkfifo failed");
}

static struct lr_doclist *walk(const struct lr_extract_opts *o, const char *path,
                               struct lr_extract_stats *st)
{
	struct lr_extract *x;
	struct lr_doclist *l;
	struct lr_err err = { 0 };

	if (lr_extract_new(&x, o, &err) || lr_doclist_new(&l, &err))
		exit(1);
	if (lr_extract_path(x, path, l, &err))
		tap_diag("extract: %s", err.msg);
	if (st)
		*st = *lr_extract_stats(x);
	lr_extract_free(x);
	return l;
}

/* Compare the document names after the tree document with want (NULL-terminated). */
static void names_are(const struct lr_doclist *l, const char *const *want, const char *what)
{
	size_t i = 1, k = 0;
	int ok = l->n > 0 && l->v[0]->kind == LR_DOC_TREE;

	for (; want[k] && i < l->n; k++, i++)
		if (strcmp(l->v[i]->name, want[k]) != 0) {
			tap_diag("  document %zu is '%s', want '%s'", i, l->v[i]->name, want[k]);
			ok = 0;
			break;
		}
	if (ok && (want[k] || i != l->n)) {
		tap_diag("  %zu documents, want %zu", l->n - 1, k + (want[k] ? 1 : 0));
		ok = 0;
	}
	tap_ok(ok, "%s", what);
}

static const struct lr_doc *by_name(const struct lr_doclist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->name, name) == 0)
			return l->v[i];
	return NULL;
}

static int skipped_for(const struct lr_doclist *l, const char *name, enum lr_problem_kind k)
{
	const struct lr_doc *d = by_name(l, name);

	return d && d->status == LR_DOC_SKIPPED && d->n_problems && d->problems[0].kind == k;
}

int main(void)
{
	struct lr_extract_opts o = { .max_file_size = 1000 };
	struct lr_extract_stats st;
	struct lr_doclist *l;
	char path[2048];

	build_tree();

	/* the whole tree, default options but a 1000-byte limit */
	{
		static const char *const want[] = {
			".gitignore", ".ignore", "B.txt", "a.c", "big.txt", "data.bin", "keep.log",
			"latin1.txt", "pipe", ".git", "foo/keep.txt", "node_modules", "sub/.gitignore",
			"sub/link.c", "sub/loop", "sub/only-root.txt", "sub/sub-keep.log", NULL,
		};
		l = walk(&o, root, &st);
		names_are(l, want, "order: files before directories, byte order, ignore rules applied");
		tap_is_int((int64_t)st.ignored, 8, "8 entries left out by ignore rules, counted");
		tap_ok(skipped_for(l, "data.bin", LR_PROB_BINARY), "binary file: skipped as binary");
		tap_ok(skipped_for(l, "big.txt", LR_PROB_TOO_LARGE), "2000-byte file over a 1000-byte limit: skipped");
		tap_ok(skipped_for(l, "pipe", LR_PROB_SPECIAL), "a FIFO: skipped, never opened");
		tap_ok(skipped_for(l, ".git", LR_PROB_EXCLUDED_DIR), ".git: default-excluded");
		tap_ok(skipped_for(l, "node_modules", LR_PROB_EXCLUDED_DIR), "node_modules: default-excluded");
		tap_ok(skipped_for(l, "sub/loop", LR_PROB_SYMLINK) && skipped_for(l, "sub/link.c", LR_PROB_SYMLINK),
		       "symbolic links are listed, not followed");
		tap_ok(by_name(l, "keep.log") && by_name(l, "sub/sub-keep.log"),
		       "'!' re-includes, in the same and in a nested .gitignore");
		tap_ok(by_name(l, "sub/only-root.txt") && !by_name(l, "only-root.txt"),
		       "'/only-root.txt' is anchored to the root");
		tap_ok(!by_name(l, "foo/bar.txt") && !by_name(l, "foo/a/b/bar.txt"), "'foo/**/bar.txt' at any depth");
		tap_ok(!by_name(l, "file.secret"), ".git/info/exclude is honoured");
		tap_ok(!by_name(l, "dot-ignored.txt"), ".ignore is honoured");
		tap_ok(!by_name(l, "build-out/x.c"), "'build-out/' leaves the directory out");
		{
			const struct lr_doc *d = by_name(l, "latin1.txt");
			tap_ok(d && strcmp(d->text, "café crème\n") == 0 && d->encoding &&
			       strcmp(d->encoding, "CP1252") == 0, "a Latin-1 file is converted, not dropped");
			tap_ok(d && d->tree == l->v[0], "file documents point at their tree document");
			snprintf(path, sizeof path, "%s/latin1.txt", root);
			tap_ok(d && strcmp(d->path, path) == 0, "the path joins the root and the name");
		}
		{
			const char *t = l->v[0]->text;
			tap_ok(strstr(t, "\n  data.bin  [binary, not read]\n") &&
			       strstr(t, "\n  node_modules/  [default-excluded, not read]\n") &&
			       strstr(t, "\n    sub-keep.log\n") && !strstr(t, "x.log"),
			       "the tree listing shows skipped entries with reasons, not ignored ones");
			tap_ok(strstr(t, "foo/") < strstr(t, "node_modules/") && strstr(t, "latin1.txt") < strstr(t, "foo/"),
			       "the listing is in document order");
		}
		lr_doclist_free(l);
	}

	/* following links: the loop is caught, the file link is a duplicate */
	o.flags = LR_EXTRACT_FOLLOW_SYMLINKS;
	l = walk(&o, root, &st);
	tap_ok(skipped_for(l, "sub/loop", LR_PROB_SYMLINK) &&
	       strstr(by_name(l, "sub/loop")->problems[0].detail, "loop"),
	       "--follow-symlinks: a link to an enclosing directory is reported as a loop");
	tap_ok(skipped_for(l, "sub/link.c", LR_PROB_SYMLINK) &&
	       strstr(by_name(l, "sub/link.c")->problems[0].detail, "same file"),
	       "--follow-symlinks: a link to a file already read is not read twice");
	lr_doclist_free(l);

	/* --include / --exclude */
	{
		const char *inc[] = { "*.c" }, *exc[] = { "sub/", "*.txt" };
		static const char *const want_inc[] = { "a.c", ".git", "node_modules", "sub/link.c", NULL };
		struct lr_extract_opts oi = { .include = inc, .n_include = 1 };
		struct lr_extract_opts oe = { .exclude = exc, .n_exclude = 2 };

		l = walk(&oi, root, &st);
		names_are(l, want_inc, "--include '*.c' reads only matching files");
		tap_ok(st.excluded >= 9, "files not included are counted (%llu)", (unsigned long long)st.excluded);
		lr_doclist_free(l);
		l = walk(&oe, root, NULL);
		tap_ok(!by_name(l, "sub/.gitignore") && !by_name(l, "B.txt") && !by_name(l, "foo/keep.txt") &&
		       by_name(l, "a.c"), "--exclude 'sub/' and '*.txt' leave those out");
		lr_doclist_free(l);
	}

	/* --no-ignore, --no-default-excludes */
	{
		struct lr_extract_opts on = { .flags = LR_EXTRACT_NO_IGNORE_FILES | LR_EXTRACT_NO_DEFAULT_EXCLUDES };
		l = walk(&on, root, &st);
		tap_ok(by_name(l, "x.log") && by_name(l, ".git/info/exclude") && by_name(l, "node_modules/m/index.js"),
		       "--no-ignore and --no-default-excludes read everything");
		tap_is_int((int64_t)st.ignored, 0, "nothing ignored");
		lr_doclist_free(l);
	}

	/* a subdirectory of a work tree: the enclosing root's rules still apply */
	{
		static const char *const want[] = {
			".gitignore", "link.c", "loop", "only-root.txt", "sub-keep.log", NULL,
		};
		snprintf(path, sizeof path, "%s/sub", root);
		l = walk(NULL, path, &st);
		names_are(l, want, "walking repo/sub: the root's .gitignore applies (y.log ignored), "
		          "its anchored rule does not");
		tap_ok(strcmp(by_name(l, "only-root.txt")->path, path) > 0, "names are relative to the walked directory");
		lr_doclist_free(l);
	}
	return tap_done();
}
