/* mkostemp (POSIX.1-2024) and O_TMPFILE: glibc declares them for _GNU_SOURCE. */
#define _GNU_SOURCE
#include "alloc.h"
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocipush.h"

struct op_spool {
    uint64_t mem_cap, disk_cap;
    uint64_t base; /* stream offset of the window's first byte */
    uint8_t *mem;  /* the window's first bytes */
    size_t mem_len, mem_alloc;
    int fd; /* -1 until the memory cap is passed */
    /* file_len: the window's bytes in the file; file_held: what the file
     * occupies (the furthest byte written since it was last truncated).
     * An emptied window keeps the file's pages and writes over them: on
     * tmpfs, allocating and freeing a page per 4 KiB of every chunk of a
     * stream cost more CPU than sending it. */
    uint64_t file_len, file_held, disk_peak;
    int used_disk;
    /* The bytes of the one append that did not fit, kept in memory so that
     * nothing read from the stream is lost; the window's last bytes. */
    uint8_t *over;
    size_t over_len;
    int full;
    int err; /* errno of the failed write, 0 for a cap */
};

int op_spool_new(op_spool **out, uint64_t memory_cap, uint64_t disk_cap)
{
    op_spool *sp = op_calloc(1, sizeof *sp);
    if (!sp)
        return OCIPUSH_E_NOMEM;
    sp->mem_cap = memory_cap;
    sp->disk_cap = disk_cap;
    sp->fd = -1;
    *out = sp;
    return 0;
}

void op_spool_free(op_spool *sp)
{
    if (!sp)
        return;
    op_free(sp->mem);
    op_free(sp->over);
    if (sp->fd >= 0)
        close(sp->fd);
    op_free(sp);
}

uint64_t op_spool_base(const op_spool *sp)
{
    return sp->base;
}

uint64_t op_spool_size(const op_spool *sp)
{
    return sp->mem_len + sp->file_len + sp->over_len;
}

uint64_t op_spool_end(const op_spool *sp)
{
    return sp->base + op_spool_size(sp);
}

int op_spool_on_disk(const op_spool *sp)
{
    return sp->used_disk;
}

/* The file down to `len` bytes (what the window keeps there). */
static void shrink_file(op_spool *sp, uint64_t len)
{
    if (sp->fd < 0 || sp->file_held <= len)
        return;
    if (ftruncate(sp->fd, (off_t)len) == 0) {
        sp->file_held = len;
        return;
    }
    if (len == 0) {
        /* The blocks stay allocated: a new file next time instead. */
        close(sp->fd);
        sp->fd = -1;
        sp->file_held = 0;
    }
}

void op_spool_set_caps(op_spool *sp, uint64_t memory_cap, uint64_t disk_cap)
{
    sp->mem_cap = memory_cap > sp->mem_len ? memory_cap : sp->mem_len;
    sp->disk_cap = disk_cap;
    /* What it holds beyond a lower cap is given back. */
    if (sp->file_held > disk_cap)
        shrink_file(sp, sp->file_len > disk_cap ? sp->file_len : disk_cap);
}

uint64_t op_spool_file_bytes(const op_spool *sp)
{
    return sp->file_len;
}

uint64_t op_spool_disk_used(const op_spool *sp)
{
    return sp->file_held;
}

uint64_t op_spool_disk_peak(const op_spool *sp)
{
    return sp->disk_peak;
}

int op_spool_full(const op_spool *sp)
{
    return sp->full;
}

int op_spool_errno(const op_spool *sp)
{
    return sp->err;
}

const char *op_spool_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* A file with no name (O_TMPFILE), else one unlinked at once: nothing is
 * left behind on any exit path. Close-on-exec, so no child process (a
 * credential helper, the host's own) holds the blob's bytes. */
static int open_spool_file(op_spool *sp)
{
    const char *dir = op_spool_dir();
    char path[4096];
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
        int n = snprintf(path, sizeof path, "%s/ocipush-spool-XXXXXX", dir);
        if (n < 0 || (size_t)n >= sizeof path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
            return -1;
        unlink(path);
    }
    sp->fd = fd;
    return 0;
}

/* Write as much of p as the file takes at the window's end; the count. */
static size_t write_file(op_spool *sp, const uint8_t *p, size_t len)
{
    size_t done = 0;
    if (sp->fd < 0 && open_spool_file(sp)) {
        sp->err = errno;
        return 0;
    }
    sp->used_disk = 1;
    while (done < len) {
        ssize_t n = pwrite(sp->fd, p + done, len - done, (off_t)(sp->file_len + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sp->err = n < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)n;
    }
    sp->file_len += done;
    if (sp->file_len > sp->file_held)
        sp->file_held = sp->file_len;
    if (sp->file_held > sp->disk_peak)
        sp->disk_peak = sp->file_held;
    return done;
}

/* Keep up to len bytes in memory (within the memory cap); the count. */
static size_t keep_in_memory(op_spool *sp, const uint8_t *p, size_t len)
{
    if (sp->mem_len >= sp->mem_cap)
        return 0;
    size_t room = (size_t)(sp->mem_cap - sp->mem_len);
    size_t n = len < room ? len : room;
    if (sp->mem_len + n > sp->mem_alloc) {
        size_t want = sp->mem_alloc ? sp->mem_alloc * 2 : 64 * 1024;
        while (want < sp->mem_len + n)
            want *= 2;
        if (want > sp->mem_cap)
            want = (size_t)sp->mem_cap;
        uint8_t *grown = op_realloc(sp->mem, want);
        if (!grown)
            return 0;
        sp->mem = grown;
        sp->mem_alloc = want;
    }
    memcpy(sp->mem + sp->mem_len, p, n);
    sp->mem_len += n;
    return n;
}

/* What neither the memory nor the file took: kept once, in memory, so the
 * bytes of the read in hand are not lost; then the spool is full. */
static int overflow(op_spool *sp, const uint8_t *p, size_t len)
{
    sp->full = 1;
    if (sp->over_len == 0 && (sp->over = op_malloc(len)) != NULL) {
        memcpy(sp->over, p, len);
        sp->over_len = len;
    }
    return 1;
}

int op_spool_append(op_spool *sp, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0)
        return 0;
    if (sp->full)
        return 1;
    /* Memory first, while nothing is in the file (bytes stay in order). */
    size_t n = sp->file_len == 0 ? keep_in_memory(sp, p, len) : 0;
    p += n;
    len -= n;
    if (len && sp->mem_len < sp->mem_cap && sp->file_len == 0)
        return overflow(sp, p, len); /* out of memory below the cap */
    if (len && sp->file_len < sp->disk_cap) {
        uint64_t room = sp->disk_cap - sp->file_len;
        size_t want = room < len ? (size_t)room : len;
        n = write_file(sp, p, want);
        p += n;
        len -= n;
    }
    return len ? overflow(sp, p, len) : 0;
}

int op_spool_read_at(op_spool *sp, uint64_t offset, void *buf, size_t len, size_t *out_len)
{
    *out_len = 0;
    if (offset < sp->base)
        return OCIPUSH_E_INVALID;
    if (offset >= op_spool_end(sp))
        return 0;
    uint64_t at = offset - sp->base;
    if (at < sp->mem_len) {
        size_t n = sp->mem_len - (size_t)at;
        n = n < len ? n : len;
        memcpy(buf, sp->mem + at, n);
        *out_len = n;
        return 0;
    }
    at -= sp->mem_len;
    if (at >= sp->file_len) {
        at -= sp->file_len;
        size_t n = at < sp->over_len ? sp->over_len - (size_t)at : 0;
        n = n < len ? n : len;
        if (n)
            memcpy(buf, sp->over + at, n);
        *out_len = n;
        return 0;
    }
    uint64_t left = sp->file_len - at;
    size_t want = left < len ? (size_t)left : len;
    for (;;) {
        ssize_t n = pread(sp->fd, buf, want, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return OCIPUSH_E_IO;
        *out_len = (size_t)n;
        return 0;
    }
}

void op_spool_drop(op_spool *sp, uint64_t upto)
{
    if (upto < op_spool_end(sp))
        return; /* part of the window: kept until the rest goes too */
    sp->base = upto;
    sp->mem_len = 0;
    sp->file_len = 0;
    if (sp->file_held > sp->disk_cap)
        shrink_file(sp, 0); /* else written over: within its cap, it keeps its pages */
    op_free(sp->over);
    sp->over = NULL;
    sp->over_len = 0;
    sp->full = 0;
    sp->err = 0;
}
