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
    uint64_t cap;
    uint8_t *mem;
    size_t mem_len;
    size_t mem_alloc;
    int fd; /* -1 until the memory cap is passed */
    uint64_t file_len;
};

int op_spool_new(op_spool **out, uint64_t memory_cap)
{
    op_spool *sp = op_calloc(1, sizeof *sp);
    if (!sp)
        return OCIPUSH_E_NOMEM;
    sp->cap = memory_cap;
    sp->fd = -1;
    *out = sp;
    return 0;
}

void op_spool_free(op_spool *sp)
{
    if (!sp)
        return;
    op_free(sp->mem);
    if (sp->fd >= 0)
        close(sp->fd);
    op_free(sp);
}

uint64_t op_spool_size(const op_spool *sp)
{
    return sp->mem_len + sp->file_len;
}

int op_spool_on_disk(const op_spool *sp)
{
    return sp->fd >= 0;
}

/* A file with no name (O_TMPFILE), else one unlinked at once: nothing is
 * left behind on any exit path. Close-on-exec, so no child process (a
 * credential helper, the host's own) holds the blob's bytes. */
static int open_spool_file(op_spool *sp)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    dir = dir && *dir ? dir : "/tmp";
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
        int n = snprintf(path, sizeof path, "%s/ocipush-spool-XXXXXX", dir);
        if (n < 0 || (size_t)n >= sizeof path)
            return OCIPUSH_E_IO;
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
            return OCIPUSH_E_IO;
        unlink(path);
    }
    sp->fd = fd;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t offset)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return OCIPUSH_E_IO;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int op_spool_append(op_spool *sp, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0)
        return 0;
    if (sp->fd < 0 && sp->mem_len < sp->cap) {
        size_t room = (size_t)(sp->cap - sp->mem_len);
        size_t n = len < room ? len : room;
        if (sp->mem_len + n > sp->mem_alloc) {
            size_t want = sp->mem_alloc ? sp->mem_alloc * 2 : 64 * 1024;
            while (want < sp->mem_len + n)
                want *= 2;
            if (want > sp->cap)
                want = (size_t)sp->cap;
            uint8_t *grown = op_realloc(sp->mem, want);
            if (!grown)
                return OCIPUSH_E_NOMEM;
            sp->mem = grown;
            sp->mem_alloc = want;
        }
        memcpy(sp->mem + sp->mem_len, p, n);
        sp->mem_len += n;
        p += n;
        len -= n;
    }
    if (len == 0)
        return 0;
    if (sp->fd < 0 && open_spool_file(sp))
        return OCIPUSH_E_IO;
    int rc = write_all(sp->fd, p, len, sp->file_len);
    if (rc == 0)
        sp->file_len += len;
    return rc;
}

int op_spool_read_at(op_spool *sp, uint64_t offset, void *buf, size_t len, size_t *out_len)
{
    *out_len = 0;
    if (offset < sp->mem_len) {
        size_t n = sp->mem_len - (size_t)offset;
        n = n < len ? n : len;
        memcpy(buf, sp->mem + offset, n);
        *out_len = n;
        return 0;
    }
    uint64_t foff = offset - sp->mem_len;
    if (foff >= sp->file_len)
        return 0;
    uint64_t left = sp->file_len - foff;
    size_t want = left < len ? (size_t)left : len;
    for (;;) {
        ssize_t n = pread(sp->fd, buf, want, (off_t)foff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return OCIPUSH_E_IO;
        *out_len = (size_t)n;
        return 0;
    }
}
