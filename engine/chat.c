/* engine/chat.c — chat turns as token ids, in the formats of engine/chat.h. */
#include "engine/chat.h"

#include <stdlib.h>
#include <string.h>

#define DS_BOS  "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"
#define DS_EOS  "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"
#define DS_USER "<\xEF\xBD\x9CUser\xEF\xBD\x9C>"
#define DS_ASST "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>"

static const char *const names[] = {
	[LR_CHAT_LLAMA3] = "llama3", [LR_CHAT_CHATML] = "chatml", [LR_CHAT_DEEPSEEK_R1] = "deepseek-r1",
	[LR_CHAT_MISTRAL] = "mistral",
};

const char *lr_chat_format_name(enum lr_chat_format f)
{
	return f > LR_CHAT_NONE && f <= LR_CHAT_MISTRAL ? names[f] : NULL;
}

const char *lr_chat_format_list(void)
{
	return "llama3, chatml, deepseek-r1, mistral";
}

enum lr_chat_format lr_chat_format_parse(const char *name)
{
	for (int f = LR_CHAT_LLAMA3; f <= LR_CHAT_MISTRAL; f++)
		if (strcmp(name, names[f]) == 0)
			return (enum lr_chat_format)f;
	if (strcmp(name, "llama-3") == 0)
		return LR_CHAT_LLAMA3;
	if (strcmp(name, "qwen") == 0)
		return LR_CHAT_CHATML;
	return LR_CHAT_NONE;
}

static int has(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

/* By the markers the template writes.  DeepSeek-R1-Distill-Llama keeps Llama 3's
 * vocabulary, so its markers are tested before Llama 3's names could match. */
enum lr_chat_format lr_chat_detect(const char *t, size_t n)
{
	if (has(t, n, DS_USER) && has(t, n, DS_ASST))
		return LR_CHAT_DEEPSEEK_R1;
	if (has(t, n, "<|start_header_id|>") && has(t, n, "<|end_header_id|>"))
		return LR_CHAT_LLAMA3;
	if (has(t, n, "<|im_start|>") && has(t, n, "<|im_end|>"))
		return LR_CHAT_CHATML;
	if (has(t, n, "[INST]") && has(t, n, "[/INST]"))
		return LR_CHAT_MISTRAL;
	return LR_CHAT_NONE;
}

enum lr_chat_format lr_chat_detect_vocab(const struct lr_tok *tok)
{
	if (lr_tok_find_special(tok, "<|start_header_id|>") >= 0 && lr_tok_find_special(tok, "<|eot_id|>") >= 0)
		return LR_CHAT_LLAMA3;
	if (lr_tok_find_special(tok, "<|im_start|>") >= 0 && lr_tok_find_special(tok, "<|im_end|>") >= 0)
		return LR_CHAT_CHATML;
	return LR_CHAT_NONE;
}

static void add_stop(struct lr_chat *c, int32_t id)
{
	if (id < 0 || c->n_stop == LR_CHAT_MAX_STOP)
		return;
	for (int i = 0; i < c->n_stop; i++)
		if (c->stop[i] == id)
			return;
	c->stop[c->n_stop++] = id;
}

/* A token the format needs: *id, or the error naming it. */
static int need(const struct lr_tok *tok, enum lr_chat_format f, const char *text, int32_t *id,
                struct lr_err *err)
{
	if ((*id = lr_tok_find_special(tok, text)) >= 0)
		return 0;
	return lr_errf(err, LR_EUNSUPPORTED, "the vocabulary has no %s token, which the %s chat format needs",
		text, names[f]);
}

int lr_chat_init(struct lr_chat *c, const struct lr_tok *tok, enum lr_chat_format f, struct lr_err *err)
{
	/* what llama.cpp counts as ending generation, where the vocabulary has it */
	static const char *const ends[] = {
		"<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|endoftext|>", DS_EOS, "</s>",
		"<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
	};
	int rc = 0;

	memset(c, 0, sizeof *c);
	c->tok = tok;
	c->format = f;
	c->open = c->close = -1;
	c->bos = lr_tok_add_bos(tok) ? lr_tok_bos(tok) : -1;
	c->lead = "";
	switch (f) {
	case LR_CHAT_LLAMA3:
		c->lead = "\n\n";
		if (c->bos < 0)
			c->bos = lr_tok_find_special(tok, "<|begin_of_text|>");
		if (c->bos < 0)
			rc = need(tok, f, "<|begin_of_text|>", &c->bos, err);
		if (!rc && !(rc = need(tok, f, "<|start_header_id|>", &c->open, err)) &&
		    !(rc = need(tok, f, "<|end_header_id|>", &c->close, err)) && (c->eot = lr_tok_eot(tok)) < 0)
			rc = need(tok, f, "<|eot_id|>", &c->eot, err);
		break;
	case LR_CHAT_CHATML:
		c->bos = -1;   /* Qwen2.5's template writes none, whatever add_bos says */
		if (!(rc = need(tok, f, "<|im_start|>", &c->open, err)))
			rc = need(tok, f, "<|im_end|>", &c->eot, err);
		break;
	case LR_CHAT_DEEPSEEK_R1:
		if (c->bos < 0)
			c->bos = lr_tok_find_special(tok, DS_BOS);
		if (!(rc = need(tok, f, DS_USER, &c->open, err)) && !(rc = need(tok, f, DS_ASST, &c->close, err)) &&
		    (c->eot = lr_tok_eos(tok)) < 0)
			rc = need(tok, f, DS_EOS, &c->eot, err);
		break;
	case LR_CHAT_MISTRAL:
		c->open = lr_tok_find_special(tok, "[INST]");    /* Mistral v3 vocabularies; else text */
		c->close = lr_tok_find_special(tok, "[/INST]");
		if ((c->eot = lr_tok_eos(tok)) < 0)
			rc = need(tok, f, "</s>", &c->eot, err);
		break;
	default:
		rc = lr_errf(err, LR_EINVAL, "no chat format");
	}
	if (rc)
		return rc;
	add_stop(c, c->eot);
	add_stop(c, lr_tok_eos(tok));
	add_stop(c, lr_tok_eot(tok));
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
		add_stop(c, lr_tok_find_special(tok, ends[i]));
	return 0;
}

static int push(struct lr_tok_ids *ids, int32_t id, struct lr_err *err)
{
	return id < 0 ? 0 : lr_tok_ids_push(ids, id, err);
}

static int text(const struct lr_chat *c, const char *s, struct lr_tok_ids *ids, struct lr_err *err)
{
	return lr_tok_encode(c->tok, s, strlen(s), 0, ids, err);
}

/* A Mistral marker: its special token, or its text. */
static int marker(const struct lr_chat *c, int32_t id, const char *s, struct lr_tok_ids *ids, struct lr_err *err)
{
	return id >= 0 ? lr_tok_ids_push(ids, id, err) : text(c, s, ids, err);
}

int lr_chat_begin(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err)
{
	return push(ids, c->bos, err);
}

int lr_chat_header(const struct lr_chat *c, const char *role, struct lr_tok_ids *ids, struct lr_err *err)
{
	int user = strcmp(role, "user") == 0, asst = strcmp(role, "assistant") == 0;
	int rc;

	switch (c->format) {
	case LR_CHAT_LLAMA3:
		if ((rc = lr_tok_ids_push(ids, c->open, err)) || (rc = text(c, role, ids, err)))
			return rc;
		return lr_tok_ids_push(ids, c->close, err);
	case LR_CHAT_CHATML:
		if ((rc = lr_tok_ids_push(ids, c->open, err)) || (rc = text(c, role, ids, err)))
			return rc;
		return text(c, "\n", ids, err);
	case LR_CHAT_DEEPSEEK_R1:
		/* the system prompt is bare text after the BOS */
		return user ? push(ids, c->open, err) : asst ? push(ids, c->close, err) : 0;
	case LR_CHAT_MISTRAL:
		/* a user turn right after the system message continues its [INST] */
		if (asst || (user && ids->n && ids->v[ids->n - 1] != c->bos && ids->v[ids->n - 1] != c->eot))
			return 0;
		if ((rc = marker(c, c->open, "[INST]", ids, err)))
			return rc;
		return text(c, " ", ids, err);
	default:
		return lr_errf(err, LR_EINVAL, "no chat format");
	}
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The content is one stretch of text (after the lead), so it is tokenized in one call,
 * exactly as the template's rendered string would be. */
int lr_chat_text(const struct lr_chat *c, const char *s, size_t len, struct lr_tok_ids *ids,
                 struct lr_err *err)
{
	size_t lead = strlen(c->lead);
	char *buf;
	int rc;

	while (len && is_space(s[0]))
		s++, len--;
	while (len && is_space(s[len - 1]))
		len--;
	buf = malloc(len + lead + 1);
	if (!buf)
		return lr_errf(err, LR_ENOMEM, "out of memory");
	memcpy(buf, c->lead, lead);
	memcpy(buf + lead, s, len);
	rc = lr_tok_encode(c->tok, buf, len + lead, 0, ids, err);
	free(buf);
	return rc;
}

int lr_chat_end(const struct lr_chat *c, const char *role, struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	switch (c->format) {
	case LR_CHAT_CHATML:
		if ((rc = lr_tok_ids_push(ids, c->eot, err)))
			return rc;
		return text(c, "\n", ids, err);
	case LR_CHAT_DEEPSEEK_R1:
		return strcmp(role, "assistant") == 0 ? lr_tok_ids_push(ids, c->eot, err) : 0;
	case LR_CHAT_MISTRAL:
		if (strcmp(role, "system") == 0)
			return text(c, "\n\n", ids, err);
		if (strcmp(role, "user") == 0)
			return marker(c, c->close, "[/INST]", ids, err);
		return lr_tok_ids_push(ids, c->eot, err);
	default:
		return lr_tok_ids_push(ids, c->eot, err);
	}
}

int lr_chat_message(const struct lr_chat *c, const char *role, const char *content, size_t len,
                    struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	if ((rc = lr_chat_header(c, role, ids, err)) || (rc = lr_chat_text(c, content, len, ids, err)) ||
	    (rc = lr_chat_end(c, role, ids, err)))
		return rc;
	return 0;
}

int lr_chat_prompt(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err)
{
	int rc;

	if ((rc = lr_chat_header(c, "assistant", ids, err)))
		return rc;
	if (c->format == LR_CHAT_DEEPSEEK_R1)
		return text(c, "<think>\n", ids, err);
	return text(c, c->lead, ids, err);
}

int lr_chat_is_stop(const struct lr_chat *c, int32_t id)
{
	for (int i = 0; id >= 0 && i < c->n_stop; i++)
		if (c->stop[i] == id)
			return 1;
	return 0;
}
