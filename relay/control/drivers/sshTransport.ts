/**
 * One SSH login per ssh:// Docker target, instead of one per Docker API call. docker-modem's own ssh
 * transport makes a new ssh2 Client for every HTTP request (a TCP connection, key exchange, login and a
 * `docker system dial-stdio` process on the host, all torn down when the response ends): an exec, three
 * API calls, took 613-1064 ms against 42-84 ms on the unix socket, and the relay polls every target about
 * once a second. Here a target keeps one SSH connection and each HTTP connection is one exec channel
 * running `docker system dial-stdio` on it, which costs a channel open and the CLI's start, not a login.
 * The CLI's start is most of what is left (the host's shell and its rc files, then docker: about 250 ms
 * on the test machine; the channel open itself 1-2 ms), and every exec needs a new connection (its
 * hijacked stream is not reusable), so one spare channel is opened ahead, after each one handed out.
 *
 * The pieces:
 * - `SshTransport` holds the connection: made on the first request (concurrent first requests wait for
 *   the same login), dropped when it ends or fails (the next request logs in again), closed after
 *   `idleMs` with no request and no channel in use, and by close(). A login's failure goes to every
 *   request waiting for it, as ssh2 raised it (its `level` says handshake, authentication, ...), so
 *   dockerConnection.ts's sshErrorToControl words it as before.
 * - Its `agent`, an http.Agent for docker-modem (`protocol: 'http'`, `agent`): createConnection opens a
 *   channel; keep-alive lets the next plain API call reuse an idle one; a hijacked exec stream leaves the
 *   agent with its channel (Node's 'upgrade'), which closes when the engine ends the stream.
 * - A bound: at most `maxChannels` channels open at once (sshd allows MaxSessions, 10 by default, per
 *   connection), the rest wait in order; an idle kept-alive channel is given up rather than parked while
 *   a request waits for a slot, and no spare is opened while one waits or only one slot is left.
 *
 * Secrets: the ssh2 options (private key, agent socket, host verifier) live in a private field, so pino,
 * JSON.stringify and util.inspect of the transport or its agent never reach them.
 */
import http from 'node:http';
import { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';

/** What each channel runs on the host: the docker CLI relaying its stdio to the engine, as `docker -H ssh://` does. */
export const DIAL_STDIO = 'docker system dial-stdio';

export interface SshTransportLimits {
  /** Channels open at once (in a request, idle in the agent, or a hijacked exec stream); more wait. Default 8, under sshd's MaxSessions 10. */
  maxChannels?: number;
  /** Idle channels the agent keeps for the next request. Default 2 (each is a docker CLI process on the host). */
  maxIdleChannels?: number;
  /** The connection is closed after this long with no request and no channel in use. Default 60 000 ms. */
  idleMs?: number;
  /** Channels opened ahead of need, so a request for a new connection finds dial-stdio already started. Default 1; 0: none. */
  spareChannels?: number;
  /** SSH keepalive interval: a connection whose peer went silent fails after keepaliveCountMax (3) of them. Default 15 000 ms. */
  keepaliveMs?: number;
}

export const SSH_TRANSPORT_DEFAULTS: Required<SshTransportLimits> = { maxChannels: 8, maxIdleChannels: 2, idleMs: 60_000, spareChannels: 1, keepaliveMs: 15_000 };

/** How long close() waits for the server to acknowledge the disconnect before dropping the socket. */
const CLOSE_GRACE_MS = 2000;

/** An exec channel dressed as the net.Socket Node's http client and agent expect. */
interface ChannelSocket extends ClientChannel {
  destroy(error?: Error): this;
  setKeepAlive(): this;
  setNoDelay(): this;
  setTimeout(): this;
  ref(): this;
  unref(): this;
}

interface Connection {
  client: ssh2.Client;
  /** Settles once: the login's outcome. */
  ready: Promise<Connection>;
  /** Resolves when the client closed (or never got a socket). */
  closed: Promise<void>;
  isClosed: boolean;
  /** Its open channels, ended with an error when the connection goes. */
  channels: Set<ChannelSocket>;
}

export class SshTransportClosedError extends Error {
  override name = 'SshTransportClosedError';
}

/**
 * What a request on a channel gets when the SSH connection under it ends (the host went away, sshd was
 * restarted, a keepalive went unanswered): ECONNRESET, which the driver reports as the engine out of
 * reach. Without it Node's http would say "socket hang up", which sshErrorToControl reads as a host
 * that cannot run dial-stdio.
 */
export class SshConnectionLostError extends Error {
  override name = 'SshConnectionLostError';
  readonly code = 'ECONNRESET';
}

export class SshTransport {
  /** The http.Agent to give docker-modem: each of its connections is a dial-stdio channel on this transport. */
  readonly agent: http.Agent;
  readonly #config: ConnectConfig;
  readonly #limits: Required<SshTransportLimits>;
  #conn: Connection | null = null;
  /** Channels open or being opened (what maxChannels bounds). */
  #slots = 0;
  readonly #waiting: { go: () => void; fail: (e: Error) => void }[] = [];
  /** Channels idle in the agent's free list. */
  readonly #idle = new Set<ChannelSocket>();
  /** Channels opened ahead, not yet handed out (oldest first), and how many are being opened. */
  readonly #spares: ChannelSocket[] = [];
  #sparesOpening = 0;
  #idleTimer: NodeJS.Timeout | null = null;
  #lastUse = 0;
  #closed = false;
  #logins = 0;

  /** `config`: ssh2's connect options (host, port, username, privateKey or agent, hostVerifier). */
  constructor(config: ConnectConfig, limits: SshTransportLimits = {}) {
    this.#config = config;
    this.#limits = { ...SSH_TRANSPORT_DEFAULTS, ...limits };
    this.agent = new DialStdioAgent(
      { open: () => this.#openChannel(), park: (s) => this.#park(s), unpark: (s) => this.#unpark(s) },
      // fifo: Node's agent skips destroyed sockets only at the head of the free list.
      { keepAlive: true, maxSockets: this.#limits.maxChannels, maxFreeSockets: this.#limits.maxIdleChannels, scheduling: 'fifo' },
    );
  }

  /** SSH logins completed so far (a diagnostic, and what the tests count). */
  get logins(): number {
    return this.#logins;
  }

  /** Channels open now (in use, idle in the agent, or being opened). */
  get channels(): number {
    return this.#slots;
  }

  /** Whether an SSH connection is up or being made. */
  get connected(): boolean {
    return this.#conn !== null;
  }

  /** The ssh2 options the connection is made with (a getter: not an own property, so never serialised). */
  get connectConfig(): Readonly<ConnectConfig> {
    return this.#config;
  }

  /**
   * Ends the connection and every channel; requests waiting for a slot fail, and so does every later
   * one (a closed transport never reconnects behind its owner's back). Resolves once the socket closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopIdleTimer();
    const closed = new SshTransportClosedError('the ssh transport is closed');
    for (const w of this.#waiting.splice(0)) w.fail(closed);
    const conn = this.#conn;
    this.#conn = null;
    // Each request still on a channel (a hijacked exec stream included) fails with why.
    for (const s of conn?.channels ?? []) s.destroy(closed);
    this.agent.destroy();
    if (conn) await endConnection(conn);
  }

  async #openChannel(): Promise<ChannelSocket> {
    if (this.#closed) throw new SshTransportClosedError('the ssh transport is closed');
    this.#touch();
    // A spare destroyed because its connection is going stays listed until its close: skipped.
    let spare = this.#spares.shift();
    while (spare?.destroyed) spare = this.#spares.shift();
    if (spare) {
      this.#openSpares();
      return spare;
    }
    await this.#takeSlot();
    let conn: Connection;
    let ch: ClientChannel;
    try {
      // A connection that died just before (its close not yet seen when this request came) is
      // replaced once; a login that fails is not retried here (the next request tries again).
      for (let attempt = 0; ; attempt++) {
        conn = await this.#connection();
        try {
          ch = await execDialStdio(conn.client);
          break;
        } catch (e) {
          if (attempt > 0 || this.#closed || (this.#conn === conn && !conn.isClosed)) throw e;
        }
      }
    } catch (e) {
      this.#releaseSlot();
      throw e;
    }
    const s = this.#adopt(ch, conn);
    if (this.#closed || conn.isClosed) {
      s.destroy();
      throw this.#closed ? new SshTransportClosedError('the ssh transport is closed') : new SshConnectionLostError(`the SSH connection to ${this.#where()} was lost`);
    }
    this.#openSpares();
    return s;
  }

  /** Tracks a channel just opened on `conn` (its slot already taken) until it closes. */
  #adopt(ch: ClientChannel, conn: Connection): ChannelSocket {
    const s = asSocket(ch);
    conn.channels.add(s);
    s.once('close', () => {
      conn.channels.delete(s);
      this.#idle.delete(s);
      const spare = this.#spares.indexOf(s);
      if (spare >= 0) this.#spares.splice(spare, 1);
      this.#releaseSlot();
      this.#touch();
    });
    // An idle or spare channel whose command ended (the engine restarted, dial-stdio died) must not be
    // handed to the next request: destroyed, the agent skips it until its close removes it.
    s.on('end', () => {
      if (this.#idle.has(s) || this.#spares.includes(s)) s.destroy();
    });
    return s;
  }

  /**
   * Opens spare channels up to spareChannels, on the connection there is (never a login of its own),
   * leaving the last slot and any waiting request alone. A failure only means no spare.
   */
  #openSpares(): void {
    const conn = this.#conn;
    while (
      conn !== null &&
      !conn.isClosed &&
      !this.#closed &&
      this.#spares.length + this.#sparesOpening < this.#limits.spareChannels &&
      this.#slots < this.#limits.maxChannels - 1 &&
      this.#waiting.length === 0
    ) {
      this.#slots++;
      this.#sparesOpening++;
      void conn.ready
        .then((c) => execDialStdio(c.client))
        .then(
          (ch) => {
            this.#sparesOpening--;
            const s = this.#adopt(ch, conn);
            // Its slot is worth more to a request that waits for one, or the spare came too late.
            if (this.#waiting.length > 0 || this.#closed || conn.isClosed || this.#conn !== conn) s.destroy();
            else this.#spares.push(s);
          },
          () => {
            this.#sparesOpening--;
            this.#releaseSlot();
          },
        );
    }
  }

  #where(): string {
    return `${this.#config.host ?? '?'}:${this.#config.port ?? 22}`;
  }

  /** The logged-in connection, logging in if there is none; concurrent callers share one login. */
  #connection(): Promise<Connection> {
    if (this.#conn) return this.#conn.ready;
    const client = new ssh2.Client();
    // ssh2 keeps the options it was given (the private key among them) on `config`, and every channel
    // points at its client: not enumerable, a logged stream or agent cannot print the key.
    Object.defineProperty(client, 'config', { value: (client as unknown as { config: unknown }).config, enumerable: false, writable: true, configurable: true });
    let settle: { resolve: (c: Connection) => void; reject: (e: Error) => void } | null = null;
    let closedNow: () => void = () => undefined;
    const conn: Connection = {
      client,
      ready: new Promise<Connection>((resolve, reject) => (settle = { resolve, reject })),
      closed: new Promise<void>((resolve) => (closedNow = resolve)),
      isClosed: false,
      channels: new Set(),
    };
    this.#conn = conn;
    const forget = (err: Error) => {
      settle?.reject(err);
      settle = null;
      if (this.#conn === conn) this.#conn = null;
    };
    const lost = () => {
      forget(new Error('the SSH connection closed before the login finished'));
      // Before ssh2 ends the channels itself (right after its 'end'/'close'), so each request on one
      // fails with this error and not with a bare hang-up.
      const err = this.#closed ? new SshTransportClosedError('the ssh transport is closed') : new SshConnectionLostError(`the SSH connection to ${this.#where()} was lost`);
      for (const s of conn.channels) s.destroy(err);
    };
    client
      .on('ready', () => {
        this.#logins++;
        settle?.resolve(conn);
        settle = null;
        this.#touch();
      })
      // Before the login: its failure (handshake, authentication, a refused TCP connection). After: the
      // connection is going (keepalive timeout, a reset), and its 'close' follows.
      .on('error', (err: Error) => {
        forget(err);
        client.destroy();
      })
      .on('end', lost)
      .on('close', () => {
        lost();
        conn.isClosed = true;
        closedNow();
      });
    try {
      client.connect({ ...this.#config, keepaliveInterval: this.#limits.keepaliveMs, keepaliveCountMax: 3 });
      // Requests and answers are small writes each way: Nagle held them for the peer's delayed ACK (20
      // execs through an in-process server: 3.9 s with it, 2.9 s without on our side, 0.25 s on both).
      client.setNoDelay(true);
    } catch (e) {
      // ssh2 throws for options it cannot use (a private key it cannot parse); no socket was made.
      forget(e as Error);
      conn.isClosed = true;
      closedNow();
    }
    return conn.ready;
  }

  #takeSlot(): Promise<void> {
    if (this.#slots < this.#limits.maxChannels) {
      this.#slots++;
      return Promise.resolve();
    }
    return new Promise<void>((go, fail) => this.#waiting.push({ go, fail }));
  }

  /** A closed channel's slot passes straight to the first waiter, if any. */
  #releaseSlot(): void {
    const next = this.#waiting.shift();
    if (next) next.go();
    else this.#slots--;
  }

  /** The agent wants to keep `s` for a later request: yes, unless a request waits for a slot now. */
  #park(s: ChannelSocket): boolean {
    this.#touch();
    if (this.#waiting.length > 0 || s.destroyed) return false;
    this.#idle.add(s);
    return true;
  }

  #unpark(s: ChannelSocket): void {
    this.#idle.delete(s);
    this.#touch();
  }

  #touch(): void {
    this.#lastUse = Date.now();
    if (this.#idleTimer === null && this.#conn !== null && !this.#closed) this.#armIdleTimer(this.#limits.idleMs);
  }

  #armIdleTimer(ms: number): void {
    this.#idleTimer = setTimeout(() => this.#onIdleTimer(), ms);
    // The timer alone must not keep a process alive.
    this.#idleTimer.unref();
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /**
   * Closes a connection nobody used for idleMs, so a relay whose target went quiet does not hold an SSH
   * session and its host's dial-stdio processes for good. A channel still in use (a long exec, an event
   * stream) keeps it open; so does any request in the last idleMs.
   */
  #onIdleTimer(): void {
    this.#idleTimer = null;
    const conn = this.#conn;
    if (conn === null || this.#closed) return;
    const left = this.#lastUse + this.#limits.idleMs - Date.now();
    const inUse = this.#slots - this.#idle.size - this.#spares.length;
    if (left > 0 || inUse > 0) {
      this.#armIdleTimer(left > 0 ? left : this.#limits.idleMs);
      return;
    }
    // Destroyed first, so the agent hands none of them to a request made before the connection is gone.
    for (const s of [...this.#idle, ...this.#spares]) s.destroy();
    this.#conn = null;
    void endConnection(conn);
  }
}

/** What the agent asks of its transport. */
interface ChannelSource {
  open(): Promise<ChannelSocket>;
  /** A socket the agent would keep for a later request: whether it may. */
  park(s: ChannelSocket): boolean;
  unpark(s: ChannelSocket): void;
}

/**
 * docker-modem's agent: each connection a dial-stdio channel; kept-alive sockets are parked with the
 * transport (which may refuse, to free a slot) and taken back when reused.
 */
class DialStdioAgent extends http.Agent {
  readonly #source: ChannelSource;

  constructor(source: ChannelSource, options: http.AgentOptions) {
    super(options);
    this.#source = source;
  }

  override createConnection(_options: unknown, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    this.#source.open().then(
      (s) => cb(null, s),
      (e: unknown) => cb(e as Error),
    );
    return undefined;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    return this.#source.park(socket as ChannelSocket);
  }

  override reuseSocket(socket: Duplex, req: http.ClientRequest): void {
    this.#source.unpark(socket as ChannelSocket);
    super.reuseSocket(socket, req);
  }
}

function execDialStdio(client: ssh2.Client): Promise<ClientChannel> {
  return new Promise<ClientChannel>((resolve, reject) => {
    try {
      client.exec(DIAL_STDIO, (err, stream) => {
        if (err) return reject(err);
        // dial-stdio's own complaints; read so they never hold the channel's window.
        stream.stderr.resume();
        resolve(stream);
      });
    } catch (e) {
      // ssh2 throws "Not connected" when the socket ended between the login and now.
      reject(e as Error);
    }
  });
}

/** Ends a connection politely; resolves on its close, or after CLOSE_GRACE_MS with its socket destroyed. */
async function endConnection(conn: Connection): Promise<void> {
  if (conn.isClosed) return;
  try {
    conn.client.end();
  } catch {
    // A socket still connecting cannot take the disconnect message: destroyed below if it does not close.
  }
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      conn.client.destroy();
      resolve();
    }, CLOSE_GRACE_MS);
  });
  await Promise.race([conn.closed, grace]);
  clearTimeout(timer);
}

/**
 * The socket methods Node's http client and agent call on a connection (keep-alive, no-delay, timeout,
 * ref/unref), as no-ops on the channel itself, as ssh2's own http agents do: a channel has no TCP options,
 * the relay ends requests with abort signals, never socket timeouts (createDocker gives the modem none),
 * and the SSH connection is what keeps a process alive. destroy() also marks the stream destroyed at
 * once (ssh2's own only asks the server to close), so the agent never hands a request a closing channel.
 */
function asSocket(ch: ClientChannel): ChannelSocket {
  const s = ch as ChannelSocket;
  s.setKeepAlive = () => s;
  s.setNoDelay = () => s;
  s.setTimeout = () => s;
  s.ref = () => s;
  s.unref = () => s;
  s.destroy = ((err?: Error) => {
    ch.close();
    Duplex.prototype.destroy.call(s, err);
    return s;
  }) as typeof s.destroy;
  // A channel the connection's loss ended with an error, between being opened and being given to http,
  // has nobody listening yet; an unheard 'error' would end the process. Listeners added later still hear it.
  s.on('error', () => undefined);
  return s;
}
