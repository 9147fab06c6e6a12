// odoo-xmlrpc-ts (ESM): find the user by login, reset the password, print the result.
import { OdooClient } from 'odoo-xmlrpc-ts';
import common from './common.js';

const { args, faultOf, report, die, found } = common;
const a = args();
const client = new OdooClient({ url: a.url, db: a.db, username: a.login,
  password: a.password });
let uid, id;
try {
  await client.version();
  uid = await client.authenticate();
} catch (err) {
  die('authenticate', err);
}
try {
  id = found(await client.searchRead('res.users', [['login', '=', a.target]],
    { fields: ['id', 'login'] }), a.target);
} catch (err) {
  die('searchRead', err);
}
try {
  const result = await client.execute('res.users', 'action_reset_password', [[id]]);
  report({ client: 'odoo-xmlrpc-ts', uid, user_id: id, result, fault: null });
} catch (err) {
  report({ client: 'odoo-xmlrpc-ts', uid, user_id: id, result: null, fault: faultOf(err) });
}
