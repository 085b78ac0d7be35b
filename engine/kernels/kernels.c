/* engine/kernels/kernels.c — choose the kernel set for this CPU, once. */
#include "engine/kernels/kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
extern const struct lr_kernels lr_kernels_avx2, lr_kernels_avx512;

static int has_avx2(void)
{
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
	       __builtin_cpu_supports("f16c");
}

static int has_avx512(void)
{
	return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
	       __builtin_cpu_supports("avx512vnni");
}
#endif

const struct lr_kernels *lr_kernels_get(const char *name)
{
	if (strcmp(name, "scalar") == 0)
		return &lr_kernels_scalar;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (strcmp(name, "avx2") == 0 && has_avx2())
		return &lr_kernels_avx2;
	if (strcmp(name, "avx512") == 0 && has_avx512())
		return &lr_kernels_avx512;
#endif
	return NULL;
}

const struct lr_kernels *lr_kernels_best(void)
{
	static const struct lr_kernels *best;
	const char *env;

	if (best)
		return best;
	env = getenv("LONGREAD_KERNELS");
	if (env && lr_kernels_get(env)) {
		best = lr_kernels_get(env);
		return best;
	}
	best = lr_kernels_get("avx512");
	if (!best)
		best = lr_kernels_get("avx2");
	if (!best)
		best = &lr_kernels_scalar;
	return best;
}
