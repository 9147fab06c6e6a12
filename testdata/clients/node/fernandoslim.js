// @fernandoslim/odoo-jsonrpc: the web client's session routes (password) or /jsonrpc
// (API key, when a sixth argument gives one); find the user, reset, print the result.
'use strict';
const OdooJSONRpc = require('@fernandoslim/odoo-jsonrpc').default;
const { args, faultOf, report, die, found } = require('./common');

(async () => {
  const a = args();
  const apiKey = process.argv[7];
  const config = { baseUrl: a.host, port: a.port, db: a.db, username: a.login };
  if (apiKey) {
    config.apiKey = apiKey;
  } else {
    config.password = a.password;
  }
  const odoo = new OdooJSONRpc(config);
  let info;
  try {
    info = await odoo.connect();
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
  const mode = apiKey ? 'api key' : 'session';
  try {
    const result = await odoo.call_kw('res.users', 'action_reset_password', [[id]]);
    report({ client: '@fernandoslim/odoo-jsonrpc', mode, uid: info.uid, user_id: id,
      result: result === undefined ? null : result, fault: null });
  } catch (err) {
    report({ client: '@fernandoslim/odoo-jsonrpc', mode, uid: info.uid, user_id: id,
      result: null, fault: faultOf(err) });
  }
})();
