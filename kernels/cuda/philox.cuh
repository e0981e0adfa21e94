// Philox4x32-10 counter-based generator for CUDA C (device) and plain C++ (host emulation).
//
// Same contract as kernels/philox.py: output = Philox4x32-10(counter = (c0, c1, c2, c3), key = (k0, k1)),
// k0 = seed, k1 = stream; c0 = site group (site div 4), c1 = replica, c2 = sweep, c3 = 2 * draw + colour.
// Only built-in integer types are used so that NVRTC (CuPy) needs no standard headers.
#ifndef FASTMF_PHILOX_CUH
#define FASTMF_PHILOX_CUH

typedef unsigned int fastmf_u32;
typedef unsigned long long fastmf_u64;

#define FASTMF_PHILOX_M0 0xD2511F53u
#define FASTMF_PHILOX_M1 0xCD9E8D57u
#define FASTMF_PHILOX_W0 0x9E3779B9u
#define FASTMF_PHILOX_W1 0xBB67AE85u

// Stream identifiers (key word k1); must match STREAM_* in philox.py.
#define FASTMF_STREAM_INIT 1u
#define FASTMF_STREAM_CHECKERBOARD 2u
#define FASTMF_STREAM_SEQUENTIAL 3u
#define FASTMF_STREAM_WOLFF 4u
#define FASTMF_STREAM_MULTISPIN 5u

// Ten rounds; out may alias nothing. The 64-bit product compiles to mul.lo/mul.hi on the GPU.
__host__ __device__ __forceinline__ void fastmf_philox4x32(fastmf_u32 c0, fastmf_u32 c1, fastmf_u32 c2,
                                                            fastmf_u32 c3, fastmf_u32 k0, fastmf_u32 k1,
                                                            fastmf_u32 out[4])
{
#pragma unroll
    for (int r = 0; r < 10; ++r) {
        if (r > 0) {
            k0 += FASTMF_PHILOX_W0;  // wraps modulo 2**32 (unsigned arithmetic)
            k1 += FASTMF_PHILOX_W1;
        }
        const fastmf_u64 p0 = (fastmf_u64)FASTMF_PHILOX_M0 * c0;
        const fastmf_u64 p1 = (fastmf_u64)FASTMF_PHILOX_M1 * c2;
        const fastmf_u32 n0 = (fastmf_u32)(p1 >> 32) ^ c1 ^ k0;
        const fastmf_u32 n2 = (fastmf_u32)(p0 >> 32) ^ c3 ^ k1;
        c1 = (fastmf_u32)p1;
        c3 = (fastmf_u32)p0;
        c0 = n0;
        c2 = n2;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

#endif  // FASTMF_PHILOX_CUH
