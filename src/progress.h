/* src/progress.h — prefill speed: measuring it chunk by chunk, predicting how long a
 * prefill takes, the progress line on stderr, and the record of measured speeds that
 * `plan` reads ("the measured speed of this machine").
 *
 * Model: evaluating the tokens at positions [p0, p1) takes a·(p1-p0) + b·Σ positions:
 * a is the per-token cost (the weight matrices), b the attention cost per token of
 * depth.  a and b are fitted by least squares over the chunks of a real prefill. */
#ifndef LR_PROGRESS_H
#define LR_PROGRESS_H

#include <stdint.h>

#include "engine/err.h"

struct lr_speed {
	double a;              /* seconds per token */
	double b;              /* seconds per token per position of depth */
	uint64_t tokens;       /* how deep the measurement went */
	int threads;
	int64_t when;          /* unix time of the measurement */
	/* private: sums for the fit */
	double s11, s12, s22, s1t, s2t, st;
	uint64_t n;
};

/* Add one measured chunk: positions [p0, p1) took t seconds. */
void lr_speed_add(struct lr_speed *s, uint64_t p0, uint64_t p1, double t);
/* Fit a and b from the chunks so far (b >= 0).  @return 0, or -1 with too little data. */
int lr_speed_fit(struct lr_speed *s);
/* Predicted seconds to evaluate positions [p0, p1). */
double lr_speed_predict(const struct lr_speed *s, uint64_t p0, uint64_t p1);

/* The record: one line per model fingerprint and KV type in
 * $LONGREAD_CACHE_DIR/speed.tsv (default $XDG_CACHE_HOME/longread, else
 * ~/.cache/longread).  load: 0, or LR_ENOTFOUND.  save: replaces the entry unless the
 * stored one measured more than twice as deep; failures are silent (the record is a
 * convenience) and reported only through the return value. */
int lr_speed_load(const char *fingerprint, const char *kv, struct lr_speed *out);
int lr_speed_save(const char *fingerprint, const char *kv, const struct lr_speed *s);

/* ------------------------------------------------------------------ the progress line */

struct lr_progress {
	int on;                /* drawing at all */
	int tty;               /* redraw in place; else one line per update, at most 1/s */
	const char *what;
	uint64_t total;
	double t0, last;
};

/* Start a progress line for total tokens: drawn when stderr is a terminal, or always
 * with force (--progress). */
void lr_progress_start(struct lr_progress *pg, const char *what, uint64_t total, int force);
/* done tokens so far; eta in seconds (< 0: from the average speed). */
void lr_progress_update(struct lr_progress *pg, uint64_t done, double eta);
/* The end: on a terminal the line is cleared (the caller prints the one summary line);
 * with --progress on a pipe, a last line says it is done. */
void lr_progress_end(struct lr_progress *pg, uint64_t done);
/* Clear a progress line drawn on the terminal, before another message is printed over
 * it (cli.c's messages call it); it is drawn again at its next update. */
void lr_progress_clear(void);

/* "1:05", "12:00:00", "4.2 s" for durations. */
const char *lr_duration(double s, char *buf, unsigned size);
/* "131,072": a count with thousands separators. */
const char *lr_count(uint64_t n, char *buf, unsigned size);

#endif
