/* pipe2 (POSIX.1-2024): glibc declares it for _GNU_SOURCE. */
#define _GNU_SOURCE
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "ctx.h"

extern char **environ;

/* One helper run: the child and our ends of its standard input and output. */
typedef struct helper_run {
    pid_t pid;
    int in;  /* a socket: send(MSG_NOSIGNAL) cannot raise SIGPIPE; -1 once closed */
    int out; /* a pipe; -1 once it reached its end */
    const char *input;
    size_t input_left;
    char *answer; /* OP_HELPER_MAX_ANSWER + 1 bytes */
    size_t len;
    int64_t deadline_ms; /* CLOCK_MONOTONIC */
} helper_run;

static int valid_name(const char *name)
{
    if (!*name)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return 0;
    return 1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* A descriptor clear of 0, 1 and 2, so the dup2's onto them in the child
 * cannot overwrite one another (a host may have closed its stdin). */
static int above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* Our ends are close-on-exec from the start (no window for another thread's
 * fork to inherit them); the child's ends become its 0 and 1 by dup2. */
static int make_channels(int in[2], int out[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        in[i] = above_stdio(in[i]);
        out[i] = above_stdio(out[i]);
    }
    return in[0] < 0 || in[1] < 0 || out[0] < 0 || out[1] < 0 ? -1 : 0;
}

/* The child: its 0 and 1 ours, 2 inherited and no other descriptor, SIGPIPE
 * at its default and no signal blocked whatever the calling thread has, the
 * environment inherited. */
static int spawn(pid_t *pid, const char *prog, int in, int out)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, pipe_default;
    sigemptyset(&none);
    sigemptyset(&pipe_default);
    sigaddset(&pipe_default, SIGPIPE);
    if (posix_spawn_file_actions_init(&fa) != 0)
        return ENOMEM;
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return ENOMEM;
    }
    int rc = posix_spawn_file_actions_adddup2(&fa, in, 0);
    rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, out, 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* Nor what others left inheritable: the host's, or libcurl's sockets
     * (close-on-exec only in recent versions). */
    rc = rc ? rc : posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    rc = rc ? rc : posix_spawnattr_setsigmask(&attr, &none);
    rc = rc ? rc : posix_spawnattr_setsigdefault(&attr, &pipe_default);
    rc = rc ? rc : posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {(char *)prog, "get", NULL};
    rc = rc ? rc : posix_spawnp(pid, prog, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* What can be sent of the input without waiting; the end of it (or a
 * helper that will not read: EPIPE, ECONNRESET) closes its standard input. */
static void feed(helper_run *h)
{
    ssize_t n = send(h->in, h->input, h->input_left, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n > 0) {
        h->input += n;
        h->input_left -= (size_t)n;
    }
    if (n < 0 || h->input_left == 0)
        close_fd(&h->in);
}

/* What the helper printed: 1 when there is more than an answer may hold. */
static int drain(helper_run *h)
{
    ssize_t n = read(h->out, h->answer + h->len, OP_HELPER_MAX_ANSWER + 1 - h->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        close_fd(&h->out);
        return 0;
    }
    h->len += (size_t)n;
    return h->len > OP_HELPER_MAX_ANSWER;
}

/* Feed and read until its standard output ends: 0, or 1 when the deadline
 * passed, 2 when it printed too much. */
static int exchange(helper_run *h)
{
    while (h->out >= 0) {
        int64_t left = h->deadline_ms - op_now_ms();
        if (left <= 0)
            return 1;
        struct pollfd p[2] = {{.fd = h->out, .events = POLLIN}, {.fd = h->in, .events = POLLOUT}};
        int n = poll(p, h->in >= 0 ? 2 : 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return 1;
        if (n <= 0)
            continue;
        if (h->in >= 0 && p[1].revents)
            feed(h);
        if (p[0].revents && drain(h))
            return 2;
    }
    return 0;
}

/* Its exit, waited for until the deadline: 0 with *status, or 1. The wait
 * polls with a growing pause: a child gives no descriptor to wait on. */
static int wait_exit(helper_run *h, int *status)
{
    for (int pause_ms = 1;; pause_ms = pause_ms < 64 ? pause_ms * 2 : 64) {
        pid_t got = waitpid(h->pid, status, WNOHANG);
        if (got == h->pid)
            return 0;
        if (got < 0 && errno == ECHILD) {
            /* Reaped by a host that ignores SIGCHLD: its status is lost. */
            *status = -1;
            return 0;
        }
        int64_t left = h->deadline_ms - op_now_ms();
        if (left <= 0)
            return 1;
        poll(NULL, 0, left < pause_ms ? (int)left : pause_ms);
    }
}

static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* With the helper started: talk to it, then see how it ended. */
static int converse(op_ctx *c, helper_run *h, const char *prog, int *found)
{
    int64_t timeout =
        c->set.helper_timeout_ms > 0 ? c->set.helper_timeout_ms : (int64_t)OP_HELPER_TIMEOUT_MS;
    h->deadline_ms = op_now_ms() + timeout;
    int status = 0;
    int why = exchange(h);
    if (!why && wait_exit(h, &status))
        why = 1;
    if (why) {
        kill_and_reap(h->pid);
        if (why == 2)
            return op_fail(&c->diag, OCIPUSH_E_INVALID,
                           "%s printed more than %d bytes, which no credential needs; it was "
                           "stopped",
                           prog, OP_HELPER_MAX_ANSWER);
        return op_fail(&c->diag, OCIPUSH_E_IO,
                       "%s did not answer within %lld ms (the helper timeout); it was stopped",
                       prog, (long long)timeout);
    }
    *found = status == -1 ? -1 : WIFEXITED(status) && WEXITSTATUS(status) == 0;
    op_log(&c->diag, OCIPUSH_LOG_DEBUG, "%s get: %s", prog,
           *found < 0 ? "ended, status unknown"
           : *found   ? "found"
                      : "not found");
    return 0;
}

int op_helper_get(op_ctx *c, const char *name, const char *input, char **out_answer,
                  size_t *out_len, int *out_found)
{
    *out_found = 0;
    if (!valid_name(name))
        return op_fail(&c->diag, OCIPUSH_E_INVALID, "invalid credential helper name '%s'", name);
    op_buf prog = {0};
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    helper_run h = {.in = -1, .out = -1, .input = input, .input_left = strlen(input)};
    int rc = op_buf_printf(&prog, "docker-credential-%s", name) ||
                     !(h.answer = op_malloc(OP_HELPER_MAX_ANSWER + 1))
                 ? op_fail(&c->diag, OCIPUSH_E_NOMEM, "out of memory")
                 : 0;
    if (!rc && make_channels(in, out))
        rc = op_fail(&c->diag, OCIPUSH_E_IO, "cannot start a credential helper: %s",
                     strerror(errno));
    int spawn_rc = rc ? 0 : spawn(&h.pid, prog.data, in[1], out[1]);
    close_fd(&in[1]);
    close_fd(&out[1]);
    h.in = in[0];
    h.out = out[0];
    if (!rc && spawn_rc)
        /* As with no entry: a missing helper must not stop a push that
         * needs no credentials. */
        op_log(&c->diag, OCIPUSH_LOG_WARN, "cannot run %s (%s); going on without its credentials",
               prog.data, strerror(spawn_rc));
    else if (!rc)
        rc = converse(c, &h, prog.data, out_found);
    close_fd(&h.in);
    close_fd(&h.out);
    if (!rc && *out_found) {
        h.answer[h.len] = '\0';
        *out_answer = h.answer;
        *out_len = h.len;
        h.answer = NULL;
    }
    op_free_secret(h.answer, OP_HELPER_MAX_ANSWER + 1);
    op_buf_free(&prog);
    return rc;
}
