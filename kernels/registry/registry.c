/* The kernel registry: one table of every kernel in the library, and the one driver
 * that runs any of them.
 *
 * Adding a kernel = its per-ISA file (the `run` function and, if it needs them, its
 * scratch / shared-buffer / prepare / defaults functions, with the signatures of
 * sk_kernel.h) plus one entry below. The dispatch, `sift kernels list`, the tests
 * generated from the table and the runtime's choice of kernel all pick it up from here.
 *
 * Dispatch (sk_kernel_select): among the entries of the matrix's format whose ISA is at
 * most the requested one, whose N range holds N and whose preference test (`suits`)
 * accepts the call: the narrowest N range wins (a GEMV for N = 1, the few-columns kernel
 * for N <= 8), then the widest ISA (an AVX-512 request runs a 256-bit entry when that is
 * all there is for its N, e.g. the CSR SpMV), then table order (so specialised entries
 * with a preference test, like few rows or few columns, are listed first).
 *
 * Threading (sk_kernel_run): threads split the weights' row units (16-row strips,
 * 8-row tiles, block rows, rows; balanced by nonzeros for CSR and BSR) or, when the
 * entry's split rule says so, the columns of Y in multiples of its column grain:
 *   SK_SPLIT_ROWS                rows only;
 *   SK_SPLIT_ROWS_THEN_COLUMNS   columns when rows < min_units_per_thread·threads and
 *                                there are >= 2 column units per thread;
 *   SK_SPLIT_COLUMNS_THEN_ROWS   columns when there are >= min_units_per_thread column
 *                                units per thread, or a multiple of the thread count.
 * Memory: a shared buffer is allocated per call; scratch is per thread and reused
 * between calls (sk_thread_scratch). When either cannot be had, the format's scalar
 * entry, which needs neither, computes the same part: a multiply never fails. */
#include "sk_kernel.h"
#include "../gemm/dense_internal.h"
#include "../spmm-csr/csr_internal.h"
#include "../spmm-nm/nm_internal.h"
#include "../spmm-bsr/bsr_internal.h"

#define ANY_N 0 /* max_n: no upper bound */

static const sk_kernel registry[] = {
    /* ---- dense (prepacked 16-row k-major strips, dense_internal.h) ---- */
    {.info = {.name = "sk_f32_gemv__scalar_16", .format = SK_FORMAT_DENSE, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = 1, .tile_rows = 16, .tile_cols = 1, .row_unit = 16, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "streams each strip once", .group = "dense-gemv", .tunable = 0,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemv_scalar},
    {.info = {.name = "sk_f32_gemm__scalar_16x16", .format = SK_FORMAT_DENSE, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 16, .tile_cols = 16, .row_unit = 16, .kblock = 0,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = 16, .min_units_per_thread = 4,
              .scalar_fallback = 1,
              .blocking = "X read in place, 16x16 accumulator tile on the stack", .group = "dense-gemm", .tunable = 0,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemm_scalar},
    {.info = {.name = "sk_f32_gemv__avx2_16", .format = SK_FORMAT_DENSE, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = 1, .tile_rows = 16, .tile_cols = 1, .row_unit = 16, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "streams each strip once, k unrolled by 4", .group = "dense-gemv", .tunable = 0,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemv_avx2},
    {.info = {.name = "sk_f32_gemm__avx2_6x16", .format = SK_FORMAT_DENSE, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 6, .tile_cols = 16, .row_unit = 16, .kblock = 256,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = SK_NR_AVX2, .min_units_per_thread = 4,
              .blocking = "kc = K block (256, equal blocks), mc = M block in strips (a quarter of L2), "
                          "nc = N block (256); aux = most strips per thread that read X in place (8); "
                          "rows 6+5+5 per strip, N % 8 <= 6 edge columns by a column kernel",
              .group = "dense-gemm", .tunable = SK_TUNE_KC | SK_TUNE_MC | SK_TUNE_NC,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemm_avx2, .scratch_bytes = sk_dense_scratch_avx2, .defaults = sk_dense_defaults_avx2},
    {.info = {.name = "sk_f32_gemv__avx512_16", .format = SK_FORMAT_DENSE, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = 1, .tile_rows = 16, .tile_cols = 1, .row_unit = 16, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "two strips at once, k unrolled by 4", .group = "dense-gemv", .tunable = 0,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemv_avx512},
    {.info = {.name = "sk_f32_gemm__avx512_8x48", .format = SK_FORMAT_DENSE, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 8, .tile_cols = 48, .row_unit = 16, .kblock = 256,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = SK_NR_AVX512, .min_units_per_thread = 4,
              .blocking = "kc = K block (256, equal blocks), mc = M block in strips (a quarter of L2), "
                          "nc = N block (768); aux = most strips per thread that read X in place (8); "
                          "pf = prefetch W this many k steps ahead (0: off, the default; the tuner tries it "
                          "for cores whose hardware prefetcher lags); N % 16 <= 12 edge columns by a 16-row "
                          "column kernel",
              .group = "dense-gemm", .tunable = SK_TUNE_KC | SK_TUNE_MC | SK_TUNE_NC | SK_TUNE_PF,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemm_avx512, .scratch_bytes = sk_dense_scratch_avx512, .defaults = sk_dense_defaults_avx512},
    {.info = {.name = "sk_f32_gemm__avx512_6x64", .format = SK_FORMAT_DENSE, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 6, .tile_cols = 64, .row_unit = 16, .kblock = 256,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = SK_NR_AVX512_64, .min_units_per_thread = 4,
              .blocking = "kc, mc, nc (1024), aux, pf as for 8x48; rows 6+6+4 per strip, 4 zmm per row: 10 loads "
                          "per 24 FMAs instead of 11, for cores with two FMA pipes and loads to spare; N % 16 "
                          "<= 12 edge columns by the column kernel",
              .group = "dense-gemm", .tunable = SK_TUNE_KC | SK_TUNE_MC | SK_TUNE_NC | SK_TUNE_PF,
              .patterns = "dense, any M and K"},
     .run = sk_dense_run_gemm_avx512_6x64, .scratch_bytes = sk_dense_scratch_avx512_6x64,
     .defaults = sk_dense_defaults_avx512_6x64},

    /* ---- CSR (uint16 column indices, per-K-block counts, csr_internal.h) ---- */
    {.info = {.name = "sk_f32_spmv_csr__scalar", .format = SK_FORMAT_CSR, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = 1, .tile_rows = 1, .tile_cols = 1, .row_unit = 1, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1, .min_macs_per_thread = 10000,
              .blocking = "four partial sums per row", .group = "csr-spmv", .tunable = 0,
              .patterns = "any mask, K <= 65536"},
     .run = sk_csr_run_spmv_scalar},
    {.info = {.name = "sk_f32_spmm_csr__scalar_1x256", .format = SK_FORMAT_CSR, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 1, .tile_cols = 256, .row_unit = 1, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1, .scalar_fallback = 1,
              .blocking = "X read in place, Y strips of 256 columns", .group = "csr-spmm", .tunable = 0,
              .patterns = "any mask, K <= 65536"},
     .run = sk_csr_run_spmm_scalar},
    {.info = {.name = "sk_f32_spmv_csr__avx2_8", .format = SK_FORMAT_CSR, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = 1, .tile_rows = 1, .tile_cols = 1, .row_unit = 1, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1, .min_macs_per_thread = 10000,
              .blocking = "8 nonzeros per ymm, x picked by scalar loads (also the AVX-512 path: "
                          "gathers measured slower); a strided x is copied first",
              .group = "csr-spmv", .tunable = 0,
              .patterns = "any mask, K <= 65536"},
     .run = sk_csr_run_spmv_fma256, .shared_bytes = sk_csr_spmv_shared, .prepare = sk_csr_spmv_prepare},
    {.info = {.name = "sk_f32_spmm_csr__avx2_1x64", .format = SK_FORMAT_CSR, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 1, .tile_cols = 64, .row_unit = 1, .kblock = -1,
              .split = SK_SPLIT_COLUMNS_THEN_ROWS, .col_grain = CSR_PANEL_MAX, .min_units_per_thread = 4,
              .blocking = "K block set per matrix (96..512 rows by density, or sk_csr_create_blocked); "
                          "X block x 64 columns packed per thread; partial sums between blocks",
              .group = "csr-spmm", .tunable = 0,
              .patterns = "any mask, K <= 65536"},
     .run = sk_csr_run_spmm_avx2, .scratch_bytes = sk_csr_spmm_scratch, .defaults = sk_csr_spmm_defaults},
    {.info = {.name = "sk_f32_spmm_csr__avx512_1x64", .format = SK_FORMAT_CSR, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 1, .tile_cols = 64, .row_unit = 1, .kblock = -1,
              .split = SK_SPLIT_COLUMNS_THEN_ROWS, .col_grain = CSR_PANEL_MAX, .min_units_per_thread = 4,
              .blocking = "K block set per matrix (96..512 rows by density, scaled with L1d, or "
                          "sk_csr_create_blocked); nc = Y columns kept in registers per row (64, up to 128); "
                          "X block x nc columns packed per thread; partial sums between blocks",
              .group = "csr-spmm", .tunable = SK_TUNE_NC,
              .patterns = "any mask, K <= 65536"},
     .run = sk_csr_run_spmm_avx512, .scratch_bytes = sk_csr_spmm_scratch, .defaults = sk_csr_spmm_defaults},

    /* ---- N:M (slot-major 8-row tiles, bit-packed positions, nm_internal.h) ---- */
    {.info = {.name = "sk_f32_gemv_nm__scalar_8", .format = SK_FORMAT_NM, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = 1, .tile_rows = 8, .tile_cols = 1, .row_unit = 8, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "one tile at a time", .group = "nm-gemv", .tunable = 0,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_gemv_scalar},
    {.info = {.name = "sk_f32_spmm_nm__scalar_1x64", .format = SK_FORMAT_NM, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 1, .tile_cols = 64, .row_unit = 8, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1, .scalar_fallback = 1,
              .blocking = "X read in place, 64 accumulators on the stack", .group = "nm-spmm", .tunable = 0,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_spmm_scalar},
    {.info = {.name = "sk_f32_gemv_nm__avx2_8", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = 1, .tile_rows = 8, .tile_cols = 1, .row_unit = 8, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "one slot x 8 rows per ymm, x picked by vpermps; 4 tile streams; x copied padded",
              .group = "nm-gemv", .tunable = 0,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_gemv_avx2, .shared_bytes = sk_nm_gemv_shared_avx2, .prepare = sk_nm_gemv_prepare_avx2},
    {.info = {.name = "sk_f32_spmm_nm__avx2_4x24", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 4, .tile_cols = 24, .row_unit = 8, .kblock = 1024,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "kc = K block in X rows (1024, whole groups, equal blocks); aux = tiles per "
                          "chunk sharing a K block (16); X packed once per call, shared by the threads",
              .group = "nm-spmm", .tunable = SK_TUNE_KC | SK_TUNE_AUX,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_spmm_avx2, .shared_bytes = sk_nm_spmm_shared_avx2, .prepare = sk_nm_spmm_prepare_avx2,
     .defaults = sk_nm_spmm_defaults_avx2},
    {.info = {.name = "sk_f32_gemv_nm__avx512_16", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = 1, .tile_rows = 8, .tile_cols = 1, .row_unit = 8, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "two slots x 8 rows per zmm, x picked by vpermps/vpermt2ps; 4 tile streams, "
                          "values prefetched 4 KiB ahead when W exceeds 2 MiB per thread; x copied padded",
              .group = "nm-gemv", .tunable = 0,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_gemv_avx512, .shared_bytes = sk_nm_gemv_shared_avx512, .prepare = sk_nm_gemv_prepare_avx512},
    {.info = {.name = "sk_f32_spmm_nm__avx512_8xfew", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = 8, .tile_rows = 8, .tile_cols = 8, .row_unit = 8, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "the GEMV with a column loop inside (W streamed once); columns copied padded",
              .group = "nm-few", .tunable = 0,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_few_cols_avx512, .shared_bytes = sk_nm_few_cols_shared_avx512,
     .prepare = sk_nm_few_cols_prepare_avx512},
    {.info = {.name = "sk_f32_spmm_nm__avx512_8x48_private", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 8, .tile_cols = 48, .row_unit = 8, .kblock = 1024,
              .split = SK_SPLIT_COLUMNS_THEN_ROWS, .col_grain = 48, .min_units_per_thread = 2,
              .blocking = "kc = K block in X rows (1024, whole groups, equal blocks); each thread packs "
                          "the K block of its own 48-column panels just before use (preferred up to 32 "
                          "tiles); N % 16 <= 4 edge columns by the few-columns kernel",
              .group = "nm-spmm-few-rows", .tunable = SK_TUNE_KC,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_spmm_private_avx512, .scratch_bytes = sk_nm_spmm_private_scratch_avx512,
     .suits = sk_nm_private_suits_avx512, .defaults = sk_nm_spmm_defaults_avx512},
    {.info = {.name = "sk_f32_spmm_nm__avx512_8x48_shared", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 8, .tile_cols = 48, .row_unit = 8, .kblock = 1024,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "kc = K block in X rows (1024, whole groups, equal blocks); aux = tiles per "
                          "chunk sharing a K block (16); X packed once per call, shared by the threads, "
                          "next block prefetched into L2; N % 16 <= 4 edge columns by the few-columns kernel",
              .group = "nm-spmm", .tunable = SK_TUNE_KC | SK_TUNE_AUX,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_spmm_shared_avx512, .shared_bytes = sk_nm_spmm_shared_bytes_avx512,
     .prepare = sk_nm_spmm_prepare_avx512, .defaults = sk_nm_spmm_defaults_avx512},

    {.info = {.name = "sk_f32_spmm_nm__avx512_4x96_private", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 4, .tile_cols = 96, .row_unit = 8, .kblock = 512,
              .split = SK_SPLIT_COLUMNS_THEN_ROWS, .col_grain = 96, .min_units_per_thread = 2,
              .blocking = "kc = K block in X rows (512 on a 1 MiB L2, scaled with L2; whole groups, equal "
                          "blocks); 4 rows x 6 zmm per call: 1/8 fewer loads per FMA than 8x48; each thread "
                          "packs the K block of its own 96-column panels just before use",
              .group = "nm-spmm-few-rows", .tunable = SK_TUNE_KC,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_spmm_private_avx512_4x96, .scratch_bytes = sk_nm_spmm_private_scratch_avx512_4x96,
     .suits = sk_nm_private_suits_avx512_4x96, .defaults = sk_nm_spmm_defaults_avx512_4x96},
    {.info = {.name = "sk_f32_spmm_nm__avx512_4x96_shared", .format = SK_FORMAT_NM, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 4, .tile_cols = 96, .row_unit = 8, .kblock = 512,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "kc = K block in X rows (512 on a 1 MiB L2, scaled with L2); aux = tiles per chunk "
                          "sharing a K block (16); 4 rows x 6 zmm per call: 1/8 fewer loads per FMA than "
                          "8x48; X packed once per call, shared by the threads",
              .group = "nm-spmm", .tunable = SK_TUNE_KC | SK_TUNE_AUX,
              .patterns = "N:M with 1 <= N <= M <= 16, any K"},
     .run = sk_nm_run_spmm_shared_avx512_4x96, .shared_bytes = sk_nm_spmm_shared_bytes_avx512,
     .prepare = sk_nm_spmm_prepare_avx512_4x96, .defaults = sk_nm_spmm_defaults_avx512_4x96},

    /* ---- BSR (column-major r x c blocks, ragged edges padded, bsr_internal.h) ---- */
    {.info = {.name = "sk_f32_gemv_bsr__scalar", .format = SK_FORMAT_BSR, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = 1, .tile_rows = 0, .tile_cols = 1, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "one block row at a time, even/odd k sums", .group = "bsr-gemv", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_gemv_scalar},
    {.info = {.name = "sk_f32_spmm_bsr__scalar_rx64", .format = SK_FORMAT_BSR, .isa = SK_ISA_SCALAR,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 0, .tile_cols = 64, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = 16, .min_units_per_thread = 4,
              .scalar_fallback = 1,
              .blocking = "X read in place, r x 64 accumulator tile on the stack",
              .group = "bsr-spmm", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_spmm_scalar},
    {.info = {.name = "sk_f32_gemv_bsr__avx2", .format = SK_FORMAT_BSR, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = 1, .tile_rows = 0, .tile_cols = 1, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "block columns or 8-float chunks per ymm, 4 accumulators; x copied padded "
                          "when strided or K is ragged",
              .group = "bsr-gemv", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_gemv_avx2, .shared_bytes = sk_bsr_gemv_shared, .prepare = sk_bsr_gemv_prepare},
    {.info = {.name = "sk_f32_spmm_bsr__avx2_columns", .format = SK_FORMAT_BSR, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 0, .tile_cols = 1, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "one GEMV per column (preferred for N = 2); columns copied padded",
              .group = "bsr-columns", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_columns_gemv_avx2, .shared_bytes = sk_bsr_columns_shared, .prepare = sk_bsr_columns_prepare,
     .suits = sk_bsr_columns_suits_avx2},
    {.info = {.name = "sk_f32_spmm_bsr__avx2_6x16", .format = SK_FORMAT_BSR, .isa = SK_ISA_AVX2,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 6, .tile_cols = 16, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = 16, .min_units_per_thread = 4,
              .blocking = "register tiles 6x16 (r >= 8: 6-row slices), 4x16, 2x32, 1x64; X columns of a "
                          "tile packed into a contiguous panel when reused enough",
              .group = "bsr-spmm", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_spmm_avx2, .scratch_bytes = sk_bsr_spmm_scratch_avx2},
    {.info = {.name = "sk_f32_gemv_bsr__avx512", .format = SK_FORMAT_BSR, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = 1, .tile_rows = 0, .tile_cols = 1, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "block columns or 16-float chunks per zmm, 4 accumulators; x copied padded "
                          "when strided or K is ragged",
              .group = "bsr-gemv", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_gemv_avx512, .shared_bytes = sk_bsr_gemv_shared, .prepare = sk_bsr_gemv_prepare},
    {.info = {.name = "sk_f32_spmm_bsr__avx512_columns", .format = SK_FORMAT_BSR, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 0, .tile_cols = 1, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS, .col_grain = 1,
              .blocking = "one GEMV per column (preferred for N = 2..3); columns copied padded",
              .group = "bsr-columns", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_columns_gemv_avx512, .shared_bytes = sk_bsr_columns_shared, .prepare = sk_bsr_columns_prepare,
     .suits = sk_bsr_columns_suits_avx512},
    {.info = {.name = "sk_f32_spmm_bsr__avx512_8x48", .format = SK_FORMAT_BSR, .isa = SK_ISA_AVX512,
              .min_n = 1, .max_n = ANY_N, .tile_rows = 8, .tile_cols = 48, .row_unit = 0, .kblock = 0,
              .split = SK_SPLIT_ROWS_THEN_COLUMNS, .col_grain = 16, .min_units_per_thread = 4,
              .blocking = "register tiles 8x48 (r >= 8: 8-row slices), 4x96, 2x128, 1x128; X columns of a "
                          "tile packed into a contiguous panel when reused enough or ldx would alias in L2",
              .group = "bsr-spmm", .tunable = 0,
              .patterns = "blocks r, c in {1,2,4,8,16,32}, any M and K"},
     .run = sk_bsr_run_spmm_avx512, .scratch_bytes = sk_bsr_spmm_scratch_avx512},
};

enum { REGISTRY_COUNT = (int)(sizeof registry / sizeof registry[0]) };

int sk_kernel_count(void) { return REGISTRY_COUNT; }

const sk_kernel_info *sk_kernel_at(int index) {
    return index >= 0 && index < REGISTRY_COUNT ? &registry[index].info : NULL;
}

int sk_kernel_find(const char *name) {
    for (int i = 0; i < REGISTRY_COUNT; i++)
        if (name && strcmp(registry[i].info.name, name) == 0) return i;
    return -1;
}

/* Every prepared matrix starts with its format. */
sk_format sk_weights_format(const void *weights) { return *(const sk_format *)weights; }

/* ---- what the driver needs to know about each format ------------------------------- */

static int64_t weights_rows(const void *w) {
    switch (sk_weights_format(w)) {
    case SK_FORMAT_DENSE: return ((const sk_dense *)w)->m;
    case SK_FORMAT_CSR: return ((const sk_csr *)w)->m;
    case SK_FORMAT_NM: return ((const sk_nm *)w)->rows;
    default: return ((const sk_bsr *)w)->m;
    }
}

static int64_t weights_cols(const void *w) {
    switch (sk_weights_format(w)) {
    case SK_FORMAT_DENSE: return ((const sk_dense *)w)->k;
    case SK_FORMAT_CSR: return ((const sk_csr *)w)->k;
    case SK_FORMAT_NM: return ((const sk_nm *)w)->k;
    default: return ((const sk_bsr *)w)->k;
    }
}

/* Work units of the layout that threads split: strips, rows, tiles, block rows. */
static int64_t row_units(const void *w) {
    switch (sk_weights_format(w)) {
    case SK_FORMAT_DENSE: return ((const sk_dense *)w)->strips;
    case SK_FORMAT_CSR: return ((const sk_csr *)w)->m;
    case SK_FORMAT_NM: return ((const sk_nm *)w)->tiles;
    default: return ((const sk_bsr *)w)->block_rows;
    }
}

/* Multiply-adds per column of X (stored values, padding included). */
static int64_t macs_per_column(const void *w) {
    switch (sk_weights_format(w)) {
    case SK_FORMAT_DENSE: return ((const sk_dense *)w)->m * ((const sk_dense *)w)->k;
    case SK_FORMAT_CSR: return ((const sk_csr *)w)->nnz;
    case SK_FORMAT_NM: return ((const sk_nm *)w)->rows * ((const sk_nm *)w)->slots;
    default: {
        const sk_bsr *b = w;
        return b->nonzero_blocks * b->r * b->c;
    }
    }
}

static void split_rows(const sk_call *c, int64_t units, int parts, int index, int64_t *begin, int64_t *end) {
    switch (sk_weights_format(c->weights)) {
    case SK_FORMAT_CSR: sk_csr_split_rows(c->weights, c->n, parts, index, begin, end); break;
    case SK_FORMAT_BSR: sk_bsr_split_rows(c->weights, parts, index, begin, end); break;
    default: sk_partition(units, 1, parts, index, begin, end); break;
    }
}

static int split_columns(const sk_kernel_info *info, int64_t units, int64_t n, int threads) {
    if (threads <= 1) return 0;
    const int64_t col_units = sk_ceil_div(n, info->col_grain);
    switch (info->split) {
    case SK_SPLIT_ROWS_THEN_COLUMNS:
        return units < info->min_units_per_thread * threads && col_units >= 2 * (int64_t)threads;
    case SK_SPLIT_COLUMNS_THEN_ROWS:
        return col_units >= info->min_units_per_thread * threads ||
               (col_units % threads == 0 && col_units >= threads);
    default:
        return 0;
    }
}

static const sk_kernel *scalar_fallback(sk_format format) {
    for (int i = 0; i < REGISTRY_COUNT; i++)
        if (registry[i].info.format == format && registry[i].info.scalar_fallback) return &registry[i];
    return NULL;
}

static int fits(const sk_kernel *e, const void *w, int64_t n) {
    return e->info.format == sk_weights_format(w) && n >= e->info.min_n &&
           (e->info.max_n == ANY_N || n <= e->info.max_n) && e->info.isa <= sk_best_isa();
}

/* The upper end of an entry's N range, unbounded as the largest. */
static int64_t n_limit(const sk_kernel *e) { return e->info.max_n == ANY_N ? INT64_MAX : e->info.max_n; }

int sk_kernel_select(const void *weights, int64_t n, sk_isa isa, int threads) {
    int best = -1;
    for (int i = 0; i < REGISTRY_COUNT; i++) {
        const sk_kernel *e = &registry[i];
        if (!fits(e, weights, n) || e->info.isa > isa) continue;
        if (e->suits && !e->suits(weights, n, threads)) continue;
        if (best >= 0) {
            const sk_kernel *b = &registry[best];
            if (n_limit(e) > n_limit(b)) continue;
            if (n_limit(e) == n_limit(b) && e->info.isa <= b->info.isa) continue; /* ties: table order */
        }
        best = i;
    }
    return best;
}

int sk_kernel_suits(int index, const void *weights, int64_t n, int threads) {
    if (index < 0 || index >= REGISTRY_COUNT) return 0;
    const sk_kernel *e = &registry[index];
    return e->suits ? e->suits(weights, n, threads) : 1;
}

static sk_params resolve_params(const sk_kernel *e, const void *w, int64_t n, const sk_params *given) {
    sk_params p;
    memset(&p, 0, sizeof p);
    if (given) {
        p = *given;
        if (p.kc < 0) p.kc = 0;
        if (p.mc < 0) p.mc = 0;
        if (p.nc < 0) p.nc = 0;
        if (p.aux < 0) p.aux = 0;
        if (p.pf < 0) p.pf = 0;
    }
    if (e->defaults) e->defaults(w, n, &p);
    return p;
}

int sk_kernel_resolve_params(int index, const void *weights, int64_t n, const sk_params *given, sk_params *out) {
    if (index < 0 || index >= REGISTRY_COUNT || !out) return -1;
    *out = resolve_params(&registry[index], weights, n, given);
    return 0;
}

/* ---- the driver ------------------------------------------------------------------ */

static void run_entry(const sk_kernel *e, const void *w, int64_t n, const float *x, int64_t ldx,
                      float *y, int64_t ldy, const sk_epilogue *ep, const sk_params *params, int threads) {
    sk_call c;
    memset(&c, 0, sizeof c);
    c.weights = w;
    c.m = weights_rows(w);
    c.k = weights_cols(w);
    c.n = n;
    c.x = x;
    c.ldx = ldx;
    c.y = y;
    c.ldy = ldy;
    c.ep = sk_epilogue_is_empty(ep) ? NULL : ep;
    c.params = resolve_params(e, w, n, params);

    if (threads < 1) threads = 1;
    if (e->info.min_macs_per_thread > 0) { /* fork/join would cost more than it saves */
        const int64_t useful = macs_per_column(w) * n / e->info.min_macs_per_thread;
        if (useful < threads) threads = useful > 1 ? (int)useful : 1;
    }
    const int64_t units = row_units(w);
    const int by_columns = split_columns(&e->info, units, n, threads);
    const int64_t available = by_columns ? sk_ceil_div(n, e->info.col_grain) : units;
    if (available < threads) threads = available > 1 ? (int)available : 1;
    c.threads = threads;

    const sk_kernel *fallback = scalar_fallback(e->info.format);
    const size_t shared_bytes = e->shared_bytes ? e->shared_bytes(&c, NULL) : 0;
    if (shared_bytes) {
        c.shared = sk_alloc(shared_bytes);
        if (!c.shared) { /* out of memory: the scalar entry needs no buffer */
            run_entry(fallback, w, n, x, ldx, y, ldy, ep, NULL, threads);
            return;
        }
    }
#pragma omp parallel num_threads(threads)
    {
        const int parts = omp_get_num_threads(), index = omp_get_thread_num();
        if (e->prepare && c.shared) {
            int64_t k0, k1; /* every thread calls prepare, so the padding gets written */
            sk_partition(c.k, 16, parts, index, &k0, &k1);
            e->prepare(&c, k0, k1);
#pragma omp barrier
        }
        sk_part part;
        part.scratch = NULL;
        if (by_columns) {
            part.row_begin = 0;
            part.row_end = units;
            sk_partition(n, e->info.col_grain, parts, index, &part.col_begin, &part.col_end);
        } else {
            split_rows(&c, units, parts, index, &part.row_begin, &part.row_end);
            part.col_begin = 0;
            part.col_end = n;
        }
        if (part.row_begin < part.row_end && part.col_begin < part.col_end) {
            const size_t bytes = e->scratch_bytes ? e->scratch_bytes(&c, &part) : 0;
            if (bytes) part.scratch = sk_thread_scratch(bytes);
            if (bytes && !part.scratch) fallback->run(&c, &part); /* out of memory */
            else e->run(&c, &part);
        }
    }
    sk_free(c.shared);
}

int sk_kernel_run(int index, const void *weights, int64_t n, const float *x, int64_t ldx,
                  float *y, int64_t ldy, const sk_epilogue *ep, const sk_params *params, int threads) {
    if (index < 0 || index >= REGISTRY_COUNT || !fits(&registry[index], weights, n)) return -1;
    run_entry(&registry[index], weights, n, x, ldx, y, ldy, ep, params, threads);
    return 0;
}

void sk_dispatch(const void *weights, int64_t n, const float *x, int64_t ldx, float *y,
                 int64_t ldy, const sk_epilogue *ep, sk_isa isa, int threads) {
    const int index = sk_kernel_select(weights, n, isa, threads);
    const sk_kernel *e = index >= 0 ? &registry[index] : scalar_fallback(sk_weights_format(weights));
    if (e) run_entry(e, weights, n, x, ldx, y, ldy, ep, NULL, threads);
}
