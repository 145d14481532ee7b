"""Runs localstripe (a stateful Stripe emulator) on 127.0.0.1 only: its own `localstripe`
command listens on every interface and has no option to change that.

localstripe refuses any PaymentIntent parameter it does not model. Mercato's Stripe adapter
sends three of those on every intent, as Stripe requires or recommends: `transfer_group`,
`description`, and `automatic_payment_methods` (never redirect: Mercato has no return URL).
They change nothing about what localstripe emulates, so they are kept on the intent as sent
(Stripe shows them on the object too) and the rest is localstripe's own behaviour.

Usage: python localstripe-loopback.py PORT (not named localstripe.py: that would shadow the package)
"""

import sys

from aiohttp import web
from localstripe import resources
from localstripe.server import app

KEPT = ('transfer_group', 'description', 'automatic_payment_methods')

_init = resources.PaymentIntent.__init__


def _init_keeping(self, *args, **kwargs):
    kept = {name: kwargs.pop(name, None) for name in KEPT}
    _init(self, *args, **kwargs)
    for name, value in kept.items():
        setattr(self, name, value)


resources.PaymentIntent.__init__ = _init_keeping

if __name__ == '__main__':
    web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)
