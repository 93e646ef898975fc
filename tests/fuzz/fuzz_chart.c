/* Chart.yaml from an untrusted chart: the YAML tree, helm's config JSON made
 * from it, and the semantic version check. */
#include "chart.h"
#include "fuzz.h"
#include "helm_config.h"
#include "ocipush.h"
#include "yaml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    op_yaml *tree = NULL;
    char why[256];
    int rc = op_yaml_parse(&tree, (const char *)data, size, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK(rc == 0 || why[0] != '\0');
    if (rc == 0) {
        char *json = NULL;
        size_t len = 0;
        FUZZ_CHECK(op_json_helm_config(&json, &len, tree) == 0);
        FUZZ_CHECK(json && len == strlen(json) && json[0] == '{' && json[len - 1] == '}');
        ocipush_free(json);
        const op_yaml *version = op_yaml_get(tree, "version");
        if (version && version->kind == OP_YAML_SCALAR)
            (void)op_semver_valid(version->value);
        op_yaml_free(tree);
    }
    char *text = fuzz_strndup(data, size);
    if (op_semver_valid(text)) {
        /* A valid version has three numbers, no space, no '+' before a '-'. */
        FUZZ_CHECK(strspn(text, " \t\n") == 0 && strchr(text, '.') != NULL);
    }
    free(text);
    return 0;
}
