/* tests/tap.h — a minimal TAP producer for the C unit tests.
 * Plans are printed at the end (done_testing style); exit status is nonzero on any
 * failure.  tap_skip_all marks the whole program skipped (by its "1..0 # SKIP" plan:
 * the TAP driver takes exit 77 for an error). */
#ifndef LR_TAP_H
#define LR_TAP_H

#include <stddef.h>
#include <stdint.h>

/* Record one test; returns cond so callers can react to a failure. */
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A diagnostic line ("# ...") on stdout. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Compare integers / strings, printing both values on failure. */
int tap_is_int(int64_t got, int64_t want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int tap_is_str(const char *got, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print the plan and return the exit status for main. */
int tap_done(void);
/* Skip everything: prints "1..0 # SKIP reason" and returns 0. */
int tap_skip_all(const char *reason);

/* Where ../shared lives: $SHARED, else "../shared" relative to the source tree. */
const char *tap_shared(void);
/* 1 if golden/REL is readable under tap_shared(); else 0 after an "ok N # SKIP" line
 * naming it, so a test runs without ../shared and says what it left out. */
int tap_golden(const char *rel);
/* Read a whole file; returns a malloc'd buffer (NUL-terminated) or NULL. */
void *tap_slurp(const char *path, size_t *len);
/* Whitespace-separated decimal integers from a file (the golden .ids / .positions):
 * *out is a new array (free()) of *n values.  @return 0, or -1 if unreadable. */
int tap_read_uints(const char *path, uint32_t **out, uint32_t *n);
/* A whole file of exactly want float32 values, or NULL (wrong size, unreadable). */
float *tap_read_f32(const char *path, size_t want);

/* A small deterministic generator for test data (xorshift64), one stream per
 * program: tap_seed sets it (nonzero); tap_urand is uniform in (0, 1), tap_frand in
 * [-1, 1), tap_gauss standard normal (Box-Muller). */
void tap_seed(uint64_t seed);
double tap_urand(void);
float tap_frand(void);
float tap_gauss(void);
/* Relative L2 error of x against the reference r: |x - r| / |r|. */
double tap_rel_l2(const float *x, const float *r, size_t n);

/* A scratch directory for this test ($TESTTMP or tests/tmp), created if needed. */
const char *tap_tmpdir(void);

#endif
