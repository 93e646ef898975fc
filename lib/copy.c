/* ocipush_copy: an image from an image source (images/) into the session's
 * target, byte for byte. The graph is walked first, depth first, reading
 * every manifest and index and planning what it needs: the blobs not yet
 * copied, and the manifests in the order they must land (an image's after
 * its blobs, children before their index, the top last, under its tag). The
 * blobs then go at once (copy_blobs.c: the session's copy concurrency of
 * them, the progress told in all), then the manifests in that order, so a
 * failure leaves no tag on incomplete content. Referrers the source lists
 * whose subject was copied follow, each with the referrers tag index kept
 * for a registry without the referrers API. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "blob.h"
#include "buf.h"
#include "copy_blobs.h"
#include "copy_docker.h"
#include "digest.h"
#include "docker_manifest.h"
#include "image_source.h"
#include "manifest.h"
#include "manifest_push.h"
#include "manifest_type.h"
#include "referrers.h"
#include "session.h"
#include "validate.h"

#define NESTING_MAX 8 /* indexes within indexes: more is a loop or an attack */

/* A blob the plan needs, and a manifest it pushes. */
typedef struct planned_blob {
    char digest[OCIPUSH_DIGEST_MAX];
    int64_t size;
} planned_blob;

typedef struct planned_manifest {
    char digest[OCIPUSH_DIGEST_MAX];
    char reference[256]; /* "TAG@DIGEST" or "DIGEST" */
    const char *type;    /* NULL: the document's own mediaType */
    char *type_copy;
    op_buf bytes;
} planned_manifest;

/* What a digest names: a registry keeps blobs and manifests apart, so the
 * same digest may have to go to both. */
enum { KIND_BLOB, KIND_MANIFEST };

typedef struct copied {
    char digest[OCIPUSH_DIGEST_MAX];
    int kind;
} copied;

typedef struct copy_run {
    ocipush_session *s;
    op_image_source *src;
    const char *repository;
    /* Blobs and manifests copied so far, so none goes twice. */
    copied *done;
    size_t done_count, done_alloc;
    size_t blobs, manifests;
    /* What the walk in hand needs, in order. */
    planned_blob *plan_blobs;
    size_t plan_blob_count, plan_blob_alloc;
    planned_manifest *plan_manifests;
    size_t plan_manifest_count, plan_manifest_alloc;
} copy_run;

static int was_copied(const copy_run *r, const char *digest, int kind)
{
    for (size_t i = 0; i < r->done_count; i++)
        if (r->done[i].kind == kind && strcmp(r->done[i].digest, digest) == 0)
            return 1;
    return 0;
}

/* A blob, or a manifest, copied or in the plan already. */
static int is_planned(const copy_run *r, const char *digest, int kind)
{
    for (size_t i = 0; kind == KIND_BLOB && i < r->plan_blob_count; i++)
        if (strcmp(r->plan_blobs[i].digest, digest) == 0)
            return 1;
    for (size_t i = 0; kind == KIND_MANIFEST && i < r->plan_manifest_count; i++)
        if (strcmp(r->plan_manifests[i].digest, digest) == 0)
            return 1;
    return was_copied(r, digest, kind);
}

static int mark_copied(copy_run *r, const char *digest, int kind)
{
    if (op_grow((void **)&r->done, r->done_count, &r->done_alloc, sizeof *r->done, 32))
        return op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
    copied *c = &r->done[r->done_count++];
    snprintf(c->digest, sizeof c->digest, "%s", digest);
    c->kind = kind;
    return 0;
}

static void plan_clear(copy_run *r)
{
    for (size_t i = 0; i < r->plan_manifest_count; i++) {
        op_buf_free(&r->plan_manifests[i].bytes);
        op_free(r->plan_manifests[i].type_copy);
    }
    r->plan_blob_count = r->plan_manifest_count = 0;
}

/* A descriptor's digest and size, checked; `what` names it for messages. */
static int descriptor_of(copy_run *r, const cJSON *desc, const char *what, const char *in,
                         const char **out_digest, int64_t *out_size, const char **out_type)
{
    const cJSON *digest = cJSON_GetObjectItemCaseSensitive(desc, "digest");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(desc, "size");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(desc, "mediaType");
    if (!cJSON_IsString(digest) || ocipush_digest_validate(digest->valuestring))
        return op_sfail(r->s, OCIPUSH_E_INVALID,
                        "%s: the manifest %s has a %s without a valid "
                        "sha256 digest",
                        r->src->ops->name(r->src), in, what);
    if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 9007199254740992.0)
        return op_sfail(r->s, OCIPUSH_E_INVALID,
                        "%s: the manifest %s has a %s without a valid "
                        "size",
                        r->src->ops->name(r->src), in, what);
    *out_digest = digest->valuestring;
    *out_size = (int64_t)size->valuedouble;
    if (out_type)
        *out_type = cJSON_IsString(type) ? type->valuestring : "";
    return 0;
}

static int plan_blob(copy_run *r, const cJSON *desc, const char *what, const char *in)
{
    const char *digest;
    int64_t size;
    int rc = descriptor_of(r, desc, what, in, &digest, &size, NULL);
    if (rc || is_planned(r, digest, KIND_BLOB))
        return rc;
    if (op_grow((void **)&r->plan_blobs, r->plan_blob_count, &r->plan_blob_alloc,
                sizeof *r->plan_blobs, 16))
        return op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
    planned_blob *b = &r->plan_blobs[r->plan_blob_count++];
    snprintf(b->digest, sizeof b->digest, "%s", digest);
    b->size = size;
    return 0;
}

static int plan_manifest(copy_run *r, const char *digest, int64_t size, const char *type_hint,
                         const char *tag, int depth);

/* An image manifest's config and layers; an index's manifests. */
static int plan_children(copy_run *r, const cJSON *doc, const char *digest, int depth)
{
    const cJSON *children = cJSON_GetObjectItemCaseSensitive(doc, "manifests");
    const cJSON *item;
    int rc = 0;
    if (cJSON_IsArray(children)) {
        if (depth >= NESTING_MAX)
            return op_sfail(r->s, OCIPUSH_E_INVALID, "%s: indexes nest deeper than %d at %s",
                            r->src->ops->name(r->src), NESTING_MAX, digest);
        cJSON_ArrayForEach(item, children)
        {
            const char *child, *type;
            int64_t child_size;
            rc = descriptor_of(r, item, "manifest entry", digest, &child, &child_size, &type);
            rc = rc ? rc : plan_manifest(r, child, child_size, type, NULL, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(doc, "layers");
    if (!cJSON_IsObject(config) || !cJSON_IsArray(layers))
        return op_sfail(r->s, OCIPUSH_E_INVALID,
                        "%s: %s is neither an image manifest (config, layers) nor an index "
                        "(manifests)",
                        r->src->ops->name(r->src), digest);
    rc = plan_blob(r, config, "config", digest);
    cJSON_ArrayForEach(item, layers)
    {
        if (rc)
            break;
        rc = plan_blob(r, item, "layer", digest);
    }
    return rc;
}

/* The manifest `digest` read and checked, what it needs planned, then it
 * (under `tag`, NULL: by digest) after them. */
static int plan_manifest(copy_run *r, const char *digest, int64_t size, const char *type_hint,
                         const char *tag, int depth)
{
    if (!tag && is_planned(r, digest, KIND_MANIFEST))
        return 0;
    op_buf bytes = {0};
    int rc = r->src->ops->read_manifest(r->src, &r->s->ctx.diag, digest, size, &bytes);
    cJSON *doc = rc ? NULL : cJSON_ParseWithLength(bytes.data, bytes.len);
    if (!rc && !cJSON_IsObject(doc))
        rc = op_sfail(r->s, OCIPUSH_E_INVALID, "%s: the manifest %s is not a JSON object",
                      r->src->ops->name(r->src), digest);
    rc = rc ? rc : plan_children(r, doc, digest, depth);
    /* The document's own mediaType, else its descriptor's, else its shape's. */
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(doc, "mediaType");
    const char *hint = cJSON_IsString(own) ? NULL : (type_hint && *type_hint ? type_hint : NULL);
    if (rc == 0 && hint && op_media_type_check(hint))
        rc = op_sfail(r->s, OCIPUSH_E_INVALID,
                      "%s: the descriptor of the manifest %s gives a mediaType that is not a "
                      "media type (type/subtype)",
                      r->src->ops->name(r->src), digest);
    if (rc == 0 && op_grow((void **)&r->plan_manifests, r->plan_manifest_count,
                           &r->plan_manifest_alloc, sizeof *r->plan_manifests, 8))
        rc = op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
    if (rc == 0) {
        planned_manifest *m = &r->plan_manifests[r->plan_manifest_count];
        *m = (planned_manifest){.bytes = bytes};
        snprintf(m->digest, sizeof m->digest, "%s", digest);
        snprintf(m->reference, sizeof m->reference, "%s%s%s", tag ? tag : "", tag ? "@" : "",
                 digest);
        if (hint && !(m->type = m->type_copy = op_strdup(hint)))
            rc = op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
        else
            r->plan_manifest_count++, bytes = (op_buf){0};
    }
    cJSON_Delete(doc);
    op_buf_free(&bytes);
    return rc;
}

/* The planned blobs, at once: each opened (a missing one fails here, before
 * any is sent), then pushed, checked against its name as it is read and
 * skipped when the repository has it. */
static int push_planned_blobs(copy_run *r)
{
    size_t n = r->plan_blob_count, opened = 0;
    op_blob_job *jobs = n ? op_calloc(n, sizeof *jobs) : NULL;
    int rc = n && !jobs ? op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory") : 0;
    for (; rc == 0 && opened < n; opened++) {
        planned_blob *b = &r->plan_blobs[opened];
        jobs[opened].expected = b->digest;
        jobs[opened].mount_from = r->s->ctx.set.copy_mount_from;
        rc = r->src->ops->open_blob(r->src, &r->s->ctx.diag, b->digest, b->size,
                                    &jobs[opened].source);
    }
    rc = rc ? rc : op_copy_blobs(r->s, r->repository, jobs, n);
    for (size_t i = 0; rc == OCIPUSH_E_DIGEST_MISMATCH && i < n; i++)
        if (jobs[i].rc == OCIPUSH_E_DIGEST_MISMATCH) {
            char why[sizeof r->s->ctx.diag.errmsg]; /* not formatted into itself */
            memcpy(why, r->s->ctx.diag.errmsg, sizeof why);
            op_sfail(r->s, rc, "%s: the blob %s does not hash to its name (%s)",
                     r->src->ops->name(r->src), r->plan_blobs[i].digest, why);
            break;
        }
    for (size_t i = 0; i < opened; i++)
        ocipush_source_free(jobs[i].source);
    op_free(jobs);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = mark_copied(r, r->plan_blobs[i].digest, KIND_BLOB);
    r->blobs += rc == 0 ? n : 0;
    return rc;
}

/* The plan carried out: the blobs at once, then the manifests in order;
 * *answer (may be NULL) says what the registry said to the last one. */
static int run_plan(copy_run *r, op_manifest_answer *answer)
{
    int rc = push_planned_blobs(r);
    for (size_t i = 0; rc == 0 && i < r->plan_manifest_count; i++) {
        planned_manifest *m = &r->plan_manifests[i];
        int last = i + 1 == r->plan_manifest_count;
        rc = op_manifest_push_raw(r->s, r->repository, m->reference, m->type, m->bytes.data,
                                  m->bytes.len, NULL, last ? answer : NULL);
        rc = rc ? rc : mark_copied(r, m->digest, KIND_MANIFEST);
        r->manifests += rc == 0;
    }
    plan_clear(r);
    return rc;
}

/* One manifest or index and all it needs, the top under `tag`. */
static int copy_manifest(copy_run *r, const char *digest, int64_t size, const char *type_hint,
                         const char *tag, op_manifest_answer *answer)
{
    int rc = plan_manifest(r, digest, size, type_hint, tag, 0);
    if (rc) {
        plan_clear(r);
        return rc;
    }
    return run_plan(r, answer);
}

/* The entry `tag` names, or without a tag the only one; else an error that
 * lists the tags the source has. */
static int pick_entry(copy_run *r, const char *tag, const op_image_entry **out)
{
    size_t n = 0, tagged = 0;
    const op_image_entry *e = r->src->ops->entries(r->src, &n), *only = NULL;
    for (size_t i = 0; i < n; i++) {
        if (tag && e[i].tag && strcmp(e[i].tag, tag) == 0) {
            *out = &e[i];
            return 0;
        }
        if (e[i].tag) {
            tagged++;
            only = &e[i];
        }
    }
    if (!tag && n == 1)
        only = &e[0], tagged = 1;
    if (!tag && tagged == 1) {
        *out = only;
        return 0;
    }
    op_buf list = {0};
    for (size_t i = 0; i < n; i++)
        if (e[i].tag)
            op_buf_printf(&list, "%s%s", list.len ? ", " : "", e[i].tag);
    int rc =
        tag ? op_sfail(r->s, OCIPUSH_E_INVALID, "%s has no tag %s (its tags: %s)",
                       r->src->ops->name(r->src), tag, list.len ? list.data : "none")
            : op_sfail(r->s, OCIPUSH_E_INVALID, "%s holds %zu images: name one by its tag (%s)",
                       r->src->ops->name(r->src), n, list.len ? list.data : "none tagged");
    op_buf_free(&list);
    return rc;
}

/* The entry whose io.containerd.image.name is `name` ("busybox:latest" is
 * "docker.io/library/busybox:latest"), or "@N", the Nth; else an error that
 * lists the names. */
static int pick_named_entry(copy_run *r, const char *name, const op_image_entry **out)
{
    size_t n = 0;
    const op_image_entry *e = r->src->ops->entries(r->src, &n);
    char *end = NULL;
    unsigned long at = name[0] == '@' ? strtoul(name + 1, &end, 10) : 0;
    if (end && end != name + 1 && !*end && at < n) {
        *out = &e[at];
        return 0;
    }
    for (size_t i = 0; !end && i < n; i++)
        if (e[i].image_name && op_docker_same_name(e[i].image_name, name)) {
            *out = &e[i];
            return 0;
        }
    op_buf list = {0};
    for (size_t i = 0; i < n; i++)
        if (e[i].image_name)
            op_buf_printf(&list, "%s%s", list.len ? ", " : "", e[i].image_name);
    int rc = op_sfail(r->s, OCIPUSH_E_INVALID, "%s has no image %s (its images: %s)",
                      r->src->ops->name(r->src), name, list.len ? list.data : "none named");
    op_buf_free(&list);
    return rc;
}

/* The referrer's entry in the referrers index: what it is and its notes. */
static int referrer_entry(const cJSON *doc, const char *digest, size_t size, const char *type,
                          ocipush_descriptor **out)
{
    const cJSON *artifact = cJSON_GetObjectItemCaseSensitive(doc, "artifactType");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(doc, "config");
    const cJSON *config_type = cJSON_GetObjectItemCaseSensitive(config, "mediaType");
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(doc, "annotations");
    const cJSON *note;
    int rc = ocipush_descriptor_new(out, type, digest, size);
    const char *kind = cJSON_IsString(artifact)      ? artifact->valuestring
                       : cJSON_IsString(config_type) ? config_type->valuestring
                                                     : NULL;
    if (!rc && kind)
        rc = ocipush_descriptor_set_artifact_type(*out, kind);
    cJSON_ArrayForEach(note, notes)
    {
        if (!rc && cJSON_IsString(note))
            rc = ocipush_descriptor_add_annotation(*out, note->string, note->valuestring);
    }
    return rc;
}

typedef struct entry_order {
    const char *digest;
    size_t at;
} entry_order;

static int by_digest_then_place(const void *a, const void *b)
{
    const entry_order *x = a, *y = b;
    int c = strcmp(x->digest, y->digest);
    return c ? c : x->at < y->at ? -1 : x->at > y->at;
}

/* first[i]: entry i is the first of its digest. An index.json may list one
 * manifest many times (one per tag, or a hostile number of them): each is
 * read once, in n log n, not n times. NULL when memory runs out. */
static unsigned char *first_of_each(const op_image_entry *e, size_t n)
{
    entry_order *order = op_calloc(n + 1, sizeof *order);
    unsigned char *first = op_calloc(n + 1, 1);
    if (!order || !first) {
        op_free(order);
        op_free(first);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (entry_order){e[i].digest, i};
    qsort(order, n, sizeof *order, by_digest_then_place);
    for (size_t i = 0; i < n; i++)
        first[order[i].at] = i == 0 || strcmp(order[i - 1].digest, order[i].digest) != 0;
    op_free(order);
    return first;
}

/* Each manifest the source lists whose subject was copied: by digest, and
 * listed in its subject's referrers index unless the registry keeps it. */
static int copy_referrers(copy_run *r)
{
    size_t n = 0;
    const op_image_entry *e = r->src->ops->entries(r->src, &n);
    unsigned char *first = first_of_each(e, n);
    int rc = first ? 0 : op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        if (!first[i] || was_copied(r, e[i].digest, KIND_MANIFEST))
            continue;
        op_buf bytes = {0};
        /* Another image of the source that cannot be read is not this
         * copy's business: said, and passed over. */
        if (r->src->ops->read_manifest(r->src, &r->s->ctx.diag, e[i].digest, e[i].size, &bytes)) {
            op_slog(r->s, OCIPUSH_LOG_INFO, "not a referrer, or unreadable: %s (%s)", e[i].digest,
                    r->s->ctx.diag.errmsg);
            r->s->ctx.diag.errmsg[0] = '\0';
            op_buf_free(&bytes);
            continue;
        }
        cJSON *doc = cJSON_ParseWithLength(bytes.data, bytes.len);
        const cJSON *subject = cJSON_GetObjectItemCaseSensitive(doc, "subject");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(subject, "digest");
        if (!rc && cJSON_IsString(of) && was_copied(r, of->valuestring, KIND_MANIFEST)) {
            char *type = NULL;
            ocipush_descriptor *entry = NULL;
            op_slog(r->s, OCIPUSH_LOG_INFO, "copying %s, a referrer of %s", e[i].digest,
                    of->valuestring);
            op_manifest_answer answer = {0};
            rc = copy_manifest(r, e[i].digest, e[i].size, e[i].media_type, NULL, &answer);
            if (!rc && op_json_manifest_media_type(&type, bytes.data, bytes.len))
                rc = op_sfail(r->s, OCIPUSH_E_INVALID, "%s: the referrer %s has no media type",
                              r->src->ops->name(r->src), e[i].digest);
            int bad = rc ? 0 : referrer_entry(doc, e[i].digest, bytes.len, type, &entry);
            if (bad)
                rc = op_sfail(r->s, bad,
                              bad == OCIPUSH_E_NOMEM
                                  ? "out of memory"
                                  : "%s: the referrer %s has an artifact type or an annotation "
                                    "that cannot be listed",
                              r->src->ops->name(r->src), e[i].digest);
            if (!rc && !answer.keeps_referrers)
                rc = op_referrers_tag_add(r->s, r->repository, of->valuestring, entry);
            ocipush_descriptor_free(entry);
            op_free(type);
        }
        cJSON_Delete(doc);
        op_buf_free(&bytes);
    }
    op_free(first);
    return rc;
}

/* One image of the source, `top`, under `tag` (NULL: by digest only). */
static int copy_image(copy_run *r, const op_image_entry *top, const char *tag)
{
    if (tag && ocipush_tag_validate(tag))
        return op_sfail(r->s, OCIPUSH_E_INVALID, "invalid tag '%s' in %s", tag,
                        r->src->ops->name(r->src));
    int rc = copy_manifest(r, top->digest, top->size, top->media_type, tag, NULL);
    if (rc == 0)
        op_slog(r->s, OCIPUSH_LOG_INFO, "copied %s from %s to %s%s%s", top->digest,
                r->src->ops->name(r->src), r->repository, tag ? ":" : "", tag ? tag : "");
    return rc;
}

/* `source_tag` picks the image by its tag, or `image_name` by its
 * io.containerd.image.name (a docker archive's REPO:TAG, or "@N": the Nth
 * entry from 0); neither: the only one. */
static int op_copy_run(ocipush_session *s, op_image_source *src, const char *source_tag,
                       const char *image_name, const char *repository, const char *tag, int flags,
                       char *out_digest)
{
    copy_run r = {.s = s, .src = src, .repository = repository};
    const op_image_entry *top = NULL;
    int rc = 0;
    if (flags & OCIPUSH_COPY_ALL_TAGS) {
        /* Every tagged image under its own tag; what they share goes once. */
        size_t n = 0, copied = 0;
        const op_image_entry *e = src->ops->entries(src, &n);
        for (size_t i = 0; !rc && i < n; i++)
            if (e[i].tag && (rc = copy_image(&r, &e[i], e[i].tag)) == 0 && !copied++)
                top = &e[i];
        if (!rc && !copied)
            rc = op_sfail(s, OCIPUSH_E_INVALID, "%s has no tagged image", src->ops->name(src));
    } else if ((rc = image_name ? pick_named_entry(&r, image_name, &top)
                                : pick_entry(&r, source_tag, &top)) == 0) {
        rc = copy_image(&r, top, tag ? (*tag ? tag : NULL) : top->tag);
    }
    if (!rc && !(flags & OCIPUSH_COPY_NO_REFERRERS))
        rc = copy_referrers(&r);
    if (!rc) {
        op_slog(s, OCIPUSH_LOG_INFO, "copy from %s: %zu blobs, %zu manifests", src->ops->name(src),
                r.blobs, r.manifests);
        if (out_digest)
            op_digest_copy(out_digest, top->digest);
    }
    op_free(r.done);
    op_free(r.plan_blobs);
    op_free(r.plan_manifests);
    return rc;
}

typedef enum source_kind { SOURCE_LAYOUT, SOURCE_OCI_ARCHIVE, SOURCE_DOCKER_ARCHIVE } source_kind;

/* "oci:DIR[:TAG]", "oci-archive:FILE[:TAG]" or
 * "docker-archive:FILE[:REPO:TAG]" into the path, what follows it (NULL
 * when nothing) and the kind, as skopeo splits them: at the first ':' after
 * the transport. A docker archive's "REPO:TAG" (or "@N") is only compared,
 * never sent, but it goes into messages: no control characters. */
static int parse_source(ocipush_session *s, const char *source, op_buf *path_out, const char **ref,
                        source_kind *kind)
{
    static const struct {
        const char *prefix;
        source_kind kind;
    } kinds[] = {{"oci:", SOURCE_LAYOUT},
                 {"oci-archive:", SOURCE_OCI_ARCHIVE},
                 {"docker-archive:", SOURCE_DOCKER_ARCHIVE}};
    size_t k = 0, skip = 0;
    for (; source && k < sizeof kinds / sizeof kinds[0]; k++)
        if (strncmp(source, kinds[k].prefix, (skip = strlen(kinds[k].prefix))) == 0)
            break;
    if (!source || k == sizeof kinds / sizeof kinds[0])
        return op_sfail(s, OCIPUSH_E_INVALID,
                        "unknown image source '%.200s' (oci:DIR[:TAG], oci-archive:FILE[:TAG] and "
                        "docker-archive:FILE[:REPO:TAG] are what this build reads)",
                        source ? source : "(null)");
    *kind = kinds[k].kind;
    const char *path = source + skip, *colon = strchr(path, ':');
    size_t n = colon ? (size_t)(colon - path) : strlen(path);
    *ref = colon && colon[1] ? colon + 1 : NULL;
    if (n == 0)
        return op_sfail(s, OCIPUSH_E_INVALID, "no %s in '%s'",
                        *kind == SOURCE_LAYOUT ? "directory" : "file", source);
    if (*ref && *kind != SOURCE_DOCKER_ARCHIVE && ocipush_tag_validate(*ref))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid tag in '%s'", source);
    for (const char *c = *ref; c && *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || c - *ref > 255)
            return op_sfail(s, OCIPUSH_E_INVALID,
                            "invalid image name after the docker archive's path (want REPO:TAG or "
                            "@N)");
    return op_buf_append(path_out, path, n) ? op_sfail(s, OCIPUSH_E_NOMEM, "out of memory") : 0;
}

/* A docker archive: as an OCI archive when it is one too (Docker 25), else
 * the legacy form (copy_docker.c). */
static int copy_docker_archive(ocipush_session *s, const char *path, const char *reference,
                               const char *repository, const char *tag, int flags, char *out_digest)
{
    op_tar *tar = NULL;
    op_image_source *src = NULL;
    int rc = op_tar_open(&tar, &s->ctx.diag, path);
    if (rc)
        return rc;
    if (op_tar_find(tar, "oci-layout") && op_tar_find(tar, "index.json")) {
        rc = op_image_source_from_tar(&src, &s->ctx.diag, tar, "docker archive");
        if (rc == 0 && (flags & OCIPUSH_COPY_ALL_TAGS) && (reference || (tag && *tag)))
            rc = op_sfail(s, OCIPUSH_E_INVALID,
                          "all the tags are copied, each under its own: no tag goes with them");
        rc = rc ? rc : op_copy_run(s, src, NULL, reference, repository, tag, flags, out_digest);
        if (src)
            src->ops->free(src);
        return rc;
    }
    if (flags & OCIPUSH_COPY_ALL_TAGS)
        rc = op_sfail(s, OCIPUSH_E_INVALID,
                      "copying all the tags is for OCI layouts and archives; name the docker "
                      "archive's images one at a time (REPO:TAG)");
    rc = rc ? rc : op_copy_docker(s, tar, reference, repository, tag, out_digest);
    op_tar_free(tar);
    return rc;
}

int ocipush_copy(ocipush_session *s, char *out_digest, const char *source, const char *repository,
                 const char *tag, int flags)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (flags & ~(OCIPUSH_COPY_NO_REFERRERS | OCIPUSH_COPY_ALL_TAGS))
        return op_sfail(s, OCIPUSH_E_INVALID, "unknown copy flags %#x", (unsigned)flags);
    if (ocipush_repository_validate(repository))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'",
                        repository ? repository : "(null)");
    if (tag && *tag && ocipush_tag_validate(tag))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid tag '%s'", tag);
    op_buf path = {0};
    const char *ref = NULL;
    op_image_source *src = NULL;
    source_kind kind = SOURCE_LAYOUT;
    int rc = parse_source(s, source, &path, &ref, &kind);
    if (rc == 0 && kind == SOURCE_DOCKER_ARCHIVE) {
        rc = copy_docker_archive(s, path.data, ref, repository, tag, flags, out_digest);
        op_buf_free(&path);
        return rc;
    }
    if (rc == 0)
        rc = kind == SOURCE_OCI_ARCHIVE
                 ? op_image_source_open_archive(&src, &s->ctx.diag, path.data)
                 : op_image_source_open_layout(&src, &s->ctx.diag, path.data);
    if (rc == 0 && (flags & OCIPUSH_COPY_ALL_TAGS) && (ref || (tag && *tag)))
        rc = op_sfail(s, OCIPUSH_E_INVALID,
                      "all the tags are copied, each under its own: no tag goes with them");
    rc = rc ? rc : op_copy_run(s, src, ref, NULL, repository, tag, flags, out_digest);
    if (src)
        src->ops->free(src);
    op_buf_free(&path);
    return rc;
}
