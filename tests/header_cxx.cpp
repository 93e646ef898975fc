// The public header compiled as C++ (extern "C", no C-only constructs).
#include "ocipush.h"

int main()
{
    ocipush_session *s = nullptr;
    return ocipush_session_new(&s, nullptr) == OCIPUSH_E_INVALID ? 0 : 1;
}
