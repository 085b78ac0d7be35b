/* engine/fp16.h — IEEE half and bfloat16 conversions, portable and exact.
 * f32 -> f16/bf16 round to nearest even; NaN stays NaN; overflow gives infinity. */
#ifndef LR_FP16_H
#define LR_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t lr_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float lr_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline float lr_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;

	if (exp == 0x1f)                       /* inf / nan */
		return lr_bits_f32(sign | 0x7f800000u | (man << 13));
	if (exp == 0) {
		if (man == 0)
			return lr_bits_f32(sign);
		/* subnormal: man * 2^-24 */
		float f = (float)man * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	return lr_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

static inline uint16_t lr_f32_to_f16(float f)
{
	uint32_t u = lr_f32_bits(f);
	uint32_t sign = (u >> 16) & 0x8000;
	uint32_t a = u & 0x7fffffffu;

	if (a >= 0x7f800000u)                  /* inf or nan */
		return (uint16_t)(sign | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
	if (a >= 0x477ff000u)                  /* rounds to >= 65520: overflow */
		return (uint16_t)(sign | 0x7c00);
	if (a < 0x38800000u) {                 /* below 2^-14: subnormal or zero */
		/* value * 2^24 rounded to nearest even gives the subnormal mantissa */
		float v = lr_bits_f32(a) * 16777216.0f;
		uint32_t m = (uint32_t)v;
		float rem = v - (float)m;
		if (rem > 0.5f || (rem == 0.5f && (m & 1)))
			m++;
		return (uint16_t)(sign | m);
	}
	/* normal: rebias exponent, round mantissa 23 -> 10 bits to nearest even */
	uint32_t r = a - 0x38000000u;          /* exponent 127 -> 15 */
	r += 0xfffu + ((r >> 13) & 1);
	return (uint16_t)(sign | (r >> 13));
}

static inline float lr_bf16_to_f32(uint16_t h)
{
	return lr_bits_f32((uint32_t)h << 16);
}

static inline uint16_t lr_f32_to_bf16(float f)
{
	uint32_t u = lr_f32_bits(f);

	if ((u & 0x7fffffffu) > 0x7f800000u)   /* nan: keep it quiet and nan */
		return (uint16_t)((u >> 16) | 0x40);
	u += 0x7fffu + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

#endif
