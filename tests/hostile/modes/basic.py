"""Modes that help the others: plain misbehaviour any test may combine."""


def fail500(h, route):
    """Every request is answered 500 with a JSON error body."""
    h.body()
    h.answer(500, {"Content-Type": "application/json"},
             b'{"errors":[{"code":"UNKNOWN","message":"hostile: 500"}]}')
    return True


MODES = {"fail500": fail500}
