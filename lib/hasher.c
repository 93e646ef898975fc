#include "hasher.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "digest.h"
#include "ocipush.h"

/* Four slots of 256 KiB: enough to keep the hashing thread busy while the
 * sender fills the next, and a fixed bound on memory. */
#define SLOTS 4
#define SLOT_SIZE (256u << 10)

struct op_hasher {
    op_sha256 *sha;
    int threaded;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned char *slot[SLOTS];
    size_t used[SLOTS];
    size_t head, count; /* slots full and waiting, in ring order from head */
    size_t filling;     /* bytes in the slot being filled (at head + count) */
    int done;           /* no more input */
    int failed;
};

static void *hash_thread(void *arg)
{
    op_hasher *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->count == 0 && !h->done)
            pthread_cond_wait(&h->changed, &h->lock);
        if (h->count == 0)
            break;
        size_t i = h->head;
        pthread_mutex_unlock(&h->lock);
        int rc = op_sha256_update(h->sha, h->slot[i], h->used[i]);
        pthread_mutex_lock(&h->lock);
        h->failed |= rc != 0;
        h->head = (h->head + 1) % SLOTS;
        h->count--;
        pthread_cond_broadcast(&h->changed);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static int start_thread(op_hasher *h)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (!(h->slot[i] = op_malloc(SLOT_SIZE)))
            return OCIPUSH_E_NOMEM;
    if (pthread_mutex_init(&h->lock, NULL))
        return OCIPUSH_E_NOMEM;
    if (pthread_cond_init(&h->changed, NULL)) {
        pthread_mutex_destroy(&h->lock);
        return OCIPUSH_E_NOMEM;
    }
    if (pthread_create(&h->thread, NULL, hash_thread, h)) {
        pthread_cond_destroy(&h->changed);
        pthread_mutex_destroy(&h->lock);
        return OCIPUSH_E_NOMEM;
    }
    h->threaded = 1;
    return 0;
}

int op_hasher_new(op_hasher **out, int threaded)
{
    op_hasher *h = op_calloc(1, sizeof *h);
    if (!h)
        return OCIPUSH_E_NOMEM;
    int rc = op_sha256_new(&h->sha);
    if (rc) {
        op_free(h);
        return rc;
    }
    if (threaded && start_thread(h)) {
        /* No thread (or no memory for its slots): hash inline instead. */
        for (size_t i = 0; i < SLOTS; i++) {
            op_free(h->slot[i]);
            h->slot[i] = NULL;
        }
    }
    *out = h;
    return 0;
}

/* Hand the slot being filled to the hashing thread, waiting for a free one. */
static void submit(op_hasher *h)
{
    pthread_mutex_lock(&h->lock);
    h->used[(h->head + h->count) % SLOTS] = h->filling;
    h->count++;
    h->filling = 0;
    pthread_cond_broadcast(&h->changed);
    while (h->count == SLOTS)
        pthread_cond_wait(&h->changed, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

int op_hasher_update(op_hasher *h, const void *data, size_t len)
{
    if (!h->threaded)
        return op_sha256_update(h->sha, data, len);
    const unsigned char *p = data;
    while (len) {
        /* The slot at head + count is ours alone until submitted. */
        pthread_mutex_lock(&h->lock);
        unsigned char *slot = h->slot[(h->head + h->count) % SLOTS];
        int failed = h->failed;
        pthread_mutex_unlock(&h->lock);
        if (failed)
            return OCIPUSH_E_INVALID;
        size_t n = SLOT_SIZE - h->filling < len ? SLOT_SIZE - h->filling : len;
        memcpy(slot + h->filling, p, n);
        h->filling += n;
        p += n;
        len -= n;
        if (h->filling == SLOT_SIZE)
            submit(h);
    }
    return 0;
}

/* Stop the thread once it has hashed everything queued. */
static void stop_thread(op_hasher *h)
{
    pthread_mutex_lock(&h->lock);
    h->done = 1;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    h->threaded = 0;
}

int op_hasher_finish(op_hasher *h, char *out)
{
    if (h->threaded) {
        if (h->filling)
            submit(h);
        stop_thread(h);
        if (h->failed)
            return OCIPUSH_E_INVALID;
    }
    return op_sha256_finish(h->sha, out);
}

void op_hasher_free(op_hasher *h)
{
    if (!h)
        return;
    if (h->threaded)
        stop_thread(h);
    for (size_t i = 0; i < SLOTS; i++)
        op_free(h->slot[i]);
    op_sha256_free(h->sha);
    op_free(h);
}
