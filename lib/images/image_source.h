/* Where ocipush copy reads an image from: the interface every image source
 * implements (an OCI layout directory today; OCI and docker archives are
 * next), on the shape of the targets' (target.h). A source hands out the
 * manifests and blobs of the images it holds by digest, each checked against
 * its name, so the copy above it never trusts a byte it has not hashed. */
#ifndef OP_IMAGE_SOURCE_H
#define OP_IMAGE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "diag.h"
#include "ocipush.h"

typedef struct op_image_source op_image_source;

/* One entry of the source's own list of what it holds (index.json): a
 * manifest or an index, with the tag it is known by, if any. */
typedef struct op_image_entry {
    const char *digest;
    const char *media_type; /* "" when the entry says none */
    int64_t size;           /* -1 when the entry says none */
    const char *tag;        /* org.opencontainers.image.ref.name, or NULL */
    /* io.containerd.image.name ("docker.io/library/busybox:latest", as
     * Docker 25's docker save writes it), or NULL. */
    const char *image_name;
} op_image_entry;

typedef struct op_image_source_ops {
    /* The entries, in the source's order; *out_count of them, valid until
     * the source is freed. */
    const op_image_entry *(*entries)(const op_image_source *src, size_t *out_count);
    /* The bytes of the manifest or index `digest` (at most 4 MiB; `size` the
     * descriptor's, -1 if none), checked: its size and its hash. Errors on
     * `d` name the file and what is wrong: OCIPUSH_E_IO (missing, unreadable),
     * OCIPUSH_E_DIGEST_MISMATCH, OCIPUSH_E_INVALID (size), OCIPUSH_E_NOMEM. */
    int (*read_manifest)(op_image_source *src, op_diag *d, const char *digest, int64_t size,
                         op_buf *out);
    /* A source over the blob `digest` of `size` bytes, or an error on `d`
     * naming the file (missing, another size). Its hash is checked by the
     * push, which names it as the expected digest. */
    int (*open_blob)(op_image_source *src, op_diag *d, const char *digest, int64_t size,
                     ocipush_source **out);
    /* What the source is, for messages: "the OCI layout DIR". */
    const char *(*name)(const op_image_source *src);
    void (*free)(op_image_source *src);
} op_image_source_ops;

struct op_image_source {
    const op_image_source_ops *ops;
};

/* index.json's text (`name` says whose, for messages): its manifests as
 * entries, which point into *out_index (free with cJSON_Delete, and the
 * entries with op_free). Pure, so it is fuzzed. 0, OCIPUSH_E_INVALID (not
 * JSON, no manifests list, an entry without a sha256 digest or with a bad
 * size), OCIPUSH_E_NOMEM; the message on `d`. */
struct cJSON;
int op_layout_entries_parse(struct cJSON **out_index, op_image_entry **out_entries,
                            size_t *out_count, op_diag *d, const char *name, const char *text,
                            size_t len);

/* The OCI image layout in the directory `dir`: its oci-layout file and its
 * index.json are read and checked now. 0, or OCIPUSH_E_INVALID (not a
 * layout: the message says which file is missing or wrong), OCIPUSH_E_IO,
 * OCIPUSH_E_NOMEM, with the message on `d`. */
int op_image_source_open_layout(op_image_source **out, op_diag *d, const char *dir);

/* The OCI layout in the tar archive at `path` (plain, gzip or zstd, found by
 * its content), read once through now: its oci-layout, index.json and small
 * JSON members; a truncated or corrupt archive fails here. 0, or
 * OCIPUSH_E_INVALID (no oci-layout or index.json: not an OCI archive),
 * OCIPUSH_E_IO (unreadable, truncated), OCIPUSH_E_NOMEM,
 * OCIPUSH_E_UNSUPPORTED (built without libarchive), the message on `d`. */
int op_image_source_open_archive(op_image_source **out, op_diag *d, const char *path);

/* The same over an archive already read (tar_members.h), which the source
 * takes over (freed with it, and when this fails); `kind` names it in
 * messages ("docker archive"). Errors as above. */
struct op_tar;
int op_image_source_from_tar(op_image_source **out, op_diag *d, struct op_tar *tar,
                             const char *kind);

#endif
