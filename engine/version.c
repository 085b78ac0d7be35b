/* engine/version.c — run-time versions of libengine's libraries, for --version. */
#include "engine/version.h"

#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cblas.h>
#include <pcre2.h>
#include <zstd.h>

void lr_engine_versions(char *buf, size_t size)
{
	char pcre[64] = "?";
	char blas[64];
	const char *cfg = openblas_get_config();

	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	pcre[strcspn(pcre, " ")] = '\0';   /* "10.42 2022-12-11" -> "10.42" */
	/* "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..." -> keep the first two words */
	snprintf(blas, sizeof blas, "%s", cfg ? cfg : "OpenBLAS ?");
	{
		char *sp = strchr(blas, ' ');
		if (sp && (sp = strchr(sp + 1, ' ')))
			*sp = '\0';
	}
	snprintf(buf, size, "PCRE2 %s, %s, zstd %s", pcre, blas, ZSTD_versionString());
}
