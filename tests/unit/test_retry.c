/* The retry policy's waits and the budget every level of an operation draws
 * its tries from (retry.h). No waiting: only what the waits would be. */
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "ocipush.h"
#include "retry.h"
#include "session.h"

static ocipush_session *new_session(int attempts, long base_ms, long max_ms)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new(&s, "127.0.0.1:1"), OCIPUSH_OK))
        return NULL;
    CHECK_EQ_INT(ocipush_session_set_retry(s, attempts, base_ms, max_ms, 0), OCIPUSH_OK);
    return s;
}

/* Retry-After sets the wait, but never past the maximum delay: a server
 * asking for 999999 s does not hold a push longer than the user allowed. */
static void test_retry_after_capped(void)
{
    ocipush_session *s = new_session(3, 10, 1000);
    if (!s)
        return;
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 1, "999999"), 1000);
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 1, "1"), 1000);
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 1, "0"), 0);
    /* A date far ahead, as a server that means "not today" sends. */
    char date[64];
    time_t later = time(NULL) + 86400;
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&later, &tm));
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 1, date), 1000);
    ocipush_session_free(s);

    s = new_session(3, 10, 5000);
    if (!s)
        return;
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 1, "2"), 2000); /* under the cap: as asked */
    /* Without Retry-After (or an unusable one): the backoff, no jitter. */
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 1, NULL), 10);
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 3, "soon"), 40);
    CHECK_EQ_INT(op_retry_delay_ms(&s->ctx, 20, NULL), 5000);
    ocipush_session_free(s);
}

/* max_attempts tries in all, the first included, whoever takes them. */
static void test_budget(void)
{
    ocipush_session *s = new_session(3, 0, 0);
    if (!s)
        return;
    op_retry_budget b = op_retry_budget_of(&s->ctx);
    CHECK(op_retry_budget_left(&b));
    CHECK_EQ_INT(op_retry_budget_take(&b), 1);
    CHECK_EQ_INT(op_retry_budget_take(&b), 2);
    CHECK(!op_retry_budget_left(&b));
    CHECK_EQ_INT(op_retry_budget_take(&b), 0);
    /* Spent: nothing waited, nothing taken. */
    CHECK_EQ_INT(op_retry_next(&s->ctx, &b, NULL, "test"), OP_RETRY_SPENT);
    CHECK_EQ_INT(b.used, 3);

    /* A wait of 0 ms (base delay 0) is taken at once. */
    op_retry_budget c = op_retry_budget_of(&s->ctx);
    CHECK_EQ_INT(op_retry_next(&s->ctx, &c, NULL, "test"), OCIPUSH_OK);
    CHECK_EQ_INT(c.used, 2);
    ocipush_session_free(s);

    s = new_session(1, 0, 0); /* 1: never again */
    if (!s)
        return;
    op_retry_budget once = op_retry_budget_of(&s->ctx);
    CHECK(!op_retry_budget_left(&once));
    CHECK_EQ_INT(op_retry_budget_take(&once), 0);
    ocipush_session_free(s);
}

int main(void)
{
    test_retry_after_capped();
    test_budget();
    return check_done();
}
