#!/usr/bin/env python3
"""Drive odoo-shim's whole reset flow with Python's standard xmlrpc.client, as an Odoo
script would: sign in as an administrator, find the user by login, reset it, read the
mail from a catcher's inbox, open the link, post the form, and sign in with the new
password.

usage: reset_flow.py URL DB ADMIN_LOGIN ADMIN_PASSWORD USER_ID USER_LOGIN USER_EMAIL INBOX_URL
                     NEW_PASSWORD
Prints one JSON object describing what happened; exits non-zero on any failure.
"""
import html
import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request
import xmlrpc.client


def main(url, db, admin, admin_pw, user_id, user_login, user_email, inbox, new_pw):
    common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common")
    version = common.version()
    uid = common.authenticate(db, admin, admin_pw, {})
    if not uid:
        raise SystemExit("admin login failed")

    models = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/object")
    found = models.execute_kw(db, uid, admin_pw, "res.users", "search_read",
                              [[["login", "=", user_login]]], {"fields": ["id", "login"]})
    if [u["id"] for u in found] != [int(user_id)]:
        raise SystemExit("search_read for %r found %r" % (user_login, found))
    # Odoo 15-17 return None, which their XML-RPC cannot marshal: the caller gets fault 1
    # after the mail has gone, and scripts written for them take that fault as success.
    action_fault = None
    try:
        action = models.execute_kw(db, uid, admin_pw, "res.users", "action_reset_password",
                                   [[int(user_id)]])
    except xmlrpc.client.Fault as e:
        if e.faultCode != 1 or "cannot marshal None" not in e.faultString:
            raise
        action, action_fault = None, e.faultString.splitlines()[-1]

    mail = json.load(urllib.request.urlopen(inbox + "/latest.json?to=" +
                                            urllib.parse.quote(user_email)))
    link = next(l for l in mail["links"] if "/web/reset_password" in l)
    link = url + link[link.index("/web/reset_password"):]

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = browser.open(link).read().decode()
    fields = {m[0]: html.unescape(m[1]) for m in
              re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page)}
    if fields.get("login") != user_login:
        raise SystemExit("the form shows login %r" % fields.get("login"))
    fields.update(password=new_pw, confirm_password=new_pw)
    done = browser.open(url + "/web/reset_password",
                        urllib.parse.urlencode(fields).encode()).read().decode()
    changed = "alert-success" in done

    try:
        models.execute_kw(db, uid, "wrong", "res.users", "action_reset_password", [[1]])
        fault = None
    except xmlrpc.client.Fault as e:
        fault = [e.faultCode, e.faultString]

    new_uid = common.authenticate(db, user_login, new_pw, {})
    print(json.dumps({"server_version": version["server_version"], "admin_uid": uid,
                      "action": action, "action_fault": action_fault, "subject": mail["subject"], "changed": changed,
                      "bad_password_fault": fault, "new_uid": new_uid}))


if __name__ == "__main__":
    main(*sys.argv[1:10])
