/* src/cmd_logits.c — `longread logits -m MODEL --ids IDS --positions POS -o OUT.f32`:
 * run a token sequence through the model and write the full logit vectors at the
 * listed positions as little-endian float32 (the layout of ../shared/golden/models).
 * The tool behind the accuracy tests; --reference runs the slow oracle pass. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/forward.h"
#include "engine/kv.h"
#include "engine/model.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/ids.h"

#define CMD "logits"

static void usage(void)
{
	printf("Usage: longread logits -m MODEL.gguf --ids IDS --positions POS -o OUT.f32 [options]\n"
	       "\n"
	       "Run the token ids in IDS (one per line, '-' for stdin) through the model and\n"
	       "write the logits at each position listed in POS (one per line, 0-based, in that\n"
	       "order) to OUT.f32: for each, n_vocab little-endian float32 values.\n"
	       "\n"
	       "Options:\n"
	       "  -m, --model FILE     the GGUF model\n"
	       "      --ids FILE       token ids\n"
	       "      --positions FILE positions whose logits to write\n"
	       "  -o, --output FILE    where to write (replaced atomically)\n"
	       "      --kv TYPE        KV cache type: f32 (default), f16, q8, q4\n"
	       "  -t, --threads N      threads (default: all CPUs)\n"
	       "  -b, --batch N        tokens per prefill step (default 256)\n"
	       "      --reference      use the slow float64 reference pass (for checking)\n"
	       "  -h, --help           show this help and exit\n");
}

static int write_all(const char *path, const float *data, size_t n, struct lr_err *err)
{
	char tmp[4096];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "wb");
	if (!f)
		return lr_errf_sys(err, errno, "cannot create '%s'", tmp);
	ok = fwrite(data, sizeof(float), n, f) == n;
	ok &= fflush(f) == 0;
	ok &= fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return lr_errf_sys(err, e, "cannot write '%s'", path);
	}
	return 0;
}

int cmd_logits(int argc, char **argv)
{
	enum { O_IDS = 256, O_POS, O_KV, O_REF };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "ids", required_argument, NULL, O_IDS },
		{ "positions", required_argument, NULL, O_POS }, { "output", required_argument, NULL, 'o' },
		{ "kv", required_argument, NULL, O_KV }, { "threads", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' }, { "reference", no_argument, NULL, O_REF },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *model_path = NULL, *ids_path = NULL, *pos_path = NULL, *out_path = NULL;
	struct lr_ctx_params cp = { 0 };
	struct lr_model *m = NULL;
	struct lr_ctx *ctx = NULL;
	struct lr_err err = { 0 };
	int64_t *ids64 = NULL, *pos = NULL;
	int32_t *ids = NULL;
	uint8_t *want = NULL;
	uint32_t n_ids = 0, n_pos = 0, n_want = 0, *row_of = NULL;
	float *logits = NULL, *outbuf = NULL;
	uint64_t v;
	int c, rc, reference = 0;

	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":m:o:t:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model_path = optarg; break;
		case 'o': out_path = optarg; break;
		case O_IDS: ids_path = optarg; break;
		case O_POS: pos_path = optarg; break;
		case O_REF: reference = 1; break;
		case O_KV:
			if (lr_kv_type_parse(optarg, &cp.kv_type))
				return cli_usage(CMD, "invalid KV cache type '%s' (f32, f16, q8, q4)", optarg);
			break;
		case 't':
			if ((rc = cli_parse_u64(CMD, "--threads", optarg, 1, 1024, &v)))
				return rc;
			cp.n_threads = (int)v;
			break;
		case 'b':
			if ((rc = cli_parse_u64(CMD, "--batch", optarg, 1, 65536, &v)))
				return rc;
			cp.n_batch = (uint32_t)v;
			break;
		case 'h': usage(); return LR_EXIT_OK;
		default: return cli_opt_error(CMD, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!model_path || !ids_path || !pos_path || !out_path)
		return cli_usage(CMD, "-m, --ids, --positions and -o are all required");

	if ((rc = lr_model_open(&m, model_path, &err)))
		goto fail;
	if ((rc = lr_read_ints(ids_path, 0, (int64_t)m->hp.n_vocab - 1, &ids64, &n_ids, &err)))
		goto fail;
	if (n_ids == 0) {
		rc = lr_errf(&err, LR_EFORMAT, "'%s' holds no token ids", ids_path);
		goto fail;
	}
	if ((rc = lr_read_ints(pos_path, 0, (int64_t)n_ids - 1, &pos, &n_pos, &err)))
		goto fail;
	ids = malloc(n_ids * sizeof *ids);
	want = calloc(n_ids, 1);
	row_of = calloc(n_ids, sizeof *row_of);
	if (!ids || !want || !row_of) {
		rc = lr_errf(&err, LR_ENOMEM, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < n_ids; i++)
		ids[i] = (int32_t)ids64[i];
	for (uint32_t i = 0; i < n_pos; i++)
		want[pos[i]] = 1;
	for (uint32_t i = 0; i < n_ids; i++)
		if (want[i])
			row_of[i] = n_want++;
	logits = malloc((size_t)n_want * m->hp.n_vocab * sizeof *logits);
	outbuf = malloc((size_t)n_pos * m->hp.n_vocab * sizeof *outbuf + 1);
	if ((!logits && n_want) || !outbuf) {
		rc = lr_errf(&err, LR_ENOMEM, "out of memory for %" PRIu32 " logit vectors", n_want);
		goto fail;
	}
	if (reference) {
		rc = lr_forward_ref(m, ids, n_ids, want, logits, &err);
	} else {
		cp.n_ctx = n_ids;
		if ((rc = lr_ctx_new(&ctx, m, &cp, &err)))
			goto fail;
		rc = lr_eval(ctx, ids, n_ids, want, logits, &err);
	}
	if (rc)
		goto fail;
	for (uint32_t i = 0; i < n_pos; i++)
		memcpy(outbuf + (size_t)i * m->hp.n_vocab, logits + (size_t)row_of[pos[i]] * m->hp.n_vocab,
		       m->hp.n_vocab * sizeof *outbuf);
	if ((rc = write_all(out_path, outbuf, (size_t)n_pos * m->hp.n_vocab, &err)))
		goto fail;
	rc = LR_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	lr_ctx_free(ctx);
	lr_model_close(m);
	free(ids64);
	free(pos);
	free(ids);
	free(want);
	free(row_of);
	free(logits);
	free(outbuf);
	return rc;
}
