/* A tiny header-only test helper for the unit tests.
 *
 * Each CHECK* macro counts one check, prints file:line and what failed to
 * stderr when it fails, and evaluates to 1 if it passed, 0 if not, so a test
 * can skip what depends on it:  if (CHECK_EQ_INT(rc, 0)) { ...use out... }
 * check_done() prints a summary and returns the exit status for main(). */
#ifndef OCIPUSH_TEST_CHECK_H
#define OCIPUSH_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_total_;
static int check_failed_;

static inline int check_fail_(const char *file, int line)
{
    check_failed_++;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    return 0;
}

static inline int check_true_(int ok, const char *expr, const char *file, int line)
{
    check_total_++;
    if (ok)
        return 1;
    check_fail_(file, line);
    fprintf(stderr, "%s\n", expr);
    return 0;
}

static inline int check_int_(long long a, long long b, const char *ea, const char *eb,
                             const char *file, int line)
{
    check_total_++;
    if (a == b)
        return 1;
    check_fail_(file, line);
    fprintf(stderr, "%s == %s: %lld != %lld\n", ea, eb, a, b);
    return 0;
}

static inline int check_u64_(uint64_t a, uint64_t b, const char *ea, const char *eb,
                             const char *file, int line)
{
    check_total_++;
    if (a == b)
        return 1;
    check_fail_(file, line);
    fprintf(stderr, "%s == %s: %" PRIu64 " != %" PRIu64 "\n", ea, eb, a, b);
    return 0;
}

static inline int check_str_(const char *a, const char *b, const char *ea, const char *eb,
                             const char *file, int line)
{
    check_total_++;
    if (a == b || (a && b && strcmp(a, b) == 0))
        return 1;
    check_fail_(file, line);
    fprintf(stderr, "%s == %s:\n    got:  %s%s%s\n    want: %s%s%s\n", ea, eb, a ? "\"" : "",
            a ? a : "(null)", a ? "\"" : "", b ? "\"" : "", b ? b : "(null)", b ? "\"" : "");
    return 0;
}

#define CHECK(cond) check_true_((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b) check_int_((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_U64(a, b) check_u64_((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_STR(a, b) check_str_((a), (b), #a, #b, __FILE__, __LINE__)

/* Run fn on each string and expect want; a failing case names its input. */
static inline void expect_all(int (*fn)(const char *), const char *const *cases, size_t n, int want,
                              const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int got = fn(cases[i]);
        if (!CHECK_EQ_INT(got, want))
            fprintf(stderr, "    %s(\"%s\")\n", what, cases[i]);
    }
}
#define EXPECT_ALL(fn, cases, want) expect_all(fn, cases, sizeof cases / sizeof cases[0], want, #fn)

static inline int check_done(void)
{
    fprintf(stderr, "%d checks, %d failed\n", check_total_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
