#include "yaml_tree.h"

#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "alloc.h"
#include "buf.h"
#include "ocipush.h"

/* Deep enough for any Chart.yaml; keeps a hostile one from the stack. */
#define MAX_DEPTH 32

void op_yaml_free(op_yaml *n)
{
    if (!n)
        return;
    op_free(n->value);
    for (size_t i = 0; i < n->count; i++) {
        if (n->keys)
            op_free(n->keys[i]);
        op_yaml_free(n->items[i]);
    }
    op_free(n->keys);
    op_free(n->items);
    op_free(n);
}

const op_yaml *op_yaml_get(const op_yaml *map, const char *key)
{
    if (!map || map->kind != OP_YAML_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

typedef struct parser {
    yaml_parser_t p;
    char *why;
    size_t cap;
} parser;

static int fail(parser *ps, const char *msg)
{
    snprintf(ps->why, ps->cap, "%s", msg);
    return OCIPUSH_E_INVALID;
}

static int next_event(parser *ps, yaml_event_t *ev)
{
    if (yaml_parser_parse(&ps->p, ev))
        return 0;
    snprintf(ps->why, ps->cap, "YAML error at line %zu: %s", ps->p.problem_mark.line + 1,
             ps->p.problem ? ps->p.problem : "unknown");
    return OCIPUSH_E_INVALID;
}

static int add_child(op_yaml *parent, char *key, op_yaml *child)
{
    op_yaml **items = op_realloc(parent->items, (parent->count + 1) * sizeof *items);
    if (!items)
        return OCIPUSH_E_NOMEM;
    parent->items = items;
    if (parent->kind == OP_YAML_MAPPING) {
        char **keys = op_realloc(parent->keys, (parent->count + 1) * sizeof *keys);
        if (!keys)
            return OCIPUSH_E_NOMEM;
        parent->keys = keys;
        parent->keys[parent->count] = key;
    }
    parent->items[parent->count++] = child;
    return 0;
}

static int parse_node(parser *ps, yaml_event_t *ev, op_yaml **out, int depth);

/* The children of a sequence or mapping, up to its end event. */
static int parse_children(parser *ps, op_yaml *node, int depth)
{
    for (;;) {
        yaml_event_t ev;
        int rc = next_event(ps, &ev);
        if (rc)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        char *key = NULL;
        if (node->kind == OP_YAML_MAPPING) {
            if (ev.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&ev);
                return fail(ps, "a mapping key that is not a plain string");
            }
            key = op_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            yaml_event_delete(&ev);
            if (!key)
                return OCIPUSH_E_NOMEM;
            if ((rc = next_event(ps, &ev))) {
                op_free(key);
                return rc;
            }
        }
        op_yaml *child = NULL;
        rc = parse_node(ps, &ev, &child, depth + 1);
        yaml_event_delete(&ev);
        if (!rc && (rc = add_child(node, key, child)))
            op_yaml_free(child);
        if (rc) {
            op_free(key);
            return rc;
        }
    }
}

/* The node starting with event `ev` (not consumed here). */
static int parse_node(parser *ps, yaml_event_t *ev, op_yaml **out, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(ps, "YAML nested too deep");
    if (ev->type == YAML_ALIAS_EVENT)
        return fail(ps, "YAML aliases are not allowed in Chart.yaml");
    op_yaml *n = op_calloc(1, sizeof *n);
    if (!n)
        return OCIPUSH_E_NOMEM;
    int rc = 0;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n->kind = OP_YAML_SCALAR;
        n->plain = ev->data.scalar.plain_implicit;
        n->value = op_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        rc = n->value ? 0 : OCIPUSH_E_NOMEM;
        break;
    case YAML_SEQUENCE_START_EVENT:
        n->kind = OP_YAML_SEQUENCE;
        rc = parse_children(ps, n, depth);
        break;
    case YAML_MAPPING_START_EVENT:
        n->kind = OP_YAML_MAPPING;
        rc = parse_children(ps, n, depth);
        break;
    default: rc = fail(ps, "unexpected YAML structure");
    }
    if (rc) {
        op_yaml_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int op_yaml_parse(op_yaml **out, const char *text, size_t len, char *why, size_t cap)
{
    parser ps = {.why = why, .cap = cap};
    why[0] = '\0';
    if (!yaml_parser_initialize(&ps.p))
        return OCIPUSH_E_NOMEM;
    yaml_parser_set_input_string(&ps.p, (const unsigned char *)text, len);
    op_yaml *root = NULL;
    int rc = 0;
    /* STREAM-START, DOCUMENT-START, then the root node. */
    for (int started = 0; !rc && !root;) {
        yaml_event_t ev;
        if ((rc = next_event(&ps, &ev)))
            break;
        if (ev.type == YAML_STREAM_END_EVENT)
            rc = fail(&ps, "empty YAML document");
        else if (ev.type == YAML_DOCUMENT_START_EVENT)
            started = 1;
        else if (started && ev.type != YAML_STREAM_START_EVENT)
            rc = parse_node(&ps, &ev, &root, 0);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&ps.p);
    if (rc) {
        op_yaml_free(root);
        return rc;
    }
    *out = root;
    return 0;
}
