/** --json contract: exactly one JSON object on stdout; everything else goes to stderr. */
export function printJson(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
