/* src/serve_engine.c — the engine of `longread serve`: one context, one thread, jobs one
 * at a time from a bounded queue.  The context keeps what it last read (the prompt
 * cache): a request whose tokens begin with what the cache holds prefills only the rest,
 * and a corpus request starts from the corpus file's saved KV instead of a prefill.
 * Workload: the same documents asked about again and again, so most requests reuse a
 * long prefix; a miss costs a prefill of up to the whole window. */
#include "src/serve.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ corpora */

int lr_serve_corpus_open(struct lr_server *sv, struct lr_serve_corpus *c, struct lr_err *err)
{
	struct lr_run_model *rm = &sv->rm;
	const struct lr_lrc_meta *meta;
	struct lr_pack_opts po;
	enum lr_kv_type kv;
	int rc;

	if ((rc = lr_lrc_open(&c->lrc, c->path, err)))
		return rc;
	meta = &c->lrc.meta;
	/* one cache holds every corpus in turn: the first one's KV type is the server's,
	 * unless --kv says otherwise */
	kv = (enum lr_kv_type)lr_ctxr_header(c->lrc.r)->kv_type;
	if (!sv->run.kv_given && c == sv->corpora)
		sv->run.cp.kv_type = kv;
	if ((rc = lr_lrc_check(&c->lrc, rm->m, sv->fp, sv->run.cp.kv_type, rm->m->hp.n_ctx_train, err))) {
		lr_err_prefix(err, "'%s': ", c->path);
		return rc;
	}
	/* the window as it was packed, as ask CORPUS.lrc rebuilds it */
	memset(&po, 0, sizeof po);
	if ((rc = lr_lrc_repack(&c->lrc, c->path, c->lrc.docs, rm->tok, &rm->chat, &po, &c->pack, err)))
		return rc;
	/* answers as long as ask CORPUS.lrc gives by default: ask's -n, within what the
	 * window leaves after the documents and the question room */
	c->room = meta->window > meta->n_prefix + meta->n_question ?
	          meta->window - meta->n_prefix - meta->n_question : 0;
	if (c->room > LR_SERVE_CORPUS_ANSWER)
		c->room = LR_SERVE_CORPUS_ANSWER;
	return 0;
}

void lr_serve_corpus_close(struct lr_serve_corpus *c)
{
	lr_pack_free(c->pack);
	lr_lrc_close(&c->lrc);
	free(c->name);
	c->pack = NULL;
	c->name = NULL;
}

/* ------------------------------------------------------------------ jobs and the queue */

struct lr_serve_job *lr_serve_job_new(void)
{
	struct lr_serve_job *j = calloc(1, sizeof *j);

	if (j)
		j->refs = 1;
	return j;
}

static void job_free(struct lr_serve_job *j)
{
	for (size_t i = 0; i < j->n_stop; i++)
		free(j->stop[i]);
	lr_tok_ids_release(&j->prompt);
	lr_buf_release(&j->text);
	lr_httpd_stream_unref(j->out);
	free(j);
}

void lr_serve_job_unref(struct lr_server *sv, struct lr_serve_job *j)
{
	int last;

	if (!j)
		return;
	pthread_mutex_lock(&sv->mu);
	last = --j->refs == 0;
	pthread_mutex_unlock(&sv->mu);
	if (last)
		job_free(j);
}

int lr_serve_submit(struct lr_server *sv, struct lr_serve_job *j)
{
	int rc = 0;

	pthread_mutex_lock(&sv->mu);
	if (sv->draining) {
		rc = 2;
	} else if (sv->n_queued + (sv->running != NULL) > sv->queue_max) {
		/* room for queue_max waiting beside the one running (an idle engine takes
		 * a job even with --queue 0) */
		rc = 1;
		sv->n_refused++;
	} else {
		j->refs++;
		j->state = LR_SERVE_QUEUED;
		j->t_queued = lr_run_now();
		j->next = NULL;
		if (sv->tail)
			sv->tail->next = j;
		else
			sv->head = j;
		sv->tail = j;
		sv->n_queued++;
		pthread_cond_signal(&sv->cv_work);
	}
	pthread_mutex_unlock(&sv->mu);
	return rc;
}

void lr_serve_wait(struct lr_server *sv, struct lr_serve_job *j, int (*gone)(const void *arg), const void *arg)
{
	struct timespec t;

	pthread_mutex_lock(&sv->mu);
	while (j->state != LR_SERVE_DONE && !j->gone) {
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 200 * 1000 * 1000;
		if (t.tv_nsec >= 1000 * 1000 * 1000) {
			t.tv_sec++;
			t.tv_nsec -= 1000 * 1000 * 1000;
		}
		if (pthread_cond_timedwait(&sv->cv_done, &sv->mu, &t) != 0 && gone && gone(arg))
			j->gone = 1;
	}
	pthread_mutex_unlock(&sv->mu);
}

/* The job is over: end its stream, wake its waiter, drop the queue's reference. */
static void finish(struct lr_server *sv, struct lr_serve_job *j)
{
	if (j->stream)
		lr_serve_stream_end(sv, j);
	pthread_mutex_lock(&sv->mu);
	j->state = LR_SERVE_DONE;
	pthread_cond_broadcast(&sv->cv_done);
	pthread_mutex_unlock(&sv->mu);
	lr_serve_job_unref(sv, j);
}

void lr_serve_drain(struct lr_server *sv)
{
	struct lr_serve_job *q;

	pthread_mutex_lock(&sv->mu);
	sv->draining = 1;
	q = sv->head;
	sv->head = sv->tail = NULL;
	sv->n_queued = 0;
	sv->stopping = 1;
	pthread_cond_broadcast(&sv->cv_work);
	pthread_mutex_unlock(&sv->mu);
	while (q) {
		struct lr_serve_job *next = q->next;
		q->status = 503;
		snprintf(q->error, sizeof q->error, "the server is shutting down");
		finish(sv, q);
		q = next;
	}
}

void lr_serve_cut(struct lr_server *sv)
{
	pthread_mutex_lock(&sv->mu);
	if (sv->running)
		sv->running->cancel = 1;
	pthread_mutex_unlock(&sv->mu);
}

int lr_serve_busy(struct lr_server *sv)
{
	int b;

	pthread_mutex_lock(&sv->mu);
	b = sv->running != NULL || sv->head != NULL;
	pthread_mutex_unlock(&sv->mu);
	return b;
}

/* ------------------------------------------------------------------ answering */

struct sink {
	struct lr_server *sv;
	struct lr_serve_job *j;
	int stopped;                  /* a stop string ended the answer */
	int gone;                     /* the client went away */
	int cut;                      /* the server is shutting down */
};

/* Stream what of the answer is sure not to be the start of a stop string. */
static void send_text(struct sink *k, int all)
{
	struct lr_serve_job *j = k->j;
	size_t safe = j->text.n;

	if (!all && j->stop_max)
		safe = safe > j->stop_max - 1 ? safe - (j->stop_max - 1) : 0;
	while (safe > j->sent && safe < j->text.n && ((unsigned char)j->text.p[safe] & 0xC0) == 0x80)
		safe--;   /* never split a character */
	if (safe > j->sent) {
		if (lr_serve_stream_text(k->sv, j, j->text.p + j->sent, safe - j->sent))
			k->gone = 1;
		j->sent = safe;
	}
}

static int on_text(void *arg, const char *s, size_t n)
{
	struct sink *k = arg;
	struct lr_serve_job *j = k->j;
	size_t from = j->text.n, best = SIZE_MAX;

	lr_buf_add(&j->text, s, n);
	if (lr_buf_failed(&j->text))
		return k->gone = 1;
	/* a stop string ending in the new piece: the answer ends where it starts */
	for (size_t i = 0; i < j->n_stop && n; i++) {
		size_t len = strlen(j->stop[i]), start = from >= len ? from - len + 1 : 0;
		const char *p = memmem(j->text.p + start, j->text.n - start, j->stop[i], len);
		if (p && (size_t)(p - j->text.p) < best)
			best = (size_t)(p - j->text.p);
	}
	if (best != SIZE_MAX) {
		j->text.n = best;
		j->text.p[best] = '\0';
		k->stopped = 1;
	}
	if (j->stream)
		send_text(k, k->stopped);
	pthread_mutex_lock(&k->sv->mu);
	k->cut = j->cancel;
	k->gone |= j->gone;
	pthread_mutex_unlock(&k->sv->mu);
	return k->stopped || k->gone || k->cut;
}

/* The job is to stop: the server is shutting down, or its client went away. */
static int stopped(struct lr_server *sv, const struct lr_serve_job *j)
{
	int s;

	pthread_mutex_lock(&sv->mu);
	s = j->cancel || j->gone;
	pthread_mutex_unlock(&sv->mu);
	return s;
}

static size_t common_prefix(const struct lr_tok_ids *a, const struct lr_tok_ids *b)
{
	size_t n = a->n < b->n ? a->n : b->n, i = 0;

	while (i < n && a->v[i] == b->v[i])
		i++;
	return i;
}

/* Bring the cache to j's prompt, prefilling only what it does not hold, and leave the
 * last prompt token's logits in sv->logits. */
static int read_prompt(struct lr_server *sv, struct lr_serve_job *j, struct lr_err *err)
{
	static const uint8_t none[LR_RUN_CHUNK];   /* no logits while prefilling */
	const struct lr_tok_ids *p = &j->prompt;
	uint32_t k, done;
	int rc;

	if (j->corpus && common_prefix(&sv->hist, p) < j->corpus->lrc.meta.n_prefix) {
		const struct lr_serve_corpus *c = j->corpus;
		uint32_t np = c->lrc.meta.n_prefix;
		sv->hist.n = 0;
		if ((rc = lr_ctx_kv_load(sv->ctx, np, np, c->lrc.kv, c->lrc.kv_len, err)))
			return rc;
		for (uint32_t i = 0; i < np; i++)
			if ((rc = lr_tok_ids_push(&sv->hist, c->lrc.tokens[i], err)))
				return rc;
		j->from_corpus = np;
	}
	k = (uint32_t)common_prefix(&sv->hist, p);
	if (k >= p->n)
		k = (uint32_t)p->n - 1;   /* the last token is read again for its logits */
	lr_ctx_rewind(sv->ctx, k);
	sv->hist.n = k;
	j->cached = k;
	if (j->from_corpus > k)
		j->from_corpus = k;
	/* a chunk at a time, so a shutdown or a client leaving stops a long prefill; the
	 * cache keeps what was read (its tokens in hist) for the next request */
	for (uint32_t at = k, n = (uint32_t)p->n - 1; at < n; at += done) {
		if (stopped(sv, j))
			return lr_errf(err, LR_EINTR, "stopped during the prefill (%" PRIu32 " of %" PRIu32 " tokens)",
			               at - k, n - k);
		done = n - at < LR_RUN_CHUNK ? n - at : LR_RUN_CHUNK;
		if ((rc = lr_eval(sv->ctx, p->v + at, done, none, NULL, err)))
			return rc;
		for (uint32_t i = at; i < at + done; i++)
			if ((rc = lr_tok_ids_push(&sv->hist, p->v[i], err)))
				return rc;
	}
	if ((rc = lr_eval(sv->ctx, p->v + p->n - 1, 1, NULL, sv->logits, err)))
		return rc;
	return lr_tok_ids_push(&sv->hist, p->v[p->n - 1], err);
}

static void run_job(struct lr_server *sv, struct lr_serve_job *j)
{
	struct lr_err err = { 0 };
	struct lr_sampler *smp = NULL;
	struct lr_run_gen g;
	struct sink k = { sv, j, 0, 0, 0 };
	int rc;

	j->t_start = lr_run_now();
	if (j->stream)
		lr_serve_stream_begin(sv, j);
	if (!(rc = read_prompt(sv, j, &err)) &&
	    !(rc = lr_sampler_new(&smp, &j->sp, sv->rm.m->hp.n_vocab, &err)))
		rc = lr_run_generate_to(sv->ctx, smp, sv->rm.tok, j->kind == LR_SERVE_CHAT ? &sv->rm.chat : NULL,
		                        sv->logits, j->max_tokens, &sv->hist, on_text, &k, &g, &err);
	lr_sampler_free(smp);
	j->t_end = lr_run_now();
	if (rc == LR_EINTR) {
		/* the cache holds what was read (hist says what): keep it */
		pthread_mutex_lock(&sv->mu);
		k.cut = j->cancel;
		k.gone = j->gone;
		pthread_mutex_unlock(&sv->mu);
		g.made = 0;
		rc = 0;
		goto stopped;
	}
	if (rc) {
		/* the cache may hold part of a batch: forget it all */
		lr_ctx_rewind(sv->ctx, 0);
		sv->hist.n = 0;
		j->status = 500;
		snprintf(j->error, sizeof j->error, "%s", err.msg[0] ? err.msg : lr_strerror(rc));
		return;
	}
	/* the last token sampled is not in the cache until it is read */
	if (sv->hist.n > lr_ctx_pos(sv->ctx))
		sv->hist.n = lr_ctx_pos(sv->ctx);
	j->made = g.made;
	j->t_first = g.t_first;
stopped:
	if (k.gone) {
		j->status = 499;   /* nginx's "client closed request": only the log sees it */
		snprintf(j->error, sizeof j->error, "the client went away after %" PRIu64 " tokens: answer "
		         "stopped", g.made);
		return;
	}
	if (k.cut) {
		j->status = 503;
		snprintf(j->error, sizeof j->error, "the server is shutting down: the answer was cut off "
		         "after %" PRIu64 " tokens", g.made);
		return;
	}
	j->finish = g.stop == LR_RUN_STOP_END || k.stopped ? "stop" : "length";
	if (j->stream && !k.gone)
		send_text(&k, 1);
}

static void *engine_main(void *arg)
{
	struct lr_server *sv = arg;
	struct lr_serve_job *j;
	int gone;

	pthread_mutex_lock(&sv->mu);
	for (;;) {
		while (!sv->head && !sv->stopping)
			pthread_cond_wait(&sv->cv_work, &sv->mu);
		if (!sv->head)
			break;
		j = sv->head;
		sv->head = j->next;
		if (!sv->head)
			sv->tail = NULL;
		sv->n_queued--;
		j->state = LR_SERVE_RUNNING;
		sv->running = j;
		gone = j->gone;
		pthread_mutex_unlock(&sv->mu);

		if (gone) {   /* its client left while it waited */
			j->status = 499;
			snprintf(j->error, sizeof j->error, "the client went away before its turn");
		} else {
			run_job(sv, j);
		}
		if (!j->status)
			fprintf(stderr, "longread: %s: prompt %zu tokens (%" PRIu32 " cached), answer %" PRIu64
			        " tokens (%s) in %.2f s, first token after %.2f s\n", j->id, j->prompt.n, j->cached,
			        j->made, j->finish, j->t_end - j->t_queued, j->t_first - j->t_queued);
		else
			fprintf(stderr, "longread: %s: %s\n", j->id, j->error);
		pthread_mutex_lock(&sv->mu);
		sv->running = NULL;
		sv->n_served++;
		pthread_mutex_unlock(&sv->mu);
		finish(sv, j);
		pthread_mutex_lock(&sv->mu);
	}
	pthread_mutex_unlock(&sv->mu);
	return NULL;
}

int lr_serve_engine_start(struct lr_server *sv, struct lr_err *err)
{
	struct lr_ctx_params cp = sv->run.cp;
	int rc;

	cp.n_ctx = sv->n_ctx;
	if ((rc = lr_run_ctx_new(&sv->ctx, sv->rm.m, &cp, err)))
		return rc;
	if (!(sv->logits = malloc(sizeof(float) * sv->rm.m->hp.n_vocab)))
		return lr_errf(err, LR_ENOMEM, "out of memory");
	if ((rc = pthread_create(&sv->thread, NULL, engine_main, sv)))
		return lr_errf_sys(err, rc, "cannot start the engine's thread");
	sv->started = 1;
	return 0;
}

void lr_serve_engine_stop(struct lr_server *sv)
{
	if (sv->started) {
		pthread_mutex_lock(&sv->mu);
		sv->stopping = 1;
		pthread_cond_broadcast(&sv->cv_work);
		pthread_mutex_unlock(&sv->mu);
		pthread_join(sv->thread, NULL);
		sv->started = 0;
	}
	lr_tok_ids_release(&sv->hist);
	free(sv->logits);
	lr_ctx_free(sv->ctx);
	sv->logits = NULL;
	sv->ctx = NULL;
}
