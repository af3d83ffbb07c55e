/**
 * A Jupyter client in TypeScript: starts the tslab kernel and speaks the Jupyter messaging protocol
 * (v5.3) to it over ZeroMQ (the `zeromq` package tslab itself uses). A connection file with five ports
 * and an HMAC-SHA256 key is written, the kernel is spawned (`tslab kernel --config-path ...`), and
 * requests go over the shell and control sockets (DEALER) while outputs arrive on iopub (SUB).
 *
 * tslab reports a failing cell only as `execute_reply {status: "error"}` with the error printed on the
 * cell's stderr; `execute` turns that into a proper `error` output (ename, evalue, traceback).
 *
 * No Python or Jupyter installation is involved.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { kitRoot } from "../util/paths.js";

const DELIM = Buffer.from("<IDS|MSG>");
const PROTOCOL_VERSION = "5.3";

export interface JupyterHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface JupyterMessage {
  header: JupyterHeader;
  parent_header: Partial<JupyterHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, any>;
}

export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** Sign the four JSON frames of a message (header, parent, metadata, content) as Jupyter does. */
export function signFrames(key: string, frames: (string | Buffer)[]): string {
  const h = createHmac("sha256", key);
  for (const f of frames) h.update(f);
  return h.digest("hex");
}

/** The wire frames of a message: [DELIM, signature, header, parent, metadata, content]. */
export function encodeMessage(key: string, msg: JupyterMessage): Buffer[] {
  const bodies = [msg.header, msg.parent_header, msg.metadata, msg.content].map((x) => Buffer.from(JSON.stringify(x)));
  return [DELIM, Buffer.from(signFrames(key, bodies)), ...bodies];
}

/** Parse wire frames (any routing prefix before the delimiter), verifying the signature. */
export function decodeMessage(key: string, frames: Buffer[]): JupyterMessage {
  const d = frames.findIndex((f) => f.equals(DELIM));
  if (d < 0) throw new Error("Jupyter message without the <IDS|MSG> delimiter");
  const sig = frames[d + 1].toString();
  const bodies = frames.slice(d + 2, d + 6);
  if (bodies.length < 4) throw new Error("Jupyter message with fewer than four frames");
  const want = signFrames(key, bodies);
  if (sig !== want) throw new Error(`Jupyter message with a bad HMAC signature (${sig.slice(0, 12)}..., want ${want.slice(0, 12)}...)`);
  const [header, parent_header, metadata, content] = bodies.map((b) => JSON.parse(b.toString()));
  return { header, parent_header, metadata, content };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One output of a cell, in nbformat 4's shape. */
export type CellOutput =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown>; transient?: { display_id?: string } }
  | { output_type: "execute_result"; data: Record<string, unknown>; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface ExecuteResult {
  status: "ok" | "error" | "abort" | "timeout";
  executionCount: number | null;
  outputs: CellOutput[];
  /** The cell's stderr text (all of it). */
  stderr: string;
  /** For status error/timeout: the error output (also the last entry of outputs). */
  error?: { ename: string; evalue: string; traceback: string[] };
}

export interface ExecuteOptions {
  /** Milliseconds; on expiry the kernel is interrupted and the result has status "timeout". */
  timeoutMs?: number;
  /** Called for every output as it arrives (and again, with update = true, when a display is updated). */
  onOutput?: (out: CellOutput, update: boolean) => void;
}

export interface KernelOptions {
  /** Working directory of the kernel (where `import "massive"` is resolved from). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the kernel to answer kernel_info (default 60 s). */
  startTimeoutMs?: number;
}

/** The command that starts the tslab kernel: node + tslab's bin script. */
export function tslabBin(): string {
  const req = createRequire(join(kitRoot(), "package.json"));
  return join(dirname(req.resolve("tslab/package.json")), "bin", "tslab");
}

type Zmq = typeof import("zeromq");

/** Turn tslab's stderr text of a failed cell into ename / evalue / traceback. */
export function errorFromStderr(stderr: string): { ename: string; evalue: string; traceback: string[] } {
  const lines = stderr.replace(/\s+$/, "").split("\n");
  const first = lines.find((l) => /^\s*(?:[A-Za-z_$][\w$]*)?(?:Error|Exception)\b(:|$)/.test(l)) ?? lines.find((l) => l.trim()) ?? "";
  const m = /^\s*((?:[A-Za-z_$][\w$]*)?(?:Error|Exception))\b(?::\s*(.*))?/.exec(first);
  const diag = /^(\S+ )?\d+:\d+ - (.*)$/.exec(first);
  const ename = m ? m[1] : diag ? "TypeScriptError" : "Error";
  const evalue = m ? (m[2] ?? "").trim() : diag ? diag[2] : first.trim() || "the cell failed (tslab printed nothing on stderr)";
  return { ename, evalue, traceback: lines.slice(-60) };
}

export class KernelClient {
  private proc?: ChildProcess;
  private zmq?: Zmq;
  private shell?: InstanceType<Zmq["Dealer"]>;
  private control?: InstanceType<Zmq["Dealer"]>;
  private iopub?: InstanceType<Zmq["Subscriber"]>;
  private conn?: ConnectionInfo;
  private dir?: string;
  private readonly session = randomUUID();
  private readonly replyWaiters = new Map<string, (m: JupyterMessage) => void>();
  private readonly iopubHandlers = new Map<string, (m: JupyterMessage) => void>();
  private processLog = "";
  private exited: { code: number | null; signal: string | null } | undefined;
  private closed = false;
  /** tslab aborts what arrives within 200 ms of a failed cell (its queue reset): wait that out. */
  private quietUntil = 0;
  kernelInfo?: Record<string, unknown>;

  constructor(private readonly opts: KernelOptions) {}

  /** Whether the kernel process is alive. */
  get running(): boolean {
    return this.proc !== undefined && this.exited === undefined;
  }

  /** The last lines the kernel process wrote outside cells (for diagnostics). */
  get log(): string {
    return this.processLog.split("\n").slice(-40).join("\n");
  }

  async start(): Promise<void> {
    const zmq = (this.zmq = (await import("zeromq")) as Zmq);
    const ports = [];
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    this.conn = {
      transport: "tcp",
      ip: "127.0.0.1",
      shell_port: ports[0],
      iopub_port: ports[1],
      stdin_port: ports[2],
      control_port: ports[3],
      hb_port: ports[4],
      key: randomBytes(32).toString("hex"),
      signature_scheme: "hmac-sha256",
      kernel_name: "tslab",
    };
    this.dir = mkdtempSync(join(tmpdir(), "massive-kernel-"));
    const connFile = join(this.dir, "kernel.json");
    writeFileSync(connFile, JSON.stringify(this.conn), { mode: 0o600 });
    this.proc = spawn(process.execPath, [tslabBin(), "kernel", "--config-path", connFile], {
      cwd: this.opts.cwd,
      env: this.opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d: Buffer) => {
      this.processLog = (this.processLog + d.toString()).slice(-20000);
    };
    this.proc.stdout!.on("data", keep);
    this.proc.stderr!.on("data", keep);
    this.proc.on("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const w of this.replyWaiters.values()) w({ header: { msg_type: "__exit__" } as JupyterHeader, parent_header: {}, metadata: {}, content: {} });
    });
    const addr = (p: number) => `tcp://127.0.0.1:${p}`;
    this.shell = new zmq.Dealer({ linger: 0 });
    this.control = new zmq.Dealer({ linger: 0 });
    this.iopub = new zmq.Subscriber({ linger: 0 });
    this.shell.connect(addr(this.conn.shell_port));
    this.control.connect(addr(this.conn.control_port));
    this.iopub.connect(addr(this.conn.iopub_port));
    this.iopub.subscribe();
    void this.pump(this.shell, (m) => this.replyWaiters.get(String(m.parent_header.msg_id))?.(m));
    void this.pump(this.control, (m) => this.replyWaiters.get(String(m.parent_header.msg_id))?.(m));
    void this.pump(this.iopub, (m) => this.iopubHandlers.get(String(m.parent_header.msg_id))?.(m));
    // kernel_info until iopub answers too (a SUB socket misses what is published before it joined).
    const end = Date.now() + (this.opts.startTimeoutMs ?? 60_000);
    for (;;) {
      if (this.exited) throw new Error(`the tslab kernel exited on start (code ${this.exited.code}):\n${this.log}`);
      if (Date.now() > end) throw new Error(`the tslab kernel did not answer within ${(this.opts.startTimeoutMs ?? 60_000) / 1000} s:\n${this.log}`);
      const msg = this.message("kernel_info_request", {});
      let sawIopub = false;
      this.iopubHandlers.set(msg.header.msg_id, () => (sawIopub = true));
      const reply = await this.request(this.shell, msg, 2000).catch(() => undefined);
      if (reply && reply.header.msg_type === "kernel_info_reply") {
        this.kernelInfo = reply.content;
        for (let i = 0; i < 20 && !sawIopub; i++) await new Promise((r) => setTimeout(r, 50));
        this.iopubHandlers.delete(msg.header.msg_id);
        if (sawIopub) return;
      }
      this.iopubHandlers.delete(msg.header.msg_id);
    }
  }

  private async pump(sock: { receive(): Promise<Buffer[]> }, handle: (m: JupyterMessage) => void): Promise<void> {
    while (!this.closed) {
      let frames: Buffer[];
      try {
        frames = await sock.receive();
      } catch {
        return; // socket closed
      }
      try {
        handle(decodeMessage(this.conn!.key, frames));
      } catch (e) {
        this.processLog += `\nclient: dropped a message: ${(e as Error).message}`;
      }
    }
  }

  private message(msgType: string, content: Record<string, unknown>): JupyterMessage {
    return {
      header: {
        msg_id: randomUUID(),
        msg_type: msgType,
        session: this.session,
        username: "massive",
        date: new Date().toISOString(),
        version: PROTOCOL_VERSION,
      },
      parent_header: {},
      metadata: {},
      content,
    };
  }

  private request(sock: { send(f: Buffer[]): Promise<void> } | undefined, msg: JupyterMessage, timeoutMs?: number): Promise<JupyterMessage> {
    if (!sock) return Promise.reject(new Error("the kernel is not started"));
    return new Promise((resolve, reject) => {
      const id = msg.header.msg_id;
      const timer = timeoutMs
        ? setTimeout(() => (this.replyWaiters.delete(id), reject(new Error(`${msg.header.msg_type}: no reply within ${timeoutMs} ms`))), timeoutMs)
        : undefined;
      this.replyWaiters.set(id, (m) => {
        if (timer) clearTimeout(timer);
        this.replyWaiters.delete(id);
        if (m.header.msg_type === "__exit__")
          reject(new Error(`the tslab kernel exited (code ${this.exited?.code}, signal ${this.exited?.signal}):\n${this.log}`));
        else resolve(m);
      });
      sock.send(encodeMessage(this.conn!.key, msg)).catch(reject);
    });
  }

  /** Run one cell; resolves when the reply and the kernel's `idle` status for it have both arrived. */
  async execute(code: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    const wait = this.quietUntil - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const msg = this.message("execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    const outputs: CellOutput[] = [];
    const displays = new Map<string, Extract<CellOutput, { output_type: "display_data" }>[]>();
    let stderr = "";
    let idle!: () => void;
    const idleSeen = new Promise<void>((r) => (idle = r));
    this.iopubHandlers.set(msg.header.msg_id, (m) => {
      const c = m.content;
      switch (m.header.msg_type) {
        case "status":
          if (c.execution_state === "idle") idle();
          return;
        case "stream": {
          const name = c.name === "stderr" ? "stderr" : "stdout";
          if (name === "stderr") stderr += String(c.text);
          const last = outputs[outputs.length - 1];
          // Consecutive chunks of one stream form one output (as nbclient writes them).
          if (last && last.output_type === "stream" && last.name === name) last.text += String(c.text);
          else outputs.push({ output_type: "stream", name, text: String(c.text) });
          opts.onOutput?.({ output_type: "stream", name, text: String(c.text) }, false);
          return;
        }
        case "display_data": {
          const out = { output_type: "display_data" as const, data: c.data ?? {}, metadata: c.metadata ?? {}, transient: c.transient };
          outputs.push(out);
          const id = c.transient?.display_id as string | undefined;
          if (id) (displays.get(id) ?? displays.set(id, []).get(id)!).push(out);
          opts.onOutput?.(out, false);
          return;
        }
        case "update_display_data": {
          const id = c.transient?.display_id as string | undefined;
          for (const out of (id && displays.get(id)) || []) {
            out.data = c.data ?? {};
            out.metadata = c.metadata ?? {};
            opts.onOutput?.(out, true);
          }
          return;
        }
        case "execute_result": {
          const out = { output_type: "execute_result" as const, data: c.data ?? {}, metadata: c.metadata ?? {}, execution_count: c.execution_count ?? null };
          outputs.push(out);
          opts.onOutput?.(out, false);
          return;
        }
        case "error": {
          const out = { output_type: "error" as const, ename: String(c.ename), evalue: String(c.evalue), traceback: (c.traceback as string[]) ?? [] };
          outputs.push(out);
          opts.onOutput?.(out, false);
          return;
        }
        case "clear_output":
          outputs.length = 0;
          return;
      }
    });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      if (opts.timeoutMs) timer = setTimeout(() => ((timedOut = true), resolve(undefined)), opts.timeoutMs);
    });
    try {
      const reply = await Promise.race([this.request(this.shell, msg), timeout]);
      if (!reply) {
        // Timed out: interrupt the kernel, give it a moment to answer.
        this.interrupt();
        await Promise.race([this.waitReply(msg.header.msg_id), new Promise((r) => setTimeout(r, 5000))]);
      } else {
        await Promise.race([idleSeen, new Promise((r) => setTimeout(r, 2000))]);
      }
      const status = timedOut ? "timeout" : ((reply!.content.status as ExecuteResult["status"]) ?? "error");
      const executionCount = reply ? ((reply.content.execution_count as number | undefined) ?? null) : null;
      const result: ExecuteResult = { status, executionCount, outputs, stderr };
      if (status === "error" || status === "timeout") {
        this.quietUntil = Date.now() + 400;
        const existing = outputs.find((o) => o.output_type === "error") as Extract<CellOutput, { output_type: "error" }> | undefined;
        const err =
          existing ??
          (timedOut
            ? {
                output_type: "error" as const,
                ename: "Timeout",
                evalue: `the cell ran longer than ${(opts.timeoutMs ?? 0) / 1000} s and was interrupted`,
                traceback: stderr.split("\n").slice(-20),
              }
            : { output_type: "error" as const, ...errorFromStderr(stderr) });
        if (!existing) outputs.push(err);
        result.error = { ename: err.ename, evalue: err.evalue, traceback: err.traceback };
      }
      for (const o of outputs) if (o.output_type === "display_data") delete o.transient;
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      this.iopubHandlers.delete(msg.header.msg_id);
    }
  }

  private waitReply(id: string): Promise<JupyterMessage | undefined> {
    return new Promise((resolve) => {
      const prev = this.replyWaiters.get(id);
      this.replyWaiters.set(id, (m) => {
        prev?.(m);
        resolve(m);
      });
    });
  }

  /** Interrupt the running cell (tslab's kernelspec uses signal interrupts: SIGINT). */
  interrupt(): void {
    if (this.proc && !this.exited) this.proc.kill("SIGINT");
  }

  /** shutdown_request on the control channel, then make sure the process is gone; removes the connection file. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.proc && !this.exited) {
        await this.request(this.control, this.message("shutdown_request", { restart: false }), 3000).catch(() => undefined);
        const gone = new Promise<void>((r) => (this.exited ? r() : this.proc!.once("exit", () => r())));
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (!this.exited) {
          this.proc.kill("SIGTERM");
          await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
          if (!this.exited) this.proc.kill("SIGKILL");
        }
      }
    } finally {
      this.closed = true;
      for (const s of [this.shell, this.control, this.iopub]) s?.close();
      if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
