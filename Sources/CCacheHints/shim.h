#ifndef MARQUEE_CCACHEHINTS_SHIM_H
#define MARQUEE_CCACHEHINTS_SHIM_H

// Swift has no prefetch instruction of its own; this one compiles to PREFETCHT0 and is
// inlined into the Swift kernels that call it.
static inline __attribute__((always_inline)) void marquee_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
