#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs the dboxd end-to-end tests (test_*.py here) and prints TAP.

Each module defines setup() returning a context (usually a started
dboxd_test.Server), teardown(ctx), and test functions test_<behaviour>(ctx)
run in file order. A module whose setup fails reports its tests as failed.
usage: run.py [module...]"""

import importlib
import inspect
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DEFAULT = ["test_process", "test_auth", "test_protocol", "test_extensions",
           "test_badinput", "test_clients", "test_dovecot", "test_lmtp",
           "test_async", "test_load"]


def tests_of(mod):
    funcs = [(n, f) for n, f in inspect.getmembers(mod, inspect.isfunction)
             if n.startswith("test_") and f.__module__ == mod.__name__]
    funcs.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    return funcs


def main():
    names = sys.argv[1:] or DEFAULT
    n = 0
    failed = 0
    for name in names:
        mod = importlib.import_module(name)
        tests = tests_of(mod)
        ctx = None
        setup_error = None
        try:
            ctx = mod.setup()
        except Exception:
            setup_error = traceback.format_exc()
        for tname, func in tests:
            n += 1
            label = "%s: %s" % (name, tname[5:].replace("_", " "))
            if getattr(func, "skip", None):
                print("ok %d - %s # SKIP %s" % (n, label, func.skip))
                continue
            if setup_error is not None:
                print("not ok %d - %s" % (n, label))
                for line in setup_error.splitlines():
                    print("# " + line)
                failed += 1
                continue
            start = time.time()
            try:
                result = func(ctx)
                if isinstance(result, str) and result.startswith("SKIP"):
                    print("ok %d - %s # %s" % (n, label, result))
                else:
                    print("ok %d - %s" % (n, label))
            except Exception:
                failed += 1
                print("not ok %d - %s" % (n, label))
                for line in traceback.format_exc().splitlines()[-12:]:
                    print("# " + line)
                if hasattr(ctx, "log_tail"):
                    for line in ctx.log_tail(10).splitlines():
                        print("#   log: " + line)
            sys.stdout.flush()
            if time.time() - start > 30:
                print("# (slow: %.1f s)" % (time.time() - start))
        try:
            if ctx is not None:
                mod.teardown(ctx)
        except Exception:
            n += 1
            failed += 1
            print("not ok %d - %s: teardown" % (n, name))
            for line in traceback.format_exc().splitlines()[-8:]:
                print("# " + line)
    print("1..%d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
