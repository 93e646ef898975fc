/* Docker config files and credential helpers: the input is "registry\n"
 * followed by a config.json (or a helper's answer). Looks the registry up and
 * decodes its auth, stores and removes an entry for it and for another
 * registry, reads the text as a helper's answer, and decodes the registry
 * line as base64. */
#include "digest.h"
#include "fuzz.h"
#include "docker_config.h"
#include "ocipush.h"

#define AUTH "dXNlcjpwYXNz" /* user:pass */

/* Decoded bytes encode and decode back to themselves. */
static void check_base64(const char *text)
{
    char *raw = NULL, *enc = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    int rc = op_base64_decode(&raw, &len, text);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    if (rc)
        return;
    FUZZ_CHECK(raw[len] == '\0' && len <= (strlen(text) + 3) / 4 * 3);
    FUZZ_CHECK(op_base64_encode(&enc, raw, len) == 0);
    FUZZ_CHECK(op_base64_decode(&again, &len2, enc) == 0);
    FUZZ_CHECK(len2 == len && memcmp(again, raw, len) == 0);
    ocipush_free(raw);
    ocipush_free(enc);
    ocipush_free(again);
}

/* Looks registry up in text; returns the lookup's result, e cleared. */
static int lookup(op_docker_entry *e, const char *text, size_t len, const char *registry)
{
    int rc = op_json_docker_lookup(e, text, len, registry);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    char *fields[] = {e->helper, e->auth, e->username, e->password, e->identity_token};
    for (size_t i = 0; i < 5; i++)
        FUZZ_CHECK(rc == 0 ? !fields[i] || *fields[i] : !fields[i]);
    return rc;
}

/* Store AUTH for registry into text, then remove it: the stored entry is
 * found again (a key with a '/' never matches a registry), and gone after. */
static void check_store_erase(const char *text, size_t len, const char *registry, int valid)
{
    char *stored = NULL, *erased = NULL;
    int found = -1, matchable = !strchr(registry, '/');
    op_docker_entry e;
    int rc = op_json_docker_update(&stored, &found, text, len, registry, AUTH);
    FUZZ_CHECK(rc == (valid ? 0 : OCIPUSH_E_INVALID));
    if (rc)
        return;
    FUZZ_CHECK(found == 0 || found == 1);
    FUZZ_CHECK(lookup(&e, stored, strlen(stored), registry) == 0);
    FUZZ_CHECK(!matchable || (e.auth && strcmp(e.auth, AUTH) == 0));
    op_docker_entry_clear(&e);
    FUZZ_CHECK(op_json_docker_update(&erased, &found, stored, strlen(stored), registry, NULL) == 0);
    FUZZ_CHECK(found == matchable);
    FUZZ_CHECK(lookup(&e, erased, strlen(erased), registry) == 0);
    FUZZ_CHECK(!e.auth && !e.username && !e.password && !e.identity_token);
    op_docker_entry_clear(&e);
    ocipush_free(stored);
    ocipush_free(erased);
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Storing for another registry leaves what this one finds as it was. */
static void check_other_kept(const op_docker_entry *was, const char *text, size_t len,
                             const char *registry)
{
    const char *other = strcmp(registry, "other.example") ? "other.example" : "another.example";
    char *stored = NULL;
    op_docker_entry e;
    FUZZ_CHECK(op_json_docker_update(&stored, NULL, text, len, other, AUTH) == 0);
    FUZZ_CHECK(lookup(&e, stored, strlen(stored), registry) == 0);
    FUZZ_CHECK(same(e.helper, was->helper) && same(e.auth, was->auth) &&
               same(e.username, was->username) && same(e.password, was->password) &&
               same(e.identity_token, was->identity_token));
    op_docker_entry_clear(&e);
    ocipush_free(stored);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t cut = nl ? (size_t)(nl - data) : 0;
    char *registry = fuzz_strndup(data, cut);
    const char *text = (const char *)data + (nl ? cut + 1 : 0);
    size_t len = size - (nl ? cut + 1 : 0);

    op_docker_entry e;
    int rc = lookup(&e, text, len, registry);
    if (e.auth)
        check_base64(e.auth);
    if (rc == 0)
        check_other_kept(&e, text, len, registry);
    op_docker_entry_clear(&e);
    check_store_erase(text, len, registry, rc == 0);
    check_store_erase(NULL, 0, registry, 1);

    char *user = NULL, *secret = NULL;
    rc = op_json_helper_answer(&user, &secret, text, len);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK(rc == 0 ? secret && *secret && (!user || *user) : !user && !secret);
    ocipush_free(user);
    ocipush_free(secret);

    check_base64(registry);
    free(registry);
    return 0;
}
