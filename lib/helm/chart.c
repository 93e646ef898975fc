/* Helm charts as OCI artifacts, the way `helm push` makes them: Chart.yaml
 * read from the gzip'd tarball (libarchive), its metadata as the config
 * blob, the chart (and its provenance file) as layers, helm's annotations,
 * tagged with the chart version. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "chart.h"
#include "digest.h"
#include "helm_config.h"
#include "manifest.h"
#include "push.h"
#include "session.h"
#include "yaml_tree.h"

#define CHART_CONFIG_TYPE "application/vnd.cncf.helm.config.v1+json"
#define CHART_LAYER_TYPE "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
#define CHART_PROV_TYPE "application/vnd.cncf.helm.chart.provenance.v1.prov"
#define MAX_CHART_YAML (1u << 20)

/* OCIPUSH_E_IO for a chart that cannot be read, errno left at `e`. */
static int io_fail(ocipush_session *s, const char *path, int e)
{
    op_sfail(s, OCIPUSH_E_IO, "cannot read %s: %s", path, strerror(e));
    errno = e;
    return OCIPUSH_E_IO;
}

/* Why libarchive failed. A failed read carries the system's errno; a damaged
 * or foreign archive carries libarchive's own codes (EILSEQ, or EFTYPE where
 * there is one, for the format; EINVAL for misuse; -1 for the rest), which
 * errno cannot be trusted to tell apart after libarchive's calls. */
static int archive_fail(ocipush_session *s, struct archive *a, const char *path, const char *what)
{
    int e = archive_errno(a);
    const char *why = archive_error_string(a) ? archive_error_string(a) : "unreadable";
#ifdef EFTYPE
    int format = e == EFTYPE;
#else
    int format = 0;
#endif
    if (e == ENOMEM)
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory reading %s", path);
    if (e > 0 && e != EILSEQ && e != EINVAL && !format)
        return io_fail(s, path, e);
    return op_sfail(s, OCIPUSH_E_INVALID, "%s %s: %s", path, what, why);
}

/* The chart file, opened before libarchive sees it, so that one that cannot
 * be read (missing, no permission, a directory) is OCIPUSH_E_IO with the
 * system's reason, not taken for a file that is not a chart. */
static int open_chart(ocipush_session *s, const char *path, int *out_fd)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(s, path, errno);
    struct stat st;
    int e = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e) {
        close(fd);
        return io_fail(s, path, e);
    }
    *out_fd = fd;
    return 0;
}

static int read_entry(ocipush_session *s, struct archive *a, const char *path, op_buf *out)
{
    char chunk[8192];
    la_ssize_t n;
    while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
        if (out->len + (size_t)n > MAX_CHART_YAML)
            return op_sfail(s, OCIPUSH_E_INVALID, "%s: its Chart.yaml is too large", path);
        if (op_buf_append(out, chunk, (size_t)n))
            return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    }
    return n < 0 ? archive_fail(s, a, path, "has a Chart.yaml that cannot be read") : 0;
}

/* The Chart.yaml of the chart directory among the entries of `a`. The whole
 * archive is read, as helm reads it: one cut short or damaged after its
 * Chart.yaml is refused too, not pushed. */
static int find_chart_yaml(ocipush_session *s, struct archive *a, const char *path, op_buf *out)
{
    struct archive_entry *e;
    int r, found = 0;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        const char *slash = name ? strchr(name, '/') : NULL;
        /* "<chart>/Chart.yaml", not a subchart's "<chart>/charts/x/Chart.yaml". */
        if (found || !slash || strcmp(slash + 1, "Chart.yaml") != 0)
            continue;
        int rc = read_entry(s, a, path, out);
        if (rc)
            return rc;
        found = 1;
    }
    if (r != ARCHIVE_EOF)
        return archive_fail(s, a, path,
                            found ? "is damaged or cut short"
                                  : "is not a chart (a gzip'd tar archive)");
    return found ? 0
                 : op_sfail(s, OCIPUSH_E_INVALID, "%s has no Chart.yaml in its chart directory",
                            path);
}

/* Whether libarchive found gzip under the tar: helm loads only gzip'd charts. */
static int gzipped(struct archive *a)
{
    for (int i = 0; i < archive_filter_count(a); i++)
        if (archive_filter_code(a, i) == ARCHIVE_FILTER_GZIP)
            return 1;
    return 0;
}

/* Chart.yaml of the chart directory at the top of the tarball. */
static int read_chart_yaml(ocipush_session *s, const char *path, op_buf *out)
{
    int fd = -1;
    int rc = open_chart(s, path, &fd);
    if (rc)
        return rc;
    struct archive *a = archive_read_new();
    if (a) {
        /* WARN only says gzip may go through an outside program. */
        archive_read_support_filter_gzip(a);
        archive_read_support_format_tar(a);
    }
    if (!a)
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    else if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
        rc = archive_fail(s, a, path, "is not a chart (a gzip'd tar archive)");
    else if (!gzipped(a))
        rc = op_sfail(s, OCIPUSH_E_INVALID,
                      "%s is not a chart (a gzip'd tar archive): it is not gzip-compressed", path);
    else
        rc = find_chart_yaml(s, a, path, out);
    int saved = errno;
    if (a)
        archive_read_free(a); /* leaves the descriptor open */
    close(fd);
    errno = saved;
    return rc;
}

static int is_digits(const char *p, size_t n, int no_leading_zero)
{
    if (n == 0 || (no_leading_zero && n > 1 && p[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when `numeric_rule`. */
static int identifiers_valid(const char *p, size_t n, int numeric_rule)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            char c = p[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-'))
                return 0;
            continue;
        }
        if (i == start)
            return 0;
        if (numeric_rule && is_digits(p + start, i - start, 0) &&
            !is_digits(p + start, i - start, 1))
            return 0;
        start = i + 1;
    }
    return 1;
}

/* Semantic Versioning 2.0.0 (a leading "v" allowed, as helm allows it). */
int op_semver_valid(const char *v)
{
    if (v[0] == 'v')
        v++;
    const char *p = v;
    for (int part = 0; part < 3; part++) {
        size_t n = strspn(p, "0123456789");
        if (!is_digits(p, n, 1))
            return 0;
        p += n;
        if (part < 2 && *p++ != '.')
            return 0;
    }
    const char *plus = strchr(p, '+');
    size_t pre_len = plus ? (size_t)(plus - p) : strlen(p);
    if (pre_len && (p[0] != '-' || !identifiers_valid(p + 1, pre_len - 1, 1)))
        return 0;
    return !plus || identifiers_valid(plus + 1, strlen(plus + 1), 0);
}

static const char *scalar(const op_yaml *chart, const char *key)
{
    const op_yaml *v = op_yaml_get(chart, key);
    return v && v->kind == OP_YAML_SCALAR && v->value[0] ? v->value : NULL;
}

/* "name (email), name (email)", as helm writes org.opencontainers.image.authors. */
static int authors(const op_yaml *chart, op_buf *out)
{
    const op_yaml *list = op_yaml_get(chart, "maintainers");
    for (size_t i = 0; list && list->kind == OP_YAML_SEQUENCE && i < list->count; i++) {
        const char *name = scalar(list->items[i], "name");
        const char *email = scalar(list->items[i], "email");
        if (!name)
            continue;
        if (op_buf_printf(out, "%s%s", out->len ? ", " : "", name) ||
            (email && op_buf_printf(out, " (%s)", email)))
            return OCIPUSH_E_NOMEM;
    }
    return 0;
}

/* RFC 3339 now, or at SOURCE_DATE_EPOCH for reproducible pushes. */
static void created_now(char *out, size_t cap)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    long long secs = epoch ? strtoll(epoch, &end, 10) : 0;
    time_t t = epoch && end && !*end ? (time_t)secs : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int chart_annotations(ocipush_push *p, const op_yaml *chart)
{
    char created[32];
    op_buf who = {0};
    created_now(created, sizeof created);
    /* The chart's own first: title and version then always win. */
    const op_yaml *own = op_yaml_get(chart, "annotations");
    int rc = 0;
    for (size_t i = 0; own && own->kind == OP_YAML_MAPPING && !rc && i < own->count; i++)
        if (own->items[i]->kind == OP_YAML_SCALAR)
            rc = ocipush_push_add_annotation(p, own->keys[i], own->items[i]->value);
    const op_yaml *sources = op_yaml_get(chart, "sources");
    const char *source = sources && sources->kind == OP_YAML_SEQUENCE && sources->count &&
                                 sources->items[0]->kind == OP_YAML_SCALAR
                             ? sources->items[0]->value
                             : NULL;
    const struct {
        const char *key, *value;
    } fixed[] = {{"org.opencontainers.image.description", scalar(chart, "description")},
                 {"org.opencontainers.image.title", scalar(chart, "name")},
                 {"org.opencontainers.image.version", scalar(chart, "version")},
                 {"org.opencontainers.image.url", scalar(chart, "home")},
                 {"org.opencontainers.image.source", source},
                 {"org.opencontainers.image.created", created}};
    for (size_t i = 0; !rc && i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i].value)
            rc = ocipush_push_add_annotation(p, fixed[i].key, fixed[i].value);
    rc = rc ? rc : authors(chart, &who);
    if (!rc && who.len)
        rc = ocipush_push_add_annotation(p, "org.opencontainers.image.authors", who.data);
    op_buf_free(&who);
    return rc;
}

/* Checks the chart before anything is pushed; *out_chart and the config. */
static int load_chart(ocipush_session *s, const char *path, op_yaml **out_chart, char **config,
                      size_t *config_len)
{
    op_buf text = {0};
    char why[256];
    op_yaml *chart = NULL;
    int rc = read_chart_yaml(s, path, &text);
    if (!rc && (rc = op_yaml_parse(&chart, text.data ? text.data : "", text.len, why, sizeof why)))
        rc = rc == OCIPUSH_E_NOMEM ? op_sfail(s, rc, "out of memory")
                                   : op_sfail(s, rc, "%s: Chart.yaml: %s", path, why);
    op_buf_free(&text);
    const char *name = rc ? NULL : scalar(chart, "name");
    const char *version = rc ? NULL : scalar(chart, "version");
    if (!rc && (!chart || chart->kind != OP_YAML_MAPPING))
        rc = op_sfail(s, OCIPUSH_E_INVALID, "%s: Chart.yaml is not a mapping", path);
    else if (!rc && !name)
        rc = op_sfail(s, OCIPUSH_E_INVALID, "%s: Chart.yaml has no name", path);
    else if (!rc && ocipush_repository_validate(name))
        rc = op_sfail(s, OCIPUSH_E_INVALID, "%s: the chart name '%s' cannot be a repository name",
                      path, name);
    else if (!rc && !version)
        rc = op_sfail(s, OCIPUSH_E_INVALID, "%s: Chart.yaml has no version", path);
    else if (!rc && !op_semver_valid(version))
        rc = op_sfail(s, OCIPUSH_E_INVALID,
                      "%s: the chart version '%s' is not a semantic version (like 1.2.3)", path,
                      version);
    if (!rc && op_json_helm_config(config, config_len, chart))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    if (rc) {
        op_yaml_free(chart);
        return rc;
    }
    *out_chart = chart;
    return 0;
}

/* The tag: the version with '+' made '_' (a tag cannot hold '+'). */
static int chart_tag(const char *version, char *out, size_t cap)
{
    if (version[0] == 'v')
        version++; /* helm's semver parse drops it too */
    if (strlen(version) >= cap)
        return OCIPUSH_E_INVALID;
    for (size_t i = 0;; i++) {
        out[i] = version[i] == '+' ? '_' : version[i];
        if (!version[i])
            break;
    }
    return ocipush_tag_validate(out);
}

static int push_chart(ocipush_session *s, const char *chart_path, const op_yaml *chart,
                      const char *config, size_t config_len, const char *repository,
                      const char *tag, char *out_digest)
{
    ocipush_source *config_src = NULL, *chart_src = NULL, *prov_src = NULL;
    ocipush_push *p = NULL;
    op_buf prov = {0};
    int rc = ocipush_push_new(&p);
    rc = rc ? rc : ocipush_source_new_memory(&config_src, config, config_len, 0);
    rc = rc ? rc : ocipush_push_set_config(p, config_src, CHART_CONFIG_TYPE);
    if (!rc && (rc = ocipush_source_new_file(&chart_src, chart_path)))
        rc = op_sfail(s, rc, "cannot read %s: %s", chart_path, strerror(errno));
    rc = rc ? rc : ocipush_push_add_layer(p, chart_src, CHART_LAYER_TYPE, NULL);
    /* CHART.tgz.prov beside the chart, when there is one. */
    struct stat st;
    if (!rc && (rc = op_buf_printf(&prov, "%s.prov", chart_path)) == 0 &&
        stat(prov.data, &st) == 0) {
        if ((rc = ocipush_source_new_file(&prov_src, prov.data)))
            rc = op_sfail(s, rc, "cannot read %s: %s", prov.data, strerror(errno));
        rc = rc ? rc : ocipush_push_add_layer(p, prov_src, CHART_PROV_TYPE, NULL);
    }
    rc = rc ? rc : chart_annotations(p, chart);
    rc = rc ? rc : ocipush_push_add_tag(p, tag);
    if (rc && !s->ctx.diag.errmsg[0])
        op_sfail(s, rc, "out of memory");
    rc = rc ? rc : op_push_run(s, p, repository, out_digest);
    /* What was done with each blob, for ocipush_session_blob(). */
    static const char *const types[] = {CHART_CONFIG_TYPE, CHART_LAYER_TYPE, CHART_PROV_TYPE};
    for (size_t i = 0; !rc && i < ocipush_push_blob_count(p) && i < 3; i++) {
        const char *digest = NULL;
        uint64_t size = 0;
        int status = OCIPUSH_BLOB_PUSHED;
        if (ocipush_push_blob(p, &digest, &size, NULL, &status, i) == 0)
            op_session_blob_add(s, digest, size, types[i], status);
    }
    ocipush_push_free(p);
    ocipush_source_free(config_src);
    ocipush_source_free(chart_src);
    ocipush_source_free(prov_src);
    op_buf_free(&prov);
    return rc;
}

int ocipush_chart_push(ocipush_session *s, char **out_reference, char *out_digest,
                       const char *chart_path, const char *repository_prefix)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (!chart_path || !*chart_path)
        return op_sfail(s, OCIPUSH_E_INVALID, "no chart given");
    const char *prefix = repository_prefix ? repository_prefix : "";
    if (*prefix && ocipush_repository_validate(prefix))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository path '%s'", prefix);
    op_yaml *chart = NULL;
    char *config = NULL;
    size_t config_len = 0;
    int rc = load_chart(s, chart_path, &chart, &config, &config_len);
    if (rc)
        return rc;
    char tag[129];
    op_buf repository = {0}, reference = {0};
    const char *name = scalar(chart, "name");
    if (chart_tag(scalar(chart, "version"), tag, sizeof tag))
        rc = op_sfail(s, OCIPUSH_E_INVALID, "the chart version '%s' cannot be a tag",
                      scalar(chart, "version"));
    else if (op_buf_printf(&repository, "%s%s%s", prefix, *prefix ? "/" : "", name) ||
             op_buf_printf(&reference, "%s:%s", repository.data, tag))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    else if (ocipush_repository_validate(repository.data))
        rc = op_sfail(s, OCIPUSH_E_INVALID, "'%s' is not a valid repository name", repository.data);
    char digest[OCIPUSH_DIGEST_MAX];
    rc = rc ? rc
            : push_chart(s, chart_path, chart, config, config_len, repository.data, tag, digest);
    /* Outputs only on success: the reference, which can fail, first. */
    if (!rc && out_reference && op_buf_take(&reference, out_reference))
        rc = op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    if (!rc && out_digest)
        op_digest_copy(out_digest, digest);
    if (rc)
        s->blob_count = 0; /* nothing to tell of a call that failed */
    op_buf_free(&repository);
    op_buf_free(&reference);
    op_free(config);
    op_yaml_free(chart);
    return rc;
}
