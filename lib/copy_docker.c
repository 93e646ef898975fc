/* ocipush_copy from a legacy docker archive (`docker save` before Docker
 * 25, skopeo's docker-archive:): manifest.json names each image's config
 * and its layers, uncompressed tars. The image becomes an OCI image
 * manifest: the config byte for byte, each layer compressed on the fly as
 * the session says (its compressed digest known only once it has streamed),
 * its uncompressed digest checked against the config's rootfs.diff_ids.
 * Everything is checked that can be before a byte is sent (the image, its
 * config, the diff_ids against the layers, every layer member there); the
 * layers then go, then the config, and the manifest last under its tag, so a
 * failure leaves no tag. Layers are read from the archive as streams
 * (tar_members.c): nothing is unpacked to disk. */
#include "copy_docker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "blob.h"
#include "copy_blobs.h"
#include "buf.h"
#include "digest.h"
#include "docker_manifest.h"
#include "manifest_push.h"
#include "session.h"

#define CONFIG_TYPE "application/vnd.oci.image.config.v1+json"

typedef struct docker_run {
    ocipush_session *s;
    const op_tar *tar;
    const char *name; /* "the docker archive PATH" */
    const char *repository;
    const op_docker_image *image;
    const op_tar_member *config;
    op_buf config_text; /* its bytes */
    char config_digest[OCIPUSH_DIGEST_MAX];
    const char **diff_ids;
    /* What each layer became: its digest and size in the registry. */
    char (*digests)[OCIPUSH_DIGEST_MAX];
    uint64_t *sizes;
} docker_run;

/* The tag of "REPO:TAG" (a ':' after the last '/'), or NULL. */
static const char *tag_of(const char *repo_tag)
{
    const char *colon = strrchr(repo_tag, ':'), *slash = strrchr(repo_tag, '/');
    return colon && (!slash || colon > slash) && colon[1] ? colon + 1 : NULL;
}

/* Every RepoTag of the archive, for a message. */
static void list_repo_tags(const op_docker_image *images, size_t n, op_buf *out)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < images[i].tag_count; j++)
            op_buf_printf(out, "%s%s", out->len ? ", " : "", images[i].repo_tags[j]);
}

/* The image `reference` names ("REPO:TAG" among the RepoTags, or "@N", the
 * Nth image from 0, as skopeo reads it), or without one the only image.
 * *out_repo_tag: the RepoTag picked, or NULL. */
static int pick_image(docker_run *r, const op_docker_image *images, size_t n, const char *reference,
                      const char **out_repo_tag)
{
    r->image = NULL;
    *out_repo_tag = NULL;
    if (reference && reference[0] == '@') {
        char *end = NULL;
        unsigned long i = strtoul(reference + 1, &end, 10);
        if (end && end != reference + 1 && !*end && i < n)
            r->image = &images[i];
        *out_repo_tag = r->image && r->image->tag_count ? r->image->repo_tags[0] : NULL;
    } else if (reference) {
        for (size_t i = 0; !r->image && i < n; i++)
            for (size_t j = 0; !r->image && j < images[i].tag_count; j++)
                if (op_docker_same_name(images[i].repo_tags[j], reference))
                    r->image = &images[i], *out_repo_tag = images[i].repo_tags[j];
    } else if (n == 1) {
        r->image = &images[0];
        *out_repo_tag = r->image->tag_count ? r->image->repo_tags[0] : NULL;
    }
    if (r->image)
        return 0;
    op_buf list = {0};
    list_repo_tags(images, n, &list);
    int rc = reference ? op_sfail(r->s, OCIPUSH_E_INVALID, "%s has no image %s (its RepoTags: %s)",
                                  r->name, reference, list.len ? list.data : "none")
                       : op_sfail(r->s, OCIPUSH_E_INVALID,
                                  "%s holds %zu images: name one as docker-archive:FILE:REPO:TAG "
                                  "or :@N (its RepoTags: %s)",
                                  r->name, n, list.len ? list.data : "none");
    op_buf_free(&list);
    return rc;
}

/* A config named by its digest ("<hex>.json", "blobs/sha256/<hex>") must
 * hash to it: the archive says so. */
static int check_config_name(docker_run *r, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t hex = strspn(base, "0123456789abcdef");
    int named = hex == 64 && (base[64] == '\0' || strcmp(base + 64, ".json") == 0);
    if (!named || strncmp(r->config_digest + 7, base, 64) == 0)
        return 0;
    return op_sfail(r->s, OCIPUSH_E_DIGEST_MISMATCH, "%s: the config %s hashes to %s, not its name",
                    r->name, path, r->config_digest);
}

/* The image's config, read and checked: its digest, its name, its diff_ids
 * (one per layer), and every layer member there. */
static int check_image(docker_run *r, cJSON **config_doc)
{
    const op_docker_image *img = r->image;
    size_t n = 0;
    r->config = op_tar_find(r->tar, img->config);
    if (!r->config)
        return op_sfail(r->s, OCIPUSH_E_IO, "%s lacks the config %s that manifest.json names",
                        r->name, img->config);
    int rc =
        op_tar_read_small(r->tar, r->config, OP_TAR_SMALL_MAX, &r->config_text, &r->s->ctx.diag);
    if (rc)
        return rc;
    rc = op_sha256_digest(r->config_digest, r->config_text.data, r->config_text.len);
    if (rc)
        return op_sfail(r->s, rc, "hashing the config %s failed", img->config);
    if ((rc = check_config_name(r, img->config)))
        return rc;
    char what[600];
    snprintf(what, sizeof what, "%s: the config %s", r->name, img->config);
    if ((rc = op_docker_diff_ids_parse(config_doc, &r->diff_ids, &n, &r->s->ctx.diag, what,
                                       r->config_text.data, r->config_text.len)))
        return rc;
    if (n != img->layer_count)
        return op_sfail(r->s, OCIPUSH_E_INVALID,
                        "%s lists %zu rootfs.diff_ids, but manifest.json gives the image %zu "
                        "layers",
                        what, n, img->layer_count);
    for (size_t i = 0; i < img->layer_count; i++)
        if (!op_tar_find(r->tar, img->layers[i]))
            return op_sfail(r->s, OCIPUSH_E_IO,
                            "%s lacks the layer %s (Layers[%zu] of manifest.json), or it is a "
                            "link to nothing in the archive",
                            r->name, img->layers[i], i);
    return 0;
}

/* The source of layer i: its member, compressed as the session says (or
 * as it is: its diff_id is then its digest, checked as it streams). */
static int open_layer(docker_run *r, size_t i, op_blob_job *job)
{
    const op_settings *set = &r->s->ctx.set;
    const char *path = r->image->layers[i];
    ocipush_source *raw = NULL;
    int rc = op_tar_open_member(r->tar, op_tar_find(r->tar, path), &raw);
    if (rc)
        return op_sfail(r->s, rc, "out of memory");
    if (set->layer_compression == OCIPUSH_COMPRESS_NONE) {
        job->source = raw;
        job->expected = r->diff_ids[i];
        job->mount_from = r->s->ctx.set.copy_mount_from;
        return 0;
    }
    if ((rc = ocipush_source_new_compressed(&job->source, raw, set->layer_compression,
                                            set->layer_compression_level)))
        return op_sfail(r->s, rc, "cannot compress the layer %s: %s", path, ocipush_strerror(rc));
    return 0;
}

/* After the push: each compressed layer's uncompressed bytes are its
 * diff_id; a layer as it is was checked as it streamed (the message says
 * which one failed). */
static int check_layers(docker_run *r, const op_blob_job *jobs, const size_t *layer_of, size_t n,
                        int rc)
{
    int none = r->s->ctx.set.layer_compression == OCIPUSH_COMPRESS_NONE;
    for (size_t j = 0; rc == OCIPUSH_E_DIGEST_MISMATCH && j < n; j++)
        if (jobs[j].rc == OCIPUSH_E_DIGEST_MISMATCH && layer_of[j] < r->image->layer_count)
            return op_sfail(r->s, rc, "%s: the layer %s does not hash to rootfs.diff_ids[%zu] %s",
                            r->name, r->image->layers[layer_of[j]], layer_of[j],
                            r->diff_ids[layer_of[j]]);
    for (size_t j = 0; rc == 0 && !none && j < n; j++) {
        size_t i = layer_of[j];
        char got[OCIPUSH_DIGEST_MAX];
        if (i >= r->image->layer_count) /* the config */
            continue;
        if (ocipush_source_uncompressed_digest(jobs[j].source, got, NULL) != OCIPUSH_OK)
            rc = op_sfail(r->s, OCIPUSH_E_SOURCE, "%s: the layer %s was not read to its end",
                          r->name, r->image->layers[i]);
        else if (strcmp(got, r->diff_ids[i]) != 0)
            rc = op_sfail(r->s, OCIPUSH_E_DIGEST_MISMATCH,
                          "%s: the layer %s hashes to %s uncompressed, but the config's "
                          "rootfs.diff_ids[%zu] says %s; nothing is tagged",
                          r->name, r->image->layers[i], got, i, r->diff_ids[i]);
    }
    return rc;
}

/* Layer i's job: that of an earlier layer of the same member and diff_id
 * (by name or through a link: pushed once), or SIZE_MAX for a new one.
 * member_of: each layer's member, found once. */
static size_t earlier_job(const docker_run *r, size_t i, const size_t *layer_of, size_t jobs,
                          const op_tar_member *const *member_of)
{
    for (size_t j = 0; j < jobs; j++) {
        size_t k = layer_of[j];
        if (member_of[k] == member_of[i] && strcmp(r->diff_ids[k], r->diff_ids[i]) == 0)
            return j;
    }
    return SIZE_MAX;
}

/* The layers (each distinct member once) and the config, at once
 * (copy_blobs.c); then what each layer became, in r->digests and r->sizes. */
static int push_blobs(docker_run *r)
{
    size_t n = r->image->layer_count, count = 0;
    op_blob_job *jobs = op_calloc(n + 1, sizeof *jobs);
    size_t *layer_of = op_calloc(n + 1, sizeof *layer_of); /* n: the config */
    size_t *job_of = op_calloc(n, sizeof *job_of);
    const op_tar_member **member_of = op_calloc(n + 1, sizeof *member_of);
    int rc = jobs && layer_of && job_of && member_of
                 ? 0
                 : op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        member_of[i] = op_tar_find(r->tar, r->image->layers[i]);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        job_of[i] = earlier_job(r, i, layer_of, count, member_of);
        if (job_of[i] != SIZE_MAX)
            continue;
        layer_of[count] = i;
        job_of[i] = count;
        rc = open_layer(r, i, &jobs[count++]);
    }
    /* The config's bytes as hashed and parsed, borrowed from r. */
    if (rc == 0 && (rc = ocipush_source_new_memory(&jobs[count].source, r->config_text.data,
                                                   r->config_text.len, 0)))
        rc = op_sfail(r->s, rc, "out of memory");
    if (rc == 0) {
        jobs[count].expected = r->config_digest;
        jobs[count].mount_from = r->s->ctx.set.copy_mount_from;
        layer_of[count++] = n;
        op_slog(r->s, OCIPUSH_LOG_INFO, "%s: %zu layers and the config, %s", r->name, count - 1,
                r->s->ctx.set.layer_compression == OCIPUSH_COMPRESS_NONE
                    ? "as they are"
                    : "compressed as they stream");
        rc = op_copy_blobs(r->s, r->repository, jobs, count);
        rc = check_layers(r, jobs, layer_of, count, rc);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        memcpy(r->digests[i], jobs[job_of[i]].digest, sizeof r->digests[i]);
        r->sizes[i] = jobs[job_of[i]].size;
    }
    for (size_t j = 0; jobs && j <= n; j++)
        ocipush_source_free(jobs[j].source);
    op_free(jobs);
    op_free(layer_of);
    op_free(job_of);
    op_free(member_of);
    return rc;
}

static const char *layer_type(int algorithm)
{
    return algorithm == OCIPUSH_COMPRESS_GZIP   ? "application/vnd.oci.image.layer.v1.tar+gzip"
           : algorithm == OCIPUSH_COMPRESS_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                : OCIPUSH_MEDIA_TYPE_LAYER;
}

/* The OCI image manifest of what was pushed, serialized. */
static int make_manifest(docker_run *r, char **out, size_t *out_len)
{
    ocipush_manifest *m = NULL;
    ocipush_descriptor *desc = NULL;
    int rc = ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE);
    rc = rc ? rc
            : ocipush_descriptor_new(&desc, CONFIG_TYPE, r->config_digest,
                                     (uint64_t)r->config->size);
    rc = rc ? rc : ocipush_manifest_set_config(m, desc);
    for (size_t i = 0; rc == 0 && i < r->image->layer_count; i++) {
        ocipush_descriptor_free(desc);
        desc = NULL;
        rc = ocipush_descriptor_new(&desc, layer_type(r->s->ctx.set.layer_compression),
                                    r->digests[i], r->sizes[i]);
        rc = rc ? rc : ocipush_manifest_add_layer(m, desc);
    }
    rc = rc ? rc : ocipush_manifest_serialize(m, out, out_len);
    ocipush_descriptor_free(desc);
    ocipush_manifest_free(m);
    return rc ? op_sfail(r->s, rc, "cannot make the manifest: %s", ocipush_strerror(rc)) : 0;
}

/* Layers and config, then the manifest under `tag` (NULL: by digest). */
static int push_image(docker_run *r, const char *tag, char *out_digest)
{
    size_t n = r->image->layer_count;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    r->digests = op_calloc(n, sizeof *r->digests);
    r->sizes = op_calloc(n, sizeof *r->sizes);
    if (!r->digests || !r->sizes)
        rc = op_sfail(r->s, OCIPUSH_E_NOMEM, "out of memory");
    rc = rc ? rc : push_blobs(r);
    rc = rc ? rc : make_manifest(r, &text, &len);
    rc = rc ? rc
            : op_manifest_push_raw(r->s, r->repository, tag, OCIPUSH_MEDIA_TYPE_MANIFEST, text, len,
                                   out_digest, NULL);
    if (rc == 0)
        op_slog(r->s, OCIPUSH_LOG_INFO, "copied %s from %s to %s%s%s: %zu layers", out_digest,
                r->name, r->repository, tag ? ":" : "", tag ? tag : "", n);
    ocipush_free(text);
    op_free(r->digests);
    op_free(r->sizes);
    return rc;
}

int op_copy_docker(ocipush_session *s, const op_tar *tar, const char *reference,
                   const char *repository, const char *tag, char *out_digest)
{
    const op_tar_member *manifest = op_tar_find(tar, "manifest.json");
    op_buf name = {0};
    if (op_buf_printf(&name, "the docker archive %s", op_tar_path(tar))) {
        op_buf_free(&name);
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    }
    docker_run r = {.s = s, .tar = tar, .name = name.data, .repository = repository};
    op_buf text = {0};
    cJSON *doc = NULL, *config_doc = NULL;
    op_docker_image *images = NULL;
    size_t count = 0;
    const char *repo_tag = NULL;
    char digest[OCIPUSH_DIGEST_MAX];
    int rc = 0;
    if (!manifest)
        rc = op_sfail(s, OCIPUSH_E_INVALID,
                      "%s is not a docker archive: it has no manifest.json (nor oci-layout and "
                      "index.json)",
                      op_tar_path(tar));
    else if ((rc = op_tar_read_small(tar, manifest, OP_TAR_TOP_MAX, &text, &s->ctx.diag)) == 0)
        rc = op_docker_manifest_parse(&doc, &images, &count, &s->ctx.diag, r.name, text.data,
                                      text.len);
    rc = rc ? rc : pick_image(&r, images, count, reference, &repo_tag);
    rc = rc ? rc : check_image(&r, &config_doc);
    /* The tag: the caller's ("" none), else the one picked. */
    const char *to = tag ? (*tag ? tag : NULL) : repo_tag ? tag_of(repo_tag) : NULL;
    if (rc == 0 && to && ocipush_tag_validate(to))
        rc =
            op_sfail(s, OCIPUSH_E_INVALID, "%s: the RepoTag %s has no valid tag", r.name, repo_tag);
    rc = rc ? rc : push_image(&r, to, out_digest ? out_digest : digest);
    op_free(r.diff_ids);
    op_buf_free(&r.config_text);
    op_buf_free(&text);
    cJSON_Delete(config_doc);
    op_docker_images_free(images, count);
    cJSON_Delete(doc);
    op_buf_free(&name);
    return rc;
}
