/* The SIMD kernel table and the build's choice of the best kernels. */
#include "kernels/simd_internal.h"

const mnas_kernels mnas_kernels_simd = {
    MNAS_SIMD_NAME,
    mnas_simd_pw_packed_floats,
    mnas_simd_pw_bias_floats,
    VEC_W * (int)sizeof(float), /* pw_pack_in_place: one panel at a time, vector-aligned */
    mnas_simd_pw_pack,
    mnas_simd_pw_run,
    mnas_simd_fc_rows_run,
    mnas_simd_dw_packed_floats,
    mnas_simd_dw_pack,
    mnas_simd_dw_run,
    mnas_simd_conv_packed_floats,
    mnas_simd_conv_pack,
    mnas_simd_conv_run,
    mnas_simd_gap_run,
    mnas_simd_scale_ch_run,
    mnas_simd_act_run,
    mnas_simd_add_run,
    mnas_simd_mul_run,
    mnas_simd_nchw_to_nhwc,
};

const mnas_kernels *mnas_kernels_best(void)
{
#if defined(MNAS_FORCE_SCALAR)
    /* A scalar build exists to run the oracle; the SIMD table compiled
     * against the scalar vec backend stays reachable for tests. */
    return &mnas_kernels_ref;
#else
    return &mnas_kernels_simd;
#endif
}
