/* The parsers behind authentication: WWW-Authenticate challenges, token
 * answers, docker config files and credential-helper answers. */
#include <stdlib.h>
#include <string.h>

#include "challenge.h"
#include "check.h"
#include "digest.h"
#include "token_json.h"
#include "docker_config.h"
#include "ocipush.h"

static void test_bearer_with_quotes_and_commas(void)
{
    op_challenge *list = NULL;
    size_t n = 0;
    const char *h = "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                    "scope=\"repository:a/b:pull,push\",error=\"insufficient_scope\"";
    if (!CHECK_EQ_INT(op_challenges_parse(&list, &n, h), 0))
        return;
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(list[0].scheme, "Bearer");
    CHECK_EQ_STR(list[0].realm, "https://auth.example/token");
    CHECK_EQ_STR(list[0].service, "registry.example");
    CHECK_EQ_STR(list[0].scope, "repository:a/b:pull,push");
    CHECK_EQ_STR(list[0].error, "insufficient_scope");
    op_challenges_free(list, n);
}

static void test_several_challenges(void)
{
    op_challenge *list = NULL;
    size_t n = 0;
    /* Two headers joined, a Basic first, odd spacing, case-insensitive names,
     * an escaped quote, a token68 challenge and unknown parameters. */
    const char *h = "Basic realm=\"Registry \\\"Realm\\\"\" , Negotiate abc==,"
                    "  bearer   REALM = \"http://127.0.0.1:1/token\" , Service=plain,x=\"y,z\"";
    if (!CHECK_EQ_INT(op_challenges_parse(&list, &n, h), 0))
        return;
    CHECK_EQ_INT(n, 3);
    const op_challenge *basic = op_challenge_find(list, n, "basic");
    const op_challenge *bearer = op_challenge_find(list, n, "Bearer");
    if (CHECK(basic != NULL))
        CHECK_EQ_STR(basic->realm, "Registry \"Realm\"");
    if (CHECK(bearer != NULL)) {
        CHECK_EQ_STR(bearer->realm, "http://127.0.0.1:1/token");
        CHECK_EQ_STR(bearer->service, "plain");
        CHECK(bearer->scope == NULL);
    }
    CHECK(op_challenge_find(list, n, "Digest") == NULL);
    op_challenges_free(list, n);
}

static void test_malformed(void)
{
    const char *bad[] = {
        "", "   ", ",", "Bearer realm=\"unterminated", "=x", "Bearer realm=\"a\" junk", NULL};
    for (size_t i = 0; bad[i]; i++) {
        op_challenge *list = (op_challenge *)1;
        size_t n = 99;
        CHECK_EQ_INT(op_challenges_parse(&list, &n, bad[i]), OCIPUSH_E_INVALID);
        CHECK(n == 99);
    }
    op_challenge *list = NULL;
    size_t n = 0;
    CHECK_EQ_INT(op_challenges_parse(&list, &n, NULL), OCIPUSH_E_INVALID);
}

static void test_token_answer(void)
{
    char *tok = NULL;
    long exp = 0;
    const char *a = "{\"token\":\"t1\",\"access_token\":\"t2\",\"expires_in\":300}";
    if (CHECK_EQ_INT(op_json_token(&tok, &exp, a, strlen(a)), 0)) {
        CHECK_EQ_STR(tok, "t1");
        CHECK_EQ_INT(exp, 300);
        free(tok);
    }
    const char *b = "{\"access_token\":\"only\"}";
    if (CHECK_EQ_INT(op_json_token(&tok, &exp, b, strlen(b)), 0)) {
        CHECK_EQ_STR(tok, "only");
        CHECK_EQ_INT(exp, 60); /* the spec's default */
        free(tok);
    }
    const char *bad[] = {"{}", "{\"token\":\"\"}", "not json", "{\"token\":5}", NULL};
    for (size_t i = 0; bad[i]; i++)
        CHECK_EQ_INT(op_json_token(&tok, &exp, bad[i], strlen(bad[i])), OCIPUSH_E_PROTOCOL);
    CHECK_EQ_INT(op_json_token(&tok, &exp, NULL, 0), OCIPUSH_E_PROTOCOL);
}

static void test_docker_lookup(void)
{
    op_docker_entry e;
    const char *cfg = "{\"auths\":{\"https://reg.example:5000/v1/\":{\"auth\":\"dTpw\"},"
                      "\"other:1\":{\"identitytoken\":\"idt\"},"
                      "\"plain\":{\"username\":\"u2\",\"password\":\"p2\"}},"
                      "\"credHelpers\":{\"helped.example\":\"mine\"},\"credsStore\":\"store\"}";
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, cfg, strlen(cfg), "reg.example:5000"), 0)) {
        CHECK_EQ_STR(e.auth, "dTpw");
        CHECK_EQ_STR(e.helper, "store"); /* credsStore applies to every registry */
        op_docker_entry_clear(&e);
    }
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, cfg, strlen(cfg), "helped.example"), 0)) {
        CHECK_EQ_STR(e.helper, "mine");
        CHECK(e.auth == NULL);
        op_docker_entry_clear(&e);
    }
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, cfg, strlen(cfg), "other:1"), 0)) {
        CHECK_EQ_STR(e.identity_token, "idt");
        op_docker_entry_clear(&e);
    }
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, cfg, strlen(cfg), "plain"), 0)) {
        CHECK_EQ_STR(e.username, "u2");
        CHECK_EQ_STR(e.password, "p2");
        op_docker_entry_clear(&e);
    }
    /* "reg.example" alone must not match "reg.example:5000". */
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, cfg, strlen(cfg), "reg.example"), 0)) {
        CHECK(e.auth == NULL);
        op_docker_entry_clear(&e);
    }
    CHECK_EQ_INT(op_json_docker_lookup(&e, "[1]", 3, "x"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_json_docker_lookup(&e, "nope", 4, "x"), OCIPUSH_E_INVALID);
}

static void test_docker_update(void)
{
    char *out = NULL;
    int found = -1;
    const char *cfg =
        "{\"auths\":{\"https://r:1/v1/\":{\"auth\":\"old\"},\"keep\":{\"auth\":\"k\"}},"
        "\"credsStore\":\"s\"}";
    if (CHECK_EQ_INT(op_json_docker_update(&out, &found, cfg, strlen(cfg), "r:1", "new"), 0)) {
        op_docker_entry e;
        CHECK_EQ_INT(found, 1);
        if (CHECK_EQ_INT(op_json_docker_lookup(&e, out, strlen(out), "r:1"), 0)) {
            CHECK_EQ_STR(e.auth, "new");
            op_docker_entry_clear(&e);
        }
        if (CHECK_EQ_INT(op_json_docker_lookup(&e, out, strlen(out), "keep"), 0)) {
            CHECK_EQ_STR(e.auth, "k");
            CHECK_EQ_STR(e.helper, "s");
            op_docker_entry_clear(&e);
        }
        CHECK(strstr(out, "old") == NULL);
        char *removed = NULL;
        if (CHECK_EQ_INT(op_json_docker_update(&removed, &found, out, strlen(out), "r:1", NULL),
                         0)) {
            CHECK_EQ_INT(found, 1);
            CHECK(strstr(removed, "r:1") == NULL);
            CHECK(strstr(removed, "keep") != NULL);
            char *again = NULL;
            if (CHECK_EQ_INT(
                    op_json_docker_update(&again, &found, removed, strlen(removed), "r:1", NULL),
                    0)) {
                CHECK_EQ_INT(found, 0);
                free(again);
            }
            free(removed);
        }
        free(out);
    }
    if (CHECK_EQ_INT(op_json_docker_update(&out, &found, NULL, 0, "h", "a"), 0)) {
        CHECK(strstr(out, "\"auths\"") != NULL);
        free(out);
    }
    CHECK_EQ_INT(op_json_docker_update(&out, &found, "{bad", 4, "h", "a"), OCIPUSH_E_INVALID);
}

/* A key twice in a config (found by fuzzing): the last counts, as docker's
 * Go decoder reads it, and what is stored is what is found after. */
static void test_docker_duplicate_keys(void)
{
    const char *cfg = "{\"auths\":\"x\",\"auths\":{\"r\":{\"auth\":\"b2xkOm9sZA==\"}},"
                      "\"credsStore\":\"first\",\"credsStore\":\"second\"}";
    op_docker_entry e;
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, cfg, strlen(cfg), "r"), 0)) {
        CHECK_EQ_STR(e.auth, "b2xkOm9sZA==");
        CHECK_EQ_STR(e.helper, "second");
        op_docker_entry_clear(&e);
    }
    char *stored = NULL, *erased = NULL;
    int found = -1;
    if (!CHECK_EQ_INT(op_json_docker_update(&stored, &found, cfg, strlen(cfg), "r", "bmV3Om5ldw=="),
                      0))
        return;
    CHECK_EQ_INT(found, 1);
    if (CHECK_EQ_INT(op_json_docker_lookup(&e, stored, strlen(stored), "r"), 0)) {
        CHECK_EQ_STR(e.auth, "bmV3Om5ldw==");
        op_docker_entry_clear(&e);
    }
    if (CHECK_EQ_INT(op_json_docker_update(&erased, &found, stored, strlen(stored), "r", NULL),
                     0)) {
        CHECK_EQ_INT(found, 1);
        if (CHECK_EQ_INT(op_json_docker_lookup(&e, erased, strlen(erased), "r"), 0)) {
            CHECK(e.auth == NULL);
            op_docker_entry_clear(&e);
        }
        free(erased);
    }
    free(stored);
}

static void test_helper_answer(void)
{
    char *u = NULL, *sec = NULL;
    const char *a = "{\"ServerURL\":\"h\",\"Username\":\"<token>\",\"Secret\":\"s3\"}";
    if (CHECK_EQ_INT(op_json_helper_answer(&u, &sec, a, strlen(a)), 0)) {
        CHECK_EQ_STR(u, "<token>");
        CHECK_EQ_STR(sec, "s3");
        free(u);
        free(sec);
    }
    CHECK_EQ_INT(op_json_helper_answer(&u, &sec, "{\"Username\":\"x\"}", 16), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_json_helper_answer(&u, &sec, "credentials not found", 21), OCIPUSH_E_INVALID);
}

static void test_base64_decode(void)
{
    char *out = NULL;
    size_t len = 0;
    if (CHECK_EQ_INT(op_base64_decode(&out, &len, "dXNlcjpwYXNz"), 0)) {
        CHECK_EQ_STR(out, "user:pass");
        CHECK_EQ_INT(len, 9);
        free(out);
    }
    if (CHECK_EQ_INT(op_base64_decode(&out, &len, ""), 0)) {
        CHECK_EQ_INT(len, 0);
        free(out);
    }
    CHECK_EQ_INT(op_base64_decode(&out, &len, "!!!"), OCIPUSH_E_INVALID);
}

int main(void)
{
    test_bearer_with_quotes_and_commas();
    test_several_challenges();
    test_malformed();
    test_token_answer();
    test_docker_lookup();
    test_docker_update();
    test_docker_duplicate_keys();
    test_helper_answer();
    test_base64_decode();
    return check_done();
}
