/* JSON in and out: the only file that uses cJSON. */
#ifndef OP_JSON_H
#define OP_JSON_H

#include <stddef.h>

#include "buf.h"
#include "manifest.h"

/* Summarise a registry error body ({"errors":[{"code","message"}]}) as
 * "CODE: message; CODE: message" into out, each field sanitized and bounded
 * (sanitize.h), the whole bounded too ("; ..." when errors are left out).
 * A body that is not such JSON yields its first line (a proxy's HTML title,
 * say), sanitized and bounded the same way. */
void op_json_registry_errors(op_buf *out, const char *body, size_t len);

/* The first registry error code of the body into out ("" if none). */
void op_json_registry_first_code(char *out, size_t cap, const char *body, size_t len);

/* 1 when the registry error body carries one of the NULL-terminated codes. */
int op_json_registry_has_code(const char *body, size_t len, const char *const *codes);

/* Serialize a manifest or index to compact JSON; *out malloc'd, NUL-ended.
 * 0, OCIPUSH_E_INVALID (image manifest without config), OCIPUSH_E_NOMEM. */
int op_json_manifest(char **out, size_t *out_len, const ocipush_manifest *m);

/* The mediaType a manifest document declares, else the one its shape implies
 * ("manifests" => index, "layers" or "config" => image manifest). *out is
 * malloc'd. 0, or OCIPUSH_E_INVALID when it is not a JSON object or neither
 * applies, OCIPUSH_E_NOMEM. */
int op_json_manifest_media_type(char **out, const char *data, size_t len);

/* A token server's answer: "token" (or "access_token") into *out_token
 * (malloc'd) and "expires_in" seconds into *out_expires_in (60 when absent,
 * as the spec says). 0, OCIPUSH_E_PROTOCOL (no token), OCIPUSH_E_NOMEM. */
int op_json_token(char **out_token, long *out_expires_in, const char *body, size_t len);

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

/* The referrers tag schema (OCI distribution spec 1.1): the index `text`
 * (NULL: none yet) with `entry` appended, unless a descriptor of that digest
 * is there already (*out_present = 1, *out untouched). 0, OCIPUSH_E_PROTOCOL
 * (the tag holds something that is not an index), OCIPUSH_E_NOMEM. */
int op_json_referrers_add(char **out, size_t *out_len, int *out_present, const char *text,
                          size_t len, const ocipush_descriptor *entry);

/* index.json of an OCI image layout (`text` NULL: a new one) with `tag`
 * (org.opencontainers.image.ref.name) pointing at the manifest descriptor,
 * other entries of that tag removed; `tag` NULL adds the descriptor untagged
 * unless its digest is listed. *out malloc'd. 0, OCIPUSH_E_PROTOCOL (not an
 * index), OCIPUSH_E_NOMEM. */
int op_json_layout_index_put(char **out, const char *text, size_t len, const char *media_type,
                             const char *digest, uint64_t size, const char *tag);
/* The digest `tag` names in index.json, into out (OCIPUSH_DIGEST_BUFSIZE):
 * 0, or OCIPUSH_E_INVALID when no entry has it. */
int op_json_layout_index_find(char *out, const char *text, size_t len, const char *tag);

struct op_yaml;

/* Chart.yaml as the JSON helm pushes as its config blob: helm's Metadata
 * fields in its order, empty ones left out. *out malloc'd. 0,
 * OCIPUSH_E_NOMEM. */
int op_json_helm_config(char **out, size_t *out_len, const struct op_yaml *chart);

#endif
