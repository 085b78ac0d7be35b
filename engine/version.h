/* engine/version.h — versions of the libraries libengine is built on. */
#ifndef LR_ENGINE_VERSION_H
#define LR_ENGINE_VERSION_H

#include <stddef.h>

/* Write "PCRE2 x, OpenBLAS y, zstd z" (run-time versions) to buf, NUL-terminated. */
void lr_engine_versions(char *buf, size_t size);

#endif
