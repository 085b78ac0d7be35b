/* src/cmd_tokenize.c — `longread tokenize (-m MODEL.gguf | --vocab VOCAB.gguf)
 * [--special] [--count|--show] [--bos] FILE|-...`: the model's token ids for each file,
 * one per line (or with their text), or just how many there are.  Text is plain text unless --special is given. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/gguf.h"
#include "engine/tok.h"
#include "src/cli.h"
#include "src/commands.h"

#define CMD "tokenize"

static void usage(void)
{
	printf("Usage: longread tokenize (-m MODEL.gguf | --vocab VOCAB.gguf) [options] FILE|-...\n"
	       "\n"
	       "Print the token ids of each FILE (or of standard input for '-') with the model's\n"
	       "tokenizer (Llama 3 or Qwen2), one per line; several files: each under a\n"
	       "'==> FILE <==' line.  The text is taken as plain text: '<|eot_id|>' in it is\n"
	       "ordinary text unless --special is given.  No BOS is added unless --bos.\n"
	       "Invalid UTF-8 is read as U+FFFD (one per maximal invalid sequence).\n"
	       "\n"
	       "Options:\n"
	       "  -m, --model FILE   the GGUF model whose tokenizer to use\n"
	       "      --vocab FILE   the same, for a vocabulary-only GGUF\n"
	       "      --special      make the text of special tokens (<|eot_id|>) those tokens\n"
	       "      --bos          put the BOS token (<|begin_of_text|>) first\n"
	       "  -c, --count        print only the number of tokens (several files: one line\n"
	       "                     each, then the total, as wc does)\n"
	       "      --show         each token with its text, as llama-tokenize shows them:\n"
	       "                     \"   9906 -> 'Hello'\" (control characters and pieces of\n"
	       "                     characters escaped)\n"
	       "  -h, --help         show this help and exit\n");
}

/* Read all of path ("-": standard input) into a new buffer. */
static int slurp(const char *path, char **out, size_t *len, struct lr_err *err)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 0;
	char *buf = NULL;
	int rc = 0;

	if (fd < 0)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	for (;;) {
		ssize_t r;
		if (cap - n < 65536) {
			char *b;
			cap = cap ? 2 * cap : 1 << 20;
			if (!(b = realloc(buf, cap))) {
				rc = lr_errf(err, LR_ENOMEM, "out of memory reading '%s'", path);
				goto out;
			}
			buf = b;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = lr_errf_sys(err, errno, "cannot read '%s'", strcmp(path, "-") ? path : "standard input");
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return rc;
}

static void print_ids(const int32_t *ids, size_t n)
{
	char line[16];

	for (size_t i = 0; i < n; i++) {
		int k = snprintf(line, sizeof line, "%" PRId32 "\n", ids[i]);
		fwrite(line, 1, (size_t)k, stdout);
	}
}

/* Each token with its text, as llama.cpp's llama-tokenize shows them:
 *   "  9906 -> 'Hello'"; control characters, quotes, backslashes and bytes that are not
 * valid UTF-8 on their own (a piece of a character) escaped. */
static void print_show(const struct lr_tok *tok, const int32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const unsigned char *p = (const unsigned char *)lr_tok_piece(tok, ids[i], &len);
		printf("%7" PRId32 " -> '", ids[i]);
		for (size_t j = 0; p && j < len; j++) {
			unsigned char ch = p[j];
			size_t k = ch < 0x80 ? 1 : (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : (ch & 0xf8) == 0xf0 ? 4 : 0;
			int whole = k > 1 && j + k <= len;
			for (size_t m = 1; whole && m < k; m++)
				whole = (p[j + m] & 0xc0) == 0x80;
			if (ch == '\n') printf("\\n");
			else if (ch == '\t') printf("\\t");
			else if (ch == '\r') printf("\\r");
			else if (ch == '\'' || ch == '\\') printf("\\%c", ch);
			else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !whole)) printf("\\x%02x", ch);
			else if (ch < 0x80) putchar(ch);
			else {
				fwrite(p + j, 1, k, stdout);
				j += k - 1;
			}
		}
		printf("'\n");
	}
}

int cmd_tokenize(int argc, char **argv)
{
	enum { O_VOCAB = 256, O_SPECIAL, O_BOS, O_SHOW };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "vocab", required_argument, NULL, O_VOCAB },
		{ "special", no_argument, NULL, O_SPECIAL },
		{ "bos", no_argument, NULL, O_BOS },
		{ "count", no_argument, NULL, 'c' },
		{ "show", no_argument, NULL, O_SHOW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *input;
	struct lr_gguf *g = NULL;
	struct lr_tok *tok = NULL;
	struct lr_tok_ids ids = { 0 };
	struct lr_err err = { 0 };
	unsigned flags = 0;
	int count = 0, bos = 0, show = 0, c, rc;
	char *text = NULL;
	size_t len = 0, total = 0;

	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":m:ch", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case O_VOCAB:
			if (model)
				return cli_usage(CMD, "give one model or vocabulary (-m or --vocab), not two");
			model = optarg;
			break;
		case O_SPECIAL: flags |= LR_TOK_SPECIAL; break;
		case O_BOS: bos = 1; break;
		case 'c': count = 1; break;
		case O_SHOW: show = 1; break;
		case 'h': usage(); return LR_EXIT_OK;
		default: return cli_opt_error(CMD, c, argv);
		}
	}
	if (!model)
		return cli_usage(CMD, "missing -m MODEL.gguf or --vocab VOCAB.gguf");
	if (optind == argc)
		return cli_usage(CMD, "missing input file (use '-' for standard input)");
	if (count && show)
		return cli_usage(CMD, "give --count or --show, not both");
	for (int i = optind; i < argc; i++)
		for (int j = optind; j < i; j++)
			if (strcmp(argv[i], "-") == 0 && strcmp(argv[j], "-") == 0)
				return cli_usage(CMD, "standard input ('-') given twice");

	if ((rc = lr_gguf_open(&g, model, &err)))
		goto fail;
	if ((rc = lr_tok_new(&tok, g, &err))) {
		lr_err_prefix(&err, "'%s': ", model);
		goto fail;
	}
	lr_gguf_close(g);
	g = NULL;
	if (bos && lr_tok_bos(tok) < 0) {
		lr_errf(&err, LR_ENOTFOUND, "'%s' has no BOS token (tokenizer.ggml.bos_token_id)", model);
		goto fail;
	}
	/* several files: counts as wc prints them (then a total), ids under a header each */
	for (int i = optind; i < argc; i++) {
		input = argv[i];
		ids.n = 0;
		free(text);
		text = NULL;
		if ((rc = slurp(input, &text, &len, &err)))
			goto fail;
		if (bos && (rc = lr_tok_ids_push(&ids, lr_tok_bos(tok), &err)))
			goto fail;
		if (count) {
			size_t n;
			if ((rc = lr_tok_count(tok, text, len, flags, &n, &err)))
				goto fail;
			total += n + ids.n;
			if (argc - optind > 1)
				printf("%zu %s\n", n + ids.n, input);
			else
				printf("%zu\n", n + ids.n);
			continue;
		}
		if ((rc = lr_tok_encode(tok, text, len, flags, &ids, &err)))
			goto fail;
		if (argc - optind > 1)
			printf("%s==> %s <==\n", i > optind ? "\n" : "", input);
		if (show)
			print_show(tok, ids.v, ids.n);
		else
			print_ids(ids.v, ids.n);
	}
	if (count && argc - optind > 1)
		printf("%zu total\n", total);
	rc = LR_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	lr_tok_ids_release(&ids);
	free(text);
	lr_tok_free(tok);
	lr_gguf_close(g);
	return rc;
}
