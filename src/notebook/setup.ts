/**
 * `massive notebook` (`npm run notebook`): open the notebooks in a person's Jupyter. Finds a Python that
 * really has Jupyter (jupyter's own interpreter first, then Debian's /usr/bin/python3, then python3 on
 * PATH; pyenv, conda or a venv first on PATH often lack it), registers the tslab kernel with it (per user,
 * so every Jupyter of this user finds it), and starts JupyterLab if that Python has it, else the classic
 * Notebook (`--allow-root` when root), printing the URL.
 *
 * Only opening notebooks needs Python: `npm run reproduce` runs them with the kit's own client.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { kitRoot } from "../util/paths.js";

export interface JupyterPython {
  python: string;
  /** How it was found, said to the user. */
  how: string;
  lab: boolean;
  classic: boolean;
}

function has(py: string, modules: string): boolean {
  return spawnSync(py, ["-c", `import ${modules}`], { stdio: "ignore" }).status === 0;
}

/** The interpreter on the first line of the `jupyter` script on PATH (`#!/usr/bin/python3`). */
export function jupyterScriptPython(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v jupyter"], { encoding: "utf8" });
  const script = r.status === 0 ? r.stdout.trim() : "";
  if (!script || !existsSync(script)) return undefined;
  try {
    const first = readFileSync(script, "utf8").slice(0, 300).split("\n")[0];
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!m) return undefined;
    // "#!/usr/bin/env python3" names the interpreter in the second word.
    return m[1].endsWith("/env") ? m[2] : m[1];
  } catch {
    return undefined;
  }
}

/**
 * A Python with jupyter_client and IPython (what `tslab install` needs). `needs` adds modules that must
 * be there too (e.g. "nbformat").
 */
export function findJupyterPython(needs = ""): JupyterPython | undefined {
  const candidates: [string | undefined, string][] = [
    [process.env.PYTHON, "$PYTHON"],
    [jupyterScriptPython(), "the interpreter of `jupyter` on PATH"],
    ["/usr/bin/python3", "Debian's /usr/bin/python3"],
    ["python3", "python3 on PATH"],
  ];
  const seen = new Set<string>();
  for (const [py, how] of candidates) {
    if (!py || seen.has(py)) continue;
    seen.add(py);
    if (!has(py, ["jupyter_client", "IPython", needs].filter(Boolean).join(", "))) continue;
    return { python: py, how, lab: has(py, "jupyterlab"), classic: has(py, "notebook") };
  }
  return undefined;
}

export const NO_JUPYTER =
  "no Python with Jupyter found (tried $PYTHON, the interpreter of `jupyter` on PATH, /usr/bin/python3, python3). " +
  "JupyterLab: `pip install jupyterlab plotly` (in the Python you use); or the classic Notebook from Debian: " +
  "`apt-get install jupyter-notebook python3-ipykernel`.";

export function tslabCommand(): string {
  return join(kitRoot(), "node_modules", ".bin", "tslab");
}

/** Register the tslab kernel for this user with the given Python (`tslab install --user`). */
export function registerTslab(py: string): void {
  const bin = tslabCommand();
  if (!existsSync(bin)) throw new Error(`${bin} is missing; run npm ci`);
  const r = spawnSync(process.execPath, [join(kitRoot(), "node_modules", "tslab", "bin", "tslab"), "install", `--python=${py}`, `--binary=${bin}`, "--user"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tslab install --python=${py} failed: ${(r.stderr || r.stdout).trim()}`);
}

export interface OpenOptions {
  /** "lab", "classic" or "auto" (JupyterLab when present). */
  ui?: "lab" | "classic" | "auto";
  port?: number;
  openBrowser?: boolean;
  log?: (line: string) => void;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** 8888 when free, else the next free port above it (the URL printed must be the server's). */
async function choosePort(): Promise<number> {
  for (let p = 8888; p < 8988; p++) if (await portFree(p)) return p;
  return 8888;
}

async function waitForServer(url: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Register the kernel and start Jupyter on notebooks/; resolves with the server's exit code. */
export async function openNotebooks(opts: OpenOptions = {}): Promise<number> {
  const log = opts.log ?? ((l: string) => console.log(`massive notebook: ${l}`));
  const jp = findJupyterPython();
  if (!jp) throw new Error(NO_JUPYTER);
  log(`using ${jp.python} (${jp.how}); JupyterLab ${jp.lab ? "found" : "not found"}, classic Notebook ${jp.classic ? "found" : "not found"}`);
  registerTslab(jp.python);
  log(`registered the tslab (TypeScript) kernel for this user with ${jp.python}`);
  const ui = opts.ui ?? "auto";
  const lab = ui === "lab" || (ui === "auto" && jp.lab);
  if (lab && !jp.lab) throw new Error(`${jp.python} has no JupyterLab: pip install jupyterlab plotly`);
  if (!lab && !jp.classic)
    throw new Error(`${jp.python} has neither JupyterLab nor the classic Notebook: pip install jupyterlab plotly, or apt-get install jupyter-notebook`);
  const token = randomBytes(16).toString("hex");
  const port = opts.port ?? (await choosePort());
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const app = lab ? "ServerApp" : "NotebookApp";
  const args = ["-m", lab ? "jupyterlab" : "notebook", `--notebook-dir=${join(kitRoot(), "notebooks")}`, `--port=${port}`, `--${app}.token=${token}`];
  if (!lab) args.push(`--ServerApp.token=${token}`);
  if (opts.openBrowser === false) args.push("--no-browser");
  if (root) args.push("--allow-root");
  log(`starting ${lab ? "JupyterLab" : "the classic Notebook"}: ${jp.python} ${args.join(" ").replace(token, "<token>").replace(token, "<token>")}`);
  const child = spawn(jp.python, args, {
    cwd: join(kitRoot(), "notebooks"),
    env: { ...process.env, MASSIVE_HOME: kitRoot() },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? 1)));
  const up = await Promise.race([waitForServer(`http://127.0.0.1:${port}/api?token=${token}`, 60_000), exited.then(() => false)]);
  if (up) log(`open http://127.0.0.1:${port}/${lab ? "lab" : "tree"}?token=${token}  (Ctrl-C stops the server)`);
  else log("the server did not come up; see its messages above (is the port taken? try --port)");
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => child.kill(sig));
  return exited;
}
