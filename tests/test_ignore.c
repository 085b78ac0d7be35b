/* tests/test_ignore.c — gitignore glob and rule semantics (extractors/ignore.c), one
 * case per rule of gitignore(5), checked against what git itself decides for the same
 * pattern and path (the expectations follow the gitignore manual's own examples);
 * plus a pathological pattern that would take exponential time in a naive matcher. */
#include <string.h>

#include "extractors/priv.h"
#include "tests/tap.h"

static int gm(const char *pat, const char *path)
{
	return lr_glob_match(pat, strlen(pat), path, strlen(path));
}

static void globs(void)
{
	tap_ok(gm("*.c", "main.c"), "'*' matches within a name");
	tap_ok(!gm("*.c", "src/main.c"), "'*' does not cross '/'");
	tap_ok(gm("?.c", "a.c") && !gm("?.c", "ab.c"), "'?' matches one character");
	tap_ok(gm("?", "\xc3\xa9"), "'?' matches one UTF-8 character, not one byte");
	tap_ok(gm("[a-c]x", "bx") && !gm("[a-c]x", "dx"), "character ranges");
	tap_ok(gm("[!a-c]x", "dx") && !gm("[!a-c]x", "ax"), "negated classes with '!'");
	tap_ok(gm("[^a]x", "bx"), "negated classes with '^'");
	tap_ok(gm("\\*x", "*x") && !gm("\\*x", "ax"), "backslash escapes a wildcard");
	tap_ok(gm("[x", "[x"), "an unclosed '[' is literal");
	tap_ok(gm("**/foo", "foo") && gm("**/foo", "a/b/foo"), "leading '**/' matches in all directories");
	tap_ok(gm("**/foo/bar", "x/foo/bar") && gm("**/foo/bar", "foo/bar"), "'**/foo/bar' anywhere");
	tap_ok(gm("abc/**", "abc/x") && gm("abc/**", "abc/x/y"), "trailing '/**' matches everything inside");
	tap_ok(!gm("abc/**", "abc"), "trailing '/**' does not match the directory itself");
	tap_ok(gm("a/**/b", "a/b") && gm("a/**/b", "a/x/b") && gm("a/**/b", "a/x/y/b"),
	       "'/**/' matches zero or more directories");
	tap_ok(!gm("a/**/b", "a/x/c"), "'/**/' still needs the last component");
	tap_ok(gm("foo**bar", "fooXbar") && !gm("foo**bar", "foo/bar"),
	       "'**' inside a component is an ordinary '*'");
	tap_ok(gm("a*b*c*d*e*f*g*h*i*j*k*l*m*n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefghijklmn"),
	       "many stars match");
	tap_ok(!gm("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
	           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	       "a pathological pattern fails quickly (no exponential backtracking)");
	tap_ok(!gm("**/**/**/**/**/**/**/**/**/**/x",
	           "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y"),
	       "many '**' components fail quickly");
}

/* Check rel against one .gitignore text at the root. */
static int ig1(const char *rules, const char *rel, int is_dir)
{
	struct lr_ignore *ig;
	int r;

	if (lr_ignore_new(&ig))
		return 99;
	lr_ignore_push(ig, "", rules, strlen(rules), "test");
	r = lr_ignore_check(ig, rel, is_dir);
	lr_ignore_free(ig);
	return r;
}

static void rules(void)
{
	tap_is_int(ig1("*.o\n", "a/b/x.o", 0), 1, "a pattern without '/' matches at any depth");
	tap_is_int(ig1("# *.o\n", "x.o", 0), 0, "'#' starts a comment");
	tap_is_int(ig1("\\#x\n", "#x", 0), 1, "'\\#' matches a literal '#'");
	tap_is_int(ig1("\n   \n", "x", 0), 0, "blank lines match nothing");
	tap_is_int(ig1("x.o   \n", "x.o", 0), 1, "trailing spaces are ignored");
	tap_is_int(ig1("x\\ \n", "x ", 0), 1, "an escaped trailing space is kept");
	tap_is_int(ig1("*.log\n!keep.log\n", "keep.log", 0), -1, "'!' re-includes");
	tap_is_int(ig1("*.log\n!keep.log\n", "other.log", 0), 1, "'!' leaves other matches ignored");
	tap_is_int(ig1("!keep.log\n*.log\n", "keep.log", 0), 1, "the last matching rule wins");
	tap_is_int(ig1("\\!x\n", "!x", 0), 1, "'\\!' matches a literal '!'");
	tap_is_int(ig1("build/\n", "build", 1), 1, "'dir/' matches a directory");
	tap_is_int(ig1("build/\n", "build", 0), 0, "'dir/' does not match a file");
	tap_is_int(ig1("build/\n", "src/build", 1), 1, "'dir/' matches at any depth");
	tap_is_int(ig1("/todo\n", "todo", 0), 1, "'/x' matches at the root");
	tap_is_int(ig1("/todo\n", "src/todo", 0), 0, "'/x' is anchored to the root");
	tap_is_int(ig1("doc/frotz\n", "doc/frotz", 1), 1, "a middle '/' anchors: doc/frotz");
	tap_is_int(ig1("doc/frotz\n", "a/doc/frotz", 1), 0, "... and does not match a/doc/frotz");
	tap_is_int(ig1("**/foo\n", "x/y/foo", 0), 1, "'**/foo' matches anywhere");
	tap_is_int(ig1("abc/**\n", "abc/d/e.c", 0), 1, "'abc/**' matches inside abc");
	tap_is_int(ig1("a/**/b\n", "a/x/y/b", 0), 1, "'a/**/b' matches across directories");
	tap_is_int(ig1("*.c\r\n", "x.c", 0), 1, "CRLF line ends are accepted");

	/* nested sets: deeper files override shallower ones */
	{
		struct lr_ignore *ig;
		const char *root = "*.txt\n", *sub = "!notes.txt\n";

		lr_ignore_new(&ig);
		lr_ignore_push(ig, "", root, strlen(root), "root");
		lr_ignore_push(ig, "docs", sub, strlen(sub), "docs");
		tap_is_int(lr_ignore_check(ig, "docs/notes.txt", 0), -1,
		           "a nested .gitignore re-includes what the root one ignores");
		tap_is_int(lr_ignore_check(ig, "notes.txt", 0), 1,
		           "the nested file's rules do not apply outside its directory");
		tap_is_int(lr_ignore_check(ig, "docs/other.txt", 0), 1, "root rules apply below");
		lr_ignore_pop(ig, "docs");
		tap_is_int(lr_ignore_check(ig, "docs/notes.txt", 0), 1, "popping the set removes its rules");
		lr_ignore_free(ig);
	}
	{
		struct lr_ignore *ig;
		const char *sub = "/only-here\nsub/x\n";

		lr_ignore_new(&ig);
		lr_ignore_push(ig, "a/b", sub, strlen(sub), "a/b");
		tap_is_int(lr_ignore_check(ig, "a/b/only-here", 0), 1,
		           "anchored rules of a nested file are relative to its directory");
		tap_is_int(lr_ignore_check(ig, "a/b/c/only-here", 0), 0, "... and only there");
		tap_is_int(lr_ignore_check(ig, "a/b/sub/x", 0), 1, "middle-slash rules too");
		tap_is_int(lr_ignore_check(ig, "a/bc/sub/x", 0), 0, "a sibling with a longer name is not inside");
		lr_ignore_free(ig);
	}
}

int main(void)
{
	globs();
	rules();
	return tap_done();
}
