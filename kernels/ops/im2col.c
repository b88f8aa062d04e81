/* Vector im2col blocks (see ops_internal.h): the scalar variant here, AVX2 and AVX-512
 * in their own files. All three write exactly the same values (copies and zeros). */
#include "ops_internal.h"

void sk_op_im2col_block__scalar(const sk_op_conv_geometry *g, const float *x, int64_t ldx,
                                int64_t col_begin, int64_t col_end, float *out, int64_t ldo) {
    sk_op_im2col_rows(g, x, ldx, 0, g->channels * g->kernel_h * g->kernel_w, col_begin, col_end, out, ldo);
}
