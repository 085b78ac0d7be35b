/* tests/fuzz_gguf.c — fuzz target for the GGUF reader and hyper-parameter loader.
 * Built with -DLR_LIBFUZZER (make fuzz-gguf, needs clang) it is a libFuzzer target;
 * otherwise it is a replay program that runs every file of the corpus
 * (tests/fuzz/gguf, or the files and directories named on the command line) through
 * the same code and prints TAP, so the corpus is an ordinary test under make check
 * and under the sanitizers. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/gguf.h"
#include "engine/hparams.h"
#include "engine/kv.h"
#include "engine/quant.h"
#include "engine/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch everything a valid parse exposes, so the sanitizers see every access. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_gguf *g = NULL;
	struct lr_hparams hp;
	volatile uint64_t sink = 0;

	if (lr_gguf_parse(&g, data, size, NULL) != 0)
		return 0;
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct lr_gguf_kv *kv = &g->kv[i];
		sink += strlen(kv->key);
		if (lr_gguf_find(g, kv->key) != kv)
			abort();
		if (kv->type == LR_GGUF_STRING && kv->str_len)
			sink += (uint8_t)kv->str[kv->str_len - 1];
		if (kv->type != LR_GGUF_ARRAY)
			continue;
		for (uint64_t k = 0; k < kv->arr_n; k++) {
			if (kv->arr_type == LR_GGUF_STRING) {
				uint64_t n;
				const char *s = lr_gguf_arr_str(g, kv, k, &n);
				sink += n ? (uint8_t)s[n - 1] : 0;
			} else if (kv->arr_type == LR_GGUF_F32 || kv->arr_type == LR_GGUF_F64) {
				sink += (uint64_t)(lr_gguf_arr_float(kv, k) != 0);
			} else if (kv->arr_type != LR_GGUF_ARRAY && kv->arr_type != LR_GGUF_STRING) {
				sink += (uint64_t)lr_gguf_arr_int(kv, k);
			}
		}
	}
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct lr_gguf_tensor *t = &g->tensors[i];
		const struct lr_type_info *ti = lr_type_info(t->type);
		if (lr_gguf_find_tensor(g, t->name) != t)
			abort();
		if (t->n_bytes) {
			sink += ((const uint8_t *)t->data)[0];
			sink += ((const uint8_t *)t->data)[t->n_bytes - 1];
		}
		/* dequantize the first row when it is small */
		if (ti->weights_ok && t->ne[0] > 0 && t->ne[0] <= 4096 && t->n_elements >= (uint64_t)t->ne[0]) {
			float row[4096];
			lr_dequant_row(t->type, t->data, row, t->ne[0]);
			sink += row[0] != 0;
		}
	}
	if (lr_hparams_load(&hp, g, NULL) == 0)
		sink += lr_kv_bytes(&hp, LR_KV_Q4, 131072);
	lr_gguf_close(g);
	(void)sink;
	return 0;
}

#ifndef LR_LIBFUZZER

static int n_run, n_failed;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n = -1;

	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
			n = -1;
	}
	if (f)
		fclose(f);
	n_run++;
	if (!buf || n < 0) {
		n_failed++;
		printf("not ok %d - cannot read %s\n", n_run, path);
	} else {
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		printf("ok %d - %s\n", n_run, path);
	}
	free(buf);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	d = opendir(path);
	if (!d) {
		run_file(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		sprintf(names[n], "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		const char *src = getenv("SRCDIR");
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/tests/fuzz/gguf", src && *src ? src : ".");
		run_path(dir);
	}
	printf("1..%d\n", n_run);
	if (n_run < 10) {
		printf("# the corpus looks empty (%d files)\n", n_run);
		return 1;
	}
	return n_failed ? 1 : 0;
}
#endif
