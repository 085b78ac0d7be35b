/* src/cli.h — what every longread command shares: exit codes, diagnostics on stderr,
 * option-parsing helpers.  Only src/ prints or exits; the libraries return codes. */
#ifndef LR_CLI_H
#define LR_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "engine/err.h"

/* Exit codes: documented in README.md, stable, append-only. */
enum lr_exit {
	LR_EXIT_OK          = 0,   /* success */
	LR_EXIT_ERROR       = 1,   /* any other failure, including a write error on stdout */
	LR_EXIT_USAGE       = 2,   /* bad command line */
	LR_EXIT_IO          = 3,   /* a file could not be opened, read or written */
	LR_EXIT_BADINPUT    = 4,   /* an input is malformed, truncated or corrupt */
	LR_EXIT_UNSUPPORTED = 5,   /* valid input longread does not handle (architecture, type) */
	LR_EXIT_NOFIT       = 6,   /* the documents do not fit in the context window */
	LR_EXIT_NOMEM       = 7,   /* out of memory */
	LR_EXIT_MISMATCH    = 8,   /* a saved context belongs to another model or settings */
	LR_EXIT_PASSWORD    = 9,   /* encrypted input, password missing or wrong */
	LR_EXIT_PARTIAL     = 10,  /* finished, but some inputs could not be read or were
	                              damaged; the others were processed (extract) */
	LR_EXIT_NET         = 11,  /* an API server could not be reached (DNS, connection,
	                              TLS, connect timeout) */
	LR_EXIT_SERVER      = 12,  /* an API server answered with an error status */
	LR_EXIT_REPLY       = 13,  /* an API server's reply stalled, was cut off or is
	                              malformed (a partial answer is marked so) */
	LR_EXIT_LISTEN      = 14,  /* serve: cannot listen on the address and port (in use,
	                              not permitted, no such address) */
	LR_EXIT_INTERRUPTED = 130, /* interrupted (SIGINT) */
};

/* The exit code for an LR_E* error code. */
int cli_exit_code(int lr_code);

/* Print "longread: <message>" for err and return its exit code. */
int cli_fail(const struct lr_err *err);

/* Print "longread: <formatted>" to stderr (no exit code mapping). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "longread: warning: <formatted>" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: "longread: <formatted>" then "Try 'longread <cmd> --help'." (or
 * "Try 'longread --help'." when cmd is NULL).  Returns LR_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report the option error getopt_long just returned ('?' or ':') for cmd; the short
 * option string must start with ':'.  Returns LR_EXIT_USAGE. */
int cli_opt_error(const char *cmd, int c, char **argv);

/* The long options of the command being parsed, for cli_opt_error's "did you mean"
 * (optional: without it there is no suggestion). */
void cli_options(const struct option *opts);

/* The candidate closest to word (a typo: edit distance at most 2, or a prefix of it),
 * or NULL.  names: NULL-terminated. */
const char *cli_closest(const char *word, const char *const *names);

/* --quiet: from now on only errors reach standard error (cli_error, cli_fail,
 * cli_usage); everything else written to it, warnings and progress included, is
 * dropped.  @return 0, or -1 if it could not be set up (then nothing changes). */
int cli_quiet(void);

/* Parse a whole decimal number in [lo, hi] given to option opt.  Returns 0, or prints
 * a usage error for cmd and returns LR_EXIT_USAGE. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
                  uint64_t *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi,
                     double *out);

/* Human-readable byte count: "1.50 GiB", "812 KiB", "17 B".  buf >= 16 bytes. */
const char *cli_bytes(uint64_t n, char *buf, unsigned size);

#endif
