/* docker's config.json (and helm's, of the same format) read and updated,
 * and a credential helper's answer read. Every string that held a secret
 * is wiped before it is freed. Pure, so it can be fuzzed. */
#ifndef OP_DOCKER_CONFIG_H
#define OP_DOCKER_CONFIG_H

#include <stddef.h>

/* What a docker-format config.json (docker's or helm's) says of one
 * registry. Strings malloc'd, NULL when absent. */
typedef struct op_docker_entry {
    char *helper;   /* credHelpers[registry], else credsStore */
    char *auth;     /* auths[registry].auth: base64 "user:password" */
    char *username; /* auths[registry].username/password, when not in auth */
    char *password;
    char *identity_token; /* auths[registry].identitytoken */
} op_docker_entry;

/* Keys are matched as docker does: "host:port", or with a scheme and a
 * path ("https://host/v1/"). 0, OCIPUSH_E_INVALID (not JSON), NOMEM. */
int op_json_docker_lookup(op_docker_entry *out, const char *text, size_t len, const char *registry);
void op_docker_entry_clear(op_docker_entry *e);

/* A credential helper's "get" answer: {"Username":..., "Secret":...}. */
int op_json_helper_answer(char **out_username, char **out_secret, const char *text, size_t len);

/* The config text with auths[registry] set to {"auth": auth_b64} (auth_b64
 * non-NULL) or removed (NULL; *out_found says whether it was there). `text`
 * NULL starts from an empty config; other content is kept. *out malloc'd. */
int op_json_docker_update(char **out, int *out_found, const char *text, size_t len,
                          const char *registry, const char *auth_b64);

#endif
