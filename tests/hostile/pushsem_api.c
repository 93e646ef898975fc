/* The library paths of tests/hostile/test_pushsem.sh that the CLI has no
 * flag for: a layer whose digest is known up front, and a mount. The script
 * reads back what landed; this only pushes and prints the outcome.
 *
 * usage: pushsem_api layer HOST REPO TAG FILE DIGEST
 *            push FILE as the one layer of an artifact with its digest
 *            given (ocipush_push_add_layer_digest); prints "Digest: D"
 *        pushsem_api mount HOST REPO FROM FILE|- DIGEST
 *            ocipush_blob_push_mount (no source for "-"); prints
 *            "size N mounted M"
 *        pushsem_api tags HOST REPO FILE TAG1 TAG2
 *            push FILE as the one layer, tagged TAG1 then TAG2; prints
 *            "landed D tagged N" (ocipush_push_landed, ocipush_push_tagged)
 *            whatever the run returned
 * Exit status 0 on success, 1 on failure with the cause on stderr, 2 on a
 * usage error. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ocipush.h"

static int failed(ocipush_session *s, int rc, const char *what)
{
    fprintf(stderr, "pushsem_api: %s: %s: %s\n", what, ocipush_strerror(rc),
            s ? ocipush_session_errmsg(s) : "");
    return 1;
}

static int push_layer(ocipush_session *s, char **argv)
{
    ocipush_source *src = NULL;
    ocipush_push *p = NULL;
    char digest[OCIPUSH_DIGEST_MAX];
    int rc = ocipush_source_new_file(&src, argv[3]);
    rc = rc ? rc : ocipush_push_new(&p);
    rc = rc ? rc : ocipush_push_add_layer_digest(p, src, NULL, "layer.bin", argv[4]);
    rc = rc ? rc : ocipush_push_add_tag(p, argv[2]);
    rc = rc ? rc : ocipush_push_run(s, p, digest, argv[1]);
    if (rc == 0)
        printf("Digest: %s\n", digest);
    ocipush_push_free(p);
    ocipush_source_free(src);
    return rc ? failed(s, rc, "push") : 0;
}

static int mount(ocipush_session *s, char **argv)
{
    ocipush_source *src = NULL;
    uint64_t size = 0;
    int mounted = -1;
    int rc = strcmp(argv[3], "-") == 0 ? 0 : ocipush_source_new_file(&src, argv[3]);
    rc = rc ? rc : ocipush_blob_push_mount(s, &size, &mounted, argv[1], src, argv[4], argv[2]);
    if (rc == 0)
        printf("size %" PRIu64 " mounted %d\n", size, mounted);
    ocipush_source_free(src);
    return rc ? failed(s, rc, "mount") : 0;
}

/* Two tags, and what is there after the run, whatever it returned. */
static int push_tags(ocipush_session *s, char **argv)
{
    ocipush_source *src = NULL;
    ocipush_push *p = NULL;
    int rc = ocipush_source_new_file(&src, argv[2]);
    rc = rc ? rc : ocipush_push_new(&p);
    rc = rc ? rc : ocipush_push_add_layer(p, src, NULL, "layer.bin");
    rc = rc ? rc : ocipush_push_add_tag(p, argv[3]);
    rc = rc ? rc : ocipush_push_add_tag(p, argv[4]);
    if (rc == 0) {
        rc = ocipush_push_run(s, p, NULL, argv[1]);
        printf("landed %s tagged %zu\n", ocipush_push_landed(p), ocipush_push_tagged(p));
    }
    ocipush_push_free(p);
    ocipush_source_free(src);
    return rc ? failed(s, rc, "push") : 0;
}

int main(int argc, char **argv)
{
    int layer = argc == 7 && strcmp(argv[1], "layer") == 0;
    int mnt = argc == 7 && strcmp(argv[1], "mount") == 0;
    int tags = argc == 7 && strcmp(argv[1], "tags") == 0;
    if (!layer && !mnt && !tags) {
        fprintf(stderr, "usage: pushsem_api layer HOST REPO TAG FILE DIGEST\n"
                        "       pushsem_api mount HOST REPO FROM FILE|- DIGEST\n"
                        "       pushsem_api tags HOST REPO FILE TAG1 TAG2\n");
        return 2;
    }
    ocipush_session *s = NULL;
    int rc = ocipush_session_new(&s, argv[2]);
    if (rc)
        return failed(NULL, rc, "session");
    ocipush_session_set_plain_http(s, 1);
    rc = layer ? push_layer(s, argv + 2) : mnt ? mount(s, argv + 2) : push_tags(s, argv + 2);
    ocipush_session_free(s);
    return rc;
}
