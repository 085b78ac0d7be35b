/* tests/test_ctxfile.c — the .lrc container (engine/ctxfile.c): sections round-trip
 * (raw and zstd, small and large); every kind of damage is refused with the right code
 * (a flipped byte in the header and in each section, truncation at many offsets, bad
 * magic, a newer version); and writes are atomic (an aborted write leaves an existing
 * file untouched and no temporary file behind). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/crc32c.h"
#include "engine/ctxfile.h"
#include "tests/tap.h"

#define BIG (3u << 20)

/* Write file (a changed copy of a valid one) to path with its header checksum redone:
 * what a forger would do. */
static void forge(const char *path, uint8_t *file, size_t size)
{
	uint32_t crc = lr_crc32c(0, file, 1020);
	FILE *f = fopen(path, "wb");

	for (int i = 0; i < 4; i++)
		file[1020 + i] = (uint8_t)(crc >> (8 * i));
	fwrite(file, 1, size, f);
	fclose(f);
}

static void header(struct lr_ctx_header *h)
{
	memset(h, 0, sizeof *h);
	for (int i = 0; i < 32; i++)
		h->model_fp[i] = (uint8_t)(i * 7);
	h->kv_type = 2;
	h->kv_layout = 1;
	h->n_ctx = 4096;
	h->n_tokens = 1000;
	h->n_layer = 2;
	h->n_head_kv = 2;
	h->head_dim = h->head_dim_v = 64;
	h->rope_dim = 64;
	h->rope_base = 500000.0f;
	h->rope_scale = 1.0f;
}

static uint8_t *big;

static int write_file(const char *path, int abort_it)
{
	struct lr_ctxw *w = NULL;
	struct lr_ctx_header h;
	struct lr_err err = { 0 };
	static const char meta[] = "model=/models/x.gguf";
	int32_t tokens[1000];
	int rc;

	for (int i = 0; i < 1000; i++)
		tokens[i] = i * 37 % 128256;
	header(&h);
	if ((rc = lr_ctxw_open(&w, path, &err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_META, LR_CTX_ZSTD, &err)) ||
	    (rc = lr_ctxw_write(w, meta, sizeof meta, &err)) || (rc = lr_ctxw_end(w, &err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_TOKENS, LR_CTX_ZSTD, &err)) ||
	    (rc = lr_ctxw_write(w, tokens, sizeof tokens, &err)) || (rc = lr_ctxw_end(w, &err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_KV, LR_CTX_RAW, &err)))
		goto out;
	/* the large section in uneven pieces */
	for (uint32_t off = 0, k = 1; off < BIG; off += k, k = k * 5 % 100003 + 1)
		if ((rc = lr_ctxw_write(w, big + off, off + k > BIG ? BIG - off : k, &err)))
			goto out;
	if ((rc = lr_ctxw_end(w, &err)))
		goto out;
	if (abort_it) {
		lr_ctxw_abort(w);
		return 0;
	}
	rc = lr_ctxw_commit(w, &h, &err);
	w = NULL;
out:
	if (rc)
		tap_diag("%s", err.msg);
	lr_ctxw_abort(w);
	return rc;
}

static int open_code(const char *path, char *msg, size_t n)
{
	struct lr_ctxr *r = NULL;
	struct lr_err err = { 0 };
	int rc = lr_ctxr_open(&r, path, &err);

	snprintf(msg, n, "%s", err.msg);
	lr_ctxr_close(r);
	return rc;
}

static int tmp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strstr(e->d_name, "ctx.lrc.tmp.") != NULL;
	if (d)
		closedir(d);
	return n;
}

/* Temporary files of other writers: one whose writer holds its lock stays (a live pack,
 * perhaps in another PID namespace: its PID means nothing here), one nobody locks is
 * removed by the next writer. */
static void stale_tmp(void)
{
	char dir[1024], path[1100], live[1200], dead[1200];
	struct lr_ctxw *w = NULL;
	struct lr_err err = { 0 };
	int fl, fd;

	snprintf(dir, sizeof dir, "%s/stale", tap_tmpdir());
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/ctx.lrc", dir);
	snprintf(live, sizeof live, "%s.tmp.1.live", path);
	snprintf(dead, sizeof dead, "%s.tmp.%d.dead", path, (int)getpid());   /* even our own PID */
	fl = open(live, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fd = open(dead, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	close(fd);
	tap_ok(fl >= 0 && flock(fl, LOCK_EX) == 0, "a live writer's temporary file, locked");
	if (lr_ctxw_open(&w, path, &err) == 0)
		lr_ctxw_abort(w);
	else
		tap_diag("%s", err.msg);
	tap_ok(access(live, F_OK) == 0, "a locked temporary file is left alone (its writer is alive)");
	tap_ok(access(dead, F_OK) != 0, "an unlocked one is removed (its writer is gone)");
	close(fl);
	unlink(live);
	rmdir(dir);
}

int main(void)
{
	char path[1024], bad[1100], msg[512];
	struct lr_ctxr *r = NULL;
	struct lr_err err = { 0 };
	const void *data;
	uint64_t len;
	const struct lr_ctx_secinfo *sec;
	uint8_t *file;
	size_t size;
	int n_sec, ok_all;

	big = malloc(BIG);
	for (uint32_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 2654435761u >> 24);
	snprintf(path, sizeof path, "%s/ctx.lrc", tap_tmpdir());
	unlink(path);
	if (!tap_ok(write_file(path, 0) == 0, "write a context file with three sections"))
		return tap_done();
	tap_is_int(tmp_files(tap_tmpdir()), 0, "no temporary file is left behind");
	if (!tap_ok(lr_ctxr_open(&r, path, &err) == 0, "it opens and validates")) {
		tap_diag("%s", err.msg);
		return tap_done();
	}
	tap_ok(lr_ctxr_header(r)->n_tokens == 1000 && lr_ctxr_header(r)->rope_base == 500000.0f &&
	       lr_ctxr_header(r)->model_fp[31] == (uint8_t)(31 * 7) && lr_ctxr_header(r)->version == LR_CTX_VERSION,
	       "the header round-trips");
	tap_ok(lr_ctxr_section(r, LR_CTX_SEC_META, &data, &len, &err) == 0 && len == 21 &&
	       strcmp(data, "model=/models/x.gguf") == 0, "a zstd section round-trips");
	tap_ok(lr_ctxr_section(r, LR_CTX_SEC_TOKENS, &data, &len, &err) == 0 && len == 4000 &&
	       ((const int32_t *)data)[999] == 999 * 37, "the token section round-trips");
	tap_ok(lr_ctxr_section(r, LR_CTX_SEC_KV, &data, &len, &err) == 0 && len == BIG &&
	       memcmp(data, big, BIG) == 0 && (uintptr_t)data % LR_CTX_ALIGN == 0,
	       "a 3 MiB raw section written in uneven pieces round-trips, page-aligned in the map");
	tap_ok(lr_ctxr_section(r, LR_CTX_SEC_MANIFEST, &data, &len, &err) == LR_ENOTFOUND, "a missing section is reported");
	n_sec = lr_ctxr_sections(r, &sec);
	tap_is_int(n_sec, 3, "three sections listed");
	file = tap_slurp(path, &size);

	/* one flipped byte anywhere that matters: the header, and inside each section */
	{
		size_t spots[] = { 3, 20, 60, 100, 110, 1019, (size_t)sec[0].offset + 5, (size_t)sec[1].offset + 9,
		                   (size_t)sec[2].offset, (size_t)sec[2].offset + BIG / 2, (size_t)sec[2].offset + BIG - 1 };
		ok_all = 1;
		for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
			FILE *f;
			int rc;
			snprintf(bad, sizeof bad, "%s/bad.lrc", tap_tmpdir());
			f = fopen(bad, "wb");
			file[spots[k]] ^= 0x10;
			fwrite(file, 1, size, f);
			fclose(f);
			file[spots[k]] ^= 0x10;
			rc = open_code(bad, msg, sizeof msg);
			if (rc != LR_EFORMAT) {
				ok_all = 0;
				tap_diag("  flip at %zu: code %d (%s)", spots[k], rc, msg);
			}
		}
		tap_ok(ok_all, "a flipped byte in the header or any section is refused as damaged");
	}
	/* truncation at many offsets */
	ok_all = 1;
	for (size_t cut = 0; cut < size; cut += cut < 8192 ? 61 : 104729) {
		FILE *f;
		int rc;
		f = fopen(bad, "wb");
		fwrite(file, 1, cut, f);
		fclose(f);
		rc = open_code(bad, msg, sizeof msg);
		if (rc != LR_EFORMAT) {
			ok_all = 0;
			tap_diag("  cut at %zu: code %d (%s)", cut, rc, msg);
		}
	}
	tap_ok(ok_all, "every truncation is refused (LR_EFORMAT) with a message");
	{
		FILE *f = fopen(bad, "wb");
		uint8_t v[4] = { 2, 0, 0, 0 };
		memcpy(file + 8, v, 4);            /* version 2: newer than us (checked before the crc) */
		fwrite(file, 1, size, f);
		fclose(f);
		tap_ok(open_code(bad, msg, sizeof msg) == LR_EUNSUPPORTED && strstr(msg, "newer"),
		       "a newer format version is unsupported (%s)", msg);
		v[0] = 1;
		memcpy(file + 8, v, 4);
		f = fopen(bad, "wb");
		fwrite("GGUF\3\0\0\0", 1, 8, f);
		fwrite(file + 8, 1, size - 8, f);
		fclose(f);
		tap_ok(open_code(bad, msg, sizeof msg) == LR_EFORMAT && strstr(msg, "not a longread context file"),
		       "another file type is refused (%s)", msg);
	}
	/* forged sizes with a valid header checksum: refused before they reach malloc */
	{
		int z = -1;
		for (int i = 0; i < n_sec; i++)
			if (sec[i].codec == LR_CTX_ZSTD)
				z = i;
		if (tap_ok(z >= 0, "a zstd section to forge")) {
			uint8_t *e = file + 104 + 40 * (size_t)z + 24, save[8];
			memcpy(save, e, 8);
			memset(e, 0xff, 7);
			e[7] = 0x7f;                   /* raw size 2^63 - 1 */
			forge(bad, file, size);
			tap_ok(open_code(bad, msg, sizeof msg) == LR_EFORMAT && strstr(msg, "bad codec or size"),
			       "a zstd section claiming 2^63 bytes: LR_EFORMAT, nothing allocated (%s)", msg);
			memcpy(e, save, 8);
		}
		{
			uint8_t save[4], huge[4] = { 0xff, 0xff, 0xff, 0x7f };
			memcpy(save, file + 56, 4);
			memcpy(file + 56, huge, 4);    /* the window: 0x7fffffff tokens */
			forge(bad, file, size);
			tap_ok(open_code(bad, msg, sizeof msg) == LR_EFORMAT && strstr(msg, "window is 2147483647 tokens"),
			       "a window of 2^31 - 1 tokens: LR_EFORMAT (%s)", msg);
			memcpy(file + 56, save, 4);
		}
	}
	tap_ok(open_code("/nonexistent/x.lrc", msg, sizeof msg) == LR_EIO && strstr(msg, "No such file"),
	       "a missing file is LR_EIO (%s)", msg);
	lr_ctxr_close(r);

	/* atomic writes: an aborted write leaves the old file as it was */
	{
		size_t before_size;
		uint8_t *before = tap_slurp(path, &before_size), *after;
		size_t after_size;
		write_file(path, 1);
		after = tap_slurp(path, &after_size);
		tap_ok(before && after && before_size == after_size && memcmp(before, after, before_size) == 0,
		       "an aborted write leaves the existing file untouched");
		tap_is_int(tmp_files(tap_tmpdir()), 0, "... and removes its temporary file");
		free(before);
		free(after);
	}
	free(file);
	free(big);
	unlink(bad);
	unlink(path);
	stale_tmp();
	return tap_done();
}
