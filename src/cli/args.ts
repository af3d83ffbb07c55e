/** Shared flag parsing for the `massive` commands: strict flags, clear messages, --help. */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Vec3 } from "../data/volume.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  help: Record<string, string>;
  run: (values: Record<string, string | boolean | string[] | undefined>) => Promise<void> | void;
}

export function helpText(cmd: CommandSpec): string {
  const lines = [`massive ${cmd.name}: ${cmd.summary}`, "", `usage: ${cmd.usage}`, "", "options:"];
  for (const [name, opt] of Object.entries(cmd.options)) {
    const flag = `--${name}${opt.type === "string" ? " <value>" : ""}`;
    lines.push(`  ${flag.padEnd(28)} ${cmd.help[name] ?? ""}`);
  }
  lines.push(`  ${"--help".padEnd(28)} show this help`);
  return lines.join("\n");
}

export function parseCommand(cmd: CommandSpec, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...cmd.options, help: { type: "boolean" } }, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | string[] | undefined
    >;
  } catch (e) {
    throw new UsageError(`massive ${cmd.name}: ${(e as Error).message}\n\n${helpText(cmd)}`);
  }
}

export function requireString(v: unknown, flag: string, cmd: string): string {
  if (typeof v !== "string" || v === "") throw new UsageError(`massive ${cmd}: --${flag} is required`);
  return v;
}

/** "48" -> [48,48,48]; "64,64,32" -> [64,64,32]. */
export function parseVec3(v: string, flag: string, cmd: string, integer = false): Vec3 {
  const parts = v.split(/[,x]/).map((s) => Number(s.trim()));
  const vec = parts.length === 1 ? [parts[0], parts[0], parts[0]] : parts;
  if (vec.length !== 3 || vec.some((n) => !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))) {
    throw new UsageError(`massive ${cmd}: --${flag} must be one positive ${integer ? "integer" : "number"} or three separated by commas, got "${v}"`);
  }
  return vec as Vec3;
}

export function parseIntFlag(v: unknown, flag: string, cmd: string, fallback: number): number {
  if (v === undefined) return fallback;
  const text = String(v).trim();
  // Plain decimal digits only: "1e3", "0x10", "1.0" and "" are not integers a user meant to type.
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`massive ${cmd}: --${flag} must be a whole number written in decimal digits, got "${v}"`);
  }
  return Number(text);
}

/** --out as an absolute path; an existing file there (not a folder) is a usage error, not "EEXIST ... mkdir". */
export function outFolder(v: unknown, cmd: string, flag = "out"): string {
  const out = resolve(requireString(v, flag, cmd));
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`massive ${cmd}: --${flag} ${out} is a file, not a folder; choose another path`);
  return out;
}

/** Run a flag's lookup (profile, template key, ...) so that its failure is a usage error (exit 2). */
export function asUsage<T>(cmd: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UsageError(`massive ${cmd}: ${(e as Error).message}`);
  }
}
