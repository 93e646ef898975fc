/* Credentials from the stores docker and helm keep: config.json files and
 * docker-credential-* helpers (run by helper.c). Also `login`/`logout`
 * writing docker's format. Whatever holds a secret (a config file's text, a
 * helper's answer) is wiped before it is freed. */
/* mkostemp (POSIX.1-2024): glibc declares it for _GNU_SOURCE. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "digest.h"
#include "file.h"
#include "helper.h"
#include "docker_config.h"
#include "reference.h"
#include "creds.h"

#define MAX_CONFIG_BYTES (4u << 20)

/* $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
static int docker_config_path(op_buf *out)
{
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir && *dir)
        return op_buf_printf(out, "%s/config.json", dir);
    const char *home = getenv("HOME");
    if (!home || !*home)
        return OCIPUSH_E_INVALID;
    return op_buf_printf(out, "%s/.docker/config.json", home);
}

/* $HELM_REGISTRY_CONFIG, else ~/.config/helm/registry/config.json. */
static int helm_config_path(op_buf *out)
{
    const char *file = getenv("HELM_REGISTRY_CONFIG");
    if (file && *file)
        return op_buf_puts(out, file);
    const char *home = getenv("HOME");
    if (!home || !*home)
        return OCIPUSH_E_INVALID;
    return op_buf_printf(out, "%s/.config/helm/registry/config.json", home);
}

static int use_user_secret(op_ctx *c, const char *user, const char *secret)
{
    /* "<token>" as the user name marks an identity (refresh) token. */
    if (!user || strcmp(user, "<token>") == 0)
        return op_settings_set_identity_token(&c->set, secret);
    return op_settings_set_basic_auth(&c->set, user, secret);
}

static int from_helper(op_ctx *c, const char *helper, int *found)
{
    char *answer = NULL, *user = NULL, *secret = NULL;
    size_t len = 0;
    int rc = op_helper_get(c, helper, c->set.registry, &answer, &len, found);
    int parsed = rc == 0 && *found ? op_json_helper_answer(&user, &secret, answer, len) : 0;
    if (parsed == OCIPUSH_E_NOMEM)
        rc = op_fail(&c->diag, parsed, "out of memory");
    else if (parsed && *found < 0)
        *found = 0; /* its exit status lost, and no credentials: "not found" */
    else if (parsed)
        rc = op_fail(&c->diag, OCIPUSH_E_INVALID, "docker-credential-%s gave an unreadable answer",
                     helper);
    if (!rc && *found) {
        *found = 1;
        if ((rc = use_user_secret(c, user, secret)))
            rc = op_fail(&c->diag, rc, "docker-credential-%s gave unusable credentials", helper);
    }
    op_free_secret(answer, len);
    op_free(user);
    op_free_secret(secret, secret ? strlen(secret) : 0);
    return rc;
}

static int from_auth_field(op_ctx *c, const op_docker_entry *e, const char *path)
{
    char *pair = NULL;
    size_t len = 0;
    if (op_base64_decode(&pair, &len, e->auth))
        return op_fail(&c->diag, OCIPUSH_E_INVALID, "%s: the auth entry for %s is not base64", path,
                       c->set.registry);
    char *colon = memchr(pair, ':', len);
    int rc = OCIPUSH_E_INVALID;
    if (colon) {
        *colon = '\0';
        rc = op_settings_set_basic_auth(&c->set, pair, colon + 1);
    }
    op_free_secret(pair, len);
    return rc ? op_fail(&c->diag, rc, "%s: the auth entry for %s is not user:password", path,
                        c->set.registry)
              : 0;
}

/* One config file: 0 with *found set; an absent file is not an error. */
static int from_config(op_ctx *c, const char *path, int *found)
{
    char *text = NULL, why[OP_FILE_WHY_SIZE];
    size_t len = 0;
    int absent = 0;
    op_docker_entry e;
    *found = 0;
    /* One that is there and cannot be read (a FIFO, a directory, too
     * large) fails, rather than pass for no credentials. */
    int rc = op_file_read_whole(path, MAX_CONFIG_BYTES, 1, &text, &len, &absent, why);
    if (rc)
        return op_fail(&c->diag, rc, "cannot read %s: %s", path, why);
    if (absent)
        return 0;
    rc = op_json_docker_lookup(&e, text, len, c->set.registry);
    op_free_secret(text, len);
    if (rc)
        return op_fail(&c->diag, rc, "%s is not a docker config file (JSON)", path);
    if (e.helper)
        rc = from_helper(c, e.helper, found);
    if (!rc && !*found && e.identity_token) {
        rc = op_settings_set_identity_token(&c->set, e.identity_token);
        *found = rc == 0;
    } else if (!rc && !*found && e.auth) {
        rc = from_auth_field(c, &e, path);
        *found = rc == 0;
    } else if (!rc && !*found && e.username && e.password) {
        rc = op_settings_set_basic_auth(&c->set, e.username, e.password);
        *found = rc == 0;
    }
    if (*found)
        op_log(&c->diag, OCIPUSH_LOG_INFO, "using credentials for %s from %s%s%s", c->set.registry,
               path, e.helper ? " via docker-credential-" : "", e.helper ? e.helper : "");
    op_docker_entry_clear(&e);
    return rc;
}

int op_creds_load(op_ctx *c, int *out_found)
{
    int (*paths[])(op_buf *) = {docker_config_path, helm_config_path};
    int found = 0;
    for (size_t i = 0; i < 2 && !found; i++) {
        op_buf path = {0};
        int rc = paths[i](&path);
        if (rc == 0)
            rc = from_config(c, path.data, &found);
        else
            rc = 0; /* no HOME: nothing to look in */
        op_buf_free(&path);
        if (rc)
            return rc; /* *out_found untouched: outputs only on success */
    }
    *out_found = found;
    return OCIPUSH_OK;
}

/* Write the file through a temporary one and rename, so a crash never
 * leaves a half-written config; mode 0600, as it holds secrets. */
static int write_private(const char *path, const char *text)
{
    op_buf template = {0};
    int rc = op_buf_printf(&template, "%s.tmp-XXXXXX", path) ? OCIPUSH_E_NOMEM : 0;
    rc = rc ? rc : op_file_replace(path, template.data, 0600, text, strlen(text));
    int saved = errno;
    op_buf_free(&template);
    errno = saved;
    return rc;
}

static int update_docker_config(const char *registry, const char *auth_b64, int *found)
{
    op_buf path = {0};
    char *text = NULL, *updated = NULL, why[OP_FILE_WHY_SIZE];
    size_t len = 0;
    int rc = docker_config_path(&path);
    if (!rc) {
        /* The directory, if new, is private too. */
        char *slash = strrchr(path.data, '/');
        *slash = '\0';
        if (mkdir(path.data, 0700) && errno != EEXIST)
            rc = OCIPUSH_E_IO;
        *slash = '/';
    }
    int absent = 0;
    if (!rc) /* errno, on a failure, for the caller */
        rc = op_file_read_whole(path.data, MAX_CONFIG_BYTES, 1, &text, &len, &absent, why);
    if (!rc)
        rc = op_json_docker_update(&updated, found, absent || !len ? NULL : text, len, registry,
                                   auth_b64);
    if (!rc)
        rc = write_private(path.data, updated);
    op_free_secret(updated, updated ? strlen(updated) : 0);
    op_buf_free(&path);
    op_free_secret(text, len);
    return rc;
}

int ocipush_credentials_store(const char *registry, const char *username, const char *password)
{
    if (op_registry_validate(registry) || !username || !*username || strchr(username, ':') ||
        !password)
        return OCIPUSH_E_INVALID;
    op_buf pair = {.secret = 1};
    char *b64 = NULL;
    int rc = op_buf_printf(&pair, "%s:%s", username, password);
    rc = rc ? rc : op_base64_encode(&b64, pair.data, pair.len);
    rc = rc ? rc : update_docker_config(registry, b64, NULL);
    op_free_secret(pair.data, pair.cap);
    op_free_secret(b64, b64 ? strlen(b64) : 0);
    return rc;
}

int ocipush_credentials_erase(int *out_found, const char *registry)
{
    int found = 0;
    if (op_registry_validate(registry))
        return OCIPUSH_E_INVALID;
    int rc = update_docker_config(registry, NULL, &found);
    if (!rc && out_found)
        *out_found = found;
    return rc;
}
