/* src/api_body.h — the request bodies of the OpenAI-compatible API, written with
 * src/json.c (as every JSON longread writes); src/api.c sends them and reads the
 * replies with jansson (src/json.h's writer and jansson's json_t API are kept in
 * separate files, so no file mixes the two). */
#ifndef LR_API_BODY_H
#define LR_API_BODY_H

#include <stddef.h>

#include "engine/err.h"
#include "src/api.h"

struct lr_api_body {
	char *p;      /* the JSON text, owned: free(p) */
	size_t n;
};

/* {"model", "messages": [system?, user], "stream": true, "stream_options":
 * {"include_usage": true}, "max_tokens", and the sampling values that are set}.
 * model may be NULL (not sent).  Errors: LR_ENOMEM. */
int lr_api_body_chat(struct lr_api_body *b, const char *model, const struct lr_api_chat *q,
                     struct lr_err *err);

/* POST /tokenize: llama-server's {"content", "add_special": false} (llama), else vLLM's
 * {"model", "prompt", "add_special_tokens": false}.  Errors: LR_ENOMEM. */
int lr_api_body_tokenize(struct lr_api_body *b, int llama, const char *model, const char *s, size_t n,
                         struct lr_err *err);

#endif
