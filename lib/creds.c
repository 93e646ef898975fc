/* Credentials from the stores docker and helm keep: config.json files and
 * docker-credential-* helpers. Also `login`/`logout` writing docker's format. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "digest.h"
#include "json.h"
#include "reference.h"
#include "session.h"

extern char **environ;

#define MAX_CONFIG_BYTES (4u << 20)

/* Read a whole small file; 0, or OCIPUSH_E_IO with errno (ENOENT: absent). */
static int read_file(const char *path, op_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return OCIPUSH_E_IO;
    char chunk[8192];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || out->len + (size_t)n > MAX_CONFIG_BYTES) {
            rc = OCIPUSH_E_IO;
            break;
        }
        if (op_buf_append(out, chunk, (size_t)n)) {
            rc = OCIPUSH_E_NOMEM;
            break;
        }
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

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

/* A pipe whose ends are not inherited by the helper except as dup'ed. */
static int cloexec_pipe(int fds[2])
{
    if (pipe(fds))
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Run `docker-credential-NAME get` with the registry on its standard input
 * and read its answer. 0 with *found; a helper that says "not found" (exit
 * status non-zero) is not an error. */
static int run_helper(ocipush_session *s, const char *name, op_buf *answer, int *found)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    op_buf prog = {0};
    *found = 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return op_fail(s, OCIPUSH_E_INVALID, "invalid credential helper name '%s'", name);
    if (op_buf_printf(&prog, "docker-credential-%s", name) || cloexec_pipe(in) ||
        cloexec_pipe(out)) {
        op_buf_free(&prog);
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0)
                close(in[i]);
            if (out[i] >= 0)
                close(out[i]);
        }
        return op_fail(s, OCIPUSH_E_IO, "cannot start a credential helper");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[] = {prog.data, "get", NULL};
    pid_t pid;
    int spawn_rc = posix_spawnp(&pid, prog.data, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    int rc = 0;
    if (spawn_rc != 0) {
        /* As with no entry: a missing helper must not stop a push that
         * needs no credentials. */
        op_log(s, OCIPUSH_LOG_WARN, "cannot run %s (%s); going on without its credentials",
               prog.data, strerror(spawn_rc));
    } else {
        /* The helper reads one line; a write to a helper that died must not
         * kill us with SIGPIPE, hence MSG_NOSIGNAL-like care: ignore EPIPE. */
        struct sigaction ign = {.sa_handler = SIG_IGN}, old;
        sigaction(SIGPIPE, &ign, &old);
        ssize_t w = write(in[1], s->registry, strlen(s->registry));
        (void)w;
        close(in[1]);
        in[1] = -1;
        sigaction(SIGPIPE, &old, NULL);
        char chunk[4096];
        ssize_t n;
        while ((n = read(out[0], chunk, sizeof chunk)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 || answer->len > 65536 || op_buf_append(answer, chunk, (size_t)n))
                break;
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        *found = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        op_log(s, OCIPUSH_LOG_DEBUG, "%s get: %s", prog.data, *found ? "found" : "not found");
    }
    if (in[1] >= 0)
        close(in[1]);
    close(out[0]);
    op_buf_free(&prog);
    return rc;
}

static int use_user_secret(ocipush_session *s, const char *user, const char *secret)
{
    /* "<token>" as the user name marks an identity (refresh) token. */
    if (!user || strcmp(user, "<token>") == 0)
        return ocipush_session_set_identity_token(s, secret);
    return ocipush_session_set_basic_auth(s, user, secret);
}

static int from_helper(ocipush_session *s, const char *helper, int *found)
{
    op_buf answer = {0};
    char *user = NULL, *secret = NULL;
    int rc = run_helper(s, helper, &answer, found);
    if (!rc && *found) {
        if (op_json_helper_answer(&user, &secret, answer.data ? answer.data : "", answer.len))
            rc = op_fail(s, OCIPUSH_E_INVALID, "docker-credential-%s gave an unreadable answer",
                         helper);
        else if ((rc = use_user_secret(s, user, secret)))
            rc = op_fail(s, rc, "docker-credential-%s gave unusable credentials", helper);
    }
    if (answer.data)
        memset(answer.data, 0, answer.len);
    op_buf_free(&answer);
    op_free(user);
    if (secret)
        memset(secret, 0, strlen(secret));
    op_free(secret);
    return rc;
}

static int from_auth_field(ocipush_session *s, const op_docker_entry *e, const char *path)
{
    char *pair = NULL;
    size_t len = 0;
    if (op_base64_decode(&pair, &len, e->auth))
        return op_fail(s, OCIPUSH_E_INVALID, "%s: the auth entry for %s is not base64", path,
                       s->registry);
    char *colon = memchr(pair, ':', len);
    int rc = OCIPUSH_E_INVALID;
    if (colon) {
        *colon = '\0';
        rc = ocipush_session_set_basic_auth(s, pair, colon + 1);
    }
    memset(pair, 0, len);
    op_free(pair);
    return rc ? op_fail(s, rc, "%s: the auth entry for %s is not user:password", path, s->registry)
              : 0;
}

/* One config file: 0 with *found set; an absent file is not an error. */
static int from_config(ocipush_session *s, const char *path, int *found)
{
    op_buf text = {0};
    op_docker_entry e;
    *found = 0;
    int rc = read_file(path, &text);
    if (rc == OCIPUSH_E_IO && errno == ENOENT) {
        op_buf_free(&text);
        return 0;
    }
    if (rc) {
        op_buf_free(&text);
        return op_fail(s, rc, "cannot read %s: %s", path, strerror(errno));
    }
    rc = op_json_docker_lookup(&e, text.data ? text.data : "", text.len, s->registry);
    op_buf_free(&text);
    if (rc)
        return op_fail(s, rc, "%s is not a docker config file (JSON)", path);
    if (e.helper)
        rc = from_helper(s, e.helper, found);
    if (!rc && !*found && e.identity_token) {
        rc = ocipush_session_set_identity_token(s, e.identity_token);
        *found = rc == 0;
    } else if (!rc && !*found && e.auth) {
        rc = from_auth_field(s, &e, path);
        *found = rc == 0;
    } else if (!rc && !*found && e.username && e.password) {
        rc = ocipush_session_set_basic_auth(s, e.username, e.password);
        *found = rc == 0;
    }
    if (*found)
        op_log(s, OCIPUSH_LOG_INFO, "using credentials for %s from %s%s%s", s->registry, path,
               e.helper ? " via docker-credential-" : "", e.helper ? e.helper : "");
    op_docker_entry_clear(&e);
    return rc;
}

int ocipush_session_load_credentials(ocipush_session *s, int *out_found)
{
    if (!s || !out_found)
        return OCIPUSH_E_INVALID;
    op_clear_error(s);
    int (*paths[])(op_buf *) = {docker_config_path, helm_config_path};
    *out_found = 0;
    for (size_t i = 0; i < 2 && !*out_found; i++) {
        op_buf path = {0};
        int rc = paths[i](&path);
        if (rc == 0)
            rc = from_config(s, path.data, out_found);
        else
            rc = 0; /* no HOME: nothing to look in */
        op_buf_free(&path);
        if (rc)
            return rc;
    }
    return OCIPUSH_OK;
}

/* Write the file through a temporary one and rename, so a crash never
 * leaves a half-written config; mode 0600, as it holds secrets. */
static int write_private(const char *path, const char *text)
{
    op_buf tmp = {0};
    if (op_buf_printf(&tmp, "%s.tmp-XXXXXX", path)) {
        op_buf_free(&tmp);
        return OCIPUSH_E_NOMEM;
    }
    int fd = mkstemp(tmp.data);
    int rc = fd < 0 ? OCIPUSH_E_IO : 0;
    size_t len = strlen(text);
    for (size_t done = 0; !rc && done < len;) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = OCIPUSH_E_IO;
        else
            done += (size_t)n;
    }
    if (!rc && (fchmod(fd, 0600) || fsync(fd)))
        rc = OCIPUSH_E_IO;
    if (fd >= 0 && close(fd) && !rc)
        rc = OCIPUSH_E_IO;
    if (!rc && rename(tmp.data, path))
        rc = OCIPUSH_E_IO;
    if (rc && fd >= 0) {
        int saved = errno;
        unlink(tmp.data);
        errno = saved;
    }
    op_buf_free(&tmp);
    return rc;
}

static int update_docker_config(const char *registry, const char *auth_b64, int *found)
{
    op_buf path = {0}, text = {0};
    char *updated = NULL;
    int rc = docker_config_path(&path);
    if (!rc) {
        /* The directory, if new, is private too. */
        char *slash = strrchr(path.data, '/');
        *slash = '\0';
        if (mkdir(path.data, 0700) && errno != EEXIST)
            rc = OCIPUSH_E_IO;
        *slash = '/';
    }
    if (!rc && (rc = read_file(path.data, &text)) == OCIPUSH_E_IO && errno == ENOENT)
        rc = 0;
    if (!rc)
        rc = op_json_docker_update(&updated, found, text.data, text.len, registry, auth_b64);
    if (!rc)
        rc = write_private(path.data, updated);
    if (updated)
        memset(updated, 0, strlen(updated));
    op_free(updated);
    op_buf_free(&path);
    op_buf_free(&text);
    return rc;
}

int ocipush_credentials_store(const char *registry, const char *username, const char *password)
{
    if (op_registry_validate(registry) || !username || !*username || strchr(username, ':') ||
        !password)
        return OCIPUSH_E_INVALID;
    op_buf pair = {0};
    char *b64 = NULL;
    int rc = op_buf_printf(&pair, "%s:%s", username, password);
    rc = rc ? rc : op_base64_encode(&b64, pair.data, pair.len);
    rc = rc ? rc : update_docker_config(registry, b64, NULL);
    if (pair.data)
        memset(pair.data, 0, pair.len);
    op_buf_free(&pair);
    if (b64)
        memset(b64, 0, strlen(b64));
    op_free(b64);
    return rc;
}

int ocipush_credentials_erase(const char *registry, int *out_found)
{
    int found = 0;
    if (op_registry_validate(registry))
        return OCIPUSH_E_INVALID;
    int rc = update_docker_config(registry, NULL, &found);
    if (!rc && out_found)
        *out_found = found;
    return rc;
}
