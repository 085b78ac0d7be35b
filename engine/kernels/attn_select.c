/* engine/kernels/attn_select.c — which attention kernel set a CPU can run.  A set is
 * available exactly when the matmul kernel set of the same name is (kernels.c checks
 * the CPU features); the AVX-512 set adds bf16 value products where the CPU has
 * AVX512_BF16. */
#include <string.h>

#include "engine/kernels/attn.h"
#include "engine/kernels/kernels.h"

#if defined(__x86_64__)
extern const struct lr_attn_kernels lr_attn_kernels_avx2, lr_attn_kernels_avx512, lr_attn_kernels_avx512bf16;
#endif

const struct lr_attn_kernels *lr_attn_kernels_get(const char *name)
{
	if (strcmp(name, "scalar") == 0)
		return &lr_attn_kernels_scalar;
#if defined(__x86_64__)
	if (strcmp(name, "avx2") == 0 && lr_kernels_get("avx2"))
		return &lr_attn_kernels_avx2;
	/* the bf16 value products (vdpbf16ps) when the CPU has them */
	if (strcmp(name, "avx512") == 0 && lr_kernels_get("avx512"))
		return __builtin_cpu_supports("avx512bf16") ? &lr_attn_kernels_avx512bf16 : &lr_attn_kernels_avx512;
#endif
	return NULL;
}
