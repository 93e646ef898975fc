/* The file layer and the credential stores (layout.c, spool.c, creds.c,
 * helper.c), where the CLI cannot show it: what a docker-credential helper
 * inherits and how it is stopped, which signal settings a lookup touches,
 * whether freed memory still holds a secret, and how the layout's index
 * survives a failure. The helpers are scripts written into a scratch
 * directory put first on PATH; nothing goes on the network.
 *
 * Every allocation of ocipush and of cJSON goes through a checking
 * allocator (ocipush_set_allocator, cJSON_InitHooks: this program is the
 * host), which looks in each block freed, or left behind by a realloc, for
 * the secrets the test planted. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "digest.h"
#include "ocipush.h"
#include "source.h"
#include "spool.h"

#define REGISTRY "127.0.0.1:5999"

static char scratch[1024];

/* ---- the checking allocator ---- */

#define HEADER 16 /* keeps blocks aligned as malloc's are */

static const char *secrets[8];
static size_t secret_count;
static int secret_leaks;
static size_t fail_above;  /* allocations larger than this fail; 0: none */
static char ocipush_hooks; /* the user data ocipush's allocations come with */
static long fail_at;       /* ocipush's allocation that fails, from 1; 0: none */
static long allocations;   /* of ocipush's, while fail_at is set */

static void look_for_secrets(const unsigned char *p, size_t n, const char *how)
{
    for (size_t i = 0; i < secret_count; i++)
        if (memmem(p, n, secrets[i], strlen(secrets[i]))) {
            secret_leaks++;
            fprintf(stderr, "a block of %zu bytes %s still holds \"%s\"\n", n, how, secrets[i]);
        }
}

static void *t_malloc(size_t n, void *ud)
{
    if (fail_above && n > fail_above)
        return NULL;
    if (fail_at && ud == &ocipush_hooks && ++allocations == fail_at)
        return NULL;
    unsigned char *b = malloc(n + HEADER);
    if (!b)
        return NULL;
    memcpy(b, &n, sizeof n);
    /* Filled, so the look into a freed block reads no unwritten byte
     * (valgrind would report each). */
    memset(b + HEADER, 0xa5, n);
    return b + HEADER;
}

static size_t block_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - HEADER, sizeof n);
    return n;
}

static void release(void *p, const char *how)
{
    if (!p)
        return;
    look_for_secrets(p, block_size(p), how);
    free((unsigned char *)p - HEADER);
}

static void t_free(void *p, void *ud)
{
    (void)ud;
    release(p, "freed");
}

/* Always a move, so a secret a realloc would leave behind is seen. */
static void *t_realloc(void *p, size_t n, void *ud)
{
    if (!p)
        return t_malloc(n, ud);
    void *q = t_malloc(n, ud);
    if (!q)
        return NULL;
    size_t old = block_size(p);
    memcpy(q, p, old < n ? old : n);
    release(p, "left behind by a realloc");
    return q;
}

static void *c_malloc(size_t n)
{
    return t_malloc(n, NULL);
}

static void c_free(void *p)
{
    t_free(p, NULL);
}

/* ---- sigaction, watched: a lookup must not change SIGPIPE's disposition,
 * which every thread of the process shares. ---- */

static int sigpipe_changes;

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    static int (*real)(int, const struct sigaction *, struct sigaction *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "sigaction");
    if (sig == SIGPIPE && act)
        sigpipe_changes++;
    return real(sig, act, old);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* ---- scratch files ---- */

static void write_file(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    chmod(path, (mode_t)mode);
}

static char *path_of(const char *name)
{
    static char buf[4][4096];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", scratch, name);
    return p;
}

/* docker-credential-NAME: a shell script with `body` (or python for fds). */
static void helper(const char *name, const char *interpreter, const char *body)
{
    char path[4200], text[8192];
    snprintf(path, sizeof path, "%s/bin/docker-credential-%s", scratch, name);
    snprintf(text, sizeof text, "#!%s\n%s", interpreter, body);
    write_file(path, text, 0755);
}

/* The docker config names `name` as the helper for REGISTRY. */
static void use_helper(const char *name)
{
    char text[512];
    snprintf(text, sizeof text, "{\"credHelpers\":{\"" REGISTRY "\":\"%s\"}}", name);
    write_file(path_of("docker/config.json"), text, 0600);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* No child left, not even a zombie. */
static int no_child(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static int lookup(int64_t helper_timeout_ms, int *found, char *msg, size_t cap)
{
    ocipush_session *s = NULL;
    int rc = ocipush_session_new(&s, REGISTRY);
    if (rc)
        return rc;
    if (helper_timeout_ms)
        ocipush_session_set_helper_timeout(s, helper_timeout_ms);
    rc = ocipush_session_load_credentials(s, found);
    snprintf(msg, cap, "%s", ocipush_session_errmsg(s));
    ocipush_session_free(s);
    return rc;
}

/* ---- credential helpers ---- */

/* Started while a spool is on disk (and after the session's own files were
 * opened), the helper holds its standard streams and nothing else. */
static void test_helper_inherits_nothing(void)
{
    op_spool *sp = NULL;
    CHECK_EQ_INT(op_spool_new(&sp, 0, UINT64_MAX), 0);
    CHECK_EQ_INT(op_spool_append(sp, "spooled", 7), 0);
    CHECK(op_spool_on_disk(sp));
    helper("fds", "/usr/bin/python3",
           "import os, sys\n"
           "fds = []\n"
           "for name in os.listdir('/proc/self/fd'):\n"
           "    try:\n"
           "        fds.append(name + ' ' + os.readlink('/proc/self/fd/' + name))\n"
           "    except OSError:\n"
           "        pass  # the directory listdir had open\n"
           "open(os.environ['FDS_LOG'], 'w').write('\\n'.join(sorted(fds)) + '\\n')\n"
           "sys.stdin.read()\n"
           "print('{\"Username\":\"u\",\"Secret\":\"fd-secret\"}')\n");
    use_helper("fds");
    setenv("FDS_LOG", path_of("fds.log"), 1);
    int found = 0;
    char msg[1024];
    CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
    CHECK_EQ_INT(found, 1);
    FILE *f = fopen(path_of("fds.log"), "r");
    char line[4200];
    int lines = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        int fd = atoi(line);
        if (!CHECK(fd >= 0 && fd <= 2))
            fprintf(stderr, "    the helper inherited %s", line);
    }
    CHECK_EQ_INT(lines, 3);
    if (f)
        fclose(f);
    op_spool_free(sp);
    CHECK(no_child());
}

/* O_CLOEXEC in /proc/self/fdinfo's octal flags. */
static int fd_is_cloexec(int fd)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "re");
    unsigned long flags = 0;
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "flags: %lo", &flags) == 1;
    if (f)
        fclose(f);
    return found && (flags & O_CLOEXEC);
}

/* Whatever the host's other threads start inherits nothing of ocipush's
 * either: with the spool on disk, every descriptor past 2 that this
 * process holds is close-on-exec (main made the inherited ones so). */
static void test_spool_is_close_on_exec(void)
{
    op_spool *sp = NULL;
    CHECK_EQ_INT(op_spool_new(&sp, 4, UINT64_MAX), 0);
    CHECK_EQ_INT(op_spool_append(sp, "more than four", 14), 0);
    CHECK(op_spool_on_disk(sp));
    DIR *d = opendir("/proc/self/fd");
    int listing = d ? dirfd(d) : -1, seen = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == listing)
            continue;
        seen++;
        if (!CHECK(fd_is_cloexec(fd)))
            fprintf(stderr, "    descriptor %d is inheritable\n", fd);
    }
    if (d)
        closedir(d);
    CHECK(seen >= 1);
    op_spool_free(sp);
}

/* A helper that never answers: the lookup fails after the timeout, naming
 * the helper, and the helper is killed and reaped. */
static void test_helper_that_hangs(void)
{
    static const struct {
        const char *name, *body;
    } cases[] = {
        /* reads nothing, prints nothing */
        {"hang", "exec sleep 600\n"},
        /* closes its standard output but does not exit */
        {"hangafter", "read -r server\nexec >&-\nexec sleep 600\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        helper(cases[i].name, "/bin/sh", cases[i].body);
        use_helper(cases[i].name);
        int found = -1;
        char msg[1024], want[256];
        CHECK_EQ_INT(lookup(300, &found, msg, sizeof msg), OCIPUSH_E_IO);
        CHECK_EQ_INT(found, -1); /* outputs only on success */
        snprintf(want, sizeof want, "docker-credential-%s did not answer within 300 ms",
                 cases[i].name);
        if (!CHECK(strstr(msg, want) != NULL))
            fprintf(stderr, "    message: %s\n", msg);
        CHECK(no_child());
    }
}

/* A helper that prints without end, or 100 MB: it is stopped once it passes
 * what an answer may hold, and ocipush buffers no more than that. */
static void test_helper_that_floods(void)
{
    static const struct {
        const char *name, *body;
    } cases[] = {
        {"endless", "exec yes '{\"Username\":\"u\",\"Secret\":\"s\"}'\n"},
        {"hundredmb", "exec head -c 100000000 /dev/zero\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        helper(cases[i].name, "/bin/sh", cases[i].body);
        use_helper(cases[i].name);
        int found = -1;
        char msg[1024], want[256];
        CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(found, -1); /* outputs only on success */
        snprintf(want, sizeof want, "docker-credential-%s printed more than 65536 bytes",
                 cases[i].name);
        if (!CHECK(strstr(msg, want) != NULL))
            fprintf(stderr, "    message: %s\n", msg);
        CHECK(no_child());
    }
}

/* A helper that answers and exits without reading its standard input: no
 * SIGPIPE reaches the process, and its disposition is never changed. */
static void test_helper_that_does_not_read(void)
{
    struct sigaction mine = {.sa_handler = on_sigpipe}, now;
    sigemptyset(&mine.sa_mask);
    sigaction(SIGPIPE, &mine, NULL);
    sigpipe_changes = 0;
    helper("noread", "/bin/sh",
           "exec 0<&-\nprintf '{\"Username\":\"u\",\"Secret\":\"noread-secret\"}'\nexit 0\n");
    use_helper("noread");
    for (int i = 0; i < 20; i++) {
        int found = 0;
        char msg[1024];
        CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
        CHECK_EQ_INT(found, 1);
    }
    CHECK_EQ_INT(sigpipe_changes, 0);
    CHECK_EQ_INT(sigpipes, 0);
    sigaction(SIGPIPE, NULL, &now);
    CHECK(now.sa_handler == on_sigpipe);
    signal(SIGPIPE, SIG_DFL);
    CHECK(no_child());
}

/* A host that ignores SIGCHLD: the helper is reaped for it and its exit
 * status lost, so its answer decides. "Not found" (plain text, as the
 * helpers print it) is not found, not an unreadable answer; credentials are
 * found. */
static void test_helper_status_lost(void)
{
    signal(SIGCHLD, SIG_IGN);
    int found = -7;
    char msg[1024];
    helper("lostnone", "/bin/sh",
           "cat >/dev/null\necho 'credentials not found in native keychain'\nexit 1\n");
    use_helper("lostnone");
    CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
    CHECK_EQ_INT(found, 0);
    helper("lostsome", "/bin/sh",
           "cat >/dev/null\nprintf '{\"Username\":\"u\",\"Secret\":\"lost-secret\"}'\nexit 0\n");
    use_helper("lostsome");
    found = -7;
    CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
    CHECK_EQ_INT(found, 1);
    signal(SIGCHLD, SIG_DFL);
}

/* ---- secrets in freed memory ---- */

static char *b64(const char *text)
{
    char *out = NULL;
    op_base64_encode(&out, text, strlen(text));
    return out;
}

static void plant(const char *secret)
{
    secrets[secret_count++] = secret;
}

/* Nothing freed during a lookup (the file's text, cJSON's tree, the entry,
 * a helper's answer) or at the session's end holds a secret. */
static void test_secrets_wiped(void)
{
    char *alpha = b64("alice:pw-S3cr3t-alpha"), *delta = b64("bob:pw-S3cr3t-delta");
    char text[2048];
    snprintf(text, sizeof text,
             "{\"auths\":{\"" REGISTRY "\":{\"auth\":\"%s\"},"
             "\"other.example\":{\"auth\":\"%s\",\"identitytoken\":\"idtok-S3cr3t-beta\"},"
             "\"third.example\":{\"username\":\"x\",\"password\":\"pw-S3cr3t-zeta\"}},"
             "\"padding\":\"%0600d\"}",
             alpha, delta, 0);
    secret_count = 0;
    plant("pw-S3cr3t-alpha");
    plant(alpha);
    plant("pw-S3cr3t-delta");
    plant(delta);
    plant("idtok-S3cr3t-beta");
    plant("pw-S3cr3t-zeta");
    int found = 0;
    char msg[1024];

    secret_leaks = 0;
    write_file(path_of("docker/config.json"), text, 0600);
    CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(secret_leaks, 0);

    /* An identity token for the registry itself. */
    secret_leaks = 0;
    snprintf(text, sizeof text,
             "{\"auths\":{\"other.example\":{\"auth\":\"%s\"},"
             "\"https://" REGISTRY "/v1/\":{\"identitytoken\":\"idtok-S3cr3t-beta\"}}}",
             delta);
    write_file(path_of("docker/config.json"), text, 0600);
    CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(secret_leaks, 0);

    /* A helper's answer. */
    secret_leaks = 0;
    plant("helper-S3cr3t-gamma");
    helper(
        "secretive", "/bin/sh",
        "cat >/dev/null\n"
        "printf '{\"ServerURL\":\"x\",\"Username\":\"carol\",\"Secret\":\"helper-S3cr3t-gamma\"}'"
        "\n");
    use_helper("secretive");
    CHECK_EQ_INT(lookup(0, &found, msg, sizeof msg), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(secret_leaks, 0);

    /* login and logout rewrite a file with others' secrets in it. */
    secret_leaks = 0;
    plant("pw-S3cr3t-epsilon");
    snprintf(text, sizeof text,
             "{\"auths\":{\"other.example\":{\"auth\":\"%s\",\"identitytoken\":"
             "\"idtok-S3cr3t-beta\"}},\"padding\":\"%0900d\"}",
             delta, 0);
    write_file(path_of("docker/config.json"), text, 0600);
    CHECK_EQ_INT(ocipush_credentials_store(REGISTRY, "dave", "pw-S3cr3t-epsilon"), 0);
    CHECK_EQ_INT(ocipush_credentials_store("fourth.example", "erin", "pw-S3cr3t-epsilon"), 0);
    CHECK_EQ_INT(ocipush_credentials_erase(&found, REGISTRY), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(secret_leaks, 0);

    secret_count = 0;
    explicit_bzero(alpha, strlen(alpha));
    explicit_bzero(delta, strlen(delta));
    ocipush_free(alpha);
    ocipush_free(delta);
}

/* ---- the OCI layout ---- */

static const char manifest_head[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:"
    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},"
    "\"layers\":[]";

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            data = realloc(data, cap);
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return data;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int temporaries_left(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, ".ocipush-", 9) == 0;
    if (d)
        closedir(d);
    return n;
}

/* No memory to read index.json (after a call that left errno at ENOENT, as
 * a stat of a missing blob does): the push fails, the index is as it was. */
static void test_layout_index_without_memory(void)
{
    ocipush_session *s = NULL;
    const char *lay = path_of("lay-nomem");
    if (!CHECK_EQ_INT(ocipush_session_new_layout(&s, lay), 0))
        return;
    char *index_path = path_of("lay-nomem/index.json");
    FILE *f = fopen(index_path, "w");
    fputs("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
          "\"manifests\":[",
          f);
    for (int i = 0; i < 3000; i++)
        fprintf(f,
                "%s{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                "\"sha256:%064d\",\"size\":%d,\"annotations\":{\"org.opencontainers.image.ref."
                "name\":\"t%d\"}}",
                i ? "," : "", i, 100 + i, i);
    fputs("]}", f);
    fclose(f);
    size_t before_len = 0, after_len = 0;
    char *before = slurp(index_path, &before_len);
    char m[1024];
    snprintf(m, sizeof m, "%s}", manifest_head);
    fail_above = 64 * 1024;
    errno = ENOENT;
    int rc = ocipush_manifest_push_raw(s, NULL, "app", "new", NULL, m, strlen(m));
    fail_above = 0;
    CHECK(rc == OCIPUSH_E_NOMEM || rc == OCIPUSH_E_IO);
    char *after = slurp(index_path, &after_len);
    CHECK(after && after_len == before_len && memcmp(before, after, before_len) == 0);
    /* With memory, the same push keeps the 3000 and adds one. */
    CHECK_EQ_INT(ocipush_manifest_push_raw(s, NULL, "app", "new", NULL, m, strlen(m)), 0);
    free(after);
    after = slurp(index_path, &after_len);
    CHECK(after && after_len > before_len);
    CHECK(after && strstr(after, "\"t2999\"") && strstr(after, "\"new\""));
    free(before);
    free(after);
    ocipush_session_free(s);
}

/* A write that fails (the file size limit, as a full disk would) closes the
 * temporary file and removes it. */
static void test_layout_failed_write_closes(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new_layout(&s, path_of("lay-full")), 0))
        return;
    size_t pad = 200 * 1024;
    char *m = malloc(sizeof manifest_head + pad + 64);
    if (!CHECK(m != NULL)) {
        ocipush_session_free(s);
        return;
    }
    int n = sprintf(m, "%s,\"annotations\":{\"pad\":\"", manifest_head);
    memset(m + n, 'x', pad);
    strcpy(m + n + pad, "\"}}");
    struct rlimit old, small;
    getrlimit(RLIMIT_FSIZE, &old);
    small = old;
    small.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    int fds = count_fds();
    setrlimit(RLIMIT_FSIZE, &small);
    int rc = ocipush_manifest_push_raw(s, NULL, "app", "big", NULL, m, strlen(m));
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    CHECK_EQ_INT(rc, OCIPUSH_E_IO);
    CHECK_EQ_INT(count_fds(), fds);
    CHECK_EQ_INT(temporaries_left(path_of("lay-full/blobs/sha256")), 0);
    free(m);
    ocipush_session_free(s);
}

/* A source whose file (read by a hashing thread, in a registry push) and
 * whose read callback (the bytes written) disagree, as a file that changes
 * between two reads would: the layout's blob holds the bytes written, under
 * their own digest. */
static void test_layout_hashes_what_it_writes(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new_layout(&s, path_of("lay-change")), 0))
        return;
    size_t len = 5u << 20;
    unsigned char *a = malloc(len), *b = malloc(len);
    if (!CHECK(a && b)) {
        free(a);
        free(b);
        ocipush_session_free(s);
        return;
    }
    for (size_t i = 0; i < len; i++)
        a[i] = (unsigned char)(i * 2654435761u >> 13);
    memcpy(b, a, len);
    b[len / 2] ^= 0xff;
    char da[OCIPUSH_DIGEST_MAX], db[OCIPUSH_DIGEST_MAX], got[OCIPUSH_DIGEST_MAX];
    op_sha256_digest(da, a, len);
    op_sha256_digest(db, b, len);
    int fd = open(path_of("file-a"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0 && write(fd, a, len) == (ssize_t)len);
    ocipush_source *src = NULL;
    CHECK_EQ_INT(ocipush_source_new_memory(&src, b, len, 0), 0);
    src->file_fd = fd;
    src->file_start = 0;
    uint64_t size = 0;
    int rc = ocipush_blob_push(s, got, &size, "app", src, NULL);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0)
        CHECK_EQ_STR(got, db);
    char name[4200];
    snprintf(name, sizeof name, "%s/lay-change/blobs/sha256/%s", scratch, db + 7);
    size_t n = 0;
    char *written = slurp(name, &n);
    CHECK(written && n == len && memcmp(written, b, len) == 0);
    snprintf(name, sizeof name, "%s/lay-change/blobs/sha256/%s", scratch, da + 7);
    char *wrong = slurp(name, &n);
    if (!CHECK(wrong == NULL))
        fprintf(stderr, "    the layout has a blob named %s; it holds %s\n", da,
                n == len && memcmp(wrong, b, len) == 0 ? "the other bytes" : "its bytes");
    free(written);
    free(wrong);
    ocipush_source_free(src);
    close(fd);
    free(a);
    free(b);
    ocipush_session_free(s);
}

/* Each of ocipush's allocations in a layout push (a blob, then a manifest)
 * failing in turn, each time into a new layout: the push fails with
 * OCIPUSH_E_NOMEM, never OCIPUSH_E_IO with whatever errno an earlier call
 * left (the temporary file's path), or it succeeds. */
static void test_layout_each_allocation_fails(void)
{
    static const char blob[] = "a blob for the layout, pushed while allocations fail";
    char m[1024], got[OCIPUSH_DIGEST_MAX], name[64];
    snprintf(m, sizeof m, "%s}", manifest_head);
    mkdir(path_of("lay-each"), 0755);
    int bad = 0;
    for (long n = 1; n < 100000 && bad < 5; n++) {
        ocipush_session *s = NULL;
        ocipush_source *src = NULL;
        snprintf(name, sizeof name, "lay-each/%ld", n);
        if (!CHECK_EQ_INT(ocipush_session_new_layout(&s, path_of(name)), 0) ||
            !CHECK_EQ_INT(ocipush_source_new_memory(&src, blob, sizeof blob - 1, 0), 0)) {
            ocipush_session_free(s);
            return;
        }
        allocations = 0;
        fail_at = n;
        errno = ENOENT;
        uint64_t size = 0;
        int rc = ocipush_blob_push(s, got, &size, "app", src, NULL);
        if (!rc) {
            errno = ENOENT;
            rc = ocipush_manifest_push_raw(s, NULL, "app", "each", NULL, m, strlen(m));
        }
        fail_at = 0;
        if (rc != 0 && rc != OCIPUSH_E_NOMEM) {
            bad++;
            CHECK_EQ_INT(rc, OCIPUSH_E_NOMEM);
            fprintf(stderr, "    allocation %ld failing: %s\n", n, ocipush_session_errmsg(s));
        }
        ocipush_source_free(src);
        ocipush_session_free(s);
        if (allocations < n) { /* none failed: each one was tried */
            CHECK_EQ_INT(rc, 0);
            CHECK(n > 10);
            break;
        }
    }
}

/* ---- paths that turn into FIFOs ---- */

static void waited_on_a_fifo(int sig)
{
    static const char msg[] = "not ok - the push waited on a FIFO (opened without O_NONBLOCK)\n";
    (void)sig;
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(1);
}

/* A file source whose path is a FIFO by the time the push reads it (it was
 * a regular file when the source was made): the push fails, naming the path,
 * and does not wait for a writer. The alarm bounds the case (it ends the
 * program, rather than the test run's timeout); it asserts no timing. */
static void test_source_becomes_fifo(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new_layout(&s, path_of("lay-fifo")), 0))
        return;
    char *path = path_of("becomes-fifo");
    write_file(path, "the bytes the source was made for", 0600);
    ocipush_source *src = NULL;
    if (!CHECK_EQ_INT(ocipush_source_new_file(&src, path), 0)) {
        ocipush_session_free(s);
        return;
    }
    CHECK(unlink(path) == 0);
    CHECK(mkfifo(path, 0600) == 0);
    char got[OCIPUSH_DIGEST_MAX];
    uint64_t size = 0;
    signal(SIGALRM, waited_on_a_fifo);
    alarm(20);
    int rc = ocipush_blob_push(s, got, &size, "app", src, NULL);
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    CHECK(rc == OCIPUSH_E_SOURCE || rc == OCIPUSH_E_IO);
    const char *msg = ocipush_session_errmsg(s);
    if (!CHECK(strstr(msg, path) != NULL))
        fprintf(stderr, "    message: %s\n", msg);
    CHECK_EQ_INT(temporaries_left(path_of("lay-fifo/blobs/sha256")), 0);
    ocipush_source_free(src);
    ocipush_session_free(s);
}

int main(int argc, char **argv)
{
    cJSON_Hooks hooks = {c_malloc, c_free};
    cJSON_InitHooks(&hooks);
    ocipush_set_allocator(t_malloc, t_realloc, t_free, &ocipush_hooks);
    /* What this program inherited is its own business, not ocipush's: it
     * must not be taken for a descriptor ocipush let a helper inherit. */
    for (int fd = 3; fd < 1024; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/ocipush-test-files-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    mkdir(path_of("bin"), 0755);
    mkdir(path_of("docker"), 0700);
    char path[8192];
    snprintf(path, sizeof path, "%s:%s", path_of("bin"), getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", path, 1);
    setenv("DOCKER_CONFIG", path_of("docker"), 1);
    setenv("HOME", scratch, 1);
    unsetenv("HELM_REGISTRY_CONFIG");

    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"helper-fds", test_helper_inherits_nothing},
        {"spool-cloexec", test_spool_is_close_on_exec},
        {"helper-hangs", test_helper_that_hangs},
        {"helper-floods", test_helper_that_floods},
        {"helper-no-read", test_helper_that_does_not_read},
        {"helper-status-lost", test_helper_status_lost},
        {"secrets", test_secrets_wiped},
        {"layout-nomem", test_layout_index_without_memory},
        {"layout-write-fails", test_layout_failed_write_closes},
        {"layout-hashes-written", test_layout_hashes_what_it_writes},
        {"layout-each-allocation", test_layout_each_allocation_fails},
        {"source-becomes-fifo", test_source_becomes_fifo},
    };
    /* One test by name (argv[1]), or all of them. */
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0)
            tests[i].fn();
    nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return check_done();
}
