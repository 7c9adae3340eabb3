/*
 * CRC-32C (Castagnoli) with the CPU's instruction, for the Native AOT build.
 *
 * The executable is compiled for size (OptimizationPreference=Size), and then the AOT compiler
 * gives managed code no instruction set beyond the architecture's baseline: Sse42.IsSupported
 * and Crc32.Arm64.IsSupported are constant false, even on a CPU that has the instruction. This
 * file is compiled with the CRC instruction enabled for its loop (x86-64: a target attribute on
 * the function; arm64: -march=armv8-a+crc for the file), and the managed code calls it after
 * asking the CPU (abilisfast_crc32c_hw), so the same binary still runs on a CPU without the
 * instruction (tables, in Crc32C.cs). See docs/performance.md, "CRC-32C with the CPU's instruction".
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>

#define CRC_TARGET __attribute__((target("sse4.2")))
#define CRC_WORD(crc, word) ((uint32_t)_mm_crc32_u64((crc), (word)))
#define CRC_BYTE(crc, byte) _mm_crc32_u8((crc), (byte))

int abilisfast_crc32c_hw(void)
{
    unsigned int eax, ebx, ecx, edx;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSE4_2) != 0;
}

#elif defined(__aarch64__)
/* The build compiles this file with -march=armv8-a+crc (the only code here that could use it is
   the loop below, called only when the kernel reports the extension). */
#if !defined(__ARM_FEATURE_CRC32)
#error "compile with -march=armv8-a+crc"
#endif
#include <arm_acle.h>
#include <sys/auxv.h>

#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1UL << 7)
#endif

#define CRC_TARGET
#define CRC_WORD(crc, word) __crc32cd((crc), (word))
#define CRC_BYTE(crc, byte) __crc32cb((crc), (byte))

int abilisfast_crc32c_hw(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}

#else
#error "abilisfast is built for x86-64 and arm64"
#endif

/* Continues a running (non-finalised) CRC state: 8 bytes per instruction, then the tail. */
CRC_TARGET
uint32_t abilisfast_crc32c_update(uint32_t state, const uint8_t *data, size_t length)
{
    uint32_t crc = state;
    for (; length >= 8; data += 8, length -= 8) {
        uint64_t word;
        memcpy(&word, data, sizeof word);
        crc = CRC_WORD(crc, word);
    }

    for (; length > 0; data++, length--) {
        crc = CRC_BYTE(crc, *data);
    }

    return crc;
}
