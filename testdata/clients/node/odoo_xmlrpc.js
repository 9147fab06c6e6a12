// odoo-xmlrpc (callback API): find the user by login, reset the password, print the result.
'use strict';
const Odoo = require('odoo-xmlrpc');
const { args, faultOf, report, die, found } = require('./common');

const a = args();
const odoo = new Odoo({ url: a.host, port: a.port, db: a.db, username: a.login,
  password: a.password });
odoo.connect((err, uid) => {
  if (err) die('connect', err);
  odoo.execute_kw('res.users', 'search_read',
    [[[['login', '=', a.target]]], { fields: ['id', 'login'], limit: 1 }], (err, users) => {
      if (err) die('search_read', err);
      const id = found(users, a.target);
      odoo.execute_kw('res.users', 'action_reset_password', [[[id]]], (err, result) => {
        report({ client: 'odoo-xmlrpc', uid, user_id: id,
          result: err ? null : result, fault: err ? faultOf(err) : null });
      });
    });
});
