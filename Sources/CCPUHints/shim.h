#ifndef MARQUEE_CCPUHINTS_SHIM_H
#define MARQUEE_CCPUHINTS_SHIM_H

// Hints to and facts about the processor that Swift has no way to spell; all are inlined
// into the Swift code that calls them.

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

// Floats per vector register of the target the compiler builds for: 16 with AVX-512 (32
// registers), else 8 (AVX2 has 16 registers of 8 floats). A kernel that holds many SIMD16
// values at once, two registers each on AVX2, works in SIMD8 where this is 8.
static inline __attribute__((always_inline)) int marquee_register_floats(void) {
#if defined(__AVX512F__)
    return 16;
#else
    return 8;
#endif
}

#endif
