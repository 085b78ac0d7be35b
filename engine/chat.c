/* engine/chat.c — Llama 3 chat turns as token ids. */
#include "engine/chat.h"

#include <stdlib.h>
#include <string.h>

int lr_chat_init(struct lr_chat *c, const struct lr_tok *tok, struct lr_err *err)
{
	c->tok = tok;
	c->bos = lr_tok_bos(tok);
	c->eos = lr_tok_eos(tok);
	c->eot = lr_tok_eot(tok);
	c->start_header = lr_tok_find_special(tok, "<|start_header_id|>");
	c->end_header = lr_tok_find_special(tok, "<|end_header_id|>");
	c->eom = lr_tok_find_special(tok, "<|eom_id|>");
	if (c->bos < 0)
		c->bos = lr_tok_find_special(tok, "<|begin_of_text|>");
	if (c->start_header < 0 || c->end_header < 0 || c->eot < 0 || c->bos < 0)
		return lr_errf(err, LR_EUNSUPPORTED, "the vocabulary has no Llama 3 chat tokens "
			"(<|begin_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|>)");
	return 0;
}

int lr_chat_begin(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err)
{
	return lr_tok_ids_push(ids, c->bos, err);
}

int lr_chat_header(const struct lr_chat *c, const char *role, struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	if ((rc = lr_tok_ids_push(ids, c->start_header, err)) ||
	    (rc = lr_tok_encode(c->tok, role, strlen(role), 0, ids, err)) ||
	    (rc = lr_tok_ids_push(ids, c->end_header, err)))
		return rc;
	return 0;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The text between <|end_header_id|> and the next special token is "\n\n" followed by
 * the content; it is one stretch of text, so it is tokenized in one call, exactly as
 * the template's rendered string would be. */
int lr_chat_text(const struct lr_chat *c, const char *text, size_t len, struct lr_tok_ids *ids,
                 struct lr_err *err)
{
	char *buf;
	int rc;

	while (len && is_space(text[0]))
		text++, len--;
	while (len && is_space(text[len - 1]))
		len--;
	buf = malloc(len + 2);
	if (!buf)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	buf[0] = buf[1] = '\n';
	memcpy(buf + 2, text, len);
	rc = lr_tok_encode(c->tok, buf, len + 2, 0, ids, err);
	free(buf);
	return rc;
}

int lr_chat_end(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err)
{
	return lr_tok_ids_push(ids, c->eot, err);
}

int lr_chat_message(const struct lr_chat *c, const char *role, const char *content, size_t len,
                    struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	if ((rc = lr_chat_header(c, role, ids, err)) || (rc = lr_chat_text(c, content, len, ids, err)) ||
	    (rc = lr_chat_end(c, ids, err)))
		return rc;
	return 0;
}

int lr_chat_is_stop(const struct lr_chat *c, int32_t id)
{
	return id >= 0 && (id == c->eot || id == c->eom || id == c->eos);
}
