/* A vendor BLAS sgemm loaded at run time (dlopen), for `sift kernels bench --compare`:
 * our dense kernel measured against MKL or OpenBLAS on the same shapes and threads, in
 * the same process. Nothing links against a BLAS; when none loads the comparison is
 * skipped. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
#include "../common/sk_internal.h"

typedef void (*cblas_sgemm_fn)(int layout, int trans_a, int trans_b, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111 };

struct sk_blas {
    void *handle;
    cblas_sgemm_fn sgemm;
    void (*set_threads)(int);
    int is_mkl;
    char description[1024];
};

/* What MKL's verbose mode says about the code path it dispatches to (its first line names
 * the instruction set it chose, e.g. "Intel(R) AVX-512 ... enabled processors" or the
 * generic "Intel(R) Architecture processors"). MKL prints it on stdout, so stdout is
 * pointed at a temporary file for one small call. */
static void describe_mkl(sk_blas *b, char *out, size_t size) {
    char version[256] = "";
    void (*get_version)(char *, int) = (void (*)(char *, int))dlsym(b->handle, "MKL_Get_Version_String");
    if (get_version) get_version(version, (int)sizeof version - 1);
    for (int i = (int)strlen(version) - 1; i >= 0 && version[i] == ' '; i--) version[i] = '\0';
    int (*verbose)(int) = (int (*)(int))dlsym(b->handle, "MKL_Verbose");
    char path[] = "/tmp/sift-mkl-verboseXXXXXX";
    int fd = verbose ? mkstemp(path) : -1;
    char line[512] = "";
    if (fd >= 0) {
        fflush(stdout);
        int saved = dup(STDOUT_FILENO);
        if (saved >= 0 && dup2(fd, STDOUT_FILENO) >= 0) {
            float a[4] = {1, 1, 1, 1}, c[4];
            int previous = verbose(1);
            b->sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, 2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, c, 2);
            verbose(0);
            (void)previous;
            fflush(stdout);
            dup2(saved, STDOUT_FILENO);
        }
        if (saved >= 0) close(saved);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(line, sizeof line, f)) line[0] = '\0';
            fclose(f);
        }
        close(fd);
        unlink(path);
        line[strcspn(line, "\n")] = '\0';
    }
    snprintf(out, size, "%s; %s", version, line[0] ? line : "MKL_VERBOSE unavailable");
}

sk_blas *sk_blas_open(const char *path) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return NULL;
    cblas_sgemm_fn sgemm = (cblas_sgemm_fn)dlsym(handle, "cblas_sgemm");
    if (!sgemm) {
        dlclose(handle);
        return NULL;
    }
    sk_blas *b = calloc(1, sizeof *b);
    if (!b) {
        dlclose(handle);
        return NULL;
    }
    b->handle = handle;
    b->sgemm = sgemm;
    b->is_mkl = dlsym(handle, "MKL_Get_Version_String") != NULL;
    b->set_threads = (void (*)(int))dlsym(handle, b->is_mkl ? "MKL_Set_Num_Threads" : "openblas_set_num_threads");
    if (b->is_mkl) {
        describe_mkl(b, b->description, sizeof b->description);
    } else {
        char *(*config)(void) = (char *(*)(void))dlsym(handle, "openblas_get_config");
        char *(*core)(void) = (char *(*)(void))dlsym(handle, "openblas_get_corename");
        snprintf(b->description, sizeof b->description, "%s; kernels for core %s",
                 config ? config() : "a CBLAS without openblas_get_config", core ? core() : "unknown");
    }
    return b;
}

const char *sk_blas_description(const sk_blas *b) { return b->description; }

int sk_blas_set_threads(sk_blas *b, int threads) {
    if (!b->set_threads) return -1;
    b->set_threads(threads);
    return 0;
}

void sk_blas_sgemm(sk_blas *b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                   const float *x, int64_t ldx, float *y, int64_t ldy) {
    b->sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, x,
             (int)ldx, 0.0f, y, (int)ldy);
}

void sk_blas_close(sk_blas *b) {
    if (!b) return;
    /* Not dlclose'd: a BLAS keeps threads and atexit handlers that must outlive it. */
    free(b);
}
