/* extractors/extract.h — libextract: turn input paths (PDF, HTML, source trees, text)
 * into documents of UTF-8 text with provenance.  The library never prints or exits. */
#ifndef LR_EXTRACT_H
#define LR_EXTRACT_H

#include <stddef.h>

/* Write "libxml2 x, poppler y" (run-time versions) to buf, NUL-terminated. */
void lr_extract_versions(char *buf, size_t size);

#endif
