/* The Helm chart parsers: semantic versions, Chart.yaml, helm's config JSON. */
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "check.h"
#include "helm_config.h"
#include "ocipush.h"
#include "yaml_tree.h"

static void test_semver(void)
{
    const char *good[] = {"0.0.0",
                          "1.2.3",
                          "v1.2.3",
                          "10.20.30",
                          "1.0.0-alpha",
                          "1.0.0-alpha.1",
                          "1.0.0-0.3.7",
                          "1.0.0-x.7.z.92",
                          "1.0.0+20130313144700",
                          "1.0.0-beta+exp.sha.5114f85",
                          "1.0.0+001",
                          NULL};
    const char *bad[] = {"",       "1",       "1.2",      "1.2.3.4", "01.2.3",     "1.02.3",
                         "1.2.03", "1.2.3-",  "1.2.3-01", "1.2.3+",  "1.2.3-a..b", "1.2.3-a_b",
                         "a.b.c",  "vv1.2.3", " 1.2.3",   "1.2.3 ",  NULL};
    for (size_t i = 0; good[i]; i++)
        if (!CHECK(op_semver_valid(good[i])))
            fprintf(stderr, "    rejected '%s'\n", good[i]);
    for (size_t i = 0; bad[i]; i++)
        if (!CHECK(!op_semver_valid(bad[i])))
            fprintf(stderr, "    accepted '%s'\n", bad[i]);
}

static void test_helm_config(void)
{
    const char *chart = "type: library\n"
                        "version: 1.0.0\n"
                        "name: c\n"
                        "unknownField: dropped\n"
                        "deprecated: true\n"
                        "keywords: []\n"
                        "appVersion: 1.10\n"
                        "dependencies:\n"
                        "  - name: d\n"
                        "    alias: dd\n"
                        "    version: \"1.0\"\n"
                        "    import-values:\n"
                        "      - child: a\n"
                        "        parent: b\n";
    op_yaml *y = NULL;
    char why[128], *json = NULL;
    size_t len = 0;
    if (!CHECK_EQ_INT(op_yaml_parse(&y, chart, strlen(chart), why, sizeof why), 0))
        return;
    if (CHECK_EQ_INT(op_json_helm_config(&json, &len, y), 0)) {
        /* helm's field order; strings stay strings ("1.10", not 1.1). */
        CHECK_EQ_STR(json, "{\"name\":\"c\",\"version\":\"1.0.0\",\"appVersion\":\"1.10\","
                           "\"deprecated\":true,\"dependencies\":[{\"name\":\"d\","
                           "\"version\":\"1.0\",\"import-values\":[{\"child\":\"a\","
                           "\"parent\":\"b\"}],\"alias\":\"dd\"}],\"type\":\"library\"}");
        CHECK_EQ_INT(len, strlen(json));
        free(json);
    }
    op_yaml_free(y);
}

static void test_yaml_refusals(void)
{
    op_yaml *y = NULL;
    char why[128];
    const char *alias = "a: &x [1, 2]\nb: *x\n";
    CHECK_EQ_INT(op_yaml_parse(&y, alias, strlen(alias), why, sizeof why), OCIPUSH_E_INVALID);
    CHECK(strstr(why, "alias") != NULL);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    CHECK_EQ_INT(op_yaml_parse(&y, deep, sizeof deep, why, sizeof why), OCIPUSH_E_INVALID);
    const char *broken = "name: [unclosed";
    CHECK_EQ_INT(op_yaml_parse(&y, broken, strlen(broken), why, sizeof why), OCIPUSH_E_INVALID);
    CHECK(strstr(why, "line") != NULL);
    CHECK_EQ_INT(op_yaml_parse(&y, "", 0, why, sizeof why), OCIPUSH_E_INVALID);
    const char *mapkey = "? [a]\n: b\n";
    CHECK_EQ_INT(op_yaml_parse(&y, mapkey, strlen(mapkey), why, sizeof why), OCIPUSH_E_INVALID);
}

int main(void)
{
    test_semver();
    test_helm_config();
    test_yaml_refusals();
    return check_done();
}
