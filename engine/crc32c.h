/* engine/crc32c.h — CRC-32C (Castagnoli), the checksum of saved-context sections.
 * It runs at memory speed with the SSE4.2 crc32 instruction (a table-driven fallback
 * elsewhere), which matters for gigabytes of KV blocks. */
#ifndef LR_CRC32C_H
#define LR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of data, continuing from crc (start with 0). */
uint32_t lr_crc32c(uint32_t crc, const void *data, size_t len);

/* The same without the crc32 instruction (the fallback; exposed for tests). */
uint32_t lr_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
