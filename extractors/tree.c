/* extractors/tree.c — walk a directory given as input: a tree document (the listing,
 * with every skipped entry and why) followed by one document per file.  Workload: a
 * source tree of up to tens of thousands of entries; each directory is read once and
 * sorted, each entry checked against the ignore rules of its enclosing directories.
 *
 * Order (stable, documented): depth first; in each directory the files first, then the
 * subdirectories; names in byte order (strcmp, no locale).
 * Rules, in order: default-excluded directories (.git, node_modules, …) are listed
 * but not entered; .gitignore/.ignore/.git/info/exclude rules (from the enclosing git
 * work tree's root down) leave entries out unlisted (counted); --exclude globs the
 * same; with --include, files matching none are left out (counted).  Symbolic links
 * are listed, not followed, unless LR_EXTRACT_FOLLOW_SYMLINKS: then a link back to an
 * enclosing directory (a loop) or to something already read is skipped and listed. */
#include "extractors/priv.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 64

/* Directories skipped by default: VCS metadata, dependency and build outputs. */
static const char *const default_excluded[] = {
	".git", ".hg", ".svn", ".bzr", "CVS", "_darcs", "node_modules", "bower_components",
	"vendor", "target", "build", "dist", "out", "__pycache__", ".venv", "venv", ".tox",
	".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".gradle", ".idea", ".vscode",
	".cache", ".next", ".nuxt", "coverage", ".terraform", "_build", "zig-cache",
	".zig-cache", "bazel-out", NULL,
};

struct devino {
	dev_t dev;
	ino_t ino;
};

struct walker {
	struct lr_extract *x;
	struct lr_doclist *list;
	struct lr_doc *tree;
	struct lr_sb listing;
	struct lr_ignore *ig;
	const char *prefix;      /* the root's path inside its git work tree, "" or "a/b/" */
	struct devino anc[MAX_DEPTH + 2];   /* directories on the current path */
	int n_anc;
	struct devino *seen;     /* open-addressing set of everything read */
	size_t n_seen, cap_seen;
	int rc;
};

/* ------------------------------------------------------------------ visited set */

static size_t hash(struct devino k)
{
	uint64_t h = (uint64_t)k.dev * 0x9e3779b97f4a7c15ull ^ (uint64_t)k.ino * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ h >> 29);
}

/* Add k; @return 1 if it was already there, 0 if added, LR_ENOMEM. */
static int seen_add(struct walker *w, struct devino k)
{
	size_t i;

	if (w->n_seen * 2 >= w->cap_seen) {
		size_t cap = w->cap_seen ? w->cap_seen * 2 : 256;
		struct devino *v = calloc(cap, sizeof *v);
		if (!v)
			return LR_ENOMEM;
		for (size_t j = 0; j < w->cap_seen; j++) {
			struct devino e = w->seen[j];
			if (!e.ino)
				continue;
			for (i = hash(e) & (cap - 1); v[i].ino; i = (i + 1) & (cap - 1))
				;
			v[i] = e;
		}
		free(w->seen);
		w->seen = v;
		w->cap_seen = cap;
	}
	for (i = hash(k) & (w->cap_seen - 1); w->seen[i].ino; i = (i + 1) & (w->cap_seen - 1))
		if (w->seen[i].ino == k.ino && w->seen[i].dev == k.dev)
			return 1;
	w->seen[i] = k;
	w->n_seen++;
	return 0;
}

/* ------------------------------------------------------------------ helpers */

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	if (la == 0)
		memmove(s, s + 1, lb + 1);
	return s;
}

/* prefix ("" or "a/b/") followed by rel */
static char *concat(const char *prefix, const char *rel)
{
	size_t lp = strlen(prefix), lr = strlen(rel);
	char *s = malloc(lp + lr + 1);

	if (!s)
		return NULL;
	memcpy(s, prefix, lp);
	memcpy(s + lp, rel, lr + 1);
	return s;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_default_excluded(const char *name)
{
	for (int i = 0; default_excluded[i]; i++)
		if (strcmp(name, default_excluded[i]) == 0)
			return 1;
	return 0;
}

/* A --include/--exclude glob against rel (gitignore semantics: a glob without '/'
 * matches the name at any depth, a trailing '/' only directories). */
static int glob_hits(char *const *globs, const char *rel, int is_dir)
{
	const char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;

	for (size_t i = 0; globs && globs[i]; i++) {
		const char *g = globs[i];
		size_t n = strlen(g);
		int dir_only = n > 1 && g[n - 1] == '/';
		if (dir_only) {
			n--;
			if (!is_dir)
				continue;
		}
		if (g[0] == '/') {
			g++;
			n--;
			if (lr_glob_match(g, n, rel, strlen(rel)))
				return 1;
		} else if (memchr(g, '/', n)) {
			if (lr_glob_match(g, n, rel, strlen(rel)))
				return 1;
		} else if (lr_glob_match(g, n, name, strlen(name))) {
			return 1;
		}
	}
	return 0;
}

int lr_extract_glob_match(const char *glob, const char *name)
{
	char *const globs[2] = { (char *)glob, NULL };

	return glob_hits(globs, name, 0);
}

static void list_line(struct walker *w, int depth, const char *name, int dir,
                      const char *note)
{
	uint64_t rep = 0, ctl = 0;

	for (int i = 0; i <= depth; i++)
		lr_sb_puts(&w->listing, "  ");
	lr_text_clean(&w->listing, name, strlen(name), &rep, &ctl);   /* names may be any bytes */
	if (dir)
		lr_sb_putc(&w->listing, '/');
	if (note)
		lr_sb_printf(&w->listing, "  [%s]", note);
	lr_sb_putc(&w->listing, '\n');
}

/* A document for an entry that is listed but not read. */
static int skipped_entry(struct walker *w, const char *path, const char *rel,
                         enum lr_problem_kind kind, const char *why)
{
	struct lr_doc *d = lr_doc_new(LR_DOC_OTHER, path, rel);
	int rc;

	if (!d || lr_doclist_push(w->list, d)) {
		lr_doc_free(d);
		return LR_ENOMEM;
	}
	d->tree = w->tree;
	rc = lr_doc_fail(d, 0, kind, LR_SEV_SKIP, "%s", why);
	w->x->st.files_skipped++;
	w->x->st.skipped_by[kind]++;
	return rc;
}

static const char *short_reason(const struct lr_doc *d)
{
	for (size_t i = 0; i < d->n_problems; i++) {
		if (d->problems[i].severity < LR_SEV_SKIP)
			continue;
		switch (d->problems[i].kind) {
		case LR_PROB_BINARY:    return "binary, not read";
		case LR_PROB_TOO_LARGE: return "over the size limit, not read";
		case LR_PROB_SPECIAL:   return "special file, not read";
		case LR_PROB_ENCRYPTED: return "encrypted, not read";
		case LR_PROB_IO:        return "unreadable";
		default:                return d->status == LR_DOC_PARTIAL ? "damaged, partly read"
		                               : d->status == LR_DOC_FAILED ? "could not be read" : NULL;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ the walk */

struct entry {
	char *name;
	struct stat st;     /* of the target when the link is followed */
	int is_link, is_dir, follow;
};

static int walk_dir(struct walker *w, const char *fs, const char *rel, int depth);

static int visit(struct walker *w, const char *fs, const char *rel, struct entry *e,
                 int depth)
{
	struct lr_extract *x = w->x;
	char *cfs = join(fs, e->name), *crel = join(rel, e->name), *full = NULL;
	int rc = 0, r;

	if (!cfs || !crel)
		goto oom;
	if (e->is_dir && !(x->o.flags & LR_EXTRACT_NO_DEFAULT_EXCLUDES) &&
	    is_default_excluded(e->name)) {
		list_line(w, depth, e->name, 1, "default-excluded, not read");
		rc = skipped_entry(w, cfs, crel, LR_PROB_EXCLUDED_DIR,
			"default-excluded directory (VCS, dependencies or build output), not read");
		goto out;
	}
	if (!(x->o.flags & LR_EXTRACT_NO_IGNORE_FILES)) {
		full = concat(w->prefix, crel);
		if (!full)
			goto oom;
		r = lr_ignore_check(w->ig, full, e->is_dir);
		if (r > 0) {
			x->st.ignored++;
			goto out;
		}
	}
	if (glob_hits(x->exclude, crel, e->is_dir) ||
	    (!e->is_dir && x->include[0] && !glob_hits(x->include, crel, 0))) {
		x->st.excluded++;
		goto out;
	}
	if (e->is_link && !e->follow) {
		char target[512];
		ssize_t n = readlink(cfs, target, sizeof target - 1);
		char note[600];
		target[n > 0 ? n : 0] = '\0';
		snprintf(note, sizeof note, "symlink to %s, not followed", n > 0 ? target : "?");
		list_line(w, depth, e->name, 0, note);
		rc = skipped_entry(w, cfs, crel, LR_PROB_SYMLINK, note);
		goto out;
	}
	if (e->is_dir) {
		struct devino k = { e->st.st_dev, e->st.st_ino };
		for (int i = 0; i < w->n_anc; i++)
			if (w->anc[i].dev == k.dev && w->anc[i].ino == k.ino) {
				list_line(w, depth, e->name, 1, "symlink loop, not followed");
				rc = skipped_entry(w, cfs, crel, LR_PROB_SYMLINK,
					"symlink loop: points to an enclosing directory, not followed");
				goto out;
			}
		if ((r = seen_add(w, k)) < 0)
			goto oom;
		if (r) {
			list_line(w, depth, e->name, 1, "already read through another path");
			rc = skipped_entry(w, cfs, crel, LR_PROB_SYMLINK,
				"directory already read through another path, not read again");
			goto out;
		}
		if (depth + 1 >= MAX_DEPTH) {
			list_line(w, depth, e->name, 1, "too deep, not entered");
			rc = skipped_entry(w, cfs, crel, LR_PROB_TOO_DEEP,
				"nested deeper than 64 directories, not entered");
			goto out;
		}
		list_line(w, depth, e->name, 1, NULL);
		w->anc[w->n_anc++] = k;
		rc = walk_dir(w, cfs, crel, depth + 1);
		w->n_anc--;
		goto out;
	}
	{
		struct devino k = { e->st.st_dev, e->st.st_ino };
		struct lr_doc *d = NULL;
		size_t at = w->listing.n;

		if ((r = seen_add(w, k)) < 0)
			goto oom;
		if (r) {
			list_line(w, depth, e->name, 0, "same file as one already read");
			rc = skipped_entry(w, cfs, crel, LR_PROB_SYMLINK,
				"same file as one already read (link), not read again");
			goto out;
		}
		rc = lr_extract_file(x, cfs, crel, w->tree, &e->st, w->list, &d);
		if (rc)
			goto out;
		list_line(w, depth, e->name, 0, short_reason(d));
		rc = lr_doc_anchor(w->tree, LR_ANCHOR_FILE, at, 0, (uint32_t)depth + 1, crel);
	}
out:
	free(cfs);
	free(crel);
	free(full);
	return rc;
oom:
	rc = LR_ENOMEM;
	goto out;
}

static int walk_dir(struct walker *w, const char *fs, const char *rel, int depth)
{
	struct lr_extract *x = w->x;
	struct entry *ents = NULL;
	size_t n = 0, cap = 0;
	char *ignore_base = NULL;
	struct dirent *de;
	DIR *dir = opendir(fs);
	int rc = 0;

	if (!dir) {
		int e = errno;
		struct lr_doc *d;

		if (depth == 0)
			return LR_EIO;   /* the root itself: the caller reports it */
		/* an unreadable subdirectory fails like an unreadable file */
		d = lr_doc_new(LR_DOC_OTHER, fs, rel);
		if (!d || lr_doclist_push(w->list, d)) {
			lr_doc_free(d);
			return LR_ENOMEM;
		}
		d->tree = w->tree;
		w->x->st.files_failed++;
		w->x->st.skipped_by[LR_PROB_IO]++;
		return lr_doc_fail(d, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot read directory: %s",
			strerror(e));
	}
	while ((de = readdir(dir))) {
		struct entry *e;
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 32;
			struct entry *v = realloc(ents, c * sizeof *v);
			if (!v)
				goto oom;
			ents = v;
			cap = c;
		}
		e = &ents[n];
		memset(e, 0, sizeof *e);
		if (!(e->name = strdup(de->d_name)) || !(p = join(fs, de->d_name))) {
			free(e->name);
			goto oom;
		}
		if (lstat(p, &e->st) != 0) {
			free(p);
			free(e->name);
			continue;   /* vanished since readdir */
		}
		e->is_link = S_ISLNK(e->st.st_mode);
		if (e->is_link && (x->o.flags & LR_EXTRACT_FOLLOW_SYMLINKS)) {
			struct stat t;
			if (stat(p, &t) == 0) {
				e->st = t;
				e->follow = 1;
			}
		}
		e->is_dir = S_ISDIR(e->st.st_mode) && (!e->is_link || e->follow);
		free(p);
		n++;
	}
	closedir(dir);
	dir = NULL;
	if (n > 1)   /* an empty directory leaves ents NULL, which qsort may not take */
		qsort(ents, n, sizeof *ents, cmp_name);

	if (!(x->o.flags & LR_EXTRACT_NO_IGNORE_FILES)) {
		char *gi = join(fs, ".gitignore"), *ii = join(fs, ".ignore");
		ignore_base = concat(w->prefix, rel);
		if (ignore_base) {
			size_t l = strlen(ignore_base);
			if (l && ignore_base[l - 1] == '/')
				ignore_base[l - 1] = '\0';
		}
		if (!gi || !ii || !ignore_base || lr_ignore_load(w->ig, ignore_base, gi) ||
		    lr_ignore_load(w->ig, ignore_base, ii)) {
			free(gi);
			free(ii);
			goto oom;
		}
		free(gi);
		free(ii);
	}
	/* files first, then directories */
	for (int pass = 0; pass < 2 && !rc; pass++)
		for (size_t i = 0; i < n && !rc; i++)
			if (ents[i].is_dir == pass)
				rc = visit(w, fs, rel, &ents[i], depth);
	goto out;
oom:
	rc = LR_ENOMEM;
out:
	if (dir)
		closedir(dir);
	if (ignore_base)
		lr_ignore_pop(w->ig, ignore_base);
	for (size_t i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
	free(ignore_base);
	return rc;
}

/* ------------------------------------------------------------------ git work tree */

/* Read a small file (NUL-terminated, trailing newlines dropped) into a new string. */
static char *read_small(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return strdup(buf);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* The git directory of work tree top: "top/.git", or what a ".git" file's "gitdir:"
 * names (and, for a linked work tree, its "commondir").  NULL if none. */
static char *git_dir(const char *top, const struct stat *st)
{
	char *dotgit = fmt("%s/.git", top), *txt = NULL, *gd = NULL, *cf = NULL, *common = NULL;

	if (!dotgit)
		return NULL;
	if (S_ISDIR(st->st_mode))
		return dotgit;
	txt = read_small(dotgit);
	if (txt && strncmp(txt, "gitdir: ", 8) == 0) {
		gd = txt[8] == '/' ? strdup(txt + 8) : fmt("%s/%s", top, txt + 8);
		cf = gd ? fmt("%s/commondir", gd) : NULL;
		common = cf ? read_small(cf) : NULL;
		if (common) {
			char *c = common[0] == '/' ? strdup(common) : fmt("%s/%s", gd, common);
			free(gd);
			gd = c;
		}
	}
	free(dotgit);
	free(txt);
	free(cf);
	free(common);
	return gd;
}

/* Find the git work tree enclosing root; load its info/exclude and the .gitignore and
 * .ignore files of the directories from the work tree's top down to root's parent
 * (root's own are read by the walk).  *prefix_out: root's path inside the work tree
 * ("" or "a/b/"), "" when not in one. */
static int load_git_rules(struct walker *w, const char *root, char **prefix_out)
{
	char *real = realpath(root, NULL), *top = NULL, *prefix = NULL, *p = NULL, *gd = NULL;
	struct stat st;
	int rc = 0, found = 0;

	*prefix_out = NULL;
	if (real && (top = strdup(real))) {
		for (;;) {
			free(p);
			p = fmt("%s/.git", strcmp(top, "/") ? top : "");
			if (!p)
				goto oom;
			if (lstat(p, &st) == 0) {
				found = 1;
				break;
			}
			char *slash = strrchr(top, '/');
			if (!slash || slash == top)
				break;
			*slash = '\0';
		}
	} else if (real) {
		goto oom;
	}
	if (!found) {
		prefix = strdup("");
		rc = prefix ? 0 : LR_ENOMEM;
		goto out;
	}
	if ((gd = git_dir(top, &st))) {
		free(p);
		if (!(p = fmt("%s/info/exclude", gd)))
			goto oom;
		if ((rc = lr_ignore_load(w->ig, "", p)))
			goto out;
	}
	{
		size_t lt = strcmp(top, "/") ? strlen(top) : 0;
		const char *rest = real + lt;

		while (*rest == '/')
			rest++;
		if (!(prefix = fmt("%s%s", rest, *rest ? "/" : "")))
			goto oom;
	}
	/* each directory from top to root's parent: base "" then "a", "a/b", ... */
	for (char *q = prefix; *q;) {
		char *slash = strchr(q, '/');
		int bl = (int)(q - prefix) - (q > prefix);
		char *base = fmt("%.*s", bl, prefix);
		const char *files[] = { ".gitignore", ".ignore" };

		if (!base)
			goto oom;
		for (int i = 0; i < 2 && !rc; i++) {
			free(p);
			p = fmt("%s%s%s/%s", top, bl ? "/" : "", base, files[i]);
			rc = p ? lr_ignore_load(w->ig, base, p) : LR_ENOMEM;
		}
		free(base);
		if (rc || !slash)
			break;
		q = slash + 1;
	}
	goto out;
oom:
	rc = LR_ENOMEM;
out:
	free(real);
	free(top);
	free(p);
	free(gd);
	if (rc) {
		free(prefix);
		prefix = NULL;
	}
	*prefix_out = prefix;
	return rc;
}

int lr_tree_extract(struct lr_extract *x, const char *path, struct lr_doclist *list,
                    struct lr_err *err)
{
	struct walker w = { .x = x, .list = list };
	char *name = NULL, *prefix = NULL;
	struct stat st;
	int rc;

	if (stat(path, &st) != 0)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	name = lr_display_name(path);
	if (!name)
		goto oom;
	{
		size_t l = strlen(name);
		char *t = malloc(l + 2);
		if (!t)
			goto oom;
		memcpy(t, name, l + 1);
		if (l == 0 || t[l - 1] != '/')
			strcat(t, "/");
		free(name);
		name = t;
	}
	w.tree = lr_doc_new(LR_DOC_TREE, path, name);
	if (!w.tree || lr_doclist_push(list, w.tree)) {
		lr_doc_free(w.tree);
		goto oom;
	}
	if (lr_ignore_new(&w.ig))
		goto oom;
	if (!(x->o.flags & LR_EXTRACT_NO_IGNORE_FILES)) {
		if ((rc = load_git_rules(&w, path, &prefix)))
			goto fail;
	} else if (!(prefix = strdup(""))) {
		goto oom;
	}
	w.prefix = prefix;
	w.anc[w.n_anc++] = (struct devino){ st.st_dev, st.st_ino };
	if (seen_add(&w, w.anc[0]) < 0)
		goto oom;
	lr_sb_printf(&w.listing, "%s\n", name);
	errno = 0;
	if ((rc = walk_dir(&w, path, "", 0)) == LR_EIO) {
		lr_errf_sys(err, errno ? errno : EIO, "cannot open '%s'", path);
		/* keep the list consistent: the tree document stays, with the reason */
		lr_doc_fail(w.tree, LR_EIO, LR_PROB_IO, LR_SEV_ERROR, "cannot read directory: %s",
			strerror(errno ? errno : EIO));
		goto out;
	}
	if (rc)
		goto fail;
	if ((rc = lr_doc_set_text(w.tree, &w.listing)))
		goto fail;
	w.tree->encoding = "UTF-8";
	rc = 0;
	goto out;
oom:
	rc = LR_ENOMEM;
fail:
	lr_errf(err, rc, "out of memory");
out:
	lr_sb_release(&w.listing);
	lr_ignore_free(w.ig);
	free(w.seen);
	free(prefix);
	free(name);
	return rc;
}
