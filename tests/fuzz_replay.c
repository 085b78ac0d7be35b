/* tests/fuzz_replay.c — replay a fuzz corpus through a target (tests/fuzz_replay.h). */
#include "tests/fuzz_replay.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* A file, or every file of a directory in name order. */
static void run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || !(d = opendir(path))) {
		run_file(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char **grown;
		if (e->d_name[0] == '.')
			continue;
		if (!(grown = realloc(names, (n + 1) * sizeof *names)))
			break;
		names = grown;
		if (!(names[n] = malloc(strlen(path) + strlen(e->d_name) + 2)))
			break;
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

int fuzz_replay(const char *corpus, int min_files, int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		const char *src = getenv("SRCDIR");
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/tests/fuzz/%s", src && *src ? src : ".", corpus);
		run_path(dir);
	}
	printf("1..%d\n", n_run);
	if (n_run < min_files) {
		printf("# the corpus looks empty (%d files)\n", n_run);
		return 1;
	}
	return n_failed ? 1 : 0;
}
