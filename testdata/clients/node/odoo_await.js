// odoo-await (promise API): find the user by login, reset the password, print the result.
'use strict';
const OdooAwait = require('odoo-await');
const { args, faultOf, report, die, found } = require('./common');

(async () => {
  const a = args();
  const odoo = new OdooAwait({ baseUrl: a.url, db: a.db, username: a.login,
    password: a.password });
  let uid;
  try {
    uid = await odoo.connect();
  } catch (err) {
    die('connect', err);
  }
  let id;
  try {
    id = found(await odoo.searchRead('res.users', [['login', '=', a.target]],
      ['id', 'login']), a.target);
  } catch (err) {
    die('searchRead', err);
  }
  try {
    const result = await odoo.action('res.users', 'action_reset_password', [id]);
    report({ client: 'odoo-await', uid, user_id: id, result, fault: null });
  } catch (err) {
    report({ client: 'odoo-await', uid, user_id: id, result: null, fault: faultOf(err) });
  }
})();
