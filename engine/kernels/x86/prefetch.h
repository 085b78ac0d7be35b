/* engine/kernels/x86/prefetch.h — the software prefetch of the streaming decode kernels,
 * shared by the AVX-512 set (avx512.h) and the AVX2 one (qdot.h with QDOT_PREFETCH).
 *
 * Decode streams each weight once, and the hardware prefetcher alone left it at 45-60%
 * of the memory bound on a 2-core Xeon (the weight loads were the hot spots); every
 * streaming decode kernel asks for the bytes it is about to read, 4 KB ahead (into the
 * next rows): 90-95%.  Q4_0 24 -> 41 tok/s, Q8_0 14 -> 23; 1, 2, 8 and 16 KB ahead gave
 * Q4_0 32, 37, 40 and 38.  Plain SSE, so any x86-64 kernel file may include it. */
#ifndef LR_KERNELS_X86_PREFETCH_H
#define LR_KERNELS_X86_PREFETCH_H

#include <immintrin.h>

/* The bytes [p, p + bytes), 4 KB ahead */
static inline __attribute__((always_inline)) void prefetch_ahead(const void *p, int bytes)
{
	for (int k = 0; k < bytes; k += 64)
		_mm_prefetch((const char *)p + 4096 + k, _MM_HINT_T0);
}

#endif
