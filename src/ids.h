/* src/ids.h — reading lists of decimal integers (token ids, positions), one per line. */
#ifndef LR_IDS_H
#define LR_IDS_H

#include <stdint.h>

#include "engine/err.h"

/* Read path ("-" for stdin): one integer per line, blank lines and surrounding spaces
 * ignored, each in [lo, hi].  On success *out is a new array (free it) of *n values.
 * Errors: LR_EIO, LR_EFORMAT (message names the line), LR_ENOMEM. */
int lr_read_ints(const char *path, int64_t lo, int64_t hi, int64_t **out, uint32_t *n, struct lr_err *err);

#endif
