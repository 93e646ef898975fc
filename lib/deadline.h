/* The deadline of a public call (ocipush_session_set_timeout): set by the
 * outermost public call made on a session, seen by every request, retry and
 * wait inside it, by the public calls it makes itself on the same session,
 * and by the clones of the session its worker threads use; gone when it
 * returns. */
#ifndef OP_DEADLINE_H
#define OP_DEADLINE_H

#include <stdint.h>

#include "ocipush.h"

typedef struct op_call {
    ocipush_session *s;
    int outermost; /* this call set the deadline, and ends it */
} op_call;

/* A public call begins on `s` (may be NULL: nothing happens): its error
 * message is cleared and, when no call is in progress on `s`, the deadline
 * starts. Use through op_call_scope() (session.h), which ends it too. */
op_call op_call_begin(ocipush_session *s);
void op_call_end(op_call *call);

/* CLOCK_MONOTONIC in milliseconds: a clock set back or forward moves no
 * deadline. */
int64_t op_now_ms(void);

/* Milliseconds left before the deadline: -1 when there is none, 0 once it
 * has passed. */
int64_t op_deadline_left_ms(const ocipush_session *s);

/* The deadline passes now: what the call does next fails on it. For a wait
 * that would outlast it. */
void op_deadline_expire(ocipush_session *s);

/* Record that the deadline passed `when` ("during", "before") `what` ("GET
 * url"), with curl's `detail` (may be NULL); returns OCIPUSH_E_NETWORK. */
int op_deadline_fail(ocipush_session *s, const char *when, const char *what, const char *detail);

#endif
