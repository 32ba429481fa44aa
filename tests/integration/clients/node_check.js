// SPDX-License-Identifier: MIT
//
// A node-postgres (pg) session exercising what applications do through a PostgreSQL server:
// parameterized and named prepared statements, type parsing, rowMode 'array', transactions,
// errors, LISTEN/NOTIFY between two connections and multi-statement simple queries.
//
// Usage: node node_check.js HOST PORT DBNAME USER PASSWORD TABLE
//
// Prints one line per step, "step {json}", with nothing that varies between two servers or two
// runs (no timings, pids or OIDs), so that the output of a run straight at PostgreSQL and of a run
// through sqledge can be compared line by line. Exits 0 on success, 1 with the error on stderr
// otherwise.

'use strict';

// timestamp and date values are parsed in the process's time zone
process.env.TZ = 'UTC';

const { Client } = require('pg');

const NOTIFY_TIMEOUT_MS = 10000;

function out(step, fields) {
  console.log(step + ' ' + JSON.stringify(fields));
}

// A parsed value as a deterministic [typeof-ish, text] pair.
function show(value) {
  if (value === null) return null;
  if (value instanceof Date) return ['Date', isNaN(value) ? 'Invalid Date' : value.toISOString()];
  if (Buffer.isBuffer(value)) return ['Buffer', '\\x' + value.toString('hex')];
  if (Array.isArray(value)) return ['Array', JSON.stringify(value)];
  if (typeof value === 'object') return ['object', JSON.stringify(value)];
  if (typeof value === 'number' && !Number.isFinite(value)) return ['number', String(value)];
  return [typeof value, value];
}

function showRow(row) {
  const shown = {};
  for (const [key, value] of Object.entries(row)) shown[key] = show(value);
  return shown;
}

function fieldsOf(result) {
  // dataTypeID is a builtin type OID here (stable); tableID would vary between databases
  return result.fields.map((f) => [f.name, f.dataTypeID, f.format]);
}

async function expectError(step, promise) {
  try {
    await promise;
  } catch (err) {
    if (err.code === undefined) throw err; // not a server error
    out(step, {
      code: err.code,
      severity: err.severity,
      message: err.message,
      detail: err.detail === undefined ? null : err.detail,
      constraint: err.constraint === undefined ? null : err.constraint,
    });
    return;
  }
  throw new Error(step + ': the statement succeeded, an error was expected');
}

const ROWS = [
  [1, '9007199254740993', 'alpha', '12345.678', '2024-01-02 03:04:05.123456',
    new Date('2024-06-30T23:59:59.500Z'), true, Buffer.from([0, 0xff, 0x10, 0x5c]),
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', 1.5,
    { k: 'v', a: [1, 2, { b: null }] }],
  [2, null, null, null, null, null, null, null, null, null, null, null],
  [3, -42, 'h\u00e9llo "w\u00f6rld" \\ \'quoted\' \u65e5\u672c \u{1F600}', '-0.001',
    '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', false, Buffer.alloc(0),
    '00000000-0000-0000-0000-000000000000', '1900-01-01', -2.5e-10, JSON.stringify([])],
  [4, '-9223372036854775808', '', '999999999.999', '2038-01-19 03:14:08',
    '2000-02-29 12:00:00.000001+00', true, Buffer.from('bytes\n'),
    'ffffffff-ffff-ffff-ffff-ffffffffffff', '2000-01-01', NaN, {}],
  [5, '9223372036854775807', 'line1\nline2\ttab', 0, '2024-01-02', null, null,
    Buffer.from([1, 2, 3]), null, '2024-12-31', Infinity, 'null'],
  [6, 0, 'six', -12.5, null, '2024-03-31 03:30:00+02', 'f', null,
    '123e4567-e89b-12d3-a456-426614174000', null, 0.1, '{"n": 1.50}'],
  [7, 7, 'seven', '7.007', '2024-07-07T07:07:07', new Date(Date.UTC(2024, 6, 7, 7, 7, 7)), 'yes',
    Buffer.from([7]), '77777777-7777-7777-7777-777777777777', '2024-07-07', 7,
    JSON.stringify([7, 'seven'])],
];

const COLUMNS = 'id, big, txt, num, ts, tstz, flag, bin, uid, day, dbl, doc';

async function run(args) {
  const [host, port, database, user, password, table] = args;
  const config = {
    host, port: Number(port), database, user, password,
    ssl: false, connectionTimeoutMillis: 10000, query_timeout: 60000,
  };
  const a = new Client(config);
  const b = new Client(config);
  const clients = [a, b];
  try {
    await a.connect();
    await b.connect();
    const r = await a.query('SHOW server_version_num');
    out('connect', { server_major: Math.floor(Number(r.rows[0].server_version_num) / 10000) });
    await scenario(a, b, table);
  } finally {
    for (const c of clients) await c.end().catch(() => {});
  }
}

async function scenario(a, b, table) {
  // a primary key from the start: with sqledge running the table is published, and PostgreSQL
  // refuses UPDATE and DELETE on a published table without a replica identity
  let r = await a.query(`CREATE TABLE ${table} (id int4 PRIMARY KEY, big int8, txt text,
    num numeric(12,3), ts timestamp, tstz timestamptz, flag bool, bin bytea, uid uuid,
    day date, dbl float8, doc jsonb)`);
  out('create', { command: r.command, rowCount: r.rowCount });

  // unnamed extended-protocol statements, then a named one reused for every row
  const insert = `INSERT INTO ${table} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
    $10, $11, $12)`;
  for (const row of ROWS.slice(0, 2)) {
    r = await a.query(insert, row);
    out('insert', { id: row[0], command: r.command, rowCount: r.rowCount });
  }
  for (const row of ROWS.slice(2)) {
    r = await a.query({ name: 'insert_row', text: insert, values: row });
    out('insert_named', { id: row[0], command: r.command, rowCount: r.rowCount });
  }

  const byId = { name: 'select_by_id', text: `SELECT ${COLUMNS} FROM ${table} WHERE id = $1` };
  for (let pass = 1; pass <= 2; pass++) {
    for (const row of ROWS) {
      r = await a.query({ ...byId, values: [row[0]] });
      out('select_named', { pass, id: row[0], rowCount: r.rowCount, rows: r.rows.map(showRow) });
    }
  }
  out('select_fields', { fields: fieldsOf(r) });

  r = await a.query({
    text: `SELECT id, txt, num, tstz, bin FROM ${table} WHERE id = ANY($1) ORDER BY id DESC`,
    values: [[1, 3, 5, 7]],
    rowMode: 'array',
  });
  out('select_array', { rows: r.rows.map((row) => row.map(show)), fields: fieldsOf(r) });

  const byText = {
    name: 'select_by_text',
    text: `SELECT id FROM ${table} WHERE txt IS NOT DISTINCT FROM $1 AND ($2::bool IS NULL
      OR flag = $2) ORDER BY id`,
    rowMode: 'array',
  };
  for (const values of [[null, null], ['alpha', true], ['six', null], ['', 't'], ['six', false],
    [null, false]]) {
    r = await a.query({ ...byText, values });
    out('select_by_text', { values, ids: r.rows.map((row) => row[0]) });
  }

  // the same values through the simple query protocol (text results)
  r = await a.query(`SELECT ${COLUMNS} FROM ${table} ORDER BY id`);
  for (const row of r.rows) out('select_simple', showRow(row));

  r = await a.query(`SELECT 1::int2 AS i2, 2::int4 AS i4, 3::int8 AS i8, 1.25::float4 AS f4,
    '-0'::float8 AS f8, 'NaN'::numeric AS nan, 12.50::numeric(5,2) AS num, 'x'::char(3) AS ch,
    'vc'::varchar AS vc, '04:05:06.5'::time AS tm, '1 day 02:00'::interval AS iv,
    '2024-02-29 10:00:00-08'::timestamptz AS tstz, 'infinity'::timestamptz AS inf,
    '{1,NULL,3}'::int4[] AS ints, '{"a b",c}'::text[] AS texts, '{"x": [1, {"y": 2}]}'::json AS js,
    '{"b": 2, "a": 1}'::jsonb AS jb, '\\x00ff'::bytea AS bin, true AS t, NULL::text AS nul,
    '192.0.2.1/24'::inet AS ip, 'ab'::name AS nm, 7::oid AS o`);
  out('types', showRow(r.rows[0]));
  out('types_fields', { fields: fieldsOf(r) });

  // transactions
  await a.query('BEGIN');
  await a.query(`INSERT INTO ${table} (id, txt) VALUES ($1, $2), ($3, $4)`,
    [100, 'rolled back', 101, 'rolled back']);
  r = await a.query(`SELECT count(*) AS n FROM ${table} WHERE id IN (100, 101)`);
  out('tx_before_rollback', { visible: r.rows[0].n });
  await a.query('ROLLBACK');
  r = await a.query(`SELECT count(*) AS n FROM ${table} WHERE id IN (100, 101)`);
  out('tx_after_rollback', { visible: r.rows[0].n });
  await a.query('BEGIN');
  r = await a.query(`INSERT INTO ${table} (id, txt) VALUES ($1, $2), ($3, $4)`,
    [102, 'committed', 103, 'committed']);
  out('tx_insert', { command: r.command, rowCount: r.rowCount });
  r = await a.query('COMMIT');
  out('tx_commit', { command: r.command });
  r = await a.query(`SELECT count(*) AS n FROM ${table} WHERE id IN (102, 103)`);
  out('tx_after_commit', { visible: r.rows[0].n });
  r = await a.query(`UPDATE ${table} SET big = big + 1 WHERE id >= 100`);
  out('update', { command: r.command, rowCount: r.rowCount });
  r = await a.query(`DELETE FROM ${table} WHERE id >= 100`);
  out('delete', { command: r.command, rowCount: r.rowCount });

  // errors
  const insertId = { name: 'insert_id', text: `INSERT INTO ${table} (id) VALUES ($1)` };
  for (let i = 0; i < 2; i++) {
    await expectError('error_unique', a.query({ ...insertId, values: [1] }));
    r = await a.query({ ...insertId, values: [30 + i] });
    out('after_error', { command: r.command, rowCount: r.rowCount });
  }
  await a.query('BEGIN');
  await a.query(`INSERT INTO ${table} (id, txt) VALUES (40, 'in failed transaction')`);
  await expectError('tx_error_unique', a.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]));
  await expectError('tx_error_aborted', a.query('SELECT 1'));
  r = await a.query('ROLLBACK');
  out('tx_error_rollback', { command: r.command });
  r = await a.query(`SELECT count(*) AS n FROM ${table} WHERE id = 40`);
  out('tx_error_after', { visible: r.rows[0].n });
  await expectError('error_syntax', a.query('SELEC 1'));
  await expectError('error_undefined_table', a.query('SELECT * FROM no_such_table_here'));
  const asInt = { name: 'as_int', text: 'SELECT $1::int4 AS v' };
  await expectError('error_bad_parameter', a.query({ ...asInt, values: ['not a number'] }));
  for (const v of ['12', '-3']) {
    r = await a.query({ ...asInt, values: [v] });
    out('after_bad_parameter', { v: r.rows[0].v });
  }
  const divide = { name: 'divide', text: 'SELECT 1/$1::int4 AS v' };
  await expectError('error_division', a.query({ ...divide, values: [0] }));
  r = await a.query({ ...divide, values: [1] });
  out('after_division', { v: r.rows[0].v });

  // LISTEN/NOTIFY between the two connections
  const channel = `${table}_events`;
  const received = [];
  let wake = null;
  b.on('notification', (msg) => {
    received.push({ channel: msg.channel, payload: msg.payload });
    if (wake) wake();
  });
  r = await b.query(`LISTEN ${channel}`);
  out('listen', { command: r.command });
  const waitFor = async (count) => {
    const deadline = Date.now() + NOTIFY_TIMEOUT_MS;
    while (received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${NOTIFY_TIMEOUT_MS} ms waiting for notification ` +
          `${count} on ${channel} (received ${JSON.stringify(received)})`);
      }
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 100));
      });
      wake = null;
    }
  };
  r = await a.query(`NOTIFY ${channel}, 'hello from a'`);
  out('notify', { command: r.command });
  await waitFor(1);
  await a.query('SELECT pg_notify($1, $2)', [channel, 'payload with \'quotes\' and \u00fcnicode']);
  await waitFor(2);
  await a.query('BEGIN');
  await a.query(`NOTIFY ${channel}, 'sent at commit'`);
  await a.query(`NOTIFY ${channel}`);
  // nothing arrives before the commit: a round trip on b shows nothing came in meanwhile
  await b.query('SELECT 1');
  out('notify_before_commit', { received: received.length });
  await a.query('COMMIT');
  await waitFor(4);
  r = await b.query(`UNLISTEN ${channel}`);
  out('unlisten', { command: r.command });
  await a.query(`NOTIFY ${channel}, 'not heard'`);
  await b.query('SELECT 1');
  for (const n of received) out('notification', n);
  out('notifications', { count: received.length });

  // several statements in one simple query
  r = await a.query('SELECT 1 AS a; SELECT 2 AS b');
  out('multi', { results: r.map((x) => ({ command: x.command, rows: x.rows })) });
  r = await a.query(`SELECT 1 AS a, 'x' AS b; UPDATE ${table} SET big = 0 WHERE id <= 3;
    SELECT count(*) AS n FROM ${table}; SET application_name = 'node_check'`);
  out('multi', { results: r.map((x) => ({ command: x.command, rowCount: x.rowCount,
    rows: x.rows })) });
  await expectError('multi_error', a.query(`SELECT 1; SELECT 1/0; SELECT 3`));
  r = await a.query('SELECT current_setting($1) AS name', ['application_name']);
  out('after_multi', { application_name: r.rows[0].name });
  r = await a.query('');
  out('empty_query', { command: r.command, rows: r.rows });

  r = await a.query(`DROP TABLE ${table}`);
  out('drop', { command: r.command });
}

// setup: create TABLE (id, txt); ryw: each row read right after it was written, with
// parameters (the unnamed statement): the read must see the write.
async function readYourWrites(args, mode) {
  const [host, port, database, user, password, table] = args;
  const c = new Client({
    host, port: Number(port), database, user, password,
    ssl: false, connectionTimeoutMillis: 10000, query_timeout: 60000,
  });
  await c.connect();
  try {
    if (mode === 'setup') {
      // a row, so that the copy has the table when the reads begin
      await c.query(`CREATE TABLE ${table} (id int4 PRIMARY KEY, txt text)`);
      await c.query(`INSERT INTO ${table} VALUES (0, 'setup')`);
      return;
    }
    for (let i = 0; i < 30; i++) {
      const id = 100000 + i;
      await c.query(`INSERT INTO ${table} (id, txt) VALUES ($1, $2)`, [id, `ryw ${i}`]);
      const r = await c.query(`SELECT id, txt FROM ${table} WHERE id = $1`, [id]);
      out('ryw', { id, row: r.rows.map((row) => `${row.id}|${row.txt}`).join(',') });
    }
  } finally {
    await c.end().catch(() => {});
  }
}

const args = process.argv.slice(2);
const mode = args.length === 7 ? args.pop() : null;
if (args.length !== 6 || (mode !== null && mode !== 'setup' && mode !== 'ryw')) {
  console.error('usage: node node_check.js HOST PORT DBNAME USER PASSWORD TABLE [setup | ryw]');
  process.exit(2);
}
(mode ? readYourWrites(args, mode) : run(args)).then(
  () => process.exit(0),
  (err) => {
    console.error('node_check failed: ' + (err && err.stack ? err.stack : err));
    process.exit(1);
  });
