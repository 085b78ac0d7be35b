/* tests/test_kvsave.c — saving and restoring a context's KV cache (lr_ctx_kv_save /
 * lr_ctx_kv_load, engine/kv.c) for every cache type: after a restore, the logits of
 * the next tokens are bit-identical to those of the context that never stopped;
 * restoring a prefix of a saved cache equals evaluating that prefix afresh; a saved
 * cache of another type, shape or size is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "engine/model.h"
#include "tests/tap.h"

#define N_SAVE 45   /* spans the 16 sinks and three key panels, ends mid-panel */
#define N_MORE 7

struct sink {
	uint8_t *p;
	uint64_t n, cap;
};

static int put(void *arg, const void *data, uint64_t len, struct lr_err *err)
{
	struct sink *s = arg;

	(void)err;
	if (s->n + len > s->cap) {
		s->cap = (s->n + len) * 2;
		s->p = realloc(s->p, s->cap);
	}
	memcpy(s->p + s->n, data, len);
	s->n += len;
	return 0;
}

static struct lr_model *model(void)
{
	char path[1024], cmd[4096];
	struct lr_model *m = NULL;
	const char *g = getenv("GENMODEL");

	snprintf(path, sizeof path, "%s/kvsave.gguf", tap_tmpdir());
	snprintf(cmd, sizeof cmd, "'%s' -o '%s' --type Q8_0 --layers 2", g && *g ? g : "tests/lr-genmodel", path);
	if (system(cmd) != 0 || lr_model_open(&m, path, NULL))
		return NULL;
	return m;
}

static void one_type(const struct lr_model *m, enum lr_kv_type t, const int32_t *ids)
{
	struct lr_ctx_params cp = { .n_ctx = 128, .n_threads = 2, .kv_type = t };
	struct lr_ctx *a = NULL, *b = NULL, *c = NULL;
	struct lr_err err = { 0 };
	struct sink s = { 0 };
	const size_t V = m->hp.n_vocab;
	float *la = malloc(N_MORE * V * 4), *lb = malloc(N_MORE * V * 4), *lc = malloc(N_MORE * V * 4);
	uint8_t want[N_MORE];
	const char *name = lr_kv_type_name(t);

	memset(want, 1, sizeof want);
	if (lr_ctx_new(&a, m, &cp, &err) || lr_ctx_new(&b, m, &cp, &err) || lr_ctx_new(&c, m, &cp, &err)) {
		tap_ok(0, "%s: contexts", name);
		tap_diag("%s", err.msg);
		goto out;
	}
	lr_eval(a, ids, N_SAVE, NULL, la, &err);
	tap_ok(lr_ctx_kv_save(a, N_SAVE, put, &s, &err) == 0 && s.n > 0, "%s: save %d tokens (%llu bytes)", name,
	       N_SAVE, (unsigned long long)s.n);
	tap_ok(lr_ctx_kv_load(b, N_SAVE, N_SAVE, s.p, s.n, &err) == 0 && lr_ctx_pos(b) == N_SAVE,
	       "%s: load them into a new context", name);
	lr_eval(a, ids + N_SAVE, N_MORE, want, la, &err);
	lr_eval(b, ids + N_SAVE, N_MORE, want, lb, &err);
	tap_ok(memcmp(la, lb, N_MORE * V * 4) == 0, "%s: the next tokens' logits are bit-identical after the restore",
	       name);
	/* a prefix of the saved cache equals evaluating that prefix afresh */
	lr_ctx_rewind(a, 0);
	lr_eval(a, ids, 20, NULL, la, &err);
	lr_eval(a, ids + 30, N_MORE, want, la, &err);
	tap_ok(lr_ctx_kv_load(c, 20, N_SAVE, s.p, s.n, &err) == 0 && lr_ctx_pos(c) == 20,
	       "%s: load the first 20 of the 45 saved tokens", name);
	lr_eval(c, ids + 30, N_MORE, want, lc, &err);
	tap_ok(memcmp(la, lc, N_MORE * V * 4) == 0, "%s: ... and continue as if those 20 had been evaluated", name);
	lr_ctx_rewind(c, 0);
	tap_ok(lr_ctx_kv_load(c, 12, N_SAVE, s.p, s.n, &err) == 0, "%s: a prefix shorter than the sinks loads too",
	       name);
	/* refusals */
	tap_ok(lr_ctx_kv_load(c, N_SAVE, N_SAVE, s.p, s.n - 1, &err) == LR_EFORMAT, "%s: a short cache is refused (%s)",
	       name, err.msg);
	tap_ok(lr_ctx_kv_load(c, N_SAVE + 1, N_SAVE, s.p, s.n, &err) == LR_ERANGE, "%s: loading more than was saved "
	       "is refused", name);
	tap_ok(lr_ctx_kv_save(c, 100, put, &s, &err) == LR_ERANGE, "%s: saving tokens not evaluated is refused", name);
	{
		struct lr_ctx_params other = cp;
		struct lr_ctx *d = NULL;
		other.kv_type = t == LR_KV_Q8 ? LR_KV_Q4 : LR_KV_Q8;
		if (lr_ctx_new(&d, m, &other, &err) == 0)
			tap_ok(lr_ctx_kv_load(d, N_SAVE, N_SAVE, s.p, s.n, &err) == LR_EMISMATCH,
			       "%s: a %s context refuses it (%s)", name, lr_kv_type_name(other.kv_type), err.msg);
		lr_ctx_free(d);
	}
out:
	free(s.p);
	free(la);
	free(lb);
	free(lc);
	lr_ctx_free(a);
	lr_ctx_free(b);
	lr_ctx_free(c);
}

int main(void)
{
	struct lr_model *m = model();
	int32_t ids[N_SAVE + N_MORE];

	if (!tap_ok(m != NULL, "a generated model loads"))
		return tap_done();
	for (int i = 0; i < N_SAVE + N_MORE; i++)
		ids[i] = (i * 7919 + 3) % (int32_t)m->hp.n_vocab;
	for (int t = 0; t < LR_KV_TYPE_COUNT; t++)
		one_type(m, (enum lr_kv_type)t, ids);
	lr_model_close(m);
	return tap_done();
}
