/* The public header alone, compiled as strict C99 with -pedantic -Werror. */
#include "ocipush.h"

int main(void)
{
    ocipush_session *s = 0;
    return ocipush_session_new(&s, 0) == OCIPUSH_E_INVALID ? 0 : 1;
}
