/* src/main.c — the longread program: the command table, global options, and the one
 * place that turns a command's result into the process exit status (after checking
 * that everything written to stdout really got out). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine/version.h"
#include "extractors/extract.h"
#include "src/cli.h"
#include "src/commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* The command table: one line per subcommand, in the order --help lists them. */
static const struct command commands[] = {
	{ "ask",     cmd_ask,     "answer questions over whole documents, citing them (streams)" },
	{ "pack",    cmd_pack,    "prefill the documents once, save the window (.lrc) for later asks" },
	{ "serve",   cmd_serve,   "answer OpenAI-compatible API requests with a model and saved windows" },
	{ "plan",    cmd_plan,    "report how documents fill the window: tokens, memory, time" },
	{ "extract", cmd_extract, "print what the model would read from PDFs, HTML, trees and text" },
	{ "inspect", cmd_inspect, "show a GGUF model's architecture, tensors and memory needs" },
	{ "generate", cmd_generate, "continue a prompt (or answer it with --chat), streaming the text" },
	{ "logits",  cmd_logits,  "run token ids through a model, write logit vectors (float32)" },
	{ "tokenize", cmd_tokenize, "print the token ids of a text with a model's tokenizer" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_help(void)
{
	printf("Usage: longread <command> [options] [arguments]\n"
	       "\n"
	       "Answer questions over a whole document set with a local Llama-3-family model.\n"
	       "\n"
	       "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n"
	       "Options:\n"
	       "  -h, --help     show this help and exit\n"
	       "  -V, --version  show the version and library versions and exit\n"
	       "      --quiet    (with any command) only errors on standard error: no progress,\n"
	       "                 reports or warnings\n"
	       "\n"
	       "Run 'longread <command> --help' for a command's options.\n"
	       "Exit status: 0 ok, 1 error, 2 usage, 3 I/O, 4 malformed input, 5 unsupported input,\n"
	       "6 does not fit, 7 out of memory, 8 context/model mismatch, 9 password,\n"
	       "10 some inputs could not be read (the rest was processed), 11-13 API server faults,\n"
	       "14 serve cannot listen, 130 interrupted.\n");
}

static void print_version(void)
{
	char engine[256], extract[256];

	lr_engine_versions(engine, sizeof engine);
	lr_extract_versions(extract, sizeof extract);
	printf("longread %s\n", PACKAGE_VERSION);
	printf("libraries: %s, %s\n", extract, engine);
}

/* Standard output through a stream that remembers why its first write failed: stdio
 * keeps only an error flag, and errno is long overwritten by the time the program
 * ends (a full disk read "write error: unknown error"). */
static int out_errno;

static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
	size_t done = 0;

	(void)cookie;
	while (done < n) {
		ssize_t k = write(STDOUT_FILENO, buf + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (!out_errno)
				out_errno = k < 0 ? errno : EIO;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)k;
	}
	return (ssize_t)done;
}

static void wrap_stdout(void)
{
	static const cookie_io_functions_t io = { .write = out_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (f) {
		setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
		stdout = f;
	}
}

/* Flush stdout and report a write error (disk full, closed pipe) as a failure. */
static int close_stdout(int rc)
{
	int bad, e;

	errno = 0;
	bad = fflush(stdout) != 0 || ferror(stdout);
	e = out_errno ? out_errno : errno;

	if (fclose(stdout) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		fprintf(stderr, "longread: write error: %s\n", e ? strerror(e) : "unknown error");
		if (rc == LR_EXIT_OK)
			rc = LR_EXIT_ERROR;
	}
	return rc;
}

/* What every command takes, handled before the command sees its arguments: --quiet
 * (taken out), and llama.cpp's spellings that getopt cannot parse (-ctk, -ctv: one dash,
 * several letters) turned into their long forms.  Nothing after "--" is touched.
 * @return the new argc. */
static int global_options(int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--quiet") == 0) {
			cli_quiet();
			continue;
		}
		if (strcmp(argv[i], "-ctk") == 0)
			argv[i] = (char *)"--cache-type-k";
		else if (strcmp(argv[i], "-ctv") == 0)
			argv[i] = (char *)"--cache-type-v";
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	const char *name;
	int rc;

	wrap_stdout();
	argc = global_options(argc, argv);
	if (argc < 2)
		return cli_usage(NULL, "missing command");
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		print_help();
		return close_stdout(LR_EXIT_OK);
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		print_version();
		return close_stdout(LR_EXIT_OK);
	}
	if (name[0] == '-')
		return cli_usage(NULL, "unrecognized option '%s' (options go after the command)", name);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(name, commands[i].name) == 0) {
			rc = commands[i].run(argc - 1, argv + 1);
			return close_stdout(rc);
		}
	}
	{
		const char *names[N_COMMANDS + 1], *near;
		for (size_t i = 0; i < N_COMMANDS; i++)
			names[i] = commands[i].name;
		names[N_COMMANDS] = NULL;
		if ((near = cli_closest(name, names)))
			return cli_usage(NULL, "unknown command '%s'; did you mean '%s'?", name, near);
	}
	return cli_usage(NULL, "unknown command '%s'", name);
}
