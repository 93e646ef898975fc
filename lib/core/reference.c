#include "alloc.h"
#include "reference.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ocipush.h"

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* (distribution spec). */
static int component_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return 0;
    while (i < n) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t start = i;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return 0;
        }
        if (i == start || i >= n || !is_lower_alnum(s[i]))
            return 0;
    }
    return 1;
}

int ocipush_repository_validate(const char *repository)
{
    if (!repository || !*repository || strlen(repository) > 255)
        return OCIPUSH_E_INVALID;
    const char *p = repository;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!component_valid(p, n))
            return OCIPUSH_E_INVALID;
        if (!slash)
            return OCIPUSH_OK;
        p = slash + 1;
    }
}

int ocipush_tag_validate(const char *tag)
{
    if (!tag || !*tag)
        return OCIPUSH_E_INVALID;
    size_t n = strlen(tag);
    if (n > 128 || !(is_alnum(tag[0]) || tag[0] == '_'))
        return OCIPUSH_E_INVALID;
    for (size_t i = 1; i < n; i++)
        if (!(is_alnum(tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-'))
            return OCIPUSH_E_INVALID;
    return OCIPUSH_OK;
}

int ocipush_digest_validate(const char *digest)
{
    if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
        return OCIPUSH_E_INVALID;
    for (const char *p = digest + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return OCIPUSH_E_INVALID;
    return OCIPUSH_OK;
}

static int port_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 5)
        return 0;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

int op_registry_validate(const char *registry)
{
    if (!registry || !*registry || strlen(registry) > 255)
        return OCIPUSH_E_INVALID;
    const char *port = NULL;
    if (registry[0] == '[') {
        const char *close = strchr(registry, ']');
        if (!close || close == registry + 1)
            return OCIPUSH_E_INVALID;
        for (const char *p = registry + 1; p < close; p++)
            if (!(is_alnum(*p) || *p == ':' || *p == '.'))
                return OCIPUSH_E_INVALID;
        if (close[1] == '\0')
            return OCIPUSH_OK;
        if (close[1] != ':')
            return OCIPUSH_E_INVALID;
        port = close + 2;
    } else {
        const char *colon = strchr(registry, ':');
        const char *end = colon ? colon : registry + strlen(registry);
        for (const char *p = registry; p < end; p++)
            if (!(is_alnum(*p) || *p == '.' || *p == '-'))
                return OCIPUSH_E_INVALID;
        if (end == registry || registry[0] == '.' || registry[0] == '-')
            return OCIPUSH_E_INVALID;
        if (colon)
            port = colon + 1;
    }
    return (!port || port_valid(port)) ? OCIPUSH_OK : OCIPUSH_E_INVALID;
}

void op_reference_clear(op_reference *ref)
{
    op_free(ref->registry);
    op_free(ref->repository);
    op_free(ref->tag);
    op_free(ref->digest);
    memset(ref, 0, sizeof *ref);
}

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return OCIPUSH_E_INVALID;
}

int op_reference_parse(op_reference *out, const char *text, const char **why)
{
    op_reference ref = {0};
    if (!text || !*text)
        return fail(why, "empty reference");
    if (strstr(text, "://"))
        return fail(why, "a reference has no scheme: write host[:port]/repository[:tag]");
    const char *slash = strchr(text, '/');
    if (!slash)
        return fail(why, "no registry host: write host[:port]/repository[:tag]");
    const char *rest = slash + 1;
    const char *at = strchr(rest, '@');
    /* A tag's colon comes after the last slash; the host's port colon before. */
    const char *last_slash = strrchr(rest, '/');
    const char *name_tail = last_slash ? last_slash + 1 : rest;
    const char *colon = strchr(name_tail, ':');
    if (at && colon && colon > at)
        colon = NULL;
    const char *repo_end = colon ? colon : (at ? at : rest + strlen(rest));

    ref.registry = op_strndup(text, (size_t)(slash - text));
    ref.repository = op_strndup(rest, (size_t)(repo_end - rest));
    if (colon)
        ref.tag = at ? op_strndup(colon + 1, (size_t)(at - colon - 1)) : op_strdup(colon + 1);
    if (at)
        ref.digest = op_strdup(at + 1);
    if (!ref.registry || !ref.repository || (colon && !ref.tag) || (at && !ref.digest)) {
        op_reference_clear(&ref);
        return OCIPUSH_E_NOMEM;
    }
    const char *reason = NULL;
    if (op_registry_validate(ref.registry))
        reason = "invalid registry host (want host or host:port)";
    else if (ocipush_repository_validate(ref.repository))
        reason = "invalid repository name (lowercase letters, digits and . _ - separators, "
                 "components joined by /)";
    else if (ref.tag && ocipush_tag_validate(ref.tag))
        reason = "invalid tag (1-128 of A-Z a-z 0-9 _ . -, not starting with . or -)";
    else if (ref.digest && ocipush_digest_validate(ref.digest))
        reason = "invalid digest (want sha256: and 64 lowercase hex digits)";
    if (reason) {
        op_reference_clear(&ref);
        return fail(why, reason);
    }
    *out = ref;
    return OCIPUSH_OK;
}
