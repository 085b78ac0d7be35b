/* engine/kernels/attn_select.c — which attention kernel set a CPU can run.  A set is
 * available exactly when the matmul kernel set of the same name is (kernels.c checks
 * the CPU features; the attention sets need no more than those). */
#include <string.h>

#include "engine/kernels/attn.h"
#include "engine/kernels/kernels.h"

#if defined(__x86_64__)
extern const struct lr_attn_kernels lr_attn_kernels_avx512;
#endif

const struct lr_attn_kernels *lr_attn_kernels_get(const char *name)
{
	if (strcmp(name, "scalar") == 0)
		return &lr_attn_kernels_scalar;
#if defined(__x86_64__)
	if (strcmp(name, "avx512") == 0 && lr_kernels_get("avx512"))
		return &lr_attn_kernels_avx512;
#endif
	return NULL;
}
