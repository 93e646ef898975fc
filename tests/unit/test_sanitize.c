/* Outside text made fit for messages (sanitize.c), registry error
 * summaries built from it (registry_errors.c), and the call deadline's
 * bookkeeping (core/ctx.c): no network, no waiting. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "ctx.h"
#include "registry_errors.h"
#include "ocipush.h"
#include "sanitize.h"
#include "session.h"

static const char *clean(const char *text, size_t len, size_t cap)
{
    static char out[4200];
    CHECK(cap <= sizeof out);
    size_t n = op_sanitize(out, cap, text, len);
    CHECK_EQ_U64(n, strlen(out));
    CHECK(cap == 0 || n < cap);
    return out;
}

#define CLEAN(lit) clean((lit), sizeof(lit) - 1, 300)

static void test_printable_and_utf8_kept(void)
{
    CHECK_EQ_STR(CLEAN("blob unknown to registry"), "blob unknown to registry");
    CHECK_EQ_STR(CLEAN("C:\\path \\x41 ~"), "C:\\path \\x41 ~");
    /* é, €, 😀: valid UTF-8, shown as they are. */
    CHECK_EQ_STR(CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK_EQ_STR(CLEAN(""), "");
}

static void test_controls_escaped(void)
{
    CHECK_EQ_STR(CLEAN("x\n\rocipush: forged \x1b[31mred\x7f\t"),
                 "x\\x0a\\x0docipush: forged \\x1b[31mred\\x7f\\x09");
    CHECK_EQ_STR(clean("a\0b", 3, 300), "a\\x00b");
    /* C1 controls (CSI U+009B), separators, bidirectional controls. */
    CHECK_EQ_STR(CLEAN("\xc2\x9b"
                       "1m \xc2\x85 \xe2\x80\xa8 \xe2\x80\xae \xe2\x81\xa6 \xe2\x80\x8f"),
                 "\\xc2\\x9b1m \\xc2\\x85 \\xe2\\x80\\xa8 \\xe2\\x80\\xae \\xe2\\x81\\xa6 "
                 "\\xe2\\x80\\x8f");
    /* U+00A0 and U+2030 are fine. */
    CHECK_EQ_STR(CLEAN("\xc2\xa0\xe2\x80\xb0"), "\xc2\xa0\xe2\x80\xb0");
}

static void test_invalid_utf8_escaped(void)
{
    CHECK_EQ_STR(CLEAN("\x9b"
                       "31m"),
                 "\\x9b31m");                                        /* a lone continuation byte */
    CHECK_EQ_STR(CLEAN("\xc3\x28"), "\\xc3(");                       /* a lead byte, then ASCII */
    CHECK_EQ_STR(CLEAN("\xc0\xaf"), "\\xc0\\xaf");                   /* overlong '/' */
    CHECK_EQ_STR(CLEAN("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");          /* overlong, 3 bytes */
    CHECK_EQ_STR(CLEAN("\xed\xa0\x80"), "\\xed\\xa0\\x80");          /* a surrogate */
    CHECK_EQ_STR(CLEAN("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
    CHECK_EQ_STR(CLEAN("\xff\xfe"), "\\xff\\xfe");
    CHECK_EQ_STR(CLEAN("end \xe2\x82"), "end \\xe2\\x82"); /* cut in the middle */
}

static void test_bounded(void)
{
    char big[1000];
    memset(big, 'A', sizeof big);
    const char *out = clean(big, sizeof big, 301);
    CHECK_EQ_U64(strlen(out), 300);
    CHECK(strcmp(out + 297, "...") == 0);
    /* Exactly full: no dots. */
    CHECK_EQ_STR(clean(big, 5, 6), "AAAAA");
    CHECK_EQ_STR(clean(big, 6, 6), "AA...");
    /* Never inside an escape or a UTF-8 sequence. */
    CHECK_EQ_STR(clean("AAAA\x1b", 5, 8), "AAAA...");
    CHECK_EQ_STR(clean("AAAA\x1b", 5, 9), "AAAA\\x1b");
    CHECK_EQ_STR(clean("AA\xe2\x82\xac\xe2\x82\xac", 8, 8), "AA...");
    CHECK_EQ_STR(clean("AA\xe2\x82\xac\xe2\x82\xac", 8, 9), "AA\xe2\x82\xac\xe2\x82\xac");
    /* Tiny buffers. */
    CHECK_EQ_STR(clean("abcdef", 6, 1), "");
    CHECK_EQ_STR(clean("abcdef", 6, 3), "..");
    CHECK_EQ_U64(op_sanitize(NULL, 0, "abc", 3), 0);
}

static void test_idempotent(void)
{
    const char text[] = "a\x1b[1m\xc2\x9b\xff\n\\x41 \xc3\xa9";
    char once[300], twice[300];
    op_sanitize(once, sizeof once, text, sizeof text - 1);
    op_sanitize(twice, sizeof twice, once, strlen(once));
    CHECK_EQ_STR(twice, once);
}

static void test_buf_put(void)
{
    op_buf b = {0};
    CHECK_EQ_INT(op_buf_puts(&b, "HTTP 400: "), 0);
    CHECK_EQ_INT(op_buf_put_sanitized(&b, "bad\nline", 8, 300), 0);
    CHECK_EQ_STR(b.data, "HTTP 400: bad\\x0aline");
    CHECK_EQ_INT(op_buf_put_sanitized(&b, "", 0, 300), 0);
    CHECK_EQ_STR(b.data, "HTTP 400: bad\\x0aline");
    op_buf_free(&b);
}

static void test_registry_errors(void)
{
    op_buf b = {0};
    const char forged[] = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"x\\n\\rocipush: forged "
                          "\\u001b[31mred\"},{\"code\":\"A\\u001bB\"}]}";
    op_json_registry_errors(&b, forged, sizeof forged - 1);
    CHECK_EQ_STR(b.data, "DENIED: x\\x0a\\x0docipush: forged \\x1b[31mred; A\\x1bB");
    op_buf_free(&b);

    /* Each field bounded, and the whole. */
    op_buf body = {0};
    CHECK_EQ_INT(op_buf_puts(&body, "{\"errors\":["), 0);
    for (int i = 0; i < 50; i++) {
        CHECK_EQ_INT(op_buf_printf(&body, "%s{\"code\":\"C%d\",\"message\":\"", i ? "," : "", i),
                     0);
        for (int j = 0; j < 500; j++)
            CHECK_EQ_INT(op_buf_puts(&body, "m"), 0);
        CHECK_EQ_INT(op_buf_puts(&body, "\"}"), 0);
    }
    CHECK_EQ_INT(op_buf_puts(&body, "]}"), 0);
    op_buf out = {0};
    op_json_registry_errors(&out, body.data, body.len);
    CHECK(out.len < 1000);
    CHECK(strstr(out.data, "C0: mmm") == out.data);
    CHECK(strstr(out.data, "...") != NULL);
    CHECK(strstr(out.data, "C49") == NULL);
    op_buf_free(&out);
    op_buf_free(&body);

    /* Not JSON: the first line, escaped, up to '<' or a line end. */
    const char plain[] = "denied \x9b\x1b[31m red\r\nsecond line";
    op_json_registry_errors(&b, plain, sizeof plain - 1);
    CHECK_EQ_STR(b.data, "denied \\x9b\\x1b[31m red");
    op_buf_free(&b);
    const char html[] = "<html><head><title>413 Too \x1b Large</title>";
    op_json_registry_errors(&b, html, sizeof html - 1);
    CHECK_EQ_STR(b.data, "413 Too \\x1b Large");
    op_buf_free(&b);
}

/* Messages recorded on a session are sanitized whatever they quote. */
static void test_errmsg_sanitized(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new(&s, "localhost:1"), 0))
        return;
    CHECK_EQ_INT(op_sfail(s, OCIPUSH_E_PROTOCOL, "the registry mounted %s", "a\r\n\x1b[2Jb"),
                 OCIPUSH_E_PROTOCOL);
    CHECK_EQ_STR(ocipush_session_errmsg(s), "the registry mounted a\\x0d\\x0a\\x1b[2Jb");
    /* A message quoting the session's own message (as the parallel push
     * does) is fine. */
    op_sfail(s, OCIPUSH_E_PROTOCOL, "again: %s", ocipush_session_errmsg(s));
    CHECK_EQ_STR(ocipush_session_errmsg(s), "again: the registry mounted a\\x0d\\x0a\\x1b[2Jb");
    ocipush_session_free(s);
}

static int64_t nested_call(ocipush_session *s, int64_t *inner_left)
{
    op_call_scope(s);
    *inner_left = op_deadline_left_ms(&s->ctx);
    return s->ctx.deadline_ms;
}

static void outer_call(ocipush_session *s, int expect_deadline)
{
    op_call_scope(s);
    int64_t deadline = s->ctx.deadline_ms, inner_left = 0;
    CHECK(expect_deadline ? deadline > 0 : deadline == 0);
    int64_t left = op_deadline_left_ms(&s->ctx);
    CHECK(expect_deadline ? left > 0 && left <= s->ctx.set.timeout_ms : left == -1);
    /* A public call made inside keeps the outer call's deadline. */
    CHECK_EQ_INT(nested_call(s, &inner_left), deadline);
    CHECK_EQ_INT(s->ctx.deadline_ms, deadline);
    CHECK_EQ_INT(s->ctx.in_call, 1);
    /* So does a worker's clone. */
    ocipush_session *c = NULL;
    if (CHECK_EQ_INT(op_session_clone(&c, s), 0)) {
        CHECK_EQ_INT(nested_call(c, &inner_left), deadline);
        CHECK_EQ_INT(c->ctx.deadline_ms, deadline);
        ocipush_session_free(c);
    }
    if (expect_deadline) {
        op_deadline_expire(&s->ctx);
        CHECK_EQ_INT(op_deadline_left_ms(&s->ctx), 0);
        CHECK_EQ_INT(op_deadline_fail(&s->ctx, "before", "GET http://x/v2/", NULL),
                     OCIPUSH_E_NETWORK);
        CHECK(strstr(ocipush_session_errmsg(s), "deadline") != NULL);
    }
}

static void test_deadline_scope(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new(&s, "localhost:1"), 0))
        return;
    CHECK_EQ_INT(s->ctx.set.timeout_ms, 3600 * 1000); /* the default */
    CHECK_EQ_INT(op_deadline_left_ms(&s->ctx), -1);   /* outside a call: none */
    outer_call(s, 1);
    /* Gone once the outermost call returned, and the next starts anew. */
    CHECK_EQ_INT(s->ctx.in_call, 0);
    CHECK_EQ_INT(s->ctx.deadline_ms, 0);
    outer_call(s, 1);
    CHECK_EQ_INT(ocipush_session_set_timeout(s, 0), OCIPUSH_OK);
    outer_call(s, 0);
    CHECK_EQ_INT(ocipush_session_set_timeout(s, INT64_MAX), OCIPUSH_OK);
    outer_call(s, 1); /* no overflow */
    CHECK_EQ_INT(ocipush_session_set_timeout(s, -1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_session_set_timeout(NULL, 1000), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(s->ctx.set.timeout_ms, INT64_MAX);
    ocipush_session_free(s);
}

int main(void)
{
    test_printable_and_utf8_kept();
    test_controls_escaped();
    test_invalid_utf8_escaped();
    test_bounded();
    test_idempotent();
    test_buf_put();
    test_registry_errors();
    test_errmsg_sanitized();
    test_deadline_scope();
    return check_done();
}
