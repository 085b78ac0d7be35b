/* extractors/version.c — run-time versions of libextract's libraries, for --version. */
#include "extractors/extract.h"

#include <stdio.h>

#include <libxml/parser.h>
#include <poppler.h>

void lr_extract_versions(char *buf, size_t size)
{
	/* xmlParserVersion is "20914" for 2.9.14 */
	const char *x = xmlParserVersion;
	int v = 0;

	sscanf(x, "%d", &v);
	snprintf(buf, size, "libxml2 %d.%d.%d, poppler %s", v / 10000, v / 100 % 100, v % 100,
	         poppler_get_version());
}
