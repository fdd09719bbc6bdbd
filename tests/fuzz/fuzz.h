/* fuzz.h - the one entry point of a fuzz harness, as libFuzzer calls it
 * (`make fuzz`) and as tests/fuzz/replay.c calls it on a stored corpus
 * (`make check`). */
#ifndef DPACCT_FUZZ_H
#define DPACCT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#endif
