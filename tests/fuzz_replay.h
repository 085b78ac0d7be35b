/* tests/fuzz_replay.h — the replay side of the fuzz targets: without -DLR_LIBFUZZER a
 * target is a test program that runs every file of its corpus (tests/fuzz/NAME under
 * $SRCDIR, or the files and directories named on the command line) through its
 * LLVMFuzzerTestOneInput and prints TAP, so the corpus is an ordinary test under
 * make check and under the sanitizers. */
#ifndef LR_FUZZ_REPLAY_H
#define LR_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replay argv[1..] or the corpus tests/fuzz/corpus; fail when fewer than min_files
 * ran (an empty corpus tests nothing).  @return the exit status for main. */
int fuzz_replay(const char *corpus, int min_files, int argc, char **argv);

#endif
