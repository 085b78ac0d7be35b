/* src/api_body.c — request bodies for the API client, written into memory with the
 * streaming writer of src/json.c (strings are valid JSON whatever bytes they hold). */
#include "src/api_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/json.h"

struct mem {
	FILE *f;
	struct json j;
};

/* Start the object, with "model" first when there is one. */
static int open_(struct lr_api_body *b, struct mem *m, const char *model, struct lr_err *err)
{
	memset(b, 0, sizeof *b);
	if (!(m->f = open_memstream(&b->p, &b->n)))
		return lr_errf(err, LR_ENOMEM, "out of memory");
	json_init(&m->j, m->f, 0);
	json_obj(&m->j);
	if (model) {
		json_key(&m->j, "model");
		json_str(&m->j, model);
	}
	return 0;
}

static int close_(struct lr_api_body *b, struct mem *m, struct lr_err *err)
{
	int bad;

	json_obj_end(&m->j);
	bad = ferror(m->f);
	if (fclose(m->f) != 0 || bad || !b->p) {
		free(b->p);
		b->p = NULL;
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	return 0;
}

int lr_api_body_tokenize(struct lr_api_body *b, int llama, const char *model, const char *s, size_t n,
                         struct lr_err *err)
{
	struct mem m;
	struct json *j = &m.j;
	int rc;

	if ((rc = open_(b, &m, llama ? NULL : model, err)))
		return rc;
	if (llama) {
		json_key(j, "content"); json_strn(j, s, n);
		json_key(j, "add_special"); json_bool(j, 0);
	} else {
		json_key(j, "prompt"); json_strn(j, s, n);
		json_key(j, "add_special_tokens"); json_bool(j, 0);
	}
	return close_(b, &m, err);
}

static void message(struct json *j, const char *role, const char *content, size_t len)
{
	json_obj(j);
	json_key(j, "role"); json_str(j, role);
	json_key(j, "content"); json_strn(j, content, len);
	json_obj_end(j);
}

int lr_api_body_chat(struct lr_api_body *b, const char *model, const struct lr_api_chat *q,
                     struct lr_err *err)
{
	struct mem m;
	struct json *j = &m.j;
	int rc;

	if ((rc = open_(b, &m, model, err)))
		return rc;
	json_key(j, "messages");
	json_arr(j);
	if (q->system)
		message(j, "system", q->system, q->system_len);
	message(j, "user", q->user, q->user_len);
	json_arr_end(j);
	json_key(j, "stream"); json_bool(j, 1);
	json_key(j, "stream_options");
	json_obj(j);
	json_key(j, "include_usage"); json_bool(j, 1);
	json_obj_end(j);
	json_key(j, "max_tokens"); json_uint(j, q->max_tokens);
	if (q->temperature >= 0) { json_key(j, "temperature"); json_num(j, q->temperature); }
	if (q->top_p >= 0) { json_key(j, "top_p"); json_num(j, q->top_p); }
	if (q->top_k >= 0) { json_key(j, "top_k"); json_int(j, q->top_k); }
	if (q->min_p >= 0) { json_key(j, "min_p"); json_num(j, q->min_p); }
	if (q->repeat_penalty >= 0) {
		/* vLLM's name, then llama-server's */
		json_key(j, "repetition_penalty"); json_num(j, q->repeat_penalty);
		json_key(j, "repeat_penalty"); json_num(j, q->repeat_penalty);
	}
	if (q->seed >= 0) { json_key(j, "seed"); json_int(j, q->seed); }
	return close_(b, &m, err);
}
