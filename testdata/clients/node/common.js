// Shared by the client scripts: the command line and the one JSON line each prints.
// usage: node <script> URL DB LOGIN PASSWORD TARGET_LOGIN
'use strict';

function args() {
  const [url, db, login, password, target] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node <script> URL DB LOGIN PASSWORD TARGET_LOGIN');
    process.exit(2);
  }
  const u = new URL(url);
  return { url, host: u.protocol + '//' + u.hostname, port: Number(u.port), db, login,
    password, target };
}

// faultOf keeps what a caller can read of a failed call: the fault code when the client
// keeps it, and the last line of the message (Odoo puts the exception there).
function faultOf(err) {
  const text = String(err && (err.faultString || err.message) || err);
  const lines = text.trim().split('\n');
  return { code: err && err.faultCode !== undefined ? err.faultCode : null,
    last: lines[lines.length - 1] };
}

function report(out) {
  console.log(JSON.stringify(out));
}

function die(step, err) {
  console.error(step + ': ' + (err && err.stack || JSON.stringify(err)));
  process.exit(1);
}

// found returns the id of the one user search_read returned for the login.
function found(users, target) {
  if (!Array.isArray(users) || users.length !== 1 || users[0].login !== target) {
    die('search_read', 'expected one user ' + target + ', got ' + JSON.stringify(users));
  }
  return users[0].id;
}

module.exports = { args, faultOf, report, die, found };
