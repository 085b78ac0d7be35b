/* engine/types.c — ggml type ids, names and block geometry, in one table.
 * Sizes are those of ggml's on-disk block structs (see engine/quant.h for the layouts
 * of the types we compute with). */
#include "engine/types.h"

#include <strings.h>

#include "engine/err.h"

#define QK_K 256

static const struct lr_type_info table[LR_TYPE_COUNT] = {
	[LR_TYPE_F32]     = { "F32",      1,   4, 1 },
	[LR_TYPE_F16]     = { "F16",      1,   2, 1 },
	[LR_TYPE_Q4_0]    = { "Q4_0",    32,  18, 1 },
	[LR_TYPE_Q4_1]    = { "Q4_1",    32,  20, 1 },
	[LR_TYPE_Q5_0]    = { "Q5_0",    32,  22, 1 },
	[LR_TYPE_Q5_1]    = { "Q5_1",    32,  24, 1 },
	[LR_TYPE_Q8_0]    = { "Q8_0",    32,  34, 1 },
	[LR_TYPE_Q8_1]    = { "Q8_1",    32,  36, 0 },
	[LR_TYPE_Q2_K]    = { "Q2_K",  QK_K,  84, 1 },
	[LR_TYPE_Q3_K]    = { "Q3_K",  QK_K, 110, 1 },
	[LR_TYPE_Q4_K]    = { "Q4_K",  QK_K, 144, 1 },
	[LR_TYPE_Q5_K]    = { "Q5_K",  QK_K, 176, 1 },
	[LR_TYPE_Q6_K]    = { "Q6_K",  QK_K, 210, 1 },
	[LR_TYPE_Q8_K]    = { "Q8_K",  QK_K, 292, 0 },
	[LR_TYPE_IQ2_XXS] = { "IQ2_XXS", QK_K, 66, 0 },
	[LR_TYPE_IQ2_XS]  = { "IQ2_XS",  QK_K, 74, 0 },
	[LR_TYPE_IQ3_XXS] = { "IQ3_XXS", QK_K, 98, 0 },
	[LR_TYPE_IQ1_S]   = { "IQ1_S",   QK_K, 50, 0 },
	[LR_TYPE_IQ4_NL]  = { "IQ4_NL",    32, 18, 1 },
	[LR_TYPE_IQ3_S]   = { "IQ3_S",   QK_K, 110, 0 },
	[LR_TYPE_IQ2_S]   = { "IQ2_S",   QK_K, 82, 0 },
	[LR_TYPE_IQ4_XS]  = { "IQ4_XS",  QK_K, 136, 1 },
	[LR_TYPE_I8]      = { "I8",       1,   1, 0 },
	[LR_TYPE_I16]     = { "I16",      1,   2, 0 },
	[LR_TYPE_I32]     = { "I32",      1,   4, 0 },
	[LR_TYPE_I64]     = { "I64",      1,   8, 0 },
	[LR_TYPE_F64]     = { "F64",      1,   8, 0 },
	[LR_TYPE_IQ1_M]   = { "IQ1_M",  QK_K,  56, 0 },
	[LR_TYPE_BF16]    = { "BF16",     1,   2, 1 },
	[LR_TYPE_TQ1_0]   = { "TQ1_0",  QK_K,  54, 0 },
	[LR_TYPE_TQ2_0]   = { "TQ2_0",  QK_K,  66, 0 },
	[LR_TYPE_MXFP4]   = { "MXFP4",    32,  17, 0 },
};

const char *lr_type_weight_names(void)
{
	/* the types with weights_ok above, in the order users know them (test_quant checks) */
	return "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS";
}

const struct lr_type_info *lr_type_info(uint32_t t)
{
	if (t >= LR_TYPE_COUNT || !table[t].name)
		return NULL;
	return &table[t];
}

const char *lr_type_name(uint32_t t)
{
	const struct lr_type_info *ti = lr_type_info(t);

	return ti ? ti->name : "?";
}

int lr_type_from_name(const char *name)
{
	for (int t = 0; t < LR_TYPE_COUNT; t++)
		if (table[t].name && strcasecmp(table[t].name, name) == 0)
			return t;
	return -1;
}

int lr_type_row_bytes(uint32_t t, uint64_t n, uint64_t *bytes)
{
	const struct lr_type_info *ti = lr_type_info(t);

	if (!ti)
		return LR_EUNSUPPORTED;
	if (n % ti->block_size != 0)
		return LR_EFORMAT;
	/* overflow-checked: n comes from untrusted dimensions */
	if (n / ti->block_size > UINT64_MAX / ti->type_size)
		return LR_EFORMAT;
	*bytes = n / ti->block_size * ti->type_size;
	return 0;
}
