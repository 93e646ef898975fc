#include "alloc.h"
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "challenge.h"
#include "exchange.h"
#include "token_json.h"
#include "url.h"
#include "validate.h"

typedef struct op_token {
    char *scope;
    char *value; /* "Bearer <token>"; never logged */
    time_t expires;
} op_token;

void op_auth_clear(op_auth *a)
{
    for (size_t i = 0; i < a->token_count; i++) {
        op_free(a->tokens[i].scope);
        op_free_secret_string(a->tokens[i].value);
    }
    op_free(a->tokens);
    a->tokens = NULL;
    a->token_count = 0;
    op_free(a->bearer_realm);
    op_free(a->bearer_service);
    op_free(a->scope_repository);
    op_free(a->scope_mount_source);
    a->bearer_realm = a->bearer_service = a->scope_repository = a->scope_mount_source = NULL;
}

int op_auth_set_repository(op_auth *a, const char *repository)
{
    char *copy = op_strdup(repository);
    if (!copy)
        return op_fail(&a->c->diag, OCIPUSH_E_NOMEM, "out of memory");
    op_free(a->scope_repository);
    op_free(a->scope_mount_source);
    a->scope_repository = copy;
    a->scope_mount_source = NULL;
    return 0;
}

int op_auth_set_mount_source(op_auth *a, const char *repository)
{
    char *copy = op_strdup(repository);
    if (repository && !copy)
        return op_fail(&a->c->diag, OCIPUSH_E_NOMEM, "out of memory");
    op_free(a->scope_mount_source);
    a->scope_mount_source = copy;
    return 0;
}

/* Push first: some registries only look at the first action. */
static int current_scope(op_auth *a, op_buf *out)
{
    if (!a->scope_repository)
        return op_buf_puts(out, "registry:catalog:*") ? OCIPUSH_E_NOMEM : 0;
    int rc = op_buf_printf(out, "repository:%s:push,pull", a->scope_repository);
    /* One exchange for both: a mount needs pull on its source. */
    if (!rc && a->scope_mount_source)
        rc = op_buf_printf(out, " repository:%s:pull", a->scope_mount_source);
    return rc ? OCIPUSH_E_NOMEM : 0;
}

static op_token *find_token(op_auth *a, const char *scope)
{
    for (size_t i = 0; i < a->token_count; i++)
        if (strcmp(a->tokens[i].scope, scope) == 0)
            return &a->tokens[i];
    return NULL;
}

static int store_token(op_auth *a, const char *scope, const char *token, long expires_in)
{
    op_buf value = {.secret = 1};
    op_token *t = find_token(a, scope);
    if (op_buf_printf(&value, "Bearer %s", token)) {
        op_buf_free(&value);
        return OCIPUSH_E_NOMEM;
    }
    if (!t) {
        op_token *grown = op_realloc(a->tokens, (a->token_count + 1) * sizeof *grown);
        char *scope_copy = grown ? op_strdup(scope) : NULL;
        if (grown)
            a->tokens = grown;
        if (!scope_copy) {
            op_buf_free(&value);
            return OCIPUSH_E_NOMEM;
        }
        t = &a->tokens[a->token_count++];
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
static int realm_may_get_credentials(op_auth *a)
{
    return strncasecmp(a->bearer_realm, "https://", 8) == 0 || a->c->set.plain_http;
}

/* GET realm?service=S&scope=A[&scope=B...] (`scope` holds scopes separated by
 * spaces); a refresh-token POST carries them in its body instead, to the
 * realm as it is. The challenge's scope is added unless it names the same
 * repository (registries list its actions in either order). */
static int token_request_url(op_auth *a, const char *scope, const char *extra, char **out)
{
    if (a->c->set.identity_token && realm_may_get_credentials(a))
        return (*out = op_strdup(a->bearer_realm)) ? 0 : OCIPUSH_E_NOMEM;
    op_buf all = {0};
    const char *colon = strrchr(scope, ':');
    size_t prefix = colon ? (size_t)(colon - scope) + 1 : 0;
    int same = extra && prefix && strncmp(extra, scope, prefix) == 0;
    int rc = op_buf_puts(&all, scope);
    if (!rc && extra && !same)
        rc = op_buf_printf(&all, " %s", extra);
    char *url = rc ? NULL : op_strdup(a->bearer_realm);
    if (!rc && !url)
        rc = OCIPUSH_E_NOMEM;
    if (!rc && a->bearer_service) {
        char *next = NULL;
        rc = op_url_add_query(&next, url, "service", a->bearer_service);
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

static int refresh_form(op_auth *a, const char *scope, op_buf *form)
{
    int rc = op_buf_puts(form, "grant_type=refresh_token&client_id=ocipush&scope=");
    rc = rc ? rc : op_url_encode(form, scope);
    if (!rc && a->bearer_service) {
        rc = op_buf_puts(form, "&service=");
        rc = rc ? rc : op_url_encode(form, a->bearer_service);
    }
    rc = rc ? rc : op_buf_puts(form, "&refresh_token=");
    return rc ? rc : op_url_encode(form, a->c->set.identity_token);
}

/* Whose credentials, for a message: "the credentials of USER" (were), "the
 * identity token" (was). */
static void credentials_name(const op_auth *a, char *out, size_t cap, const char *verb)
{
    if (a->c->set.identity_token)
        snprintf(out, cap, "the identity token%s%s", verb ? " was" : "", verb ? verb : "");
    else
        snprintf(out, cap, "the credentials%s%.200s%s%s", a->c->set.username ? " of " : "",
                 a->c->set.username ? a->c->set.username : "", verb ? " were" : "",
                 verb ? verb : "");
}

/* The realm said no. Blame the credentials only when they were sent: they
 * are withheld from a plain-http realm of an https registry, and from
 * another origin a realm redirects to. */
static int token_refused(op_auth *a, const op_response *resp)
{
    char whose[256], withheld[256];
    credentials_name(a, whose, sizeof whose, NULL);
    credentials_name(a, withheld, sizeof withheld, " withheld");
    int given = a->c->set.identity_token || a->c->set.basic_auth;
    if (given && !realm_may_get_credentials(a))
        return op_fail(&a->c->diag, OCIPUSH_E_AUTH,
                       "the token server %s refused an anonymous token (HTTP %ld): %s from it, "
                       "as that realm is plain http and the registry https",
                       a->bearer_realm, resp->status, withheld);
    if (given && resp->authorization_withheld)
        return op_fail(&a->c->diag, OCIPUSH_E_AUTH,
                       "the token server %s redirected to another origin, which refused an "
                       "anonymous token (HTTP %ld): %s from it",
                       a->bearer_realm, resp->status, withheld);
    if (given)
        return op_fail(&a->c->diag, OCIPUSH_E_AUTH, "the token server %s refused %s (HTTP %ld)",
                       a->bearer_realm, whose, resp->status);
    return op_fail(&a->c->diag, OCIPUSH_E_AUTH,
                   "the token server %s refused an anonymous token (HTTP %ld); give credentials",
                   a->bearer_realm, resp->status);
}

static int fetch_token(op_auth *a, const char *scope, const char *extra)
{
    char *url = NULL;
    op_buf form = {.secret = 1};
    op_response resp = {0};
    int rc = token_request_url(a, scope, extra, &url);
    if (rc)
        return op_fail(&a->c->diag, rc == OCIPUSH_E_NOMEM ? rc : OCIPUSH_E_PROTOCOL,
                       "cannot build the token request for realm %s", a->bearer_realm);
    /* Credentials (Basic in the header, or a refresh token in the body) go
     * to the realm's own origin only: the transport drops the header on a redirect
     * elsewhere and refuses to carry the secret body there. */
    op_request req = {.method = "GET", .url = url, .authorization = "", .idempotent = 1};
    if (!realm_may_get_credentials(a)) {
        /* an anonymous GET; token_refused says what was withheld */
    } else if (a->c->set.identity_token) {
        rc = refresh_form(a, scope, &form);
        req.method = "POST";
        req.body = form.data;
        req.body_len = form.len;
        req.content_type = "application/x-www-form-urlencoded";
        req.secret_body = 1;
    } else if (a->c->set.basic_auth) {
        req.authorization = a->c->set.basic_auth;
    }
    op_log(&a->c->diag, OCIPUSH_LOG_DEBUG, "getting a token for %s", scope);
    rc = rc ? op_fail(&a->c->diag, rc, "out of memory") : op_exchange(a->t, a->c, &req, &resp);
    char *token = NULL;
    long expires_in = 0;
    if (rc == 0 && (resp.status == 401 || resp.status == 403)) {
        rc = token_refused(a, &resp);
        op_diag_answer(&a->c->diag, resp.status, resp.error_code);
    } else if (rc == 0 && resp.status != 200)
        rc = op_response_fail(a->c, "getting a token", &req, &resp);
    else if (rc == 0 && (rc = op_json_token(&token, &expires_in, resp.body.data, resp.body.len)))
        rc = op_fail(&a->c->diag, rc, "the token server %s answered without a token",
                     a->bearer_realm);
    else if (rc == 0 && op_b64token_check(token)) /* it becomes a header */
        rc = op_fail(&a->c->diag, OCIPUSH_E_PROTOCOL,
                     "the token server %s answered a malformed token", a->bearer_realm);
    if (rc == 0 && store_token(a, scope, token, expires_in))
        rc = op_fail(&a->c->diag, OCIPUSH_E_NOMEM, "out of memory");
    op_free_secret_string(token);
    op_buf_free(&form);
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

int op_auth_header(op_auth *a, const char **out)
{
    *out = NULL;
    if (!a->bearer_realm) {
        *out = a->c->set.basic_auth;
        return 0;
    }
    op_buf scope = {0};
    int rc = current_scope(a, &scope);
    op_token *t = rc ? NULL : find_token(a, scope.data);
    if (!rc && (!t || time(NULL) >= t->expires))
        rc = fetch_token(a, scope.data, NULL);
    if (!rc)
        *out = find_token(a, scope.data)->value;
    op_buf_free(&scope);
    return rc == OCIPUSH_E_NOMEM ? op_fail(&a->c->diag, rc, "out of memory") : rc;
}

static int on_bearer(op_auth *a, const op_challenge *ch)
{
    /* Checked before it is kept, and quoted only once it is known to be
     * printable: it comes from the registry. */
    if (!op_url_is_http(ch->realm))
        return op_fail(&a->c->diag, OCIPUSH_E_PROTOCOL,
                       "the registry named a token realm that is not an http or https URL");
    if (op_replace_string(&a->bearer_realm, ch->realm, 0) ||
        op_replace_string(&a->bearer_service, ch->service, 0))
        return op_fail(&a->c->diag, OCIPUSH_E_NOMEM, "out of memory");
    op_buf scope = {0};
    int rc = current_scope(a, &scope);
    /* Whatever token was used was refused (expired, or too narrow): a new one. */
    op_token *t = rc ? NULL : find_token(a, scope.data);
    if (t)
        t->expires = 0;
    rc = rc ? op_fail(&a->c->diag, rc, "out of memory") : fetch_token(a, scope.data, ch->scope);
    op_buf_free(&scope);
    return rc;
}

int op_auth_on_401(op_auth *a, const op_response *resp, const char *sent)
{
    op_challenge *list = NULL;
    size_t count = 0;
    if (!resp->www_authenticate || op_challenges_parse(&list, &count, resp->www_authenticate))
        return op_fail(&a->c->diag, OCIPUSH_E_AUTH,
                       "%s answered 401 without a usable WWW-Authenticate challenge",
                       a->c->set.registry);
    const op_challenge *bearer = op_challenge_find(list, count, "Bearer");
    const op_challenge *basic = op_challenge_find(list, count, "Basic");
    int rc;
    if (bearer && bearer->realm)
        rc = on_bearer(a, bearer);
    else if (basic && !a->c->set.basic_auth)
        rc = op_fail(&a->c->diag, OCIPUSH_E_AUTH,
                     "%s requires credentials (Basic) and none were given", a->c->set.registry);
    else if (basic && sent && strcmp(sent, a->c->set.basic_auth) == 0)
        rc = op_fail(&a->c->diag, OCIPUSH_E_AUTH, "%s rejected the credentials of %s",
                     a->c->set.registry, a->c->set.username ? a->c->set.username : "the user");
    else if (basic)
        rc = 0; /* send the Basic credentials it asks for */
    else
        rc = op_fail(&a->c->diag, OCIPUSH_E_AUTH,
                     "%s asks for an authentication scheme ocipush lacks (%s)", a->c->set.registry,
                     list[0].scheme);
    op_challenges_free(list, count);
    return rc;
}

int op_auth_copy(op_auth *dst, const op_auth *src)
{
    if (op_replace_string(&dst->bearer_realm, src->bearer_realm, 0) ||
        op_replace_string(&dst->bearer_service, src->bearer_service, 0))
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
