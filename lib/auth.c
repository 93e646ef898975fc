#include "alloc.h"
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "challenge.h"
#include "http.h"
#include "json.h"
#include "url.h"
#include "validate.h"

typedef struct op_token {
    char *scope;
    char *value; /* "Bearer <token>"; never logged */
    time_t expires;
} op_token;

void op_auth_clear(ocipush_session *s)
{
    for (size_t i = 0; i < s->token_count; i++) {
        op_free(s->tokens[i].scope);
        op_free_secret_string(s->tokens[i].value);
    }
    op_free(s->tokens);
    s->tokens = NULL;
    s->token_count = 0;
    op_free(s->bearer_realm);
    op_free(s->bearer_service);
    op_free(s->scope_repository);
    op_free(s->scope_mount_source);
    s->bearer_realm = s->bearer_service = s->scope_repository = s->scope_mount_source = NULL;
}

int op_auth_set_repository(ocipush_session *s, const char *repository)
{
    char *copy = op_strdup(repository);
    if (!copy)
        return op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    op_free(s->scope_repository);
    op_free(s->scope_mount_source);
    s->scope_repository = copy;
    s->scope_mount_source = NULL;
    return 0;
}

int op_auth_set_mount_source(ocipush_session *s, const char *repository)
{
    char *copy = op_strdup(repository);
    if (repository && !copy)
        return op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    op_free(s->scope_mount_source);
    s->scope_mount_source = copy;
    return 0;
}

/* Push first: some registries only look at the first action. */
static int current_scope(ocipush_session *s, op_buf *out)
{
    if (!s->scope_repository)
        return op_buf_puts(out, "registry:catalog:*") ? OCIPUSH_E_NOMEM : 0;
    int rc = op_buf_printf(out, "repository:%s:push,pull", s->scope_repository);
    /* One exchange for both: a mount needs pull on its source. */
    if (!rc && s->scope_mount_source)
        rc = op_buf_printf(out, " repository:%s:pull", s->scope_mount_source);
    return rc ? OCIPUSH_E_NOMEM : 0;
}

static op_token *find_token(ocipush_session *s, const char *scope)
{
    for (size_t i = 0; i < s->token_count; i++)
        if (strcmp(s->tokens[i].scope, scope) == 0)
            return &s->tokens[i];
    return NULL;
}

static int store_token(ocipush_session *s, const char *scope, const char *token, long expires_in)
{
    op_buf value = {.secret = 1};
    op_token *t = find_token(s, scope);
    if (op_buf_printf(&value, "Bearer %s", token)) {
        op_buf_free(&value);
        return OCIPUSH_E_NOMEM;
    }
    if (!t) {
        op_token *grown = op_realloc(s->tokens, (s->token_count + 1) * sizeof *grown);
        char *scope_copy = grown ? op_strdup(scope) : NULL;
        if (grown)
            s->tokens = grown;
        if (!scope_copy) {
            op_buf_free(&value);
            return OCIPUSH_E_NOMEM;
        }
        t = &s->tokens[s->token_count++];
        t->scope = scope_copy;
        t->value = NULL;
    }
    op_free_secret_string(t->value);
    op_buf_take(&value, &t->value);
    /* Renew a little early, so a token does not run out mid-request. */
    long margin = expires_in > 20 ? 10 : expires_in / 2;
    t->expires = time(NULL) + expires_in - margin;
    return 0;
}

/* Credentials go to the realm only over https, unless the registry itself
 * was asked to use plain http. */
static int realm_may_get_credentials(ocipush_session *s)
{
    return strncasecmp(s->bearer_realm, "https://", 8) == 0 || s->plain_http;
}

/* GET realm?service=S&scope=A[&scope=B...] (`scope` holds scopes separated by
 * spaces); a refresh-token POST carries them in its body instead, to the
 * realm as it is. The challenge's scope is added unless it names the same
 * repository (registries list its actions in either order). */
static int token_request_url(ocipush_session *s, const char *scope, const char *extra, char **out)
{
    if (s->identity_token && realm_may_get_credentials(s))
        return (*out = op_strdup(s->bearer_realm)) ? 0 : OCIPUSH_E_NOMEM;
    op_buf all = {0};
    const char *colon = strrchr(scope, ':');
    size_t prefix = colon ? (size_t)(colon - scope) + 1 : 0;
    int same = extra && prefix && strncmp(extra, scope, prefix) == 0;
    int rc = op_buf_puts(&all, scope);
    if (!rc && extra && !same)
        rc = op_buf_printf(&all, " %s", extra);
    char *url = rc ? NULL : op_strdup(s->bearer_realm);
    if (!rc && !url)
        rc = OCIPUSH_E_NOMEM;
    if (!rc && s->bearer_service) {
        char *next = NULL;
        rc = op_url_add_query(&next, url, "service", s->bearer_service);
        op_free(url);
        url = next;
    }
    for (char *tok = all.data, *save = NULL; !rc && (tok = strtok_r(tok, " ", &save)); tok = NULL) {
        char *next = NULL;
        rc = op_url_add_query(&next, url, "scope", tok);
        op_free(url);
        url = next;
    }
    op_buf_free(&all);
    if (rc) {
        op_free(url);
        return rc;
    }
    *out = url;
    return 0;
}

static int refresh_form(ocipush_session *s, const char *scope, op_buf *form)
{
    int rc = op_buf_puts(form, "grant_type=refresh_token&client_id=ocipush&scope=");
    rc = rc ? rc : op_url_encode(form, scope);
    if (!rc && s->bearer_service) {
        rc = op_buf_puts(form, "&service=");
        rc = rc ? rc : op_url_encode(form, s->bearer_service);
    }
    rc = rc ? rc : op_buf_puts(form, "&refresh_token=");
    return rc ? rc : op_url_encode(form, s->identity_token);
}

/* Whose credentials, for a message: "the credentials of USER" (were), "the
 * identity token" (was). */
static void credentials_name(const ocipush_session *s, char *out, size_t cap, const char *verb)
{
    if (s->identity_token)
        snprintf(out, cap, "the identity token%s%s", verb ? " was" : "", verb ? verb : "");
    else
        snprintf(out, cap, "the credentials%s%.200s%s%s", s->username ? " of " : "",
                 s->username ? s->username : "", verb ? " were" : "", verb ? verb : "");
}

/* The realm said no. Blame the credentials only when they were sent: they
 * are withheld from a plain-http realm of an https registry, and from
 * another origin a realm redirects to. */
static int token_refused(ocipush_session *s, const op_response *resp)
{
    char whose[256], withheld[256];
    credentials_name(s, whose, sizeof whose, NULL);
    credentials_name(s, withheld, sizeof withheld, " withheld");
    int given = s->identity_token || s->basic_auth;
    if (given && !realm_may_get_credentials(s))
        return op_fail(s, OCIPUSH_E_AUTH,
                       "the token server %s refused an anonymous token (HTTP %ld): %s from it, "
                       "as that realm is plain http and the registry https",
                       s->bearer_realm, resp->status, withheld);
    if (given && resp->authorization_withheld)
        return op_fail(s, OCIPUSH_E_AUTH,
                       "the token server %s redirected to another origin, which refused an "
                       "anonymous token (HTTP %ld): %s from it",
                       s->bearer_realm, resp->status, withheld);
    if (given)
        return op_fail(s, OCIPUSH_E_AUTH, "the token server %s refused %s (HTTP %ld)",
                       s->bearer_realm, whose, resp->status);
    return op_fail(s, OCIPUSH_E_AUTH,
                   "the token server %s refused an anonymous token (HTTP %ld); give credentials",
                   s->bearer_realm, resp->status);
}

static int fetch_token(ocipush_session *s, const char *scope, const char *extra)
{
    char *url = NULL;
    op_buf form = {.secret = 1};
    op_response resp = {0};
    int rc = token_request_url(s, scope, extra, &url);
    if (rc)
        return op_fail(s, rc == OCIPUSH_E_NOMEM ? rc : OCIPUSH_E_PROTOCOL,
                       "cannot build the token request for realm %s", s->bearer_realm);
    /* Credentials (Basic in the header, or a refresh token in the body) go
     * to the realm's own origin only: http.c drops the header on a redirect
     * elsewhere and refuses to carry the secret body there. */
    op_request req = {.method = "GET", .url = url, .authorization = "", .idempotent = 1};
    if (!realm_may_get_credentials(s)) {
        /* an anonymous GET; token_refused says what was withheld */
    } else if (s->identity_token) {
        rc = refresh_form(s, scope, &form);
        req.method = "POST";
        req.body = form.data;
        req.body_len = form.len;
        req.content_type = "application/x-www-form-urlencoded";
        req.secret_body = 1;
    } else if (s->basic_auth) {
        req.authorization = s->basic_auth;
    }
    op_log(s, OCIPUSH_LOG_DEBUG, "getting a token for %s", scope);
    rc = rc ? op_fail(s, rc, "out of memory") : op_http_perform(s, &req, &resp);
    char *token = NULL;
    long expires_in = 0;
    if (rc == 0 && (resp.status == 401 || resp.status == 403))
        rc = token_refused(s, &resp);
    else if (rc == 0 && resp.status != 200)
        rc = op_http_fail(s, "getting a token", &req, &resp);
    else if (rc == 0 && (rc = op_json_token(&token, &expires_in, resp.body.data, resp.body.len)))
        rc = op_fail(s, rc, "the token server %s answered without a token", s->bearer_realm);
    else if (rc == 0 && op_b64token_check(token)) /* it becomes a header */
        rc = op_fail(s, OCIPUSH_E_PROTOCOL, "the token server %s answered a malformed token",
                     s->bearer_realm);
    if (rc == 0 && store_token(s, scope, token, expires_in))
        rc = op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    op_free_secret_string(token);
    op_buf_free(&form);
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

int op_auth_header(ocipush_session *s, const char **out)
{
    *out = NULL;
    if (!s->bearer_realm) {
        *out = s->basic_auth;
        return 0;
    }
    op_buf scope = {0};
    int rc = current_scope(s, &scope);
    op_token *t = rc ? NULL : find_token(s, scope.data);
    if (!rc && (!t || time(NULL) >= t->expires))
        rc = fetch_token(s, scope.data, NULL);
    if (!rc)
        *out = find_token(s, scope.data)->value;
    op_buf_free(&scope);
    return rc == OCIPUSH_E_NOMEM ? op_fail(s, rc, "out of memory") : rc;
}

static int replace(char **slot, const char *value)
{
    char *copy = op_strdup(value);
    if (value && !copy)
        return OCIPUSH_E_NOMEM;
    op_free(*slot);
    *slot = copy;
    return 0;
}

static int on_bearer(ocipush_session *s, const op_challenge *c)
{
    /* Checked before it is kept, and quoted only once it is known to be
     * printable: it comes from the registry. */
    if (!op_url_is_http(c->realm))
        return op_fail(s, OCIPUSH_E_PROTOCOL,
                       "the registry named a token realm that is not an http or https URL");
    if (replace(&s->bearer_realm, c->realm) || replace(&s->bearer_service, c->service))
        return op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    op_buf scope = {0};
    int rc = current_scope(s, &scope);
    /* Whatever token was used was refused (expired, or too narrow): a new one. */
    op_token *t = rc ? NULL : find_token(s, scope.data);
    if (t)
        t->expires = 0;
    rc = rc ? op_fail(s, rc, "out of memory") : fetch_token(s, scope.data, c->scope);
    op_buf_free(&scope);
    return rc;
}

int op_auth_on_401(ocipush_session *s, const op_response *resp, const char *sent)
{
    op_challenge *list = NULL;
    size_t count = 0;
    if (!resp->www_authenticate || op_challenges_parse(&list, &count, resp->www_authenticate))
        return op_fail(s, OCIPUSH_E_AUTH,
                       "%s answered 401 without a usable WWW-Authenticate challenge", s->registry);
    const op_challenge *bearer = op_challenge_find(list, count, "Bearer");
    const op_challenge *basic = op_challenge_find(list, count, "Basic");
    int rc;
    if (bearer && bearer->realm)
        rc = on_bearer(s, bearer);
    else if (basic && !s->basic_auth)
        rc = op_fail(s, OCIPUSH_E_AUTH, "%s requires credentials (Basic) and none were given",
                     s->registry);
    else if (basic && sent && strcmp(sent, s->basic_auth) == 0)
        rc = op_fail(s, OCIPUSH_E_AUTH, "%s rejected the credentials of %s", s->registry,
                     s->username ? s->username : "the user");
    else if (basic)
        rc = 0; /* send the Basic credentials it asks for */
    else
        rc = op_fail(s, OCIPUSH_E_AUTH, "%s asks for an authentication scheme ocipush lacks (%s)",
                     s->registry, list[0].scheme);
    op_challenges_free(list, count);
    return rc;
}

int op_auth_copy(ocipush_session *dst, const ocipush_session *src)
{
    if (replace(&dst->bearer_realm, src->bearer_realm) ||
        replace(&dst->bearer_service, src->bearer_service))
        return OCIPUSH_E_NOMEM;
    for (size_t i = 0; i < src->token_count; i++) {
        const op_token *t = &src->tokens[i];
        /* store_token wants the bare token: "Bearer " comes off. */
        if (store_token(dst, t->scope, t->value + 7, 0))
            return OCIPUSH_E_NOMEM;
        find_token(dst, t->scope)->expires = t->expires;
    }
    return 0;
}
