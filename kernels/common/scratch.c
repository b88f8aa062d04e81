/* The per-thread scratch buffers of the multiply driver.
 *
 * OpenMP keeps its worker threads alive, so a per-thread buffer that only grows saves
 * an allocation and fresh page faults on every multiply. It hangs off a pthread key
 * whose destructor frees it when the thread exits: a bare _Thread_local pointer would
 * leak the buffer of every thread that ends (LeakSanitizer found exactly that in the
 * first BSR kernels, whose calling threads come and go under Swift's test runner). */
#include <pthread.h>
#include "sk_internal.h"

typedef struct thread_scratch {
    void *data;
    size_t bytes;
} thread_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_release(void *p) {
    thread_scratch *s = p;
    sk_free(s->data);
    free(s);
}

static void scratch_key_create(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_release) == 0; }

void *sk_thread_scratch(size_t bytes) {
    pthread_once(&scratch_once, scratch_key_create);
    if (!scratch_key_ok) return NULL;
    thread_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (bytes > s->bytes || !s->data) {
        sk_free(s->data);
        s->data = sk_alloc(bytes);
        s->bytes = s->data ? bytes : 0;
    }
    return s->data;
}
