/** --json contract: exactly one JSON object on stdout; everything else goes to stderr. */
export function printJson(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Something the user should know about a run that is not an error (stderr, prefixed "note:"). */
export function note(msg: string): void {
  log(`note: ${msg}`);
}
