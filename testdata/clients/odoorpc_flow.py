#!/usr/bin/python3
"""OdooRPC (Debian's python3-odoorpc, so the system python3): sign in through the web
client's session routes, find the user by login, reset the password, print the result.

usage: /usr/bin/python3 odoorpc_flow.py URL DB LOGIN PASSWORD TARGET_LOGIN
Prints one JSON object; exits non-zero when a step before the reset fails.
"""
import json
import sys
import urllib.parse

import odoorpc


def main(url, db, login, password, target):
    u = urllib.parse.urlsplit(url)
    odoo = odoorpc.ODOO(u.hostname, port=u.port)  # asks /web/webclient/version_info
    odoo.login(db, login, password)               # /web/session/authenticate
    users = odoo.execute_kw("res.users", "search_read", [[["login", "=", target]]],
                            {"fields": ["id", "login"]})
    if len(users) != 1 or users[0]["login"] != target:
        raise SystemExit("search_read found %r" % (users,))
    uid = users[0]["id"]

    out = {"client": "odoorpc", "version": odoorpc.__version__, "server": odoo.version,
           "uid": odoo.env.uid, "user_id": uid, "result": None, "fault": None}
    try:
        out["result"] = odoo.execute_kw("res.users", "action_reset_password", [[uid]])
    except odoorpc.error.RPCError as e:
        out["fault"] = {"code": None, "last": str(e)}
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:6])
