#ifndef MARQUEE_CCPUHINTS_SHIM_H
#define MARQUEE_CCPUHINTS_SHIM_H

// Hints to the processor that Swift has no way to spell; both are inlined into the Swift
// code that calls them.

// Compiles to PREFETCHT0: fetch the line at `address` into every cache level.
static inline __attribute__((always_inline)) void marquee_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// Compiles to PAUSE in a spin-wait loop: the core backs off instead of flooding the memory
// pipeline, and a sibling hyper-thread gets the execution units.
static inline __attribute__((always_inline)) void marquee_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
