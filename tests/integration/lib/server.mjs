// tests/integration/lib/server.mjs — start and stop `tkms serve` for tests.
//
// Every process started here is remembered by PID (with its start time, so a
// recycled PID is never killed) and killed when the test process exits, also on
// failure. Fresh data directories live under os.tmpdir() and are removed at exit
// unless TKMS_KEEP_DATA=1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILD = path.resolve(REPO, process.env.TKMS_BUILD || 'build');
export const TKMS_BIN = path.join(BUILD, 'tkms');
export const ENCLAVE_BIN = path.join(BUILD, 'tkms-enclave');

const STDERR_KEEP = 64 * 1024; // bytes of stderr kept for error messages

// ---- process bookkeeping -------------------------------------------------

/** PID -> start time (field 22 of /proc/PID/stat) of every process we own. */
const owned = new Map();
const tmpDirs = new Set();

function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return null;
  }
}

/** True when pid is alive (not a zombie) and still the process we recorded. */
export function isAlive(pid, start) {
  const st = procStat(pid);
  if (!st || st.state === 'Z') return false;
  return start === undefined || st.start === start;
}

function remember(pid) {
  const st = procStat(pid);
  if (st) owned.set(pid, st.start);
}

function killOwned(pid, signal = 'SIGKILL') {
  const start = owned.get(pid);
  if (start !== undefined && !isAlive(pid, start)) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Direct children of pid (scans /proc: this kernel may lack task/<tid>/children). */
export function childrenOf(pid) {
  const out = [];
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(Number(e));
    if (st && st.ppid === pid && st.state !== 'Z') out.push(Number(e));
  }
  return out;
}

/** All descendants of pid, depth first. */
export function descendantsOf(pid, depth = 0) {
  if (depth > 8) return [];
  const out = [];
  for (const c of childrenOf(pid)) {
    out.push(c, ...descendantsOf(c, depth + 1));
  }
  return out;
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function killAllOwned() {
  for (const pid of owned.keys()) killOwned(pid, 'SIGKILL');
  owned.clear();
}

export function removeTmpDirs() {
  if (process.env.TKMS_KEEP_DATA === '1') return;
  for (const d of tmpDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tmpDirs.clear();
}

process.on('exit', () => {
  killAllOwned();
  removeTmpDirs();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAllOwned();
    removeTmpDirs();
    process.exit(130);
  });
}

/** A fresh directory under os.tmpdir(), removed at exit. */
export function makeTmpDir(prefix = 'tkms-it-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(d);
  return d;
}

// ---- starting the server -------------------------------------------------

function serveArgs({ dataDir, enclave, listen = '127.0.0.1:0', extraArgs = [] }) {
  const args = ['serve', '--data-dir', dataDir, '--listen', listen];
  if (enclave) args.push('--enclave', enclave);
  return args.concat(extraArgs);
}

function spawnServe(opts) {
  const bin = opts.bin || TKMS_BIN;
  if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist (build it first: make)`);
  const proc = spawn(bin, serveArgs(opts), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env || {}) },
  });
  if (proc.pid) remember(proc.pid);
  let stderr = '';
  let stdout = '';
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    if (opts.echo) process.stderr.write(d);
  });
  proc.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.length > STDERR_KEEP) stdout = stdout.slice(-STDERR_KEEP);
  });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
    proc.on('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  return {
    proc,
    exited,
    get stderr() {
      return stderr;
    },
    get stdout() {
      return stdout;
    },
  };
}

const LISTEN_RE = /tkms: listening on (http:\/\/127\.0\.0\.1:(\d+))/;

/**
 * Start `tkms serve`. opts:
 *   dataDir   reuse this data directory (default: a fresh one, removed at exit)
 *   enclave   pass --enclave PATH
 *   extraArgs more arguments after --listen
 *   timeoutMs how long to wait for the listening line (default 15 s)
 *   waitHealthy also wait until /v1/health says ok (default true)
 * Returns {url, port, dataDir, proc, pid, stop(), kill(signal), corePid(), exited, stderr}.
 */
export async function start(opts = {}) {
  const dataDir = opts.dataDir || makeTmpDir();
  const timeoutMs = opts.timeoutMs ?? 15000;
  const s = spawnServe({ ...opts, dataDir });
  const { proc } = s;

  const listening = await new Promise((resolve) => {
    let buf = '';
    const timer = setTimeout(() => resolve({ timeout: true }), timeoutMs);
    const onData = (d) => {
      buf += d;
      const m = LISTEN_RE.exec(buf);
      if (m) {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        resolve({ url: m[1], port: Number(m[2]) });
      }
    };
    proc.stdout.on('data', onData);
    s.exited.then((r) => {
      clearTimeout(timer);
      resolve({ exit: r });
    });
  });

  if (!listening.url) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    const why = listening.timeout
      ? `no listening line within ${timeoutMs} ms`
      : `exited early (code ${listening.exit.code}, signal ${listening.exit.signal}${
          listening.exit.error ? ', ' + listening.exit.error.message : ''
        })`;
    const err = new Error(
      `tkms serve ${why}\n--- stdout ---\n${s.stdout}\n--- stderr ---\n${s.stderr}`,
    );
    err.exit = listening.exit;
    err.stderr = s.stderr;
    throw err;
  }

  let lastCores = [];
  const server = {
    url: listening.url,
    port: listening.port,
    dataDir,
    proc,
    pid: proc.pid,
    exited: s.exited,
    get stderr() {
      return s.stderr;
    },
    get stdout() {
      return s.stdout;
    },
    /** PID of the trusted core (the host's child process), or null. */
    corePid() {
      const kids = childrenOf(proc.pid);
      for (const k of kids) remember(k);
      lastCores = kids;
      const core = kids.find((k) => /tkms-enclave/.test(cmdline(k))) ?? kids[0] ?? null;
      return core;
    },
    /** Send a signal to the host; SIGKILL also kills the core it leaves behind. */
    async kill(signal = 'SIGKILL') {
      const desc = descendantsOf(proc.pid);
      for (const d of desc) remember(d);
      killOwned(proc.pid, signal);
      if (signal === 'SIGKILL') {
        await waitExit(s.exited, 5000);
        // The core should notice its host is gone; never leave one behind.
        for (const d of desc.concat(lastCores)) killOwned(d, 'SIGKILL');
      }
    },
    /** SIGTERM, wait up to graceMs, then SIGKILL. Resolves to {code, signal}. */
    async stop(graceMs = 10000) {
      const desc = descendantsOf(proc.pid);
      for (const d of desc) remember(d);
      killOwned(proc.pid, 'SIGTERM');
      let r = await waitExit(s.exited, graceMs);
      if (!r) {
        killOwned(proc.pid, 'SIGKILL');
        r = await waitExit(s.exited, 5000);
      }
      // Give the core a moment to exit on its own, then make sure.
      const deadline = Date.now() + 3000;
      for (const d of desc) {
        while (isAlive(d, owned.get(d)) && Date.now() < deadline) await sleep(20);
        killOwned(d, 'SIGKILL');
      }
      return r || { code: null, signal: 'SIGKILL' };
    },
  };
  server.corePid();
  if (opts.waitHealthy !== false) {
    try {
      await waitHealthy(server.url, { timeoutMs });
    } catch (e) {
      await server.kill('SIGKILL');
      throw new Error(`${e.message}\n--- stderr ---\n${s.stderr}`);
    }
  }
  return server;
}

async function waitExit(exited, ms) {
  let timer;
  const r = await Promise.race([
    exited,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

/**
 * Run `tkms serve` when it is expected to refuse to start. Resolves to
 * {code, signal, stdout, stderr, listened}; if it starts listening instead it is
 * killed and listened is true.
 */
export async function startExpectFailure(opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 15000;
  const s = spawnServe(opts);
  let listened = false;
  const onData = () => {
    if (LISTEN_RE.test(s.stdout)) {
      listened = true;
      try {
        process.kill(s.proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  s.proc.stdout.on('data', onData);
  let r = await waitExit(s.exited, timeoutMs);
  if (!r) {
    const desc = descendantsOf(s.proc.pid);
    for (const d of desc) remember(d);
    try {
      process.kill(s.proc.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    r = (await waitExit(s.exited, 5000)) || {};
    for (const d of desc) killOwned(d);
    return { ...r, stdout: s.stdout, stderr: s.stderr, listened, timedOut: true };
  }
  return { ...r, stdout: s.stdout, stderr: s.stderr, listened, timedOut: false };
}

/** Poll GET /v1/health until it answers 200 {"status":"ok"}. */
export async function waitHealthy(url, { timeoutMs = 15000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.status === 200) {
        const j = JSON.parse(text);
        if (j.status === 'ok') return j;
      }
      last = `${res.status} ${text.slice(0, 200)}`;
    } catch (e) {
      last = String(e.cause?.code || e.message);
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url}/v1/health not ok within ${timeoutMs} ms (last: ${last})`);
}

/** Files of a data directory: name -> {size, sha256}. */
export async function snapshotDir(dir, filter = () => true) {
  const { createHash } = await import('node:crypto');
  const out = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    if (!st.isFile() || !filter(name)) continue;
    out[name] = {
      size: st.size,
      sha256: createHash('sha256').update(fs.readFileSync(p)).digest('hex'),
    };
  }
  return out;
}
