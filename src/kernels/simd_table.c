/* The SIMD kernel table and the build's choice of the best kernels. */
#include "kernels/simd_internal.h"

const mnas_kernels mnas_kernels_simd = {
    .name = MNAS_SIMD_NAME,
    .pw_packed_floats = mnas_simd_pw_packed_floats,
    .pw_bias_floats = mnas_simd_pw_bias_floats,
    .pw_pack_in_place = VEC_W * (int)sizeof(float), /* one panel at a time, vector-aligned */
    .pw_pack = mnas_simd_pw_pack,
    .pw_run = mnas_simd_pw_run,
    .gemv_run = mnas_simd_gemv_run,
    .dw_packed_floats = mnas_simd_dw_packed_floats,
    .dw_pack = mnas_simd_dw_pack,
    .dw_run = mnas_simd_dw_run,
    .conv_packed_floats = mnas_simd_conv_packed_floats,
    .conv_pack = mnas_simd_conv_pack,
    .conv_run = mnas_simd_conv_run,
    .gap_run = mnas_simd_gap_run,
    .scale_ch_run = mnas_simd_scale_ch_run,
    .act_run = mnas_simd_act_run,
    .add_run = mnas_simd_add_run,
    .mul_run = mnas_simd_mul_run,
    .nchw_to_nhwc = mnas_simd_nchw_to_nhwc,
#if MNAS_KERNEL_PARTS
    .pw_rows_align = PW_MR,
    .pw_cols_align = PW_NR,
    .gemv_rows_align = 4, /* simd_gemv.c: blocks of four rows, then one at a time */
    .pw_run_part = mnas_simd_pw_run_part,
    .dw_run_rows = mnas_simd_dw_run_rows,
    .conv_run_rows = mnas_simd_conv_run_rows,
    .gap_run_part = mnas_simd_gap_run_part,
#endif
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
