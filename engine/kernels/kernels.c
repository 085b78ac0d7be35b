/* engine/kernels/kernels.c — choose the kernel set for this CPU, once. */
#include "engine/kernels/kernels.h"

#include <stdlib.h>
#include <string.h>

const struct lr_kernels *lr_kernels_get(const char *name)
{
	if (strcmp(name, "scalar") == 0)
		return &lr_kernels_scalar;
	return NULL;
}

const struct lr_kernels *lr_kernels_best(void)
{
	static const struct lr_kernels *best;
	const char *env;

	if (best)
		return best;
	env = getenv("LONGREAD_KERNELS");
	if (env && lr_kernels_get(env))
		best = lr_kernels_get(env);
	else
		best = &lr_kernels_scalar;
	return best;
}
