/* Pushing a whole artifact: config, layers, then the manifest and its tags.
 * The manifest goes last so that a failure never leaves a tag pointing at
 * content the registry does not fully have. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "blob.h"
#include "buf.h"
#include "digest.h"
#include "manifest_json.h"
#include "manifest.h"
#include "manifest_push.h"
#include "parallel.h"
#include "push.h"
#include "referrers.h"
#include "retry.h"
#include "session.h"
#include "validate.h"

/* What a run stored of one blob (ocipush_push_blob). */
typedef struct push_stored {
    char digest[OCIPUSH_DIGEST_MAX];
    uint64_t size;
    int status; /* an ocipush_blob_status */
} push_stored;

typedef struct push_layer {
    ocipush_source *source;
    char *media_type;
    char *title;
    char digest[OCIPUSH_DIGEST_MAX]; /* "" when not known up front */
    push_stored stored;
} push_layer;

struct ocipush_push {
    ocipush_source *config_source; /* NULL: the empty config "{}" */
    char *config_media_type;
    push_layer *layers;
    size_t layer_count;
    char *artifact_type;
    op_annotations annotations;
    char **tags;
    size_t tag_count;
    char *subject;    /* a tag or digest in the same repository, or NULL */
    char *mount_from; /* a repository layers of known digest are mounted from */
    int concurrency;
    ocipush_push_progress_fn progress_fn;
    void *progress_user_data;
    /* What the last run left (ocipush_push_landed, ocipush_push_tagged). */
    char landed[OCIPUSH_DIGEST_MAX];
    uint64_t landed_size;
    size_t tagged;
    push_stored config_stored;
    size_t stored_count; /* 0, or 1 + layer_count after a run that succeeded */
};

int ocipush_push_new(ocipush_push **out)
{
    if (!out)
        return OCIPUSH_E_INVALID;
    ocipush_push *p = op_calloc(1, sizeof *p);
    if (!p)
        return OCIPUSH_E_NOMEM;
    p->concurrency = 4;
    *out = p;
    return OCIPUSH_OK;
}

void ocipush_push_free(ocipush_push *p)
{
    if (!p)
        return;
    op_free(p->config_media_type);
    for (size_t i = 0; i < p->layer_count; i++) {
        op_free(p->layers[i].media_type);
        op_free(p->layers[i].title);
    }
    op_free(p->layers);
    op_free(p->artifact_type);
    op_annotations_clear(&p->annotations);
    for (size_t i = 0; i < p->tag_count; i++)
        op_free(p->tags[i]);
    op_free(p->tags);
    op_free(p->subject);
    op_free(p->mount_from);
    op_free(p);
}

int ocipush_push_set_config(ocipush_push *p, ocipush_source *source, const char *media_type)
{
    if (!p || !source || op_media_type_check(media_type))
        return OCIPUSH_E_INVALID;
    char *copy = op_strdup(media_type);
    if (!copy)
        return OCIPUSH_E_NOMEM;
    op_free(p->config_media_type);
    p->config_media_type = copy;
    p->config_source = source;
    return OCIPUSH_OK;
}

int ocipush_push_add_layer(ocipush_push *p, ocipush_source *source, const char *media_type,
                           const char *title)
{
    return ocipush_push_add_layer_digest(p, source, media_type, title, NULL);
}

int ocipush_push_add_layer_digest(ocipush_push *p, ocipush_source *source, const char *media_type,
                                  const char *title, const char *digest)
{
    if (!p || !source || (media_type && op_media_type_check(media_type)) ||
        (digest && ocipush_digest_validate(digest)))
        return OCIPUSH_E_INVALID;
    push_layer l = {.source = source,
                    .media_type = op_strdup(media_type ? media_type : OCIPUSH_MEDIA_TYPE_LAYER),
                    .title = op_strdup(title)};
    push_layer *grown = (l.media_type && (!title || l.title))
                            ? op_realloc(p->layers, (p->layer_count + 1) * sizeof *grown)
                            : NULL;
    if (!grown) {
        op_free(l.media_type);
        op_free(l.title);
        return OCIPUSH_E_NOMEM;
    }
    if (digest)
        op_digest_copy(l.digest, digest);
    p->layers = grown;
    p->layers[p->layer_count++] = l;
    return OCIPUSH_OK;
}

int ocipush_push_set_mount_source(ocipush_push *p, const char *repository)
{
    if (!p || (repository && ocipush_repository_validate(repository)))
        return OCIPUSH_E_INVALID;
    char *copy = op_strdup(repository);
    if (repository && !copy)
        return OCIPUSH_E_NOMEM;
    op_free(p->mount_from);
    p->mount_from = copy;
    return OCIPUSH_OK;
}

int ocipush_push_set_artifact_type(ocipush_push *p, const char *artifact_type)
{
    if (!p || (artifact_type && op_media_type_check(artifact_type)))
        return OCIPUSH_E_INVALID;
    char *copy = op_strdup(artifact_type);
    if (artifact_type && !copy)
        return OCIPUSH_E_NOMEM;
    op_free(p->artifact_type);
    p->artifact_type = copy;
    return OCIPUSH_OK;
}

int ocipush_push_add_annotation(ocipush_push *p, const char *key, const char *value)
{
    if (!p || op_header_text_check(key) || !value)
        return OCIPUSH_E_INVALID;
    return op_annotations_set(&p->annotations, key, value);
}

int ocipush_push_add_tag(ocipush_push *p, const char *tag)
{
    if (!p || ocipush_tag_validate(tag))
        return OCIPUSH_E_INVALID;
    char *copy = op_strdup(tag);
    char **grown = copy ? op_realloc(p->tags, (p->tag_count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        op_free(copy);
        return OCIPUSH_E_NOMEM;
    }
    p->tags = grown;
    p->tags[p->tag_count++] = copy;
    return OCIPUSH_OK;
}

int ocipush_push_set_concurrency(ocipush_push *p, int concurrency)
{
    if (!p || concurrency < 1 || concurrency > 64)
        return OCIPUSH_E_INVALID;
    p->concurrency = concurrency;
    return OCIPUSH_OK;
}

int ocipush_push_set_progress_callback(ocipush_push *p, ocipush_push_progress_fn fn,
                                       void *user_data)
{
    if (!p)
        return OCIPUSH_E_INVALID;
    p->progress_fn = fn;
    p->progress_user_data = user_data;
    return OCIPUSH_OK;
}

int ocipush_push_set_subject(ocipush_push *p, const char *reference)
{
    if (!p || (reference && ocipush_tag_validate(reference) && ocipush_digest_validate(reference)))
        return OCIPUSH_E_INVALID;
    char *copy = op_strdup(reference);
    if (reference && !copy)
        return OCIPUSH_E_NOMEM;
    op_free(p->subject);
    p->subject = copy;
    return OCIPUSH_OK;
}

/* The subject's descriptor, read from the registry: it must exist. */
static int resolve_subject(ocipush_session *s, const ocipush_push *p, const char *repository,
                           ocipush_descriptor **out)
{
    op_buf body = {0};
    char *media_type = NULL;
    char digest[OCIPUSH_DIGEST_MAX];
    int found = 0;
    int rc = op_manifest_get(s, repository, p->subject, &body, &media_type, digest, &found);
    if (!rc && !found)
        rc = op_sfail(s, OCIPUSH_E_INVALID, "the subject %s is not in %s", p->subject, repository);
    if (!rc && ocipush_descriptor_new(out, media_type, digest, body.len))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    op_buf_free(&body);
    op_free(media_type);
    return rc;
}

/* A registry without the referrers API gets the referrers tag index kept
 * for it (referrers.c): this manifest, as the entry that lists it. */
static int update_referrers_tag(ocipush_session *s, const char *repository,
                                const ocipush_manifest *m, const char *subject_digest,
                                const char *digest, size_t size)
{
    ocipush_descriptor *entry = NULL;
    const char *artifact_type = m->artifact_type ? m->artifact_type : m->config->media_type;
    int rc = ocipush_descriptor_new(&entry, OCIPUSH_MEDIA_TYPE_MANIFEST, digest, size);
    if (!rc)
        rc = ocipush_descriptor_set_artifact_type(entry, artifact_type);
    if (!rc)
        rc = op_annotations_copy(&entry->annotations, &m->annotations);
    rc = rc ? op_sfail(s, OCIPUSH_E_NOMEM, "out of memory")
            : op_referrers_tag_add(s, repository, subject_digest, entry);
    ocipush_descriptor_free(entry);
    return rc;
}

/* Push one blob, say what was done with it, and describe it. */
static int push_described(ocipush_session *s, const char *repository, ocipush_source *src,
                          const char *media_type, const char *expected, push_stored *stored,
                          ocipush_descriptor **out)
{
    int rc =
        op_blob_push(s, repository, src, expected, stored->digest, &stored->size, &stored->status);
    if (rc)
        return rc;
    rc = ocipush_descriptor_new(out, media_type, stored->digest, stored->size);
    return rc ? op_sfail(s, rc, "out of memory") : 0;
}

static int push_config(ocipush_session *s, ocipush_push *p, const char *repository,
                       ocipush_descriptor **out)
{
    if (p->config_source)
        return push_described(s, repository, p->config_source, p->config_media_type, NULL,
                              &p->config_stored, out);
    /* The OCI empty descriptor: "{}", whose digest is fixed. */
    static const char empty[] = "{}";
    static const char empty_digest[] =
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    ocipush_source *src = NULL;
    int rc = ocipush_source_new_memory(&src, empty, 2, 0);
    if (rc)
        return op_sfail(s, rc, "out of memory");
    rc = push_described(s, repository, src, OCIPUSH_MEDIA_TYPE_EMPTY, empty_digest,
                        &p->config_stored, out);
    ocipush_source_free(src);
    return rc;
}

/* Every layer, `concurrency` at a time, then their descriptors in order. */
static int push_layers(ocipush_session *s, ocipush_push *p, const char *repository,
                       ocipush_manifest *m)
{
    /* One job per distinct source: a source given for two layers is read
     * once (and never by two threads at once). */
    op_blob_job *jobs = op_calloc(p->layer_count, sizeof *jobs);
    size_t *job_of = op_calloc(p->layer_count, sizeof *job_of);
    op_blob_plan plan = {.jobs = jobs, .job_of = job_of, .layer_count = p->layer_count};
    if (!jobs || !job_of) {
        op_free(jobs);
        op_free(job_of);
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < p->layer_count; i++) {
        size_t j = 0;
        while (j < plan.count && jobs[j].source != p->layers[i].source)
            j++;
        if (j == plan.count) {
            jobs[j].source = p->layers[i].source;
            jobs[j].expected = p->layers[i].digest[0] ? p->layers[i].digest : NULL;
            jobs[j].mount_from = p->mount_from;
            jobs[j].layer = i;
            plan.count++;
        }
        job_of[i] = j;
    }
    int rc =
        op_push_blobs(s, repository, &plan, p->concurrency, p->progress_fn, p->progress_user_data);
    for (size_t i = 0; !rc && i < p->layer_count; i++) {
        push_layer *l = &p->layers[i];
        const op_blob_job *job = &jobs[job_of[i]];
        memcpy(l->stored.digest, job->digest, sizeof l->stored.digest);
        l->stored.size = job->size;
        l->stored.status = job->status;
        ocipush_descriptor *d = NULL;
        if (ocipush_descriptor_new(&d, l->media_type, job->digest, job->size) ||
            (l->title &&
             ocipush_descriptor_add_annotation(d, "org.opencontainers.image.title", l->title)) ||
            ocipush_manifest_add_layer(m, d))
            rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
        ocipush_descriptor_free(d);
    }
    op_free(jobs);
    op_free(job_of);
    return rc;
}

/* Whether the blob `d` names is still in the repository (HEAD), when the
 * registry refused the manifest for lacking a blob; `refused` is that
 * refusal, for the message when it is not. */
static int blob_still_there(ocipush_session *s, const char *repository, const ocipush_descriptor *d,
                            const char *refused)
{
    int exists = 0;
    int rc = op_blob_exists(s, &exists, repository, d->digest);
    if (rc == 0 && !exists)
        rc = op_sfail(s, OCIPUSH_E_HTTP,
                      "%s; and %s, pushed moments ago, is not in %s (HEAD): nothing was tagged",
                      refused, d->digest, repository);
    return rc;
}

/* Every blob of `m` checked again, each digest once. */
static int blobs_still_there(ocipush_session *s, const char *repository, const ocipush_manifest *m,
                             const char *refused)
{
    int rc = blob_still_there(s, repository, m->config, refused);
    for (size_t i = 0; !rc && i < m->entry_count; i++) {
        const char *digest = m->entries[i]->digest;
        int seen = strcmp(digest, m->config->digest) == 0;
        for (size_t j = 0; !seen && j < i; j++)
            seen = strcmp(digest, m->entries[j]->digest) == 0;
        if (!seen)
            rc = blob_still_there(s, repository, m->entries[i], refused);
    }
    return rc;
}

/* The first manifest PUT of a push, sent once more when it is refused with
 * MANIFEST_BLOB_UNKNOWN and every blob is there. Distribution gives that
 * answer (with DIGEST_INVALID) for a blob it committed moments ago when
 * another pusher commits the same blob at that moment: it rewrites the
 * repository's link to the blob in place, and a manifest checked in between
 * reads an empty link. The wait of a first retry comes first, so that the
 * other pushers' commits are over (sent at once, the second PUT still failed
 * 3 of 832 pushes of 8 parallel pushers here). A blob that a HEAD then finds
 * missing fails the push, named, rather than being sent again: it was
 * committed, so something removed it, and a stream's bytes are gone by now.
 * The second PUT is a retry of the first, from one budget: a policy of no
 * retries, or a first PUT whose own retries spent it, sends nothing again. */
static int put_first_manifest(ocipush_session *s, const char *repository, const ocipush_manifest *m,
                              const char *target, const char *json, size_t len, const char *digest,
                              int *out_keeps_referrers)
{
    op_manifest_answer answer;
    /* One budget for both PUTs: the second is a retry of the first. */
    op_retry_budget budget = op_retry_budget_of(&s->ctx);
    int rc = op_manifest_put(s, &budget, repository, target, OCIPUSH_MEDIA_TYPE_MANIFEST, json, len,
                             digest, &answer);
    if (rc && answer.blob_unknown && op_retry_budget_left(&budget)) {
        char refused[sizeof s->ctx.diag.errmsg];
        memcpy(refused, s->ctx.diag.errmsg, sizeof refused);
        op_slog(s, OCIPUSH_LOG_WARN,
                "%s; the blobs it names are checked again, and the manifest sent once more",
                refused);
        /* The wait of any retry (so the other pushers' commits are over):
         * the call's deadline and a cancel end it. */
        rc = op_retry_next(&s->ctx, &budget, NULL, refused);
        rc = rc ? rc : blobs_still_there(s, repository, m, refused);
        if (rc == 0) {
            op_slog(s, OCIPUSH_LOG_INFO, "%s has every blob: pushing the manifest again",
                    repository);
            rc = op_manifest_put(s, &budget, repository, target, OCIPUSH_MEDIA_TYPE_MANIFEST, json,
                                 len, digest, &answer);
        }
    }
    *out_keeps_referrers = answer.keeps_referrers;
    return rc;
}

static int build_manifest(const ocipush_push *p, ocipush_manifest *m)
{
    int rc = p->artifact_type ? ocipush_manifest_set_artifact_type(m, p->artifact_type) : 0;
    for (size_t i = 0; !rc && i < p->annotations.count; i++)
        rc = ocipush_manifest_add_annotation(m, p->annotations.keys[i], p->annotations.values[i]);
    return rc;
}

int op_push_run(ocipush_session *s, ocipush_push *p, const char *repository, char *out_digest)
{
    if (!p)
        return op_sfail(s, OCIPUSH_E_INVALID, "no artifact given");
    p->landed[0] = '\0';
    p->landed_size = 0;
    p->tagged = 0;
    p->stored_count = 0;
    if (p->layer_count == 0)
        return op_sfail(s, OCIPUSH_E_INVALID, "an artifact needs at least one layer");
    if (ocipush_repository_validate(repository))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'",
                        repository ? repository : "(null)");
    ocipush_manifest *m = NULL;
    ocipush_descriptor *config = NULL, *subject = NULL;
    char *json = NULL;
    size_t len = 0;
    char digest[OCIPUSH_DIGEST_MAX];
    int rc = ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE);
    if (rc)
        return op_sfail(s, rc, "out of memory");
    if (p->subject && (rc = s->target->ops->set_scope(s->target, repository, NULL)) == 0 &&
        (rc = resolve_subject(s, p, repository, &subject)) == 0 &&
        ocipush_manifest_set_subject(m, subject))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    rc = rc ? rc : push_config(s, p, repository, &config);
    if (!rc && ocipush_manifest_set_config(m, config))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    rc = rc ? rc : push_layers(s, p, repository, m);
    if (!rc && build_manifest(p, m))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    if (!rc && op_json_manifest(&json, &len, m))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory serializing the manifest");
    int keeps_referrers = 0;
    if (!rc && (rc = op_sha256_digest(digest, json, len)))
        rc = op_sfail(s, rc, "hashing the manifest failed");
    /* The same bytes under every tag, so every tag names the same digest. */
    if (!rc)
        rc = put_first_manifest(s, repository, m, p->tag_count ? p->tags[0] : digest, json, len,
                                digest, &keeps_referrers);
    if (!rc) {
        memcpy(p->landed, digest, sizeof digest);
        p->landed_size = len;
        p->tagged = p->tag_count ? 1 : 0;
    }
    for (size_t i = 1; !rc && i < p->tag_count; i++) {
        rc = op_manifest_put(s, NULL, repository, p->tags[i], OCIPUSH_MEDIA_TYPE_MANIFEST, json,
                             len, digest, NULL);
        p->tagged += rc == 0;
    }
    if (!rc)
        op_slog(s, OCIPUSH_LOG_INFO, "pushed manifest %s to %s", digest, repository);
    if (!rc && subject && !keeps_referrers)
        rc = update_referrers_tag(s, repository, m, subject->digest, digest, len);
    if (!rc)
        p->stored_count = 1 + p->layer_count;
    if (!rc && out_digest)
        op_digest_copy(out_digest, digest);
    op_free(json);
    ocipush_descriptor_free(config);
    ocipush_descriptor_free(subject);
    ocipush_manifest_free(m);
    return rc;
}

int ocipush_push_run(ocipush_session *s, ocipush_push *p, char *out_digest, const char *repository)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    return op_push_run(s, p, repository, out_digest);
}

const char *ocipush_push_landed(const ocipush_push *p)
{
    return p ? p->landed : "";
}

uint64_t ocipush_push_landed_size(const ocipush_push *p)
{
    return p ? p->landed_size : 0;
}

size_t ocipush_push_tagged(const ocipush_push *p)
{
    return p ? p->tagged : 0;
}

size_t ocipush_push_blob_count(const ocipush_push *p)
{
    return p ? p->stored_count : 0;
}

int ocipush_push_blob(const ocipush_push *p, const char **out_digest, uint64_t *out_size,
                      const char **out_media_type, int *out_status, size_t index)
{
    if (!p || index >= p->stored_count)
        return OCIPUSH_E_INVALID;
    const push_stored *b = index ? &p->layers[index - 1].stored : &p->config_stored;
    const char *media_type = index              ? p->layers[index - 1].media_type
                             : p->config_source ? p->config_media_type
                                                : OCIPUSH_MEDIA_TYPE_EMPTY;
    if (out_digest)
        *out_digest = b->digest;
    if (out_size)
        *out_size = b->size;
    if (out_media_type)
        *out_media_type = media_type;
    if (out_status)
        *out_status = b->status;
    return OCIPUSH_OK;
}
