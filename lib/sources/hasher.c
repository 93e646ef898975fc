#include "hasher.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    /* File mode: the thread preads file_size bytes of file_fd itself. */
    int file_fd; /* -1: fed by op_hasher_update */
    int64_t file_start, file_size;
    struct stat file_st;   /* as hashing began, to see the file change */
    int file_running;      /* the thread is to be joined */
    atomic_int file_stop;  /* op_hasher_free before the end: stop reading */
    const char *why;       /* the file thread's failure: read only once it is joined */
    const char *check_why; /* op_hasher_check_file's, on the caller's thread */
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

static void *hash_file_thread(void *arg)
{
    op_hasher *h = arg;
    int64_t off = 0;
    while (off < h->file_size && !atomic_load(&h->file_stop)) {
        size_t want =
            (uint64_t)(h->file_size - off) < SLOT_SIZE ? (size_t)(h->file_size - off) : SLOT_SIZE;
        ssize_t n = pread(h->file_fd, h->slot[0], want, (off_t)(h->file_start + off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            h->why = n < 0 ? "reading the file to hash it failed"
                           : "the file became shorter while it was pushed";
            h->failed = 1;
            break;
        }
        if (op_sha256_update(h->sha, h->slot[0], (size_t)n)) {
            h->why = "SHA-256 update failed";
            h->failed = 1;
            break;
        }
        off += n;
    }
    return NULL;
}

static op_hasher *hasher_alloc(void)
{
    op_hasher *h = op_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->file_fd = -1;
    h->why = "";
    atomic_init(&h->file_stop, 0);
    if (op_sha256_new(&h->sha)) {
        op_free(h);
        return NULL;
    }
    return h;
}

int op_hasher_new_file(op_hasher **out, int fd, int64_t start, int64_t size)
{
    op_hasher *h = hasher_alloc();
    if (!h)
        return OCIPUSH_E_NOMEM;
    h->file_fd = fd;
    h->file_start = start;
    h->file_size = size;
    int rc = fstat(fd, &h->file_st) == 0 ? 0 : OCIPUSH_E_IO;
    if (rc == 0 && !(h->slot[0] = op_malloc(SLOT_SIZE)))
        rc = OCIPUSH_E_NOMEM;
    if (rc == 0 && pthread_create(&h->thread, NULL, hash_file_thread, h))
        rc = OCIPUSH_E_IO;
    if (rc) {
        h->file_fd = -1;
        op_hasher_free(h);
        return rc;
    }
    h->file_running = 1;
    *out = h;
    return 0;
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
    op_hasher *h = hasher_alloc();
    if (!h)
        return OCIPUSH_E_NOMEM;
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
    if (h->file_fd >= 0)
        return 0; /* the thread reads the file itself */
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

int op_hasher_check_file(op_hasher *h)
{
    struct stat now;
    if (h->file_fd < 0)
        return 0;
    if (fstat(h->file_fd, &now) != 0) {
        h->check_why = "the file could not be examined after it was read";
        return OCIPUSH_E_SOURCE;
    }
    if (now.st_size != h->file_st.st_size || now.st_mtim.tv_sec != h->file_st.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != h->file_st.st_mtim.tv_nsec ||
        now.st_ctim.tv_sec != h->file_st.st_ctim.tv_sec ||
        now.st_ctim.tv_nsec != h->file_st.st_ctim.tv_nsec) {
        h->check_why = "the file changed while it was pushed (its size or times moved)";
        return OCIPUSH_E_SOURCE;
    }
    return 0;
}

const char *op_hasher_why(const op_hasher *h)
{
    if (h->check_why)
        return h->check_why;
    return h->file_running ? "" : h->why;
}

static void join_file_thread(op_hasher *h)
{
    if (!h->file_running)
        return;
    pthread_join(h->thread, NULL);
    h->file_running = 0;
}

int op_hasher_finish(op_hasher *h, char *out)
{
    if (h->file_fd >= 0) {
        join_file_thread(h);
        if (h->failed || op_hasher_check_file(h))
            return OCIPUSH_E_SOURCE;
    }
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
    atomic_store(&h->file_stop, 1);
    join_file_thread(h);
    if (h->threaded)
        stop_thread(h);
    for (size_t i = 0; i < SLOTS; i++)
        op_free(h->slot[i]);
    op_sha256_free(h->sha);
    op_free(h);
}
